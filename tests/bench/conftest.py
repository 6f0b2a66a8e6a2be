"""The benchmark harness lives in a checkout's ``benchmarks/`` (not in the installed package): import it from there."""

import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
if str(BENCHMARKS) not in sys.path:
    sys.path.insert(0, str(BENCHMARKS))
