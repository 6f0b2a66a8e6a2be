"""Samples for the linear algebra ops (``chainrule.ops.linalg_ops``, ``cr.linalg``)."""

from __future__ import annotations

import numpy as np

import chainrule as cr
from chainrule.testing.samples import ErrorSample, OpSample, error, rand, sample

la = cr.linalg
InvalidArgument = cr.errors.InvalidArgumentError


def _label(*shapes: tuple[int, ...]) -> str:
    return "+".join("x".join(map(str, s)) or "scalar" for s in shapes)


def _well_conditioned(*shape: int, seed: int = 0) -> np.ndarray:
    """Square matrices ``[..., n, n]`` with entries in [-1, 1] plus 3 on the diagonal: far from singular."""
    n = shape[-1]
    return rand(*shape, low=-1.0, high=1.0, seed=seed) + 3.0 * np.eye(n)


def _spd(a: cr.Tensor) -> cr.Tensor:
    """``a a^T + 3 I``: symmetric positive definite for any ``a``, so finite differences stay SPD."""
    n = a.shape[-1] if a.shape[-1] is not None else cr.shape(a)[-1]
    eye = 3.0 * la.eye(n, dtype=a.dtype)
    return cr.matmul(a, a, transpose_b=True) + eye


def _spd_np(a: np.ndarray) -> np.ndarray:
    return a @ np.swapaxes(a, -1, -2) + 3.0 * np.eye(a.shape[-1])


def _t(x: np.ndarray) -> np.ndarray:
    return np.swapaxes(x, -1, -2)


def _np_solve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    return np.linalg.solve(np.broadcast_to(a, batch + a.shape[-2:]), np.broadcast_to(b, batch + b.shape[-2:]))


def _np_triangular_solve(a: np.ndarray, b: np.ndarray, lower: bool, adjoint: bool) -> np.ndarray:
    tri = np.tril(a) if lower else np.triu(a)
    return _np_solve(_t(tri) if adjoint else tri, b)


def _band_ref(x: np.ndarray, lo: int, up: int) -> np.ndarray:
    i, j = np.indices(x.shape[-2:])
    return np.where(((lo < 0) | (i - j <= lo)) & ((up < 0) | (j - i <= up)), x, 0.0)


def _binary(name, fn, ref, shape_pairs, **kw) -> list[OpSample]:
    return [
        sample(name, fn, rand(*sa, seed=i), rand(*sb, seed=50 + i), ref=ref, label=_label(sa, sb), **kw)
        for i, (sa, sb) in enumerate(shape_pairs)
    ]


# --- matmul ------------------------------------------------------------------------------------
_MATMUL_SHAPES = [
    ((2, 3), (3, 4)),
    ((2, 2, 3), (2, 3, 2)),  # batch
    ((2, 1, 2, 3), (3, 3, 2)),  # batch dims broadcast (and b has fewer of them)
    ((2, 3), (2, 3, 2)),  # an unbatched a against a batch
    ((1, 3), (3, 1)),
    ((0, 3), (3, 2)),
    ((2, 0), (0, 3)),  # empty inner dimension: zeros
]

# (equation, operand shapes) of the einsum samples.
_EINSUM_CASES: list[tuple[str, list[tuple[int, ...]]]] = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 2)]),  # implicit output
    ("ba", [(2, 3)]),  # implicit output sorts: a transpose
    ("ij->ji", [(2, 3)]),
    ("ij->", [(2, 3)]),
    ("i,i->", [(4,), (4,)]),
    ("i,j->ij", [(2,), (3,)]),
    ("ij,k->ik", [(2, 3), (2,)]),  # j is summed inside one operand only
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]),
    ("...ij,...jk->...ik", [(2, 1, 2, 3), (3, 3, 2)]),  # '...' broadcasts
    ("...ij,jk", [(2, 2, 3), (3, 2)]),  # implicit output with '...'
    ("ij,ij->ij", [(1, 3), (2, 3)]),  # a size-1 axis broadcasts
    ("ij,jk,kl->il", [(2, 3), (3, 2), (2, 2)]),
    ("ii->i", [(3, 3)]),  # diagonal
    ("ii", [(3, 3)]),  # trace
    ("iij,j->ij", [(2, 2, 3), (3,)]),
    ("ij,jk->ik", [(2, 0), (0, 3)]),
    ("ij,jk->ik", [(0, 2), (2, 1)]),
]

