"""The full benchmark behind benchmarks/RESULTS.md: chainrule beside NumPy and every installed peer.

    pip install -e '.[bench]'              # the peers (optional)
    python benchmarks/run.py --threads 1   # about an hour on 2 cores; rewrites RESULTS.md

Three parts, each tool in processes of its own, then one report:

1. tuned allocator: every tool, every size (GMM: all of gmm/1k; LSTM: all four), peak memory;
   the tools include ``chainrule-numba`` (the same graphs on ``cr.Session(backend="numba")``) where
   Numba and ``chainrule.backends.numba`` are installed (``pip install -e '.[fast]'``);
2. tuned allocator: chainrule without graph rewrites (``cr.Session(optimize=False)``) for the A/B,
   on every GMM size, LSTM l2_c1024, the MLP and the chain, peak memory;
3. default allocator: every tool but the A/B and TensorFlow's unrolled LSTM, on the same sizes as 2.

Then chainrule is profiled where it trails its peers most. ``--threads N`` limits every library's
compute threads (recommended on a shared machine), ``--rounds N`` repeats each part's processes.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
# The harness (benchmarks/harness) and this checkout's chainrule (src/), installed or not.
sys.path[:0] = [str(HERE), str(HERE.parent / "src")]

from harness import problems, runner  # noqa: E402
from harness.report import markdown  # noqa: E402


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, help="compute threads per library (default: their defaults)")
    parser.add_argument("--rounds", type=int, default=1, help="processes per tool and part (times are pooled)")
    parser.add_argument("--out", default=str(HERE / "RESULTS.md"), help="the Markdown report")
    parser.add_argument("--json", help="also save the merged raw results here")
    args = parser.parse_args(argv)

    everyone = runner.available_tools(full=True)
    reduced = {
        "gmm": problems.sizes("gmm", quick=False),
        "lstm": ["l2_c1024"],
        "mlp": problems.sizes("mlp", quick=False),
        "chain": problems.sizes("chain", quick=False),
    }
    parts = []
    base = runner.default_config(quick=False, tool_names=[t for t in everyone if t != "chainrule-noopt"])
    parts.append(dataclasses.replace(base, allocators=["tuned"], profile=False))
    if "chainrule-noopt" in everyone:
        parts.append(
            dataclasses.replace(base, tools=["chainrule-noopt"], allocators=["tuned"], sizes=reduced, profile=False)
        )
    default_tools = [t for t in everyone if t not in ("chainrule-noopt", "tensorflow-unrolled")]
    parts.append(
        dataclasses.replace(
            base, tools=default_tools, allocators=["default"], sizes=reduced, memory=None, check_sizes={}, profile=False
        )
    )
    saved = []
    for i, cfg in enumerate(parts, 1):
        cfg.threads, cfg.rounds = args.threads, args.rounds
        print(f"part {i}/{len(parts)}: {', '.join(cfg.tools)} ({cfg.allocators[0]} allocator)", file=sys.stderr)
        res = runner.run(cfg)
        saved.append({**res, "config": dataclasses.asdict(cfg)})
    merged = runner.merge(json.loads(json.dumps(saved, default=str)), parts[0])
    merged["config"].threads = args.threads
    merged["profiles"] = runner.run_profiles(merged, tempfile.mkdtemp(prefix="chainrule-bench-"))
    print(runner.text_table(merged))
    command = " ".join(["python benchmarks/run.py", *argv])
    Path(args.out).write_text(markdown(merged, command=command))
    if args.json:
        Path(args.json).write_text(json.dumps({**merged, "config": dataclasses.asdict(merged["config"])}, default=str))
    print(f"wrote {args.out}", file=sys.stderr)
    return 1 if merged["failures"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
