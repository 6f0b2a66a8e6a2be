"""A quick benchmark from a checkout: chainrule beside NumPy and every installed peer, printed as a table.

    python benchmarks/bench.py                     # small sizes, few repeats (a few minutes)
    python benchmarks/bench.py --no-peers          # chainrule and NumPy only
    python benchmarks/bench.py --full --markdown benchmarks/RESULTS.md

The peers are optional (``pip install -e '.[bench]'``); ``--help`` lists every option. The full,
three-part run behind ``benchmarks/RESULTS.md`` is ``python benchmarks/run.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# The harness (benchmarks/harness) and this checkout's chainrule (src/), installed or not.
sys.path[:0] = [str(HERE), str(HERE.parent / "src")]

from harness import runner  # noqa: E402

if __name__ == "__main__":
    sys.exit(runner.main(sys.argv[1:]))
