"""The optimizers of TensorFlow 1.x, with its update formulas (those of its C++ kernels).

Each ``_apply_dense`` builds one variable's update from public chainrule ops; the
slot values it uses after updating them come from the assign ops' outputs.
"""

from __future__ import annotations

from typing import Any

from chainrule.framework.graph import Operation, Tensor
from chainrule.ops import math_ops, state_ops
from chainrule.ops.state_ops import Variable
from chainrule.train.optimizer import Optimizer

__all__ = [
    "GradientDescentOptimizer",
    "MomentumOptimizer",
    "AdamOptimizer",
    "RMSPropOptimizer",
    "AdagradOptimizer",
    "AdadeltaOptimizer",
    "FtrlOptimizer",
]


class GradientDescentOptimizer(Optimizer):
    """Plain gradient descent: ``var -= learning_rate * grad``.

    Parameters
    ----------
    learning_rate : float, tensor (e.g. a placeholder) or callable returning one.
    use_locking : if True, each step's update of a variable (with its slots) is atomic across
        threads; otherwise concurrent steps may lose updates (Hogwild, as in TensorFlow).
    name : name scope of the update ops.
    """

    def __init__(self, learning_rate: Any, use_locking: bool = False, name: str = "GradientDescent") -> None:
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate

    def _apply_dense(self, grad: Tensor, var: Variable) -> Tensor:
        lr = self._hyper_tensor("learning_rate", self._learning_rate, var.dtype)
        return var.assign_sub(grad * lr, use_locking=self._use_locking)


class MomentumOptimizer(Optimizer):
    """Momentum: ``accum = momentum * accum + grad; var -= lr * accum``.

    With ``use_nesterov=True``: ``var -= lr * grad + lr * momentum * accum`` (the new ``accum``).
    One slot, ``"momentum"``, named ``<var>/Momentum``.
    """

    def __init__(
        self,
        learning_rate: Any,
        momentum: Any,
        use_locking: bool = False,
        name: str = "Momentum",
        use_nesterov: bool = False,
    ) -> None:
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._momentum = momentum
        self._use_nesterov = use_nesterov

    def _create_slots(self, var_list: list[Variable]) -> None:
        for v in var_list:
            self._zeros_slot(v, "momentum", self._name)

    def _apply_dense(self, grad: Tensor, var: Variable) -> Tensor:
        lr = self._hyper_tensor("learning_rate", self._learning_rate, var.dtype)
        momentum = self._hyper_tensor("momentum", self._momentum, var.dtype)
        accum = self._slot(var, "momentum")
        accum_t = accum.assign(accum * momentum + grad, use_locking=self._use_locking)
        if self._use_nesterov:
            return var.assign_sub(grad * lr + accum_t * momentum * lr, use_locking=self._use_locking)
        return var.assign_sub(accum_t * lr, use_locking=self._use_locking)


