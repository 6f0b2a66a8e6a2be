"""The op registry: one ``OpDef`` per op type, and the gradient registry.

An op is declared once, in one ``register_op`` call: its kernel (``kernel(xp, *arrays,
**attrs)``, written against the NumPy API so other array modules can run it, or ufunc
steps it is made from), its static shape and dtype rule, its gradient (built from
chainrule ops), and what the transforms, the compiler and the viewers need to know
(JVP, elementwise kind, code-generator form, ``explain`` form, batching rule). Every
list those layers use is derived from these declarations. ``apply_op`` is the one
place where ops enter a graph; it runs the shape rule and turns a failure into an
error naming the op, its inputs and the user's line.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from chainrule.framework import errors
from chainrule.framework.dtypes import DType
from chainrule.framework.graph import FunctionGraph, Graph, Operation, Tensor, get_default_graph
from chainrule.framework.source import user_frame
from chainrule.framework.tensor_shape import TensorShape
from chainrule.ops.ufunc_steps import Step, Steps, kernel_from_steps, steps_for

OutputSpec = tuple[DType, TensorShape]
ShapeRule = Callable[..., Sequence[OutputSpec]]
GradFn = Callable[..., Sequence[Any]]
JvpRule = Callable[..., Sequence[Any]]
# ``rule(ctx, op, inputs, batched) -> [(tensor, batched) per output]`` (see ``transforms.batching``).
BatchRule = Callable[..., Sequence[Any]]
# ``emit(em, node, args, out) -> expression | None`` (see ``compiler.codegen.Emitter``).
EmitRule = Callable[..., "str | None"]
# ``lower(lw, node, args) -> expression | None``: a backend's form of the op (see ``OpDef.lower``).
LowerRule = Callable[..., "str | None"]
# ``explain(builder, op, args) -> expression`` (see ``viz.explain``), or a function name.
ExplainRule = str | Callable[..., Any]

# Elementwise kinds (``OpDef.elementwise``): what the compiler's shape proofs and ``cr.vmap`` rely on.
UNARY = "unary"  # one input (plus attributes); the output has the input's shape
BROADCAST = "broadcast"  # several inputs that broadcast against each other (NumPy's rule)


@dataclass(frozen=True)
class OpDef:
    """Everything chainrule knows about one op type: its declaration.

    Attributes
    ----------
    name : op type, e.g. ``"Cos"``.
    kernel : ``kernel(xp, *arrays, **attrs)`` returning an array, or a tuple for several outputs.
        Stateful kernels also receive ``ctx`` (the run context) and ``op``. Made from ``steps``
        when only those are given.
    infer : ``infer(inputs, **attrs)`` returning ``[(dtype, TensorShape), ...]``; raises
        ValueError (shape) or TypeError (dtype) for bad inputs.
    broadcasts : inputs broadcast against each other, so reverse mode sums each input's
        gradient back to that input's shape (the one place un-broadcasting happens).
    stateful : reads or writes session state (variables, random streams); never cached,
        folded or merged by the compiler.
    jvp : forward-mode rule ``jvp(op, *tangents) -> [tangent per output]``; None: by
        transposition of the gradient. Derived for ``UNARY`` ops from their gradient.
    elementwise : ``UNARY``, ``BROADCAST`` or None. Elementwise ops are batched by ``cr.vmap``
        as themselves, and the compiler's shape proofs follow them.
    steps : the kernel as NumPy ufunc steps (``ops.ufunc_steps``): how the code generator
        emits and fuses the op; None when it has no such form.
    emit : a code-generator rule for ops that are not ufunc steps (MatMul, Reshape...):
        ``emit(em, node, args, out) -> Python expression`` or None to call the kernel.
    emits_into : ``emit``'s expression can write into a preallocated array ``out``.
    fresh_output : the kernel always returns a new array, never a view of an input.
    explain : how ``cr.explain`` prints the op: a function name (``"cos"``) or
        ``explain(builder, op, args) -> expression``; None: opaque.
    batch : ``cr.vmap``'s rule; None: derived from ``elementwise``, else a loop over the batch.
    same_shape_inputs : the inputs must have equal shapes, which the static rule can only prove
        when they are fully known; otherwise the kernel checks at run time, so the compiler runs
        the kernel instead of the ``steps`` (which would broadcast).
    lower : per execution backend (``"numba"``...), the op's lowering rule
        ``lower(lw, node, args) -> expression | None``: ``node`` is the compiler's IR node (static
        dtypes and shapes on ``node.inputs`` and ``node.outputs``, attributes in ``node.attrs``),
        ``args`` the names of its input values, ``lw`` the backend's lowering context (its
        ``bind(prefix, value) -> name`` makes a global the generated code can read); the result is
        an expression in that backend's language computing the output (a tuple for several), or
        None when these shapes or attributes are not lowered (the NumPy kernel runs). Ops with
        ``steps`` need no entry: backends lower the steps themselves.

        For ``"numba"`` (the conventions of ``ops.native``, whose helpers the rules use): the result
        is one nopython-mode expression string, for several outputs a tuple expression
        ``"(o0, o1,)"`` the backend unpacks; it refers only to ``args`` and to names the rule bound
        (nothing of the region's namespace, not even ``np``). Helper functions are bound already
        compiled: ``ops.native.jit(source, name)`` returns ``numba.njit`` of a generated function,
        memoized by source, importing Numba on first use (never when an op module is imported);
        the backend only puts bound values into the region's globals. A rank-0 value is a native
        scalar of its dtype or a 0-d array: rules accept both (``ops.native.as_scalar``) and produce
        scalars where they compute one, of exactly the static dtype; the backend boxes them.
    numpy_only : why the kernel needs NumPy itself (a function no other array module has, NumPy's
        random generator, a call to the user's Python); None: it runs with any NumPy-like module
        ``xp``. Backends of another module run such a kernel with NumPy on host copies of its
        inputs (``backends.array_module``; the Dask backend as one task). Checked by
        ``tests/backends/test_strict_namespace.py``.
    """

    name: str
    kernel: Callable[..., Any]
    infer: ShapeRule
    broadcasts: bool = False
    stateful: bool = False
    jvp: JvpRule | None = None
    elementwise: str | None = None
    steps: Steps | None = None
    emit: EmitRule | None = None
    emits_into: bool = False
    fresh_output: bool = False
    explain: ExplainRule | None = None
    batch: BatchRule | None = None
    same_shape_inputs: bool = False
    lower: Mapping[str, LowerRule] = dataclasses.field(default_factory=dict)
    numpy_only: str | None = None

    def steps_for(self, num_inputs: int) -> Sequence[Step] | None:
        """The ufunc steps of this op applied to ``num_inputs`` inputs (None: none)."""
        return steps_for(self.steps, num_inputs)


_OP_DEFS: dict[str, OpDef] = {}
_GRADIENTS: dict[str, GradFn | None] = {}
_BUILTIN_GRADIENTS: set[str] = set()


def diagonal_jvp(op_type: str) -> JvpRule:
    """The JVP of a unary elementwise op from its gradient: the Jacobian is diagonal, so ``J t = J^T t``.

    The gradient is looked up when the rule runs, so an op whose gradient is registered after
    the op itself (``cr.custom_op`` + ``@cr.RegisterGradient``) gets it too.
    """

    def jvp(op: Operation, tangent: Tensor | None) -> Sequence[Any]:
        grad = _GRADIENTS.get(op_type)
        return [None] if tangent is None or grad is None else grad(op, tangent)

    return jvp


def register_op(
    name: str,
    kernel: Callable[..., Any] | None,
    infer: ShapeRule,
    grad: GradFn | None | str = "undefined",
    *,
    broadcasts: bool = False,
    stateful: bool = False,
    jvp: JvpRule | None = None,
    elementwise: str | None = None,
    steps: Steps | None = None,
    emit: EmitRule | None = None,
    emits_into: bool = False,
    fresh_output: bool = False,
    explain: ExplainRule | None = None,
    batch: BatchRule | None = None,
    same_shape_inputs: bool = False,
    lower: Mapping[str, LowerRule] | None = None,
    replace: bool = False,
    numpy_only: str | None = None,
) -> OpDef:
    """Declare an op type (see ``OpDef``); ``grad=None`` marks it not differentiable.

    ``kernel=None`` makes the kernel from ``steps``. ``replace`` allows redefinition: the new
    declaration replaces the whole old one (a replaced kernel keeps none of the old one's steps
    or emitters, so the compiler runs the new kernel).
    """
    if name in _OP_DEFS and not replace:
        raise ValueError(f"Op type '{name}' is already registered.")
    if elementwise not in (None, UNARY, BROADCAST):
        raise ValueError(f"elementwise must be None, {UNARY!r} or {BROADCAST!r}, got {elementwise!r}")
    if kernel is None:
        if steps is None:
            raise ValueError(f"Op type '{name}' needs a kernel or steps.")
        kernel = kernel_from_steps(steps)
    if jvp is None and elementwise == UNARY and grad is not None:
        jvp = diagonal_jvp(name)
    op_def = OpDef(
        name=name,
        kernel=kernel,
        infer=infer,
        broadcasts=broadcasts,
        stateful=stateful,
        jvp=jvp,
        elementwise=elementwise,
        steps=steps,
        emit=emit,
        emits_into=emits_into,
        fresh_output=fresh_output,
        explain=explain,
        batch=batch,
        same_shape_inputs=same_shape_inputs,
        lower=dict(lower or {}),
        numpy_only=numpy_only,
    )
    _OP_DEFS[name] = op_def
    if grad != "undefined":
        _GRADIENTS[name] = grad  # type: ignore[assignment]
        _BUILTIN_GRADIENTS.add(name)
    return op_def


def _extend(op_type: str, **fields: Any) -> None:
    _OP_DEFS[op_type] = dataclasses.replace(get_op_def(op_type), **fields)


def register_jvp(op_type: str, jvp: JvpRule | None = None) -> Any:
    """Declare the forward-mode rule ``jvp(op, *input_tangents) -> [tangent per output]`` of a registered op.

    An input tangent is None where it is zero (and for non-float inputs); a rule returns None
    for an output whose tangent is zero. Ops without a rule get their JVP by transposing their
    gradient. Use as ``register_jvp("Cos", fn)`` or as a decorator ``@register_jvp("Cos")``.
    """
    if jvp is None:
        return lambda fn: register_jvp(op_type, fn)
    _extend(op_type, jvp=jvp)
    return jvp


def register_batch_rule(op_type: str, rule: BatchRule | None = None) -> Any:
    """Declare how ``cr.vmap`` batches ops of ``op_type``: ``rule(ctx, op, inputs, batched)``.

    ``inputs`` are the op's inputs in the outer graph (batch axis 0 where ``batched``); the rule
    returns ``[(tensor, batched) per output]``. Ops without a rule are batched as themselves when
    elementwise, else by a loop over the batch. Usable as a decorator.
    """
    if rule is None:
        return lambda fn: register_batch_rule(op_type, fn)
    _extend(op_type, batch=rule)
    return rule


def get_op_def(op_type: str) -> OpDef:
    try:
        return _OP_DEFS[op_type]
    except KeyError:
        raise errors.NotFoundError(None, None, f"Op type '{op_type}' is not registered.") from None


def find_op_def(op_type: str) -> OpDef | None:
    """The declaration of ``op_type``, or None when no op of that type is registered."""
    return _OP_DEFS.get(op_type)


def lowering_rule(op_type: str, backend: str) -> LowerRule | None:
    """The ``backend``'s lowering rule declared for ``op_type`` (None: none declared, or no such op)."""
    op_def = _OP_DEFS.get(op_type)
    return None if op_def is None else op_def.lower.get(backend)


def registered_ops() -> dict[str, OpDef]:
    """Every declared op type and its declaration."""
    return dict(_OP_DEFS)


def registered_gradient(op_type: str) -> GradFn | None:
    """The gradient registered for ``op_type`` (None: ``NotDifferentiable``); LookupError if none is."""
    try:
        return _GRADIENTS[op_type]
    except KeyError:
        raise LookupError(f"No gradient is registered for op type '{op_type}'.") from None


class RegisterGradient:
    """Decorator registering ``fn(op, *output_grads) -> [grad per input]`` for an op type.

    Examples
    --------
    A new op type (see ``cr.custom_op``) and its gradient, written in chainrule ops:

    >>> @cr.custom_op("TimesTwoExample", elementwise="unary")
    ... def times_two(x):
    ...     return 2 * x
    >>> @cr.RegisterGradient("TimesTwoExample")
    ... def _times_two_grad(op, grad):
    ...     return [2 * grad]
    >>> x = cr.constant([1.0, 3.0])
    >>> dx, = cr.gradients(times_two(x), [x])
    >>> print(cr.Session().run(dx))
    [2. 2.]
    """

    def __init__(self, op_type: str) -> None:
        if not isinstance(op_type, str):
            raise TypeError("RegisterGradient expects the op type as a string.")
        self._op_type = op_type

    def __call__(self, fn: GradFn) -> GradFn:
        if self._op_type in _BUILTIN_GRADIENTS:
            raise KeyError(
                f"A gradient for built-in op type '{self._op_type}' is already registered; register yours "
                "under a new name and select it with graph.gradient_override_map()."
            )
        _GRADIENTS[self._op_type] = fn
        return fn


def NotDifferentiable(op_type: str) -> None:  # noqa: N802 - TensorFlow's name
    """Declare that ``op_type`` has no gradient: reverse mode treats its inputs as constants."""
    _GRADIENTS[op_type] = None


def gradient_function(op: Operation) -> GradFn | None:
    """The gradient of ``op`` (honouring ``gradient_override_map``); LookupError if none is registered."""
    op_type = op.gradient_op_type
    try:
        return _GRADIENTS[op_type]
    except KeyError:
        raise LookupError(
            f"No gradient defined for operation {op.describe()}\n"
            f"Register one with @cr.RegisterGradient('{op_type}') or mark it cr.NotDifferentiable('{op_type}')."
        ) from None


def _graph_for(inputs: Sequence[Tensor], graph: Graph) -> Graph:
    """The graph an op on ``inputs`` goes into, ``graph`` being the default one."""
    if isinstance(graph, FunctionGraph):
        return graph  # its inputs are captured into it (see apply_op)
    for t in inputs:
        if t.graph is not graph:
            return t.graph
    return graph


def describe_inputs(inputs: Sequence[Tensor]) -> str:
    return ", ".join(f"{t.name} {t.dtype.name}{t.shape}" for t in inputs) or "no inputs"


def apply_op(
    op_type: str,
    inputs: Sequence[Tensor],
    attrs: dict[str, Any] | None = None,
    name: str | None = None,
    *,
    gradient_op_type: str | None = None,
) -> Operation:
    """Add one op of a registered type to the graph of its inputs (or the default graph).

    ``gradient_op_type``: give the op that op type's gradient, as ``gradient_override_map`` does.
    """
    op_def = get_op_def(op_type)
    attrs = attrs or {}
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op_type}: input {i} must be a cr.Tensor, got {type(t).__name__}")
    default = get_default_graph()
    if isinstance(default, FunctionGraph) and any(t.graph is not default for t in inputs):
        inputs = [default.capture(t) for t in inputs]
    try:
        specs = op_def.infer(list(inputs), **attrs)
    except (ValueError, TypeError, IndexError) as e:
        where = user_frame(2)
        cls = errors.InvalidDTypeError if isinstance(e, TypeError) else errors.InvalidArgumentError
        msg = f"{op_type}{' ' + repr(name) if name else ''}: {e}\n  inputs: {describe_inputs(inputs)}"
        if where:
            msg += f"\n  created at {where}"
        raise cls(None, None, msg) from None
    graph = _graph_for(inputs, default)
    if gradient_op_type is None:
        return graph.create_op(op_type, inputs, specs, attrs, name, user_frame(2))
    with graph.gradient_override_map({op_type: gradient_op_type}):
        return graph.create_op(op_type, inputs, specs, attrs, name, user_frame(2))


def apply(op_type: str, *inputs: Tensor, name: str | None = None, **attrs: Any) -> Any:
    """``apply_op`` returning the single output tensor, or the tuple of outputs."""
    op = apply_op(op_type, inputs, attrs, name)
    return op.outputs[0] if len(op.outputs) == 1 else op.outputs


_VALUE_THROUGH = ("Pack", "Identity", "StopGradient", "Cast")  # ops whose value is their inputs' values, rearranged


def constant_value(t: Tensor) -> np.ndarray | None:
    """The value of ``t`` if it is known at graph-construction time, else None.

    Evaluated children first with an explicit stack, so a chain of any length (5,000 identities)
    raises no RecursionError.
    """
    memo: dict[Tensor, np.ndarray | None] = {}
    stack = [t]
    while stack:
        x = stack[-1]
        if x in memo:
            stack.pop()
            continue
        deps = list(x.op.inputs) if x.op.type in _VALUE_THROUGH else []
        pending = [d for d in deps if d not in memo]
        if pending:
            stack.extend(pending)
            continue
        stack.pop()
        memo[x] = _constant_value_of(x, [memo[d] for d in deps])
    return memo[t]


def _constant_value_of(t: Tensor, parts: list[np.ndarray | None]) -> np.ndarray | None:
    """``t``'s static value, given the static values of its inputs when ``t``'s op passes them through."""
    op = t.op
    if op.type == "Const":
        return op.get_attr("value")
    if op.type == "Shape" and op.inputs[0].shape.is_fully_defined():
        return np.array(op.inputs[0].shape.as_list(), dtype=op.outputs[0].dtype.as_numpy_dtype)
    if op.type == "Size" and op.inputs[0].shape.is_fully_defined():
        return np.array(op.inputs[0].shape.num_elements(), dtype=op.outputs[0].dtype.as_numpy_dtype)
    if op.type == "Rank" and op.inputs[0].shape.rank is not None:
        return np.array(op.inputs[0].shape.rank, dtype=np.int32)
    if op.type == "Pack":
        known = [p for p in parts if p is not None]
        if len(known) == len(parts):
            return np.stack(known, axis=op.get_attr("axis"))
    if op.type in ("Identity", "StopGradient"):
        return parts[0]
    if op.type == "Cast":
        v = parts[0]
        return None if v is None else v.astype(op.outputs[0].dtype.as_numpy_dtype)
    return None


def constant_shape(t: Tensor) -> TensorShape:
    """A shape given as a 1-D int tensor, as far as it is known statically (partial Pack/Shape)."""
    if t.shape.rank not in (1, None):  # as TensorFlow: a 0-d "shape" would be read as a 1-d one
        raise ValueError(f"a shape must be a 1-D integer tensor, got {t.name} of shape {t.shape}")
    value = constant_value(t)
    if value is not None:
        return TensorShape([int(d) if d >= 0 else None for d in np.ravel(value)])
    op = t.op
    if op.type == "Shape":
        return op.inputs[0].shape if op.inputs[0].shape.rank is not None else TensorShape(None)
    if op.type == "Pack" and op.get_attr("axis") == 0:
        dims = []
        for x in op.inputs:
            v = constant_value(x)
            dims.append(int(v) if v is not None and int(v) >= 0 else None)
        return TensorShape(dims)
    n = t.shape[0] if t.shape.rank == 1 else None
    return TensorShape(None if n is None else [None] * n)


def name_op_functions(namespace: dict[str, Any]) -> None:
    """Give each op function a module made with a factory (``cos = _unary(...)``) the name it is bound to.

    A factory's inner function is called ``fn`` (``_unary.<locals>.fn``); ``help(cr.cos)``, tracebacks
    and the API reference need ``cos``. Call it at the end of the module with ``globals()``: the first
    name a function is bound to wins, so later aliases (``floor_div = floordiv``) keep the first name.
    """
    module = namespace["__name__"]
    for name, value in list(namespace.items()):
        qualname = getattr(value, "__qualname__", "")
        if callable(value) and getattr(value, "__module__", None) == module and "<locals>" in qualname:
            value.__name__ = value.__qualname__ = name
