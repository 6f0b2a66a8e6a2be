"""Native regions: maximal runs of a program's nodes that lower, each compiled into one njit function.

``partition`` scans the program in order. A node that lowers joins the open region; a node that
does not (a stateful op, a ``py_func``, an unknown shape or dtype, an op without a lowering) runs
its NumPy kernel outside it, and closes the region only when it reads a value the region makes:
the region's call comes where its last member was, so every value it reads exists by then.
Constants are arguments of the region's function (never frozen into its code), so equal
regions of different graphs share one compiled function and Numba's disk cache.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numba
import numpy as np
from numba.np.numpy_support import as_dtype

from chainrule.backends.numba import cache
from chainrule.backends.numba.lowering import Lowerer, Names, lower_node, numpy_type, static_shape
from chainrule.backends.numba.repeats import repeat_cuts
from chainrule.compiler.codegen import Emitter, Line, node_steps
from chainrule.compiler.ir import FEED, Node, Program, Value

# A region's function grows by at most this many source lines; a longer run is split in regions.
# Numba's compile time grows faster than linearly with a function's length: the unrolled ADBench
# LSTM gradient (23,000 lines) compiles in 19 s as regions of at most 300 lines, 40 s with 3,000.
MAX_REGION_LINES = 300
# The lines a plan compiles at most (0.8-6 ms a line, idle to shared machine; equal regions count
# once): the regions that save the least run time per line past it run on NumPy.
MAX_PLAN_LINES = 1500
# What one call of a lowering rule's helper (``ops.native``) costs Numba to compile, in region lines:
# measured on the unrolled ADBench LSTM gradient, whose 12 regions of 300 lines (each calling helpers
# of 6 kinds, shared, about a hundred times) took 41 s cold before the calls counted.
HELPER_LINES = 40
# What compiling a region costs however short it is, in lines (a 2-line region took 0.13 s, as 25 lines do).
REGION_LINES = 25


@dataclass
class RegionSpec:
    """A region being formed: its members, the values it reads, and its function's body lines."""

    lw: Lowerer = field(default_factory=Lowerer)
    names: Names = field(default_factory=Names)
    members: list[Node] = field(default_factory=list)
    inputs: list[Value] = field(default_factory=list)
    body: list[str] = field(default_factory=list)
    # The kept arrays members write their results into (parameters b<k>, after the inputs).
    buffers: list[np.ndarray] = field(default_factory=list)
    # The values it returns: those read outside it or fetched (set by ``partition``, in order of making).
    outputs: list[Value] = field(default_factory=list)

    def compile_cost(self) -> int:
        """Its compile cost in lines: ``REGION_LINES``, its body, and ``HELPER_LINES`` per call of a rule's helper."""
        helpers = [
            name
            for name, value in self.lw.globals.items()
            if hasattr(getattr(value, "py_func", None), "__chainrule_source__")
        ]
        calls = sum(line.count(f"{name}(") for line in self.body for name in helpers)
        return REGION_LINES + len(self.body) + HELPER_LINES * calls

    def try_add(self, node: Node, buffer: np.ndarray | None = None) -> bool:
        """Lower ``node`` into this region; False (and the region unchanged) when it does not lower."""
        new = [v for v in dict.fromkeys(node.inputs) if v not in self.names.of]
        for k, v in enumerate(new):
            self.names.of[v] = f"a{len(self.inputs) + k}"
        into = f"b{len(self.buffers)}" if buffer is not None else None
        lines = lower_node(self.lw, node, self.names, into)
        if lines is None:
            for v in new:
                del self.names.of[v]
            return False
        if into is not None and any(line.startswith(f"{self.names.of[node.out]} = {into}") for line in lines):
            self.buffers.append(buffer)  # type: ignore[arg-type]
        self.inputs.extend(new)
        self.members.append(node)
        self.body.extend(lines)
        return True


def partition(
    program: Program, max_lines: int = MAX_REGION_LINES, buffers: dict[Node, np.ndarray] | None = None
) -> tuple[list[RegionSpec], list[str]]:
    """The program's native regions, in order, and notes on where and why runs were split.

    ``buffers``: kept arrays that nodes may write their results into (each its own array: the
    region computes its members at its call, not where they were, so arrays shared by lifetimes
    in program order could overlap).
    """
    regions: list[RegionSpec] = []
    notes: list[str] = []
    current: RegionSpec | None = None
    made: set[Value] = set()  # values the open region makes
    nodes = [node for node in program.nodes if node.op_type != "Const"]  # bound by the plan, passed to regions
    cuts = repeat_cuts(nodes)
    for position, node in enumerate(nodes):
        if position in cuts:
            current, made = None, set()  # each copy of a repeated run its own (equal) region
        region = current if current is not None else RegionSpec()
        if region.try_add(node, (buffers or {}).get(node)):
            if current is None:
                current = region
                regions.append(region)
            made.update(node.outputs)
            if len(current.body) >= max_lines:
                notes.append(
                    f"native region {len(regions)} split after {len(current.members)} ops: its function reached "
                    f"{len(current.body)} lines (MAX_REGION_LINES = {max_lines}, to bound Numba's compile time)"
                )
                current, made = None, set()
            continue
        if current is not None and (
            any(v in made for v in node.inputs) or any(c in current.members for c in node.control)
        ):
            current, made = None, set()
    _set_outputs(program, regions)
    return regions, notes