SAMPLES: list[OpSample] = [
    *_binary("matmul", cr.matmul, np.matmul, _MATMUL_SHAPES),
    *_binary("operator_matmul", lambda a, b: a @ b, np.matmul, [((2, 3), (3, 2)), ((2, 2, 3), (3, 1))]),
    sample(
        "matmul",
        lambda a, b: cr.matmul(a, b, transpose_a=True),
        rand(3, 2),
        rand(3, 4, seed=1),
        ref=lambda a, b: a.T @ b,
        label="transpose_a",
    ),
    sample(
        "matmul",
        lambda a, b: cr.matmul(a, b, transpose_b=True),
        rand(2, 2, 3),
        rand(4, 3, seed=1),
        ref=lambda a, b: a @ _t(b),
        label="transpose_b batch",
    ),
    sample(
        "matmul",
        lambda a, b: cr.matmul(a, b, transpose_a=True, transpose_b=True),
        rand(1, 3, 2),
        rand(2, 4, 3, seed=1),
        ref=lambda a, b: _t(a) @ _t(b),
        label="transpose both broadcast",
    ),
    sample(
        "matmul",
        lambda a, b: cr.matmul(a, b, adjoint_a=True),
        rand(3, 2),
        rand(3, 2, seed=1),
        ref=lambda a, b: a.T @ b,
        label="adjoint_a",
    ),
    sample(
        "matmul",
        cr.matmul,
        np.arange(6, dtype=np.int32).reshape(2, 3),
        np.arange(6, dtype=np.int32).reshape(3, 2),
        ref=np.matmul,
        label="int32",
        order=0,
    ),
    # --- tensordot ---------------------------------------------------------------------------
    sample(
        "tensordot",
        lambda a, b: cr.tensordot(a, b, 1),
        rand(2, 3),
        rand(3, 4, seed=1),
        ref=lambda a, b: np.tensordot(a, b, 1),
    ),
    sample(
        "tensordot",
        lambda a, b: cr.tensordot(a, b, 2),
        rand(2, 3, 2),
        rand(3, 2, 2, seed=1),
        ref=lambda a, b: np.tensordot(a, b, 2),
        label="axes=2",
    ),
    sample(
        "tensordot",
        lambda a, b: cr.tensordot(a, b, 0),
        rand(2),
        rand(3, seed=1),
        ref=lambda a, b: np.tensordot(a, b, 0),
        label="outer",
    ),
    sample(
        "tensordot",
        lambda a, b: cr.tensordot(a, b, [[0], [1]]),
        rand(3, 2),
        rand(4, 3, seed=1),
        ref=lambda a, b: np.tensordot(a, b, ([0], [1])),
        label="axes lists",
    ),
    sample(
        "tensordot",
        lambda a, b: cr.tensordot(a, b, [[1, -2], [0, 1]]),
        rand(2, 3),
        rand(3, 2, seed=1),
        ref=lambda a, b: np.tensordot(a, b, ([1, 0], [0, 1])),
        label="full contraction",
    ),
    sample(
        "tensordot",
        lambda a, b: cr.tensordot(a, b, 1),
        rand(0, 3),
        rand(3, 1, seed=1),
        ref=lambda a, b: np.tensordot(a, b, 1),
        label="0x3+3x1",
    ),
    # --- einsum ------------------------------------------------------------------------------
    *[
        sample(
            "einsum",
            lambda *xs, _eq=eq: cr.einsum(_eq, *xs),
            *[rand(*s, seed=10 * k + j) for j, s in enumerate(shapes)],
            ref=lambda *xs, _eq=eq: np.einsum(_eq, *xs),
            label=f"{eq} {_label(*shapes)}",
        )
        for k, (eq, shapes) in enumerate(_EINSUM_CASES)
    ],
    sample(
        "einsum",
        lambda a, b: cr.einsum("ii,i->i", a, b),
        rand(1, 1),
        rand(3, seed=1),
        ref=lambda a, b: a[0, 0] * b,
        label="ii,i->i broadcast diagonal",
    ),
    sample(
        "einsum",
        lambda a, b: cr.einsum("ij,jk->ik", a, b),
        np.arange(6, dtype=np.int32).reshape(2, 3),
        np.arange(3, dtype=np.int32).reshape(3, 1),
        ref=lambda a, b: a @ b,
        label="int32",
        order=0,
    ),
    # --- matrix_transpose, diag, diag_part, set_diag, band_part, trace, eye ---------------------
    sample("matrix_transpose", la.matrix_transpose, rand(2, 3), ref=_t),
    sample("matrix_transpose", la.matrix_transpose, rand(2, 1, 3), ref=_t, label="batch"),
    sample("matrix_transpose", la.adjoint, rand(0, 3), ref=_t, label="adjoint 0x3"),
    sample("diag", la.diag, rand(3), ref=np.diag),
    sample("diag", la.diag, rand(2, 2), ref=lambda d: d[..., None] * np.eye(2), label="batch"),
    sample("diag", la.diag, rand(0), ref=np.diag, label="empty"),
    sample("diag_part", la.diag_part, rand(3, 3), ref=np.diag),
    sample("diag_part", la.diag_part, rand(2, 3), ref=np.diag, label="2x3"),
    sample("diag_part", la.diag_part, rand(2, 3, 2), ref=lambda x: np.diagonal(x, 0, -2, -1), label="batch 3x2"),
    sample("diag_part", la.diag_part, rand(0, 2), ref=np.diag, label="0x2"),
    sample("set_diag", la.set_diag, rand(3, 3), rand(3, seed=1), ref=lambda x, d: x - np.diag(np.diag(x)) + np.diag(d)),
    sample(
        "set_diag",
        la.set_diag,
        rand(2, 2, 3),
        rand(2, 2, seed=1),
        ref=lambda x, d: x * (1 - np.eye(2, 3)) + d[..., None] * np.eye(2, 3),
        label="batch 2x3",
    ),
    *[
        sample(
            "band_part",
            lambda x, _lo=lo, _up=up: la.band_part(x, _lo, _up),
            rand(*shape, seed=i),
            ref=lambda x, _lo=lo, _up=up: _band_ref(x, _lo, _up),
            label=f"({lo}, {up}) {_label(shape)}",
        )
        for i, (lo, up, shape) in enumerate(
            [(-1, 0, (3, 4)), (0, -1, (3, 3)), (0, 0, (4, 3)), (1, 1, (2, 3, 3)), (-1, -1, (0, 2))]
        )
    ],
    sample("trace", la.trace, rand(3, 3), ref=np.trace),
    sample("trace", la.trace, rand(2, 2, 3), ref=lambda x: np.trace(x, axis1=-2, axis2=-1), label="batch 2x3"),
    sample("trace", la.trace, rand(0, 0), ref=np.trace, label="0x0"),
    sample(
        "eye",
        lambda x: la.eye(2, 3, batch_shape=[2]) * x,
        np.float32(1.5),
        ref=lambda x: np.broadcast_to(np.eye(2, 3), (2, 2, 3)).astype(np.float32) * x,
        float32=False,
        order=0,
    ),
    # --- inv, solve, triangular_solve ------------------------------------------------------------
    *[
        sample("inv", la.inv, _well_conditioned(*s, seed=i), ref=np.linalg.inv, label=_label(s))
        for i, s in enumerate([(3, 3), (2, 2, 2), (1, 1), (0, 0)])
    ],
    sample(
        "inv",
        lambda x: la.inv(x, adjoint=True),
        _well_conditioned(3, 3),
        ref=lambda x: np.linalg.inv(x).T,
        label="adjoint",
    ),
]


