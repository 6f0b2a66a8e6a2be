"""A CPU stand-in for the CuPy calls the CuPy backend makes, for testing its logic on a machine without a GPU.

``StandInCupy`` is the strict array namespace (``chainrule.testing.strict_namespace``: NumPy's API
over arrays that refuse to become NumPy arrays implicitly, as CuPy's do) plus the few CuPy calls
``chainrule.backends.cupy.backend`` uses: ``ndarray``, ``asarray`` and ``asnumpy`` (counted: every
host-to-device and device-to-host copy is recorded), ``cuda.Device``, ``cuda.get_current_stream``,
``cuda.runtime.getDeviceCount``, ``random.default_rng`` (NumPy's generator behind the module's
arrays) and ``ElementwiseKernel``, which compiles the generated CUDA source as C with the
system C compiler (``compile_kernels``: the source, a header defining ``__device__`` away and
C99's ``math.h``, which has the CUDA math functions the sources use) and runs it on the host.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import subprocess
import tempfile
from collections.abc import Sequence
from typing import Any

import numpy as np

from chainrule.testing import strict_namespace as sn

HEADER = "#include <math.h>\n#include <stdbool.h>\n#define __device__\n"
_C_TYPES = {"bool": "bool", "int32": "int", "int64": "long long", "float32": "float", "float64": "double"}
_LIBRARIES: dict[str, Any] = {}  # digest of a translation unit -> its loaded library


def parse_params(params: str) -> list[tuple[str, str]]:
    """``"float64 a0, bool a1"`` as ``[("float64", "a0"), ("bool", "a1")]``."""
    return [tuple(p.split()) for p in params.split(",") if p.strip()]  # type: ignore[misc]


def c_function(name: str, in_params: str, out_params: str, operation: str) -> str:
    """The loop CuPy wraps around an elementwise ``operation``, as a C function over contiguous arrays."""
    ins = parse_params(in_params)
    ((out_type, out_name),) = parse_params(out_params)
    args = ", ".join(
        ["long long n", *(f"const {_C_TYPES[t]}* p_{v}" for t, v in ins), f"{_C_TYPES[out_type]}* p_{out_name}"]
    )
    loads = "".join(f"        const {_C_TYPES[t]} {v} = p_{v}[k];\n" for t, v in ins)
    body = "".join(f"        {line}\n" for line in operation.splitlines())
    return (
        f"void {name}({args}) {{\n    for (long long k = 0; k < n; ++k) {{\n{loads}"
        f"        {_C_TYPES[out_type]} {out_name};\n{body}        p_{out_name}[k] = {out_name};\n    }}\n}}\n"
    )


def compile_kernels(kernels: Sequence[tuple[str, str, str, str, str]]) -> Any:
    """One shared library holding every ``(name, in_params, out_params, operation, preamble)`` (one compiler call).

    Compiled as C99 with ``-Wall -Werror``: a source that is not valid C, or that C warns about
    (an implicit conversion of a pointer, an undeclared function, a variable set but unused), fails.
    """
    unit = HEADER + "".join(preamble + c_function(name, ins, outs, op) for name, ins, outs, op, preamble in kernels)
    digest = hashlib.sha1(unit.encode()).hexdigest()
    library = _LIBRARIES.get(digest)
    if library is None:
        folder = tempfile.mkdtemp(prefix="cr-cuda-c-")
        source, shared = os.path.join(folder, "kernels.c"), os.path.join(folder, "kernels.so")
        with open(source, "w") as f:
            f.write(unit)
        command = ["cc", "-std=c99", "-O1", "-fPIC", "-shared", "-Wall", "-Werror", source, "-o", shared, "-lm"]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode:
            raise AssertionError(f"the generated kernels do not compile as C:\n{done.stderr}\n--- source ---\n{unit}")
        library = _LIBRARIES[digest] = ctypes.CDLL(shared)
    return library


def run_kernel(library: Any, name: str, in_params: str, out_params: str, arrays: Sequence[Any]) -> np.ndarray:
    """Call kernel ``name`` of ``library`` on NumPy arrays (broadcast as CuPy broadcasts them)."""
    ins = parse_params(in_params)
    ((out_type, _),) = parse_params(out_params)
    shape = np.broadcast_shapes(*[np.shape(a) for a in arrays])
    inputs = [np.ascontiguousarray(np.broadcast_to(np.asarray(a, dtype=t), shape)) for a, (t, _) in zip(arrays, ins)]
    out = np.empty(shape, dtype=out_type)
    pointers = [a.ctypes.data_as(ctypes.c_void_p) for a in inputs]
    getattr(library, name)(ctypes.c_longlong(out.size), *pointers, out.ctypes.data_as(ctypes.c_void_p))
    return out


class _Kernel:
    """``ElementwiseKernel`` on the host: the generated source compiled as C, called on the arrays' data."""

    def __init__(self, module: StandInCupy, in_params: str, out_params: str, operation: str, name: str, preamble: str):
        self._module = module
        self.spec = (name, in_params, out_params, operation, preamble)
        self._library: Any = None

    def __call__(self, *arrays: Any) -> Any:
        if self._library is None:
            self._library = self._module.preloaded.get(self.spec) or compile_kernels([self.spec])
        self._module.kernel_calls.append(self.spec[0])
        name, ins, outs, _, _ = self.spec
        data = [sn.to_numpy(a) if isinstance(a, sn.ARRAY) else a for a in arrays]
        return sn.from_numpy(run_kernel(self._library, name, ins, outs, data))


