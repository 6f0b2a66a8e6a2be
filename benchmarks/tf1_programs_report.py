"""Which ported TF 1.x programs run on chainrule with only the import changed, and which give TensorFlow's numbers.

    python benchmarks/tf1_programs_report.py            # every program in tests/tf1_programs/programs
    python benchmarks/tf1_programs_report.py NAME ...   # some of them
    python benchmarks/tf1_programs_report.py --markdown # the table as Markdown

Each program runs in its own subprocess with ``tensorflow`` mapped to chainrule (see
tests/tf1_programs/tf1_harness.py); its printed numbers are compared with the ones TensorFlow's compat.v1
printed, recorded once in tests/tf1_programs/references/. Needs no TensorFlow.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "tf1_programs"))

import tf1_harness  # noqa: E402


def _failure(result: dict, quote: bool = True) -> str:
    """The first failing line (quoted only on the terminal: the programs' text stays out of the docs) and error."""
    if not result["ok"]:
        where = (
            f"line {result['lineno']}" + (f": {result['line']}" if quote else "") + "  ->  " if result["lineno"] else ""
        )
        return where + (result["error"] or "")
    return result["difference"] or ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="programs (default: all)")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per program")
    args = parser.parse_args(argv)
    names = args.names or sorted(tf1_harness.SPECS)
    rows = []
    absent = [n for n in names if not (tf1_harness.PROGRAMS_DIR / tf1_harness.SPECS[n].file).exists()]
    for name in absent:
        source = tf1_harness.source_of(name)
        print(f"{name}: no local copy at tests/tf1_programs/programs/ (its source: {source})", file=sys.stderr)
    names = [n for n in names if n not in absent]
    for name in names:
        result = tf1_harness.check(name, timeout=args.timeout)
        ran, matched = "yes" if result["ok"] else "no", "yes" if result["matches"] else "no"
        rows.append((name, ran, matched, _failure(result, quote=not args.markdown)))
        if not args.markdown:
            print(f"{name:42s} {rows[-1][1]:5s} {rows[-1][2]:7s} {rows[-1][3]}", flush=True)
    runs = sum(r[1] == "yes" for r in rows)
    matches = sum(r[2] == "yes" for r in rows)
    if args.markdown:
        print("| program | runs? | matches TF? | first failing line / error |")
        print("|---|---|---|---|")
        for name, ran, matched, failure in rows:
            print(f"| {name} | {ran} | {matched} | {failure.replace('|', '/')} |")
        print()
    print(f"{runs} of {len(rows)} run with only the import changed; {matches} of {len(rows)} match TensorFlow.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