class AdamOptimizer(Optimizer):
    """Adam (Kingma & Ba), with TensorFlow 1.x's placement of epsilon.

    ``lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)``; ``m = beta1*m + (1-beta1)*g``;
    ``v = beta2*v + (1-beta2)*g^2``; ``var -= lr_t * m / (sqrt(v) + epsilon)``.
    Slots ``"m"`` and ``"v"`` (``<var>/Adam``, ``<var>/Adam_1``); the powers ``beta1^t`` and
    ``beta2^t`` live in two non-slot variables ``beta1_power`` and ``beta2_power`` (in the dtype
    of the first variable by name), updated after every variable's update.
    """

    def __init__(
        self,
        learning_rate: Any = 0.001,
        beta1: Any = 0.9,
        beta2: Any = 0.999,
        epsilon: Any = 1e-8,
        use_locking: bool = False,
        name: str = "Adam",
    ) -> None:
        super().__init__(use_locking, name)
        self._lr = learning_rate
        self._beta1 = beta1
        self._beta2 = beta2
        self._epsilon = epsilon

    def _get_beta_accumulators(self, graph: Any) -> tuple[Variable, Variable]:
        return self._non_slot("beta1_power", graph), self._non_slot("beta2_power", graph)

    def _create_slots(self, var_list: list[Variable]) -> None:
        first = min(var_list, key=lambda v: v.name)
        for name, value in (("beta1_power", self._beta1), ("beta2_power", self._beta2)):
            if self._get_non_slot_variable(name, first.graph) is None:
                if callable(value) and not isinstance(value, (Tensor, Variable)):
                    value = value()
                self._create_non_slot_variable(value, name, first)
        for v in var_list:
            self._zeros_slot(v, "m", self._name)
            self._zeros_slot(v, "v", self._name)

    def _apply_dense(self, grad: Tensor, var: Variable) -> Operation:
        dtype = var.dtype
        beta1_power, beta2_power = self._get_beta_accumulators(var.graph)
        b1p = math_ops.cast(beta1_power.value(), dtype)
        b2p = math_ops.cast(beta2_power.value(), dtype)
        lr = self._hyper_tensor("learning_rate", self._lr, dtype)
        beta1 = self._hyper_tensor("beta1", self._beta1, dtype)
        beta2 = self._hyper_tensor("beta2", self._beta2, dtype)
        epsilon = self._hyper_tensor("epsilon", self._epsilon, dtype)
        lr_t = lr * math_ops.sqrt(1 - b2p) / (1 - b1p)
        m = self._slot(var, "m")
        v = self._slot(var, "v")
        m_t = m.assign_add((grad - m) * (1 - beta1), use_locking=self._use_locking)
        v_t = v.assign_add((math_ops.square(grad) - v) * (1 - beta2), use_locking=self._use_locking)
        var_update = var.assign_sub(m_t * lr_t / (math_ops.sqrt(v_t) + epsilon), use_locking=self._use_locking)
        return state_ops.group(var_update, m_t, v_t)

    def _finish(self, update_ops: list[Operation], name: str) -> Operation:
        graph = update_ops[0].graph
        beta1_power, beta2_power = self._get_beta_accumulators(graph)
        with graph.control_dependencies(update_ops):
            beta1 = self._hyper_tensor("beta1", self._beta1, beta1_power.dtype)
            beta2 = self._hyper_tensor("beta2", self._beta2, beta2_power.dtype)
            update_beta1 = beta1_power.assign(beta1_power * beta1, use_locking=self._use_locking)
            update_beta2 = beta2_power.assign(beta2_power * beta2, use_locking=self._use_locking)
        return state_ops.group(*update_ops, update_beta1, update_beta2, name=name)


class RMSPropOptimizer(Optimizer):
    """RMSProp as in TensorFlow 1.x (epsilon inside the square root).

    ``ms = decay*ms + (1-decay)*g^2``; ``mom = momentum*mom + lr*g/sqrt(ms + epsilon)``;
    ``var -= mom``. With ``centered=True``: ``mg = decay*mg + (1-decay)*g`` and the denominator
    is ``sqrt(ms - mg^2 + epsilon)``. Slots ``"rms"`` (initialized to ones, as in TF),
    ``"mg"`` (centered only) and ``"momentum"``, named ``<var>/RMSProp``, ``<var>/RMSProp_1``, ...
    """

    def __init__(
        self,
        learning_rate: Any,
        decay: Any = 0.9,
        momentum: Any = 0.0,
        epsilon: Any = 1e-10,
        use_locking: bool = False,
        centered: bool = False,
        name: str = "RMSProp",
    ) -> None:
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._decay = decay
        self._momentum = momentum
        self._epsilon = epsilon
        self._centered = centered

    def _create_slots(self, var_list: list[Variable]) -> None:
        for v in var_list:
            self._get_or_make_slot(v, 1.0, "rms", self._name)
            if self._centered:
                self._zeros_slot(v, "mg", self._name)
            self._zeros_slot(v, "momentum", self._name)

    def _apply_dense(self, grad: Tensor, var: Variable) -> Operation:
        dtype = var.dtype
        lr = self._hyper_tensor("learning_rate", self._learning_rate, dtype)
        decay = self._hyper_tensor("decay", self._decay, dtype)
        momentum = self._hyper_tensor("momentum", self._momentum, dtype)
        epsilon = self._hyper_tensor("epsilon", self._epsilon, dtype)
        ms = self._slot(var, "rms")
        mom = self._slot(var, "momentum")
        ms_t = ms.assign_add((math_ops.square(grad) - ms) * (1 - decay), use_locking=self._use_locking)
        updates = [ms_t]
        if self._centered:
            mg = self._slot(var, "mg")
            mg_t = mg.assign_add((grad - mg) * (1 - decay), use_locking=self._use_locking)
            updates.append(mg_t)
            denom = ms_t - math_ops.square(mg_t) + epsilon
        else:
            denom = ms_t + epsilon
        mom_t = mom.assign(mom * momentum + grad * lr / math_ops.sqrt(denom), use_locking=self._use_locking)
        var_update = var.assign_sub(mom_t, use_locking=self._use_locking)
        return state_ops.group(var_update, mom_t, *updates)


