"""Run the benchmark: one worker process per (tool, allocator setting, round), then aggregate.

Every framework runs in a process of its own (``python -m harness.worker``), once with
glibc told to keep freed memory (``tuned``: freed blocks are neither unmapped nor trimmed, so
large temporaries do not page-fault again on every call) and once with the allocator's defaults
(as users run it). Peak memory is measured in separate processes, one per (tool, F or J).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from harness import data, problems, tools

BENCHMARKS_DIR = Path(__file__).resolve().parents[1]  # benchmarks/, the folder that holds this package
CHECKOUT_SRC = BENCHMARKS_DIR.parent / "src"  # the checkout's chainrule, measured in preference to another

ALLOCATORS: dict[str, dict[str, str]] = {
    # Above any array these problems make, so freed blocks stay in the heap for reuse.
    "tuned": {"MALLOC_MMAP_THRESHOLD_": "1073741824", "MALLOC_TRIM_THRESHOLD_": "17179869184"},
    "default": {},
}
# For peak memory: every block of 64 KiB or more is mapped on allocation and unmapped on free, so
# resident memory follows live memory and the high-water mark of one call is its peak.
MEMORY_ENV = {"MALLOC_MMAP_THRESHOLD_": "65536"}
MALLOC_VARS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "GLIBC_TUNABLES")

QUICK_TIMING = {"min_reps": 3, "max_reps": 15, "min_time": 0.2, "max_time": 2.0}
FULL_TIMING = {"min_reps": 5, "max_reps": 100, "min_time": 1.0, "max_time": 8.0}

PEERS = ("jax", "torch", "tensorflow", "autograd")
# Tools that run only some sizes, once (first round, first allocator): TensorFlow's unrolled LSTM
# takes minutes to trace and optimize per process.
RESTRICTED: dict[str, dict[str, list[str]]] = {"tensorflow-unrolled": {"lstm": ["l2_c1024"]}}
# Tools that are a variant of another on some problems only (they would repeat it on the rest).
PROBLEMS_OF: dict[str, tuple[str, ...]] = {"chainrule-scan": ("lstm",)}


@dataclass
class Config:
    """What to run. ``sizes`` maps each problem to its size names; ``check_sizes`` are extra
    check-only sizes (the instances that have ADBench reference values)."""

    problems: list[str]
    sizes: dict[str, list[str]]
    tools: list[str]
    allocators: list[str] = field(default_factory=lambda: ["tuned", "default"])
    rounds: int = 1
    timing: dict[str, float] = field(default_factory=lambda: dict(QUICK_TIMING))
    check_sizes: dict[str, list[str]] = field(default_factory=dict)
    memory: tuple[str, str] | None = None  # (problem, size) whose F and J peak memory is measured
    worker_timeout: float = 3600.0
    verbose: bool = True
    threads: int | None = None  # None: each library's default thread pools
    profile: bool = False  # cProfile chainrule where it trails its peers most


def thread_env(threads: int | None) -> dict[str, str]:
    """Environment that limits every library's compute threads to ``threads`` (BLAS, OpenMP, PyTorch,
    TensorFlow's intra/inter-op pools, XLA's Eigen pool); empty for the libraries' defaults."""
    if threads is None:
        return {}
    n = str(threads)
    env = {k: n for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")}
    env.update(TF_NUM_INTRAOP_THREADS=n, TF_NUM_INTEROP_THREADS=n)
    env["XLA_FLAGS"] = (
        f"--xla_cpu_multi_thread_eigen={'false' if threads == 1 else 'true'} intra_op_parallelism_threads={n}"
    )
    return env


def available_tools(peers: bool = True, full: bool = False) -> list[str]:
    """chainrule (and its no-rewrite variant where the Session has ``optimize=``), NumPy, and each
    peer that is installed (for a full run also TensorFlow's unrolled LSTM)."""
    from harness.tools import chainrule_tool

    names = ["chainrule"]
    if chainrule_tool.supports_optimize_flag():
        names.append("chainrule-noopt")
    if hasattr(chainrule_tool.cr, "foldl"):
        names.append("chainrule-scan")
    if chainrule_tool.numba_backend():
        names.append("chainrule-numba")
    names.append("numpy")
    if peers:
        names.extend(p for p in PEERS if tools.installed(p))
        if full and "tensorflow" in names:
            names.append("tensorflow-unrolled")
    return names


def default_config(quick: bool, tool_names: list[str] | None = None, problem_names: list[str] | None = None) -> Config:
    """The quick run of ``python benchmarks/bench.py`` or the full run behind ``benchmarks/RESULTS.md``."""
    have_data = data.adbench_dir() is not None
    names = list(problem_names or problems.PROBLEMS)
    if not have_data:
        names = [p for p in names if p not in ("gmm", "lstm")]
    sizes = {p: problems.sizes(p, quick) for p in names}
    check = {}
    if "gmm" in names:
        check["gmm"] = ["test"]
    if "lstm" in names and quick:
        check["lstm"] = ["l2_c1024"]
    memory = None
    if "gmm" in names:
        memory = ("gmm", "d10_K25" if quick else "d64_K50")
    return Config(
        problems=names,
        sizes=sizes,
        tools=tool_names or available_tools(full=not quick),
        rounds=1 if quick else 2,
        timing=dict(QUICK_TIMING if quick else FULL_TIMING),
        check_sizes=check,
        memory=memory,
        profile=not quick,
    )


# --- running -------------------------------------------------------------------------------------
def _env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in MALLOC_VARS}
    env.update(extra)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # The worker imports this harness (``benchmarks/`` on the path) and this very checkout's chainrule.
    paths = [str(BENCHMARKS_DIR)] + ([str(CHECKOUT_SRC)] if (CHECKOUT_SRC / "chainrule").is_dir() else [])
    env["PYTHONPATH"] = os.pathsep.join(paths + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    return env


def run_worker(
    tool: str, tasks: list[dict[str, Any]], env: dict[str, str], cfg: Config, save_dir: str
) -> dict[str, Any]:
    """Run one worker process; its JSON output (or what it wrote before failing)."""
    env = {**thread_env(cfg.threads), **env}
    with tempfile.TemporaryDirectory() as tmp:
        spec_path, out_path = Path(tmp) / "spec.json", Path(tmp) / "out.json"
        spec = {"tool": tool, "tasks": tasks, "timing": cfg.timing, "save_dir": save_dir, "check": True}
        spec_path.write_text(json.dumps(spec))
        cmd = [sys.executable, "-m", "harness.worker", str(spec_path), str(out_path)]
        try:
            proc = subprocess.run(cmd, env=_env(env), capture_output=True, text=True, timeout=cfg.worker_timeout)
            rc, stderr = proc.returncode, proc.stderr
        except subprocess.TimeoutExpired as e:
            rc, stderr = -1, f"timed out after {cfg.worker_timeout:.0f} s\n{e.stderr or ''}"
        out = json.loads(out_path.read_text()) if out_path.exists() else {"tool": tool, "results": []}
    out["returncode"] = rc
    if rc != 0:
        out["stderr_tail"] = "\n".join(str(stderr).strip().splitlines()[-15:])
    return out


def run(cfg: Config) -> dict[str, Any]:
    """Run every worker the config asks for; the raw results and the gradient cross-checks."""
    save_dir = tempfile.mkdtemp(prefix="chainrule-bench-")
    records: list[dict[str, Any]] = []
    versions: dict[str, Any] = {}
    failures: list[str] = []
    started = time.time()
    load_before = os.getloadavg()

    def log(msg: str) -> None:
        if cfg.verbose:
            print(f"[{time.time() - started:7.1f}s] {msg}", file=sys.stderr, flush=True)

    for rnd in range(cfg.rounds):
        for alloc in cfg.allocators:
            for tool in cfg.tools:
                first = rnd == 0 and alloc == cfg.allocators[0]
                tasks: list[dict[str, Any]] = []
                if tool in RESTRICTED:
                    if first:
                        only = RESTRICTED[tool]
                        for p in cfg.problems:
                            tasks += [
                                {"problem": p, "size": s, "kinds": ["F", "J"]}
                                for s in cfg.sizes[p]
                                if s in only.get(p, ())
                            ]
                    if not tasks:
                        continue
                else:
                    own = [p for p in cfg.problems if p in PROBLEMS_OF.get(tool, cfg.problems)]
                    if first:
                        for p in own:
                            tasks += [{"problem": p, "size": s, "kinds": []} for s in cfg.check_sizes.get(p, [])]
                    for p in own:
                        tasks += [{"problem": p, "size": s, "kinds": ["F", "J"]} for s in cfg.sizes[p]]
                    if not tasks:
                        continue
                log(f"round {rnd + 1}/{cfg.rounds}, allocator {alloc}: {tool} ({len(tasks)} tasks)")
                out = run_worker(tool, tasks, ALLOCATORS[alloc], cfg, save_dir)
                versions[tool] = out.get("version")
                for r in out["results"]:
                    r.update(allocator=alloc, round=rnd)
                    records.append(r)
                    if "error" in r:
                        failures.append(f"{tool} {r['problem']} {r['size']} ({alloc}): {r['error']}")
                        log(f"  ERROR {tool} {r['problem']} {r['size']}: {r['error']}")
                    elif not r.get("check", {"ok": True})["ok"]:
                        failures.append(f"{tool} {r['problem']} {r['size']}: check failed {r['check']}")
                if out["returncode"] != 0:
                    msg = f"{tool} worker exited with {out['returncode']} ({alloc}, round {rnd + 1})"
                    failures.append(msg + ": " + out.get("stderr_tail", ""))
                    log("  " + msg + "\n" + out.get("stderr_tail", ""))
                    if tool.startswith("chainrule") and out["returncode"] == 3:
                        raise SystemExit(f"chainrule disagrees with the reference values:\n{out.get('stderr_tail')}")

    memory: list[dict[str, Any]] = []
    if cfg.memory:
        problem, size = cfg.memory
        for tool in cfg.tools:
            if tool in RESTRICTED:
                continue
            for kind in ("F", "J"):
                log(f"peak memory: {tool} {problem} {size} {kind}")
                out = run_worker(tool, [{"problem": problem, "size": size, "memory": kind}], MEMORY_ENV, cfg, save_dir)
                for r in out["results"]:
                    if "error" in r:
                        failures.append(f"{tool} peak memory {problem} {size} {kind}: {r['error']}")
                    elif isinstance(r.get("memory"), dict):
                        memory.append(
                            {"tool": tool, "problem": problem, "size": size, "kind": kind, **r["memory"][kind]}
                        )

    res = {
        "records": records,
        "memory": memory,
        "versions": versions,
        "failures": failures,
        "cross_checks": cross_check(records),
        "wall_s": time.time() - started,
        "load_before": load_before,
        "load_after": os.getloadavg(),
        "finished": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "config": cfg,
        "profiles": [],
    }
    if cfg.profile:
        res["profiles"] = run_profiles(res, save_dir)
    return res


def merge(saved: list[dict[str, Any]], fallback: Config) -> dict[str, Any]:
    """One result from several saved runs (say, the tuned and the default allocator run separately):
    records, memory and checks concatenated, the configs' tools, sizes and allocators united."""
    configs = [Config(**s["config"]) if isinstance(s.get("config"), dict) else fallback for s in saved]
    cfg = dataclasses.replace(configs[0])
    for c in configs[1:]:
        cfg.problems += [p for p in c.problems if p not in cfg.problems]
        cfg.tools += [t for t in c.tools if t not in cfg.tools]
        cfg.allocators += [a for a in c.allocators if a not in cfg.allocators]
        cfg.sizes = {p: list(cfg.sizes.get(p, [])) for p in cfg.problems}
        for p, names in c.sizes.items():
            cfg.sizes.setdefault(p, [])
            cfg.sizes[p] += [n for n in names if n not in cfg.sizes[p]]
        cfg.rounds = max(cfg.rounds, c.rounds)
    order = {t: i for i, t in enumerate(TOOL_ORDER)}
    cfg.tools.sort(key=lambda t: order.get(t, len(order)))
    res: dict[str, Any] = {"config": cfg, "versions": {}, "profiles": []}
    for key in ("records", "memory", "failures", "cross_checks", "profiles"):
        res[key] = [x for s in saved for x in s.get(key, [])]
    for s in saved:
        res["versions"].update(s.get("versions", {}))
    if all(Path(x["check"]["grad_file"]).exists() for x in res["records"] if x.get("check", {}).get("grad_file")):
        res["cross_checks"] = cross_check(res["records"])
    res["wall_s"] = sum(s.get("wall_s", 0.0) for s in saved)
    res["load_before"] = saved[0].get("load_before", [0, 0, 0])
    res["load_after"] = saved[-1].get("load_after", [0, 0, 0])
    if saved[-1].get("finished"):
        res["finished"] = saved[-1]["finished"]
    return res


TOOL_ORDER = (
    "chainrule",
    "chainrule-noopt",
    "chainrule-scan",
    "numpy",
    "jax",
    "torch",
    "tensorflow",
    "tensorflow-unrolled",
    "autograd",
)


def gaps(res: dict[str, Any]) -> list[tuple[str, str, str, str, float]]:
    """Where chainrule's gradient trails most: (label, problem, size, peer, chainrule J / peer J) for the
    largest ratio over the fastest peer at any size, and for the GMM size that trails PyTorch most."""
    cfg: Config = res["config"]
    alloc = cfg.allocators[0]
    med = medians(res)
    peers = [
        t for t in cfg.tools if t not in ("chainrule", "chainrule-noopt", "chainrule-scan", "chainrule-numba", "numpy")
    ]
    best: tuple[float, str, str, str] | None = None
    gmm_torch: tuple[float, str, str, str] | None = None
    for p in cfg.problems:
        for s in cfg.sizes[p]:
            c = med.get((alloc, p, s, "chainrule", "J"))
            if not c:
                continue
            for t in peers:
                j = med.get((alloc, p, s, t, "J"))
                if j and (best is None or c / j > best[0]):
                    best = (c / j, p, s, t)
                if j and p == "gmm" and t == "torch" and (gmm_torch is None or c / j > gmm_torch[0]):
                    gmm_torch = (c / j, p, s, t)
    out = []
    if best:
        out.append(("largest gap to any peer", best[1], best[2], best[3], best[0]))
    if gmm_torch and (not best or gmm_torch[1:3] != best[1:3]):
        out.append(("GMM size that trails PyTorch most", gmm_torch[1], gmm_torch[2], gmm_torch[3], gmm_torch[0]))
    return out


def run_profiles(res: dict[str, Any], save_dir: str) -> list[dict[str, Any]]:
    cfg: Config = res["config"]
    out = []
    for label, problem, size, peer, ratio in gaps(res):
        if cfg.verbose:
            print(f"profiling chainrule {problem} {size} J ({label})", file=sys.stderr, flush=True)
        task = {"problem": problem, "size": size, "profile": "J", "calls": 3}
        got = run_worker("chainrule", [task], ALLOCATORS[cfg.allocators[0]], cfg, save_dir)
        for r in got["results"]:
            if "profile" in r:
                out.append(
                    {"label": label, "problem": problem, "size": size, "peer": peer, "ratio": ratio, **r["profile"]}
                )
    return out


def cross_check(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each tool's gradient against chainrule's at the same size (where no reference gradient exists)."""
    files: dict[tuple[str, str, str], str] = {}
    for r in records:
        f = r.get("check", {}).get("grad_file")
        if f:
            files.setdefault((r["tool"], r["problem"], r["size"]), f)
    out = []
    for (tool, problem, size), path in sorted(files.items()):
        base = files.get(("chainrule", problem, size))
        if tool == "chainrule" or base is None:
            continue
        from harness.worker import relative_error

        err = relative_error(np.load(path), np.load(base))
        out.append({"tool": tool, "problem": problem, "size": size, "rel_err": err})
    return out


# --- aggregation -------------------------------------------------------------------------------
def timings(res: dict[str, Any]) -> dict[tuple[str, str, str, str, str], list[float]]:
    """Pooled call times per (allocator, problem, size, tool, F|J)."""
    pooled: dict[tuple[str, str, str, str, str], list[float]] = {}
    for r in res["records"]:
        for kind in ("F", "J"):
            if r.get(kind):
                pooled.setdefault((r["allocator"], r["problem"], r["size"], r["tool"], kind), []).extend(r[kind])
    return pooled


def medians(res: dict[str, Any]) -> dict[tuple[str, str, str, str, str], float]:
    return {k: statistics.median(v) for k, v in timings(res).items()}


def fmt_time(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        ms = seconds * 1e3
        return f"{ms:.1f} ms" if ms < 100 else f"{ms:.0f} ms"
    return f"{seconds * 1e6:.0f} µs"


def fmt_ratio(r: float | None) -> str:
    return "-" if r is None else (f"{r:.2f}" if r < 10 else f"{r:.0f}")


def text_table(res: dict[str, Any], allocator: str | None = None, extras: bool = True) -> str:
    """A plain-text table for the terminal: per problem and size, each tool's F, J, J/F and
    chainrule's J over the tool's J."""
    cfg: Config = res["config"]
    med = medians(res)
    if allocator is None:
        last = cfg.allocators[-1]
        return "\n\n".join(text_table(res, a, extras=a == last) for a in cfg.allocators)
    lines = [f"allocator: {allocator} (times are medians)"]
    header = f"{'problem':8} {'size':16} {'tool':16} {'F':>10} {'J':>10} {'J/F':>6} {'cr/tool J':>10} {'cr/tool F':>10}"
    lines += [header, "-" * len(header)]
    for p in cfg.problems:
        for s in cfg.sizes[p]:
            cr_f, cr_j = med.get((allocator, p, s, "chainrule", "F")), med.get((allocator, p, s, "chainrule", "J"))
            for t in cfg.tools:
                f, j = med.get((allocator, p, s, t, "F")), med.get((allocator, p, s, t, "J"))
                if f is None and j is None:
                    continue
                jf = j / f if f and j else None
                rj = cr_j / j if cr_j and j and t != "chainrule" else None
                rf = cr_f / f if cr_f and f and t != "chainrule" else None
                lines.append(
                    f"{p:8} {s:16} {t:16} {fmt_time(f):>10} {fmt_time(j):>10} {fmt_ratio(jf):>6} "
                    f"{fmt_ratio(rj):>10} {fmt_ratio(rf):>10}"
                )
    if not extras:
        return "\n".join(lines)
    if res["memory"]:
        lines += ["", "peak memory of one call above resident memory after set-up:"]
        lines += [_memory_line(m) for m in res["memory"]]
    if res["failures"]:
        lines += ["", "FAILURES:"] + [f"  {f}" for f in res["failures"]]
    return "\n".join(lines)


def _memory_line(m: dict[str, Any]) -> str:
    rss = m.get("rss_peak_bytes")
    traced = m.get("traced_peak_bytes")
    parts = [f"  {m['tool']:16} {m['problem']} {m['size']} {m['kind']}: resident {_mb(rss)}"]
    if traced is not None:
        parts.append(f"tracemalloc {_mb(traced)}")
    return ", ".join(parts)


def _mb(n: float | None) -> str:
    return "-" if n is None else f"{n / 2**20:.1f} MiB"


def main(argv: list[str] | None = None, command: str | None = None) -> int:
    """``python benchmarks/bench.py``: the quick run by default, ``--full`` for the full one."""
    parser = argparse.ArgumentParser(prog="python benchmarks/bench.py", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run_from_args(parser.parse_args(argv), command=command)


def add_arguments(parser: Any) -> None:
    parser.add_argument("--full", action="store_true", help="all sizes, more repeats, 2 rounds (tens of minutes)")
    parser.add_argument("--tools", help="comma-separated tools (default: chainrule, numpy and every installed peer)")
    parser.add_argument("--no-peers", action="store_true", help="chainrule and NumPy only")
    parser.add_argument("--problems", help=f"comma-separated subset of {','.join(problems.PROBLEMS)}")
    parser.add_argument("--sizes", help="comma-separated problem:size pairs replacing the default sizes")
    parser.add_argument("--allocators", default="tuned,default", help="tuned, default, or both (the default)")
    parser.add_argument("--rounds", type=int, help="how many times to run every worker (times are pooled)")
    parser.add_argument(
        "--threads", type=int, help="limit every library to this many compute threads (default: their own defaults)"
    )
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory processes")
    parser.add_argument("--markdown", metavar="PATH", help="also write the report as Markdown (RESULTS.md)")
    parser.add_argument("--json", metavar="PATH", help="also write the raw results as JSON")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    parser.add_argument("--profile", action="store_true", help="cProfile chainrule where it trails most (on in --full)")
    parser.add_argument("--from-json", metavar="PATH", help="report the results saved by --json instead of running")
    parser.add_argument(
        "--command", dest="command_line", help=argparse.SUPPRESS
    )  # the command shown in a re-rendered report


def run_from_args(args: Any, command: str | None = None) -> int:
    command = command or getattr(args, "command_line", None)
    tool_names = args.tools.split(",") if args.tools else available_tools(peers=not args.no_peers, full=args.full)
    unknown = [t for t in tool_names if t not in tools.TOOLS]
    if unknown:
        print(f"unknown tools {unknown}; known: {', '.join(tools.TOOLS)}", file=sys.stderr)
        return 2
    problem_names = args.problems.split(",") if args.problems else None
    cfg = default_config(quick=not args.full, tool_names=tool_names, problem_names=problem_names)
    if args.sizes:
        cfg.sizes = {p: [] for p in cfg.problems}
        for pair in args.sizes.split(","):
            p, _, s = pair.partition(":")
            cfg.sizes.setdefault(p, []).append(s)
        cfg.problems = [p for p in cfg.problems if cfg.sizes.get(p)]
    cfg.allocators = args.allocators.split(",")
    if args.rounds:
        cfg.rounds = args.rounds
    cfg.threads = args.threads
    if args.no_memory:
        cfg.memory = None
    cfg.verbose = not args.quiet
    cfg.profile = cfg.profile or args.profile
    if args.from_json:
        res = merge([json.loads(Path(f).read_text()) for f in args.from_json.split(",")], cfg)
        if args.profile and not res.get("profiles"):
            res["profiles"] = run_profiles(res, tempfile.mkdtemp(prefix="chainrule-bench-"))
    else:
        res = run(cfg)
    print(text_table(res))
    if args.json:
        saved = {**res, "config": dataclasses.asdict(cfg)}
        Path(args.json).write_text(json.dumps(saved, indent=1, default=str))
    if args.markdown:
        from harness.report import markdown

        if command is None:
            command = " ".join(["python benchmarks/bench.py", *sys.argv[1:]])
        Path(args.markdown).write_text(markdown(res, command=command))
        print(f"\nwrote {args.markdown}")
    return 1 if res["failures"] else 0