def _set_outputs(program: Program, regions: Sequence[RegionSpec]) -> None:
    """Each region's ``outputs``: the values its members make that are read outside it or fetched."""
    readers: dict[Value, list[Node]] = {}
    for n in program.nodes:
        for v in n.inputs:
            readers.setdefault(v, []).append(n)
    fetched = set(program.outputs)
    for spec in regions:
        members = set(spec.members)
        spec.outputs = [
            v
            for m in spec.members
            for v in m.outputs
            if v in fetched or any(r not in members for r in readers.get(v, ()))
        ]


# What a call costs, in microseconds (measured on 14-element arrays: a native call of 2 arrays
# 0.6 us, of 4 arrays returning 2 1.1 us; a NumPy ufunc call 0.3-0.35 us, a kernel call about 1 us).
NATIVE_CALL_US, NATIVE_ARGUMENT_US, NATIVE_RESULT_US = 0.3, 0.15, 0.1
NUMPY_STEP_US, NUMPY_KERNEL_US = 0.35, 1.0
SMALL_ELEMENTS = 2048  # above this, the work in the loops outweighs the calls


def saving_us(spec: RegionSpec) -> float:
    """The run time a region's native call is expected to save per run over its ops' NumPy calls, in microseconds.

    On small arrays a region of one or two cheap ops with several arguments is slower native
    (Numba checks each argument's type per call) than as NumPy ufunc calls. A region with a
    result of more than ``SMALL_ELEMENTS`` elements saves more than any small one (inf).
    """
    if any(int(np.prod(static_shape(v))) > SMALL_ELEMENTS for m in spec.members for v in m.outputs):
        return float("inf")
    numpy_us = 0.0
    for m in spec.members:
        members = m.extra.members if m.op_type == "Fused" else [m]
        for member in members:
            steps = node_steps(member)
            numpy_us += NUMPY_KERNEL_US if steps is None else NUMPY_STEP_US * len(steps)
    native_us = NATIVE_CALL_US + NATIVE_ARGUMENT_US * len(spec.inputs) + NATIVE_RESULT_US * len(spec.outputs)
    return numpy_us - native_us


def worth_compiling(program: Program, spec: RegionSpec) -> bool:
    """Whether the region's native call is expected to cost less than its ops' NumPy calls (``saving_us``)."""
    return saving_us(spec) >= 0


def within_budget(specs: Sequence[RegionSpec], budget: int) -> tuple[list[RegionSpec], list[RegionSpec]]:
    """The regions to compile within ``budget`` compile lines, and those left to NumPy (both in program order).

    Equal regions (``region_identity``: the copies of a repeated run) compile once, so they are
    charged once and save once per copy. Distinct regions are taken by the run time they save
    per compiled line, most first, while they fit: the budget goes where it pays most (the
    LSTM's step, called 63 times, before a one-off region of the same length).
    """
    groups: dict[tuple[Any, ...], list[RegionSpec]] = {}
    for spec in specs:
        groups.setdefault(region_identity(spec), []).append(spec)

    def rate(copies: list[RegionSpec]) -> float:
        return saving_us(copies[0]) * len(copies) / max(1, copies[0].compile_cost())

    chosen: set[int] = set()
    for copies in sorted(groups.values(), key=rate, reverse=True):
        cost = copies[0].compile_cost()
        if cost <= budget:
            budget -= cost
            chosen.update(id(spec) for spec in copies)
    return [s for s in specs if id(s) in chosen], [s for s in specs if id(s) not in chosen]


def _argument_type(v: Value) -> Any:
    """The Numba type ``v`` most likely has at run time (another one compiles another version on first use).

    Arrays are contiguous; a rank-0 value is a 0-d array when fed, else a scalar (NumPy's ufuncs,
    and the plan's constants and region results, give scalars).
    """
    dtype = numba.from_dtype(np.dtype(v.dtype.as_numpy_dtype))
    rank = len(static_shape(v))
    if rank or v.node.op_type == FEED:
        return numba.types.Array(dtype, rank, "C")
    return dtype