class _Device:
    def __init__(self, module: StandInCupy, index: int) -> None:
        self._module, self.id = module, index

    def __enter__(self) -> _Device:
        if self.id >= self._module.devices:
            raise RuntimeError(f"cudaErrorInvalidDevice: invalid device ordinal {self.id}")
        self._module.current.append(self.id)
        return self

    def __exit__(self, *exc: Any) -> None:
        self._module.current.pop()


class _Runtime:
    def __init__(self, module: StandInCupy) -> None:
        self._module = module

    def getDeviceCount(self) -> int:  # noqa: N802 - CuPy's name
        if self._module.devices == 0:
            raise RuntimeError("cudaErrorNoDevice: no CUDA-capable device is detected")
        return self._module.devices

    def getDeviceProperties(self, index: int) -> dict[str, Any]:  # noqa: N802 - CuPy's name
        return {"name": b"CPU stand-in"}


class _Stream:
    def __init__(self, module: StandInCupy) -> None:
        self._module = module

    def synchronize(self) -> None:
        self._module.synchronizations += 1


class _Cuda:
    def __init__(self, module: StandInCupy) -> None:
        self._module = module
        self.runtime = _Runtime(module)

    def Device(self, index: int = 0) -> _Device:  # noqa: N802 - CuPy's name
        return _Device(self._module, index)

    def get_current_stream(self) -> _Stream:
        return _Stream(self._module)


class _Generator:
    """``cupy.random.Generator``'s calls the backend makes, drawing with NumPy's generator from the seed."""

    def __init__(self, module: StandInCupy, seed: int) -> None:
        self._module, self._rng = module, np.random.default_rng(seed)
        self.seed = seed

    def _device(self, value: np.ndarray) -> Any:
        return sn.from_numpy(value)

    def random(self, size: Any, dtype: Any = np.float64) -> Any:
        return self._device(self._rng.random(size, dtype=dtype))

    def standard_normal(self, size: Any, dtype: Any = np.float64) -> Any:
        return self._device(self._rng.standard_normal(size, dtype=dtype))

    def integers(self, low: int, high: int, size: Any = None, dtype: Any = np.int64) -> Any:
        return self._device(self._rng.integers(low, high, size=size, dtype=dtype))


class _Random:
    def __init__(self, module: StandInCupy) -> None:
        self._module = module

    def default_rng(self, seed: int) -> _Generator:
        self._module.seeds.append(seed)
        return _Generator(self._module, seed)


class StandInCupy(sn.StrictNumPy):
    """The CuPy calls of the backend on the host, recording copies, synchronizations and kernel calls."""

    ndarray = sn.ARRAY

    def __init__(self, devices: int = 1) -> None:
        super().__init__(np, "cupy")
        self.devices = devices
        self.current: list[int] = []
        self.to_device: list[tuple[int, ...]] = []  # shapes copied host -> device, in order
        self.to_host: list[tuple[int, ...]] = []  # shapes copied device -> host
        self.synchronizations = 0
        self.kernel_calls: list[str] = []
        self.kernels: list[_Kernel] = []
        self.seeds: list[int] = []
        self.cuda = _Cuda(self)
        self.random = _Random(self)
        self.preloaded: dict[tuple[str, str, str, str, str], Any] = {}
        self.devices_used: list[int | None] = []  # the current device at each host-to-device copy

    def preload(self, specs: Sequence[tuple[str, str, str, str, str]]) -> None:
        """Compile these kernels now, in one compiler call (a kernel made later with one of them uses it)."""
        library = compile_kernels(list(dict.fromkeys(specs)))
        self.preloaded.update((spec, library) for spec in specs)

    def asarray(self, value: Any, dtype: Any = None) -> Any:
        if isinstance(value, sn.ARRAY):
            return value if dtype is None else value.astype(dtype)
        if isinstance(value, np.ndarray):
            self.to_device.append(value.shape)
            self.devices_used.append(self.current[-1] if self.current else None)
        return sn.from_numpy(np.asarray(value, dtype=dtype))

    def asnumpy(self, value: Any) -> np.ndarray:
        if isinstance(value, sn.ARRAY):
            self.to_host.append(tuple(value.shape))
            return np.array(sn.to_numpy(value))
        return np.asarray(value)

    def ElementwiseKernel(  # noqa: N802 - CuPy's name
        self, in_params: str, out_params: str, operation: str, name: str = "kernel", preamble: str = ""
    ) -> _Kernel:
        kernel = _Kernel(self, in_params, out_params, operation, name, preamble)
        self.kernels.append(kernel)
        return kernel

    def reset_counts(self) -> None:
        self.to_device.clear()
        self.to_host.clear()
        self.kernel_calls.clear()
        self.devices_used.clear()
        self.synchronizations = 0
