"""Each op's Numba lowering rule (``OpDef.lower["numba"]``) against the op's NumPy kernel, on the op table.

For every op-table sample (and the gradient graph of every differentiable one) each node whose op
declares a Numba rule is lowered with a minimal lowering context, compiled as
``@njit def f(*inputs): return <expression>``, and run on the inputs the NumPy kernel got; its
result must have the kernel's dtype and shape and equal its values (1e-12 relative in float64,
float32's own tolerance, exactly for integers and bools). The Numba backend runs the same table
end to end; this is the per-rule check.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numba
import numpy as np
import pytest

import chainrule as cr
from chainrule.compiler.ir import Program
from chainrule.ops.registry import find_op_def, lowering_rule
from chainrule.runtime.plan import RunState, bind_kernel
from chainrule.testing.op_table import as_list, budgeted, sample_graph
from chainrule.testing.samples import all_samples

TABLE = all_samples()

# The non-elementwise ops a numerical plan is made of (the ADBench GMM and LSTM, the MLP, their
# gradient graphs, the op table): each must declare a Numba rule.
LOWERED = (
    "MatMul",
    "Sum",
    "Max",
    "Min",
    "Prod",
    "All",
    "Any",
    "LogSumExpShift",
    "SumToShape",
    "BroadcastTo",
    "Reshape",
    "Transpose",
    "ExpandDims",
    "Squeeze",
    "ConcatV2",
    "Pack",
    "Unpack",
    "Split",
    "SplitV",
    "Slice",
    "StridedSlice",
    "StridedSliceGrad",
    "Tile",
    "ReverseV2",
    "Fill",
    "Shape",
    "Identity",
    "StopGradient",
    "Cast",
    "Softmax",
    "LogSoftmax",
    "SoftmaxCrossEntropyWithLogits",
    "OneHot",
    "GatherV2",
    "ScatterNd",
    "ArgMax",
    "ArgMin",
    "BiasAdd",
)


class Lowering:
    """The least a rule needs: ``bind`` into a dict of globals (equal objects bound once) and the backend's name."""

    backend = "numba"

    def __init__(self) -> None:
        self.globals: dict[str, Any] = {}
        self._names: dict[int, str] = {}

    def bind(self, prefix: str, value: Any) -> str:
        name = self._names.get(id(value))
        if name is None:
            name = self._names[id(value)] = f"{prefix}_{len(self.globals)}"
            self.globals[name] = value
        return name


_COMPILED: dict[Any, Any] = {}
_HELPER_CALL = re.compile(r"(\w+)\(((?:a\d+(?:, )?)*)\)")


class _Direct:
    """The bound helper itself, when the expression is just a call of it on inputs (one compilation fewer).

    Its result's dtype is read from the compiled signature: a native float32 scalar boxes to a Python float.
    """

    def __init__(self, fn: Any, positions: list[int]) -> None:
        self.fn, self.positions = fn, positions

    def __call__(self, *arguments: Any) -> Any:
        picked = [arguments[i] for i in self.positions]
        result = self.fn(*picked)
        if isinstance(result, np.ndarray):
            return result
        signature = tuple(numba.typeof(a) for a in picked)
        returned = self.fn.overloads[signature].signature.return_type
        return np.asarray(result, dtype=numba.np.numpy_support.as_dtype(returned))


def _compiled(expression: str, bound: dict[str, Any], num_inputs: int, num_outputs: int) -> Any:
    """``njit`` of ``f(a0, a1, ...)`` returning the expression's value(s), each through ``np.asarray``.

    ``np.asarray`` of a native scalar is a 0-d array of the scalar's own dtype, so a rank-0 result
    keeps the dtype Numba computed (boxing would turn it into a Python float).
    """
    direct = _HELPER_CALL.fullmatch(expression)
    if direct and num_outputs == 1 and direct.group(1) in bound:
        positions = [int(a[1:]) for a in direct.group(2).split(", ") if a]
        return _Direct(bound[direct.group(1)], positions)
    key = (expression, tuple((n, id(v)) for n, v in bound.items()), num_inputs, num_outputs)
    fn = _COMPILED.get(key)
    if fn is None:
        params = ", ".join(f"a{i}" for i in range(num_inputs))
        if num_outputs == 1:
            body = f"    return np.asarray({expression})\n"
        else:
            items = ", ".join(f"np.asarray(r[{i}])" for i in range(num_outputs))
            body = f"    r = {expression}\n    return ({items},)\n"
        namespace: dict[str, Any] = {"np": np, **bound}
        exec(f"def f({params}):\n{body}", namespace)
        fn = _COMPILED[key] = (numba.njit(namespace["f"]), list(bound.values()))
    return fn[0]


