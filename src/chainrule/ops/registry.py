"""The op registry: one ``OpDef`` per op type, and the gradient registry.

An op is defined once: its kernel (``kernel(xp, *arrays, **attrs)``, written
against the NumPy API so other array modules can run it), its static shape and
dtype rule, and its gradient (built from chainrule ops). ``apply_op`` is the one
place where ops enter a graph; it runs the shape rule and turns a failure into
an error naming the op, its inputs and the user's line.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from chainrule.framework import errors
from chainrule.framework.dtypes import DType
from chainrule.framework.graph import Graph, Operation, Tensor, get_default_graph
from chainrule.framework.source import user_frame
from chainrule.framework.tensor_shape import TensorShape

OutputSpec = tuple[DType, TensorShape]
ShapeRule = Callable[..., Sequence[OutputSpec]]
GradFn = Callable[..., Sequence[Any]]


@dataclass(frozen=True)
class OpDef:
    """Everything chainrule knows about one op type.

    Attributes
    ----------
    name : op type, e.g. ``"Cos"``.
    kernel : ``kernel(xp, *arrays, **attrs)`` returning an array, or a tuple for several outputs.
        Stateful kernels also receive ``ctx`` (the run context) and ``op``.
    infer : ``infer(inputs, **attrs)`` returning ``[(dtype, TensorShape), ...]``; raises
        ValueError (shape) or TypeError (dtype) for bad inputs.
    broadcasts : inputs broadcast against each other, so reverse mode sums each input's
        gradient back to that input's shape (the one place un-broadcasting happens).
    stateful : reads or writes session state (variables, random streams); never cached,
        folded or merged by the compiler.
    jvp : optional forward-mode rule ``jvp(op, *tangents) -> [tangent per output]``.
    """

    name: str
    kernel: Callable[..., Any]
    infer: ShapeRule
    broadcasts: bool = False
    stateful: bool = False
    jvp: Callable[..., Sequence[Any]] | None = None


_OP_DEFS: dict[str, OpDef] = {}
_GRADIENTS: dict[str, GradFn | None] = {}
_BUILTIN_GRADIENTS: set[str] = set()


def register_op(
    name: str,
    kernel: Callable[..., Any],
    infer: ShapeRule,
    grad: GradFn | None | str = "undefined",
    *,
    broadcasts: bool = False,
    stateful: bool = False,
    jvp: Callable[..., Sequence[Any]] | None = None,
    replace: bool = False,
) -> OpDef:
    """Register an op type; ``grad=None`` marks it not differentiable; ``replace`` allows redefinition."""
    if name in _OP_DEFS and not replace:
        raise ValueError(f"Op type '{name}' is already registered.")
    op_def = OpDef(name, kernel, infer, broadcasts, stateful, jvp)
    _OP_DEFS[name] = op_def
    if grad != "undefined":
        _GRADIENTS[name] = grad  # type: ignore[assignment]
        _BUILTIN_GRADIENTS.add(name)
    return op_def


def register_jvp(op_type: str, jvp: Callable[..., Sequence[Any]] | None = None) -> Any:
    """Declare the forward-mode rule ``jvp(op, *input_tangents) -> [tangent per output]`` of a registered op.

    An input tangent is None where it is zero (and for non-float inputs); a rule returns None
    for an output whose tangent is zero. Ops without a rule get their JVP by transposing their
    gradient. Use as ``register_jvp("Cos", fn)`` or as a decorator ``@register_jvp("Cos")``.
    """
    if jvp is None:
        return lambda fn: register_jvp(op_type, fn)
    op_def = get_op_def(op_type)
    _OP_DEFS[op_type] = dataclasses.replace(op_def, jvp=jvp)
    return jvp


def get_op_def(op_type: str) -> OpDef:
    try:
        return _OP_DEFS[op_type]
    except KeyError:
        raise errors.NotFoundError(None, None, f"Op type '{op_type}' is not registered.") from None


def registered_ops() -> dict[str, OpDef]:
    return dict(_OP_DEFS)


class RegisterGradient:
    """Decorator registering ``fn(op, *output_grads) -> [grad per input]`` for an op type.

    Examples
    --------
    >>> @cr.RegisterGradient("ZeroOut")
    ... def _zero_out_grad(op, grad):
    ...     return [...]
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
    op_type = op._attrs.get("_gradient_op_type", op.type)
    try:
        return _GRADIENTS[op_type]
    except KeyError:
        raise LookupError(
            f"No gradient defined for operation {op.describe()}\n"
            f"Register one with @cr.RegisterGradient('{op_type}') or mark it cr.NotDifferentiable('{op_type}')."
        ) from None