SAMPLES += [
    *[
        sample(
            "solve",
            la.solve,
            _well_conditioned(*sa, seed=i),
            rand(*sb, seed=20 + i),
            ref=_np_solve,
            label=_label(sa, sb),
        )
        for i, (sa, sb) in enumerate(
            [((3, 3), (3, 2)), ((2, 2, 2), (2, 1)), ((2, 2), (3, 2, 2)), ((1, 1), (1, 1)), ((0, 0), (0, 2))]
        )
    ],
    sample(
        "solve",
        lambda a, b: la.solve(a, b, adjoint=True),
        _well_conditioned(3, 3),
        rand(3, 2, seed=1),
        ref=lambda a, b: np.linalg.solve(a.T, b),
        label="adjoint",
    ),
    *[
        sample(
            "triangular_solve",
            lambda a, b, _lo=lower, _adj=adj: la.triangular_solve(a, b, lower=_lo, adjoint=_adj),
            _well_conditioned(*sa, seed=i),
            rand(*sb, seed=30 + i),
            ref=lambda a, b, _lo=lower, _adj=adj: _np_triangular_solve(a, b, _lo, _adj),
            label=f"lower={lower} adjoint={adj} {_label(sa, sb)}",
        )
        for i, (lower, adj, sa, sb) in enumerate(
            [
                (True, False, (3, 3), (3, 2)),
                (False, False, (3, 3), (3, 1)),
                (True, True, (3, 3), (3, 2)),
                (False, True, (2, 2, 2), (2, 1)),  # batched: the NumPy path
                (True, False, (2, 2), (2, 2, 1)),  # rhs batch broadcasts over the matrix
                (True, False, (1, 1), (1, 3)),
                (True, False, (0, 0), (0, 2)),
            ]
        )
    ],
    # --- cholesky, cholesky_solve (inputs made SPD inside the sample, so differences stay SPD) ---
    *[
        sample(
            "cholesky",
            lambda a: la.cholesky(_spd(a)),
            rand(*s, seed=i),
            ref=lambda a: np.linalg.cholesky(_spd_np(a)),
            label=_label(s),
        )
        for i, s in enumerate([(3, 3), (2, 2, 2), (1, 1), (0, 0)])
    ],
    sample(
        "cholesky_solve",
        lambda a, b: la.cholesky_solve(la.cholesky(_spd(a)), b),
        rand(3, 3),
        rand(3, 2, seed=1),
        ref=lambda a, b: np.linalg.solve(_spd_np(a), b),
    ),
    # --- det, slogdet, logdet ----------------------------------------------------------------------
    *[
        sample("det", la.det, _well_conditioned(*s, seed=i), ref=np.linalg.det, label=_label(s))
        for i, s in enumerate([(3, 3), (2, 2, 2), (1, 1), (0, 0)])
    ],
    sample("det", la.det, rand(3, 3, seed=7), ref=np.linalg.det, label="general 3x3"),
    sample("slogdet", la.slogdet, -_well_conditioned(3, 3), ref=lambda x: tuple(np.linalg.slogdet(x))),
    sample(
        "slogdet",
        la.slogdet,
        _well_conditioned(2, 2, 2),
        ref=lambda x: tuple(np.linalg.slogdet(x)),
        label="batch",
    ),
    sample("slogdet", la.slogdet, _well_conditioned(0, 0), ref=lambda x: tuple(np.linalg.slogdet(x)), label="0x0"),
    sample("logdet", lambda a: la.logdet(_spd(a)), rand(3, 3), ref=lambda a: np.linalg.slogdet(_spd_np(a))[1]),
    sample(
        "logdet",
        lambda a: la.logdet(_spd(a)),
        rand(2, 2, 2),
        ref=lambda a: np.linalg.slogdet(_spd_np(a))[1],
        label="batch",
    ),
]