class AdagradOptimizer(Optimizer):
    """Adagrad: ``accum += g^2; var -= lr * g / sqrt(accum)``.

    One slot, ``"accumulator"`` (``<var>/Adagrad``), starting at ``initial_accumulator_value``.
    """

    def __init__(
        self,
        learning_rate: Any,
        initial_accumulator_value: float = 0.1,
        use_locking: bool = False,
        name: str = "Adagrad",
    ) -> None:
        if initial_accumulator_value <= 0.0:
            raise ValueError(f"initial_accumulator_value must be positive: {initial_accumulator_value}")
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._initial_accumulator_value = initial_accumulator_value

    def _create_slots(self, var_list: list[Variable]) -> None:
        for v in var_list:
            self._get_or_make_slot(v, self._initial_accumulator_value, "accumulator", self._name)

    def _apply_dense(self, grad: Tensor, var: Variable) -> Operation:
        lr = self._hyper_tensor("learning_rate", self._learning_rate, var.dtype)
        acc = self._slot(var, "accumulator")
        acc_t = acc.assign_add(math_ops.square(grad), use_locking=self._use_locking)
        var_update = var.assign_sub(grad * lr * math_ops.rsqrt(acc_t), use_locking=self._use_locking)
        return state_ops.group(var_update, acc_t)


class AdadeltaOptimizer(Optimizer):
    """Adadelta (Zeiler, 2012), with TensorFlow's kernel (``ApplyAdadelta``).

    ``accum = rho*accum + (1-rho)*g^2``; ``update = sqrt(accum_update + epsilon) / sqrt(accum + epsilon) * g``;
    ``accum_update = rho*accum_update + (1-rho)*update^2``; ``var -= learning_rate * update``.
    Slots ``"accum"`` and ``"accum_update"`` (``<var>/Adadelta``, ``<var>/Adadelta_1``), starting at 0.

    Parameters
    ----------
    learning_rate : float, tensor or callable (TensorFlow's default 0.001; the paper's method is 1.0).
    rho : the decay rate of both averages.
    epsilon : keeps the first update finite and non-zero.
    use_locking : if True, each step's update of a variable (with its slots) is atomic across
        threads; otherwise concurrent steps may lose updates (Hogwild, as in TensorFlow).
    name : name scope of the update ops and suffix of the slot variables.
    """

    def __init__(
        self,
        learning_rate: Any = 0.001,
        rho: Any = 0.95,
        epsilon: Any = 1e-8,
        use_locking: bool = False,
        name: str = "Adadelta",
    ) -> None:
        super().__init__(use_locking, name)
        self._lr = learning_rate
        self._rho = rho
        self._epsilon = epsilon

    def _create_slots(self, var_list: list[Variable]) -> None:
        for v in var_list:
            self._zeros_slot(v, "accum", self._name)
            self._zeros_slot(v, "accum_update", self._name)

    def _apply_dense(self, grad: Tensor, var: Variable) -> Operation:
        dtype = var.dtype
        lr = self._hyper_tensor("learning_rate", self._lr, dtype)
        rho = self._hyper_tensor("rho", self._rho, dtype)
        epsilon = self._hyper_tensor("epsilon", self._epsilon, dtype)
        accum = self._slot(var, "accum")
        accum_update = self._slot(var, "accum_update")
        accum_t = accum.assign(accum * rho + math_ops.square(grad) * (1 - rho), use_locking=self._use_locking)
        update = math_ops.sqrt(accum_update + epsilon) * math_ops.rsqrt(accum_t + epsilon) * grad
        accum_update_t = accum_update.assign(
            accum_update * rho + math_ops.square(update) * (1 - rho), use_locking=self._use_locking
        )
        var_update = var.assign_sub(update * lr, use_locking=self._use_locking)
        return state_ops.group(var_update, accum_t, accum_update_t)


