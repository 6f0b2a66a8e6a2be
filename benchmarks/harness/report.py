"""The Markdown report (``benchmarks/RESULTS.md``): machine, method, checks, targets, tables."""

from __future__ import annotations

import os
import platform
import statistics
import time
from typing import Any

import numpy as np

from harness.runner import ALLOCATORS, MEMORY_ENV, Config, fmt_ratio, fmt_time, medians, timings


def machine() -> dict[str, str]:
    """CPU model, cores, memory, OS, C library, Python, NumPy and its BLAS."""
    info: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo") as f:
            models = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        info["CPU"] = models[0] if models else platform.processor()
    except OSError:
        info["CPU"] = platform.processor() or platform.machine()
    info["cores (os.cpu_count)"] = str(os.cpu_count())
    try:
        info["cores usable (affinity)"] = str(len(os.sched_getaffinity(0)))
    except AttributeError:
        pass
    try:
        with open("/proc/meminfo") as f:
            kib = int(next(line for line in f if line.startswith("MemTotal")).split()[1])
        info["RAM"] = f"{kib / 2**20:.1f} GiB"
    except (OSError, StopIteration):
        pass
    info["chainrule source"] = revision()
    info["OS"] = f"{platform.system()} {platform.release()}"
    info["C library"] = " ".join(platform.libc_ver())
    info["Python"] = platform.python_version()
    info["NumPy"] = np.__version__
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        info["NumPy BLAS"] = f"{blas.get('name')} {blas.get('version')}"
    except Exception:  # noqa: BLE001 - informational only
        pass
    return info


def revision() -> str:
    """The measured chainrule's git revision: ``$CHAINRULE_BENCH_REVISION`` when set (a run from a
    snapshot of the tree), else the checkout's HEAD, marked when the engine's files have changes."""
    env = os.environ.get("CHAINRULE_BENCH_REVISION")
    if env:
        return env
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]  # benchmarks/harness/report.py -> the checkout
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "src/chainrule"], capture_output=True, text=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return head + (" with uncommitted changes in src/chainrule" if dirty else "")


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


def _get(med: dict[Any, float], alloc: str, p: str, s: str, t: str, k: str) -> float | None:
    return med.get((alloc, p, s, t, k))


def problem_tables(res: dict[str, Any], problem: str, alloc: str) -> list[str]:
    cfg: Config = res["config"]
    med = medians(res)
    sizes = [s for s in cfg.sizes.get(problem, []) if any(k[:3] == (alloc, problem, s) for k in med)]
    tools = [t for t in cfg.tools if any(_get(med, alloc, problem, s, t, k) for s in sizes for k in "FJ")]
    peers = [t for t in tools if t != "chainrule"]
    out: list[str] = []
    if not tools:
        return out
    for kind, label in (("J", "gradient J"), ("F", "objective F")):
        rows = [[s] + [fmt_time(_get(med, alloc, problem, s, t, kind)) for t in tools] for s in sizes]
        out += [f"**{label}, median time per call** ({alloc} allocator)", ""] + _table(["size"] + tools, rows) + [""]
    rows = []
    for s in sizes:
        row = [s]
        for t in tools:
            f, j = _get(med, alloc, problem, s, t, "F"), _get(med, alloc, problem, s, t, "J")
            row.append(fmt_ratio(j / f) if f and j else "-")
        rows.append(row)
    out += [f"**time(J) / time(F)** ({alloc})", ""] + _table(["size"] + tools, rows) + [""]
    if "chainrule" in tools and peers:
        rows = []
        for s in sizes:
            row = [s]
            cj, cf = _get(med, alloc, problem, s, "chainrule", "J"), _get(med, alloc, problem, s, "chainrule", "F")
            for t in peers:
                j, f = _get(med, alloc, problem, s, t, "J"), _get(med, alloc, problem, s, t, "F")
                row.append(f"{fmt_ratio(cj / j) if cj and j else '-'} / {fmt_ratio(cf / f) if cf and f else '-'}")
            rows.append(row)
        out += (
            [
                f"**chainrule's time over each tool's, J / F** ({alloc}; below 1: chainrule is faster)",
                "",
            ]
            + _table(["size"] + peers, rows)
            + [""]
        )
    return out


