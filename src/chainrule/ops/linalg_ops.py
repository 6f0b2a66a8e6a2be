"""Linear algebra: matmul, tensordot, einsum, and ``cr.linalg`` (inv, solve, cholesky, det, ...).

Every op works on the last two axes ("matrices") and batches over the leading ones. Batch
dims broadcast (NumPy matmul semantics): those ops are registered with ``broadcasts=True``,
because each input's gradient comes out with the *broadcast* batch shape and reverse mode's
``SumToShape`` (which sums leading and stretched size-1 axes) is exactly the reduction needed;
the matrix axes themselves always match, so it never touches them.
"""

from __future__ import annotations

import functools
import math
import string
from collections import Counter
from typing import Any

import numpy as np

from chainrule.framework import dtypes
from chainrule.framework.graph import Tensor, get_default_graph, install_operators
from chainrule.framework.tensor_shape import TensorShape
from chainrule.ops import array_ops, indexing_ops, math_ops, reduction_ops  # noqa: F401 - math_ops installs the Tensor operators used here
from chainrule.ops.axes import deprecated_alias
from chainrule.ops.constant_op import constant, convert_n, convert_to_tensor
from chainrule.ops.jvp_forms import Tangent, linear, multilinear, sum_tangents
from chainrule.ops.native import helper, index, loop_nest, np_type, static_dims
from chainrule.ops.registry import apply, constant_value, register_op
from chainrule.ops.shape_rules import FLOAT, NUMERIC, NUMERIC_OR_COMPLEX, broadcast_shapes, check_kind, common_dtype

__all__ = [
    "eigh",
    "eigvalsh",
    "self_adjoint_eig",
    "self_adjoint_eigvals",
    "matmul",
    "tensordot",
    "einsum",
    "matrix_transpose",
    "adjoint",
    "inv",
    "solve",
    "triangular_solve",
    "cholesky",
    "cholesky_solve",
    "det",
    "slogdet",
    "logdet",
    "trace",
    "diag",
    "diag_part",
    "set_diag",
    "band_part",
    "eye",
    "matrix_inverse",
    "matrix_determinant",
    "norm",
    "singular_values",
]


# --- shared shape helpers --------------------------------------------------------------------
def _matrix_dims(t: Tensor, what: str) -> tuple[TensorShape, int | None, int | None]:
    """(batch shape, rows, cols) of a tensor that must have rank >= 2."""
    dims = t.shape.dims
    if dims is None:
        return TensorShape(None), None, None
    if len(dims) < 2:
        raise ValueError(f"{what} {t.name} must have rank >= 2 (a matrix or a batch of matrices), got shape {t.shape}")
    return TensorShape(dims[:-2]), dims[-2], dims[-1]


def _same(a: int | None, b: int | None) -> bool:
    return a is None or b is None or a == b


def _either(a: int | None, b: int | None) -> int | None:
    return a if a is not None else b


def _concat(batch: TensorShape, *dims: int | None) -> TensorShape:
    return TensorShape(None) if batch.dims is None else TensorShape([*batch.dims, *dims])


def _square(t: Tensor, what: str = "input") -> tuple[TensorShape, int | None]:
    batch, m, n = _matrix_dims(t, what)
    if not _same(m, n):
        raise ValueError(f"{what} {t.name} must be a square matrix (or a batch of them), got shape {t.shape}")
    return batch, _either(m, n)


def _broadcast_batch(xp: Any, a: Any, b: Any) -> tuple[Any, Any]:
    """Broadcast the batch dims of two stacks of matrices against each other."""
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    return xp.broadcast_to(a, batch + a.shape[-2:]), xp.broadcast_to(b, batch + b.shape[-2:])


def _expand2(t: Tensor) -> Tensor:
    """``t[..., None, None]``: a batch of scalars as a batch of 1x1 matrices."""
    return indexing_ops.getitem(t, (Ellipsis, None, None))


# --- matrix_transpose ------------------------------------------------------------------------
register_op(
    "LinalgMatrixTranspose",
    lambda xp, x: xp.swapaxes(x, -1, -2),
    lambda inputs: [(inputs[0].dtype, _swap_last(inputs[0]))],
    lambda op, g: [matrix_transpose(g)],
    jvp=linear,
)


def _swap_last(t: Tensor) -> TensorShape:
    batch, m, n = _matrix_dims(t, "input")
    return _concat(batch, n, m)


def matrix_transpose(a: Any, name: str | None = None) -> Tensor:
    """Swap the last two axes of ``a`` (rank >= 2); a ``Transpose`` when the rank is known."""
    a = convert_to_tensor(a)
    rank = a.shape.rank
    if rank is not None and rank >= 2:
        return array_ops.transpose(a, [*range(rank - 2), rank - 1, rank - 2], name=name or "matrix_transpose")
    return apply("LinalgMatrixTranspose", a, name=name or "matrix_transpose")


def adjoint(matrix: Any, name: str | None = None) -> Tensor:
    """The conjugate transpose of the last two axes; for real dtypes, ``matrix_transpose``."""
    return matrix_transpose(matrix, name=name or "adjoint")


# --- matmul ----------------------------------------------------------------------------------
def _matmul_infer(inputs: list[Tensor], transpose_a: bool, transpose_b: bool) -> list[Any]:
    a, b = inputs
    dtype = common_dtype(inputs)
    check_kind("MatMul", a, NUMERIC_OR_COMPLEX)
    batch_a, m, k = _matrix_dims(a, "a")
    batch_b, k2, n = _matrix_dims(b, "b")
    if transpose_a:
        m, k = k, m
    if transpose_b:
        k2, n = n, k2
    if not _same(k, k2):
        raise ValueError(
            f"inner dimensions do not match: a has shape {a.shape}{' (transposed)' if transpose_a else ''} "
            f"and b has shape {b.shape}{' (transposed)' if transpose_b else ''}: {k} != {k2}"
        )
    return [(dtype, _concat(broadcast_shapes(batch_a, batch_b), m, n))]


def _matmul_kernel(xp: Any, a: Any, b: Any, transpose_a: bool, transpose_b: bool) -> Any:
    if transpose_a:
        a = xp.swapaxes(a, -1, -2)
    if transpose_b:
        b = xp.swapaxes(b, -1, -2)
    return xp.matmul(a, b)


def _matmul_grad(op: Any, g: Tensor) -> list[Tensor]:
    # Complex: adjoints where real matrices transpose (conj is the identity for real ones).
    a, b = (math_ops.conj(t) for t in op.inputs)
    ta, tb = op.get_attr("transpose_a"), op.get_attr("transpose_b")
    if not ta and not tb:
        return [matmul(g, b, transpose_b=True), matmul(a, g, transpose_a=True)]
    if not ta and tb:
        return [matmul(g, b), matmul(g, a, transpose_a=True)]
    if ta and not tb:
        return [matmul(b, g, transpose_b=True), matmul(a, g)]
    return [matmul(b, g, transpose_a=True, transpose_b=True), matmul(g, a, transpose_a=True, transpose_b=True)]


