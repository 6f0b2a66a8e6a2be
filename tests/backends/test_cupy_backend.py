"""The CuPy backend's logic on a CPU: a stand-in module (``cupy_standin``) with the CuPy calls it makes.

What is checked here without a GPU: choosing the backend (by name, by ``cr.device("/gpu:N")``)
and its errors without CuPy or without a device; where values live (feeds copied to the device
once per run, variables kept in device memory between runs, fetches copied back once, as NumPy
or, asked for, as device arrays); that a failed run commits nothing; the random ops' generators
under chainrule's seed rule; which ops run how; and the whole op table (outputs and gradients)
through the backend, its elementwise regions run as the generated kernels compiled as C, equal
to the NumPy backend's. What is not: CuPy itself (its NVRTC compilation, cuBLAS, cuSOLVER, its
generator's values): ``benchmarks/gpu_check.py`` runs the op table on a GPU.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from cupy_standin import StandInCupy

import chainrule as cr
from chainrule.backends.cupy.backend import CupyBackend, DeviceValue, lowerings
from chainrule.runtime import backends
from chainrule.testing import strict_namespace as sn
from chainrule.testing.op_table import RANDOM_OP_TYPES, layout_mismatch, sample_graph, value_mismatch
from chainrule.testing.samples import all_samples

TABLE = all_samples()


@pytest.fixture()
def registry():
    """The backend registry's "cupy" entry reset before and after (a test may install a stand-in CuPy)."""
    backends.register_backend("cupy", "chainrule.backends.cupy")  # type: ignore[arg-type]
    yield
    backends.register_backend("cupy", "chainrule.backends.cupy")  # type: ignore[arg-type]


@pytest.fixture()
def standin(monkeypatch: pytest.MonkeyPatch, registry):  # type: ignore[no-untyped-def]
    """A stand-in CuPy with two devices, installed as ``cupy``; returns it."""
    import chainrule.backends.cupy as package

    module = StandInCupy(devices=2)
    monkeypatch.setitem(sys.modules, "cupy", module)
    monkeypatch.setattr(package, "_BACKEND", [])
    return module


def training_graph():
    g = cr.Graph()
    with g.as_default():
        x = cr.placeholder(cr.float64, [None, 3], name="x")
        w = cr.Variable(np.linspace(-1.0, 1.0, 6).reshape(3, 2), name="w")
        b = cr.Variable(np.zeros(2), name="b")
        y = cr.nn.sigmoid(cr.matmul(x, w) + b)
        loss = cr.reduce_mean(cr.square(y - 0.25))
        step = cr.train.GradientDescentOptimizer(0.5).minimize(loss)
        init = cr.global_variables_initializer()
    return g, x, (w, b), y, loss, step, init


FEED = np.arange(12.0).reshape(4, 3) / 7.0


def test_asking_for_cupy_without_cupy_names_the_gpu_extra(monkeypatch: pytest.MonkeyPatch, registry):
    monkeypatch.setitem(sys.modules, "cupy", None)  # as if not installed
    with pytest.raises(ImportError, match=r"needs CuPy and a CUDA GPU.*pip install 'chainrule\[gpu\]'"):
        cr.Session(graph=cr.Graph(), backend="cupy")


def test_asking_for_cupy_without_a_device_names_the_device(monkeypatch: pytest.MonkeyPatch, registry):
    import chainrule.backends.cupy as package

    monkeypatch.setitem(sys.modules, "cupy", StandInCupy(devices=0))
    monkeypatch.setattr(package, "_BACKEND", [])
    with pytest.raises(
        cr.errors.UnavailableError, match=r"needs a CUDA GPU: CuPy is installed but found no device for /gpu:0"
    ):
        cr.Session(graph=cr.Graph(), backend="cupy")


def test_a_device_index_beyond_the_devices_is_refused(standin):
    from chainrule.backends.cupy import cupy_backend

    with pytest.raises(
        cr.errors.UnavailableError, match=r"asked for /gpu:2, but CuPy sees 2 CUDA devices \(/gpu:0 to /gpu:1\)"
    ):
        cupy_backend(device=2)
    with pytest.raises(ValueError, match="fetch must be one of 'numpy', 'device'"):
        cupy_backend(fetch="host")
    with pytest.raises(TypeError, match="The 'cupy' backend takes device, elementwise_kernels, fetch, got client"):
        cr.Session(graph=cr.Graph(), backend="cupy", client=object())