def constant_argument(v: Value) -> Any:
    """A constant as a region reads it: a NumPy scalar at rank 0, else a writeable contiguous array.

    (A read-only array is another Numba type than the one the region was compiled for.)
    """
    value = np.asarray(v.node.attrs["value"], dtype=v.dtype.as_numpy_dtype)
    if value.ndim == 0:
        return value[()]
    return value if value.flags.c_contiguous and value.flags.writeable else np.array(value, order="C")


class NativeRegion:
    """A compiled region: what the plan's code calls (``codegen.Region``)."""

    def __init__(self, spec: RegionSpec, outputs: Sequence[Value], dispatcher: Any, where: str, source: str) -> None:
        self.members = list(spec.members)
        self.inputs = list(spec.inputs)
        self.buffers = list(spec.buffers)
        self.outputs = list(outputs)
        self.compile_cost = spec.compile_cost()  # what it counted against the plan's budget (max_plan_lines)
        self.dispatcher = dispatcher
        self.where = where
        self.source = source

    def lines(self, em: Emitter, args: Sequence[str], targets: Sequence[str]) -> list[Line]:
        fn = em.bind("native", self.dispatcher)
        args = [
            em.bind("c", constant_argument(v)) if v.node.op_type == "Const" else a for v, a in zip(self.inputs, args)
        ]
        kept = [em.bind("buf", b) for b in self.buffers]
        call = f"{fn}({', '.join([*args, *kept])})"
        last = self.members[-1]
        if len(targets) == 1:
            out = [Line((targets[0],), call, last, tuple(args))]
        elif targets:
            out = [Line(tuple(targets), call, last, tuple(args))]
        else:
            out = [Line((), call, last, tuple(args))]
        for v, t in zip(self.outputs, targets):
            if not static_shape(v):  # Numba returns Python scalars: back to the NumPy scalar type
                box = em.bind("box", np.dtype(v.dtype.as_numpy_dtype).type)
                out.append(Line((t,), f"{box}({t})"))
        return out


def region_source(spec: RegionSpec, outputs: Sequence[Value]) -> str:
    """``def region(p0, ...)``: the region's function (without its decorator)."""
    params = [f"p{k}" for k in range(len(spec.inputs))] + [f"b{k}" for k in range(len(spec.buffers))]
    head = []
    for k, v in enumerate(spec.inputs):
        head.append(f"a{k} = scalar(p{k})" if not static_shape(v) else f"a{k} = p{k}")
    results = [spec.names.of[v] for v in outputs]
    if not results:
        ret = "None"
    elif len(results) == 1:
        ret = results[0]
    else:
        ret = "(" + ", ".join(results) + ")"
    body = [*head, *spec.body, f"return {ret}"]
    return f"def region({', '.join(params)}):\n" + "".join(f"    {line}\n" for line in body)


class LoweringMismatchError(Exception):
    """Numba's result types for a region differ from the static ones (the region runs on NumPy)."""


def region_signature(spec: RegionSpec) -> tuple[Any, ...]:
    """The Numba argument types a region is compiled for: its inputs' static types, then its kept arrays'."""
    return tuple(_argument_type(v) for v in spec.inputs) + tuple(numba.typeof(b) for b in spec.buffers)


def region_identity(spec: RegionSpec) -> tuple[Any, ...]:
    """What makes two regions one compiled function: equal source, bound values and argument types."""
    return region_source(spec, spec.outputs), tuple(spec.lw.fingerprints), region_signature(spec)


def compile_region(program: Program, spec: RegionSpec) -> NativeRegion:
    """Compile ``spec`` for its static argument types and check its results' types against the static ones."""
    outputs = spec.outputs
    source = region_source(spec, outputs)
    signature = region_signature(spec)
    dispatcher, where = cache.native_function("region", source, spec.lw.globals, spec.lw.fingerprints)
    try:
        returned = cache.compile_signature(dispatcher, signature)
    except Exception:  # noqa: BLE001 - e.g. a disk cache written by another setup: compile afresh in memory
        dispatcher, where = cache.native_function("region", source, spec.lw.globals, spec.lw.fingerprints, disk=False)
        returned = cache.compile_signature(dispatcher, signature)
    kinds = list(returned.types) if len(outputs) > 1 else [returned] if outputs else []
    for v, kind in zip(outputs, kinds):
        rank = getattr(kind, "ndim", 0)
        dtype = as_dtype(getattr(kind, "dtype", kind))
        if rank != len(static_shape(v)) or dtype != np.dtype(v.dtype.as_numpy_dtype):
            raise LoweringMismatchError(
                f"{v.node.op_type} lowers to {kind}, static type {numpy_type(v)}{list(static_shape(v))}"
            )
    return NativeRegion(spec, outputs, dispatcher, where, source)