def targets(res: dict[str, Any], alloc: str) -> list[str]:
    """Where each of the issue's targets stands, from the ``alloc`` run."""
    cfg: Config = res["config"]
    med = medians(res)
    out: list[str] = []

    def ratios(problem: str, tool: str, kind: str = "J") -> dict[str, float]:
        r = {}
        for s in cfg.sizes.get(problem, []):
            c, t = _get(med, alloc, problem, s, "chainrule", kind), _get(med, alloc, problem, s, tool, kind)
            if c and t:
                r[s] = c / t
        return r

    def mark(ok: bool) -> str:
        return "**met**" if ok else "**not met**"

    def span(r: dict[str, float]) -> str:
        worst = max(r, key=r.get)  # type: ignore[arg-type]
        best = min(r, key=r.get)  # type: ignore[arg-type]
        return f"chainrule/peer from {r[best]:.2f} ({best}) to {r[worst]:.2f} ({worst})"

    r = ratios("gmm", "torch")
    if r:
        slower = [s for s, v in r.items() if v > 1]
        out.append(
            f"- GMM gradient no slower than PyTorch at every size: {mark(not slower)}; {span(r)}; "
            f"slower at {len(slower)} of {len(r)} sizes."
        )
    r = ratios("gmm", "jax")
    if r:
        over = [s for s, v in r.items() if v > 1.5]
        out.append(
            f"- GMM gradient within 1.5x of JAX jit: {mark(not over)}; {span(r)}; over 1.5x at {len(over)} of {len(r)}."
        )
    jf = {}
    for s in cfg.sizes.get("gmm", []):
        f, j = _get(med, alloc, "gmm", s, "chainrule", "F"), _get(med, alloc, "gmm", s, "chainrule", "J")
        if f and j:
            jf[s] = j / f
    if jf:
        over = [s for s, v in jf.items() if v > 3]
        worst = max(jf, key=jf.get)  # type: ignore[arg-type]
        out.append(
            f"- GMM time(J)/time(F) of chainrule at most 3: {mark(not over)}; median over sizes "
            f"{statistics.median(jf.values()):.2f}, worst {jf[worst]:.2f} ({worst}); "
            f"above 3 at {len(over)} of {len(jf)}."
        )
    for tool, how in (("tensorflow", "tf.scan"), ("tensorflow-unrolled", "unrolled graph")):
        r = ratios("lstm", tool)
        if r:
            out.append(
                f"- LSTM gradient faster than TensorFlow graph mode ({how}): {mark(all(v < 1 for v in r.values()))}; "
                f"{span(r)}."
            )
    r = ratios("lstm", "jax")
    if r:
        out.append(
            f"- LSTM gradient vs JAX (lax.scan, compiled): {span(r)}. JAX compiles the whole scan into one XLA "
            "program; chainrule still dispatches each of the unrolled graph's tiny ops from Python."
        )
    for tool, factor, label in (
        ("autograd", 5.0, "at least 5x faster than HIPS autograd"),
        ("torch", 1.0, "faster than PyTorch eager"),
    ):
        r = ratios("chain", tool)
        if r:
            v = next(iter(r.values()))
            out.append(
                f"- Overhead (200-op chain) gradient {label}: {mark(1 / v >= factor if factor > 1 else v < 1)}; "
                f"{tool} time / chainrule time = {1 / v:.2f}."
            )
    mem = {(m["tool"], m["kind"]): m for m in res["memory"]} if alloc == cfg.allocators[0] else {}
    f, j = mem.get(("chainrule", "F")), mem.get(("chainrule", "J"))
    if f and j:
        key = "traced_peak_bytes" if "traced_peak_bytes" in f and "traced_peak_bytes" in j else "rss_peak_bytes"
        if f.get(key) and j.get(key) is not None:
            ratio = j[key] / f[key]
            size = f["size"]
            out.append(
                f"- Peak memory of the GMM gradient at {size} no more than 2x the objective's: {mark(ratio <= 2)}; "
                f"J {j[key] / 2**20:.1f} MiB vs F {f[key] / 2**20:.1f} MiB = {ratio:.2f}x ({key.split('_')[0]})."
            )
    return out


