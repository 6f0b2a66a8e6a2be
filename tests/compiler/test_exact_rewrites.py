"""Default rewrites are bitwise exact; bit-changing ones need ``Options(fast_math=True)`` (issue 12, item 6)."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import compiler

X = np.array([1000.0, -0.0, 0.0, 1e-300, 0.1, 3.7, np.nan, np.inf, -np.inf, 1e308])


def _bits(a: np.ndarray) -> bytes:
    a = np.asarray(a)
    return np.where(np.isnan(a), np.nan, a).tobytes()  # NaNs equal (one payload); signed zeros distinct


CASES = {
    "log_exp": lambda x: cr.log(cr.exp(x)),
    "exp_log": lambda x: cr.exp(cr.log(cr.square(x))),
    "add_zero": lambda x: x + 0.0,
    "zero_minus": lambda x: 0.0 - x,
    "add_n_zeros": lambda x: cr.add_n([x, cr.zeros([10], dtype=cr.float64)]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_default_compiled_equals_uncompiled_bitwise(name):
    graph = cr.Graph()
    with graph.as_default():
        x = cr.placeholder(cr.float64, [10], name="x")
        y = CASES[name](x)
    with np.errstate(all="ignore"):
        with cr.Session(graph=graph, optimize=False) as plain:
            want = plain.run(y, {x: X})
        for optimize in (True, compiler.Options(codegen=False)):
            with cr.Session(graph=graph, optimize=optimize) as sess:
                assert _bits(sess.run(y, {x: X})) == _bits(want)


def test_log_exp_at_overflow_is_inf_by_default_and_x_under_fast_math():
    x = cr.placeholder(cr.float64, [], name="x")
    y = cr.log(cr.exp(x))
    with np.errstate(over="ignore"):
        with cr.Session(graph=x.graph) as sess:
            assert sess.run(y, {x: 1000.0}) == np.inf
        with cr.Session(graph=x.graph, optimize=compiler.Options(fast_math=True)) as fast:
            assert fast.run(y, {x: 1000.0}) == 1000.0


# --- every rule that changed bits by default (found by reviewing passes.py rule by rule) -----------
C = np.array([np.inf + 1j, 1 + np.inf * 1j, complex(-0.0, -0.0), complex(0.0, -0.0), np.nan + 2j, 3.5 - 1.25j])


def _tiled_slices_gradient(x, w):
    # The gradient of slices that tile x: AddN(StridedSliceGrad...) adds each piece to the other
    # slices' +0.0, so a -0.0 in w comes back as +0.0; the concat rule must keep that.
    return cr.gradients(cr.reduce_sum(x[0:2] * w[0:2]) + cr.reduce_sum(x[2:] * w[2:]), [x])[0]


def _feed(name: str, value: np.ndarray):
    dtype = cr.complex128 if value.dtype.kind == "c" else cr.float64
    return cr.placeholder(dtype, value.shape, name=name)


RULE_CASES = {
    # complex x * 1 is (a*1 - b*0) + (a*0 + b*1)j in NumPy: an infinite part makes the other NaN
    "mul_one_complex": (lambda x: x * cr.constant(1 + 0j, cr.complex128), [C]),
    "div_one_complex": (lambda x: x / cr.constant(1 + 0j, cr.complex128), [C]),
    "mul_minus_one_complex": (lambda x: x * cr.constant(-1 + 0j, cr.complex128), [C]),
    "sub_minus_zero_complex": (lambda x: x - cr.constant(complex(0.0, -0.0), cr.complex128), [C]),
    # x - (-0.0) is x + 0.0: -0.0 becomes +0.0
    "sub_minus_zero": (lambda x: x - cr.constant(-0.0, cr.float64), [X]),
    # ten copies of 0.1 added one by one are 0.9999999999999999, 0.1 * 10 is 1.0
    "sum_of_broadcast": (lambda x: cr.sum_to_shape(cr.broadcast_to(x, [10, 3]), [3]), [np.array([0.1, 0.7, 0.3])]),
    "reduce_sum_of_broadcast": (lambda x: cr.reduce_sum(cr.broadcast_to(x, [10, 3])), [np.array([0.1, 0.7, 0.3])]),
    "slice_gradients_to_concat": (_tiled_slices_gradient, [np.arange(4.0), np.array([-0.0, 1.0, -0.0, 2.0])]),
}


@pytest.mark.parametrize("name", sorted(RULE_CASES))
def test_each_reviewed_rule_is_bitwise_exact_by_default(name):
    build, values = RULE_CASES[name]
    graph = cr.Graph()
    with graph.as_default():
        feeds = [_feed(f"x{i}", v) for i, v in enumerate(values)]
        y = build(*feeds)
    feed_dict = dict(zip(feeds, values))
    with np.errstate(all="ignore"):
        with cr.Session(graph=graph, optimize=False) as plain:
            want = plain.run(y, feed_dict)
        for optimize in (True, compiler.Options(codegen=False)):
            with cr.Session(graph=graph, optimize=optimize) as sess:
                got = sess.run(y, feed_dict)
                assert got.dtype == want.dtype and got.shape == want.shape
                assert _bits(got) == _bits(want), f"{name}: {got!r} != {want!r}"


@pytest.mark.parametrize("name", ["sum_of_broadcast", "reduce_sum_of_broadcast", "mul_one_complex"])
def test_the_gated_rules_still_fire_under_fast_math(name):
    build, values = RULE_CASES[name]
    graph = cr.Graph()
    with graph.as_default():
        feeds = [_feed(f"x{i}", v) for i, v in enumerate(values)]
        y = build(*feeds)
    rule_name = name.removesuffix("_complex")
    assert rule_name not in compiler.optimize(y, feeds=feeds).stats
    assert rule_name in compiler.optimize(y, feeds=feeds, options=compiler.Options(fast_math=True)).stats


def test_a_folded_constant_keeps_the_memory_layout_the_op_gave_it():
    # The gradient's broadcast of ones folds to a constant. Copied, the zero-strided broadcast view
    # became a Fortran-ordered array, the products and the concat made of it too, and the final sum
    # added in another order (last bit off); kept as the op's own array, it adds as at run time.
    graph = cr.Graph()
    with graph.as_default():
        x = cr.placeholder(cr.float64, [], name="x")
        full = cr.broadcast_to(x, [3, 4])
        tiled = cr.concat([cr.sin(full[:1]), full[1:] * x], 0)
        (grad,) = cr.gradients(cr.reduce_sum(cr.reduce_sum(tiled, axis=0, keepdims=True)) + x, [x])
    with cr.Session(graph=graph, optimize=False) as plain:
        want = plain.run(grad, {x: 0.1})
    with cr.Session(graph=graph) as sess:
        assert _bits(sess.run(grad, {x: 0.1})) == _bits(want)


def test_kept_buffers_and_in_place_writes_keep_a_transposed_input_s_memory_order():
    # sin(a.T) allocates a column-ordered array (NumPy follows its input's layout), and a sum of it
    # adds in that order. Written into a kept row-ordered buffer (large results) or another member's
    # array, the same values summed to different last bits.
    graph = cr.Graph()
    with graph.as_default():
        a = cr.placeholder(cr.float64, [400, 300], name="a")
        t = cr.transpose(a)
        ys = [cr.reduce_sum(cr.sin(t) * 2.0 + t), cr.reduce_sum(cr.exp(t)), cr.reduce_sum(cr.sin(a) * 2.0 + a)]
    value = np.random.default_rng(0).standard_normal((400, 300))
    with cr.Session(graph=graph, optimize=False) as plain:
        want = plain.run(ys, {a: value})
    with cr.Session(graph=graph) as sess:
        for _ in range(2):  # the second run reuses the kept buffers
            assert [_bits(v) for v in sess.run(ys, {a: value})] == [_bits(v) for v in want]
        assert "buf_" in sess.plans[0].source  # row-ordered inputs still write into kept buffers


def test_in_place_writes_in_a_fused_group_keep_numpy_s_memory_order_for_mixed_layouts():
    # b * exp(a.T) mixes a row-ordered and a column-ordered array: written in place into exp(a.T)'s
    # column-ordered array, the product was not laid out as NumPy lays it out, and the second sum
    # (reuse_buffers off: in-place writes only) added in another order.
    graph = cr.Graph()
    with graph.as_default():
        a = cr.placeholder(cr.float64, [400, 300], name="a")
        b = cr.placeholder(cr.float64, [300, 400], name="b")
        t = cr.transpose(a)
        y = [cr.reduce_sum(cr.sin(t) * 2.0 + t), cr.reduce_sum(b * cr.exp(t) + 1.0), cr.reduce_sum(cr.sin(b) * t)]
    feed = {
        a: np.random.default_rng(0).standard_normal((400, 300)),
        b: np.random.default_rng(1).standard_normal((300, 400)),
    }
    with cr.Session(graph=graph, optimize=False) as plain:
        want = plain.run(y, feed)
    for options in (compiler.Options(reuse_buffers=False), compiler.Options(codegen=False)):
        with cr.Session(graph=graph, optimize=options) as sess:
            assert [_bits(v) for v in sess.run(y, feed)] == [_bits(v) for v in want]
