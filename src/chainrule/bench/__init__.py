"""Benchmarks: chainrule side by side with NumPy, JAX, PyTorch, TensorFlow and HIPS autograd.

``chainrule bench`` runs a quick version; ``python benchmarks/run.py`` (``chainrule bench --full``)
the full one that writes ``benchmarks/RESULTS.md``. Problems: ADBench's GMM and LSTM (checked
against ADBench's reference values first), an MLP training step on the digits, and an overhead
chain of 200 scalar ops. Each tool runs in a process of its own (:mod:`chainrule.bench.worker`),
orchestrated by :mod:`chainrule.bench.runner`; peers are optional (``pip install chainrule[bench]``).
"""

from chainrule.bench.runner import Config, available_tools, default_config, main, run, text_table

__all__ = ["Config", "available_tools", "default_config", "main", "run", "text_table"]
