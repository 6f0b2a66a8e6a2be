"""Op declarations: one per op type, and what each declaration leaves to a fallback, column by column.

Every list the transforms, the compiler and the viewers use comes from the declarations
(``chainrule.ops.registry.OpDef``). For each column (JVP, batching rule, code-generator form,
``explain`` form) the tables below name the op types that do without one, and the fallback
they get; a new op that lacks a column fails here until it is added to that column's list, so
nothing goes missing silently.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import compiler
from chainrule.ops import registry
from chainrule.ops.registry import BROADCAST, UNARY, register_op
from chainrule.ops.shape_rules import unary
from chainrule.viz.explain import explain


@pytest.fixture(scope="module")
def columns(library_declarations: dict[str, list[str]]) -> dict[str, list[str]]:
    return library_declarations


# Differentiable ops whose forward mode is the transposition of their gradient (correct, about
# twice the graph of a rule).
NO_JVP_RULE = {"Cumprod", "If", "LinearScan", "MaxPool", "Prod", "ReadVariable", "While"}
# The segment max/min/prod (TensorFlow's gradients, transposed); SvdVectors has no derivative (it raises).
NO_JVP_RULE |= {"SegmentMax", "SegmentMin", "SegmentProd", "UnsortedSegmentMax", "UnsortedSegmentMin"}
NO_JVP_RULE |= {"UnsortedSegmentProd", "SvdVectors"}

# Ops that cr.vmap batches by a loop over the batch (one op per example, results stacked);
# constants and ops with no inputs never see a batch.
NO_BATCH_RULE = {
    "AvgPoolGrad", "Conv2DBackpropFilter", "Conv2DBackpropInput", "LinalgDiagEmbed", "MaxPoolGrad",
    "MaxPoolGradGrad", "SparseToDense",
    "Const", "KeepDimsShape", "NoOp", "Range", "HistogramSummary", "MergeSummary", "ScalarSummary", "ImageSummary",
    "TextSummary",
    "CaseExclusive", "WhileHistoryCheck",
    "OrthonormalColumns",  # the orthogonal initializer's step: an initial value, never vmapped
    # Outputs whose length depends on values (segment ids, true elements) or on k.
    "SegmentMax", "SegmentMean", "SegmentMin", "SegmentProd", "SegmentSum", "UnsortedSegmentMax",
    "UnsortedSegmentMin", "UnsortedSegmentProd", "UnsortedSegmentSum", "Where", "TopKV2",
    "PyFuncStateless",
}  # fmt: skip

# Elementwise ops that the code generator calls as kernels (not fusable ufunc steps): Cast and the
# identities are free (or aliases), Erf runs SciPy's kernel, Elu/LeakyRelu select between two
# results of the input (steps see only the previous result), Relu6 clips to a constant (6) that
# the steps' constant tokens do not have.
ELEMENTWISE_WITHOUT_STEPS = {"Cast", "CheckNumerics", "Elu", "Erf", "Identity", "LeakyRelu", "Relu6", "StopGradient"}
# Selects between a result and 0 guarding the unsafe operand (*NoNan, Xlogy, Xdivy), and the
# truncating divisions, whose kernels check for an integer division by zero.
ELEMENTWISE_WITHOUT_STEPS |= {"DivNoNan", "MulNoNan", "Xdivy", "Xlogy", "TruncateDiv", "TruncateMod"}
# np.real, np.imag and np.angle are not ufuncs; Complex builds its result from two casts.
ELEMENTWISE_WITHOUT_STEPS |= {"Angle", "Complex", "Imag", "Real"}

# Ops cr.explain prints opaquely, as ``OpType(args)``.
NO_EXPLAIN_FORM = {
    "ArgMax", "ArgMin", "Assign", "AssignAdd", "AssignSub", "AvgPool", "AvgPoolGrad", "Cholesky", "ConcatV2",
    "CaseExclusive", "WhileHistoryCheck",
    "Conv2D", "Conv2DBackpropFilter", "Conv2DBackpropInput", "Cumprod", "Cumsum", "Einsum", "ExpandDims",
    "FloorMod", "GatherNd", "GatherV2", "HistogramSummary", "KeepDimsShape", "LinalgDiagEmbed",
    "LinalgMatrixTranspose", "LinearScan", "LogMatrixDeterminant", "LogSumExpShift", "MatrixBandPart",
    "LogUniformCandidateSampler",
    "MatrixDeterminant", "MatrixDiag", "MatrixDiagPart", "MatrixInverse", "MatrixSetDiag", "MatrixSolve",
    "MatrixTriangularSolve", "MaxPool", "MaxPoolGrad", "MaxPoolGradGrad", "MergeSummary", "MirrorPad",
    "MirrorPadGrad", "NoOp", "OneHot", "Pack", "PadV2", "RandomStandardNormal", "RandomUniform",
    "RandomUniformInt", "Range", "ReverseV2", "ScalarSummary", "ScatterNd", "ShiftAlongAxis",
    "SigmoidCrossEntropyWithLogits", "Slice", "SoftmaxCrossEntropyWithLogits",
    "SparseSoftmaxCrossEntropyWithLogits", "SparseToDense", "Split", "SplitV", "Squeeze", "StridedSlice",
    "StridedSliceGrad", "Tile", "Unpack",
    "Multinomial", "RandomShuffle", "TruncatedNormal", "OrthonormalColumns",
    "SvdVectors", "TopKV2", "SelfAdjointEigV2",
    "IdentityN", "Print", "PrintV2", "PyFunc", "PyFuncStateless", "ImageSummary", "TextSummary", "Assert",
}  # fmt: skip


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        ("no_jvp", NO_JVP_RULE),
        ("no_batch_rule", NO_BATCH_RULE),
        ("elementwise_without_steps", ELEMENTWISE_WITHOUT_STEPS),
        ("no_explain", NO_EXPLAIN_FORM),
    ],
)
def test_each_column_names_the_ops_that_do_without_it(columns, column, expected):
    actual = set(columns[column])
    assert actual - expected == set(), f"{column}: declare it, or list the op here: {sorted(actual - expected)}"
    assert expected - actual == set(), f"{column}: these ops now have it, drop them: {sorted(expected - actual)}"


def test_the_elementwise_kinds_cover_every_op_the_compiler_fuses(columns):
    """Every op with ufunc steps is elementwise (fusion and shape proofs rely on it), and vice versa."""
    ops = registry.registered_ops()
    library = set(columns["all"])
    with_steps = {n for n in library if ops[n].steps is not None}
    elementwise = {n for n in library if ops[n].elementwise is not None}
    assert with_steps - elementwise == {"AddN"}  # AddN is fused but takes same-shape inputs only
    assert elementwise - with_steps == ELEMENTWISE_WITHOUT_STEPS
    assert {ops[n].elementwise for n in elementwise} == {UNARY, BROADCAST}


@pytest.mark.parametrize("op_type", ["Sigmoid", "Softplus", "Rsqrt", "Reciprocal", "Relu", "SquaredDifference"])
def test_a_kernel_made_from_steps_gives_the_same_bits_as_the_steps_compiled(op_type):
    """The kernel and the code generator's inline steps come from one declaration: same bits."""
    op_def = registry.get_op_def(op_type)
    rng = np.random.default_rng(0)
    args = [rng.standard_normal((4, 3)) * 10 + (5 if op_type in ("Rsqrt",) else 0) for _ in range(2)]
    args = args[: 2 if op_def.elementwise == BROADCAST else 1]
    if op_type == "Rsqrt":
        args = [np.abs(a) for a in args]
    graph = cr.Graph()
    with graph.as_default():
        xs = [cr.placeholder(cr.float64, a.shape) for a in args]
        out = registry.apply(op_type, *xs)
        feeds = dict(zip(xs, args))
        compiled = cr.Session(graph=graph).run(out, feeds)
        interpreted = cr.Session(graph=graph, optimize=compiler.Options(passes=(), codegen=False)).run(out, feeds)
    np.testing.assert_array_equal(compiled, interpreted)
    np.testing.assert_array_equal(compiled, op_def.kernel(np, *args))


