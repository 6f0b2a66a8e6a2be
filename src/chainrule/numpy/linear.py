"""NumPy's products on tensors: dot, matmul, inner, outer, tensordot, einsum, kron, cross, vdot."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from chainrule.framework.graph import Tensor
from chainrule.numpy.dispatch import as_tensor, check_defaults, contains_symbolic, result_dtype, unsupported_argument
from chainrule.ops import array_ops, linalg_ops, math_ops, reduction_ops, tf1_linalg


def _pair(a: Any, b: Any) -> tuple[Tensor, Tensor]:
    d = result_dtype(a, b)
    return as_tensor(a, d), as_tensor(b, d)


def _rank(t: Tensor, what: str) -> int:
    if t.shape.rank is None:
        raise unsupported_argument(what, "a tensor of unknown rank", t.shape)
    return t.shape.rank


def _known(t: Tensor, what: str) -> list[int]:
    dims = t.shape.as_list() if t.shape.rank is not None else [None]
    if any(d is None for d in dims):
        raise unsupported_argument(what, "a tensor whose shape is not known statically", t.shape)
    return [int(d) for d in dims if d is not None]


def tensordot(a: Any, b: Any, axes: Any = 2) -> Any:
    """NumPy's ``tensordot``."""
    if not contains_symbolic([a, b]):
        return np.tensordot(a, b, axes)
    ta, tb = _pair(a, b)
    if isinstance(axes, (int, np.integer)):
        n = int(axes)
        ra = _rank(ta, "tensordot")
        axes = [list(range(ra - n, ra)), list(range(n))]
    else:
        axes = [list(np.atleast_1d(axes[0])), list(np.atleast_1d(axes[1]))]
        axes = [[int(x) for x in axes[0]], [int(x) for x in axes[1]]]
    return linalg_ops.tensordot(ta, tb, axes)


def dot(a: Any, b: Any, out: Any = None) -> Any:
    """NumPy's ``dot``: a product for scalars, the inner product of vectors, else a sum over the last
    axis of ``a`` and the second-to-last of ``b``."""
    if not contains_symbolic([a, b]):
        return np.dot(a, b, out)
    check_defaults("dot", {"out": out}, {"out": None})
    ta, tb = _pair(a, b)
    ra, rb = _rank(ta, "dot"), _rank(tb, "dot")
    if ra == 0 or rb == 0:
        return ta * tb
    if rb == 1:
        return linalg_ops.tensordot(ta, tb, [[ra - 1], [0]])
    return linalg_ops.tensordot(ta, tb, [[ra - 1], [rb - 2]])


def matmul(x1: Any, x2: Any, /, out: Any = None, **kwargs: Any) -> Any:
    """NumPy's ``matmul`` (``@``): batched; a 1-D operand is a row or column vector, removed after."""
    if not contains_symbolic([x1, x2]):
        return np.matmul(x1, x2, out=out, **kwargs)
    check_defaults("matmul", {"out": out, **kwargs}, {"out": None})
    ta, tb = _pair(x1, x2)
    ra, rb = _rank(ta, "matmul"), _rank(tb, "matmul")
    if ra == 0 or rb == 0:
        raise ValueError("matmul: Input operand does not have enough dimensions")
    if ra == 1 and rb == 1:
        return reduction_ops.reduce_sum(ta * tb)
    if ra == 1:
        return array_ops.squeeze(linalg_ops.matmul(array_ops.expand_dims(ta, 0), tb), [-2])
    if rb == 1:
        return array_ops.squeeze(linalg_ops.matmul(ta, array_ops.expand_dims(tb, -1)), [-1])
    return linalg_ops.matmul(ta, tb)


def inner(a: Any, b: Any, /) -> Any:
    if not contains_symbolic([a, b]):
        return np.inner(a, b)
    ta, tb = _pair(a, b)
    ra, rb = _rank(ta, "inner"), _rank(tb, "inner")
    if ra == 0 or rb == 0:
        return ta * tb
    return linalg_ops.tensordot(ta, tb, [[ra - 1], [rb - 1]])


def vdot(a: Any, b: Any, /) -> Any:
    if not contains_symbolic([a, b]):
        return np.vdot(a, b)
    ta, tb = _pair(a, b)
    if ta.dtype.is_complex:
        ta = math_ops.conj(ta)
    return reduction_ops.reduce_sum(array_ops.reshape(ta, [-1]) * array_ops.reshape(tb, [-1]))


def outer(a: Any, b: Any, out: Any = None) -> Any:
    if not contains_symbolic([a, b]):
        return np.outer(a, b, out)
    ta, tb = _pair(a, b)
    return array_ops.reshape(ta, [-1, 1]) * array_ops.reshape(tb, [1, -1])


def einsum(*operands: Any, out: Any = None, optimize: Any = False, **kwargs: Any) -> Any:
    """NumPy's ``einsum`` with a subscripts string (explicit or implicit output)."""
    if not contains_symbolic(list(operands)):
        return np.einsum(*operands, out=out, optimize=optimize, **kwargs)
    check_defaults("einsum", {"out": out, **kwargs}, {"out": None})
    subscripts, *arrays = operands
    if not isinstance(subscripts, str):
        raise unsupported_argument("einsum", "the sublist form", type(subscripts).__name__)
    d = result_dtype(*arrays)
    tensors = [as_tensor(x, d) for x in arrays]
    spec = subscripts.replace(" ", "")
    if "->" not in spec:
        letters = [c for c in spec.replace(",", "").replace(".", "") if c.isalpha()]
        spec += (
            "->" + ("..." if "..." in spec else "") + "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
        )
    return linalg_ops.einsum(spec, *tensors)


def kron(a: Any, b: Any) -> Any:
    """NumPy's ``kron`` (operands of any ranks)."""
    if not contains_symbolic([a, b]):
        return np.kron(a, b)
    ta, tb = _pair(a, b)
    ra, rb = _rank(ta, "kron"), _rank(tb, "kron")
    n = max(ra, rb)
    da = [1] * (n - ra) + _known(ta, "kron")
    db = [1] * (n - rb) + _known(tb, "kron")
    left = array_ops.reshape(ta, [v for d in da for v in (d, 1)])
    right = array_ops.reshape(tb, [v for d in db for v in (1, d)])
    return array_ops.reshape(left * right, [x * y for x, y in zip(da, db)])


def cross(a: Any, b: Any, axisa: int = -1, axisb: int = -1, axisc: int = -1, axis: Any = None) -> Any:
    """NumPy's ``cross`` of 3-vectors along the last axis."""
    if not contains_symbolic([a, b]):
        return np.cross(a, b, axisa, axisb, axisc, axis)
    if axis not in (None, -1) or (axisa, axisb, axisc) != (-1, -1, -1):
        raise unsupported_argument("cross", "axis", axis if axis is not None else (axisa, axisb, axisc))
    ta, tb = _pair(a, b)
    shape = np.broadcast_shapes(tuple(_known(ta, "cross")), tuple(_known(tb, "cross")))
    return tf1_linalg.cross(array_ops.broadcast_to(ta, list(shape)), array_ops.broadcast_to(tb, list(shape)))


FUNCTIONS: dict[str, Callable[..., Any]] = {
    f.__name__: f for f in (tensordot, dot, matmul, inner, vdot, outer, einsum, kron, cross)
}