def markdown(res: dict[str, Any], command: str) -> str:
    cfg: Config = res["config"]
    lines = [
        "# chainrule benchmarks: chainrule side by side with its peers",
        "",
        f"Generated {res.get('finished') or time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} by `{command}` "
        f"(wall time {res['wall_s'] / 60:.1f} min). Regenerate with the same command from the repository root "
        "after `pip install -e '.[bench]'`.",
        "",
        "## Machine",
        "",
    ]
    info = machine()
    for tool, version in sorted(res["versions"].items()):
        if version:
            info[tool] = str(version)
    threads = cfg.threads
    info["compute threads"] = (
        "library defaults"
        if threads is None
        else f"{threads} per library (`--threads {threads}`: BLAS, OpenMP, PyTorch, TensorFlow intra/inter-op, XLA)"
    )
    lines += _table(["", ""], [[k, v] for k, v in info.items()]) + [""]
    lb, la = res["load_before"], res["load_after"]
    lines += [
        f"Load average (1/5/15 min) before the run: {lb[0]:.2f} / {lb[1]:.2f} / {lb[2]:.2f}; after: "
        f"{la[0]:.2f} / {la[1]:.2f} / {la[2]:.2f}. The machine is shared, so other work competes for its cores: "
        "see *Noise* below.",
        "",
        "## Method",
        "",
        "- Every tool runs in a process of its own (`python -m harness.worker`, `benchmarks/` on the path), "
        "the tools one after another, never two at once.",
        f"- Each tool ran in {cfg.rounds} process(es) per allocator setting it was measured under (a '-' in a "
        "table: not measured there). Times are medians of all calls pooled over those processes. Per process "
        "and size: a warm-up call after the checks, then calls until at least "
        f"{cfg.timing['min_reps']:.0f} calls and {cfg.timing['min_time']:g} s, at most {cfg.timing['max_reps']:.0f} "
        f"calls, or {cfg.timing['max_time']:g} s once 2 calls are in.",
        "- Allocator settings: **tuned** = "
        + ", ".join(f"`{k}={v}`" for k, v in ALLOCATORS["tuned"].items())
        + " (glibc keeps freed blocks, so large temporaries do not page-fault again on each call); **default** "
        "= glibc's defaults, as users run it.",
        "- F is the objective, J its gradient with respect to all parameters (for the MLP: one SGD training "
        "step, loss + gradients + updates). Inputs are fed as placeholders/arguments, so no tool can fold them "
        "away. All float64.",
        "- chainrule: one graph per problem, `cr.gradients`, `cr.Session.run` on fetches (the plan is cached after "
        "the first run). `chainrule-noopt` (when present) is `cr.Session(optimize=False)`; `chainrule-scan` "
        "the LSTM as one `cr.foldl` over the characters. NumPy: the objective "
        "only. JAX: `jax.jit` of the objective and of `jax.grad` (LSTM: the time loop as `lax.scan`, as "
        "compiling 1023 unrolled steps takes minutes). PyTorch: eager, objective under `torch.no_grad`, "
        "`torch.autograd.grad`. TensorFlow: `tf.function` graph mode with `GradientTape` (Grappler on, no XLA; "
        "LSTM time loop as `tf.scan`; `tensorflow-unrolled`: the LSTM unrolled like chainrule's graph, which "
        "TensorFlow takes minutes to trace and optimize, so it runs l2_c1024 once). HIPS autograd: "
        "`autograd.grad`. The same formulation "
        "everywhere (Q's lower triangle by a gather, a batched matmul).",
        "- Peak memory: separate processes, one per tool and F/J, with "
        + ", ".join(f"`{k}={v}`" for k, v in MEMORY_ENV.items())
        + " so that resident memory follows live memory; after two warm-up calls the resident high-water mark "
        "is reset (`/proc/self/clear_refs`) and the third call's peak above the resident memory after set-up "
        "(before the first run) is read from `VmHWM`. For NumPy-based tools tracemalloc's peak, traced from the "
        "same point, is given too (NumPy reports its buffers to tracemalloc).",
        "",
        "## Correctness (checked before timing)",
        "",
    ]
    lines += correctness(res) + [""]
    if res["failures"]:
        lines += ["**Failures:**", ""] + [f"- `{f.splitlines()[0][:300]}`" for f in res["failures"]] + [""]
    primary = cfg.allocators[0]
    lines += ["## Where the targets stand", "", f"From the **{primary}** run:", ""] + targets(res, primary) + [""]
    if len(cfg.allocators) > 1:
        for alloc in cfg.allocators[1:]:
            lines += [f"From the **{alloc}** run:", ""] + targets(res, alloc) + [""]
    for p in cfg.problems:
        lines += [f"## {TITLES.get(p, p)}", ""]
        for alloc in cfg.allocators:
            lines += problem_tables(res, p, alloc)
    if res["memory"]:
        lines += ["## Peak memory", ""] + memory_table(res) + [""]
    if res.get("profiles"):
        lines += ["## Where chainrule trails most: profiles", ""] + profiles(res) + [""]
    lines += ["## Noise", ""] + noise(res) + [""]
    return "\n".join(lines)


TITLES = {
    "gmm": "ADBench GMM (n = 1000 points)",
    "lstm": "ADBench LSTM (diagonal, b = 14)",
    "mlp": "MLP training step on the digits (1797 x 64, 64-128-128-10 tanh, full batch)",
    "chain": "Overhead: a chain of 200 scalar elementwise ops",
}