def test_a_user_declared_elementwise_op_is_fused_batched_and_explained_from_its_declaration():
    register_op(
        "SquareForDeclTest",
        None,
        unary(),
        lambda op, g: [g * op.inputs[0]],
        elementwise=UNARY,
        steps=[("square", 0)],
        explain="sq",
        replace=True,
    )
    x = np.linspace(-1, 1, 6).reshape(2, 3)
    graph = cr.Graph()
    with graph.as_default():
        t = cr.placeholder(cr.float64, [2, 3])
        y = cr.sin(registry.apply("SquareForDeclTest", t))
        program = compiler.optimize(y, feeds=[t])
        np.testing.assert_array_equal(cr.Session(graph=graph).run(y, {t: x}), np.sin(np.square(x)))
    # Fused with its neighbour (declared steps), printed by its explain form, batched as elementwise.
    assert [n.op_type for n in program.nodes if n.op_type != "Feed"] == ["Fused"]
    assert explain(y) == "sin(sq(" + t.op.name + "))"
    batched = cr.vmap(lambda r: registry.apply("SquareForDeclTest", r))(x)
    np.testing.assert_array_equal(batched, np.square(x))
    # Forward mode from the declaration: a unary op's JVP is its gradient applied to the tangent.
    assert registry.get_op_def("SquareForDeclTest").jvp is not None


