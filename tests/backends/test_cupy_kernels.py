"""The CUDA sources of the CuPy backend's elementwise kernels, checked on a CPU.

Every elementwise region of the op table (each sample's graph and gradients, compiled with all
passes, float64 and float32: the compiler's ``Fused`` nodes, and the ops of several ufunc steps)
gets its ``cupy.ElementwiseKernel`` source from ``chainrule.backends.cupy.kernels``. All of them
are compiled together as C99 by the system C compiler, ``-Wall -Werror``, with a header that
defines ``__device__`` away (the sources use only math functions that CUDA and C99 share), then
each runs on the inputs that region had when the NumPy backend ran the sample, and must give the
NumPy backend's result: the same dtype and shape, float64 to 1e-12 and float32 to 2e-6 of the
result's scale, booleans and integers exactly. Regions without a source must say why, and only
for the reasons listed here. What this does not check: NVRTC's own compilation, and CUDA's math
functions' last bits (they are within 2 ulp of C99's for the functions used).
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from cupy_standin import compile_kernels, run_kernel

import chainrule as cr
from chainrule.backends.cupy import kernels
from chainrule.backends.cupy.kernels import ElementwiseSource, region_members, region_source
from chainrule.runtime.plan import Interpreter
from chainrule.testing.op_table import sample_graph
from chainrule.testing.samples import all_samples

TABLE = all_samples()

# Why a region may have no kernel (CuPy's own ufuncs run its members): each reason's pattern.
REFUSALS = {
    "integer floor_divide, mod, power": r"(floor_divide|mod|power) of int(32|64) has no exact C form",
    "bool arithmetic": r"of bool values",
    "integer true_divide": r"true_divide of int",
    "complex, float16 and other dtypes": r"(dtype|returns|computes in) (complex|float16|uint|int8|int16)",
    "integer transcendental functions": r"(exp|log|sqrt|sin|cos|tan|floor|ceil|rint|arctan2|arc\w+|\w+h|expm1|log1p|"
    r"logaddexp) of int",
}


def _regions(sample, args, gradients):  # type: ignore[no-untyped-def]
    """``(node, inputs, output)`` of every region the NumPy backend ran for this sample (all passes)."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")  # the samples' infinities and NaNs are on purpose
        return _run_regions(sample, args, gradients)


def _run_regions(sample, args, gradients):  # type: ignore[no-untyped-def]
    built = sample_graph(sample, args, gradients)
    if not built.fetches:
        return []
    found = []
    with cr.Session(graph=built.graph, optimize=True) as sess:
        feeds = dict(zip(built.inputs, args))
        sess.run(built.fetches, feeds)
        for plan in sess.plans:
            interpreter = Interpreter(plan.program, np, sess.run_state)
            values = [None] * interpreter.num_slots
            by_tensor = dict(zip(built.inputs, args))
            for i, feed in enumerate(plan.program.feeds):
                values[i] = by_tensor[feed.node.origin.outputs[0]]
            for node, kernel, ins, outs, release in interpreter.steps:
                arrays = [values[i] for i in ins]
                result = kernel(*arrays)
                if region_members(node) is not None:
                    found.append((node, arrays, np.asarray(result)))
                if len(outs) == 1:
                    values[outs[0]] = result
                else:
                    for s, r in zip(outs, result):
                        values[s] = r
                for s in release:
                    values[s] = None
    return found


def _table_regions():  # type: ignore[no-untyped-def]
    regions = []
    for sample in TABLE.samples:
        regions += [(sample.id, *r) for r in _regions(sample, sample.args, True)]
        if sample.float32:
            args = tuple(a.astype(np.float32) if a.dtype == np.float64 else a for a in sample.args)
            regions += [(f"{sample.id}[float32]", *r) for r in _regions(sample, args, False)]
    return regions


def table_sources() -> list[ElementwiseSource]:
    """The distinct kernel sources of the op table's regions (what the backend's op-table test preloads)."""
    sources = {}
    for _, node, _, _ in _table_regions():
        source = region_source(node)
        if isinstance(source, ElementwiseSource):
            sources[source.name] = source
    return list(sources.values())


@pytest.fixture(scope="module")
def regions():  # type: ignore[no-untyped-def]
    return _table_regions()


def test_every_region_of_the_op_table_compiles_and_computes_numpys_values(regions):
    lowered = [(sid, node, arrays, out, region_source(node)) for sid, node, arrays, out in regions]
    sources = {s.name: s for *_, s in lowered if isinstance(s, ElementwiseSource)}
    library = compile_kernels([(s.name, s.in_params, s.out_params, s.operation, s.preamble) for s in sources.values()])
    checked = 0
    fused = 0
    for sid, node, arrays, want, source in lowered:
        if not isinstance(source, ElementwiseSource):
            assert isinstance(source, str), sid
            assert any(re.search(p, source) for p in REFUSALS.values()), f"{sid}: unexpected refusal {source!r}"
            continue
        got = run_kernel(library, source.name, source.in_params, source.out_params, arrays)
        label = f"{sid}: {' -> '.join(source.members)}"
        assert got.dtype == want.dtype and got.shape == want.shape, (
            f"{label}: {got.dtype}{got.shape} vs {want.dtype}{want.shape}"
        )
        if want.dtype.kind in "biu":
            np.testing.assert_array_equal(got, want, err_msg=label)
        else:
            finite = np.abs(want[np.isfinite(want)])
            scale = float(finite.max()) if finite.size else 1.0
            rtol = 2e-6 if want.dtype == np.float32 else 1e-12
            with np.errstate(invalid="ignore"):
                np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * scale, equal_nan=True, err_msg=label)
        checked += 1
        fused += node.op_type == "Fused"
    assert len(sources) >= 100 and checked >= 500 and fused >= 300, (len(sources), checked, fused)


