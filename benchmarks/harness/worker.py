"""One benchmark process: one tool, a list of (problem, size) tasks, results as JSON.

Run by the runner as ``python -m harness.worker SPEC.json OUT.json`` so that every
framework runs in a process of its own, under the allocator settings the runner chose.
Each task first checks the tool's values (and gradients) against the references, then times
the objective (F) and the gradient (J): a warm-up call, then repeated calls, median reported.
In memory mode it instead measures one call's peak memory.
"""

from __future__ import annotations

import gc
import json
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import numpy as np

from harness import data, problems

TOLERANCE = 1e-8  # relative, as ADBench's own tests


class CheckFailed(AssertionError):  # noqa: N818 - reads as a verdict
    pass


# Tools whose buffers tracemalloc sees (NumPy-based).
# (Not chainrule-numba: arrays its native code allocates bypass tracemalloc.)
TRACED_TOOLS = ("chainrule", "chainrule-noopt", "chainrule-scan", "numpy", "autograd")


def relative_error(got: Any, want: Any) -> float:
    """``max |got - want| / max |want|`` over all entries (a scalar or a flat vector)."""
    got = np.asarray(got, dtype=np.float64).ravel()
    want = np.asarray(want, dtype=np.float64).ravel()
    if got.shape != want.shape:
        return float("inf")
    scale = float(np.max(np.abs(want))) if want.size else 0.0
    diff = float(np.max(np.abs(got - want))) if want.size else 0.0
    if not np.all(np.isfinite(got)):
        return float("inf")
    return diff / scale if scale > 0 else diff


def _flat(arrays: list[np.ndarray]) -> np.ndarray:
    return np.concatenate([np.asarray(a, dtype=np.float64).ravel() for a in arrays])


def reference(problem: str, size: str, inp: Any) -> tuple[float | None, np.ndarray | None, str]:
    """The value (and where known the gradient) a tool must reproduce, and where it comes from."""
    if problem == "gmm" and size == "test":
        ref = data.load_reference("gmm_test")
        return ref["objective"], np.asarray(ref["gradient"]), "ADBench reference (gmm_test_expected.json)"
    if problem == "gmm":
        return problems.gmm_numpy(inp.alphas, inp.means, inp.icf, inp), None, "NumPy objective"
    if problem == "lstm" and size == "l2_c1024":
        ref = data.load_reference("lstm_l2_c1024")
        return ref["objective"], np.asarray(ref["gradient"]), "ADBench reference (lstm_l2_c1024_expected.json)"
    if problem == "lstm":
        return problems.lstm_numpy(inp.main, inp.extra, inp), None, "NumPy objective"
    if problem == "mlp":
        grads = problems.mlp_numpy_grads(inp.params, inp.x, inp.onehot)
        return problems.mlp_numpy(inp.params, inp.x, inp.onehot), _flat(grads), "NumPy (hand-written backprop)"
    if problem == "chain":
        value, derivative = problems.chain_numpy(problems.CHAIN_X0, inp)
        return value, np.array([derivative]), "NumPy (forward mode by hand)"
    raise ValueError(problem)


def time_calls(fn: Any, timing: dict[str, float]) -> list[float]:
    """Seconds per call: at least ``min_reps`` calls and ``min_time`` seconds, at most ``max_reps``
    calls, or stop after ``max_time`` seconds once 2 calls are in."""
    times: list[float] = []
    gc.collect()
    start = time.perf_counter()
    while True:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        elapsed = time.perf_counter() - start
        if len(times) >= timing["max_reps"]:
            break
        if len(times) >= timing["min_reps"] and elapsed >= timing["min_time"]:
            break
        if elapsed >= timing["max_time"] and len(times) >= 2:
            break
    return times


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def peak_memory(fn: Any, traced: bool) -> dict[str, Any]:
    """Peak memory of one call above what was resident once the problem was set up (graph built,
    nothing run yet): buffers a tool keeps between calls count, compile-time garbage does not.

    Resident: the high-water mark of the third call (reset through /proc/self/clear_refs; run with
    glibc told to unmap freed blocks, so resident memory follows live memory). For NumPy-based tools
    also tracemalloc's peak, traced from the same point."""
    import tracemalloc

    out: dict[str, Any] = {}
    gc.collect()
    rss_base = _status_kib("VmRSS")
    if traced:
        tracemalloc.start()
    for _ in range(2):
        fn()
    gc.collect()
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM to the current VmRSS
    except OSError as e:
        out["rss_error"] = str(e)
    if traced:
        tracemalloc.reset_peak()
    fn()
    if "rss_error" not in out:
        out["rss_peak_bytes"] = max(0, _status_kib("VmHWM") - rss_base) * 1024
        out["rss_retained_bytes"] = max(0, _status_kib("VmRSS") - rss_base) * 1024
    if traced:
        current, peak = tracemalloc.get_traced_memory()
        out["traced_peak_bytes"] = peak
        out["traced_retained_bytes"] = current
        tracemalloc.stop()
    return out


