"""Custom derivative rules and rematerialization: ``cr.custom_vjp``, ``cr.custom_jvp``, ``cr.checkpoint``.

All three hang a rule on one ``IdentityN`` op (``autodiff.custom_gradient.pass_with_gradient``),
as ``cr.custom_gradient`` does. The op's inputs are, in order: the function's results, every
tensor leaf of its arguments, and the residual tensors the rule reads; its gradient (a
:class:`Rule`) reads them back from ``op.inputs``, never from a closure, so a copy of the op
made by ``cr.vmap`` differentiates too (its rule is the per-example rule, vmapped). The rule
gives gradients to the float tensor leaves of the differentiated arguments and None to the
results and residuals (the function's own ops are not differentiated), so:

- reverse mode (``cr.gradients``, ``cr.grad``, ``cr.vjp``) calls the rule;
- forward mode (``cr.jvp``, ``cr.linearize``) transposes it (``autodiff.forward``: the rule is
  linear in the cotangents), so a ``custom_vjp`` function works under forward mode too;
- second derivatives differentiate the rule's graph, through the residuals' dependence on the
  inputs (as JAX does), so they are right where the rule is differentiable.

``custom_jvp``'s reverse rule is the transpose of its JVP rule: the rule is built on zero
tangents and reverse mode runs through its (linear) tangent part. ``checkpoint``'s rule
recomputes the function from its inputs behind a barrier (see :func:`checkpoint`).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from chainrule.autodiff.custom_gradient import pass_with_gradient, unique_gradient_name
from chainrule.autodiff.gradients import gradients, is_differentiable
from chainrule.framework.graph import Operation, Tensor, get_default_graph, is_tensor_like
from chainrule.ops import array_ops, reduction_ops
from chainrule.ops.constant_op import convert_to_tensor
from chainrule.ops.registry import RegisterGradient, apply_op, gradient_function, register_batch_rule
from chainrule.ops.script_ops import identity_n
from chainrule.transforms import pytree
from chainrule.transforms.api import _like_primal
from chainrule.transforms.batching import BatchContext, vmap
from chainrule.transforms.function import Function, is_tracing

Backward = Callable[[list[Tensor], list[Tensor], list[Any]], list[Any]]


def _fn_name(fun: Any) -> str:
    return getattr(fun, "__name__", type(fun).__name__)


# --------------------------------------------------------------------------------------------
# the rule on the op, and its batched form
# --------------------------------------------------------------------------------------------
@dataclass(eq=False)
class Rule:
    """The gradient of one custom op: ``backward(arg_tensors, residuals, cotangents)``.

    ``backward`` returns one entry per argument tensor (None: no gradient), and one per
    residual after those when ``differentiates_residuals`` (a checkpoint's captured tensors);
    cotangents are one per result (None where the result is not float).
    """

    what: str
    n_out: int
    n_arg: int
    backward: Backward
    differentiates_residuals: bool = False

    def __call__(self, op: Operation, *grads: Tensor) -> list[Any]:
        cts = [g if is_differentiable(t) else None for g, t in zip(grads[: self.n_out], op.outputs)]
        args = list(op.inputs[self.n_out : self.n_out + self.n_arg])
        res = list(op.inputs[self.n_out + self.n_arg :])
        arg_grads: list[Any] = list(self.backward(args, res, cts))
        return [None] * self.n_out + arg_grads + [None] * (len(args) + len(res) - len(arg_grads))

    def batched(self, flags: Sequence[bool]) -> Rule:
        """The rule of a batched copy of the op (``flags``: which of its inputs carry a batch axis).

        The per-example rule runs under ``cr.vmap``; an unbatched argument (shared by every
        example) gets the sum over the batch of the per-example gradients.
        """
        if self.differentiates_residuals:

            def refuse(args: list[Tensor], res: list[Tensor], cts: list[Any]) -> list[Any]:
                raise TypeError(
                    f"{self.what}: a checkpointed function that reads tensors from outside its arguments cannot be "
                    "differentiated outside the cr.vmap that batched it; pass those tensors as arguments"
                )

            return Rule(self.what, self.n_out, self.n_arg, refuse)
        n_out, n_arg = self.n_out, self.n_arg
        out_b, arg_b, res_b = flags[:n_out], flags[n_out : n_out + n_arg], flags[n_out + n_arg :]

        def backward(args: list[Tensor], res: list[Tensor], cts: list[Any]) -> list[Any]:
            live = [i for i, c in enumerate(cts) if c is not None]
            diff = [k for k, a in enumerate(args) if is_differentiable(a)]
            if not diff:
                return [None] * len(args)

            def per_example(*flat: Tensor) -> list[Tensor]:
                e_args, e_res = list(flat[:n_arg]), list(flat[n_arg : n_arg + len(res)])
                e_cts: list[Any] = [None] * n_out
                for i, c in zip(live, flat[n_arg + len(res) :]):
                    e_cts[i] = c
                grads = self.backward(e_args, e_res, e_cts)
                return [grads[k] if grads[k] is not None else array_ops.zeros_like(e_args[k]) for k in diff]

            in_axes = [0 if b else None for b in (*arg_b, *res_b)] + [0 if out_b[i] else None for i in live]
            grads = vmap(per_example, in_axes=in_axes)(*args, *res, *(cts[i] for i in live))
            out: list[Any] = [None] * len(args)
            for k, g in zip(diff, grads):
                out[k] = g if arg_b[k] else reduction_ops.reduce_sum(g, axis=0)
            return out

        return Rule(self.what, n_out, n_arg, backward)


def _attach(rule: Rule, outs: list[Tensor], args: list[Tensor], res: list[Tensor], name: str) -> list[Tensor]:
    """``outs`` passed through the op that carries ``rule`` (registered under a name of its own)."""
    grad_name = unique_gradient_name("CustomRule")
    RegisterGradient(grad_name)(rule)
    return pass_with_gradient([*outs, *args, *res], grad_name, name)[: len(outs)]


@register_batch_rule("IdentityN")
def _identity_n_batch(ctx: BatchContext, op: Operation, inputs: list[Tensor], batched: list[bool]) -> Any:
    """IdentityN passes its inputs through; a custom rule on it is batched with it (:meth:`Rule.batched`)."""
    override = op.gradient_op_type if op.gradient_overridden else None
    rule = gradient_function(op) if override is not None else None
    if isinstance(rule, Rule):
        override = unique_gradient_name("CustomRule")
        RegisterGradient(override)(rule.batched(batched))
    outs = apply_op("IdentityN", list(inputs), {}, gradient_op_type=override).outputs
    return list(zip(outs, batched))


# --------------------------------------------------------------------------------------------
# the arguments of one call
# --------------------------------------------------------------------------------------------
def _positional(fun: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], what: str) -> tuple[Any, ...]:
    """Keyword arguments bound to their positions (as JAX's custom rules do: the rules take positions)."""
    if not kwargs:
        return args
    try:
        bound = inspect.signature(fun).bind(*args, **kwargs)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{what}: {e}") from None
    bound.apply_defaults()
    if bound.kwargs:
        raise TypeError(
            f"{what}: keyword-only arguments {sorted(bound.kwargs)} are not supported; pass them by position"
        )
    return tuple(bound.args)


class _Call:
    """The arguments of one call: each tensor leaf becomes an input of the rule's op; the rest stay static.

    ``diff`` says, per tensor, whether the rule differentiates it (a float leaf of an argument
    not in ``nondiff_argnums``).
    """

    def __init__(self, args: Sequence[Any], nondiff: tuple[int, ...], what: str) -> None:
        for i in nondiff:
            if i >= len(args):
                raise TypeError(f"{what}: nondiff_argnums {i} is out of range for a call with {len(args)} arguments")
        self.what = what
        self.nondiff = nondiff
        self.parts: list[tuple[Any, list[Any], list[int | None]]] = []  # per argument: treedef, leaves, tensor slots
        self.tensors: list[Tensor] = []
        self.diff: list[bool] = []
        for i, a in enumerate(args):
            leaves, td = pytree.flatten(a)
            slots: list[int | None] = []
            for leaf in leaves:
                if is_tensor_like(leaf):
                    t = convert_to_tensor(leaf)
                    slots.append(len(self.tensors))
                    self.tensors.append(t)
                    self.diff.append(i not in nondiff and is_differentiable(t))
                else:
                    slots.append(None)
            self.parts.append((td, leaves, slots))

    @property
    def diff_positions(self) -> list[int]:
        return [i for i in range(len(self.parts)) if i not in self.nondiff]

    def rebuild(self, tensors: Sequence[Any]) -> list[Any]:
        """The arguments again, with ``tensors`` (one per tensor leaf) in the tensor positions."""
        return [
            pytree.unflatten(td, [leaf if s is None else tensors[s] for leaf, s in zip(leaves, slots)])
            for td, leaves, slots in self.parts
        ]

    def split(self, args: list[Any]) -> tuple[list[Any], tuple[Any, ...]]:
        """(the nondiff arguments in order, the tuple of the differentiated ones)."""
        return [args[i] for i in self.nondiff], tuple(args[i] for i in self.diff_positions)

    def gradients_from(self, result: Any, rule: str) -> list[Any]:
        """Per tensor, the gradient a user's rule returned: one entry per differentiated argument."""
        positions = self.diff_positions
        if not isinstance(result, (tuple, list)) or len(result) != len(positions):
            got = (
                f"a {type(result).__name__} of length {len(result)}"
                if isinstance(result, (tuple, list))
                else type(result).__name__
            )
            raise TypeError(
                f"{self.what}: {rule} must return a tuple with one cotangent per differentiable argument "
                f"({len(positions)}), got {got}"
            )
        grads: list[Any] = [None] * len(self.tensors)
        for pos, entry in zip(positions, result):
            td, leaves, slots = self.parts[pos]
            if entry is None:
                continue  # no cotangent: zeros (reverse mode treats None as zero)
            entry_leaves, entry_td = pytree.flatten(entry)
            if entry_td != td:
                raise TypeError(
                    f"{self.what}: {rule} returned a cotangent of structure {pytree.describe(entry_td)} for argument "
                    f"{pos} of structure {pytree.describe(td)}"
                )
            for leaf, s in zip(entry_leaves, slots):
                if s is None or not self.diff[s] or leaf is None:
                    continue
                x = self.tensors[s]
                g = _as_like(leaf, x, f"{self.what}: {rule}'s cotangent for argument {pos}")
                grads[s] = g
        return grads


def _as_like(value: Any, x: Tensor, what: str) -> Tensor:
    """``value`` as a tensor of ``x``'s dtype; its static shape must be ``x``'s."""
    if is_tensor_like(value):
        t = convert_to_tensor(value)
        if t.dtype != x.dtype and not (t.dtype.is_floating or t.dtype.is_complex):
            raise TypeError(f"{what}: got dtype {t.dtype.name} for {x.name} of dtype {x.dtype.name}")
    return _like_primal(value, x, f"{what} (for {x.name})")


def _results(out: Any, what: str) -> tuple[Any, list[Any], list[Tensor]]:
    """(treedef, leaves, the tensors among them) of a function's result."""
    leaves, td = pytree.flatten(out)
    leaves = [convert_to_tensor(leaf) if is_tensor_like(leaf) else leaf for leaf in leaves]
    tensors = [leaf for leaf in leaves if isinstance(leaf, Tensor)]
    if not tensors:
        raise TypeError(
            f"{what}: the function returned no tensor ({type(out).__name__}); there is nothing to differentiate"
        )
    return td, leaves, tensors


def _cotangent_tree(td: Any, leaves: list[Any], cts: list[Any]) -> Any:
    """The cotangents in the structure of the result.

    A non-tensor leaf's is a zero of its shape; an integer tensor's is None (it has none; a
    zero made here would read the closure's tensor, which is not the op's on a batched copy).
    """
    it = iter(cts)
    out = []
    for leaf in leaves:
        if isinstance(leaf, Tensor):
            out.append(next(it))
        else:
            out.append(np.zeros_like(np.asarray(leaf, dtype=np.float64)))
    return pytree.unflatten(td, out)


def _rebuild_results(td: Any, leaves: list[Any], tensors: list[Tensor]) -> Any:
    it = iter(tensors)
    return pytree.unflatten(td, [next(it) if isinstance(leaf, Tensor) else leaf for leaf in leaves])


class _Decorated:
    """What the three decorators share: positions, the NumPy-in call, inline building with tensors."""

    kind = "custom"

    def __init__(self, fun: Callable[..., Any], nondiff_argnums: Sequence[int]) -> None:
        if not callable(fun):
            raise TypeError(f"cr.{self.kind}: expected a function, got {type(fun).__name__}")
        self.fun = fun
        self.nondiff_argnums = tuple(sorted({int(i) for i in nondiff_argnums}))
        if any(i < 0 for i in self.nondiff_argnums):
            raise ValueError(f"cr.{self.kind}: nondiff_argnums must be non-negative, got {nondiff_argnums!r}")
        self.what = f"cr.{self.kind}({_fn_name(fun)})"
        self._numpy: Function | None = None
        functools.update_wrapper(self, fun)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self._check_defined()
        args = _positional(self.fun, args, kwargs, self.what)
        # No arguments at all: graph code (the function reads tensors it closes over).
        if not args or is_tracing() or any(is_tensor_like(leaf) for leaf in pytree.flatten(args)[0]):
            return self._build(args)
        if self._numpy is None:  # NumPy in, NumPy out, like every transform: traced once per signature
            self._numpy = Function(lambda *a: self._build(a), name=self.what)
        return self._numpy(*args)

    def _check_defined(self) -> None:
        pass

    def _build(self, args: tuple[Any, ...]) -> Any:
        raise NotImplementedError

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        return self if obj is None else functools.partial(self, obj)


# --------------------------------------------------------------------------------------------
# custom_vjp
# --------------------------------------------------------------------------------------------
class custom_vjp(_Decorated):  # noqa: N801 - JAX's name
    """A function with a reverse-mode rule of its own (JAX's ``jax.custom_vjp``).

    Parameters
    ----------
    fun : the function (of chainrule tensors, or NumPy arrays: NumPy in, NumPy out).
    nondiff_argnums : positions of arguments that are not differentiated (functions, flags,
        shapes; tensors there are treated as constants). They come first in ``bwd``'s arguments.

    Define the rule with ``f.defvjp(fwd, bwd)``: ``fwd(*args) -> (out, residuals)`` computes the
    result and what the backward pass needs (any pytree of tensors and Python values);
    ``bwd(*nondiff_args, residuals, cotangent) -> tuple`` returns one cotangent per
    differentiable argument, each in that argument's structure (None: zero). An integer
    output's cotangent is None.

    The result is ``fwd``'s (``fun`` is what JAX evaluates when nothing is differentiated; in a
    graph that is not known when the ops are built, so ``fwd`` builds them: what only the
    residuals need is pruned from a plan that does not differentiate). It works under every
    transform: reverse mode calls ``bwd``, forward mode transposes it (``bwd`` is linear in the
    cotangent), ``cr.vmap`` batches it, and second derivatives differentiate ``bwd`` through the
    residuals. Tensors that ``fwd`` reads from outside its arguments are constants for the rule.

    Examples
    --------
    >>> @cr.custom_vjp
    ... def f(x, y):
    ...     return cr.sin(x) * y
    >>> def f_fwd(x, y):
    ...     return f(x, y), (cr.cos(x), cr.sin(x), y)
    >>> def f_bwd(res, g):
    ...     cos_x, sin_x, y = res
    ...     return (cos_x * g * y, sin_x * g)
    >>> f.defvjp(f_fwd, f_bwd)
    """

    kind = "custom_vjp"

    def __init__(self, fun: Callable[..., Any], nondiff_argnums: Sequence[int] = ()) -> None:
        super().__init__(fun, nondiff_argnums)
        self.fwd: Callable[..., Any] | None = None
        self.bwd: Callable[..., Any] | None = None
        self._in_fwd = False

    def defvjp(self, fwd: Callable[..., Any], bwd: Callable[..., Any], symbolic_zeros: bool = False) -> None:
        """Set the rule: ``fwd(*args) -> (out, residuals)``, ``bwd(*nondiff, residuals, ct) -> cotangents``.

        ``symbolic_zeros`` (JAX's) is not supported: zero cotangents arrive as zero tensors.
        """
        if symbolic_zeros:
            raise NotImplementedError(f"{self.what}.defvjp: symbolic_zeros=True is not supported")
        if not callable(fwd) or not callable(bwd):
            raise TypeError(f"{self.what}.defvjp: fwd and bwd must be functions")
        self.fwd, self.bwd = fwd, bwd

    def _check_defined(self) -> None:
        if self.fwd is None:
            raise AttributeError(f"No VJP defined for custom_vjp function {_fn_name(self.fun)} using defvjp.")

    def _build(self, args: tuple[Any, ...]) -> Any:
        if self._in_fwd:  # fwd calls f itself (the usual pattern): that inner call is just f
            return self.fun(*args)
        assert self.fwd is not None and self.bwd is not None
        call = _Call(args, self.nondiff_argnums, self.what)
        self._in_fwd = True
        try:
            pair = self.fwd(*call.rebuild(call.tensors))
        finally:
            self._in_fwd = False
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise TypeError(f"{self.what}: fwd must return a pair (output, residuals), got {type(pair).__name__}")
        out, residuals = pair
        out_td, out_leaves, outs = _results(out, self.what)
        res_leaves, res_td = pytree.flatten(residuals)
        res_leaves = [convert_to_tensor(r) if is_tensor_like(r) else r for r in res_leaves]
        res_tensors = [r for r in res_leaves if isinstance(r, Tensor)]
        bwd, what = self.bwd, self.what

        def backward(arg_t: list[Tensor], res_t: list[Tensor], cts: list[Any]) -> list[Any]:
            it = iter(res_t)
            res = pytree.unflatten(res_td, [next(it) if isinstance(r, Tensor) else r for r in res_leaves])
            nondiff, _ = call.split(call.rebuild(arg_t))
            grads = call.gradients_from(bwd(*nondiff, res, _cotangent_tree(out_td, out_leaves, cts)), "bwd")
            return [g if d else None for g, d in zip(grads, call.diff)]

        rule = Rule(what, len(outs), len(call.tensors), backward)
        return _rebuild_results(out_td, out_leaves, _attach(rule, outs, call.tensors, res_tensors, self.kind))


# --------------------------------------------------------------------------------------------
# custom_jvp
# --------------------------------------------------------------------------------------------
class custom_jvp(_Decorated):  # noqa: N801 - JAX's name
    """A function with a forward-mode rule of its own (JAX's ``jax.custom_jvp``).

    Parameters
    ----------
    fun : the function (of chainrule tensors, or NumPy arrays: NumPy in, NumPy out).
    nondiff_argnums : positions of arguments that are not differentiated; they come first in
        the rule's arguments.

    Define the rule with ``@f.defjvp`` on ``rule(*nondiff_args, primals, tangents) ->
    (primal_out, tangent_out)`` (``primals`` and ``tangents``: tuples of the differentiable
    arguments), or with ``f.defjvps(*per_argument)`` (JAX's: ``jvp_i(g_i, ans, *primals)``).

    The value is ``fun``'s. Reverse mode runs through the rule's tangent part transposed (it
    is linear in the tangents: the rule is built once on zero tangents and differentiated with
    respect to them); forward mode transposes that again, which gives the rule's tangents.
    Second derivatives differentiate the rule with respect to the primals, so they are right
    where the rule is differentiable.

    Examples
    --------
    >>> @cr.custom_jvp
    ... def log1pexp(x):
    ...     return cr.log(1.0 + cr.exp(x))
    >>> @log1pexp.defjvp
    ... def log1pexp_jvp(primals, tangents):
    ...     (x,), (t,) = primals, tangents
    ...     return log1pexp(x), t * cr.sigmoid(x)
    """

    kind = "custom_jvp"

    def __init__(self, fun: Callable[..., Any], nondiff_argnums: Sequence[int] = ()) -> None:
        super().__init__(fun, nondiff_argnums)
        self.jvp: Callable[..., Any] | None = None

    def defjvp(self, jvp: Callable[..., Any], symbolic_zeros: bool = False) -> Callable[..., Any]:
        """Set the rule ``jvp(*nondiff, primals, tangents) -> (primal_out, tangent_out)``; returns it (a decorator)."""
        if symbolic_zeros:
            raise NotImplementedError(f"{self.what}.defjvp: symbolic_zeros=True is not supported")
        if not callable(jvp):
            raise TypeError(f"{self.what}.defjvp: the rule must be a function")
        self.jvp = jvp
        return jvp

    def defjvps(self, *jvps: Callable[..., Any] | None) -> None:
        """One rule per argument: ``jvp_i(g_i, ans, *primals)`` is argument i's tangent contribution (None: zero)."""
        if self.nondiff_argnums:
            raise TypeError(f"{self.what}.defjvps does not support nondiff_argnums; use defjvp")
        fun = self.fun

        def rule(primals: tuple[Any, ...], tangents: tuple[Any, ...]) -> tuple[Any, Any]:
            if len(jvps) != len(primals):
                raise TypeError(f"{self.what}.defjvps got {len(jvps)} rules for {len(primals)} arguments")
            ans = fun(*primals)
            terms = [j(t, ans, *primals) for j, t in zip(jvps, tangents) if j is not None]
            if not terms:
                return ans, pytree.tree_map(array_ops.zeros_like, ans)
            total = terms[0]
            for term in terms[1:]:
                total = pytree.tree_map(lambda a, b: a + b, total, term)
            return ans, total

        self.jvp = rule

    def _check_defined(self) -> None:
        if self.jvp is None:
            raise AttributeError(f"No JVP defined for custom_jvp function {_fn_name(self.fun)} using defjvp.")

    def _build(self, args: tuple[Any, ...]) -> Any:
        assert self.jvp is not None
        call = _Call(args, self.nondiff_argnums, self.what)
        out_td, out_leaves, outs = _results(self.fun(*call.rebuild(call.tensors)), self.what)
        jvp_rule, what = self.jvp, self.what

        def backward(arg_t: list[Tensor], res_t: list[Tensor], cts: list[Any]) -> list[Any]:
            # The rule on zero tangents: its tangent output is linear in them, so reverse mode with
            # respect to them (seeded with the cotangents) is the rule transposed.
            tangent_t = [array_ops.zeros_like(a, name="tangent") for a in arg_t]
            nondiff, primals = call.split(call.rebuild(arg_t))
            _, tangents = call.split(call.rebuild(tangent_t))
            pair = jvp_rule(*nondiff, primals, tangents)
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise TypeError(f"{what}: the JVP rule must return a pair (primal_out, tangent_out)")
            t_leaves, t_td = pytree.flatten(pair[1])
            if t_td != out_td:
                raise TypeError(
                    f"{what}: the JVP rule's tangent output has structure {pytree.describe(t_td)}, but the function "
                    f"returns {pytree.describe(out_td)}"
                )
            ys, seeds = [], []
            ct_it = iter(cts)
            for leaf, t in zip(out_leaves, t_leaves):
                if not isinstance(leaf, Tensor):
                    continue
                c = next(ct_it)
                if c is None or t is None or not is_tensor_like(t):
                    continue
                ys.append(_as_like(t, leaf, f"{what}: the JVP rule's tangent output"))
                seeds.append(c)
            xs = [t for t, d in zip(tangent_t, call.diff) if d]
            grads = iter(gradients(ys, xs, grad_ys=seeds, unconnected_gradients="zero") if ys else [None] * len(xs))
            return [next(grads) if d else None for d in call.diff]

        rule = Rule(what, len(outs), len(call.tensors), backward)
        return _rebuild_results(out_td, out_leaves, _attach(rule, outs, call.tensors, [], self.kind))


# --------------------------------------------------------------------------------------------
# checkpoint
# --------------------------------------------------------------------------------------------
class _Checkpointed(_Decorated):
    kind = "checkpoint"

    def __init__(self, fun: Callable[..., Any], static_argnums: Sequence[int], prevent_cse: bool) -> None:
        super().__init__(fun, static_argnums)
        self.prevent_cse = prevent_cse

    def _build(self, args: tuple[Any, ...]) -> Any:
        call = _Call(args, self.nondiff_argnums, self.what)
        fun, what, prevent_cse = self.fun, self.what, self.prevent_cse
        graph = call.tensors[0].graph if call.tensors else get_default_graph()
        start = len(graph.get_operations())
        out_td, out_leaves, outs = _results(fun(*call.rebuild(call.tensors)), what)
        # Float tensors the function read from outside its arguments: the recomputation reads them
        # too, and they get their gradients from it (a rule can only see what is an input of its op).
        graph = outs[0].graph
        new_ops = graph.get_operations()[start:]
        inside = set(new_ops)
        known = set(call.tensors)
        captured = list(
            dict.fromkeys(
                t
                for op in new_ops
                for t in op.inputs
                if t.op not in inside and t not in known and is_differentiable(t) and t.op.type != "Const"
            )
        )
        n_arg = len(call.tensors)

        def backward(arg_t: list[Tensor], res_t: list[Tensor], cts: list[Any]) -> list[Any]:
            diff = [k for k, d in enumerate(call.diff) if d]
            live = [c for c in cts if c is not None]
            xs = [arg_t[k] for k in diff]
            if prevent_cse and xs and live:
                # A barrier: the recomputation reads copies of the inputs that exist only once the
                # cotangents do, so it runs in the backward pass and no common-subexpression merge
                # (which never looks through IdentityN) can fold it back into the forward ops.
                xs = identity_n([*xs, *live], name="remat_barrier")[: len(xs)]
            new_t = list(arg_t)
            for k, x in zip(diff, xs):
                new_t[k] = x
            again = pytree.flatten(fun(*call.rebuild(new_t)))[0]
            again_t = [convert_to_tensor(a) for a in again if is_tensor_like(a)]
            if len(again_t) != len(cts):
                raise ValueError(
                    f"{what}: the recomputation returned {len(again_t)} tensors, the first call {len(cts)}"
                )
            pairs = [(y, c) for y, c in zip(again_t, cts) if c is not None]
            targets = [*xs, *res_t]
            # Partial derivatives: each input (and capture) a variable of its own, so a path from
            # one to another outside the function (the next segment's input is this one's output)
            # is not followed, into other rules' ops and round again.
            grads = (
                gradients(
                    [y for y, _ in pairs],
                    targets,
                    grad_ys=[c for _, c in pairs],
                    stop_gradients=targets,
                    unconnected_gradients="zero",
                )
                if pairs
                else [None] * len(targets)
            )
            out: list[Any] = [None] * (len(arg_t) + len(res_t))
            for k, g in zip([*diff, *range(len(arg_t), len(arg_t) + len(res_t))], grads):
                out[k] = g
            return out

        rule = Rule(what, len(outs), n_arg, backward, differentiates_residuals=bool(captured))
        return _rebuild_results(out_td, out_leaves, _attach(rule, outs, call.tensors, captured, self.kind))


def checkpoint(
    fun: Callable[..., Any] | None = None,
    *,
    prevent_cse: bool = True,
    policy: Any = None,
    static_argnums: int | Sequence[int] = (),
) -> Any:
    """Rematerialization (JAX's ``jax.checkpoint``, alias ``cr.remat``): the backward pass recomputes ``fun``.

    Differentiating a checkpointed function keeps only its inputs for the backward pass, not
    the intermediate values its own ops produce: the gradient recomputes ``fun`` from the
    inputs and differentiates the recomputation. That trades one more forward evaluation of
    ``fun`` for memory; checkpointing each of several segments of a deep computation keeps
    one segment's intermediates alive at a time (``benchmarks/checkpoint_memory.py``).

    Parameters
    ----------
    fun : the function (of chainrule tensors, or NumPy arrays: NumPy in, NumPy out). Used
        as ``@cr.checkpoint`` or ``@cr.checkpoint(static_argnums=...)``.
    prevent_cse : keep the compiler from merging the recomputation with the forward ops (the
        recomputation reads its inputs through a barrier that waits for the cotangents).
        False lets common-subexpression elimination merge them back, which saves the
        recomputation and the memory both.
    policy : JAX's saving policies are not supported: only None (save nothing).
    static_argnums : arguments not differentiated (as ``nondiff_argnums`` of ``cr.custom_vjp``).

    Float tensors that ``fun`` reads from outside its arguments are differentiated through
    the recomputation as well.
    """
    if policy is not None:
        raise NotImplementedError("cr.checkpoint: saving policies are not supported; use policy=None (save nothing)")
    nums = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)
    if fun is None:
        return functools.partial(checkpoint, prevent_cse=prevent_cse, policy=policy, static_argnums=nums)
    return _Checkpointed(fun, nums, prevent_cse)


remat = checkpoint