def _graph_for(inputs: Sequence[Tensor]) -> Graph:
    graph = get_default_graph()
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
) -> Operation:
    """Add one op of a registered type to the graph of its inputs (or the default graph)."""
    op_def = get_op_def(op_type)
    attrs = attrs or {}
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op_type}: input {i} must be a cr.Tensor, got {type(t).__name__}")
    try:
        specs = op_def.infer(list(inputs), **attrs)
    except (ValueError, TypeError, IndexError) as e:
        where = user_frame(2)
        cls = errors.InvalidDTypeError if isinstance(e, TypeError) else errors.InvalidArgumentError
        msg = f"{op_type}{' ' + repr(name) if name else ''}: {e}\n  inputs: {describe_inputs(inputs)}"
        if where:
            msg += f"\n  created at {where}"
        raise cls(None, None, msg) from None
    return _graph_for(inputs).create_op(op_type, inputs, specs, attrs, name, user_frame(2))


def apply(op_type: str, *inputs: Tensor, name: str | None = None, **attrs: Any) -> Any:
    """``apply_op`` returning the single output tensor, or the tuple of outputs."""
    op = apply_op(op_type, inputs, attrs, name)
    return op.outputs[0] if len(op.outputs) == 1 else op.outputs


def constant_value(t: Tensor) -> np.ndarray | None:
    """The value of ``t`` if it is known at graph-construction time, else None."""
    op = t.op
    if op.type == "Const":
        return op._attrs["value"]
    if op.type == "Shape" and op.inputs[0].shape.is_fully_defined():
        return np.array(op.inputs[0].shape.as_list(), dtype=op.outputs[0].dtype.as_numpy_dtype)
    if op.type == "Size" and op.inputs[0].shape.is_fully_defined():
        return np.array(op.inputs[0].shape.num_elements(), dtype=op.outputs[0].dtype.as_numpy_dtype)
    if op.type == "Rank" and op.inputs[0].shape.rank is not None:
        return np.array(op.inputs[0].shape.rank, dtype=np.int32)
    if op.type == "Pack":
        parts = [constant_value(x) for x in op.inputs]
        if all(p is not None for p in parts):
            return np.stack(parts, axis=op._attrs["axis"])
    if op.type in ("Identity", "StopGradient"):
        return constant_value(op.inputs[0])
    if op.type == "Cast":
        v = constant_value(op.inputs[0])
        return None if v is None else v.astype(op.outputs[0].dtype.as_numpy_dtype)
    return None


def constant_shape(t: Tensor) -> TensorShape:
    """A shape given as a 1-D int tensor, as far as it is known statically (partial Pack/Shape)."""
    value = constant_value(t)
    if value is not None:
        return TensorShape([int(d) if d >= 0 else None for d in np.ravel(value)])
    op = t.op
    if op.type == "Shape":
        return op.inputs[0].shape if op.inputs[0].shape.rank is not None else TensorShape(None)
    if op.type == "Pack" and op._attrs["axis"] == 0:
        dims = []
        for x in op.inputs:
            v = constant_value(x)
            dims.append(int(v) if v is not None and int(v) >= 0 else None)
        return TensorShape(dims)
    n = t.shape[0] if t.shape.rank == 1 else None
    return TensorShape(None if n is None else [None] * n)
