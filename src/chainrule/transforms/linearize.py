"""``cr.linearize`` (JAX's): the output of a function and its Jacobian-vector product at that point.

On NumPy arrays the graph (forward, and the forward-mode tangent part) is built once per
signature and kept with the function, as for ``cr.vjp``: ``linearize`` runs the forward part
once, keeping the values the tangent part reads (its residuals), and each call of the returned
``f_jvp`` runs only the tangent part (a :class:`~chainrule.transforms.function.LinearProgram`).
On tensors (or inside a trace) it builds the ops inline.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from chainrule.autodiff.forward import forward_gradients
from chainrule.framework.graph import Tensor
from chainrule.ops import array_ops
from chainrule.ops.constant_op import placeholder
from chainrule.transforms import pytree
from chainrule.transforms.api import (
    _flat_xs,
    _float_outputs,
    _fn_name,
    _like_primal,
    _match,
    _run_forward_part,
    _static_dims,
    _wrap_args,
)
from chainrule.transforms.function import (
    LinearProgram,
    is_tensor_like,
    is_tracing,
    register_program,
    to_user,
)


def _tangent_leaves(parts: list[tuple[Any, list[Tensor]]], tangents: tuple[Any, ...], what: str) -> list[Any]:
    if len(tangents) != len(parts):
        raise TypeError(f"{what}: f_jvp takes {len(parts)} tangents (one per primal), got {len(tangents)}")
    return [leaf for (td, _), t in zip(parts, tangents) for leaf in _match(t, td, f"{what}: the tangent")]


def _linearize_inline(fun: Callable[..., Any], primals: tuple[Any, ...], what: str) -> Any:
    new, parts = _wrap_args(primals, range(len(primals)), what)
    out = fun(*new)
    leaves, out_td = pytree.flatten(out)
    ys = _float_outputs(leaves)

    def f_jvp(*tangents: Any) -> Any:
        xs = _flat_xs(parts)
        ts = [_like_primal(t, x, f"{what}: the tangent") for t, x in zip(_tangent_leaves(parts, tangents, what), xs)]
        live = [y for y in ys if y is not None]
        it = iter(forward_gradients(live, xs, ts, unconnected_gradients="zero") if live else [])
        return pytree.unflatten(
            out_td,
            [
                next(it)
                if y is not None
                else array_ops.zeros_like(leaf)
                if is_tensor_like(leaf)
                else np.zeros_like(leaf)
                for leaf, y in zip(leaves, ys)
            ],
        )

    return out, f_jvp


def _linearize_lower(fun: Callable[..., Any], what: str) -> Callable[..., Any]:
    def lower(*primals: Any) -> Any:
        new, parts = _wrap_args(primals, range(len(primals)), what)
        xs = _flat_xs(parts)
        ts = [placeholder(x.dtype, _static_dims(x, what, "input"), name="tangent") for x in xs]
        out = fun(*new)
        leaves, out_td = pytree.flatten(out)
        ys = _float_outputs(leaves)
        live = [y for y in ys if y is not None]
        jvps = (
            [t for t in forward_gradients(live, xs, ts, unconnected_gradients="zero") if t is not None] if live else []
        )
        specs = [(tuple(_static_dims(x, what, "input")), x.dtype.as_numpy_dtype) for x in xs]
        register_program(LinearProgram(ts, list(jvps), meta=(out_td, [y is not None for y in ys], specs, parts)))
        return out

    return lower


def linearize(fun: Callable[..., Any], *primals: Any, backend: Any = None) -> tuple[Any, Callable[..., Any]]:
    """``(fun(*primals), f_jvp)`` with ``f_jvp(*tangents) == cr.jvp(fun, primals, tangents)[1]`` (JAX's).

    ``f_jvp`` takes one tangent per primal, each in that primal's structure, and returns the
    tangent of the output in the output's structure (zeros for integer outputs). It is linear,
    evaluated at ``primals``: each call runs only the forward-mode tangent part of the graph,
    reusing the values the forward run kept.

    Examples
    --------
    >>> y, f_jvp = cr.linearize(lambda x: cr.sin(x) * x, np.array([0.0, 1.0]))
    >>> f_jvp(np.array([1.0, 1.0]))      # cos(x) * x + sin(x)
    array([0.        , 1.38177329])
    """
    what = f"cr.linearize({_fn_name(fun)})"
    if not primals:
        raise TypeError(f"{what}: needs at least one primal argument")
    if is_tracing() or any(is_tensor_like(x) for x in pytree.flatten(primals)[0]):
        return _linearize_inline(fun, primals, what)
    concrete, dynamic, fetched, out = _run_forward_part(
        fun, "linearize", lambda: _linearize_lower(fun, what), primals, what, backend
    )
    out_td, is_float, specs, parts = concrete.programs[0].meta
    out_leaves = pytree.flatten(out)[0]

    def f_jvp(*tangents: Any) -> Any:
        values = []
        for leaf, (shape, dtype) in zip(_tangent_leaves(parts, tangents, what), specs):
            arr = np.asarray(leaf, dtype=dtype)
            if arr.shape != shape:
                raise ValueError(f"{what}: tangent of shape {arr.shape} for a primal of shape {shape}")
            values.append(arr)
        jvps = iter(concrete.run_linear(0, fetched, values))
        owned = values + [f for f in fetched if isinstance(f, np.ndarray)]  # never hand out a kept residual
        return pytree.unflatten(
            out_td,
            [
                to_user(next(jvps), owned) if f else np.zeros_like(np.asarray(leaf))
                for leaf, f in zip(out_leaves, is_float)
            ],
        )

    return out, f_jvp