ERRORS: list[ErrorSample] = [
    error(
        "linalg.eye",
        cr.linalg.eye,
        np.array(np.inf),
        error=TypeError,
        match="eye: num_rows must be an int32 or int64",
        label="float tensor",
    ),
    error(
        "matmul", cr.matmul, rand(2, 3), rand(4, 5), error=InvalidArgument, match=r"MatMul.*inner dimensions.*3 != 4"
    ),
    error(
        "matmul",
        lambda a, b: cr.matmul(a, b, transpose_a=True),
        rand(2, 3),
        rand(3, 5),
        error=InvalidArgument,
        match=r"MatMul.*inner dimensions.*transposed.*2 != 3",
        label="transposed",
    ),
    error("matmul", cr.matmul, rand(3), rand(3, 2), error=InvalidArgument, match=r"MatMul.*rank >= 2", label="vector"),
    error(
        "matmul",
        cr.matmul,
        rand(2, 2, 3),
        rand(3, 3, 2),
        error=InvalidArgument,
        match=r"MatMul.*Incompatible shapes",
        label="batch",
    ),
    error(
        "matmul",
        cr.matmul,
        rand(2, 2),
        np.ones((2, 2), np.float32),
        error=cr.errors.InvalidDTypeError,
        match=r"MatMul.*same dtype",
        label="dtype",
    ),
    error(
        "matmul",
        cr.matmul,
        rand(2, 3),
        rand(4, 5),
        error=InvalidArgument,
        match=r"while running op 'MatMul'.*mismatch",
        label="unknown dims at run",
        at_run=True,
        static_shapes=False,
    ),
    error(
        "operator_matmul", lambda a, b: a @ b, rand(2, 3), rand(2, 3), error=InvalidArgument, match=r"MatMul.*3 != 2"
    ),
    error("inv", la.inv, rand(2, 3), error=InvalidArgument, match=r"MatrixInverse.*square.*\(2, 3\)"),
    error(
        "inv",
        la.inv,
        np.eye(2, dtype=np.int32),
        error=cr.errors.InvalidDTypeError,
        match="MatrixInverse.*floating",
        label="int",
    ),
    error(
        "inv",
        la.inv,
        np.zeros((2, 2)),
        error=InvalidArgument,
        match=r"while running op 'MatrixInverse'.*[Ss]ingular",
        label="singular at run",
        at_run=True,
    ),
    error("solve", la.solve, rand(3, 3), rand(2, 1), error=InvalidArgument, match=r"MatrixSolve.*does not fit"),
    error(
        "solve",
        la.solve,
        rand(3, 2),
        rand(3, 1),
        error=InvalidArgument,
        match=r"MatrixSolve.*square",
        label="nonsquare",
    ),
    error(
        "triangular_solve",
        la.triangular_solve,
        rand(3, 3),
        rand(3),
        error=InvalidArgument,
        match=r"MatrixTriangularSolve.*rhs.*rank >= 2",
    ),
    error("cholesky", la.cholesky, rand(3), error=InvalidArgument, match=r"Cholesky.*rank >= 2"),
    error(
        "cholesky",
        la.cholesky,
        -np.eye(2),
        error=InvalidArgument,
        match=r"while running op 'Cholesky'.*not positive definite",
        label="not SPD at run",
        at_run=True,
    ),
    error("det", la.det, rand(2, 2, 3), error=InvalidArgument, match=r"MatrixDeterminant.*square"),
    error("slogdet", la.slogdet, rand(3, 1), error=InvalidArgument, match=r"LogMatrixDeterminant.*square"),
    error(
        "set_diag",
        la.set_diag,
        rand(3, 3),
        rand(2),
        error=InvalidArgument,
        match=r"MatrixSetDiag.*must have shape \(3,\)",
    ),
    error("diag", la.diag, np.float64(1.0), error=InvalidArgument, match=r"MatrixDiag.*rank >= 1"),
    error(
        "band_part", lambda x: la.band_part(x, 1, 0), rand(3), error=InvalidArgument, match=r"MatrixBandPart.*rank >= 2"
    ),
    error(
        "einsum",
        lambda a: cr.einsum("ij,jk->ik", a),
        rand(2, 3),
        error=InvalidArgument,
        match=r"Einsum.*names 2 operand\(s\) but 1 were given",
    ),
    error(
        "einsum",
        lambda a: cr.einsum("ijk->i", a),
        rand(2, 3),
        error=InvalidArgument,
        match=r"Einsum.*operand 0 has rank 2 but 'ijk' names 3 axes",
        label="rank",
    ),
    error(
        "einsum",
        lambda a, b: cr.einsum("ij,jk->ik", a, b),
        rand(2, 3),
        rand(4, 5),
        error=InvalidArgument,
        match=r"Einsum.*subscript 'j' has incompatible sizes \[3, 4\]",
        label="sizes",
    ),
    error(
        "einsum",
        lambda a: cr.einsum("ij->k", a),
        rand(2, 3),
        error=InvalidArgument,
        match=r"Einsum.*output subscript 'k' does not appear",
        label="output",
    ),
    error(
        "einsum",
        lambda a: cr.einsum("ij->ii", a),
        rand(2, 3),
        error=InvalidArgument,
        match=r"Einsum.*repeats",
        label="output repeat",
    ),
    error(
        "einsum",
        lambda a: cr.einsum("i2->i", a),
        rand(2, 3),
        error=InvalidArgument,
        match=r"Einsum.*invalid subscript '2'",
        label="character",
    ),
    error(
        "einsum",
        lambda a: cr.einsum("i..j->i", a),
        rand(2, 3),
        error=InvalidArgument,
        match=r"Einsum.*'\.' may only appear as one '\.\.\.'",
        label="dots",
    ),
    error(
        "einsum",
        lambda a: cr.einsum("...ij->ij", a),
        rand(2, 2, 3),
        error=InvalidArgument,
        match=r"Einsum.*output needs '\.\.\.'",
        label="ellipsis dropped",
    ),
    error(
        "einsum",
        lambda a: cr.einsum("ii->i", a),
        rand(2, 3),
        error=InvalidArgument,
        match=r"Einsum.*repeats subscript 'i'",
        label="diagonal",
    ),
    error(
        "tensordot",
        lambda a, b: cr.tensordot(a, b, [[5], [0]]),
        rand(2, 3),
        rand(3, 2),
        error=ValueError,
        match=r"tensordot: axis 5 is out of bounds for a of rank 2",
    ),
    error(
        "tensordot",
        lambda a, b: cr.tensordot(a, b, 1),
        rand(2, 3),
        rand(4, 2),
        error=InvalidArgument,
        match=r"Einsum.*incompatible sizes \[3, 4\]",
        label="sizes",
    ),
    error(
        "tensordot",
        lambda a, b: cr.tensordot(a, b, 3),
        rand(2, 3),
        rand(3, 2),
        error=ValueError,
        match=r"tensordot: axes=3",
        label="count",
    ),
]

