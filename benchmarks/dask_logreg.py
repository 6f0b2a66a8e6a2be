"""Logistic regression over a dataset larger than a worker's memory: chainrule's Dask backend vs dask-ml.

Run: ``python benchmarks/dask_logreg.py [--rows 4000000] [--features 16] [--chunk-rows 100000]
[--memory-limit 400MB] [--evaluations 3]``.

The dataset (``rows`` x ``features`` float64 features and a 0/1 label from a noisy linear rule) is
generated chunk by chunk from a seed (``dask.delayed`` per chunk, its own ``default_rng(seed)``),
so no process ever holds it whole: its size is printed next to the per-worker memory limit. On a
``distributed.LocalCluster`` (worker processes, loopback only) with 1 and then 2 workers:

- chainrule: ``cr.Session(backend="dask", client=...)`` running ``[loss, gradients]`` of the mean
  logistic loss (one run: one dask graph, one compute); rows/s per gradient evaluation is
  ``rows / seconds per run`` (median of ``--evaluations`` runs, after one warm-up run);
- dask-ml: ``LogisticRegression(solver="gradient_descent", max_iter=k, tol=0)`` fitted on the same
  dask arrays; one iteration of its gradient descent is one gradient evaluation (its line search
  may evaluate the loss more than once per iteration), so rows/s is ``rows * k / fit seconds``.

Peak memory per worker is each worker process's peak resident set (``ru_maxrss``) after the
measurement (a fresh cluster for each), so it includes the interpreter, NumPy and dask (~100 MB).
A check that chainrule's loss after ``--steps`` gradient-descent steps on the cluster equals the
NumPy backend's on a small dataset runs first. Nothing is asserted beyond that check; the machine may be shared.
"""

from __future__ import annotations

import argparse
import platform
import resource
import statistics
import time
from typing import Any

import dask
import dask.array as da
import distributed
import numpy as np

import chainrule as cr

WEIGHT_SEED = 1234


def chunk(seed: int, rows: int, features: int) -> np.ndarray:
    """Rows ``[features..., label]`` of one chunk, a function of its seed only."""
    weights = np.random.default_rng(WEIGHT_SEED).normal(size=(features, 1))
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, features))
    y = (x @ weights + 0.5 * rng.normal(size=(rows, 1)) > 0).astype(np.float64)
    return np.concatenate([x, y], axis=1)


def dataset(rows: int, features: int, chunk_rows: int) -> da.Array:
    parts = []
    for seed, start in enumerate(range(0, rows, chunk_rows)):
        n = min(chunk_rows, rows - start)
        parts.append(da.from_delayed(dask.delayed(chunk)(seed, n, features), shape=(n, features + 1), dtype=np.float64))
    return da.concatenate(parts, axis=0)


def model(features: int, learning_rate: float = 1.0) -> dict[str, Any]:
    g = cr.Graph()
    with g.as_default():
        data = cr.placeholder(cr.float64, [None, features + 1], name="data")
        x, t = data[:, :features], data[:, features:]
        w = cr.Variable(np.zeros((features, 1)), name="w")
        b = cr.Variable(np.zeros(1), name="b")
        loss = cr.reduce_mean(cr.nn.sigmoid_cross_entropy_with_logits(labels=t, logits=cr.matmul(x, w) + b))
        grads = cr.gradients(loss, [w, b])
        step = cr.train.GradientDescentOptimizer(learning_rate).minimize(loss)
        init = cr.global_variables_initializer()
    return {"graph": g, "data": data, "loss": loss, "grads": grads, "step": step, "init": init}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: kilobytes


def check_convergence(client: distributed.Client, features: int, steps: int) -> tuple[float, float]:
    """Chainrule's loss after ``steps`` steps on the cluster and with the NumPy backend, on a small dataset."""
    small = dataset(20_000, features, 5_000)
    m = model(features)
    losses = []
    for backend, value in (("dask", small), ("numpy", small.compute())):
        with cr.Session(graph=m["graph"], backend=backend, client=client if backend == "dask" else None) as sess:
            sess.run(m["init"])
            for _ in range(steps):
                sess.run(m["step"], {m["data"]: value})
            losses.append(float(sess.run(m["loss"], {m["data"]: value})))
    return losses[0], losses[1]


def time_chainrule(client: distributed.Client, data: da.Array, features: int, evaluations: int) -> float:
    m = model(features)
    with cr.Session(graph=m["graph"], backend="dask", client=client) as sess:
        sess.run(m["init"])
        sess.run([m["loss"], m["grads"]], {m["data"]: data})  # warm-up: plan built, workers warm
        times = []
        for _ in range(evaluations):
            t0 = time.perf_counter()
            sess.run([m["loss"], m["grads"]], {m["data"]: data})
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def time_dask_ml(client: distributed.Client, data: da.Array, features: int, evaluations: int) -> float:
    from dask_ml.linear_model import LogisticRegression  # noqa: PLC0415 - optional peer

    x, y = data[:, :features], data[:, features]
    fit = LogisticRegression(solver="gradient_descent", max_iter=evaluations, tol=0.0, fit_intercept=True)
    t0 = time.perf_counter()
    fit.fit(x, y)
    return (time.perf_counter() - t0) / evaluations


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=4_000_000)
    parser.add_argument("--features", type=int, default=16)
    parser.add_argument("--chunk-rows", type=int, default=100_000)
    parser.add_argument("--memory-limit", default="400MB")
    parser.add_argument("--evaluations", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()

    data = dataset(args.rows, args.features, args.chunk_rows)
    print(f"# {platform.machine()} {platform.processor() or ''}, numpy {np.__version__}, dask {dask.__version__}")
    print(
        f"# dataset: {args.rows} rows x {args.features + 1} float64 = {data.nbytes / 2**20:.0f} MiB in "
        f"{data.npartitions} chunks of {args.chunk_rows} rows; memory limit per worker {args.memory_limit}"
    )
    rows: list[tuple[str, int, str, str, str]] = []
    timers = (("chainrule (dask backend)", time_chainrule), ("dask-ml LogisticRegression", time_dask_ml))
    for workers in (1, 2):
        for name, timer in timers:
            # A fresh cluster per measurement, so each worker's peak memory is this implementation's.
            cluster = distributed.LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                memory_limit=args.memory_limit,
                dashboard_address=None,
                host="127.0.0.1",
            )
            with distributed.Client(cluster) as client:
                if workers == 2 and timer is time_chainrule:
                    got, want = check_convergence(client, args.features, args.steps)
                    print(f"# check: loss after {args.steps} steps, dask {got:.12f} vs numpy {want:.12f}")
                try:
                    seconds = timer(client, data, args.features, args.evaluations)
                except Exception as e:  # noqa: BLE001 - reported in the table (e.g. workers over their limit)
                    rows.append((name, workers, f"failed: {type(e).__name__}", "-", "-"))
                    continue
                peaks = client.run(peak_rss_mb)
                rows.append(
                    (name, workers, f"{args.rows / seconds:,.0f}", f"{seconds:.2f}", f"{max(peaks.values()):.0f}")
                )
            cluster.close()

    print()
    print("| implementation | workers | rows/s per gradient evaluation | s per evaluation | peak RSS per worker (MB) |")
    print("|---|---:|---:|---:|---:|")
    for name, workers, rate, seconds, peak in rows:
        print(f"| {name} | {workers} | {rate} | {seconds} | {peak} |")


if __name__ == "__main__":
    main()
