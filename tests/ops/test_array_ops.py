"""Array ops: behaviour the op table does not cover (unknown shapes, dynamic index tensors, multi-output
ops, accumulation of repeated indices, the ZeroOut gradient pattern of DESIGN.md) and property tests of
indexing, reshape, transpose and concat against NumPy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st
from ops_helpers import run

import chainrule as cr
from chainrule.ops import array_ops
from chainrule.testing.samples import array as array_samples

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


pytestmark = pytest.mark.usefixtures("fresh_graph")


def test_every_public_array_op_has_a_sample_and_an_error_sample_or_is_trivial():
    sampled = {s.name for s in array_samples.SAMPLES}
    missing = [name for name in array_ops.__all__ if name not in sampled]
    assert not missing, f"array ops without samples: {missing}"
    assert all(hasattr(cr, name) for name in array_ops.__all__)


# --- the ZeroOut gradient of DESIGN.md ------------------------------------------------------------
def _zero_out_grad(to_zero, grad):
    """Exactly the body of ``_zero_out_grad`` in DESIGN.md."""
    shape = cr.shape(to_zero)
    index = cr.zeros_like(shape)
    first_grad = cr.reshape(grad, [-1])[0]
    to_zero_grad = cr.sparse_to_dense([index], shape, first_grad, 0)
    return to_zero_grad


@pytest.mark.parametrize("static_shape", [[2, 3], [None, None], None], ids=["known", "unknown dims", "unknown rank"])
def test_zero_out_gradient_pattern(static_shape):
    to_zero = cr.placeholder(cr.float32, static_shape)
    grad = cr.placeholder(cr.float32, static_shape)
    out = _zero_out_grad(to_zero, grad)
    assert out.dtype == cr.float32
    if static_shape == [2, 3]:
        assert out.shape == (2, 3)
    g = np.arange(1, 7, dtype=np.float32).reshape(2, 3) + 0.5
    got = run(out, {to_zero: np.zeros((2, 3), np.float32), grad: g})
    want = np.zeros((2, 3), np.float32)
    want[0, 0] = 1.5
    np.testing.assert_array_equal(got, want)
    assert got.dtype == np.float32


def test_zero_out_gradient_pattern_on_3d_input_with_unknown_rank():
    to_zero = cr.placeholder(cr.float64)
    grad = cr.placeholder(cr.float64)
    got = run(_zero_out_grad(to_zero, grad), {to_zero: np.ones((2, 1, 2)), grad: np.full((2, 1, 2), 7.0)})
    np.testing.assert_array_equal(got, [[[7.0, 0.0]], [[0.0, 0.0]]])


@cr.RegisterGradient("ArrayOpsTestZeroOut")
def _registered_zero_out_grad(op, grad):
    return [_zero_out_grad(op.inputs[0], grad)]


def test_zero_out_gradient_pattern_as_a_registered_gradient():
    x = cr.placeholder(cr.float32, [2, 3])
    g = cr.get_default_graph()
    with g.gradient_override_map({"Identity": "ArrayOpsTestZeroOut"}):
        y = cr.identity(x)
    w = np.arange(6, dtype=np.float32).reshape(2, 3) + 2.0
    (dx,) = cr.gradients(cr.reduce_sum(y * w), [x])
    got = run(dx, {x: np.ones((2, 3), np.float32)})
    np.testing.assert_array_equal(got, [[2.0, 0, 0], [0, 0, 0]])


def test_zero_out_gradient_pattern_is_differentiable_twice():
    cr.test.check_gradients(
        lambda x, g: _zero_out_grad(x, g) * g, [np.ones((2, 2)), np.array([[1.5, -2.0], [0.5, 3.0]])]
    )


def test_list_holding_a_tensor_is_packed_into_an_int32_matrix():
    index = cr.zeros_like(cr.shape(cr.placeholder(cr.float32, [4, 5, 6])))
    packed = cr.convert_to_tensor([index])
    assert packed.dtype == cr.int32 and packed.shape == (1, 3)
    np.testing.assert_array_equal(run(packed), [[0, 0, 0]])


# --- getitem ---------------------------------------------------------------------------------------
@st.composite
def _shape_and_key(draw):
    shape = tuple(draw(st.lists(st.integers(0, 4), min_size=0, max_size=4)))
    parts = []
    for d in shape[: draw(st.integers(0, len(shape)))]:
        if d > 0 and draw(st.booleans()):
            parts.append(draw(st.integers(-d, d - 1)))
        else:
            bound = st.one_of(st.none(), st.integers(-d - 2, d + 2))
            step = st.one_of(st.none(), st.integers(-3, 3).filter(bool))
            parts.append(slice(draw(bound), draw(bound), draw(step)))
    for _ in range(draw(st.integers(0, 2))):
        parts.insert(draw(st.integers(0, len(parts))), None)
    if draw(st.booleans()):
        parts.insert(draw(st.integers(0, len(parts))), Ellipsis)
    as_tensor = draw(st.lists(st.booleans(), min_size=len(parts), max_size=len(parts)))
    return shape, tuple(parts), as_tensor


@SETTINGS
@given(_shape_and_key(), st.booleans())
def test_getitem_matches_numpy(case, unknown_dims):
    shape, key, as_tensor = case
    value = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape) + 0.25
    try:
        want = value[key]
    except IndexError:  # an Ellipsis moved an int onto a dimension it does not fit
        reject()
    with cr.Graph().as_default():
        x = cr.placeholder(cr.float64, [None] * len(shape) if unknown_dims else shape)
        feed = {x: value}
        # Integer entries may also be given as scalar int32 tensors.
        tf_key = []
        for k, dynamic in zip(key, as_tensor, strict=True):
            if isinstance(k, int) and dynamic:
                t = cr.placeholder(cr.int32, [])
                feed[t] = np.int32(k)
                k = t
            tf_key.append(k)
        y = x[tuple(tf_key)]
        assert y.shape.is_compatible_with(want.shape), (y.shape, want.shape)
        if not unknown_dims:
            assert y.shape.is_fully_defined() and tuple(y.shape.as_list()) == want.shape
        w = np.random.default_rng(0).standard_normal(want.shape)
        (dx,) = cr.gradients(cr.reduce_sum(y * w), [x])
        got, got_dx = run([y, dx], feed)
    np.testing.assert_array_equal(got, want)
    # Basic indexing never repeats an element: the gradient is w written back in place.
    want_dx = np.zeros(shape)
    want_dx[key] = w
    np.testing.assert_array_equal(got_dx, want_dx)


def test_getitem_static_shapes_with_unknown_dims():
    x = cr.placeholder(cr.float32, [None, 3])
    assert x[1:].shape.as_list() == [None, 3]
    assert x[::-1, 0].shape.as_list() == [None]
    assert x[..., None].shape.as_list() == [None, 3, 1]
    assert x[:, ::-2].shape.as_list() == [None, 2]
    assert cr.placeholder(cr.float32)[0].shape.rank is None


def test_getitem_with_tensor_slice_bounds():
    x = cr.placeholder(cr.float64, [5])
    start = cr.placeholder(cr.int32, [])
    y = x[start:]
    assert y.shape.as_list() == [None]
    (dx,) = cr.gradients(cr.reduce_sum(y * y), [x])
    value = np.arange(5.0)
    got, got_dx = run([y, dx], {x: value, start: 3})
    np.testing.assert_array_equal(got, [3.0, 4.0])
    np.testing.assert_array_equal(got_dx, [0, 0, 0, 6.0, 8.0])


def test_getitem_index_out_of_range_at_run_time():
    x = cr.placeholder(cr.float32, [None])
    i = cr.placeholder(cr.int32, [])
    with pytest.raises(cr.errors.InvalidArgumentError, match="StridedSlice"):
        run(x[i], {x: np.zeros(2, np.float32), i: 5})


def test_getitem_rejects_bool_scalars_and_gathers_int_arrays():
    x = cr.placeholder(cr.float32, [3])
    with pytest.raises(TypeError, match="cr.gather"):
        x[True]
    # Issue 17: int arrays (lists, ndarrays, int tensors) index as in NumPy (tests/numpy has the rest).
    values = np.array([1.0, 2.0, 3.0], np.float32)
    np.testing.assert_array_equal(run(x[cr.constant([2, 0])], {x: values}), [3.0, 1.0])


def test_iterating_over_a_tensor_unpacks_the_first_dimension():
    a, b = cr.constant([[1, 2], [3, 4]])
    np.testing.assert_array_equal(run([a, b]), [[1, 2], [3, 4]])


# --- reshape, transpose, concat, stack (property tests) ---------------------------------------------
def _factorizations(draw, n, max_rank=4):
    dims = []
    while n > 1 and len(dims) < max_rank - 1:
        divisors = [d for d in range(1, n + 1) if n % d == 0]
        d = draw(st.sampled_from(divisors))
        dims.append(d)
        n //= d
    dims.append(n)
    return draw(st.permutations(dims))


@SETTINGS
@given(st.data())
def test_reshape_matches_numpy(data):
    shape = tuple(data.draw(st.lists(st.integers(1, 4), max_size=4)))
    n = int(np.prod(shape))
    target = list(_factorizations(data.draw, n))
    if data.draw(st.booleans()):
        target[data.draw(st.integers(0, len(target) - 1))] = -1
    value = np.arange(n, dtype=np.float64).reshape(shape)
    x = cr.placeholder(cr.float64, shape)
    y = cr.reshape(x, target)
    want = value.reshape(target)
    assert tuple(y.shape.as_list()) == want.shape
    w = np.random.default_rng(1).standard_normal(want.shape)
    (dx,) = cr.gradients(cr.reduce_sum(y * w), [x])
    got, got_dx = run([y, dx], {x: value})
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(got_dx, w.reshape(shape))


@SETTINGS
@given(
    st.lists(st.integers(0, 3), max_size=4).flatmap(
        lambda s: st.tuples(st.just(tuple(s)), st.permutations(range(len(s))))
    )
)
def test_transpose_matches_numpy(case):
    shape, perm = case
    value = np.random.default_rng(2).standard_normal(shape)
    x = cr.placeholder(cr.float64, [None] * len(shape))
    y = cr.transpose(x, perm)
    want = value.transpose(perm)
    w = np.random.default_rng(3).standard_normal(want.shape)
    (dx,) = cr.gradients(cr.reduce_sum(y * w), [x])
    got, got_dx = run([y, dx], {x: value})
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(got_dx, w.transpose(np.argsort(perm)))
    assert tuple(cr.transpose(cr.placeholder(cr.float64, shape), perm).shape.as_list()) == want.shape


@SETTINGS
@given(st.data())
def test_concat_and_split_match_numpy(data):
    rank = data.draw(st.integers(1, 3))
    base = data.draw(st.lists(st.integers(0, 3), min_size=rank, max_size=rank))
    axis = data.draw(st.integers(-rank, rank - 1))
    sizes = data.draw(st.lists(st.integers(0, 3), min_size=1, max_size=4))
    unknown = data.draw(st.booleans())
    values = []
    for i, s in enumerate(sizes):
        shape = list(base)
        shape[axis] = s
        values.append(np.random.default_rng(i).standard_normal(shape))
    xs = [cr.placeholder(cr.float64, [None] * rank if unknown else v.shape) for v in values]
    y = cr.concat(xs, axis)
    want = np.concatenate(values, axis)
    if not unknown:
        assert tuple(y.shape.as_list()) == want.shape
    parts = cr.split(y, sizes, axis=axis)
    w = np.random.default_rng(9).standard_normal(want.shape)
    grads = cr.gradients(cr.reduce_sum(y * w), xs)
    feed = dict(zip(xs, values, strict=True))
    got, got_parts, got_grads = run([y, parts, grads], feed)
    np.testing.assert_array_equal(got, want)
    for part, v in zip(got_parts, values, strict=True):
        np.testing.assert_array_equal(part, v)
    for g, piece in zip(got_grads, np.split(w, np.cumsum(sizes)[:-1], axis), strict=True):
        np.testing.assert_array_equal(g, piece)


def test_concat_static_shape_merges_known_dims():
    a = cr.placeholder(cr.float32, [None, 3])
    b = cr.placeholder(cr.float32, [2, None])
    assert cr.concat([a, b], 0).shape.as_list() == [None, 3]
    assert cr.concat([a, b], 1).shape.as_list() == [2, None]
    assert cr.concat([cr.placeholder(cr.float32, [2, 3]), b], 0).shape.as_list() == [4, 3]
    assert cr.concat([cr.placeholder(cr.float32), a], -1).shape.as_list() == [None, None]


def test_concat_gradient_with_unknown_shapes_is_twice_differentiable():
    a = cr.placeholder(cr.float64, [None, None])
    b = cr.placeholder(cr.float64)
    y = cr.concat([a, b], -1)
    (da, db) = cr.gradients(cr.reduce_sum(y * y * y), [a, b])
    (dda,) = cr.gradients(cr.reduce_sum(da), [a])
    va, vb = np.array([[1.0, 2.0]]), np.array([[3.0]])
    got = run([da, db, dda], {a: va, b: vb})
    np.testing.assert_allclose(got[0], 3 * va**2)
    np.testing.assert_allclose(got[1], 3 * vb**2)
    np.testing.assert_allclose(got[2], 6 * va)


def test_stack_with_negative_axis_and_unknown_rank():
    a, b = cr.placeholder(cr.float64), cr.placeholder(cr.float64)
    y = cr.stack([a, b], axis=-1)
    assert y.shape.rank is None
    va, vb = np.ones((2, 3)), np.zeros((2, 3))
    w = np.random.default_rng(0).standard_normal((2, 3, 2))
    da, db = cr.gradients(cr.reduce_sum(y * w), [a, b])
    got, ga, gb = run([y, da, db], {a: va, b: vb})
    np.testing.assert_array_equal(got, np.stack([va, vb], -1))
    np.testing.assert_array_equal(ga, w[..., 0])
    np.testing.assert_array_equal(gb, w[..., 1])
    assert cr.stack([cr.placeholder(cr.float32, [2, 3])] * 4, axis=-2).shape == (2, 4, 3)


# --- multi-output ops ---------------------------------------------------------------------------------
def test_split_and_unstack_return_lists():
    x = cr.placeholder(cr.float32, [2, 3])
    assert isinstance(cr.split(x, 1), list) and len(cr.split(x, 1)) == 1
    assert isinstance(cr.unstack(x), list) and len(cr.unstack(x, axis=1)) == 3
    assert cr.unstack(cr.placeholder(cr.float32, [0, 2])) == []
    a, b, c = cr.split(x, [1, -1, 0], axis=1)
    assert a.shape == (2, 1) and b.shape == (2, 2) and c.shape == (2, 0)


def test_split_with_tensor_sizes_needs_num_when_length_unknown():
    x = cr.placeholder(cr.float64, [5])
    sizes = cr.placeholder(cr.int32, [None])
    with pytest.raises(ValueError, match="num="):
        cr.split(x, sizes)
    a, b = cr.split(x, sizes, num=2)
    assert a.shape.as_list() == [None]
    (dx,) = cr.gradients(cr.reduce_sum(a) + 2 * cr.reduce_sum(b), [x])
    got = run([a, b, dx], {x: np.arange(5.0), sizes: [2, 3]})
    np.testing.assert_array_equal(got[0], [0, 1])
    np.testing.assert_array_equal(got[1], [2, 3, 4])
    np.testing.assert_array_equal(got[2], [1, 1, 2, 2, 2])


def test_split_sizes_mixing_ints_and_tensors_keeps_known_dims():
    x = cr.placeholder(cr.float32, [None, 4])
    n = cr.shape(x)[0]
    a, b = cr.split(x, [1, n - 1], axis=0)
    assert a.shape.as_list() == [1, 4] and b.shape.as_list() == [None, 4]


def test_unused_outputs_of_unstack_get_zero_gradients():
    x = cr.placeholder(cr.float64, [3, 2])
    parts = cr.unstack(x)
    (dx,) = cr.gradients(cr.reduce_sum(parts[1] * 3.0), [x])
    np.testing.assert_array_equal(run(dx, {x: np.ones((3, 2))}), [[0, 0], [3, 3], [0, 0]])


# --- slice, pad, tile with index tensors known only at run time -------------------------------------
def test_slice_with_dynamic_begin_and_size():
    x = cr.placeholder(cr.float64, [None, None])
    begin = cr.placeholder(cr.int32, [2])
    size = cr.placeholder(cr.int32, [2])
    y = cr.slice(x, begin, size)
    assert y.shape.as_list() == [None, None]
    value = np.arange(12.0).reshape(3, 4)
    got = run(y, {x: value, begin: [1, 1], size: [-1, 2]})
    np.testing.assert_array_equal(got, value[1:, 1:3])


def test_slice_static_shape_with_size_minus_one():
    x = cr.placeholder(cr.float32, [5, None])
    assert cr.slice(x, [2, 1], [-1, -1]).shape.as_list() == [3, None]
    assert cr.slice(x, [2, 1], [1, 2]).shape.as_list() == [1, 2]


def test_slice_pad_and_tile_gradients_through_dynamic_paths_twice():
    cr.test.check_gradients(
        lambda x, b: cr.slice(x, b, [2, -1]) ** 2, [np.arange(12.0).reshape(3, 4) / 7, np.array([1, 1], np.int32)]
    )
    cr.test.check_gradients(
        lambda x, p, c: cr.pad(x, p, constant_values=c) ** 3,
        [np.array([[0.5, -1.0], [2.0, 1.5]]), np.array([[1, 0], [0, 2]], np.int32), np.array(0.75)],
    )
    cr.test.check_gradients(
        lambda x, p: cr.pad(x, p, "REFLECT") ** 2, [np.array([[0.5, -1.0, 1.2]]), np.array([[0, 0], [2, 1]], np.int32)]
    )
    cr.test.check_gradients(
        lambda x, p: cr.pad(x, p, "SYMMETRIC") ** 2, [np.array([0.5, -1.0, 1.2]), np.array([[3, 2]], np.int32)]
    )
    cr.test.check_gradients(lambda x, m: cr.tile(x, m) ** 2, [np.array([[0.5, -1.0, 1.2]]), np.array([2, 2], np.int32)])


def test_pad_constant_values_gradient_counts_padded_elements():
    x = cr.placeholder(cr.float64, [2, 2])
    c = cr.placeholder(cr.float64, [])
    y = cr.pad(x, [[1, 1], [0, 1]], constant_values=c)
    dx, dc = cr.gradients(y, [x, c])
    got_dx, got_dc = run([dx, dc], {x: np.zeros((2, 2)), c: 1.0})
    np.testing.assert_array_equal(got_dx, np.ones((2, 2)))
    assert got_dc == 4 * 3 - 4


def test_mirror_pad_gradient_folds_borders_back():
    x = cr.placeholder(cr.float64, [4])
    for mode, want in [("REFLECT", [1, 2, 2, 1]), ("SYMMETRIC", [2, 2, 1, 1])]:
        (dx,) = cr.gradients(cr.pad(x, [[2, 0]], mode), [x])
        np.testing.assert_array_equal(run(dx, {x: np.zeros(4)}), want, err_msg=mode)


def test_tile_with_unknown_input_shape():
    x = cr.placeholder(cr.float64, [None, None])
    y = cr.tile(x, [2, 3])
    assert y.shape.as_list() == [None, None]
    (dx,) = cr.gradients(y, [x])
    got, got_dx = run([y, dx], {x: np.ones((1, 2))})
    assert got.shape == (2, 6)
    np.testing.assert_array_equal(got_dx, np.full((1, 2), 6.0))


# --- gather / scatter: repeated indices accumulate --------------------------------------------------------
def test_gather_gradient_accumulates_repeated_indices():
    p = cr.placeholder(cr.float64, [3, 2])
    y = cr.gather(p, [0, 0, 2, 0])
    (dp,) = cr.gradients(y, [p])
    np.testing.assert_array_equal(run(dp, {p: np.zeros((3, 2))}), [[3, 3], [0, 0], [1, 1]])


def test_gather_along_inner_axis_with_unknown_dims():
    p = cr.placeholder(cr.float64, [None, None, None])
    i = cr.placeholder(cr.int32, [None])
    y = cr.gather(p, i, axis=1)
    (dp,) = cr.gradients(y, [p])
    value = np.arange(12.0).reshape(2, 3, 2)
    got, got_dp = run([y, dp], {p: value, i: [2, 2, 0]})
    np.testing.assert_array_equal(got, value[:, [2, 2, 0]])
    want = np.zeros((2, 3, 2))
    want[:, 0] = 1
    want[:, 2] = 2
    np.testing.assert_array_equal(got_dp, want)


def test_gather_keyword_axis_and_tf_positional_order():
    p = cr.constant([[1, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(run(cr.gather(p, [2, 0], None, "g", 1)), [[3, 1], [6, 4]])
    np.testing.assert_array_equal(run(cr.gather(p, [1], axis=-2)), [[4, 5, 6]])


def test_gather_nd_gradient_accumulates_and_scatter_nd_adds_duplicates():
    p = cr.placeholder(cr.float64, [2, 2])
    y = cr.gather_nd(p, [[0, 1], [0, 1], [1, 0]])
    (dp,) = cr.gradients(y, [p])
    np.testing.assert_array_equal(run(dp, {p: np.zeros((2, 2))}), [[0, 2], [1, 0]])
    s = cr.scatter_nd([[1], [1], [0]], cr.constant([1.0, 2.0, 4.0]), [3])
    np.testing.assert_array_equal(run(s), [4.0, 3.0, 0.0])


def test_scatter_nd_with_dynamic_shape():
    u = cr.placeholder(cr.float64, [2])
    shape = cr.placeholder(cr.int32, [1])
    y = cr.scatter_nd([[0], [2]], u, shape)
    assert y.shape.as_list() == [None]
    np.testing.assert_array_equal(run(y, {u: [1.0, 2.0], shape: [4]}), [1.0, 0.0, 2.0, 0.0])


# --- range, one_hot, sparse_to_dense, reverse, squeeze, expand_dims ------------------------------------------
def test_range_dtypes_and_tensor_arguments():
    assert cr.range(5).dtype == cr.int32
    assert cr.range(1, 5.0).dtype == cr.float32
    assert cr.range(cr.constant(3, dtype=cr.int64)).dtype == cr.int64
    assert cr.range(0, 1, 0.25, dtype=cr.float64).dtype == cr.float64
    limit = cr.placeholder(cr.int32, [])
    r = cr.range(1, limit, 2)
    assert r.shape.as_list() == [None]
    np.testing.assert_array_equal(run(r, {limit: 8}), [1, 3, 5, 7])
    with pytest.raises(cr.errors.InvalidArgumentError, match="delta must not be 0"):
        run(cr.range(0, limit, 0), {limit: 3})


def test_range_is_not_differentiable():
    start = cr.placeholder(cr.float32, [])
    r = cr.range(start, 3.0)
    assert cr.gradients(cr.reduce_sum(r), [start]) == [None]


def test_one_hot_out_of_range_indices_give_off_value_and_dtype_follows_on_value():
    y = cr.one_hot([1, 5, -1], 3, on_value=cr.constant(2.0, cr.float64), off_value=-1.0)
    assert y.dtype == cr.float64
    np.testing.assert_array_equal(run(y), [[-1, 2, -1], [-1, -1, -1], [-1, -1, -1]])
    assert cr.one_hot([0], 2).dtype == cr.float32
    assert cr.one_hot(cr.placeholder(cr.int32, [None]), 4).shape.as_list() == [None, 4]
    assert cr.one_hot(cr.placeholder(cr.int32, [5]), cr.placeholder(cr.int32, [])).shape.as_list() == [5, None]


def test_one_hot_gradient_wrt_on_and_off_values():
    on = cr.placeholder(cr.float64, [])
    off = cr.placeholder(cr.float64, [])
    y = cr.one_hot([0, 1, 7], 4, on, off)
    d_on, d_off = cr.gradients(y, [on, off])
    assert tuple(run([d_on, d_off], {on: 1.0, off: 0.0})) == (2.0, 10.0)


def test_sparse_to_dense_default_value_gradient_and_validation():
    v = cr.placeholder(cr.float64, [2])
    d = cr.placeholder(cr.float64, [])
    y = cr.sparse_to_dense([[0, 0], [1, 2]], [2, 3], v, d)
    dv, dd = cr.gradients(y * y, [v, d])
    got = run([y, dv, dd], {v: [1.0, 2.0], d: 3.0})
    np.testing.assert_array_equal(got[0], [[1, 3, 3], [3, 3, 2]])
    np.testing.assert_array_equal(got[1], [2.0, 4.0])
    assert got[2] == 4 * 2 * 3.0
    dup = cr.sparse_to_dense([1, 1], [3], 5.0, validate_indices=False)
    np.testing.assert_array_equal(run(dup), [0, 5, 0])


def test_sparse_to_dense_output_shape_from_a_tensor():
    n = cr.placeholder(cr.int32, [])
    y = cr.sparse_to_dense([2], cr.stack([n]), 1.0)
    assert y.shape.as_list() == [None]
    np.testing.assert_array_equal(run(y, {n: 4}), [0, 0, 1, 0])


def test_squeeze_and_expand_dims_with_unknown_shapes():
    x = cr.placeholder(cr.float32, [1, None, 1])
    assert cr.squeeze(x).shape.rank is None
    assert cr.squeeze(x, [0, -1]).shape.as_list() == [None]
    assert cr.expand_dims(x, -1).shape.as_list() == [1, None, 1, 1]
    assert cr.expand_dims(cr.placeholder(cr.float32), 0).shape.rank is None
    assert cr.squeeze(cr.placeholder(cr.float32, [1, 3]), squeeze_dims=[0]).shape == (3,)
    assert cr.expand_dims(cr.placeholder(cr.float32, [3]), dim=1).shape == (3, 1)
    got = run(cr.squeeze(x), {x: np.ones((1, 1, 1), np.float32)})
    assert got.shape == ()


def test_reverse_with_unknown_rank():
    x = cr.placeholder(cr.float64)
    y = cr.reverse(x, [-1])
    (dx,) = cr.gradients(cr.reduce_sum(y * np.array([1.0, 2.0, 3.0])), [x])
    got, got_dx = run([y, dx], {x: np.array([[1.0, 2.0, 3.0]])})
    np.testing.assert_array_equal(got, [[3, 2, 1]])
    np.testing.assert_array_equal(got_dx, [[3, 2, 1]])


def test_zeros_like_and_ones_like_with_unknown_shapes_and_dtypes():
    x = cr.placeholder(cr.float64, [None, 2])
    z, o = cr.zeros_like(x), cr.ones_like(x, dtype=cr.int32)
    assert z.dtype == cr.float64 and o.dtype == cr.int32
    assert z.shape.is_compatible_with([3, 2])
    got_z, got_o = run([z, o], {x: np.full((3, 2), 5.0)})
    np.testing.assert_array_equal(got_z, np.zeros((3, 2)))
    np.testing.assert_array_equal(got_o, np.ones((3, 2), np.int32))
    assert got_o.dtype == np.int32
