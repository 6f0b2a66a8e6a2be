"""Benchmarks: chainrule side by side with NumPy, JAX, PyTorch, TensorFlow and HIPS autograd.

This package lives in a source checkout (``benchmarks/harness``), not in the installed chainrule:
the scripts beside it put ``benchmarks/`` on ``sys.path`` and import it as ``harness``.
``python benchmarks/bench.py`` runs a quick version (``--full`` for all sizes), ``python
benchmarks/run.py`` the full one that writes ``benchmarks/RESULTS.md``. Problems: ADBench's GMM
and LSTM (checked against ADBench's reference values first), an MLP training step on the digits,
and an overhead chain of 200 scalar ops. Each tool runs in a process of its own
(:mod:`harness.worker`), orchestrated by :mod:`harness.runner`; peers are optional
(``pip install -e '.[bench]'``).
"""

from harness.runner import Config, available_tools, default_config, main, run, text_table

__all__ = ["Config", "available_tools", "default_config", "main", "run", "text_table"]
