"""User-defined ops from a NumPy function: ``@cr.custom_op("ZeroOut")``."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from chainrule.framework.dtypes import as_dtype
from chainrule.framework.graph import Tensor
from chainrule.framework.tensor_shape import TensorShape, as_shape
from chainrule.ops.constant_op import convert_to_tensor
from chainrule.ops.registry import BROADCAST, BatchRule, ExplainRule, JvpRule, apply, register_op
from chainrule.ops.shape_rules import broadcast_shapes


def custom_op(
    op_type: str,
    shape: Any = None,
    dtype: Any = None,
    num_outputs: int = 1,
    stateful: bool = False,
    *,
    elementwise: str | None = None,
    jvp: JvpRule | None = None,
    batch_rule: BatchRule | None = None,
    explain: ExplainRule | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a NumPy function as a new op type and return the function that adds it to a graph.

    Parameters
    ----------
    op_type : the new op's type name (its gradient is registered under it with ``cr.RegisterGradient``).
    shape : static output shape: None (same as the first input), a fixed shape, or a callable
        ``shape(*input_shapes, **attrs)`` returning a shape (a list of them when ``num_outputs > 1``).
    dtype : output dtype: None (the first input's) or a dtype (a list when ``num_outputs > 1``).
    num_outputs : how many arrays the function returns.
    stateful : True when the function is not a pure function of its inputs (never cached or folded).
    elementwise : ``"unary"`` (one input, output of its shape) or ``"broadcast"`` (inputs that
        broadcast, output of the broadcast shape; reverse mode un-broadcasts the gradients): the
        op is then batched by ``cr.vmap`` as itself and followed by the compiler's shape proofs,
        and a unary op's JVP is its registered gradient. None: no such promise.
    jvp : forward-mode rule ``jvp(op, *tangents) -> [tangent per output]`` (default: from the
        gradient, by transposition).
    batch_rule : ``cr.vmap`` rule ``rule(ctx, op, inputs, batched)`` (default: elementwise
        batching, or a loop over the batch).
    explain : how ``cr.explain`` prints it: a function name or ``rule(builder, op, args)``.

    The op is declared like every built-in one (``ops.registry.register_op``); re-running the
    decorator (a notebook cell) replaces the whole declaration.

    Examples
    --------
    TensorFlow's "adding an op" example, ``ZeroOut`` (named ``ZeroOutExample`` here, so that it does
    not replace a ``ZeroOut`` your program declares; the tutorial registers its gradient too):

    >>> @cr.custom_op("ZeroOutExample")
    ... def zero_out(to_zero):
    ...     out = np.zeros_like(to_zero); out.flat[0] = to_zero.flat[0]; return out
    >>> print(cr.Session().run(zero_out(cr.constant([3.0, 4.0]))))
    [3. 0.]
    """

    if elementwise is not None and num_outputs != 1:
        raise ValueError(f"custom_op {op_type!r}: an elementwise op has one output, not {num_outputs}")

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        def out_specs(inputs: list[Tensor], **attrs: Any) -> list[tuple[Any, TensorShape]]:
            if shape is None:
                if not inputs:
                    raise ValueError("needs shape= because it has no inputs to take the shape from")
                if elementwise == BROADCAST:
                    shapes = [broadcast_shapes(*(t.shape for t in inputs))]
                else:
                    shapes = [inputs[0].shape] * num_outputs
            elif callable(shape):
                result = shape(*(t.shape for t in inputs), **attrs)
                shapes = [as_shape(s) for s in result] if num_outputs > 1 else [as_shape(result)]
            else:
                shapes = [as_shape(shape)] * num_outputs
            if dtype is None:
                if not inputs:
                    raise ValueError("needs dtype= because it has no inputs to take the dtype from")
                types = [inputs[0].dtype] * num_outputs
            elif isinstance(dtype, (list, tuple)):
                types = [as_dtype(d) for d in dtype]
            else:
                types = [as_dtype(dtype)] * num_outputs
            return list(zip(types, shapes))

        def kernel(xp: Any, *arrays: Any, **attrs: Any) -> Any:
            attrs.pop("ctx", None)
            attrs.pop("op", None)
            result = fn(*arrays, **attrs)
            return tuple(np.asarray(r) for r in result) if num_outputs > 1 else np.asarray(result)

        # Re-running a notebook cell redefines the op rather than failing.
        register_op(
            op_type,
            kernel,
            out_specs,
            stateful=stateful,
            broadcasts=elementwise == BROADCAST,
            elementwise=elementwise,
            jvp=jvp,
            batch=batch_rule,
            explain=explain,
            replace=True,
        )

        @functools.wraps(fn)
        def build(*inputs: Any, name: str | None = None, **attrs: Any) -> Any:
            tensors = [convert_to_tensor(x) for x in inputs]
            return apply(op_type, *tensors, name=name, **attrs)

        return build

    return decorate