def _matmul_emit(em: Any, node: Any, args: list[str], out: str | None) -> str:
    a, b = args
    if node.attrs.get("transpose_a"):
        a = f"{em.ufunc('swapaxes')}({a}, -1, -2)"
    if node.attrs.get("transpose_b"):
        b = f"{em.ufunc('swapaxes')}({b}, -1, -2)"
    return f"{em.ufunc('matmul')}({a}, {b}{', out=' + out if out else ''})"


# Products up to this many multiply-adds lower into native code (BLAS runs them on one thread);
# larger ones run NumPy's matmul: Numba calls SciPy's BLAS, whose threads and NumPy's would compete
# (the MLP's 1797x64x128 products took 30 ms inside Numba against 1 ms in NumPy).
_NATIVE_MATMUL_MAX_FLOPS = 1 << 16


def _matmul_explain(b: Any, op: Any, args: list[Any]) -> Any:
    x, y = args
    if op.get_attr("transpose_a"):
        x = b.func("transpose", x)
    if op.get_attr("transpose_b"):
        y = b.func("transpose", y)
    return b.func("matmul", x, y)


_BLAS_KINDS = ("float32", "float64", "complex64", "complex128")


def _matmul_lower(lw: Any, node: Any, args: list[str]) -> str | None:
    """``np.dot`` (BLAS) of the two matrices, in a loop over the broadcast batch dims when there are some.

    Numba's ``np.dot`` covers 2-D float and complex matrices only: integer matrices get explicit
    loops; integer batches and batches of unknown size run the kernel.
    """
    a, b = node.inputs
    ta, tb = bool(node.attrs.get("transpose_a")), bool(node.attrs.get("transpose_b"))
    dt = np_type(node.out.dtype)
    if a.shape.rank is None or b.shape.rank is None or dt is None:
        return None
    left, right = ("x.T" if ta else "x"), ("y.T" if tb else "y")
    if node.out.dtype.name not in _BLAS_KINDS:
        if a.shape.rank != 2 or b.shape.rank != 2:
            return None
        # Integers: no BLAS; accumulated in the output's dtype (wrapping as NumPy's int matmul does).
        body = [
            f"p = {left}",
            f"q = {right}",
            f"out = np.zeros((p.shape[0], q.shape[1]), {dt})",
            "for i in range(p.shape[0]):",
            "    for k in range(p.shape[1]):",
            "        pik = p[i, k]",
            "        for j in range(q.shape[1]):",
            f"            out[i, j] = {dt}(out[i, j] + pik * q[k, j])",
            "return out",
        ]
        return helper(lw, "int_matmul", ["x", "y"], body, args)
    out, a_dims, b_dims = static_dims(node.out), static_dims(a), static_dims(b)
    if out is None or a_dims is None or math.prod(out) * a_dims[-2 if ta else -1] > _NATIVE_MATMUL_MAX_FLOPS:
        return None
    if a.shape.rank == b.shape.rank == 2:
        return helper(lw, "matmul", ["x", "y"], [f"return np.dot({left}, {right})"], args)
    if b_dims is None:
        return None
    batch = out[:-2]
    v = [f"i{k}" for k in range(len(batch))]

    def operand(dims: tuple[int, ...], name: str) -> str:
        lead = len(batch) - (len(dims) - 2)  # batch dims the operand lacks (broadcast)
        picks = ["0" if dims[k - lead] == 1 and batch[k] != 1 else v[k] for k in range(lead, len(batch))]
        sub = f"{name}[{', '.join(picks)}]" if picks else name
        return f"np.ascontiguousarray({sub}.T)" if (ta if name == "x" else tb) else f"np.ascontiguousarray({sub})"

    body = [f"out = np.empty({out}, {dt})"]
    body += [
        line[4:]
        for line in loop_nest(batch, v, [f"out{index(v)} = np.dot({operand(a_dims, 'x')}, {operand(b_dims, 'y')})"])
    ]
    return helper(lw, "batch_matmul", ["x", "y"], [*body, "return out"], args)


register_op(
    "MatMul",
    _matmul_kernel,
    _matmul_infer,
    _matmul_grad,
    broadcasts=True,
    emit=_matmul_emit,
    emits_into=True,
    fresh_output=True,
    explain=_matmul_explain,
    jvp=multilinear,
    lower={"numba": _matmul_lower},
)


def matmul(
    a: Any,
    b: Any,
    transpose_a: bool = False,
    transpose_b: bool = False,
    adjoint_a: bool = False,
    adjoint_b: bool = False,
    name: str | None = None,
) -> Tensor:
    """Matrix product of the last two axes of ``a`` and ``b`` (rank >= 2), batched over the rest.

    Batch dims broadcast with NumPy rules; ``transpose_*`` (or, for real dtypes, the same
    ``adjoint_*``) transposes an operand's last two axes before multiplying.
    """
    a, b = convert_n([a, b])
    return apply(
        "MatMul",
        a,
        b,
        name=name,
        transpose_a=bool(transpose_a or adjoint_a),
        transpose_b=bool(transpose_b or adjoint_b),
    )


install_operators({"matmul": lambda a, b: matmul(a, b)})  # a @ b


# --- einsum ----------------------------------------------------------------------------------
EINSUM_LETTERS = string.ascii_letters  # the subscripts an einsum equation may use


def _check_term(term: str, equation: str, where: str) -> None:
    rest = term.replace("...", "", 1)
    if "." in rest:
        raise ValueError(
            f"einsum equation {equation!r}: '.' may only appear as one '...' per operand ({where} {term!r})"
        )
    bad = [c for c in rest if c not in EINSUM_LETTERS]
    if bad:
        raise ValueError(
            f"einsum equation {equation!r}: invalid subscript {bad[0]!r} in {where} {term!r} (use letters)"
        )