def test_replacing_a_declaration_drops_the_old_steps_so_the_new_kernel_runs():
    register_op("ReplacedForDeclTest", None, unary(), None, elementwise=UNARY, steps=[("negative", 0)], replace=True)
    register_op("ReplacedForDeclTest", lambda xp, x: x + 100, unary(), None, replace=True)
    graph = cr.Graph()
    with graph.as_default():
        t = cr.placeholder(cr.float64, [3])
        y = registry.apply("ReplacedForDeclTest", t) * 2
        np.testing.assert_array_equal(cr.Session(graph=graph).run(y, {t: np.ones(3)}), np.full(3, 202.0))


def test_a_custom_op_goes_through_the_same_declaration():
    calls = []

    @cr.custom_op("CubeForDeclTest", elementwise="unary", explain="cube")
    def cube(x):
        calls.append(x.shape)
        return x**3

    @cr.RegisterGradient("CubeForDeclTest")
    def _cube_grad(op, g):
        return [g * 3 * op.inputs[0] * op.inputs[0]]

    x = np.linspace(-1, 1, 6).reshape(2, 3)
    # Batched as itself (one call for the whole batch), not by a loop over the examples.
    np.testing.assert_allclose(cr.vmap(cube)(x), x**3)
    assert calls == [(2, 3)]
    # Forward mode from the gradient registered after the op (a diagonal Jacobian), no transposition.
    graph = cr.Graph()
    with graph.as_default():
        t = cr.placeholder(cr.float64, [2, 3], name="t")
        y = cube(t)
        (ty,) = cr.forward_gradients(y, [t], [cr.ones_like(t)])
        np.testing.assert_allclose(cr.Session(graph=graph).run(ty, {t: x}), 3 * x**2)
        assert not any("transpose" in op.name for op in graph.get_operations())
        assert explain(y) == "cube(t)"


def test_a_broadcasting_custom_op_has_the_broadcast_shape_and_unbroadcast_gradients():
    @cr.custom_op("HypotForDeclTest", elementwise="broadcast")
    def hypot(a, b):
        return np.hypot(a, b)

    @cr.RegisterGradient("HypotForDeclTest")
    def _hypot_grad(op, g):
        a, b = op.inputs
        return [g * a / op.outputs[0], g * b / op.outputs[0]]

    a, b = np.array([[3.0], [5.0]]), np.array([4.0, 12.0])
    graph = cr.Graph()
    with graph.as_default():
        ta, tb = cr.placeholder(cr.float64, [2, 1]), cr.placeholder(cr.float64, [2])
        y = hypot(ta, tb)
        assert y.shape.as_list() == [2, 2]
        ga, gb = cr.gradients(cr.reduce_sum(y), [ta, tb])
        assert ga.shape.as_list() == [2, 1] and gb.shape.as_list() == [2]
        got = cr.Session(graph=graph).run([ga, gb], {ta: a, tb: b})
    h = np.hypot(a, b)
    np.testing.assert_allclose(got[0], np.sum(a / h, axis=1, keepdims=True))
    np.testing.assert_allclose(got[1], np.sum(b / h, axis=0))


def test_an_elementwise_custom_op_has_one_output():
    with pytest.raises(ValueError, match="one output"):
        cr.custom_op("TwoOutForDeclTest", elementwise="unary", num_outputs=2)