class FtrlOptimizer(Optimizer):
    """FTRL-Proximal (McMahan et al., 2013), with TensorFlow's kernels (``ApplyFtrl``, ``ApplyFtrlV2``).

    Per step, with ``p = -learning_rate_power``, ``n`` the accumulator and ``z`` the linear term::

        g~ = g + 2 * l2_shrinkage * var
        n_new = n + g^2
        z += g~ - (n_new^p - n^p) / learning_rate * var
        var = (sign(z) * l1 - z) / (n_new^p / learning_rate + 2 * l2)   if |z| > l1, else 0

    Slots ``"accum"`` (``<var>/Ftrl``, or ``accum_name``), starting at ``initial_accumulator_value``,
    and ``"linear"`` (``<var>/Ftrl_1``, or ``linear_name``), starting at 0.

    Parameters
    ----------
    learning_rate : float, tensor or callable.
    learning_rate_power : ``<= 0``; -0.5 (the default) is the paper's ``1 / sqrt(n)`` rate.
    initial_accumulator_value : ``>= 0``.
    l1_regularization_strength, l2_regularization_strength : ``>= 0``.
    use_locking : if True, each step's update of a variable (with its slots) is atomic across
        threads; otherwise concurrent steps may lose updates (Hogwild, as in TensorFlow).
    name, accum_name, linear_name : the name scope, and the slots' names.
    l2_shrinkage_regularization_strength : ``>= 0``; an L2 penalty applied through the gradient
        (``g~`` above), unlike ``l2_regularization_strength`` which acts in the closed form.
    beta : if given, ``beta / (2 * learning_rate)`` is added to ``l2_regularization_strength``
        (the paper's ``beta``), as TensorFlow does.
    """

    def __init__(
        self,
        learning_rate: Any,
        learning_rate_power: float = -0.5,
        initial_accumulator_value: float = 0.1,
        l1_regularization_strength: float = 0.0,
        l2_regularization_strength: float = 0.0,
        use_locking: bool = False,
        name: str = "Ftrl",
        accum_name: str | None = None,
        linear_name: str | None = None,
        l2_shrinkage_regularization_strength: float = 0.0,
        beta: float | None = None,
    ) -> None:
        super().__init__(use_locking, name)
        for what, value, bound in (
            ("initial_accumulator_value", initial_accumulator_value, "positive or zero"),
            ("l1_regularization_strength", l1_regularization_strength, "positive or zero"),
            ("l2_regularization_strength", l2_regularization_strength, "positive or zero"),
            ("l2_shrinkage_regularization_strength", l2_shrinkage_regularization_strength, "positive or zero"),
        ):
            if value < 0.0:
                raise ValueError(f"{what} {value} must be {bound}.")
        if learning_rate_power > 0.0:
            raise ValueError(f"learning_rate_power {learning_rate_power} must be a non-positive number.")
        self._learning_rate = learning_rate
        self._learning_rate_power = learning_rate_power
        self._initial_accumulator_value = initial_accumulator_value
        self._l1 = l1_regularization_strength
        self._l2 = l2_regularization_strength
        self._l2_shrinkage = l2_shrinkage_regularization_strength
        self._beta = 0.0 if beta is None else beta
        self._accum_name = accum_name
        self._linear_name = linear_name

    def _create_slots(self, var_list: list[Variable]) -> None:
        for v in var_list:
            self._get_or_make_slot(v, self._initial_accumulator_value, "accum", self._accum_name or self._name)
            self._zeros_slot(v, "linear", self._linear_name or self._name)

    def _power(self, accum: Any, dtype: Any) -> Tensor:
        """``accum ^ -learning_rate_power``, as a square root for the default -0.5 (TensorFlow's fast path)."""
        if self._learning_rate_power == -0.5:
            return math_ops.sqrt(accum)
        return math_ops.pow(accum, self._hyper_tensor("neg_lr_power", -self._learning_rate_power, dtype))

    def _apply_dense(self, grad: Tensor, var: Variable) -> Operation:
        dtype = var.dtype
        lr = self._hyper_tensor("learning_rate", self._learning_rate, dtype)
        l1 = self._hyper_tensor("l1_regularization_strength", self._l1, dtype)
        l2 = self._hyper_tensor("l2_regularization_strength", self._l2, dtype)
        if self._beta:
            l2 = l2 + self._hyper_tensor("beta", self._beta, dtype) / (2 * lr)
        accum = self._slot(var, "accum")
        linear = self._slot(var, "linear")
        shrunk = grad
        if self._l2_shrinkage:
            shrunk = grad + 2 * self._hyper_tensor("l2_shrinkage", self._l2_shrinkage, dtype) * var
        accum_new = accum + math_ops.square(grad)
        new_power = self._power(accum_new, dtype)
        linear_t = linear.assign_add(
            shrunk - (new_power - self._power(accum, dtype)) / lr * var, use_locking=self._use_locking
        )
        quadratic = new_power / lr + 2 * l2
        var_t = var.assign(
            math_ops.where(
                math_ops.abs(linear_t) > l1, (math_ops.sign(linear_t) * l1 - linear_t) / quadratic, 0 * linear_t
            ),
            use_locking=self._use_locking,
        )
        accum_t = accum.assign(accum_new, use_locking=self._use_locking)
        return state_ops.group(var_t, linear_t, accum_t)
