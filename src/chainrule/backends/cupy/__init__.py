"""The CuPy backend: ``cr.Session(backend="cupy")``, or a graph built under ``with cr.device("/gpu:0")``.

Runs every plan on a CUDA GPU through CuPy (``pip install 'chainrule[gpu]'``): variables stay in
device memory between runs, feeds are copied to the device once per run, fetches come back as
NumPy arrays (``cupy_backend(fetch="device")`` returns CuPy arrays instead), each fused
elementwise region of the compiler is one ``cupy.ElementwiseKernel``, random ops draw from
``cupy.random`` generators under chainrule's seed rule, and linalg and conv ops run CuPy's
functions. See ``backend`` for the details and ``kernels`` for the generated CUDA sources.

This package imports without CuPy (its ``kernels`` and ``backend`` modules never import it);
``BACKEND``, what ``cr.Session(backend="cupy")`` asks for, imports CuPy on first use and checks
that it sees a CUDA device: without CuPy the ImportError names the ``gpu`` extra; without a
device, ``errors.UnavailableError`` says so. ``import chainrule`` imports none of this.
"""

from __future__ import annotations

import importlib
import threading
from typing import Any

from chainrule.backends.cupy.backend import FETCH_MODES, CupyBackend, DeviceValue, check_device, lowerings

__all__ = ["BACKEND", "FETCH_MODES", "CupyBackend", "DeviceValue", "cupy_backend", "import_cupy", "lowerings"]

MISSING = (
    "The 'cupy' backend needs CuPy and a CUDA GPU: install the extra with pip install 'chainrule[gpu]' "
    "(the cupy-cuda12x wheel; for another CUDA version install its cupy-cudaXXx wheel instead)"
)
_LOCK = threading.Lock()
_BACKEND: list[CupyBackend] = []


def import_cupy() -> Any:
    """CuPy, imported now; ImportError naming the ``gpu`` extra when it is not installed."""
    try:
        return importlib.import_module("cupy")
    except ImportError as e:
        raise ImportError(MISSING) from e


def __getattr__(name: str) -> Any:
    if name != "BACKEND":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    with _LOCK:
        if not _BACKEND:
            cupy = import_cupy()
            check_device(cupy, 0)
            _BACKEND.append(CupyBackend(cupy))
        return _BACKEND[0]


def cupy_backend(device: int = 0, fetch: str = "numpy", elementwise_kernels: bool = True) -> CupyBackend:
    """The CuPy backend on ``/gpu:<device>``; ``fetch="device"``: ``sess.run`` returns CuPy arrays (no host copy).

    Examples
    --------
    >>> from chainrule.backends.cupy import cupy_backend
    >>> with cr.Session(backend=cupy_backend(fetch="device")) as sess:  # doctest: +SKIP
    ...     y_on_gpu = sess.run(y, {x: batch})
    """
    backend: CupyBackend = __getattr__("BACKEND")
    return backend.configure(device=device, fetch=fetch, elementwise_kernels=elementwise_kernels)
