"""The full benchmark behind benchmarks/RESULTS.md: chainrule beside NumPy and every installed peer.

    pip install -e '.[bench]'          # the peers (optional)
    python benchmarks/run.py           # = chainrule bench --full --markdown benchmarks/RESULTS.md

Extra arguments are passed on (``--rounds 2``, ``--tools chainrule,jax``, ``--problems gmm``,
``--sizes gmm:d10_K25,lstm:l2_c1024``, ``--allocators tuned``); see ``chainrule bench --help``.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from chainrule.bench.runner import main  # noqa: E402

if __name__ == "__main__":
    argv = sys.argv[1:]
    command = " ".join(["python benchmarks/run.py", *argv])
    sys.exit(main(["--full", "--markdown", str(HERE / "RESULTS.md"), *argv], command=command))
