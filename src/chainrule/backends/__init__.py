"""Execution backends other than NumPy: each lowers what it can of a compiled program to its own compiler.

A backend package ``chainrule.backends.<name>`` defines ``BACKEND`` (a ``runtime.backends.Backend``)
and is imported on first use (``cr.Session(backend="<name>")`` or ``CHAINRULE_BACKEND``), so its
compiler is an optional extra: ``import chainrule`` never imports it. The NumPy backend
(``runtime.backends.NumPyBackend``) is the default and the reference these are tested against.

- ``numba``: native CPU code through Numba (LLVM), ``pip install 'chainrule[fast]'``.
- ``dask``: one dask graph per run, on a distributed cluster, ``pip install 'chainrule[dask]'``.
- ``cupy``: a CUDA GPU through CuPy (also chosen by ``cr.device("/gpu:N")``), ``pip install 'chainrule[gpu]'``.
"""
