"""What the ops' native lowering rules (``OpDef.lower["numba"]``) share: compiled helpers, made lazily.

A rule returns one nopython-mode expression for its op. Where Numba's NumPy subset has no
form that matches the kernel (reductions over several axes, ``keepdims``, batched matrix
products, gathers with bounds checks...), the rule generates the source of a small helper
specialized to the node's static shapes, dtypes and attributes (explicit loops over known
shapes), compiles it with ``jit`` and binds the compiled function (``lw.bind``): the region's
code calls it, and Numba compiles the call natively (no Python in between).

The convention, for every rule (documented on ``OpDef.lower``):

- **Helpers are bound compiled.** ``jit(source, name)`` execs ``source`` and returns
  ``numba.njit(...)`` of the function ``name`` it defines, memoized by source, so equal ops
  share one compiled helper (Numba compiles it once per argument types). Numba is imported on
  the first call, never when an op module is imported: rules only run inside the Numba backend.
- **Rank 0.** A rank-0 value in native code is a scalar of its dtype (what nopython code computes
  naturally) or a 0-d array (an input, or a value passed through unchanged), so rules read rank-0
  inputs through ``as_scalar`` and produce scalars where they compute one. The backend boxes
  rank-0 results at the region's edge (to the NumPy kernel's 0-d array or NumPy scalar).
- **Helpers, not region globals.** A rule's expression uses only its ``args`` and names it bound:
  it assumes nothing about the region's namespace (not even ``np``).
- **None when not handled**: unknown dims where the helper needs them, dtypes Numba cannot
  compute in (strings, float16, resources), attributes the rule does not cover. The NumPy kernel
  runs instead, so nothing changes but the speed.
- **Exact dtypes.** Helpers allocate with the output's dtype and cast every accumulator to it
  (Numba widens int32 arithmetic to int64; the static dtype must still be int32).
"""

from __future__ import annotations

import functools
import hashlib
import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from chainrule.framework.dtypes import DType

__all__ = [
    "as_scalar",
    "call",
    "constant_ints",
    "helper",
    "index",
    "jit",
    "loop_nest",
    "lower_reduction",
    "np_type",
    "reduction_axes",
    "reduction_source",
    "scalar",
    "slice_text",
    "static_dims",
]

_NUMBA_DTYPES = {
    "bool",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "float32",
    "float64",
    "complex64",
    "complex128",
}
_counter = itertools.count()


def np_type(dtype: DType | None) -> str | None:
    """The generated code's name for ``dtype`` (``"np.float32"``), or None when Numba cannot compute in it."""
    if dtype is None or dtype.name not in _NUMBA_DTYPES:
        return None
    return "np.bool_" if dtype.name == "bool" else f"np.{dtype.name}"


def static_dims(value: Any) -> tuple[int, ...] | None:
    """The fully known dims of an IR value's static shape (None: rank or a dim unknown)."""
    shape = value.shape
    if shape is None or shape.dims is None or any(d is None for d in shape.dims):
        return None
    return tuple(int(d) for d in shape.dims)


def constant_ints(value: Any) -> tuple[int, ...] | None:
    """The entries of a constant integer input (a ``Const`` node's value), or None when it is not one."""
    if value.node.op_type != "Const":
        return None
    arr = np.asarray(value.node.attrs["value"])
    if arr.dtype.kind not in "iu":
        return None
    return tuple(int(d) for d in np.ravel(arr))


def as_scalar(x: Any) -> Any:
    """The value of a rank-0 input, a scalar or a 0-d array (overloaded for Numba on first ``jit``)."""
    return x[()] if isinstance(x, np.ndarray) else x


def _numba() -> Any:
    try:
        import numba
    except ImportError as e:  # only reached from the Numba backend, which needs it anyway
        raise ImportError("the Numba lowering rules need Numba: pip install 'chainrule[fast]'") from e
    return numba


@functools.cache
def _overloads() -> None:
    from numba import types
    from numba.extending import overload

    # Unannotated: Numba compares the typing function's signature with the implementations'.
    @overload(as_scalar, inline="always")
    def _as_scalar(x):
        if isinstance(x, types.Array):
            return lambda x: x[()]
        return lambda x: x


