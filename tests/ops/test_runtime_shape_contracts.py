"""Ops whose static rule accepts merely compatible shapes check the run-time shapes (issue 12, item 4).

Each case runs compiled (the default passes and code generation), as written, and interpreted:
all three must raise the same InvalidArgumentError naming the op, instead of broadcasting.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import compiler

SESSIONS = {
    "compiled": None,
    "as-written": compiler.Options(passes=()),
    "interpreted": compiler.Options(passes=(), codegen=False),
}


def run(fetch, feeds, optimize):
    return cr.Session(optimize=optimize).run(fetch, feeds)


@pytest.mark.parametrize("mode", SESSIONS)
@pytest.mark.parametrize("n", [2, 3])
def test_add_n_of_compatible_static_shapes_refuses_unequal_runtime_shapes(mode, n):
    xs = [cr.placeholder(cr.float32, [None], name=f"x{i}") for i in range(n)]
    total = cr.add_n(xs) * 2.0
    feeds = {x: np.ones(3, np.float32) for x in xs}
    feeds[xs[0]] = np.ones(1, np.float32)
    with pytest.raises(cr.errors.InvalidArgumentError, match=r"(?s)add_n must have the same shape.*AddN.*created at"):
        run(total, feeds, SESSIONS[mode])
    feeds[xs[0]] = np.full(3, 2.0, np.float32)
    np.testing.assert_array_equal(run(total, feeds, SESSIONS[mode]), np.full(3, 2.0 * (n + 1), np.float32))


@pytest.mark.parametrize("mode", SESSIONS)
def test_add_n_gradient_of_unequal_runtime_shapes_raises(mode):
    a, b = cr.placeholder(cr.float64, [None]), cr.placeholder(cr.float64, [None])
    grads = cr.gradients(cr.add_n([a, b]), [a, b])
    with pytest.raises(cr.errors.InvalidArgumentError, match="AddN"):
        run(grads, {a: np.ones(1), b: np.ones(3)}, SESSIONS[mode])


@pytest.mark.parametrize("mode", SESSIONS)
def test_identity_transpose_of_unknown_rank_is_not_removed(mode):
    u = cr.placeholder(cr.float32)
    t = cr.transpose(u, [0, 1])
    with pytest.raises(cr.errors.InvalidArgumentError, match="Transpose"):
        run(t, {u: np.ones(3, np.float32)}, SESSIONS[mode])
    value = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_array_equal(run(t, {u: value}, SESSIONS[mode]), value)


def test_pad_with_wrong_number_of_rows_raises_at_graph_build():
    x = cr.ones([2, 3])
    for paddings in ([[1, 1]], [[1, 1], [1, 1], [1, 1]]):
        with pytest.raises(cr.errors.InvalidArgumentError, match="(?s)PadV2.*one row per dimension.*created at"):
            cr.pad(x, paddings)


@pytest.mark.parametrize("mode", SESSIONS)
@pytest.mark.parametrize("pad_mode", ["CONSTANT", "REFLECT", "SYMMETRIC"])
@pytest.mark.parametrize("rows", [1, 3])
def test_pad_of_unknown_rank_checks_paddings_at_run_time(mode, pad_mode, rows):
    u = cr.placeholder(cr.float32)
    t = cr.pad(u, [[1, 1]] * rows, mode=pad_mode)
    with pytest.raises(cr.errors.InvalidArgumentError, match=r"(?s)paddings must have shape \[2, 2\].*Pad"):
        run(t, {u: np.ones((2, 3), np.float32)}, SESSIONS[mode])


@pytest.mark.parametrize("mode", SESSIONS)
def test_pad_of_unknown_rank_still_pads(mode):
    u = cr.placeholder(cr.float32)
    value = np.arange(6, dtype=np.float32).reshape(2, 3)
    out = run(cr.pad(u, [[1, 0], [0, 2]]), {u: value}, SESSIONS[mode])
    np.testing.assert_array_equal(out, np.pad(value, [(1, 0), (0, 2)]))