def _lowered_ops(graph: cr.Graph) -> list[Any]:
    return [op for op in graph.get_operations() if lowering_rule(op.type, "numba") is not None]


def _build(sample: Any, args: tuple[np.ndarray, ...], gradients: bool, unknown_dims: bool = False) -> Any:
    built = sample_graph(sample, args, gradients, unknown_dims)
    return built.graph, built.inputs, built.fetches


def _variants(sample: Any) -> list[tuple[str, tuple[np.ndarray, ...], bool]]:
    found = [("float64", sample.args, False)]
    if sample.float32:
        found.append(
            ("float32", tuple(a.astype(np.float32) if a.dtype == np.float64 else a for a in sample.args), False)
        )
    if sample.order > 0:
        found.append(("gradient", sample.args, True))
    return found


def _cases() -> list[Any]:
    cases = []
    for sample in TABLE.samples:
        for variant, args, gradients in _variants(sample):
            try:
                graph, _, _ = _build(sample, args, gradients)
            except Exception:  # noqa: BLE001 - the op table itself reports samples that do not build
                continue
            if _lowered_ops(graph):
                cases.append(pytest.param(sample, variant, args, gradients, id=f"{sample.id}-{variant}"))
    return cases


# A fixed budget by default (see chainrule.testing.op_table.budgeted): each rule is compiled
# once per op function and variant; CHAINRULE_NATIVE_SAMPLES_PER_OP=all checks every sample.
CASES = budgeted(_cases(), key=lambda case: (case.values[0].name, case.values[1]))


def _tolerance(dtype: np.dtype) -> tuple[float, float]:
    return (2e-6, 1e-6) if dtype in (np.float32, np.complex64) else (1e-12, 1e-13)


def _check(op: Any, got: np.ndarray, want: np.ndarray, tensor: Any, where: str) -> None:
    want = np.asarray(want)
    assert got.dtype == want.dtype == tensor.dtype.as_numpy_dtype, (
        f"{where}: dtype {got.dtype} != kernel's {want.dtype}"
    )
    assert got.shape == want.shape, f"{where}: shape {got.shape} != kernel's {want.shape}"
    if want.dtype.kind in "biu":
        np.testing.assert_array_equal(got, want, err_msg=where)
    else:
        rtol, atol = _tolerance(want.dtype)
        scale = float(np.max(np.abs(want[np.isfinite(want)]), initial=1.0))
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol * scale, equal_nan=True, err_msg=where)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # samples at the edges (log 0) warn in the kernels
@pytest.mark.parametrize("sample, variant, args, gradients", CASES)
def test_numba_rule_matches_the_numpy_kernel(sample, variant, args, gradients):
    graph, inputs, outputs = _build(sample, args, gradients)
    ops = _lowered_ops(graph)
    feeds = dict(zip(inputs, args))
    fetches = [t for op in ops for t in (*op.inputs, *op.outputs)]
    with cr.Session(graph=graph, optimize=False) as sess:
        values = dict(zip(fetches, sess.run(fetches, feeds)))
    program = Program.from_graph(fetches, feeds=inputs)
    lowered = 0
    for node in program.nodes:
        op = node.origin
        if op is None or op not in ops:
            continue
        lw = Lowering()
        names = [f"a{i}" for i in range(len(node.inputs))]
        expression = lowering_rule(op.type, "numba")(lw, node, names)
        if expression is None:
            continue
        assert isinstance(expression, str), f"{op.name}: a rule returns an expression (a string) or None"
        fn = _compiled(expression, lw.globals, len(names), len(node.outputs))
        # Rank-0 inputs arrive as 0-d arrays (float64 runs) or as scalars (float32 runs): rules take both.
        arguments = [np.asarray(values[t]) for t in op.inputs]
        if variant == "float32":
            arguments = [a[()] if a.ndim == 0 else a for a in arguments]
        results = as_list(fn(*arguments)) if len(node.outputs) > 1 else [fn(*arguments)]
        for i, (tensor, got) in enumerate(zip(op.outputs, results)):
            _check(op, got, values[tensor], tensor, f"{sample.id} ({variant}): {op.type} {op.name} output {i}")
        lowered += 1
    # Static shapes are known and the dtypes numeric in these samples, so each declared rule lowers its node ...
    # ... except where the rule declines on purpose (see the rules); at least one node of the case must lower.
    assert lowered, f"{sample.id} ({variant}): no node was lowered"