@functools.lru_cache(maxsize=1024)
def parse_einsum(equation: str, ranks: tuple[int | None, ...]) -> tuple[tuple[str, ...], str] | None:
    """Subscripts of each operand and of the output with ``...`` spelled out as unused letters.

    None when an operand with ``...`` has an unknown rank (the output rank is then unknown too).
    Raises ValueError for a malformed equation or one that does not fit the operands' ranks.
    """
    eq = equation.replace(" ", "")
    if eq.count("->") > 1:
        raise ValueError(f"einsum equation {equation!r} has more than one '->'")
    lhs, out = eq.split("->") if "->" in eq else (eq, None)
    terms = lhs.split(",")
    if len(terms) != len(ranks):
        raise ValueError(f"einsum equation {equation!r} names {len(terms)} operand(s) but {len(ranks)} were given")
    for i, term in enumerate(terms):
        _check_term(term, equation, f"operand {i}")
    if out is not None:
        _check_term(out, equation, "output")
    ell_ranks = []
    for i, (term, r) in enumerate(zip(terms, ranks, strict=False)):
        named = len(term.replace("...", ""))
        if "..." in term:
            if r is None:
                return None
            if r < named:
                raise ValueError(
                    f"einsum equation {equation!r}: operand {i} has rank {r} but '{term}' names {named} axes"
                )
            ell_ranks.append(r - named)
        elif r is not None and r != named:
            raise ValueError(f"einsum equation {equation!r}: operand {i} has rank {r} but '{term}' names {named} axes")
    free = [c for c in EINSUM_LETTERS if c not in eq]
    n_ell = max(ell_ranks, default=0)
    if n_ell > len(free):
        raise ValueError(f"einsum equation {equation!r}: too many axes under '...'")
    ell = "".join(free[:n_ell])
    subs = []
    for term, r in zip(terms, ranks, strict=False):
        k = r - len(term.replace("...", "")) if "..." in term else 0  # type: ignore[operator]
        subs.append(term.replace("...", ell[n_ell - k :]))  # right-aligned, as broadcasting is
    if out is None:
        counts = Counter("".join(t.replace("...", "") for t in terms))
        out_subs = (ell if any("..." in t for t in terms) else "") + "".join(
            sorted(c for c, n in counts.items() if n == 1)
        )
    else:
        named_in = set("".join(subs))
        for c in out.replace("...", ""):
            if c not in named_in:
                raise ValueError(f"einsum equation {equation!r}: output subscript {c!r} does not appear in any operand")
        if len(set(out.replace("...", ""))) != len(out.replace("...", "")):
            raise ValueError(f"einsum equation {equation!r}: the output repeats a subscript")
        if "..." not in out and n_ell:
            raise ValueError(f"einsum equation {equation!r}: operands have '...' axes, so the output needs '...' too")
        out_subs = out.replace("...", ell)
    return tuple(subs), out_subs


def _einsum_infer(inputs: list[Tensor], equation: str) -> list[Any]:
    if not inputs:
        raise ValueError("einsum needs at least one operand")
    dtype = common_dtype(inputs)
    for t in inputs:
        check_kind("Einsum", t, NUMERIC)
    parsed = parse_einsum(equation, tuple(t.shape.rank for t in inputs))
    if parsed is None:
        return [(dtype, TensorShape(None))]
    subs, out = parsed
    sizes: dict[str, set[int | None]] = {}
    for i, (t, s) in enumerate(zip(inputs, subs, strict=False)):
        dims = t.shape.dims if t.shape.dims is not None else [None] * len(s)
        seen: dict[str, int | None] = {}
        for c, d in zip(s, dims, strict=False):
            if c in seen and not _same(seen[c], d):
                raise ValueError(
                    f"einsum {equation!r}: operand {i} repeats subscript {c!r} on axes of sizes {seen[c]} and {d}"
                )
            seen[c] = _either(seen.get(c), d)
            sizes.setdefault(c, set()).add(d)
    dims_out: list[int | None] = []
    for c in out:
        known = {d for d in sizes[c] if d is not None and d != 1}
        if len(known) > 1:
            raise ValueError(f"einsum {equation!r}: subscript {c!r} has incompatible sizes {sorted(known)}")
        dims_out.append(known.pop() if known else (None if None in sizes[c] else 1))
    for c, ds in sizes.items():
        known = {d for d in ds if d is not None and d != 1}
        if len(known) > 1:
            raise ValueError(f"einsum {equation!r}: subscript {c!r} has incompatible sizes {sorted(known)}")
    return [(dtype, TensorShape(dims_out))]


def _einsum_kernel(xp: Any, *arrays: Any, equation: str) -> Any:
    subs, out = parse_einsum(equation, tuple(a.ndim for a in arrays))  # type: ignore[misc]
    # Size-1 axes broadcast against the same subscript elsewhere (that is what '...' means);
    # broadcast them explicitly rather than rely on einsum doing it.
    size: dict[str, int] = {}
    for a, s in zip(arrays, subs, strict=False):
        for c, d in zip(s, a.shape, strict=False):
            if d != 1:
                size[c] = d
    arrays = tuple(
        xp.broadcast_to(a, tuple(size.get(c, 1) if d == 1 else d for c, d in zip(s, a.shape, strict=False)))
        for a, s in zip(arrays, subs, strict=False)
    )
    result = xp.einsum(",".join(subs) + "->" + out, *arrays, optimize=len(arrays) > 1)
    return xp.asarray(result)


def _einsum_grad(op: Any, g: Tensor) -> list[Tensor | None]:
    # d/dx_i: contract the output gradient with every other operand onto x_i's subscripts.
    # Subscripts found only in x_i are supplied by multiplying with ones_like(x_i); repeated
    # subscripts (diagonals, traces) are computed on the distinct ones and then written back
    # onto the diagonal by LinalgDiagEmbed. Broadcast size-1 axes are summed by reverse mode.
    parsed = parse_einsum(op.get_attr("equation"), tuple(t.shape.rank for t in op.inputs))
    if parsed is None:
        raise ValueError(f"the gradient of {op.name} needs the ranks of the operands that use '...'")
    subs, out = parsed
    grads: list[Tensor | None] = []
    for i, x in enumerate(op.inputs):
        if not x.dtype.is_floating:
            grads.append(None)
            continue
        distinct = "".join(dict.fromkeys(subs[i]))
        terms = [out] + [s for j, s in enumerate(subs) if j != i]
        operands = [g] + [t for j, t in enumerate(op.inputs) if j != i]
        if any(c not in "".join(terms) for c in distinct):
            terms.append(subs[i])
            operands.append(array_ops.ones_like(x))
        dx = einsum(",".join(terms) + "->" + distinct, *operands)
        if distinct != subs[i]:
            dx = apply("LinalgDiagEmbed", dx, subs_in=distinct, subs_out=subs[i])
        grads.append(dx)
    return grads


register_op("Einsum", _einsum_kernel, _einsum_infer, _einsum_grad, broadcasts=True, jvp=multilinear)


def _diag_embed_kernel(xp: Any, u: Any, subs_in: str, subs_out: str) -> Any:
    size = dict(zip(subs_in, u.shape, strict=False))
    out = xp.zeros(tuple(size[c] for c in subs_out), dtype=u.dtype)
    xp.einsum(f"{subs_out}->{subs_in}", out)[...] = u  # a writable view of the diagonal
    return out


def _diag_embed_infer(inputs: list[Tensor], subs_in: str, subs_out: str) -> list[Any]:
    (u,) = inputs
    if u.shape.dims is None:
        return [(u.dtype, TensorShape([None] * len(subs_out)))]
    size = dict(zip(subs_in, u.shape.dims, strict=False))
    return [(u.dtype, TensorShape(size[c] for c in subs_out))]


register_op(
    "LinalgDiagEmbed",
    _diag_embed_kernel,
    _diag_embed_infer,
    lambda op, g: [einsum(f"{op.get_attr('subs_out')}->{op.get_attr('subs_in')}", g)],
    jvp=linear,
)