def correctness(res: dict[str, Any]) -> list[str]:
    rows = []
    for r in res["records"]:
        c = r.get("check")
        if not c or "source" not in c or r["round"] != 0 or r["allocator"] != res["config"].allocators[0]:
            continue
        grad = c.get("grad_rel_err")
        rows.append(
            [
                r["tool"],
                r["problem"],
                r["size"],
                c["source"],
                f"{c['value_rel_err']:.1e}",
                "-" if grad is None else f"{grad:.1e}",
                "ok" if c["ok"] else "**FAILED**",
            ]
        )
    out = ["Relative error = max |got - want| / max |want|; tolerance 1e-8.", ""]
    out += _table(["tool", "problem", "size", "against", "value rel. err", "gradient rel. err", ""], rows)
    if res["cross_checks"]:
        worst: dict[tuple[str, str], float] = {}
        for x in res["cross_checks"]:
            key = (x["tool"], x["problem"])
            worst[key] = max(worst.get(key, 0.0), x["rel_err"])
        out += [
            "",
            "Gradients against chainrule's at every timed size (largest relative difference per tool and problem):",
            "",
        ]
        out += _table(["tool", "problem", "max rel. diff"], [[t, p, f"{v:.1e}"] for (t, p), v in sorted(worst.items())])
    return out


def memory_table(res: dict[str, Any]) -> list[str]:
    by: dict[str, dict[str, dict[str, Any]]] = {}
    size = ""
    for m in res["memory"]:
        by.setdefault(m["tool"], {})[m["kind"]] = m
        size = f"{m['problem']} {m['size']}"
    rows = []
    for tool, kinds in by.items():
        f, j = kinds.get("F", {}), kinds.get("J", {})
        row = [tool]
        for key in ("rss_peak_bytes", "traced_peak_bytes"):
            fv, jv = f.get(key), j.get(key)
            row += [_mib(fv), _mib(jv), f"{jv / fv:.2f}" if fv and jv is not None else "-"]
        rows.append(row)
    header = ["tool", "F resident", "J resident", "J/F", "F tracemalloc", "J tracemalloc", "J/F"]
    note = (
        f"One call of {size} (the third), peak above what was resident once the problem was set up and before "
        "it first ran, so buffers a tool keeps between calls count. TensorFlow and XLA keep freed "
        "buffers in pools of their own, so their resident deltas understate their peaks; tracemalloc sees "
        "NumPy's buffers only."
    )
    return [note, ""] + _table(header, rows)


def _mib(n: float | None) -> str:
    return "-" if n is None else f"{n / 2**20:.1f} MiB"


def noise(res: dict[str, Any]) -> list[str]:
    """How far the pooled samples spread, and how the rounds' medians differ."""
    pooled = timings(res)
    spreads = []
    for (alloc, p, s, t, k), v in pooled.items():
        if len(v) >= 4:
            q1, q3 = np.percentile(v, [25, 75])
            spreads.append(((q3 - q1) / np.median(v), alloc, p, s, t, k))
    out = []
    if spreads:
        spreads.sort()
        mid = spreads[len(spreads) // 2][0]
        top = spreads[-3:]
        out.append(
            f"Interquartile range over median of the pooled calls: median {mid:.0%} over {len(spreads)} series; "
            "widest: " + "; ".join(f"{t} {p} {s} {k} ({a}) {r:.0%}" for r, a, p, s, t, k in reversed(top)) + "."
        )
    cfg: Config = res["config"]
    if cfg.rounds > 1:
        per_round: dict[tuple[Any, ...], dict[int, float]] = {}
        for r in res["records"]:
            for k in ("F", "J"):
                if r.get(k):
                    key = (r["allocator"], r["problem"], r["size"], r["tool"], k)
                    per_round.setdefault(key, {})[r["round"]] = statistics.median(r[k])
        diffs = [
            max(v.values()) / min(v.values()) - 1 for v in per_round.values() if len(v) > 1 and min(v.values()) > 0
        ]
        if diffs:
            out.append(
                f"Rounds' medians differ by a median of {statistics.median(diffs):.0%} (largest {max(diffs):.0%}) "
                "for the same tool, size and allocator: read ratios within about that much as ties."
            )
    return out


def profiles(res: dict[str, Any]) -> list[str]:
    out = [
        "cProfile does not see NumPy's ufuncs as calls: their time counts as the own time of the function "
        "that calls them (for chainrule, the generated plan function or the kernels).",
        "",
    ]
    for p in res["profiles"]:
        out += [
            f"**{p['label']}**: {p['problem']} {p['size']} gradient, chainrule {p['ratio']:.1f}x {p['peer']}'s time. "
            f"cProfile of 3 calls ({fmt_time(p['wall_s_per_call'])} per call under the profiler), functions by own "
            "time per call:",
            "",
        ]
        rows = [
            [fmt_time(r["tottime_s"]), fmt_time(r["cumtime_s"]), str(r["ncalls"]), f"`{r['function']}`"]
            for r in p["rows"]
        ]
        out += _table(["own time", "cumulative", "calls", "function"], rows) + [""]
    return out
