"""Reductions and scans: behaviour the op table does not cover (ties, infinities, dtypes, errors,
unknown ranks, gradients through the dynamic-shape paths) and property tests against NumPy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ops_helpers import run

import chainrule as cr
from chainrule.ops import reduction_ops

pytestmark = pytest.mark.usefixtures("fresh_graph")


# --- max / min ties ---------------------------------------------------------------------------
@pytest.mark.parametrize("reduce", [cr.reduce_max, cr.reduce_min])
def test_extremum_gradient_is_split_evenly_among_ties(reduce):
    sign = 1.0 if reduce is cr.reduce_max else -1.0
    x = cr.constant(sign * np.array([1.0, 3.0, 3.0]))
    (g,) = cr.gradients(reduce(x), [x])
    np.testing.assert_allclose(run(g), [0.0, 0.5, 0.5])


def test_max_ties_per_slice_with_keepdims_and_upstream_gradient():
    x = cr.constant([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0], [5.0, 4.0, 0.0]])
    y = cr.reduce_max(x, axis=1, keepdims=True)
    (g,) = cr.gradients(y, [x], grad_ys=[cr.constant([[1.0], [3.0], [2.0]])])
    np.testing.assert_allclose(run(g), [[0, 0.5, 0.5], [1, 1, 1], [2, 0, 0]])


# --- logsumexp --------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_logsumexp_is_finite_for_large_inputs(dtype):
    values = np.array([[1000.0, 1000.0], [-1000.0, -1000.0], [1000.0, -1000.0]], dtype)
    x = cr.constant(values)
    y = cr.reduce_logsumexp(x, axis=1)
    (g,) = cr.gradients(y, [x])
    got, grad = run([y, g])
    assert got.dtype == dtype
    np.testing.assert_allclose(got, [1000 + np.log(2), -1000 + np.log(2), 1000], rtol=1e-6)
    np.testing.assert_allclose(grad, [[0.5, 0.5], [0.5, 0.5], [1.0, 0.0]], rtol=1e-6)


def test_logsumexp_of_all_minus_inf_slice_is_minus_inf_not_nan():
    x = cr.constant([[-np.inf, -np.inf, -np.inf], [0.0, 1.0, -np.inf]])
    with np.errstate(divide="ignore"):
        got = run(cr.reduce_logsumexp(x, axis=-1))
        everything = run(cr.reduce_logsumexp(cr.constant([-np.inf, -np.inf])))
    assert not np.isnan(got).any()
    np.testing.assert_allclose(got, [-np.inf, np.log(1 + np.e)])
    assert everything == -np.inf


def test_logsumexp_of_empty_axis_is_minus_inf_and_of_plus_inf_is_inf():
    with np.errstate(divide="ignore"):
        empty = run(cr.reduce_logsumexp(cr.constant(np.zeros((2, 0))), axis=1))
    np.testing.assert_array_equal(empty, [-np.inf, -np.inf])
    assert run(cr.reduce_logsumexp(cr.constant([np.inf, 1.0]))) == np.inf


def test_logsumexp_matches_scipy():
    special = pytest.importorskip("scipy.special")
    values = np.random.default_rng(0).normal(size=(3, 4, 5)) * 30
    for axis, keepdims in [(None, False), (1, True), ([0, 2], False)]:
        got = run(cr.reduce_logsumexp(cr.constant(values), axis=axis, keepdims=keepdims))
        want = special.logsumexp(values, axis=None if axis is None else tuple(np.atleast_1d(axis)), keepdims=keepdims)
        np.testing.assert_allclose(got, want, rtol=1e-12)


# --- argmax / argmin --------------------------------------------------------------------------
@pytest.mark.parametrize("fn", [cr.argmax, cr.argmin])
def test_arg_reductions_return_int64_and_the_first_index_on_ties(fn):
    values = np.array([[1.0, 3.0, 3.0, 1.0], [2.0, 2.0, 2.0, 2.0]])
    t = fn(cr.constant(values), axis=1)
    assert t.dtype == cr.int64 and t.shape.as_list() == [2]
    got = run(t)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, [1, 0] if fn is cr.argmax else [0, 0])
    t32 = fn(cr.constant(values), axis=0, output_type=cr.int32)
    assert t32.dtype == cr.int32 and run(t32).dtype == np.int32


def test_arg_reductions_are_not_differentiable():
    x = cr.constant([1.0, 2.0])
    y = cr.cast(cr.argmax(x), cr.float32) + cr.reduce_sum(x)
    (g,) = cr.gradients(y, [x])
    np.testing.assert_allclose(run(g), [1.0, 1.0])


# --- bad axes: errors at graph construction that name the op and this file ---------------------
@pytest.mark.parametrize(
    "build, op_name",
    [
        (lambda x: cr.reduce_sum(x, axis=2), "Sum"),
        (lambda x: cr.reduce_max(x, axis=[0, -3]), "Max"),
        (lambda x: cr.reduce_min(x, axis=5), "Min"),
        (lambda x: cr.reduce_prod(x, axis=-4), "Prod"),
        (lambda x: cr.reduce_mean(x, axis=2), "reduce_mean"),
        (lambda x: cr.reduce_logsumexp(x, axis=[1, 2]), "reduce_logsumexp"),
        (lambda x: cr.argmax(x, axis=2), "ArgMax"),
        (lambda x: cr.argmin(x, axis=-3), "ArgMin"),
        (lambda x: cr.cumsum(x, axis=2), "Cumsum"),
        (lambda x: cr.cumprod(x, axis=-3), "Cumprod"),
    ],
)
def test_bad_axis_is_a_clear_error_at_graph_construction(build, op_name):
    x = cr.placeholder(cr.float32, [2, 3])
    with pytest.raises(cr.errors.InvalidArgumentError, match=rf"{op_name}.*out of bounds.*rank 2") as info:
        build(x)
    assert __file__.rstrip("c") in str(info.value)


def test_duplicate_and_non_integer_axes_are_rejected():
    x = cr.placeholder(cr.float32, [2, 3])
    with pytest.raises(cr.errors.InvalidArgumentError, match="Sum.*duplicate axes"):
        cr.reduce_sum(x, [0, -2])
    with pytest.raises(cr.errors.InvalidArgumentError, match="Max.*axis must be an int"):
        cr.reduce_max(x, 1.0)


# --- dtypes, aliases, attributes --------------------------------------------------------------
def test_integer_reductions_keep_their_dtype():
    values = np.array([[3, -7, 2], [-5, 4, 9]], np.int32)
    x = cr.constant(values)
    outs = [cr.reduce_sum(x), cr.reduce_prod(x, 0), cr.reduce_mean(x, 1), cr.cumsum(x, 1), cr.cumprod(x, 0)]
    for t, v in zip(outs, run(outs), strict=True):
        assert t.dtype == cr.int32 and v.dtype == np.int32


def test_integer_mean_truncates_toward_zero_as_tensorflow():
    x = cr.constant(np.array([[-1, -2], [1, 2], [-7, 0]], np.int64))
    np.testing.assert_array_equal(run(cr.reduce_mean(x, axis=1)), [-1, 1, -3])


def test_float_mean_of_empty_axis_is_nan():
    with np.errstate(invalid="ignore"):
        got = run(cr.reduce_mean(cr.constant(np.zeros((0, 3))), axis=0))
    assert got.shape == (3,) and np.isnan(got).all()


def test_tf1_keyword_aliases_and_tensor_axis():
    values = np.arange(6.0).reshape(2, 3)
    x = cr.constant(values)
    got = run(
        [
            cr.reduce_sum(x, reduction_indices=1, keep_dims=True),
            cr.reduce_mean(x, axis=cr.constant([0])),
            cr.argmax(x, dimension=1),
        ]
    )
    np.testing.assert_allclose(got[0], values.sum(1, keepdims=True))
    np.testing.assert_allclose(got[1], values.mean(0))
    np.testing.assert_array_equal(got[2], [2, 2])
    with pytest.raises(ValueError, match="reduction_indices"):
        cr.reduce_sum(x, axis=0, reduction_indices=0)


def test_axes_are_normalized_so_equal_reductions_have_equal_attributes():
    x = cr.placeholder(cr.float32, [2, 3, 4])
    assert cr.reduce_sum(x, [-1, 0]).op.get_attr("axis") == (0, 2)
    assert cr.reduce_max(x, 1).op.get_attr("axis") == (1,)
    assert cr.cumsum(x, -1).op.get_attr("axis") == 2


# --- exact gradients of prod / cumprod at zeros -----------------------------------------------
def test_prod_and_cumprod_gradients_at_zeros():
    x = cr.constant([2.0, 0.0, 3.0])
    (g_prod,) = cr.gradients(cr.reduce_prod(x), [x])
    (g_cum,) = cr.gradients(cr.cumprod(x), [x])
    (hess,) = cr.hessians(cr.reduce_prod(x), [x])
    got_prod, got_cum, got_hess = run([g_prod, g_cum, hess])
    np.testing.assert_allclose(got_prod, [0.0, 6.0, 0.0])
    # y = [x0, x0 x1, x0 x1 x2]: d/dx0 = 1 + x1 + x1 x2, d/dx1 = x0 + x0 x2, d/dx2 = x0 x1
    np.testing.assert_allclose(got_cum, [1.0, 8.0, 0.0])
    np.testing.assert_allclose(got_hess, [[0.0, 3.0, 0.0], [3.0, 0.0, 2.0], [0.0, 2.0, 0.0]])


@pytest.mark.parametrize("reverse", [False, True])
def test_linear_scan_gradients(reverse):
    a = np.array([[0.5, 0.0, -1.5, 2.0], [1.2, 0.7, 0.0, 0.0]])
    b = np.array([[1.0, -2.0, 0.5, 0.3], [0.0, 1.5, -0.7, 2.0]])

    def scan(a_t, b_t):
        return reduction_ops._linear_scan(a_t, b_t, 1, reverse)

    out = run(scan(cr.constant(a), cr.constant(b)))
    want = np.zeros_like(b)
    for row in range(2):
        steps = range(3, -1, -1) if reverse else range(4)
        acc, prev = 0.0, None
        for k in steps:
            acc = b[row, k] + (0.0 if prev is None else a[row, prev if reverse else k] * acc)
            want[row, k], prev = acc, k
    np.testing.assert_allclose(out, want)
    cr.test.check_gradients(scan, [a, b], order=2)


# --- unknown dims and unknown rank: the dynamic shape paths -----------------------------------
DIFFERENTIABLE = {
    "sum": lambda x: cr.reduce_sum(x, axis=[0, -1]),
    "mean": lambda x: cr.reduce_mean(x, axis=1, keepdims=True),
    "mean_all": lambda x: cr.reduce_mean(x),
    "max": lambda x: cr.reduce_max(x, axis=-1),
    "min": lambda x: cr.reduce_min(x, axis=[0, 1], keepdims=True),
    "prod": lambda x: cr.reduce_prod(x, axis=[0, 2]),
    "prod_middle": lambda x: cr.reduce_prod(x, axis=1, keepdims=True),
    "logsumexp": lambda x: cr.reduce_logsumexp(x, axis=1),
    "cumsum": lambda x: cr.cumsum(x, axis=1, exclusive=True),
    "cumprod": lambda x: cr.cumprod(x, axis=-1, reverse=True),
}


def _grad_and_hvp(fn, values, shape):
    """d(sum(w * f))/dx and the Hessian-vector product, built on a placeholder of ``shape``."""
    rng = np.random.default_rng(1)
    x = cr.placeholder(cr.float64, shape)
    y = fn(x)
    w = rng.standard_normal(run(cr.shape(y), {x: values}))
    (g,) = cr.gradients(cr.reduce_sum(y * w), [x])
    (h,) = cr.gradients(cr.reduce_sum(g * rng.standard_normal(values.shape)), [x], unconnected_gradients="zero")
    return run([y, g, h], {x: values})


@pytest.mark.parametrize("name", sorted(DIFFERENTIABLE))
def test_gradients_with_unknown_dims_match_known_dims(name):
    values = np.random.default_rng(0).permutation(np.linspace(-1.5, 1.5, 24)).reshape(2, 3, 4)
    values[0, 1, 2] = 0.0
    known = _grad_and_hvp(DIFFERENTIABLE[name], values, values.shape)
    unknown = _grad_and_hvp(DIFFERENTIABLE[name], values, [None, None, None])
    for k, u in zip(known, unknown, strict=True):
        np.testing.assert_allclose(u, k, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", sorted(set(DIFFERENTIABLE) - {"prod", "prod_middle"}))
def test_unknown_rank(name):
    values = np.random.default_rng(0).permutation(np.linspace(-1.5, 1.5, 24)).reshape(2, 3, 4)
    fn = DIFFERENTIABLE[name]
    known = _grad_and_hvp(fn, values, values.shape)
    unknown = _grad_and_hvp(fn, values, None)
    for k, u in zip(known, unknown, strict=True):
        np.testing.assert_allclose(u, k, rtol=1e-12, atol=1e-12)


def test_prod_forward_with_unknown_rank_and_a_clear_gradient_error():
    x = cr.placeholder(cr.float64, None)
    y = cr.reduce_prod(x, axis=-1)
    assert y.shape.rank is None
    np.testing.assert_allclose(run(y, {x: np.arange(1.0, 7.0).reshape(2, 3)}), [6.0, 120.0])
    with pytest.raises(ValueError, match="rank of its input"):
        cr.gradients(y, [x])


# --- property tests against NumPy -------------------------------------------------------------
@st.composite
def reduction_case(draw):
    shape = tuple(draw(st.lists(st.integers(0, 3), min_size=0, max_size=4)))
    rank = len(shape)
    kind = draw(st.sampled_from(["none", "int", "list"]) if rank else st.sampled_from(["none", "list"]))
    if kind == "none":
        axis = None
    elif kind == "int":
        axis = draw(st.integers(-rank, rank - 1))
    else:
        chosen = draw(st.lists(st.integers(0, rank - 1), unique=True, max_size=rank)) if rank else []
        axis = [a - rank if draw(st.booleans()) else a for a in chosen]
    keepdims = draw(st.booleans())
    dtype = draw(st.sampled_from([np.float64, np.float32, np.int32]))
    seed = draw(st.integers(0, 2**16))
    return shape, axis, keepdims, dtype, seed


def _int_mean(x, axis, keepdims):
    total = np.sum(x, axis=axis, keepdims=keepdims, dtype=x.dtype)
    count = max(x.size // max(total.size, 1), 1)
    return (np.sign(total) * (np.abs(total) // count)).astype(x.dtype)


REFERENCES = {
    "reduce_sum": lambda x, axis, keepdims: np.sum(x, axis=axis, keepdims=keepdims, dtype=x.dtype),
    "reduce_mean": lambda x, axis, keepdims: (
        _int_mean(x, axis, keepdims) if x.dtype.kind == "i" else np.mean(x, axis=axis, keepdims=keepdims)
    ),
    "reduce_max": lambda x, axis, keepdims: np.max(x, axis=axis, keepdims=keepdims),
    "reduce_prod": lambda x, axis, keepdims: np.prod(x, axis=axis, keepdims=keepdims, dtype=x.dtype),
}


@pytest.mark.parametrize("name", sorted(REFERENCES))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=reduction_case())
def test_reductions_match_numpy(name, case):
    shape, axis, keepdims, dtype, seed = case
    rng = np.random.default_rng(seed)
    values = (rng.uniform(-3, 3, shape) if dtype != np.int32 else rng.integers(-5, 6, shape)).astype(dtype)
    np_axis = tuple(axis) if isinstance(axis, list) else axis
    fn = getattr(cr, name)
    with cr.Graph().as_default():
        known = cr.placeholder(dtype, shape)
        unknown = cr.placeholder(dtype, [None] * len(shape))
        no_rank = cr.placeholder(dtype, None)
        outs = [fn(p, axis=axis, keepdims=keepdims) for p in (known, unknown, no_rank)]
        feed = {known: values, unknown: values, no_rank: values}
        with np.errstate(all="ignore"):
            try:
                want = np.asarray(REFERENCES[name](values, np_axis, keepdims))
            except ValueError:  # NumPy: a max over an empty axis; chainrule raises when run
                with pytest.raises(cr.errors.InvalidArgumentError, match="zero-size"):
                    run(outs[0], {known: values})
                return
            got = run(outs, feed)
    assert outs[0].shape.is_fully_defined() and tuple(outs[0].shape.as_list()) == want.shape
    assert outs[0].dtype.as_numpy_dtype == want.dtype
    assert outs[1].shape.rank == want.ndim
    for out, value in zip(outs, got, strict=True):
        value = np.asarray(value)
        assert out.shape.is_compatible_with(value.shape)
        assert value.shape == want.shape and value.dtype == want.dtype
        if dtype == np.int32:
            np.testing.assert_array_equal(value, want)
        else:
            np.testing.assert_allclose(value, want, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-6)