def einsum(equation: str, *inputs: Any, name: str | None = None) -> Tensor:
    """Einstein summation over the operands, with NumPy's equation syntax.

    Supports explicit (``"ij,jk->ik"``) and implicit (``"ij,jk"``: the subscripts that appear
    once, in alphabetical order) outputs, ``...`` for broadcast batch axes (operands using it
    need a known rank), and repeated subscripts within an operand (diagonals, traces).
    """
    if not isinstance(equation, str):
        raise TypeError(f"einsum: the equation must be a string, got {type(equation).__name__}")
    if len(inputs) == 1 and isinstance(inputs[0], (list, tuple)):
        inputs = tuple(inputs[0])  # TensorFlow also accepts einsum(eq, [a, b])
    tensors = convert_n(list(inputs))
    return apply("Einsum", *tensors, name=name, equation=equation.replace(" ", ""))


# --- tensordot (composite: one einsum, so shapes and gradients come from Einsum) --------------
def _tensordot_axes(axes: Any, ra: int, rb: int) -> tuple[list[int], list[int]]:
    if isinstance(axes, (int, np.integer)):
        n = int(axes)
        if not 0 <= n <= min(ra, rb):
            raise ValueError(f"tensordot: axes={n} must be in [0, {min(ra, rb)}] for operands of ranks {ra} and {rb}")
        return list(range(ra - n, ra)), list(range(n))
    if isinstance(axes, Tensor):
        value = constant_value(axes)
        if value is None:
            raise TypeError("tensordot: axes must be known at graph-construction time (an int or a pair of lists)")
        axes = value.tolist()
    if not isinstance(axes, (list, tuple, np.ndarray)) or len(axes) != 2:
        raise ValueError(f"tensordot: axes must be an int or a pair of axis lists, got {axes!r}")
    pair = []
    for ax, r, which in ((axes[0], ra, "a"), (axes[1], rb, "b")):
        ax = [int(v) for v in np.ravel(ax)]
        for v in ax:
            if not -r <= v < r:
                raise ValueError(f"tensordot: axis {v} is out of bounds for {which} of rank {r}")
        ax = [v % r for v in ax]
        if len(set(ax)) != len(ax):
            raise ValueError(f"tensordot: repeated axis in {ax} for {which}")
        pair.append(ax)
    if len(pair[0]) != len(pair[1]):
        raise ValueError(f"tensordot: a and b must contract the same number of axes, got {pair[0]} and {pair[1]}")
    return pair[0], pair[1]


def tensordot(a: Any, b: Any, axes: Any, name: str | None = None) -> Tensor:
    """Sum the products of ``a`` and ``b`` over the axes ``axes`` (TensorFlow's / NumPy's tensordot).

    ``axes=N`` contracts the last N axes of ``a`` with the first N of ``b``; ``axes=[[..], [..]]``
    names the axes of each. The free axes of ``a`` come first in the result, then those of ``b``.
    Both ranks must be known; built as one ``einsum``.
    """
    a, b = convert_n([a, b])
    ra, rb = a.shape.rank, b.shape.rank
    if ra is None or rb is None:
        raise ValueError(f"tensordot needs operands of known rank, got shapes {a.shape} and {b.shape}")
    a_axes, b_axes = _tensordot_axes(axes, ra, rb)
    sa = EINSUM_LETTERS[:ra]
    rest = iter(EINSUM_LETTERS[ra:])
    sb = "".join(sa[a_axes[b_axes.index(j)]] if j in b_axes else next(rest) for j in range(rb))
    out = "".join(c for i, c in enumerate(sa) if i not in a_axes) + "".join(
        c for j, c in enumerate(sb) if j not in b_axes
    )
    return einsum(f"{sa},{sb}->{out}", a, b, name=name or "Tensordot")


# --- inv -------------------------------------------------------------------------------------
def _square_infer(out: str) -> Any:
    def infer(inputs: list[Tensor]) -> list[Any]:
        (x,) = inputs
        check_kind("op", x, FLOAT)
        batch, n = _square(x)
        if out == "matrix":
            return [(x.dtype, _concat(batch, n, n))]
        return [(x.dtype, batch)] * (2 if out == "two scalars" else 1)

    return infer


def _inverse_jvp(op: Any, t: Tangent) -> list[Tangent]:
    y = op.outputs[0]
    return [-matmul(y, matmul(t, y))]


register_op(
    "MatrixInverse",
    lambda xp, x: xp.linalg.inv(x),
    _square_infer("matrix"),
    lambda op, g: [-matmul(op.outputs[0], matmul(g, op.outputs[0], transpose_b=True), transpose_a=True)],
    jvp=_inverse_jvp,
)


def inv(input: Any, adjoint: bool = False, name: str | None = None) -> Tensor:  # noqa: A002 - TensorFlow's name
    """The inverse of each square matrix in the last two axes (of its transpose when ``adjoint``).

    A singular matrix raises at run time (NumPy's LinAlgError, with the op's creation site).
    """
    out = apply("MatrixInverse", convert_to_tensor(input), name=None if adjoint else name)
    return matrix_transpose(out, name=name) if adjoint else out


# --- solve -----------------------------------------------------------------------------------
def _solve_infer(inputs: list[Tensor], **_: Any) -> list[Any]:
    matrix, rhs = inputs
    dtype = common_dtype(inputs)
    check_kind("op", matrix, FLOAT)
    batch_a, n = _square(matrix, "matrix")
    batch_b, rows, k = _matrix_dims(rhs, "rhs")
    if not _same(n, rows):
        raise ValueError(
            f"matrix {matrix.name} of shape {matrix.shape} does not fit rhs {rhs.name} of shape {rhs.shape}"
        )
    return [(dtype, _concat(broadcast_shapes(batch_a, batch_b), _either(n, rows), k))]


def _solve_kernel(xp: Any, matrix: Any, rhs: Any, adjoint: bool) -> Any:
    # Explicit batch broadcasting: NumPy < 2 would read an (n, k) rhs next to a batch of
    # matrices as a stack of vectors.
    matrix, rhs = _broadcast_batch(xp, matrix, rhs)
    if adjoint:
        matrix = xp.swapaxes(matrix, -1, -2)
    return xp.linalg.solve(matrix, rhs)


def _solve_grad(op: Any, g: Tensor) -> list[Tensor]:
    matrix, c, adj = op.inputs[0], op.outputs[0], op.get_attr("adjoint")
    grad_rhs = solve(matrix, g, adjoint=not adj)
    grad_matrix = -matmul(c, grad_rhs, transpose_b=True) if adj else -matmul(grad_rhs, c, transpose_b=True)
    return [grad_matrix, grad_rhs]


def _solve_jvp(op: Any, t_a: Tangent, t_b: Tangent) -> list[Tangent]:
    # A X = B  =>  A dX = dB - dA X   (A^T X = B  =>  A^T dX = dB - dA^T X).
    a, x = op.inputs[0], op.outputs[0]
    adjoint = op.get_attr("adjoint")
    rhs = sum_tangents([t_b, None if t_a is None else -matmul(t_a, x, transpose_a=adjoint)])
    return [None if rhs is None else solve(a, rhs, adjoint=adjoint)]


register_op("MatrixSolve", _solve_kernel, _solve_infer, _solve_grad, broadcasts=True, jvp=_solve_jvp)


