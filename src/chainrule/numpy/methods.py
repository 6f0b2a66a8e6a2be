"""Tensors as ndarrays: the methods and properties NumPy code calls (``x.T``, ``x.sum()``...) and the
operators with NumPy semantics on values traced by the transforms.

``Tensor`` declares these names (framework/graph.py) and calls the implementations installed here
with ``install_operators``, so framework/ stays below this package. Operators: on a tensor traced
by a transform (``cr.grad``, ``cr.vmap``, ``cr.function``... are tracing) the arithmetic and
comparison operators are chainrule.numpy's functions (NumPy's dtype promotion; ``==``/``!=``
elementwise); anywhere else they keep TensorFlow 1.x's rules (``==`` is identity, mixed float
dtypes are an error). Indexing has NumPy's semantics everywhere (it only extends what TF allowed).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from chainrule.framework.graph import install_operators, installed_operators
from chainrule.numpy import arrays, indexing, linear, reductions, ufuncs
from chainrule.numpy.dispatch import as_tensor, np_dtype
from chainrule.ops import math_ops
from chainrule.ops.indexing_ops import getitem as tf_getitem
from chainrule.ops.linalg_ops import matmul as tf_matmul
from chainrule.transforms.function import is_tracing

U = ufuncs.FUNCTIONS


def _shape_args(args: tuple[Any, ...]) -> Any:
    return (
        args[0] if len(args) == 1 and isinstance(args[0], (tuple, list)) or len(args) == 1 and args[0] is None else args
    )


def _astype(
    x: Any, dtype: Any, order: str = "K", casting: str = "unsafe", subok: bool = True, copy: bool = True
) -> Any:
    t = as_tensor(x)
    want = np.dtype(dtype)
    return t if np_dtype(t) == want else math_ops.cast(t, want)


def _flatten(x: Any, order: str = "C") -> Any:
    return arrays.ravel(x, order)


def _reshape(x: Any, *shape: Any, order: str = "C", **kwargs: Any) -> Any:
    if "shape" in kwargs:
        shape = (kwargs.pop("shape"),)
    return arrays.reshape(x, _shape_args(shape), order=order, **kwargs)


def _transpose(x: Any, *axes: Any) -> Any:
    return arrays.transpose(x, None if not axes else _shape_args(axes))


def _squeeze(x: Any, axis: Any = None) -> Any:
    return arrays.squeeze(x, axis)


METHODS: dict[str, Callable[..., Any]] = {
    "T": lambda x: arrays.transpose(x),
    "mT": lambda x: arrays.swapaxes(x, -1, -2),
    "real": ufuncs.real,
    "imag": ufuncs.imag,
    "sum": reductions.sum,
    "mean": reductions.mean,
    "max": reductions.max,
    "min": reductions.min,
    "prod": reductions.prod,
    "std": reductions.std,
    "var": reductions.var,
    "all": reductions.all,
    "any": reductions.any,
    "argmax": reductions.argmax,
    "argmin": reductions.argmin,
    "argsort": arrays.argsort,
    "cumsum": reductions.cumsum,
    "cumprod": reductions.cumprod,
    "reshape": _reshape,
    "transpose": _transpose,
    "swapaxes": arrays.swapaxes,
    "ravel": arrays.ravel,
    "flatten": _flatten,
    "squeeze": _squeeze,
    "dot": linear.dot,
    "astype": _astype,
    "clip": ufuncs.clip,
    "round": ufuncs.around,
    "conj": U["conjugate"],
    "repeat": arrays.repeat,
    "take": indexing.take,
    "diagonal": arrays.diagonal,
    "trace": arrays.trace,
    "copy": arrays.copy,
}


def _ndarray_method(method: str, x: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    return METHODS[method](x, *args, **kwargs)


def _traced(numpy_op: Callable[..., Any], graph_op: Callable[..., Any]) -> Callable[..., Any]:
    """``numpy_op`` on values traced by a transform, ``graph_op`` (TensorFlow's rules) elsewhere."""

    def operator(*args: Any) -> Any:
        return numpy_op(*args) if is_tracing() else graph_op(*args)

    return operator


def _identity_eq(x: Any, y: Any) -> Any:
    return NotImplemented


def install() -> None:
    """Give ``Tensor`` its ndarray methods, NumPy indexing and (on traced values) NumPy operators."""
    tf = installed_operators()
    install_operators(
        {
            "ndarray_method": _ndarray_method,
            "getitem": lambda x, key: indexing.getitem(x, key) if not _basic_fast(key) else tf_getitem(x, key),
            "eq": _traced(U["equal"], _identity_eq),
            "ne": _traced(U["not_equal"], _identity_eq),
            "add": _traced(U["add"], tf["add"]),
            "sub": _traced(U["subtract"], tf["sub"]),
            "mul": _traced(U["multiply"], tf["mul"]),
            "truediv": _traced(U["true_divide"], tf["truediv"]),
            "floordiv": _traced(U["floor_divide"], tf["floordiv"]),
            "mod": _traced(U["mod"], tf["mod"]),
            "pow": _traced(U["power"], tf["pow"]),
            "lt": _traced(U["less"], tf["lt"]),
            "le": _traced(U["less_equal"], tf["le"]),
            "gt": _traced(U["greater"], tf["gt"]),
            "ge": _traced(U["greater_equal"], tf["ge"]),
            "matmul": _traced(linear.matmul, tf.get("matmul", tf_matmul)),
        }
    )


def _basic_fast(key: Any) -> bool:
    """A key of plain ints and slices (the common case), which needs no advanced-indexing analysis."""
    if isinstance(key, (int, slice)) and not isinstance(key, bool):
        return True
    return isinstance(key, tuple) and all(
        isinstance(k, slice) or (type(k) is int) or k is None or k is Ellipsis for k in key
    )