def test_importing_chainrule_or_the_backend_package_does_not_import_cupy():
    code = "import sys, chainrule, chainrule.backends.cupy.kernels; print('cupy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_ops_placed_on_a_gpu_select_the_cupy_backend_on_that_device(standin):
    g, x, (w, b), y, loss, step, init = training_graph()
    with g.as_default(), cr.device("/device:GPU:1"):
        z = y * 3.0
    with sn.refusing_numpy(), cr.Session(graph=g) as sess:
        assert isinstance(sess.backend, CupyBackend) and sess.backend.device == 1
        sess.run(init)
        standin.reset_counts()
        got = sess.run(z, {x: FEED})
        assert standin.devices_used and set(standin.devices_used) == {1}  # every copy made with /gpu:1 current
    with cr.Session(graph=g) as sess:
        assert isinstance(sess.backend, CupyBackend)
    with cr.Session(graph=g, backend="numpy") as sess:  # a named backend wins over the placement
        assert sess.backend.name == "numpy"
        sess.run(init)
        np.testing.assert_allclose(got, sess.run(z, {x: FEED}), rtol=1e-12)


def test_gpu_placement_reads_tensorflows_device_spellings():
    for spec, want in [
        ("/gpu:0", 0),
        ("/device:GPU:2", 2),
        ("/job:worker/replica:0/task:0/device:GPU:1", 1),
        ("/cpu:0", None),
        ("/job:worker", None),
    ]:
        g = cr.Graph()
        with g.as_default(), cr.device(spec):
            cr.constant(1.0)
        assert backends.gpu_placement(g) == want, spec
    g = cr.Graph()
    with g.as_default():
        with cr.device("/gpu:3"):
            cr.constant(1.0)
        with cr.device("/gpu:1"):
            cr.constant(2.0)
    assert backends.gpu_placement(g) == 1  # one device per Session: the first of them


def test_ops_placed_on_a_gpu_run_on_numpy_where_there_is_none(monkeypatch: pytest.MonkeyPatch, registry):
    monkeypatch.setitem(sys.modules, "cupy", None)
    g = cr.Graph()
    with g.as_default(), cr.device("/gpu:0"):
        y = cr.constant(2.0) * 3.0
    with cr.Session(graph=g) as sess:  # soft placement, TF 2's default
        assert sess.backend.name == "numpy"
        assert sess.run(y) == 6.0


def test_feeds_go_to_the_device_once_variables_stay_there_and_fetches_come_back_once():
    module = StandInCupy()
    g, x, (w, b), y, loss, step, init = training_graph()
    with sn.refusing_numpy(), cr.Session(graph=g, backend=CupyBackend(module)) as sess:
        sess.run(init)
        sess.run([step, loss], {x: FEED})  # plans are built: constants go to the device once, here
        module.reset_counts()
        got_loss = None
        for _ in range(3):
            _, got_loss = sess.run([step, loss], {x: FEED})
        assert [s for s in module.to_device if s] == [(4, 3)] * 3  # the feed, once per run; no variable
        assert module.to_host == [()] * 3  # the loss, once per run: the variables stay on the device
        assert module.synchronizations == 3
        assert all(isinstance(v, DeviceValue) for v in sess.run_state.variables.values())
        assert isinstance(got_loss, np.float64)
        module.reset_counts()
        value = sess.run(w)
        assert isinstance(value, np.ndarray) and module.to_host == [(3, 2)]
    with cr.Session(graph=g) as sess:
        sess.run(init)
        for _ in range(4):
            _, want_loss = sess.run([step, loss], {x: FEED})
        np.testing.assert_allclose(got_loss, want_loss, rtol=1e-12)
        np.testing.assert_allclose(value, sess.run(w), rtol=1e-12)


def test_fetch_device_returns_device_arrays_without_a_copy():
    module = StandInCupy()
    g, x, _, y, loss, step, init = training_graph()
    with sn.refusing_numpy(), cr.Session(graph=g, backend=CupyBackend(module, fetch="device")) as sess:
        sess.run(init)
        module.reset_counts()
        got = sess.run(y, {x: FEED})
        assert isinstance(got, module.ndarray) and module.to_host == []
        device_feed = module.asarray(FEED)
        module.reset_counts()
        again = sess.run(y, {x: device_feed})  # a device feed is not copied
        assert [s for s in module.to_device if s] == []
        np.testing.assert_array_equal(sn.to_numpy(again), sn.to_numpy(got))


def test_a_failed_run_leaves_the_device_variables_as_they_were():
    module = StandInCupy()
    g, x, (w, b), y, loss, step, init = training_graph()
    with g.as_default():
        checked = cr.debugging.check_numerics(cr.math.log(loss - 1.0), "log of a negative loss")
    with sn.refusing_numpy(), cr.Session(graph=g, backend=CupyBackend(module)) as sess:
        sess.run(init)
        before = dict(sess.run_state.variables)
        with pytest.raises(cr.errors.InvalidArgumentError, match="log of a negative loss"):
            with np.errstate(invalid="ignore"):
                sess.run([step, checked], {x: FEED})  # the step's updates exist, then the check fails
        assert sess.run_state.variables == before  # the same DeviceValues: nothing committed