def solve(matrix: Any, rhs: Any, adjoint: bool = False, name: str | None = None) -> Tensor:
    """Solve ``matrix @ x = rhs`` (``matrix^T @ x = rhs`` when ``adjoint``) for ``x``.

    ``matrix`` is ``[..., n, n]``, ``rhs`` is ``[..., n, k]``; batch dims broadcast.
    """
    matrix, rhs = convert_n([matrix, rhs])
    return apply("MatrixSolve", matrix, rhs, name=name, adjoint=bool(adjoint))


# --- triangular_solve ------------------------------------------------------------------------
def _triangular_solve_kernel(xp: Any, matrix: Any, rhs: Any, lower: bool, adjoint: bool) -> Any:
    matrix, rhs = _broadcast_batch(xp, matrix, rhs)
    if matrix.ndim == 2 and matrix.size and rhs.size and xp is np:
        try:
            from scipy.linalg import solve_triangular
        except ImportError:  # SciPy is optional: fall back to a dense solve of the triangle.
            pass
        else:
            x = solve_triangular(matrix, rhs, lower=lower, trans=1 if adjoint else 0, check_finite=False)
            return x.astype(np.result_type(matrix, rhs), copy=False)
    tri = xp.tril(matrix) if lower else xp.triu(matrix)
    if adjoint:
        tri = xp.swapaxes(tri, -1, -2)
    return xp.linalg.solve(tri, rhs)


def _triangular_solve_grad(op: Any, g: Tensor) -> list[Tensor]:
    matrix, c = op.inputs[0], op.outputs[0]
    lower, adj = op.get_attr("lower"), op.get_attr("adjoint")
    grad_rhs = triangular_solve(matrix, g, lower=lower, adjoint=not adj)
    grad_matrix = -matmul(c, grad_rhs, transpose_b=True) if adj else -matmul(grad_rhs, c, transpose_b=True)
    # Only the triangle was read, so only the triangle gets a gradient.
    return [band_part(grad_matrix, -1, 0) if lower else band_part(grad_matrix, 0, -1), grad_rhs]


def _triangular_solve_jvp(op: Any, t_a: Tangent, t_b: Tangent) -> list[Tangent]:
    # As a solve, with only the triangle that the kernel reads perturbed.
    a, x = op.inputs[0], op.outputs[0]
    lower, adjoint = op.get_attr("lower"), op.get_attr("adjoint")
    if t_a is not None:
        t_a = band_part(t_a, -1, 0) if lower else band_part(t_a, 0, -1)
    rhs = sum_tangents([t_b, None if t_a is None else -matmul(t_a, x, transpose_a=adjoint)])
    return [None if rhs is None else triangular_solve(a, rhs, lower=lower, adjoint=adjoint)]


register_op(
    "MatrixTriangularSolve",
    _triangular_solve_kernel,
    _solve_infer,
    _triangular_solve_grad,
    broadcasts=True,
    jvp=_triangular_solve_jvp,
)


def triangular_solve(
    matrix: Any, rhs: Any, lower: bool = True, adjoint: bool = False, name: str | None = None
) -> Tensor:
    """Solve ``matrix @ x = rhs`` where ``matrix`` is triangular; the other triangle is ignored.

    ``lower`` picks the triangle that is read, ``adjoint`` solves with its transpose. Batch dims
    broadcast. Uses SciPy's ``solve_triangular`` for a single matrix when SciPy is installed,
    else a NumPy dense solve of the triangle.
    """
    matrix, rhs = convert_n([matrix, rhs])
    return apply("MatrixTriangularSolve", matrix, rhs, name=name, lower=bool(lower), adjoint=bool(adjoint))


# --- cholesky --------------------------------------------------------------------------------
def _cholesky_grad(op: Any, g: Tensor) -> list[Tensor]:
    # The symmetric formula (Murray 2016, as TensorFlow): with P = Phi(L^T G), where Phi keeps
    # the lower triangle and halves the diagonal, dA = sym(L^-T P L^-1). Two triangular solves
    # replace the explicit inverse.
    chol = op.outputs[0]
    middle = matmul(chol, g, transpose_a=True)
    middle = band_part(middle, -1, 0) - 0.5 * band_part(middle, 0, 0)
    left = triangular_solve(chol, middle, lower=True, adjoint=True)  # L^-T P
    s_t = triangular_solve(chol, matrix_transpose(left), lower=True, adjoint=True)  # (L^-T P L^-1)^T
    return [0.5 * (s_t + matrix_transpose(s_t))]


def _cholesky_jvp(op: Any, t: Tangent) -> list[Tangent]:
    # dL = L Phi(L^-1 dA L^-T) (Phi: the lower triangle, diagonal halved) for the symmetric part of
    # the tangent: the gradient's convention (perturbations keep the input symmetric).
    chol = op.outputs[0]
    sym = 0.5 * (t + matrix_transpose(t))
    left = triangular_solve(chol, sym, lower=True)  # L^-1 S
    middle = triangular_solve(chol, matrix_transpose(left), lower=True)  # L^-1 S L^-T
    middle = band_part(middle, -1, 0) - 0.5 * band_part(middle, 0, 0)
    return [matmul(chol, middle)]


register_op("Cholesky", lambda xp, x: xp.linalg.cholesky(x), _square_infer("matrix"), _cholesky_grad, jvp=_cholesky_jvp)


def cholesky(input: Any, name: str | None = None) -> Tensor:  # noqa: A002 - TensorFlow's name
    """The lower-triangular Cholesky factor ``L`` of each symmetric positive-definite matrix (``A = L L^T``).

    Only the lower triangle of the input is read; its gradient is the symmetric one (it assumes
    perturbations keep the input symmetric). A matrix that is not positive definite raises at run time.
    """
    return apply("Cholesky", convert_to_tensor(input), name=name)


def cholesky_solve(chol: Any, rhs: Any, name: str | None = None) -> Tensor:
    """Solve ``A x = rhs`` given ``chol = cholesky(A)`` (composite: two triangular solves)."""
    chol, rhs = convert_n([chol, rhs])
    y = triangular_solve(chol, rhs, lower=True)
    return triangular_solve(chol, y, lower=True, adjoint=True, name=name)


# --- det, slogdet, logdet --------------------------------------------------------------------
def _trace_of_solve(a: Tensor, t: Tensor) -> Tensor:
    return trace(solve(a, t))


register_op(
    "MatrixDeterminant",
    lambda xp, x: xp.asarray(xp.linalg.det(x)),
    _square_infer("scalar"),
    lambda op, g: [_expand2(g * op.outputs[0]) * inv(op.inputs[0], adjoint=True)],
    jvp=lambda op, t: [op.outputs[0] * _trace_of_solve(op.inputs[0], t)],
)


def det(input: Any, name: str | None = None) -> Tensor:  # noqa: A002 - TensorFlow's name
    """The determinant of each square matrix in the last two axes (1 for a 0x0 matrix).

    The gradient is ``det(A) * inv(A)^T``, so it is undefined at singular matrices.
    """
    return apply("MatrixDeterminant", convert_to_tensor(input), name=name)