# --- TF 1.x names, singular values, norm ------------------------------------------------------
_m = np.array([[1.0, -2.0, 0.5], [3.0, 4.0, -1.0]])


def _np_norm(x, order="euclidean", axis=None, keepdims=False):
    """NumPy's norms with TensorFlow's conventions: axis=None is the whole tensor as a vector."""
    if axis is None:
        v = np.abs(x).ravel()
        p = 2 if order == "euclidean" else order
        out = np.max(v) if p == np.inf else np.sum(v**p) ** (1.0 / p)
        return np.reshape(out, (1,) * x.ndim) if keepdims else np.asarray(out)
    np_ord = "fro" if order == "euclidean" and isinstance(axis, tuple) else (None if order == "euclidean" else order)
    return np.linalg.norm(x, ord=np_ord, axis=axis, keepdims=keepdims)


# (shape, order, axis, keepdims): vector norms over all / one axis, matrix norms batched over the rest.
NORM_CASES = [
    ((2, 3), "euclidean", None, False),
    ((2, 3), 1, None, False),
    ((2, 3), np.inf, None, True),
    ((2, 3), 3, None, False),
    ((2, 3), "euclidean", 1, False),
    ((2, 3), 1, 0, True),
    ((2, 3), np.inf, -1, False),
    ((2, 3, 4), "fro", (1, 2), False),
    ((2, 3, 4), "euclidean", (-1, 0), True),
    ((3, 4), 1, (0, 1), False),
    ((2, 3, 4), np.inf, (2, 1), False),
    ((2, 3, 4), 2, (1, 2), False),
    ((3, 2, 4), 2, (0, 2), True),
]