@pytest.mark.parametrize("sample", [s for s in TABLE.samples if s.unknown_dims], ids=lambda s: s.id)
def test_numba_rules_decline_or_lower_with_unknown_dims(sample):
    """With every dim unknown, a rule returns None (the kernel runs) or an expression; it never fails."""
    try:
        graph, inputs, outputs = _build(sample, sample.args, False, unknown_dims=True)
    except Exception:  # noqa: BLE001 - the op table itself reports samples that do not build
        return
    program = Program.from_graph(outputs, feeds=inputs)
    for node in program.nodes:
        rule = lowering_rule(node.op_type, "numba")
        if rule is not None:
            expression = rule(Lowering(), node, [f"a{i}" for i in range(len(node.inputs))])
            assert expression is None or isinstance(expression, str)


@pytest.mark.parametrize("op_type", LOWERED)
def test_plan_ops_declare_a_numba_rule(op_type):
    assert lowering_rule(op_type, "numba") is not None, f"{op_type} has no Numba lowering rule"


def test_the_op_table_exercises_every_numba_rule():
    covered = {
        op.type for case in CASES for op in _lowered_ops(_build(*case.values[:1], case.values[2], case.values[3])[0])
    }
    missing = sorted(set(LOWERED) - covered)
    assert not missing, f"no op-table sample builds {missing}"


def test_importing_chainrule_does_not_import_numba():
    code = "import sys, chainrule; assert 'numba' not in sys.modules, 'numba imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