def _slogdet_kernel(xp: Any, x: Any) -> tuple[Any, Any]:
    sign, logabs = xp.linalg.slogdet(x)
    return xp.asarray(sign), xp.asarray(logabs)


register_op(
    "LogMatrixDeterminant",
    _slogdet_kernel,
    _square_infer("two scalars"),
    lambda op, g_sign, g_log: [_expand2(g_log) * inv(op.inputs[0], adjoint=True)],
    jvp=lambda op, t: [None, _trace_of_solve(op.inputs[0], t)],
)


def slogdet(input: Any, name: str | None = None) -> tuple[Tensor, Tensor]:  # noqa: A002 - TensorFlow's name
    """``(sign, log_abs_determinant)`` of each square matrix; no overflow for large matrices.

    ``sign`` has no gradient; that of ``log|det A|`` is ``inv(A)^T``.
    """
    return apply("LogMatrixDeterminant", convert_to_tensor(input), name=name)


def logdet(matrix: Any, name: str | None = None) -> Tensor:
    """``log(det(matrix))`` of symmetric positive-definite matrices (composite: ``slogdet``'s second output)."""
    _, logabs = slogdet(matrix)
    return array_ops.identity(logabs, name=name or "logdet")


# --- diagonals and bands ---------------------------------------------------------------------
def _diag_part_infer(inputs: list[Tensor]) -> list[Any]:
    (x,) = inputs
    batch, m, n = _matrix_dims(x, "input")
    k = None if m is None or n is None else min(m, n)
    if k is None and (m == 0 or n == 0):
        k = 0
    return [(x.dtype, _concat(batch, k))]


register_op(
    "MatrixDiagPart",
    lambda xp, x: xp.diagonal(x, axis1=-2, axis2=-1).copy(),
    _diag_part_infer,
    lambda op, g: [set_diag(array_ops.zeros_like(op.inputs[0]), g)],
    jvp=linear,
)


def diag_part(input: Any, name: str | None = None) -> Tensor:  # noqa: A002 - TensorFlow's name
    """The main diagonal of each matrix in the last two axes: shape ``[..., min(m, n)]``."""
    return apply("MatrixDiagPart", convert_to_tensor(input), name=name)


def _set_diag_infer(inputs: list[Tensor]) -> list[Any]:
    x, d = inputs
    dtype = common_dtype(inputs)
    ((_, expected),) = _diag_part_infer([x])
    if not expected.is_compatible_with(d.shape):
        raise ValueError(
            f"diagonal {d.name} must have shape {expected} to fit input {x.name} of shape {x.shape}, got {d.shape}"
        )
    return [(dtype, x.shape)]


def _set_diag_kernel(xp: Any, x: Any, d: Any) -> Any:
    out = x.copy()
    k = d.shape[-1]
    idx = xp.arange(k)
    out[..., idx, idx] = d
    return out


register_op(
    "MatrixSetDiag",
    _set_diag_kernel,
    _set_diag_infer,
    lambda op, g: [set_diag(g, array_ops.zeros_like(op.inputs[1])), diag_part(g)],
    jvp=linear,
)


def set_diag(input: Any, diagonal: Any, name: str | None = None) -> Tensor:  # noqa: A002 - TensorFlow's name
    """A copy of ``input`` whose main diagonal (last two axes) is replaced by ``diagonal``."""
    x, d = convert_n([input, diagonal])
    return apply("MatrixSetDiag", x, d, name=name)


def _diag_kernel(xp: Any, d: Any) -> Any:
    k = d.shape[-1]
    out = xp.zeros(d.shape + (k,), dtype=d.dtype)
    idx = xp.arange(k)
    out[..., idx, idx] = d
    return out


def _diag_infer(inputs: list[Tensor]) -> list[Any]:
    (d,) = inputs
    if d.shape.dims is None:
        return [(d.dtype, TensorShape(None))]
    if not d.shape.dims:
        raise ValueError(f"diagonal {d.name} must have rank >= 1, got a scalar")
    return [(d.dtype, TensorShape([*d.shape.dims, d.shape.dims[-1]]))]


register_op("MatrixDiag", _diag_kernel, _diag_infer, lambda op, g: [diag_part(g)], jvp=linear)


def diag(diagonal: Any, name: str | None = None) -> Tensor:
    """Square matrices with ``diagonal`` (``[..., k]``) on the main diagonal: shape ``[..., k, k]``."""
    return apply("MatrixDiag", convert_to_tensor(diagonal), name=name)


def _band_part_kernel(xp: Any, x: Any, num_lower: int, num_upper: int) -> Any:
    m, n = x.shape[-2:]
    i = xp.arange(m)[:, None]
    j = xp.arange(n)[None, :]
    keep = xp.ones((m, n), dtype=bool)
    if num_lower >= 0:
        keep &= i - j <= num_lower
    if num_upper >= 0:
        keep &= j - i <= num_upper
    return xp.where(keep, x, xp.zeros((), dtype=x.dtype))


def _band_part_infer(inputs: list[Tensor], num_lower: int, num_upper: int) -> list[Any]:
    (x,) = inputs
    _matrix_dims(x, "input")
    return [(x.dtype, x.shape)]


register_op(
    "MatrixBandPart",
    _band_part_kernel,
    _band_part_infer,
    lambda op, g: [band_part(g, op.get_attr("num_lower"), op.get_attr("num_upper"))],
    jvp=linear,
)


def _static_int(v: Any, what: str) -> int:
    if isinstance(v, Tensor):
        value = constant_value(v)
        if value is None:
            raise TypeError(f"band_part: {what} must be known at graph-construction time")
        v = value
    return int(v)


def band_part(input: Any, num_lower: Any, num_upper: Any, name: str | None = None) -> Tensor:  # noqa: A002
    """Keep the band of each matrix with ``num_lower`` sub- and ``num_upper`` super-diagonals; zero the rest.

    A negative count keeps the whole triangle: ``band_part(x, -1, 0)`` is the lower triangle,
    ``band_part(x, 0, 0)`` the diagonal.
    """
    return apply(
        "MatrixBandPart",
        convert_to_tensor(input),
        name=name,
        num_lower=_static_int(num_lower, "num_lower"),
        num_upper=_static_int(num_upper, "num_upper"),
    )


def trace(x: Any, name: str | None = None) -> Tensor:
    """The sum of the main diagonal of each matrix in the last two axes (composite)."""
    return reduction_ops.reduce_sum(diag_part(x), axis=-1, name=name or "trace")