def _norm_sample(i, shape, order, axis, keepdims):
    # Distinct singular values (the 2-norm's gradient needs a simple largest one); no entry near 0
    # (the kinks of |x| at 0 and the nan gradient of the euclidean norm at 0).
    x = rand(*shape, low=0.3, high=2.0, seed=i) * np.where(rand(*shape, seed=50 + i) > 0, 1, -1)
    return sample(
        "norm",
        lambda t: cr.norm(t, ord=order, axis=list(axis) if isinstance(axis, tuple) else axis, keepdims=keepdims),
        x,
        ref=lambda a: _np_norm(a, order, axis, keepdims),
        label=f"{'x'.join(map(str, shape))} ord={order} axis={axis}" + (" keepdims" if keepdims else ""),
        order=1 if order == 2 and isinstance(axis, tuple) else 2,
    )


SAMPLES += [
    sample("matrix_inverse", cr.matrix_inverse, _well_conditioned(2, 3, 3), ref=np.linalg.inv),
    sample(
        "matrix_inverse",
        lambda x: cr.matrix_inverse(x, adjoint=True),
        _well_conditioned(3, 3, seed=1),
        ref=lambda x: np.linalg.inv(x).T,
        label="adjoint",
    ),
    sample("matrix_determinant", cr.matrix_determinant, _well_conditioned(2, 3, 3), ref=np.linalg.det),
    # Differentiable once (see cr.linalg.singular_values); distinct values keep the gradient defined.
    sample(
        "linalg.singular_values",
        la.singular_values,
        _m,
        ref=lambda x: np.linalg.svd(x, compute_uv=False),
        order=1,
    ),
    sample(
        "linalg.singular_values",
        la.singular_values,
        rand(2, 4, 3, seed=3),
        ref=lambda x: np.linalg.svd(x, compute_uv=False),
        label="batch, tall",
        order=1,
    ),
    *[_norm_sample(i, *case) for i, case in enumerate(NORM_CASES)],
    sample("linalg.norm", la.norm, _m, ref=lambda x: np.linalg.norm(x)),
]

