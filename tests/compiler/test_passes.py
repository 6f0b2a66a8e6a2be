"""Each pass shown on a small graph: the program before and after (text form), and the same results.

``optimize(..., passes=())`` is the program as written; each test then turns on the pass
under test (with ``dce`` where the rewrite leaves dead nodes behind) and checks the text,
then runs the graph with and without the compiler and compares.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

import chainrule as cr
from chainrule import compiler

ALL_BUT_FUSION = ("runtime", "fold", "algebraic", "cse", "dce")


def dump(fetches, feeds=(), passes=compiler.ALL_PASSES, **options):
    options.setdefault("fast_math", True)  # these tests show every rewrite, the bit-changing ones too
    return compiler.optimize(fetches, feeds=feeds, passes=passes, options=compiler.Options(**options)).dump()


def text(s: str) -> str:
    return textwrap.dedent(s).strip()


def same_results(fetches, feed_dict=None, exact=True):
    """Run with and without the compiler (and with the interpreter); the values must agree."""
    outs = []
    for optimize in (False, True, compiler.Options(codegen=False)):
        with cr.Session(graph=_graph_of(fetches), optimize=optimize) as sess:
            outs.append(sess.run(fetches, feed_dict))
    for other in outs[1:]:
        for a, b in zip(np.atleast_1d(outs[0]) if not isinstance(outs[0], list) else outs[0], other):
            if exact:
                np.testing.assert_array_equal(a, b)
            else:
                np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    return outs[1]


def _graph_of(fetches):
    first = fetches[0] if isinstance(fetches, (list, tuple)) else fetches
    return first.graph


@pytest.fixture
def x():
    return cr.placeholder(cr.float64, [3], name="x")


X = np.array([0.5, -1.25, 2.0])


def test_dead_code_elimination_drops_what_no_output_needs(x):
    y = cr.log(cr.exp(x))
    assert dump(y, [x], passes=()) == text("""
        %0: f64[3] = Feed(x:0)
        %1: f64[3] = Exp(%0)
        %2: f64[3] = Log(%1)
        return %2
    """)
    # The rewrite alone leaves Exp behind; DCE removes it.
    assert dump(y, [x], passes=("algebraic",)) == text("""
        %0: f64[3] = Feed(x:0)
        %1: f64[3] = Exp(%0)
        return %0
    """)
    assert dump(y, [x], passes=("algebraic", "dce")) == text("""
        %0: f64[3] = Feed(x:0)
        return %0
    """)
    same_results(y, {x: X}, exact=False)


def test_dead_code_elimination_keeps_stateful_ops_the_run_needed():
    v = cr.Variable([1.0, 2.0], name="v")
    # Shape(v) folds to a constant, but reading v still runs (it raises when v is uninitialized).
    y = cr.ones_like(v) * cr.cast(cr.size(v), cr.float32)
    program = compiler.optimize(y)
    assert "VariableV2" in program.dump()
    with cr.Session() as sess, pytest.raises(cr.errors.FailedPreconditionError):
        sess.run(y)


def test_common_subexpressions_are_merged(x):
    y = cr.sin(x) * cr.sin(x) + cr.cos(x) * cr.cos(x)
    assert dump(y, [x], passes=()) == text("""
        %0: f64[3] = Feed(x:0)
        %1: f64[3] = Sin(%0)
        %2: f64[3] = Sin(%0)
        %3: f64[3] = Mul(%1, %2)
        %4: f64[3] = Cos(%0)
        %5: f64[3] = Cos(%0)
        %6: f64[3] = Mul(%4, %5)
        %7: f64[3] = Add(%3, %6)
        return %7
    """)
    assert dump(y, [x], passes=("cse",)) == text("""
        %0: f64[3] = Feed(x:0)
        %1: f64[3] = Sin(%0)
        %2: f64[3] = Mul(%1, %1)
        %3: f64[3] = Cos(%0)
        %4: f64[3] = Mul(%3, %3)
        %5: f64[3] = Add(%2, %4)
        return %5
    """)
    np.testing.assert_allclose(same_results(y, {x: X}), np.ones(3))


def test_equal_constants_merge_but_different_attributes_do_not(x):
    y = (x + cr.constant(2.0, cr.float64)) * cr.constant(2.0, cr.float64)
    s = cr.reduce_sum(y, axis=0) + cr.reduce_sum(y, axis=0, keepdims=True)
    out = dump(s, [x], passes=("cse", "dce"))
    assert out.count("Const(2.0)") == 1 and out.count("Sum(") == 2
    same_results(s, {x: X})


def test_stateful_ops_are_never_merged():
    r = cr.random.normal([3], seed=1, dtype=cr.float64) - cr.random.normal([3], seed=1, dtype=cr.float64)
    out = dump(r, passes=ALL_BUT_FUSION)
    assert out.count("RandomStandardNormal") == 2
    # Same seeds give the same stream, so the difference is 0 either way; what matters is two draws.
    with cr.Session(graph=r.graph) as sess:
        np.testing.assert_array_equal(sess.run(r), 0.0)


def test_constant_folding(x):
    c = cr.constant([1.0, 2.0, 3.0], cr.float64) * 3.0 + cr.exp(cr.constant(0.0, cr.float64))
    y = x + c
    assert dump(y, [x], passes=()) == text("""
        %0: f64[3] = Feed(x:0)
        %1: f64[3] = Const([1.0, 2.0, 3.0])
        %2: f64[] = Const(3.0)
        %3: f64[3] = Mul(%1, %2)
        %4: f64[] = Const(0.0)
        %5: f64[] = Exp(%4)
        %6: f64[3] = Add(%3, %5)
        %7: f64[3] = Add(%0, %6)
        return %7
    """)
    assert dump(y, [x], passes=("fold", "dce")) == text("""
        %0: f64[3] = Feed(x:0)
        %1: f64[3] = Const([4.0, 7.0, 10.0])
        %2: f64[3] = Add(%0, %1)
        return %2
    """)
    same_results(y, {x: X})


def test_constant_folding_is_capped_and_skips_stateful_ops(x):
    big = x + cr.reduce_sum(cr.zeros([300, 300], dtype=cr.float64))
    out = dump(big, [x], passes=("fold", "dce"), fold_max_elements=1000)
    assert "Fill(" in out and "Sum(" in out  # 90,000 elements: left to run time
    r = cr.random.uniform([2], seed=3, dtype=cr.float64) * 2.0
    assert "RandomUniform" in dump(r, passes=("fold", "dce"))
    same_results(big, {x: X})


def test_folding_keeps_an_op_that_fails_so_it_raises_at_run_time_with_its_name():
    not_positive_definite = cr.constant([[1.0, 2.0], [2.0, 1.0]], cr.float64)
    y = cr.linalg.cholesky(not_positive_definite)
    assert "Cholesky" in dump(y, passes=("fold", "dce"))
    with cr.Session() as sess, pytest.raises(cr.errors.InvalidArgumentError, match="Cholesky"):
        sess.run(y)


def test_shapes_of_static_tensors_fold(x):
    y = cr.cast(cr.shape(x), cr.float64) + cr.cast(cr.size(x), cr.float64) + cr.cast(cr.rank(x), cr.float64)
    assert dump(y, [x]) == text("""
        %0: f64[3] = Feed(x:0)
        %1: f64[1] = Const([7.0])
        return %1
    """)
    np.testing.assert_array_equal(same_results(y, {x: X}), [7.0])


@pytest.mark.parametrize(
    ("build", "after"),
    [
        (lambda x: x * 1.0, "return %0"),
        (lambda x: 1.0 * x, "return %0"),
        (lambda x: x + 0.0, "return %0"),
        (lambda x: 0.0 + x, "return %0"),
        (lambda x: x - 0.0, "return %0"),
        (lambda x: x / 1.0, "return %0"),
        (lambda x: cr.negative(cr.negative(x)), "return %0"),
        (lambda x: cr.log(cr.exp(x)), "return %0"),
        (lambda x: cr.identity(cr.stop_gradient(x)), "return %0"),
        (lambda x: x * cr.ones_like(x), "return %0"),
        (lambda x: cr.reshape(cr.reshape(x, [3, 1]), [3]), "return %0"),
        (lambda x: cr.transpose(cr.transpose(cr.reshape(x, [1, 3]))), "%2: f64[1,3] = Reshape(%0, %1)\nreturn %2"),
        (lambda x: 0.0 - x, "%1: f64[3] = Neg(%0)"),
        (lambda x: x * -1.0, "%1: f64[3] = Neg(%0)"),
        (lambda x: -x * -cr.sin(x), "%2: f64[3] = Mul(%0, %1)"),
    ],
)
def test_algebraic_simplification(x, build, after):
    y = build(x)
    before = dump(y, [x], passes=())
    optimized = dump(y, [x], passes=ALL_BUT_FUSION)
    assert after in optimized, f"before:\n{before}\nafter:\n{optimized}"
    assert len(optimized.splitlines()) < len(before.splitlines())
    same_results(y, {x: X}, exact=False)


def test_shape_dependent_rewrites_need_a_proof():
    x = cr.placeholder(cr.float64, [None], name="x")
    # ones([3]) could broadcast a length-1 x to length 3: not rewritten.
    y = x * cr.ones([3], dtype=cr.float64)
    assert "Mul" in dump(y, [x], passes=ALL_BUT_FUSION)
    np.testing.assert_array_equal(same_results(y, {x: [2.0]}), [2.0, 2.0, 2.0])
    # ones_like(x) has x's shape whatever it is: rewritten.
    z = x * cr.ones_like(x)
    assert dump(z, [x], passes=ALL_BUT_FUSION).endswith("return %0")


def test_exp_of_log_only_where_valid(x):
    plain = cr.exp(cr.log(x))  # x may be negative: log gives nan, and so must the result
    assert "Log" in dump(plain, [x], passes=ALL_BUT_FUSION)
    out = same_results(plain, {x: X}, exact=False)
    assert np.isnan(out[1])
    squared = cr.exp(cr.log(cr.square(x)))
    assert dump(squared, [x], passes=ALL_BUT_FUSION) == text("""
        %0: f64[3] = Feed(x:0)
        %1: f64[3] = Square(%0)
        return %1
    """)
    same_results(squared, {x: X}, exact=False)


def test_zero_times_x_needs_assume_finite(x):
    y = x * cr.zeros_like(x)
    assert "Mul" in dump(y, [x], passes=ALL_BUT_FUSION)  # 0 * inf is nan
    finite = dump(y, [x], passes=ALL_BUT_FUSION, assume_finite=True)
    assert "Mul" not in finite and "Const([0.0, 0.0, 0.0])" in finite
    with cr.Session(graph=y.graph, optimize=compiler.Options(assume_finite=True)) as sess:
        np.testing.assert_array_equal(sess.run(y, {x: X}), 0.0)
    with cr.Session(graph=y.graph) as sess:
        assert np.isnan(sess.run(y, {x: [np.inf, 0.0, 1.0]})[0])


def test_transposes_that_cancel_and_compose():
    m = cr.placeholder(cr.float64, [2, 3, 4], name="m")
    back = cr.transpose(cr.transpose(m, [2, 0, 1]), [1, 2, 0])
    assert dump(back, [m]).endswith("return %0")
    twice = cr.transpose(cr.transpose(m, [1, 0, 2]), [0, 2, 1])
    assert dump(twice, [m], passes=ALL_BUT_FUSION) == text("""
        %0: f64[2,3,4] = Feed(m:0)
        %1: f64[3,4,2] = Transpose(%0, perm=(1, 2, 0))
        return %1
    """)
    value = np.arange(24.0).reshape(2, 3, 4)
    same_results([back, twice], {m: value})


def test_sum_of_a_broadcast():
    v = cr.placeholder(cr.float64, [3], name="v")
    b = cr.broadcast_to(v, [4, 3])
    total = cr.reduce_sum(b)
    assert dump(total, [v], passes=ALL_BUT_FUSION) == text("""
        %0: f64[3] = Feed(v:0)
        %1: f64[] = Sum(%0, axis=None, keepdims=False)
        %2: f64[] = Const(4.0)
        %3: f64[] = Mul(%1, %2)
        return %3
    """)
    back = cr.ops.broadcast_ops.sum_to_shape(b, [3])
    assert dump(back, [v], passes=ALL_BUT_FUSION).splitlines()[-2].endswith("Mul(%0, %1)")
    same_results([total, back], {v: np.array([1.0, 2.0, 3.0])}, exact=False)


def test_unbroadcasting_to_the_same_shape_is_an_identity():
    a = cr.placeholder(cr.float64, [None, 3], name="a")
    b = cr.placeholder(cr.float64, [3], name="b")
    ga, gb = cr.gradients(cr.reduce_sum(a * b), [a, b])
    before = dump(ga, [a, b], passes=())
    assert "SumToShape" in before
    after = dump([ga, gb], [a, b], passes=ALL_BUT_FUSION)
    # gb still needs summing over the rows; ga's SumToShape (same shape as a) is gone.
    assert after.count("SumToShape") == 1 and "BroadcastTo" not in after.replace("BroadcastToShapeOf", "")
    same_results([ga, gb], {a: np.arange(6.0).reshape(2, 3), b: np.array([1.0, 2.0, 3.0])}, exact=False)


def test_unknown_shapes_turn_sum_to_shape_into_a_cheap_shape_check():
    a = cr.placeholder(cr.float64, name="a")  # unknown rank
    c = cr.placeholder(cr.float64, name="c")
    (ga,) = cr.gradients(cr.reduce_sum(a * c), [a])
    out = dump(ga, [a, c], passes=ALL_BUT_FUSION)
    assert "SumToShapeOf" in out and "SumToShape(" not in out
    for av, cv in [(np.ones((2, 3)), np.arange(3.0)), (np.ones(3), np.ones((2, 3)))]:
        same_results(ga, {a: av, c: cv})


def test_the_gradient_of_cos_reads_minus_sin():
    x = cr.placeholder(cr.float64, [None], name="x")
    (dx,) = cr.gradients(cr.cos(x), [x])
    assert dump(dx, [x], passes=()) == text("""
        %0: f64[?] = Feed(x:0)
        %1: f64[?] = Cos(%0)
        %2: i32[1] = Shape(%1, out_type=int32)
        %3: f64[] = Const(1.0)
        %4: f64[?] = Fill(%2, %3)
        %5: f64[?] = Neg(%4)
        %6: f64[?] = Sin(%0)
        %7: f64[?] = Mul(%5, %6)
        return %7
    """)
    assert dump(dx, [x], passes=ALL_BUT_FUSION) == text("""
        %0: f64[?] = Feed(x:0)
        %1: f64[?] = Sin(%0)
        %2: f64[?] = Neg(%1)
        return %2
    """)
    same_results(dx, {x: X})


def test_elementwise_fusion_makes_one_kernel_that_reuses_its_buffer(x):
    y = cr.exp(-(x * x)) * 2.0 + cr.sin(x)
    assert dump(y, [x]) == text("""
        %0: f64[3] = Feed(x:0)
        %1: f64[] = Const(2.0)
        %2: f64[3] = Fused[Mul Neg Exp Mul Sin Add](%0, %1)
        return %2
    """)
    with cr.Session(graph=y.graph) as sess:
        sess.run(y, {x: X})
        (plan,) = sess.plans
    # One allocation for the chain: every later step writes into it (out=).
    assert plan.source.count("out=") == 4
    same_results(y, {x: X})


def test_fusion_keeps_values_that_are_fetched_or_shared(x):
    a = cr.sin(x)
    b = cr.cos(a) * 2.0
    c = a + 1.0
    out = dump([b, c], [x])
    assert "Sin(%0)" in out  # a feeds two different groups
    same_results([a, b, c], {x: X})


def test_fusion_of_sigmoid_softplus_relu_matches_the_kernels():
    x = cr.placeholder(cr.float32, [5], name="x")
    y = cr.sigmoid(x) + cr.nn.softplus(x) * cr.nn.relu(x) - cr.rsqrt(cr.abs(x) + 1.0) + cr.reciprocal(x + 100.0)
    out = dump(y, [x])
    assert len(out.splitlines()) == 5 and "Fused[" in out, out
    same_results(y, {x: np.array([-40.0, -1.0, 0.0, 2.0, 50.0], np.float32)})


def test_numexpr_backend_is_optional_and_agrees():
    ne = pytest.importorskip("numexpr")
    assert ne is not None
    x = cr.placeholder(cr.float64, [100_000], name="x")
    y = cr.exp(-(x * x)) * 2.0 + cr.sin(x) / (1.0 + x * x)
    opts = compiler.Options(fusion_backend="numexpr", numexpr_min_elements=1000)
    value = np.linspace(-3, 3, 100_000)
    with cr.Session(graph=x.graph, optimize=opts) as sess:
        fast = sess.run(y, {x: value})
        (plan,) = sess.plans
    assert "numexpr" in plan.source
    np.testing.assert_allclose(fast, np.exp(-(value**2)) * 2 + np.sin(value) / (1 + value**2), rtol=1e-10, atol=1e-15)


def test_optimize_does_not_change_the_users_graph(x):
    y = cr.identity(x * 1.0) + 0.0
    ops_before = [(op.name, op.type, tuple(t.name for t in op.inputs)) for op in x.graph.get_operations()]
    compiler.optimize(y, feeds=[x])
    with cr.Session(graph=x.graph) as sess:
        sess.run(y, {x: X})
    after = [(op.name, op.type, tuple(t.name for t in op.inputs)) for op in x.graph.get_operations()]
    assert after == ops_before


def test_to_graph_gives_viewers_the_optimized_graph(x):
    (dx,) = cr.gradients(cr.reduce_sum(cr.exp(cr.sin(x)) * 3.0), [x])
    program = compiler.optimize(dx, feeds=[x])
    graph = compiler.to_graph(program)
    types = [op.type for op in graph.get_operations()]
    assert types[0] == "Placeholder" and "Fused" in types
    assert len(types) == len(program.nodes) + len(program.feeds)
    fused = next(op for op in graph.get_operations() if op.type == "Fused")
    assert fused.get_attr("ops")[0] in ("Sin", "Cos", "Exp")
    dot = cr.viz.to_dot(graph)
    assert "Fused" in dot


def test_rule_tables_are_data_and_can_be_extended(x):
    from chainrule.compiler import RULES, Pat, PatternMatcher, Value, rewrite_program, rule

    @rule(Pat("Square", Pat("Sqrt", Pat.var("y"))))
    def _square_of_sqrt(y: Value) -> Value:
        return y

    table = PatternMatcher([_square_of_sqrt])
    program = compiler.Program.from_graph([cr.square(cr.sqrt(x))], [], [x])
    fired = rewrite_program(program, table, compiler.Options())
    assert fired == {"square_of_sqrt": 1}
    assert program.dump().endswith("return %0")
    # Not in the default tables until registered under a pass's tag.
    assert "Square" in dump(cr.square(cr.sqrt(x)), [x], passes=ALL_BUT_FUSION)
    RULES.register("test-only", table, tags=("algebraic",))
    try:
        program = compiler.optimize(cr.square(cr.sqrt(x)), [x], passes=ALL_BUT_FUSION)
        assert program.dump().endswith("return %0") and program.stats["square_of_sqrt"] == 1
    finally:
        RULES.unregister("test-only")
    assert "Square" in dump(cr.square(cr.sqrt(x)), [x], passes=ALL_BUT_FUSION)


def test_optimize_reports_what_fired(x):
    (dx,) = cr.gradients(cr.cos(x), [x])
    program = compiler.optimize(dx, feeds=[x])
    assert program.stats["mul_minus_one"] == 1 and program.stats["dce"] >= 1, program.stats


def test_fast_reductions_are_opt_in_and_close():
    x = cr.placeholder(cr.float64, [25, 100, 10], name="x")
    y = cr.reduce_sum(cr.square(x), axis=2) + cr.reduce_sum(x, axis=[1], keepdims=True)[:, :, 0]
    (g,) = cr.gradients(cr.reduce_sum(y * y), [x])
    value = np.random.default_rng(0).normal(size=(25, 100, 10))
    with (
        cr.Session(graph=x.graph) as exact,
        cr.Session(graph=x.graph, optimize=compiler.Options(fast_reductions=True)) as fast,
    ):
        want = exact.run([y, g], {x: value})
        got = fast.run([y, g], {x: value})
        (plan,) = fast.plans
        (exact_plan,) = exact.plans
    assert "einsum" in plan.source and "einsum" not in exact_plan.source
    for a, b in zip(want, got):
        np.testing.assert_allclose(b, a, rtol=1e-12)


def test_gradients_of_slices_that_tile_become_one_concat():
    x = cr.placeholder(cr.float64, [8, 3], name="x")
    loss = cr.reduce_sum(cr.sin(x[:2])) + cr.reduce_sum(x[2:5] * x[2:5]) + cr.reduce_sum(cr.exp(x[5:]))
    (g,) = cr.gradients(loss, [x])
    assert dump(g, [x], passes=()).count("StridedSliceGrad") == 4  # x[2:5] is read twice
    after = dump(g, [x], passes=ALL_BUT_FUSION)
    assert "StridedSliceGrad" not in after and "ConcatV2(" in after, after
    # Slices that leave a gap (x[7:] is never read) keep their scatter-into-zeros gradients.
    (h,) = cr.gradients(cr.reduce_sum(cr.sin(x[:3])) + cr.reduce_sum(cr.sin(x[3:7])), [x])
    assert "StridedSliceGrad" in dump(h, [x], passes=ALL_BUT_FUSION)
    value = np.arange(24.0).reshape(8, 3) / 10
    same_results([g, h], {x: value})


def test_a_node_is_its_own_first_output_and_keeps_the_others_as_values():
    x = cr.placeholder(cr.float64, [4], name="x")
    a, b = cr.split(cr.sin(x), 2)
    program = compiler.Program.from_graph([a, b], [], [x])
    split = next(n for n in program.nodes if len(n.outputs) == 2)
    sin = next(n for n in program.nodes if n.op_type == "Sin")
    assert sin.out is sin and sin.outputs == (sin,) and sin.node is sin
    first, second = split.outputs
    assert first is split and second.node is split and second.index == 1
    assert program.outputs == [first, second] and split.inputs == (sin,)