def eye(
    num_rows: Any,
    num_columns: Any = None,
    batch_shape: Any = None,
    dtype: Any = dtypes.float32,
    name: str | None = None,
) -> Tensor:
    """Identity matrices of shape ``batch_shape + [num_rows, num_columns]``.

    With Python ints this is a constant; a scalar int tensor ``num_rows`` (square only, no batch)
    gives ``diag(ones([num_rows]))``.
    """
    dtype = dtypes.as_dtype(dtype)
    if isinstance(num_rows, Tensor):
        if num_columns is not None or batch_shape is not None:
            raise TypeError("eye: with a tensor num_rows, only square, unbatched identities are supported")
        if not num_rows.dtype.is_integer:
            raise TypeError(f"eye: num_rows must be an int32 or int64 scalar tensor, got {num_rows.dtype.name}")
        return diag(array_ops.ones(array_ops.stack([num_rows]), dtype=dtype), name=name or "eye")
    rows = _eye_dim(num_rows, "num_rows")
    cols = rows if num_columns is None else _eye_dim(num_columns, "num_columns")
    batch = [] if batch_shape is None else [_eye_dim(d, "batch_shape") for d in batch_shape]
    if rows * cols > _EYE_CONSTANT_MAX_ELEMENTS:
        # Too large to fold into the graph: built when the graph runs (and only if it does).
        with get_default_graph().name_scope(name or "eye"):
            rows_i = array_ops.expand_dims(array_ops.range(np.int64(rows), dtype=dtypes.int64), 1)
            value_t = math_ops.cast(math_ops.equal(rows_i, array_ops.range(np.int64(cols), dtype=dtypes.int64)), dtype)
            return array_ops.broadcast_to(value_t, [*batch, rows, cols]) if batch else value_t
    value = np.eye(rows, cols, dtype=dtype.as_numpy_dtype)
    if batch_shape is not None:
        value = np.broadcast_to(value, (*batch, rows, cols))
    return constant(value, dtype=dtype, name=name or "eye")


_EYE_CONSTANT_MAX_ELEMENTS = 1 << 16  # larger identities are computed at run time, not stored in the graph


def _eye_dim(d: Any, what: str) -> int:
    if isinstance(d, (bool, np.bool_)) or not isinstance(d, (int, np.integer)):
        raise TypeError(f"eye: {what} must be a non-negative integer, got {d!r}")
    if d < 0:
        raise ValueError(f"eye: {what} must be a non-negative integer, got {d}")
    return int(d)


# --- TensorFlow 1.x names of inv and det --------------------------------------------------------
def matrix_inverse(input: Any, adjoint: bool = False, name: str | None = None) -> Tensor:  # noqa: A002
    """TensorFlow 1.x's ``tf.matrix_inverse``: ``cr.linalg.inv`` (of the adjoint when ``adjoint``)."""
    return inv(input, adjoint=adjoint, name=name)


def matrix_determinant(input: Any, name: str | None = None) -> Tensor:  # noqa: A002 - TensorFlow's name
    """TensorFlow 1.x's ``tf.matrix_determinant``: ``cr.linalg.det``."""
    return det(input, name=name)


# --- singular values (for the matrix 2-norm) ---------------------------------------------------
def _svd_values_infer(inputs: list[Tensor]) -> list[Any]:
    (x,) = inputs
    check_kind("op", x, FLOAT)
    batch, m, n = _matrix_dims(x, "input")
    k = None if m is None or n is None else min(m, n)
    return [(x.dtype, _concat(batch, k))]


def _svd_vectors_kernel(xp: Any, x: Any) -> tuple[Any, Any]:
    u, _, vh = xp.linalg.svd(x, full_matrices=False)
    return u, xp.swapaxes(vh, -1, -2)


def _svd_vectors_infer(inputs: list[Tensor]) -> list[Any]:
    (x,) = inputs
    batch, m, n = _matrix_dims(x, "input")
    k = None if m is None or n is None else min(m, n)
    return [(x.dtype, _concat(batch, m, k)), (x.dtype, _concat(batch, n, k))]


def _svd_vectors_grad(op: Any, *grads: Any) -> list[Any]:
    raise NotImplementedError(
        f"the gradient of the singular vectors ({op.name}) is not implemented: singular values and the "
        "matrix 2-norm are differentiable once"
    )


# The singular vectors (u, v), pairs of columns with consistent signs, for the singular values'
# gradient u diag(g) v^T. They are not differentiated (see _svd_vectors_grad).
register_op("SvdVectors", _svd_vectors_kernel, _svd_vectors_infer, _svd_vectors_grad)


def _svd_values_grad(op: Any, g: Tensor) -> list[Tensor]:
    u, v = apply("SvdVectors", op.inputs[0])
    return [matmul(u * array_ops.expand_dims(g, -2), v, transpose_b=True)]


def _svd_values_jvp(op: Any, t: Tangent) -> list[Tangent]:
    u, v = apply("SvdVectors", op.inputs[0])
    return [reduction_ops.reduce_sum(u * matmul(t, v), axis=-2)]


register_op(
    "SingularValues",
    lambda xp, x: xp.linalg.svd(x, compute_uv=False),
    _svd_values_infer,
    _svd_values_grad,
    jvp=_svd_values_jvp,
    explain="singular_values",
)


def singular_values(tensor: Any, name: str | None = None) -> Tensor:
    """The singular values of each matrix in the last two axes, in descending order.

    TensorFlow's ``svd(tensor, compute_uv=False)``. Its gradient is ``u diag(g) v^T``, defined where
    the singular values are distinct; second derivatives are not implemented (an error says so).
    """
    return apply("SingularValues", convert_to_tensor(tensor), name=name)


# --- eigendecomposition of symmetric matrices -------------------------------------------------------
def _eigh_infer(inputs: list[Tensor]) -> list[Any]:
    (x,) = inputs
    check_kind("op", x, FLOAT)
    batch, m, n = _matrix_dims(x, "input")
    if m is not None and n is not None and m != n:
        raise ValueError(f"self_adjoint_eig needs square matrices, got {x.name} of shape {x.shape}")
    k = m if m is not None else n
    return [(x.dtype, _concat(batch, k)), (x.dtype, _concat(batch, k, k))]


def _eigh_grad(op: Any, grad_e: Tensor | None, grad_v: Tensor | None) -> list[Tensor]:
    """TensorFlow's gradient: ``v (diag(grad_e) + f * (v^T grad_v)) v^T`` with ``f_ij = 1 / (e_j - e_i)``,
    then folded onto the lower triangle, the only part of the input the decomposition reads."""
    e, v = op.outputs
    inner = diag(grad_e if grad_e is not None else array_ops.zeros_like(e))
    if grad_v is not None:
        gaps = array_ops.expand_dims(e, -2) - array_ops.expand_dims(e, -1)
        f = set_diag(math_ops.reciprocal(set_diag(gaps, array_ops.ones_like(e))), array_ops.zeros_like(e))
        inner = inner + f * matmul(v, grad_v, transpose_a=True)
    grad_a = matmul(v, matmul(inner, v, transpose_b=True))
    grad_a = band_part(grad_a + matrix_transpose(grad_a), -1, 0)
    return [set_diag(grad_a, 0.5 * diag_part(grad_a))]