ERRORS += [
    error("norm", lambda x: cr.norm(x, ord="fro"), _m, error=ValueError, match="supported vector norm.*fro"),
    error("norm", lambda x: cr.norm(x, ord=3, axis=[0, 1]), _m, error=ValueError, match="supported matrix norm"),
    error("norm", lambda x: cr.norm(x, axis=[0, 0]), _m, error=ValueError, match="2 unique integers", label="axes"),
    error("norm", lambda x: cr.norm(x, ord=-1), _m, error=ValueError, match="supported vector norm", label="order<0"),
    error(
        "linalg.singular_values",
        la.singular_values,
        rand(3),
        error=InvalidArgument,
        match=r"SingularValues.*rank >= 2",
    ),
]

# TensorFlow 1.x's top-level names: the tensor diag / diag_part, cross, linspace (ops.tf1_linalg).
SAMPLES += [
    sample("diag", cr.diag, rand(3), ref=np.diag, unknown_dims=False, label="vector"),
    sample(
        "diag",
        cr.diag,
        rand(2, 3),
        ref=lambda d: np.diag(d.ravel()).reshape(2, 3, 2, 3),
        unknown_dims=False,
        label="2x3",
    ),
    sample("diag_part", cr.diag_part, rand(3, 3), ref=np.diagonal, unknown_dims=False, label="matrix"),
    sample(
        "diag_part",
        cr.diag_part,
        rand(2, 3, 2, 3),
        ref=lambda x: np.diagonal(x.reshape(6, 6)).reshape(2, 3),
        unknown_dims=False,
        label="2x3x2x3",
    ),
    sample("cross", cr.cross, rand(3), rand(3, seed=1), ref=np.cross, label="3"),
    sample("cross", cr.cross, rand(4, 3), rand(4, 3, seed=1), ref=np.cross, label="4x3"),
    sample("cross", cr.cross, rand(0, 3), rand(0, 3, seed=1), ref=np.cross, label="0x3"),
    sample(
        "linspace",
        lambda a, b: cr.linspace(a, b, 5),
        np.array(-1.5),
        np.array(2.0),
        ref=lambda a, b: np.linspace(a, b, 5),
        label="5",
    ),
    sample("linspace", lambda a, b: cr.linspace(a, b, 1), np.array(0.5), np.array(2.0), ref=lambda a, b: a[None]),
]
ERRORS += [
    error("diag", cr.diag, np.array(1.0), error=ValueError, match="rank 1 or more", label="scalar"),
    error("diag_part", cr.diag_part, rand(2, 3), error=ValueError, match=r"\[d1..dk, d1..dk\]", label="2x3"),
    error("cross", cr.cross, rand(2), rand(2), error=ValueError, match="last dimension must be 3", label="2"),
    error(
        "linspace",
        lambda a, b: cr.linspace(a, b, 0),
        np.array(0.0),
        np.array(1.0),
        error=ValueError,
        match="positive integer",
        label="num 0",
    ),  # fmt: skip
]

