"""The Numba backend: runs of a plan's ops become native functions compiled by Numba (LLVM).

``cr.Session(backend="numba")`` (or ``CHAINRULE_BACKEND=numba``). A plan stays a generated Python
function; each *region* (a maximal run of ops that lower: elementwise ops and fused groups as
explicit loops over their static shapes, ops whose declaration has a ``lower["numba"]`` rule)
is one ``@numba.njit`` function it calls, and every other op runs its NumPy kernel. See
``docs/architecture.md``, "Backends and the Numba backend".
"""

from __future__ import annotations

try:
    import numba as _numba  # noqa: F401 - the optional compiler, checked here so the message names the extra
except ImportError as e:  # pragma: no cover - exercised where numba is not installed
    raise ImportError(
        "The 'numba' backend needs Numba: install it with pip install 'chainrule[fast]' (or pip install numba)."
    ) from e

from chainrule.backends.numba.backend import NumbaBackend

BACKEND = NumbaBackend()

__all__ = ["BACKEND", "NumbaBackend"]