@functools.lru_cache(maxsize=4096)
def jit(source: str, name: str) -> Any:
    """``numba.njit`` of the function ``name`` that ``source`` defines (memoized by source).

    The source sees ``np`` (NumPy) and ``as_scalar``. Compiled lazily: Numba compiles on the first
    call with concrete argument types (inside the region that calls it, at the region's compile).
    """
    numba = _numba()
    _overloads()
    # The module name hashes the source: Numba names a compiled function's symbol by its module,
    # its name and a per-process counter, and a region loaded from the disk cache carries its
    # helpers' symbols from the process that compiled it. Helpers of one name but other sources
    # (another shape's loop bounds) would otherwise link to each other across cached regions.
    digest = hashlib.sha1(source.encode()).hexdigest()[:16]
    namespace: dict[str, Any] = {"np": np, "as_scalar": as_scalar, "__name__": f"chainrule_native_helper_{digest}"}
    exec(compile(source, f"<chainrule native helper {name} #{next(_counter)}>", "exec"), namespace)
    function = namespace[name]
    # What a backend's disk cache keys a region calling this helper by (its address changes per process).
    function.__chainrule_source__ = source
    return numba.njit(nogil=True)(function)


def call(lw: Any, prefix: str, source: str, name: str, args: Sequence[str]) -> str:
    """Bind the compiled helper ``name`` of ``source`` in ``lw`` and return the expression calling it on ``args``."""
    return f"{lw.bind(prefix, jit(source, name))}({', '.join(args)})"


def index(names: Sequence[str]) -> str:
    """An index expression for ``names`` (``"[i0, i1]"``); ``"[()]"`` for no index (a 0-d array's element)."""
    return f"[{', '.join(names)}]" if names else "[()]"


def loop_nest(dims: Sequence[int], variables: Sequence[str], body: Sequence[str], indent: int = 1) -> list[str]:
    """Source lines: ``for`` loops over ``dims`` (one variable each, outermost first) around ``body``."""
    lines = []
    for depth, (d, v) in enumerate(zip(dims, variables)):
        lines.append("    " * (indent + depth) + f"for {v} in range({d}):")
    pad = "    " * (indent + len(dims))
    lines.extend(pad + line for line in body)
    return lines


# --- reductions over static axes (Sum, Max, Min, Prod, All, Any, SumToShape, LogSumExpShift) --------
_INITIAL = {"sum": "0", "prod": "1", "all": "True", "any": "False"}


def _initial(kind: str, dtype: DType) -> str | None:
    if kind in _INITIAL:
        return _INITIAL[kind]
    np_dtype = np.dtype(dtype.as_numpy_dtype)
    if np_dtype.kind == "f":
        return "-np.inf" if kind == "max" else "np.inf"
    if np_dtype.kind in "iu":
        info = np.iinfo(np_dtype)
        return str(int(info.min if kind == "max" else info.max))
    return None  # max/min of complex or bool: not lowered


def _combine(kind: str, acc: str, v: str, dt: str) -> list[str]:
    """Statements folding element ``v`` into the accumulator ``acc`` (an lvalue)."""
    if kind == "sum":
        return [f"{acc} = {dt}({acc} + {v})"]
    if kind == "prod":
        return [f"{acc} = {dt}({acc} * {v})"]
    if kind == "all":
        return [f"{acc} = {acc} and {v}"]
    if kind == "any":
        return [f"{acc} = {acc} or {v}"]
    # max/min propagate nan as NumPy does: a nan replaces the accumulator, and nothing replaces a nan.
    cmp = ">" if kind == "max" else "<"
    return [f"if {v} {cmp} {acc} or {v} != {v}:", f"    {acc} = {v}"]