def profile(fn: Any, calls: int, top: int = 18) -> dict[str, Any]:
    """cProfile of ``calls`` calls: the functions with the most own time (per call), and the total."""
    import cProfile
    import pstats

    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    for _ in range(calls):
        fn()
    prof.disable()
    wall = (time.perf_counter() - t0) / calls
    stats = pstats.Stats(prof)
    rows = []
    for (path, line, name), (_, ncalls, tottime, cumtime, _) in stats.stats.items():  # type: ignore[attr-defined]
        short = "/".join(Path(path).parts[-2:]) if path and path != "~" else ""
        where = f"{short}:{line}({name})" if short else name
        rows.append((tottime / calls, cumtime / calls, ncalls // calls, where))
    rows.sort(reverse=True)
    return {
        "wall_s_per_call": wall,
        "rows": [{"tottime_s": a, "cumtime_s": b, "ncalls": c, "function": w} for a, b, c, w in rows[:top]],
    }


def run_task(tool_name: str, module: Any, task: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    problem, size = task["problem"], task["size"]
    result: dict[str, Any] = {"tool": tool_name, "problem": problem, "size": size}
    inp = problems.load(problem, size)
    t0 = time.perf_counter()
    case = getattr(module, problem)(inp)
    result["setup_s"] = time.perf_counter() - t0
    if case.note:
        result["note"] = case.note

    if task.get("profile"):
        fn = case.objective if task["profile"] == "F" else case.gradient
        for _ in range(2):
            fn()
        result["profile"] = profile(fn, task.get("calls", 5))
        return result

    memory = task.get("memory")
    if memory:
        fn = case.objective if memory == "F" else case.gradient
        if fn is None:
            return result
        result["memory"] = {memory: peak_memory(fn, traced=tool_name in TRACED_TOOLS)}
        return result

    # Correctness first; these calls also compile, trace or plan, so they are the warm-up.
    if spec.get("check", True):
        want_value, want_grad, source = reference(problem, size, inp)
        t0 = time.perf_counter()
        value = case.value()
        result["first_F_s"] = time.perf_counter() - t0
        check: dict[str, Any] = {"source": source, "value": value, "value_rel_err": relative_error(value, want_value)}
        if case.grads is not None:
            t0 = time.perf_counter()
            grad = _flat(case.grads())
            result["first_J_s"] = time.perf_counter() - t0
            if want_grad is not None:
                check["grad_rel_err"] = relative_error(grad, want_grad)
            save_dir = spec.get("save_dir")
            if save_dir:
                path = Path(save_dir) / f"{tool_name}__{problem}__{size}.npy"
                np.save(path, grad)
                check["grad_file"] = str(path)
        errs = [check["value_rel_err"], check.get("grad_rel_err", 0.0)]
        check["ok"] = bool(all(e <= TOLERANCE for e in errs))
        result["check"] = check
        if not check["ok"]:
            message = (
                f"CHECK FAILED: {tool_name} {problem} {size}: value rel. error {check['value_rel_err']:.3g}, "
                f"gradient rel. error {check.get('grad_rel_err', float('nan')):.3g} against {source} "
                f"(tolerance {TOLERANCE:g})"
            )
            print(message, file=sys.stderr, flush=True)
            if tool_name.startswith("chainrule"):
                raise CheckFailed(message)

    timing = spec["timing"]
    for kind, fn in (("F", case.objective), ("J", case.gradient)):
        if fn is None or kind not in task.get("kinds", ("F", "J")):
            continue
        if result.get(f"first_{kind}_s", 0.0) < 1.0:
            fn()  # a further warm-up call where it is cheap
        result[kind] = time_calls(fn, timing)
    return result


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    spec = json.loads(Path(argv[0]).read_text())
    out_path = Path(argv[1])
    tool_name = spec["tool"]
    from harness import tools

    t0 = time.perf_counter()
    module = tools.load(tool_name)
    output: dict[str, Any] = {
        "tool": tool_name,
        "version": module.available(),
        "import_s": time.perf_counter() - t0,
        "results": [],
    }
    status = 0
    for task in spec["tasks"]:
        try:
            output["results"].append(run_task(tool_name, module, task, spec))
        except CheckFailed as e:
            output["results"].append({"tool": tool_name, **task, "error": str(e), "check": {"ok": False}})
            status = 3
            break
        except Exception as e:  # noqa: BLE001 - a peer failing one problem must not stop the others
            traceback.print_exc()
            output["results"].append({"tool": tool_name, **task, "error": f"{type(e).__name__}: {e}"})
        out_path.write_text(json.dumps(output))
    out_path.write_text(json.dumps(output))
    return status


if __name__ == "__main__":
    sys.exit(main())