def test_regions_without_a_kernel_are_few_and_say_why(regions):
    reasons = [region_source(node) for _, node, _, _ in regions]
    refused = [r for r in reasons if isinstance(r, str)]
    assert len(refused) < len(reasons) / 10, refused[:20]


def test_the_sigmoid_kernel_is_numpys_four_steps_in_one_pass():
    g = cr.Graph()
    with g.as_default():
        x = cr.placeholder(cr.float32, [None])
        cr.nn.sigmoid(x)
    program = _program(g)
    (node,) = [n for n in program.nodes if n.op_type == "Sigmoid"]
    source = region_source(node)
    assert isinstance(source, ElementwiseSource)
    assert source.in_params == "float32 a0" and source.out_params == "float32 out"
    assert source.operation.splitlines() == [
        "float t0_0 = (-a0);",
        "float t0_1 = cr_logaddexp_f32(((float)0), t0_0);",
        "float t0_2 = (-t0_1);",
        "float t0_3 = expf(t0_2);",
        "out = t0_3;",
    ]
    assert "__device__ float cr_logaddexp_f32(float x, float y)" in source.preamble


def test_a_fused_chain_is_one_kernel_over_its_external_inputs():
    g = cr.Graph()
    with g.as_default():
        x = cr.placeholder(cr.float64, [None, 3])
        b = cr.placeholder(cr.float64, [3])
        cr.maximum(cr.tanh(x * 2.0 + b), 0.0)
    program = _program(g)
    (node,) = [n for n in program.nodes if n.op_type == "Fused"]
    source = region_source(node)
    assert isinstance(source, ElementwiseSource)
    assert source.members == ("Mul", "Add", "Tanh", "Maximum")
    assert source.in_params.count("float64") == len(node.inputs) == 4  # x, 2.0, b, 0.0
    assert "isnan(" in source.operation  # NumPy's maximum: NaN wins
    library = compile_kernels([(source.name, source.in_params, source.out_params, source.operation, source.preamble)])
    xs = np.array([[np.nan, -1.0, 0.5]]), np.float64(2.0), np.array([0.1, 0.2, -3.0]), np.float64(0.0)
    got = run_kernel(library, source.name, source.in_params, source.out_params, xs)
    np.testing.assert_array_equal(np.isnan(got), [[True, False, False]])


def test_a_region_source_makes_one_elementwise_kernel_with_cupys_arguments():
    made = []

    class Module:
        def ElementwiseKernel(self, *args, **kwargs):  # type: ignore[no-untyped-def]  # noqa: N802
            made.append((args, kwargs))
            return "kernel"

    g = cr.Graph()
    with g.as_default():
        x = cr.placeholder(cr.float64, [4])
        cr.math.rsqrt(x)
    (node,) = [n for n in _program(g).nodes if n.op_type == "Rsqrt"]
    source = region_source(node)
    assert isinstance(source, ElementwiseSource)
    assert source.kernel(Module()) == "kernel"
    assert made == [(("float64 a0", "float64 out", source.operation, source.name), {"preamble": source.preamble})]


def test_integer_division_is_left_to_cupys_ufunc_and_says_why():
    g = cr.Graph()
    with g.as_default():
        x = cr.placeholder(cr.int32, [3])
        cr.math.floormod(x * 3, x)
    node = [n for n in _program(g).nodes if region_members(n) is not None][0]
    reason = region_source(node)
    assert isinstance(reason, str) and "mod of int32 has no exact C form" in reason


def test_the_helpers_are_numpys_definitions():
    for kind in kernels.HELPERS:
        name, definition = kernels._helper(kind, "double")  # noqa: SLF001 - the helpers' own text
        library = compile_kernels(
            [(f"call_{kind}", "float64 a0, float64 a1", "float64 out", f"out = {name}(a0, a1);", definition)]
        )
        a = np.array([5.0, -5.0, 5.0, -5.0, 0.0, -0.0, np.inf, 3.0, np.nan, 1e300, -7.5, 7.5, 2.0])
        b = np.array([3.0, 3.0, -3.0, -3.0, 2.0, 2.0, 2.0, np.inf, 1.0, 1e-300, 0.0, -0.0, np.nan])
        want = {"logaddexp": np.logaddexp, "floor_divide": np.floor_divide, "mod": np.mod}[kind]
        with np.errstate(all="ignore"):
            expected = want(a, b)
        got = run_kernel(library, f"call_{kind}", "float64 a0, float64 a1", "float64 out", [a, b])
        np.testing.assert_array_equal(got, expected, err_msg=kind)
        np.testing.assert_array_equal(np.signbit(got), np.signbit(expected), err_msg=kind)


def _program(g):  # type: ignore[no-untyped-def]
    from chainrule import compiler
    from chainrule.runtime.plan import build_program

    fetches = [op.outputs[0] for op in g.get_operations()[-1:]]
    feeds = [op.outputs[0] for op in g.get_operations() if op.type == "Placeholder"]
    return build_program(fetches, [], feeds, compiler.resolve_options(True))