# Symmetric eigendecomposition: distinct eigenvalues (a well-conditioned matrix, symmetrized), and
# quantities that do not depend on the eigenvectors' signs.
_SYMMETRIC = _well_conditioned(3, 3, seed=7) @ _well_conditioned(3, 3, seed=7).T
_SYMMETRIC_BATCH = np.stack([_SYMMETRIC, _SYMMETRIC + np.diag([0.0, 1.5, 4.0])])
SAMPLES += [
    sample("self_adjoint_eig", cr.self_adjoint_eigvals, _SYMMETRIC, ref=lambda a: np.linalg.eigh(a)[0], label="values"),
    sample(
        "self_adjoint_eig",
        lambda a: cr.square(cr.self_adjoint_eig(a)[1]),
        _SYMMETRIC,
        ref=lambda a: np.linalg.eigh(a)[1] ** 2,
        label="vectors squared",
        rtol=1e-6,
    ),
    sample(
        "self_adjoint_eig",
        lambda a: cr.self_adjoint_eig(a)[0] + cr.reduce_sum(cr.square(cr.self_adjoint_eig(a)[1]), axis=-2),
        _SYMMETRIC_BATCH,
        ref=lambda a: np.linalg.eigh(a)[0] + 1.0,
        label="batch",
    ),
]
ERRORS += [
    error("self_adjoint_eig", cr.self_adjoint_eigvals, rand(2, 3), error=ValueError, match="square", label="2x3"),
]
