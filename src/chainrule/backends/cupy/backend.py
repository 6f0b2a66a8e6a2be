"""The CuPy backend's logic, written against a CuPy-like module passed in (CuPy itself, or a CPU stand-in).

Nothing here imports CuPy: ``chainrule.backends.cupy`` imports it, checks for a device and makes
``BACKEND = CupyBackend(cupy)``. The CuPy calls this module makes are the whole of what the
backend needs from CuPy beyond the NumPy API its kernels use: ``ndarray``, ``asarray`` (host to
device), ``asnumpy`` (device to host), ``cuda.Device(i)`` (a context selecting the device),
``cuda.get_current_stream().synchronize()``, ``cuda.runtime.getDeviceCount()``,
``random.default_rng(seed)`` with ``random``, ``standard_normal`` and ``integers``, ``argsort``,
and ``ElementwiseKernel``.

Where values live:

* feeds are copied to the device once per run (``to_module``), constants once per plan;
* variables live in device memory between runs: the Session's state holds a ``DeviceValue`` per
  variable (its ``value`` a device array), read without a copy and replaced by the run's update
  when the run succeeded; a run that fails leaves every variable as it was;
* fetches come back as NumPy arrays, all of a run together after one synchronization, unless
  the backend was made with ``fetch="device"`` (then they are CuPy arrays, and no copy is made);
* a ``numpy_only`` op runs on host copies of its inputs, its result copied back.

Kernels: every op's kernel runs with the module as ``xp`` (so ``matmul``, ``einsum``, reductions
and ``xp.linalg.*`` are CuPy's, cuBLAS and cuSOLVER; ``conv2d`` is CuPy's
``lib.stride_tricks.sliding_window_view`` and ``tensordot``, an im2col matmul); each fused
elementwise region of the compiler (``kernels.region_source``) is one ``ElementwiseKernel``;
random ops draw from ``module.random`` generators, one per op, seeded from the op's own stream
under chainrule's seed rule (``RunState.random_generator``), so an op or graph seed makes a
CuPy run reproducible (its values are CuPy's generator's, not NumPy's).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from chainrule.backends.array_module import ArrayModuleBackend
from chainrule.backends.cupy.kernels import ElementwiseSource, region_source
from chainrule.compiler.ir import Node, Program
from chainrule.framework import errors
from chainrule.ops.random_ops import TRUNCATION
from chainrule.ops.registry import OpDef, registered_ops
from chainrule.runtime.feeds import cast_device_feed, check_feed_shape
from chainrule.runtime.plan import Executable, LoopPrograms, RunState

__all__ = ["FETCH_MODES", "RANDOM_OPS", "CupyBackend", "DeviceValue", "check_device", "lowerings"]

FETCH_MODES = ("numpy", "device")
RANDOM_OPS = frozenset(
    ["RandomStandardNormal", "RandomUniform", "RandomUniformInt", "TruncatedNormal", "RandomShuffle"]
)


def check_device(module: Any, device: int) -> int:
    """How many CUDA devices ``module`` sees; UnavailableError naming the device when ``device`` is not one of them."""
    try:
        count = int(module.cuda.runtime.getDeviceCount())
    except Exception as e:  # noqa: BLE001 - CuPy raises CUDARuntimeError (no driver, no device)
        raise errors.UnavailableError(
            None,
            None,
            f"The 'cupy' backend needs a CUDA GPU: CuPy is installed but found no device for /gpu:{device} "
            f"({type(e).__name__}: {e})",
        ) from e
    if not 0 <= device < count:
        raise errors.UnavailableError(
            None,
            None,
            f"The 'cupy' backend was asked for /gpu:{device}, but CuPy sees {count} CUDA device"
            f"{'' if count == 1 else 's'}" + (f" (/gpu:0 to /gpu:{count - 1})" if count else ""),
        )
    return count


class DeviceValue:
    """A variable's value held in device memory between runs (what ``sess.run_state.variables`` holds here).

    ``value`` is the device array; ``numpy()`` copies it to the host. It is deliberately not an
    array itself (no ``__array__``), so nothing copies it to the host without saying so.
    """

    __slots__ = ("_module", "value")

    def __init__(self, value: Any, module: Any) -> None:
        self.value = value
        self._module = module

    def numpy(self) -> np.ndarray:
        return np.asarray(self._module.asnumpy(self.value))

    def __repr__(self) -> str:
        return f"<DeviceValue {self.value.dtype}{tuple(self.value.shape)}>"


class CupyBackend(ArrayModuleBackend):
    """Plans on a CUDA GPU through CuPy: device-resident variables, one copy in and out per run.

    Parameters
    ----------
    module : CuPy (or a stand-in with the calls listed in this module's docstring).
    device : the CUDA device index (``/gpu:<device>``) every run of this backend uses.
    fetch : ``"numpy"`` (fetches copied to the host, as NumPy arrays) or ``"device"`` (CuPy arrays).
    elementwise_kernels : emit each fused elementwise region as one ``ElementwiseKernel``
        (False: its members run as CuPy ufuncs, one kernel each).
    """

    name = "cupy"

    def __init__(self, module: Any, device: int = 0, fetch: str = "numpy", elementwise_kernels: bool = True) -> None:
        if fetch not in FETCH_MODES:
            raise ValueError(f"fetch must be one of {', '.join(map(repr, FETCH_MODES))}, got {fetch!r}")
        super().__init__(module)
        self.device = int(device)
        self.fetch = fetch
        self.elementwise_kernels = elementwise_kernels
        self.host_fetches = fetch == "numpy"
        self._kernels: dict[ElementwiseSource, Any] = {}
        self._generators: dict[int, tuple[np.random.Generator, Any]] = {}

    @property
    def array_module(self) -> Any:
        return self.module

    def configure(self, **settings: Any) -> CupyBackend:
        allowed = {"device", "fetch", "elementwise_kernels"}
        unknown = sorted(set(settings) - allowed)
        if unknown:
            raise TypeError(f"The 'cupy' backend takes {', '.join(sorted(allowed))}, got {', '.join(unknown)}")
        merged: dict[str, Any] = {
            "device": self.device,
            "fetch": self.fetch,
            "elementwise_kernels": self.elementwise_kernels,
        }
        merged.update(settings)
        if merged["device"] != self.device:
            check_device(self.module, int(merged["device"]))
        return CupyBackend(self.module, **merged)

    # --- crossing between host and device -------------------------------------------------------
    def to_module(self, xp: Any, value: Any) -> Any:
        if isinstance(value, self.module.ndarray):
            return value  # already on the device (a fed CuPy array)
        return self.module.asarray(value)

    def state_to_module(self, xp: Any, value: Any) -> Any:
        if isinstance(value, DeviceValue):
            return value.value  # a variable in device memory: read without a copy
        return self.to_module(xp, value)

    def to_host(self, value: Any) -> Any:
        return np.asarray(self.module.asnumpy(value)) if isinstance(value, self.module.ndarray) else value

    def to_numpy(self, values: Sequence[Any]) -> list[Any]:
        return [self.to_host(v) for v in values]

    def finish_run(self, results: Sequence[Any], updates: Sequence[Any]) -> tuple[list[Any], list[Any]]:
        # One synchronization: a kernel that failed on the device fails the run here, before any commit.
        self.module.cuda.get_current_stream().synchronize()
        fetched = self.to_numpy(results) if self.fetch == "numpy" else list(results)
        return fetched, [DeviceValue(self.to_module(self.module, u), self.module) for u in updates]

    def convert_feed(self, element: Any, value: Any) -> Any:
        if isinstance(value, self.module.ndarray):  # a CuPy feed stays on the device
            value = cast_device_feed(element, value, "a CuPy array")
            check_feed_shape(element, value)
            return value
        return super().convert_feed(element, value)

    # --- kernels ----------------------------------------------------------------------------------
    def elementwise(self, source: ElementwiseSource) -> Callable[..., Any]:
        """The kernel running ``source`` (made once per source; CuPy compiles it on first call)."""
        kernel = self._kernels.get(source)
        if kernel is None:
            kernel = self._kernels.setdefault(source, source.kernel(self.module))
        ndarray = self.module.ndarray
        asarray = self.module.asarray

        def run(*arrays: Any) -> Any:
            return kernel(
                *[asarray(a) if isinstance(a, np.ndarray) and not isinstance(a, ndarray) else a for a in arrays]
            )

        return run

    def fused_kernel(self, node: Node, xp: Any) -> Callable[..., Any] | None:
        source = region_source(node) if self.elementwise_kernels else None
        return self.elementwise(source) if isinstance(source, ElementwiseSource) else None

    def wrap_kernel(self, node: Node, kernel: Callable[..., Any]) -> Callable[..., Any]:
        if node.op_type == "LinalgDiagEmbed" and "." not in node.attrs["subs_in"] + node.attrs["subs_out"]:
            # Its NumPy kernel writes through the writable view NumPy's einsum returns; CuPy's need not be one.
            return functools.partial(_diag_embed, self.module, node.attrs["subs_in"], node.attrs["subs_out"])
        if self.elementwise_kernels and node.op_type != "Fused":
            source = region_source(node)  # an op of several steps alone (Sigmoid: four ufuncs, one kernel)
            if isinstance(source, ElementwiseSource):
                return self.elementwise(source)
        return kernel

    def stateful_kernel(self, node: Node, xp: Any, ctx: Any) -> Callable[..., Any] | None:
        if node.op_type not in RANDOM_OPS:
            return None
        draw = _RANDOM[node.op_type]
        return functools.partial(draw, self, ctx, node.origin, dict(node.attrs))

    def generator(self, ctx: Any, op: Any) -> Any:
        """The op's ``module.random`` generator, seeded once from the op's chainrule stream (the seed rule's)."""
        stream = ctx.random_generator(op)  # the same NumPy stream, run after run, for the same op
        entry = self._generators.get(id(stream))
        if entry is None or entry[0] is not stream:
            seed = int(stream.integers(0, np.iinfo(np.int64).max))
            entry = self._generators[id(stream)] = (stream, self.module.random.default_rng(seed))
        return entry[1]

    def size(self, shape: Any) -> tuple[int, ...]:
        size = tuple(int(d) for d in np.asarray(self.to_host(shape)).reshape(-1))
        if any(d < 0 for d in size):
            raise ValueError(f"shape {list(size)} has negative dimensions")
        return size

    # --- plans on the device ----------------------------------------------------------------------
    def build(self, program: Program, xp: Any, state: RunState, options: Any) -> Executable:
        with self.module.cuda.Device(self.device):
            return _OnDevice(super().build(program, self.module, state, options), self)

    def build_loop(self, loop: LoopPrograms, xp: Any, state: RunState, options: Any) -> Executable:
        with self.module.cuda.Device(self.device):
            return super().build_loop(loop, self.module, state, options)

    def __repr__(self) -> str:
        return f"<chainrule backend 'cupy' on /gpu:{self.device}, fetches as {self.fetch}>"


class _OnDevice(Executable):
    """A plan's runs with the backend's device current (CuPy allocates on the current device)."""

    def __init__(self, inner: Executable, backend: CupyBackend) -> None:
        self._inner = inner
        self._backend = backend
        self.source = getattr(inner, "source", None)

    def run(self, feed_values: Sequence[Any]) -> list[Any]:
        with self._backend.module.cuda.Device(self._backend.device):
            return self._inner.run(feed_values)


def _diag_embed(module: Any, subs_in: str, subs_out: str, u: Any) -> Any:
    """``LinalgDiagEmbed``: ``u`` (subscripts ``subs_in``) on the diagonals of zeros (``subs_out``), by indexing."""
    size = dict(zip(subs_in, u.shape, strict=False))
    out = module.zeros(tuple(size[c] for c in subs_out), dtype=u.dtype)
    rank = len(subs_in)
    # Axis c of ``out`` is indexed by the position along c's axis of ``u``: one index grid per letter.
    grids = {
        c: module.arange(size[c]).reshape(tuple(size[c] if j == k else 1 for j in range(rank)))
        for k, c in enumerate(subs_in)
    }
    out[tuple(grids[c] for c in subs_out)] = u
    return out


# --- random ops on the module's generators -----------------------------------------------------------
def _float_dtype(attrs: dict[str, Any]) -> tuple[np.dtype, np.dtype]:
    """The op's dtype, and the one to draw in (the generators draw float32 and float64; float16 is cast)."""
    dtype = np.dtype(attrs["dtype"].as_numpy_dtype)
    return dtype, dtype if dtype in (np.dtype(np.float32), np.dtype(np.float64)) else np.dtype(np.float64)


def _normal(backend: CupyBackend, ctx: Any, op: Any, attrs: dict[str, Any], shape: Any) -> Any:
    dtype, native = _float_dtype(attrs)
    return backend.generator(ctx, op).standard_normal(backend.size(shape), dtype=native).astype(dtype, copy=False)


def _uniform(backend: CupyBackend, ctx: Any, op: Any, attrs: dict[str, Any], shape: Any) -> Any:
    dtype, native = _float_dtype(attrs)
    return backend.generator(ctx, op).random(backend.size(shape), dtype=native).astype(dtype, copy=False)


def _uniform_int(backend: CupyBackend, ctx: Any, op: Any, attrs: dict[str, Any], shape: Any, lo: Any, hi: Any) -> Any:
    low, high = int(backend.to_host(lo)), int(backend.to_host(hi))
    if not low < high:
        raise ValueError(f"Need minval < maxval, got minval={low} and maxval={high}")
    dtype = np.dtype(attrs["dtype"].as_numpy_dtype)
    return backend.generator(ctx, op).integers(low, high, size=backend.size(shape), dtype=dtype)


def _truncated_normal(backend: CupyBackend, ctx: Any, op: Any, attrs: dict[str, Any], shape: Any) -> Any:
    # Draws outside the bounds are drawn again (TensorFlow's rule), on the device.
    dtype = np.dtype(attrs["dtype"].as_numpy_dtype)
    rng = backend.generator(ctx, op)
    out = rng.standard_normal(backend.size(shape), dtype=np.float64)
    bad = abs(out) > TRUNCATION
    count = int(bad.sum())
    while count:
        out[bad] = rng.standard_normal((count,), dtype=np.float64)
        bad = abs(out) > TRUNCATION
        count = int(bad.sum())
    return out.astype(dtype, copy=False)


def _shuffle(backend: CupyBackend, ctx: Any, op: Any, attrs: dict[str, Any], value: Any) -> Any:
    if value.ndim == 0:
        return value
    order = backend.module.argsort(backend.generator(ctx, op).random((value.shape[0],)))
    return value[order]


_RANDOM: dict[str, Callable[..., Any]] = {
    "RandomStandardNormal": _normal,
    "RandomUniform": _uniform,
    "RandomUniformInt": _uniform_int,
    "TruncatedNormal": _truncated_normal,
    "RandomShuffle": _shuffle,
}
assert set(_RANDOM) == RANDOM_OPS


# --- what runs how ------------------------------------------------------------------------------------
def lowerings() -> dict[str, str]:
    """How the CuPy backend runs each registered op: ``{op type: form}``.

    ``"elementwise"``: ufunc steps, fused into ``ElementwiseKernel`` regions (an op alone: CuPy's
    ufunc, or one kernel when it has several steps); ``"cupy.random"``: the op's generator on the
    device; ``"cupy.linalg"``: its kernel calls ``xp.linalg`` (cuSOLVER, cuBLAS); ``"host"``: a
    ``numpy_only`` op, run with NumPy on host copies; ``"state"``: variables, in device memory;
    ``"cupy"``: its ``xp`` kernel, with CuPy's functions.
    """
    forms = {}
    for name, op_def in registered_ops().items():
        forms[name] = _form(name, op_def)
    return forms


_STATE_OPS = frozenset(["VariableV2", "ReadVariable", "Assign", "AssignAdd", "AssignSub"])


def _form(name: str, op_def: OpDef) -> str:
    if op_def.numpy_only is not None:
        return "host"
    if name in RANDOM_OPS:
        return "cupy.random"
    if name in _STATE_OPS:
        return "state"
    if op_def.steps is not None:
        return "elementwise"
    try:
        source = inspect.getsource(op_def.kernel)
    except (OSError, TypeError):
        source = ""
    return "cupy.linalg" if "xp.linalg." in source else "cupy"