def reduction_source(
    kind: str,
    dtype: DType,
    in_dims: Sequence[int],
    axes: Sequence[int],
    out_dims: Sequence[int],
    finite_or_zero: bool = False,
) -> tuple[str, str] | None:
    """``(source, name)`` of a helper reducing an array of ``in_dims`` over ``axes`` to ``out_dims``.

    ``kind``: ``"sum"``, ``"prod"``, ``"max"``, ``"min"``, ``"all"``, ``"any"``. ``out_dims`` has
    the kept dims in order, with or without the reduced ones as 1 (any reshape of them).
    ``finite_or_zero`` replaces a non-finite result by 0 (``LogSumExpShift``'s shift). One pass
    over the input in memory order, accumulating in the output's dtype; None when not handled.
    """
    dt = np_type(dtype)
    init = _initial(kind, dtype)
    if dt is None or init is None:
        return None
    rank = len(in_dims)
    reduced = set(axes)
    if kind in ("max", "min") and not finite_or_zero and any(in_dims[a] == 0 for a in reduced):
        return None  # NumPy raises (a max of nothing): the kernel gives that error
    variables = [f"i{k}" for k in range(rank)]
    x = f"x{index(variables)}" if rank else "as_scalar(x)"
    name = f"reduce_{kind}"
    lines = [f"def {name}(x):"]
    if reduced >= set(range(rank)):
        # Everything reduced: a scalar accumulator (in a register), reshaped at the end if kept dims.
        lines.append(f"    acc = {dt}({init})")
        lines += loop_nest(in_dims, variables, ["v = " + x, *_combine(kind, "acc", "v", dt)])
        if finite_or_zero:
            lines.append("    if not np.isfinite(acc):")
            lines.append(f"        acc = {dt}(0)")
        if out_dims:
            lines.append(f"    return np.full({tuple(out_dims)}, acc, {dt})")
        else:
            lines.append("    return acc")
        return "\n".join(lines) + "\n", name
    kept = tuple(1 if k in reduced else d for k, d in enumerate(in_dims))
    out_index = index(["0" if k in reduced else v for k, v in enumerate(variables)])
    lines.append(f"    out = np.full({kept}, {init}, {dt})")
    lines += loop_nest(in_dims, variables, ["v = " + x, *_combine(kind, "out" + out_index, "v", dt)])
    if finite_or_zero:
        kept_vars = [f"k{k}" for k in range(rank)]
        lines += loop_nest(
            kept,
            kept_vars,
            [f"if not np.isfinite(out{index(kept_vars)}):", f"    out{index(kept_vars)} = 0"],
        )
    lines.append(f"    return out.reshape({tuple(out_dims)})" if tuple(out_dims) != kept else "    return out")
    return "\n".join(lines) + "\n", name


def reduction_axes(axis: Any, rank: int) -> tuple[int, ...]:
    """A reduction's ``axis`` attribute (None: all) as sorted non-negative axes of a rank-``rank`` input."""
    if axis is None:
        return tuple(range(rank))
    if rank == 0:
        return ()
    return tuple(sorted({int(a) % rank for a in axis}))


def lower_reduction(kind: str) -> Any:
    """The Numba rule of a reduction op ``(x, axis=, keepdims=)`` of ``kind`` (see ``reduction_source``)."""

    def rule(lw: Any, node: Any, args: Sequence[str]) -> str | None:
        dims, out = static_dims(node.inputs[0]), static_dims(node.out)
        if dims is None or out is None:
            return None
        made = reduction_source(kind, node.out.dtype, dims, reduction_axes(node.attrs.get("axis"), len(dims)), out)
        return None if made is None else call(lw, kind, *made, args[:1])

    return rule


def helper(lw: Any, prefix: str, params: Sequence[str], body: Sequence[str], args: Sequence[str]) -> str:
    """Compile ``def <prefix>(params): body`` (lines, indented one level) and return the call on ``args``."""
    source = f"def {prefix}({', '.join(params)}):\n" + "".join(f"    {line}\n" for line in body)
    return call(lw, prefix, source, prefix, args)


def scalar(lw: Any, arg: str) -> str:
    """The expression reading a rank-0 input ``arg`` (a scalar or a 0-d array) as a scalar."""
    return helper(lw, "scalar", ["x"], ["return as_scalar(x)"], [arg])


def slice_text(start: Any, stop: Any, step: Any) -> str:
    """A slice in index syntax (``"1:3"``, ``"::-1"``), None bounds left out."""
    text = f"{'' if start is None else start}:{'' if stop is None else stop}"
    return text + (f":{step}" if step is not None else "")