def _eigh_jvp(op: Any, t: Tangent) -> list[Tangent]:
    """``de = diag(v^T s v)``, ``dv = v (f * (v^T s v))``, ``s`` the tangent's symmetric matrix (its lower triangle)."""
    e, v = op.outputs
    lower = band_part(t, -1, 0)
    s = lower + matrix_transpose(lower) - diag(diag_part(t))
    projected = matmul(v, matmul(s, v), transpose_a=True)
    gaps = array_ops.expand_dims(e, -2) - array_ops.expand_dims(e, -1)
    f = set_diag(math_ops.reciprocal(set_diag(gaps, array_ops.ones_like(e))), array_ops.zeros_like(e))
    return [diag_part(projected), matmul(v, f * projected)]


# Eigenvalues ascending and eigenvectors as columns; like TensorFlow, only the lower triangle is read.
register_op(
    "SelfAdjointEigV2", lambda xp, x: tuple(xp.linalg.eigh(x, UPLO="L")), _eigh_infer, _eigh_grad, jvp=_eigh_jvp
)


def self_adjoint_eig(tensor: Any, name: str | None = None) -> tuple[Tensor, Tensor]:
    """Eigenvalues (ascending) and eigenvectors (columns) of each symmetric matrix in the last two axes.

    TensorFlow 1.x's ``tf.self_adjoint_eig`` (``tf.linalg.eigh``): only the lower triangle is read.
    The gradient is TensorFlow's, defined where the eigenvalues are distinct; each eigenvector's sign
    is the decomposition's choice, so differentiate quantities that do not depend on it.
    """
    e, v = apply("SelfAdjointEigV2", convert_to_tensor(tensor), name=name)
    return e, v


def self_adjoint_eigvals(tensor: Any, name: str | None = None) -> Tensor:
    """The eigenvalues (ascending) of each symmetric matrix in the last two axes (``tf.self_adjoint_eigvals``)."""
    return self_adjoint_eig(tensor, name=name)[0]


eigh = self_adjoint_eig
eigvalsh = self_adjoint_eigvals


# --- norm (TensorFlow's composite) ---------------------------------------------------------------
_VECTOR_ORDS = ("euclidean", 1, 2, np.inf)
_MATRIX_ORDS = ("euclidean", "fro", 1, 2, np.inf)


def _is_ord(ord: Any, options: tuple[Any, ...]) -> bool:  # noqa: A002 - TensorFlow's name
    return any(type(ord) is type(o) and ord == o or (not isinstance(ord, str) and ord == o) for o in options)


def norm(
    tensor: Any,
    ord: Any = "euclidean",  # noqa: A002 - TensorFlow's name
    axis: Any = None,
    keepdims: bool | None = None,
    name: str | None = None,
    keep_dims: bool | None = None,
) -> Tensor:
    """Vector and matrix norms, as TensorFlow's ``tf.norm``.

    Parameters
    ----------
    tensor : a floating tensor.
    ord : for vectors (``axis`` None or an int): ``'euclidean'`` (= 2), 1, ``np.inf``, or any
        real ``p > 0`` (``sum(|x|^p)^(1/p)``); for matrices (``axis`` a pair of ints):
        ``'euclidean'``/``'fro'`` (Frobenius), 1 (max column sum), 2 (largest singular value,
        differentiable once) or ``np.inf`` (max row sum).
    axis : None (the whole tensor as one vector), an int, or a pair of ints (matrix norms, batched
        over the other axes).
    keepdims : keep the reduced axes with size 1; ``keep_dims`` is the deprecated spelling.
    name : name of the op.

    The gradient of the euclidean norm at 0 is nan, as TensorFlow's.
    """
    keepdims = deprecated_alias(keepdims, keep_dims, "keepdims", "keep_dims")
    x = convert_to_tensor(tensor)
    is_matrix = isinstance(axis, (tuple, list)) and len(axis) == 2
    if is_matrix:
        a0, a1 = axis
        if not isinstance(a0, int) or not isinstance(a1, int) or a0 == a1:
            raise ValueError(f"'axis' must be None, an integer, or a tuple of 2 unique integers, got {axis}")
        if not _is_ord(ord, _MATRIX_ORDS):
            raise ValueError(f"'ord' must be a supported matrix norm in {list(_MATRIX_ORDS)}, got {ord}")
        axes: tuple[int, ...] | None = (a0, a1)
    else:
        if axis is not None and (isinstance(axis, bool) or not isinstance(axis, (int, np.integer))):
            raise ValueError(f"'axis' must be None, an integer, or a tuple of 2 unique integers, got {axis}")
        numeric = not isinstance(ord, str) and np.isreal(ord) and ord > 0
        if not numeric and not _is_ord(ord, _VECTOR_ORDS):
            raise ValueError(f"'ord' must be a supported vector norm, got {ord}")
        axes = None if axis is None else (int(axis),)
    check_kind("norm", x, FLOAT, "tensor")
    rank = x.shape.rank
    if axes is not None and rank is not None:
        for a in axes:
            if not -rank <= a < rank:
                raise ValueError(f"axis {a} is out of bounds for a tensor of rank {rank}")
        if is_matrix and axes[0] % rank == axes[1] % rank:
            raise ValueError(f"'axis' must name two different axes, got {axis}")
    if is_matrix and not isinstance(ord, str) and ord == 2:
        result = _matrix_2_norm(x, axes, bool(keepdims))  # type: ignore[arg-type]
        return array_ops.identity(result, name=name or "norm")
    ax: Any = None if axes is None else list(axes)
    if isinstance(ord, str) or ord == 2:
        result = math_ops.sqrt(reduction_ops.reduce_sum(x * x, ax, keepdims=True))
    else:
        result = math_ops.abs(x)
        if ord == 1:
            result = reduction_ops.reduce_sum(result, None if axes is None else axes[0], keepdims=True)
            if is_matrix:
                result = reduction_ops.reduce_max(result, axes[1], keepdims=True)  # type: ignore[index]
        elif ord == np.inf:
            if is_matrix:
                result = reduction_ops.reduce_sum(result, axes[1], keepdims=True)  # type: ignore[index]
                result = reduction_ops.reduce_max(result, axes[0], keepdims=True)  # type: ignore[index]
            else:
                result = reduction_ops.reduce_max(result, ax, keepdims=True)
        else:
            p = float(ord)
            result = reduction_ops.reduce_sum(result**p, ax, keepdims=True) ** (1.0 / p)
    if not keepdims:
        result = reduction_ops.reduce_sum(result, ax)  # drops the size-1 axes (all of them when None)
    return array_ops.identity(result, name=name or "norm")


def _matrix_2_norm(x: Tensor, axes: tuple[int, int], keepdims: bool) -> Tensor:
    rank = x.shape.rank
    if rank is None:
        raise ValueError("norm: the matrix 2-norm needs the rank of tensor to be known")
    a0, a1 = axes[0] % rank, axes[1] % rank
    perm = [i for i in range(rank) if i not in (a0, a1)] + [a0, a1]
    moved = x if perm == list(range(rank)) else array_ops.transpose(x, perm)
    result = reduction_ops.reduce_max(singular_values(moved), axis=-1)
    if keepdims:
        for a in sorted((a0, a1)):
            result = array_ops.expand_dims(result, a)
    return result
