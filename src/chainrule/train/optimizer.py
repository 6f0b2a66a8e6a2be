"""The ``Optimizer`` base class: gradients in, update ops out (TensorFlow 1.x's contract).

``minimize`` = ``compute_gradients`` + ``apply_gradients``. Subclasses say how one
variable is updated (``_apply_dense``) with public chainrule ops only, which slot
variables they need (``_create_slots``) and what runs once per step after every
update (``_finish``, e.g. Adam's ``beta1_power``).

Why every update sees the pre-update values (TF semantics) without explicit gating:
the runtime runs the ops a fetch needs in creation order, and a variable is read
exactly once per ``Session.run``, when its ``VariableV2`` op runs. That op is
created with the variable, hence before any gradient or assign op that touches
it, so all gradients and updates of one step read the values the step started
with; assign ops replace the stored array rather than mutating it, so a value
read earlier is never changed underneath. Within one variable's update the
*new* slot values are used through the assign ops' outputs (``m_t = m.assign(...)``),
never by re-reading the slot.

That holds within one run. Runs of the training op from several threads at once are
Hogwild by default, as in TensorFlow: each reads the variables, and their read-modify-writes
of one variable can interleave, so an update can be lost. ``use_locking=True`` makes each
step atomic instead (docs/architecture.md, "Threads").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from chainrule.autodiff.gradients import gradients
from chainrule.framework.dtypes import DType
from chainrule.framework.graph import Graph, Operation, Tensor, get_default_graph
from chainrule.ops import array_ops, math_ops, state_ops
from chainrule.ops.constant_op import constant, convert_to_tensor
from chainrule.ops.state_ops import Variable

__all__ = ["Optimizer"]


def _as_operation(x: Any) -> Operation:
    return x if isinstance(x, Operation) else x.op


class Optimizer:
    """Base class for optimizers; use a subclass such as ``GradientDescentOptimizer``.

    Parameters
    ----------
    use_locking : if True, the update ops hold their variables' locks, and a run of them holds
        the locks for the whole step: concurrent ``sess.run(train_op)`` calls from several threads
        are then atomic steps (the variable, its slots, Adam's beta powers). If False, steps
        run from several threads at once may interleave their read-modify-writes and lose
        updates (Hogwild, as in TensorFlow); one thread's steps never race.
    name : name scope of the update ops and suffix of the slot variables.
    """

    GATE_NONE = 0
    GATE_OP = 1
    GATE_GRAPH = 2

    def __init__(self, use_locking: bool, name: str) -> None:
        if not name:
            raise ValueError("Must specify the optimizer name")
        self._use_locking = use_locking
        self._name = name
        # slot name -> primary variable's op -> slot Variable
        self._slots: dict[str, dict[Operation, Variable]] = {}
        # (name, graph) -> Variable, e.g. Adam's beta1_power
        self._non_slot_dict: dict[tuple[str, Graph], Variable] = {}
        self._hyper: dict[tuple[str, DType], Tensor] = {}
        self._scope = ""

    def get_name(self) -> str:
        return self._name

    # -- public API ------------------------------------------------------------------------
    def minimize(
        self,
        loss: Any,
        global_step: Variable | None = None,
        var_list: Sequence[Variable] | None = None,
        gate_gradients: int = GATE_OP,
        aggregation_method: Any = None,
        colocate_gradients_with_ops: bool = False,
        name: str | None = None,
        grad_loss: Any = None,
    ) -> Operation:
        """Add ops that take one step to minimize ``loss``; returns the training op.

        Parameters
        ----------
        loss : scalar (or any floating) tensor to minimize.
        global_step : optional integer Variable, incremented by one after the updates.
        var_list : variables to update; ``cr.trainable_variables()`` by default.
        gate_gradients, aggregation_method, colocate_gradients_with_ops : as in ``compute_gradients``.
        name : name scope of the update ops (the optimizer's name by default).
        grad_loss : optional gradient of the loss (``grad_ys``).

        Raises
        ------
        ValueError
            When no variable receives a gradient from ``loss``.
        """
        grads_and_vars = self.compute_gradients(
            loss,
            var_list=var_list,
            gate_gradients=gate_gradients,
            aggregation_method=aggregation_method,
            colocate_gradients_with_ops=colocate_gradients_with_ops,
            grad_loss=grad_loss,
        )
        if all(g is None for g, _ in grads_and_vars):
            loss_t = loss() if callable(loss) and not isinstance(loss, Tensor) else loss
            raise ValueError(
                "No gradients provided for any variable, check your graph for ops that do not support "
                f"gradients, between variables {[v.name for _, v in grads_and_vars]} and loss {loss_t!r}."
            )
        return self.apply_gradients(grads_and_vars, global_step=global_step, name=name)

    def compute_gradients(
        self,
        loss: Any,
        var_list: Sequence[Variable] | None = None,
        gate_gradients: int = GATE_OP,
        aggregation_method: Any = None,
        colocate_gradients_with_ops: bool = False,
        grad_loss: Any = None,
    ) -> list[tuple[Tensor | None, Variable]]:
        """Gradients of ``loss`` for ``var_list``, as a list of ``(gradient, variable)`` pairs.

        A pair's gradient is None where the variable does not affect ``loss``.

        Parameters
        ----------
        loss : the tensor to minimize (or a callable returning it).
        var_list : the variables; ``cr.trainable_variables()`` by default.
        gate_gradients : ``Optimizer.GATE_NONE``, ``GATE_OP`` or ``GATE_GRAPH``. In TensorFlow it
            controls how much of the gradient computation must finish before the updates start
            (races between one variable's update and another's gradient). The runtime here always
            computes every gradient of a step from the values the step started with (see the
            module's docstring), which is GATE_GRAPH's guarantee; any of the three is accepted.
        aggregation_method : how the gradient contributions to one tensor are summed
            (TensorFlow's ``AggregationMethod``); passed to ``cr.gradients`` when it accepts it,
            else ignored (the sum is the same; only TensorFlow's memory use differs).
        colocate_gradients_with_ops : accepted for TensorFlow compatibility; there is one device
            here, so placing gradient ops next to their forward ops changes nothing.
        grad_loss : optional gradient of ``loss`` (``grad_ys``).
        """
        if callable(loss) and not isinstance(loss, (Tensor, Variable)):
            loss = loss()
        if gate_gradients not in (Optimizer.GATE_NONE, Optimizer.GATE_OP, Optimizer.GATE_GRAPH):
            raise ValueError(f"gate_gradients must be GATE_NONE, GATE_OP or GATE_GRAPH; got {gate_gradients!r}")
        loss = convert_to_tensor(loss)
        if not loss.dtype.is_floating:
            raise ValueError(f"loss {loss.name} must be floating point to be minimized, got dtype {loss.dtype.name}")
        if var_list is None:
            var_list = state_ops.trainable_variables(loss.graph)
        else:
            var_list = list(var_list)
        if not var_list:
            raise ValueError("No variables to optimize.")
        for v in var_list:
            self._check_variable(v)
        _check_unique(var_list)
        grads = gradients(
            loss,
            var_list,
            grad_ys=grad_loss,
            aggregation_method=aggregation_method,
            gate_gradients=bool(gate_gradients),
            colocate_gradients_with_ops=colocate_gradients_with_ops,
        )
        return list(zip(grads, var_list, strict=True))

    def apply_gradients(
        self,
        grads_and_vars: Iterable[tuple[Any, Variable]],
        global_step: Variable | None = None,
        name: str | None = None,
    ) -> Operation:
        """An op that applies the gradients to their variables (pairs with a None gradient are skipped).

        When ``global_step`` is given, the returned op also increments it by one, after the updates.
        """
        pairs: list[tuple[Tensor | None, Variable]] = []
        for pair in tuple(grads_and_vars):
            try:
                g, v = pair
            except (TypeError, ValueError):
                raise TypeError(f"grads_and_vars must hold (gradient, variable) pairs, got {pair!r}") from None
            self._check_variable(v)
            if g is not None:
                g = convert_to_tensor(g, dtype_hint=v.dtype)
                if g.dtype != v.dtype:
                    raise ValueError(f"gradient {g.name} is {g.dtype.name} but variable {v.name} is {v.dtype.name}")
                if not g.shape.is_compatible_with(v.shape):
                    raise ValueError(f"gradient {g.name} has shape {g.shape} but variable {v.name} has {v.shape}")
            pairs.append((g, v))
        if not pairs:
            raise ValueError("No variables provided.")
        var_list = [v for g, v in pairs if g is not None]
        if not var_list:
            raise ValueError(f"No gradients provided for any variable: {[v.name for _, v in pairs]}.")
        _check_unique(var_list)
        graph = var_list[0].graph
        for v in var_list:
            if v.graph is not graph:
                raise ValueError(f"variables {var_list[0].name} and {v.name} belong to different graphs")
        if global_step is not None and not isinstance(global_step, Variable):
            raise TypeError(f"global_step must be a cr.Variable, got {global_step!r}")

        with graph.as_default():
            # Slots are created as if at the top level: no enclosing scope or control dependency.
            with graph.name_scope(None), graph.control_dependencies(None):
                self._create_slots(var_list)
            with graph.name_scope(name or self._name) as scope:
                self._hyper = {}
                self._scope = scope
                self._prepare()
                update_ops = []
                for g, v in pairs:
                    if g is None:
                        continue
                    with graph.name_scope("update_" + v.op.name):
                        update_ops.append(_as_operation(self._apply_dense(g, v)))
                if global_step is None:
                    return self._finish(update_ops, "update")
                with graph.control_dependencies([self._finish(update_ops, "update")]):
                    return global_step.assign_add(1, name="increment_global_step").op

    def get_slot_names(self) -> list[str]:
        """The names of the slots this optimizer creates (e.g. ``["m", "v"]`` for Adam), sorted."""
        return sorted(self._slots)

    def get_slot(self, var: Variable, name: str) -> Variable | None:
        """The slot variable ``name`` of ``var``, or None if there is none."""
        table = self._slots.get(name)
        if table is None:
            return None
        return table.get(var.op)

    def variables(self) -> list[Variable]:
        """Every variable this optimizer created (slots and e.g. Adam's beta powers), in creation order."""
        made = [v for table in self._slots.values() for v in table.values()] + list(self._non_slot_dict.values())
        return sorted(made, key=lambda v: v.op.id)

    # -- for subclasses --------------------------------------------------------------------
    def _create_slots(self, var_list: list[Variable]) -> None:
        """Create the slot (and non-slot) variables the updates need."""

    def _prepare(self) -> None:
        """Called once per ``apply_gradients`` inside its name scope, before the updates."""

    def _apply_dense(self, grad: Tensor, var: Variable) -> Operation | Tensor:
        raise NotImplementedError

    def _finish(self, update_ops: list[Operation], name: str) -> Operation:
        return state_ops.group(*update_ops, name=name)

    def _hyper_tensor(self, name: str, value: Any, dtype: DType) -> Tensor:
        """``value`` (number, tensor, placeholder or callable) as a tensor of ``dtype``.

        Python numbers become constants of the variable's dtype directly (no float32 rounding
        of e.g. 0.1 for float64 variables); tensors are cast. Cached per apply_gradients call.
        """
        key = (name, dtype)
        t = self._hyper.get(key)
        if t is None:
            if callable(value) and not isinstance(value, (Tensor, Variable)):
                value = value()
            # Made in the optimizer's scope (not the first variable's) since all variables share them.
            with get_default_graph().name_scope(self._scope or None):
                if isinstance(value, (Tensor, Variable)):
                    t = math_ops.cast(convert_to_tensor(value), dtype)
                else:
                    t = constant(value, dtype=dtype, name=name)
            self._hyper[key] = t
        return t

    def _slot(self, var: Variable, name: str) -> Variable:
        """The slot ``name`` of ``var``, which ``_create_slots`` made; LookupError if it did not."""
        slot = self.get_slot(var, name)
        if slot is None:
            raise LookupError(f"{type(self).__name__} has no slot {name!r} for {var.name}: _create_slots makes it")
        return slot

    def _non_slot(self, name: str, graph: Graph) -> Variable:
        """The non-slot variable ``name`` of ``graph``, which ``_create_slots`` made; LookupError if it did not."""
        v = self._get_non_slot_variable(name, graph)
        if v is None:
            raise LookupError(f"{type(self).__name__} has no variable {name!r} in this graph: _create_slots makes it")
        return v

    def _zeros_slot(self, var: Variable, slot_name: str, op_name: str) -> Variable:
        return self._get_or_make_slot(var, 0.0, slot_name, op_name)

    def _get_or_make_slot(self, var: Variable, fill_value: float, slot_name: str, op_name: str) -> Variable:
        """The slot ``slot_name`` of ``var``, created on first use as ``<var>/<op_name>`` filled with a value."""
        table = self._slots.setdefault(slot_name, {})
        slot = table.get(var.op)
        if slot is None:
            slot = _create_slot_variable(var, fill_value, op_name)
            table[var.op] = slot
        return slot

    def _create_non_slot_variable(self, initial_value: Any, name: str, like: Variable) -> Variable:
        """One variable per graph and optimizer (not per variable), e.g. Adam's ``beta1_power``."""
        graph = like.graph
        key = (name, graph)
        v = self._non_slot_dict.get(key)
        if v is None:
            with graph.as_default(), graph.name_scope(None), graph.control_dependencies(None):
                if isinstance(initial_value, (Tensor, Variable)):
                    initial_value = math_ops.cast(convert_to_tensor(initial_value), like.dtype)
                else:
                    initial_value = np.asarray(initial_value, like.dtype.as_numpy_dtype)
                v = Variable(initial_value, name=name, trainable=False)
            self._non_slot_dict[key] = v
        return v

    def _get_non_slot_variable(self, name: str, graph: Graph) -> Variable | None:
        return self._non_slot_dict.get((name, graph))

    def _check_variable(self, v: Any) -> None:
        if not isinstance(v, Variable):
            raise TypeError(f"{type(self).__name__}: expected a cr.Variable to optimize, got {v!r}")
        if not v.dtype.is_floating:
            raise ValueError(f"Invalid type {v.dtype.name} for {v.name}, expected a floating type (float16/32/64).")


def _check_unique(var_list: list[Variable]) -> None:
    seen: set[Operation] = set()
    for v in var_list:
        if v.op in seen:
            raise ValueError(f"variable {v.name} appears more than once in the list of variables to update")
        seen.add(v.op)


def _create_slot_variable(var: Variable, fill_value: float, op_name: str) -> Variable:
    """A non-trainable Variable named ``<var op name>/<op_name>`` (uniquified), shaped and typed like ``var``."""
    graph = var.graph
    with graph.as_default(), graph.name_scope(None), graph.control_dependencies(None):
        with graph.name_scope(var.op.name + "/"):
            slot_name = graph.unique_name(op_name, mark_as_used=False)
        with graph.name_scope(slot_name + "/Initializer/"):
            if var.shape.is_fully_defined():
                init: Any = array_ops.fill(var.shape.as_list(), constant(fill_value, dtype=var.dtype))
            else:
                init = (
                    array_ops.ones_like(var.initial_value) * fill_value
                    if fill_value
                    else array_ops.zeros_like(var.initial_value)
                )
        with graph.name_scope(var.op.name + "/"):
            return Variable(init, dtype=var.dtype, name=op_name, trainable=False)
