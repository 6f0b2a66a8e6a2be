"""The Dask backend on a LocalCluster the tests start and stop themselves (loopback only, 2 workers).

Each test compares with the NumPy backend on the same data: the loss and its gradient, a
gradient step's update, and a logistic regression trained to convergence over a dataset
generated chunk by chunk from a seed.
"""

from __future__ import annotations

import subprocess
import sys

import dask
import dask.array as da
import distributed
import numpy as np
import pytest

import chainrule as cr
from chainrule.backends.dask import DaskBackend
from chainrule.runtime import backends

FEATURES = 3
WEIGHTS = np.array([[1.5], [-2.0], [0.5]])


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=False,
        dashboard_address=None,
        host="127.0.0.1",
        protocol="tcp://",
    )
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def _chunk(seed: int, rows: int) -> np.ndarray:
    """One chunk of the dataset: features and a 0/1 label from a noisy linear rule, from its own seed."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, FEATURES))
    y = (x @ WEIGHTS + 0.5 * rng.normal(size=(rows, 1)) > 0).astype(np.float64)
    return np.concatenate([x, y], axis=1)


# The seeds of the chunks generated so far (the workers are threads of this process, processes=False).
GENERATED: list[int] = []


def _generate(seed: int, rows: int) -> np.ndarray:
    GENERATED.append(seed)
    return _chunk(seed, rows)


def dataset(chunks: int, rows: int) -> da.Array:
    """A (chunks * rows, FEATURES + 1) dask array whose chunks are generated where they are computed."""
    parts = [
        da.from_delayed(dask.delayed(_generate)(seed, rows), shape=(rows, FEATURES + 1), dtype=np.float64)
        for seed in range(chunks)
    ]
    return da.concatenate(parts, axis=0)


def logistic_regression(learning_rate: float = 1.0):
    g = cr.Graph()
    with g.as_default():
        data = cr.placeholder(cr.float64, [None, FEATURES + 1], name="data")
        x, t = data[:, :FEATURES], data[:, FEATURES:]
        w = cr.Variable(np.zeros((FEATURES, 1)), name="w")
        b = cr.Variable(np.zeros(1), name="b")
        loss = cr.reduce_mean(cr.nn.sigmoid_cross_entropy_with_logits(labels=t, logits=cr.matmul(x, w) + b))
        grads = cr.gradients(loss, [w, b])
        step = cr.train.GradientDescentOptimizer(learning_rate).minimize(loss)
        init = cr.global_variables_initializer()
    return g, data, (w, b), loss, grads, step, init


def test_loss_and_gradient_equal_the_numpy_backend(client):
    data = dataset(4, 50)
    g, feed, _, loss, grads, _, init = logistic_regression()
    with cr.Session(graph=g) as sess:
        sess.run(init)
        want = sess.run([loss, grads], {feed: data.compute()})
    with cr.Session(graph=g, backend="dask", client=client) as sess:
        sess.run(init)
        got = sess.run([loss, grads], {feed: data})
    np.testing.assert_allclose(got[0], want[0], rtol=1e-12)
    for a, b in zip(got[1], want[1]):
        assert isinstance(a, np.ndarray) and a.dtype == np.float64
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-14)


def test_all_fetches_of_a_run_are_computed_together_and_chunks_once(client):
    data = dataset(4, 25)
    GENERATED.clear()
    g, feed, _, loss, grads, _, init = logistic_regression()
    with cr.Session(graph=g, backend=DaskBackend(client)) as sess:
        sess.run(init)
        sess.run([loss, grads], {feed: data})
        assert sess.backend.computes == 1  # type: ignore[attr-defined]
    assert sorted(GENERATED) == [0, 1, 2, 3]  # the loss and both gradients share each generated chunk


def test_numpy_feeds_are_wrapped_and_chunked_along_the_batch_axis(client):
    values = _chunk(7, 40)
    g, feed, _, loss, grads, _, init = logistic_regression()
    with cr.Session(graph=g) as sess:
        sess.run(init)
        want = sess.run([loss, grads], {feed: values})
    with cr.Session(graph=g, backend=DaskBackend(client, chunk_rows=10)) as sess:
        sess.run(init)
        got = sess.run([loss, grads], {feed: values})
    np.testing.assert_allclose(got[0], want[0], rtol=1e-12)
    np.testing.assert_allclose(got[1][0], want[1][0], rtol=1e-10)


def test_a_gradient_step_updates_the_variables_as_numpy_does(client):
    data = dataset(3, 20)
    g, feed, (w, b), loss, _, step, init = logistic_regression(0.5)
    results = []
    for backend in ("numpy", DaskBackend(client)):
        with cr.Session(graph=g, backend=backend) as sess:
            sess.run(init)
            value = data if backend != "numpy" else data.compute()
            before = sess.run(loss, {feed: value})
            _, after_step = sess.run([step, loss], {feed: value})
            results.append((before, sess.run(w), sess.run(b), sess.run(loss, {feed: value})))
            assert isinstance(sess.run_state.variables["w"], np.ndarray)  # variables stay NumPy on the client
    (l0, w0, b0, l1), (m0, v0, c0, m1) = results
    assert np.abs(w0).sum() > 0 and l1 < l0
    np.testing.assert_allclose(v0, w0, rtol=1e-10)
    np.testing.assert_allclose(c0, b0, rtol=1e-10)
    np.testing.assert_allclose(m1, l1, rtol=1e-10)


def test_updates_within_a_run_are_seen_by_later_reads_of_that_run(client):
    g = cr.Graph()
    with g.as_default():
        x = cr.placeholder(cr.float64, [None])
        v = cr.Variable(np.float64(1.0), name="v")
        add = v.assign_add(cr.reduce_sum(x))
        with cr.control_dependencies([add]):
            doubled = v.read_value() * 2.0
        init = cr.global_variables_initializer()
    with cr.Session(graph=g, backend=DaskBackend(client)) as sess:
        sess.run(init)
        assert sess.run(doubled, {x: da.ones(6, chunks=2)}) == pytest.approx(14.0)
        assert sess.run(v) == pytest.approx(7.0)


def test_a_failing_run_leaves_the_variables_as_before_the_step(client):
    def broken(seed: int) -> np.ndarray:
        raise RuntimeError(f"chunk {seed} is unreadable")

    good = dataset(2, 10)
    bad = da.concatenate(
        [good, da.from_delayed(dask.delayed(broken)(9), shape=(10, FEATURES + 1), dtype=np.float64)], axis=0
    )
    g, feed, (w, b), loss, _, step, init = logistic_regression()
    with cr.Session(graph=g, backend=DaskBackend(client)) as sess:
        sess.run(init)
        sess.run(step, {feed: good})
        before = sess.run([w, b])
        with pytest.raises(cr.errors.UnavailableError, match="no variable was updated.*chunk 9 is unreadable"):
            sess.run([step, loss], {feed: bad})
        after = sess.run([w, b])
    for x, y in zip(before, after):
        np.testing.assert_array_equal(x, y)


def test_matmul_contracting_the_chunked_axis_runs_as_a_dask_reduction(client):
    values = _chunk(3, 30)
    g = cr.Graph()
    with g.as_default():
        x = cr.placeholder(cr.float64, [None, FEATURES + 1])
        gram = cr.matmul(x, x, transpose_a=True)
        col_sums = cr.reduce_sum(x, axis=0)
    with cr.Session(graph=g, backend=DaskBackend(client, chunk_rows=7)) as sess:
        got_gram, got_sums = sess.run([gram, col_sums], {x: values})
    np.testing.assert_allclose(got_gram, values.T @ values, rtol=1e-12)
    np.testing.assert_allclose(got_sums, values.sum(axis=0), rtol=1e-12)


def test_an_op_dask_cannot_build_runs_as_one_task_on_its_gathered_inputs(client):
    values = _chunk(5, 24)
    g = cr.Graph()
    with g.as_default():
        x = cr.placeholder(cr.float64, [None, FEATURES + 1])
        gram = cr.matmul(x, x, transpose_a=True)  # a dask reduction over the chunked axis: 4x4
        det = cr.linalg.det(gram)  # no dask det: one task on the (small) Gram matrix
        chol = cr.linalg.cholesky(gram)  # dask's cholesky is upper triangular: NumPy's kernel runs
        top = cr.nn.top_k(x[:, 0], k=3)  # no dask top_k: one task on the gathered column
    feed = {x: values}
    with cr.Session(graph=g) as sess:
        want = sess.run([det, chol, top.values], feed)
    with cr.Session(graph=g, backend=DaskBackend(client, chunk_rows=5)) as sess:
        got = sess.run([det, chol, top.values], feed)
        assert sess.backend.computes == 1  # type: ignore[attr-defined]
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-10)


def test_an_op_that_cannot_run_as_one_task_names_the_op(client):
    g = cr.Graph()
    with g.as_default():
        x = cr.placeholder(cr.float64, [None, 2, 2])
        det = cr.linalg.det(x, name="my_det")  # its output shape (?,) is not known before running
    with cr.Session(graph=g, backend=DaskBackend(client)) as sess:
        with pytest.raises(cr.errors.UnimplementedError, match=r"(?s)dask cannot build this op.*my_det.*test_dask"):
            sess.run(det, {x: np.ones((4, 2, 2))})


def test_an_int32_matmul_keeps_its_dtype(client):
    g = cr.Graph()
    with g.as_default():
        x = cr.placeholder(cr.int32, [None, 2])
        y = cr.matmul(x, x, transpose_b=True)  # dask computes int32 matmuls in int64
    values = np.arange(8, dtype=np.int32).reshape(4, 2)
    with cr.Session(graph=g, backend=DaskBackend(client, chunk_rows=2)) as sess:
        got = sess.run(y, {x: values})
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, values @ values.T)


def test_loop_bodies_build_the_lazy_graph_and_are_computed_with_the_run(client):
    values = _chunk(11, 30)
    g = cr.Graph()
    with g.as_default():
        x = cr.placeholder(cr.float64, [None, FEATURES + 1])
        v = cr.Variable(np.float64(0.5), name="v")
        _, doubled = cr.while_loop(lambda i, a: i < 3, lambda i, a: (i + 1, a * 2.0 + v), [cr.constant(0), x])
        rows = cr.map_fn(lambda row: cr.reduce_sum(row * row), x)
        total = cr.reduce_sum(doubled) + cr.reduce_sum(rows)
        bump = v.assign_add(total)  # the update sees the loop's value, computed in the same call
        init = cr.global_variables_initializer()
    results = []
    for backend in ("numpy", DaskBackend(client, chunk_rows=8)):
        with cr.Session(graph=g, backend=backend) as sess:
            sess.run(init)
            results.append(sess.run([total, bump], {x: values}) + [sess.run(v)])
            if backend != "numpy":
                assert sess.backend.computes == 1  # type: ignore[attr-defined]
    np.testing.assert_allclose(results[1], results[0], rtol=1e-12)


def test_a_loop_whose_condition_depends_on_the_data_names_the_loop(client):
    g = cr.Graph()
    with g.as_default():
        x = cr.placeholder(cr.float64, [None])
        grown = cr.while_loop(lambda s: cr.reduce_sum(s) < 100.0, lambda s: s * 2.0, [x], name="grow")
        init = cr.global_variables_initializer()
    with cr.Session(graph=g, backend=DaskBackend(client, chunk_rows=2)) as sess:
        sess.run(init)
        with pytest.raises(cr.errors.UnimplementedError, match=r"(?s)condition of this while_loop depends.*grow"):
            sess.run(grown, {x: np.ones(4)})


def test_batch_sized_arrays_made_from_a_shape_are_lazy():
    from chainrule.backends.dask.namespace import DASK_NUMPY, LARGE

    assert isinstance(DASK_NUMPY.broadcast_to(np.float64(1.0), (LARGE, 1)), da.Array)
    assert isinstance(DASK_NUMPY.broadcast_to(np.float64(1.0), (4, 1)), np.ndarray)
    assert isinstance(DASK_NUMPY.exp(np.ones(3)), np.ndarray)  # no lazy input: NumPy
    assert isinstance(DASK_NUMPY.exp(da.ones(3)), da.Array)


def test_a_dask_feed_of_a_lossy_dtype_is_refused():
    g = cr.Graph()
    with g.as_default():
        x = cr.placeholder(cr.float32, [None])
        y = x * 2.0
    with cr.Session(graph=g, backend="dask") as sess, pytest.raises(TypeError, match="lose values"):
        sess.run(y, {x: da.ones(4, dtype=np.float64, chunks=2)})


def test_logistic_regression_converges_to_the_numpy_backends_loss(client):
    data = dataset(6, 50)
    g, feed, _, loss, _, step, init = logistic_regression(2.0)
    losses = []
    for backend in ("numpy", DaskBackend(client)):
        value = data if backend != "numpy" else data.compute()
        with cr.Session(graph=g, backend=backend) as sess:
            sess.run(init)
            for _ in range(30):
                sess.run(step, {feed: value})
            losses.append(sess.run(loss, {feed: value}))
    assert losses[0] < 0.45  # trained well below log(2) = 0.693
    np.testing.assert_allclose(losses[1], losses[0], rtol=1e-9)


def test_importing_chainrule_does_not_import_dask():
    code = "import sys, chainrule; print('dask' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_missing_extra_is_named(monkeypatch: pytest.MonkeyPatch):
    for name in list(sys.modules):
        if name == "dask" or name.startswith(("dask.", "chainrule.backends.dask")):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "dask", None)  # as if not installed
    backends.register_backend("dask-missing", "chainrule.backends.dask")
    with pytest.raises(ImportError, match=r"pip install 'chainrule\[dask\]'"):
        cr.Session(graph=cr.Graph(), backend="dask-missing")