# --- the benchmark plans: every node of the optimized GMM, LSTM and MLP programs that has a rule -------
def _benchmark_graphs() -> dict[str, Any]:
    """Small instances of the benchmark problems (benchmarks/harness builds the graphs), with gradients."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from harness import data
    from harness.tools import chainrule_tool

    rng = np.random.default_rng(0)
    gmm = data.GMMInstance(
        rng.normal(size=3), rng.normal(size=(3, 2)), rng.normal(size=(3, 3)), rng.normal(size=(5, 2)), 1.0, 0
    )
    lstm = data.LSTMInstance(
        rng.normal(size=(4, 8)), rng.normal(size=(3, 2)), rng.normal(size=(4, 2)), rng.normal(size=(4, 2))
    )
    built = {}
    for name, make, values in (
        ("gmm", chainrule_tool.gmm_graph, (gmm.alphas, gmm.means, gmm.icf, gmm.x)),
        ("lstm", chainrule_tool.lstm_graph, (lstm.main, lstm.extra, lstm.state, lstm.sequence)),
    ):
        graph = cr.Graph()
        with graph.as_default():
            ph = [cr.placeholder(cr.float64, v.shape) for v in values]
            f = make(*ph, gmm if name == "gmm" else lstm)
            built[name] = ([f, *cr.gradients(f, ph[:2])], ph, values)
    graph = cr.Graph()
    with graph.as_default():
        shapes = [(4, 3), (3, 5), (5,), (5, 2), (2,)]
        values = (rng.normal(size=(4, 3)), np.eye(2)[[0, 1, 1, 0]], *(rng.normal(size=s) for s in shapes[1:]))
        x, labels, w1, b1, w2, b2 = ph = [cr.placeholder(cr.float64, v.shape) for v in values]
        logits = cr.matmul(cr.tanh(cr.matmul(x, w1) + b1), w2) + b2
        loss = cr.reduce_mean(cr.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits))
        built["mlp"] = ([loss, *cr.gradients(loss, [w1, b1, w2, b2])], ph, values)
    return built


@pytest.mark.parametrize("problem", ["gmm", "lstm", "mlp"])
def test_every_non_elementwise_node_of_the_benchmark_plans_lowers(problem):
    fetches, feeds, values = _benchmark_graphs()[problem]
    program = cr.compiler.optimize(fetches, feeds=feeds)
    env: dict[Any, Any] = dict(zip(program.feeds, values))
    state = RunState(None)
    declined = []
    for node in program.nodes:
        inputs = [env[v] for v in node.inputs]
        result = bind_kernel(node, np, state)(*inputs)
        results = list(result) if len(node.outputs) > 1 else [result]
        env.update(zip(node.outputs, results))
        rule = lowering_rule(node.op_type, "numba")
        op_def = find_op_def(node.op_type)
        if node.op_type in ("Const", "Fused") or (op_def is not None and op_def.steps is not None):
            continue  # constants and elementwise ops (ufunc steps) are the backend's own
        lw = Lowering()
        expression = None if rule is None else rule(lw, node, [f"a{i}" for i in range(len(node.inputs))])
        if expression is None:
            declined.append(node.op_type)
            continue
        fn = _compiled(expression, lw.globals, len(node.inputs), len(node.outputs))
        got = fn(*[np.asarray(a) for a in inputs])
        for v, g, want in zip(node.outputs, as_list(got) if len(node.outputs) > 1 else [got], results):
            _check(node, g, want, v, f"{problem}: {node.op_type} {node.name}")
    assert not declined, f"{problem}: not lowered: {sorted(set(declined))}"


def _lowered_function(build: Any, *specs: tuple[Any, list[int | None]]) -> tuple[Any, Any]:
    """The compiled lowering of the last op ``build`` makes from placeholders of ``specs``, and that op."""
    graph = cr.Graph()
    with graph.as_default():
        inputs = [cr.placeholder(dtype, shape) for dtype, shape in specs]
        out = build(*inputs)
    program = Program.from_graph([out], feeds=inputs)
    node = program.nodes[-1]
    lw = Lowering()
    expression = lowering_rule(node.op_type, "numba")(lw, node, [f"a{i}" for i in range(len(node.inputs))])
    assert expression is not None
    return _compiled(expression, lw.globals, len(node.inputs), 1), node


@pytest.mark.parametrize(
    "build, specs, args, error, match",
    [
        (lambda p, i: cr.gather(p, i), [(cr.float64, [4, 2]), (cr.int32, [3])],
         (np.ones((4, 2)), np.array([0, 4, 1], np.int32)), ValueError, r"gather: indices out of bounds.*\[0, 4\)"),
        (lambda p, i: cr.gather(p, i), [(cr.float64, [4]), (cr.int64, [2])],
         (np.ones(4), np.array([-1, 0])), ValueError, r"out of bounds"),
        (lambda i, u: cr.scatter_nd(i, u, [3]), [(cr.int32, [2, 1]), (cr.float64, [2])],
         (np.array([[0], [3]], np.int32), np.ones(2)), ValueError, r"scatter_nd: indices out of bounds.*\[0, 3\)"),
        (lambda x, b: cr.slice(x, b, [2]), [(cr.float64, [3]), (cr.int32, [1])],
         (np.ones(3), np.array([2], np.int32)), ValueError, r"out of bounds for dimension 0"),
        (lambda x, i: x[i], [(cr.float64, [3]), (cr.int32, [])],
         (np.ones(3), np.array(3, np.int32)), IndexError, r"index out of bounds for axis 0"),
    ],
    ids=["gather past the end", "gather negative", "scatter_nd", "slice", "tensor index"],
)  # fmt: skip
def test_native_code_raises_where_the_kernel_raises(build, specs, args, error, match):
    fn, node = _lowered_function(build, *specs)
    fed = iter(args)
    inputs = [np.asarray(v.node.attrs["value"]) if v.node.op_type == "Const" else next(fed) for v in node.inputs]
    with pytest.raises(error):
        bind_kernel(node, np, RunState(None))(*inputs)  # the kernel's own error, the same class
    with pytest.raises(error, match=match):
        fn(*inputs)


def test_integer_accumulation_keeps_the_static_dtype():
    """Numba widens int32 sums to int64; the lowering casts back, wrapping exactly as NumPy's int32 sum."""
    fn, node = _lowered_function(lambda x: cr.reduce_sum(x, axis=0), (cr.int32, [3, 2]))
    x = np.array([[2**30, 1], [2**30, 2], [2**30, 3]], np.int32)
    got = fn(x)
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, np.sum(x, axis=0, dtype=np.int32))