def test_random_ops_draw_on_the_device_under_chainrules_seed_rule():
    def graph(op_seed):  # type: ignore[no-untyped-def]
        g = cr.Graph()
        with g.as_default():
            outs = [
                cr.random.normal([3, 2], seed=op_seed),
                cr.random.uniform([4], seed=op_seed + 1),
                cr.random.uniform([50], minval=3, maxval=7, dtype=cr.int32, seed=op_seed + 2),
                cr.random.truncated_normal([200], seed=op_seed + 3),
                cr.random.shuffle(cr.range(10), seed=op_seed + 4),
            ]
        return g, outs

    runs = []
    for _ in range(2):
        module = StandInCupy()
        g, outs = graph(5)
        with sn.refusing_numpy(), cr.Session(graph=g, backend=CupyBackend(module)) as sess:
            runs.append([sess.run(outs), sess.run(outs)])
        # The op's seed: the first draw of the stream chainrule's rule gives it (graph seed 87654321 when unset).
        assert module.seeds[0] == np.random.default_rng([87654321, 5]).integers(0, np.iinfo(np.int64).max)
        assert len(set(module.seeds)) == 5
    (first, second), (again, _) = runs
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)  # the same seeds, the same values in a new Session
    assert not np.array_equal(first[0], second[0])  # the stream goes on from run to run
    normal, uniform, ints, truncated, shuffled = first
    assert normal.dtype == np.float32 and normal.shape == (3, 2)
    assert ((uniform >= 0) & (uniform < 1)).all()
    assert ints.dtype == np.int32 and set(ints) <= {3, 4, 5, 6} and len(set(ints)) == 4
    assert np.abs(truncated).max() <= 2.0
    assert sorted(shuffled) == list(range(10)) and list(shuffled) != list(range(10))


def test_which_ops_run_how():
    forms = lowerings()
    assert set(forms) == set(cr.ops.registry.registered_ops())
    for name, op_def in cr.ops.registry.registered_ops().items():
        if op_def.numpy_only:
            assert forms[name] == "host", name
    assert {forms[k] for k in ("RandomUniform", "RandomStandardNormal", "TruncatedNormal", "RandomShuffle")} == {
        "cupy.random"
    }
    assert forms["Multinomial"] == "host"  # NumPy's generator on the host, as its declaration says
    for name in ("MatrixInverse", "Cholesky", "MatrixDeterminant", "MatrixSolve"):
        assert forms[name] == "cupy.linalg", name
    assert forms["MatMul"] == forms["Conv2D"] == forms["Sum"] == "cupy"
    assert forms["Sigmoid"] == forms["Add"] == "elementwise"
    assert forms["VariableV2"] == forms["AssignAdd"] == "state"


def _assert_same(sample_id, fetches, got, want):  # type: ignore[no-untyped-def]
    problem = value_mismatch(fetches, got, want, 1e-12, where="cupy")
    assert problem is None, f"{sample_id}: {problem}"


@pytest.fixture(scope="module")
def table_module():  # type: ignore[no-untyped-def]
    """One stand-in for the table, every region's kernel of the table compiled at once (one compiler call)."""
    from test_cupy_kernels import table_sources

    module = StandInCupy()
    module.preload([(s.name, s.in_params, s.out_params, s.operation, s.preamble) for s in table_sources()])
    return module


@pytest.mark.parametrize("sample", TABLE.samples, ids=lambda s: s.id)
def test_the_op_table_on_the_backend_equals_the_numpy_backend(sample, table_module):
    built = sample_graph(sample, sample.args)
    feeds = dict(zip(built.inputs, sample.args))
    if not built.fetches:
        return
    with cr.Session(graph=built.graph) as sess:
        want = sess.run(built.fetches, feeds)
    with sn.refusing_numpy(), cr.Session(graph=built.graph, backend=CupyBackend(table_module)) as sess:
        got = sess.run(built.fetches, feeds)
    if {op.type for op in built.graph.get_operations()} & RANDOM_OP_TYPES:
        problem = layout_mismatch(built.fetches, got, want, where="cupy")  # CuPy's generator's values
        assert problem is None, f"{sample.id}: {problem}"
        return
    _assert_same(sample.id, built.fetches, got, want)


GPU_CHECK = str(Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_check.py")


def test_gpu_check_stops_clearly_without_cupy():
    code = f"import sys, runpy; sys.modules['cupy'] = None; runpy.run_path({GPU_CHECK!r}, run_name='__main__')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 2
    assert "gpu_check: no CuPy" in out.stderr and "chainrule[gpu]" in out.stderr


def test_gpu_check_runs_its_op_table_on_the_backend(standin, monkeypatch: pytest.MonkeyPatch, capsys):
    import runpy

    from chainrule.testing import op_table

    script = runpy.run_path(GPU_CHECK)
    chosen = [s for s in TABLE.samples if s.name in ("sigmoid", "matmul", "normal")][:6]
    assert len(chosen) >= 3
    monkeypatch.setattr(op_table, "budgeted", lambda samples: chosen)
    with sn.refusing_numpy():
        assert script["require_gpu"]() == "CPU stand-in"
        assert script["op_table"](False) == 0
    assert f"op table on cupy: {len(chosen)} samples, 0 failures" in capsys.readouterr().out
