"""``NumbaBackend``: a plan as generated Python calling native regions, and NumPy kernels for the rest."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from chainrule.backends.numba.loops import NativeLoop, lower_loop
from chainrule.backends.numba.lowering import static_shape
from chainrule.backends.numba.regions import (
    HELPER_LINES,
    MAX_PLAN_LINES,
    MAX_REGION_LINES,
    NativeRegion,
    compile_region,
    partition,
    region_identity,
    within_budget,
    worth_compiling,
)
from chainrule.compiler.codegen import CompiledFunction, generate_program
from chainrule.compiler.ir import Node, Program
from chainrule.compiler.memory import plan_buffers
from chainrule.runtime.backends import Backend, NumPyBackend
from chainrule.runtime.plan import (
    BufferPool,
    Exclusive,
    Executable,
    Generated,
    Interpreter,
    LoopPrograms,
    RunState,
    bind_kernel,
)


class NativePlan(Generated):
    """A generated plan that calls native regions.

    Attributes
    ----------
    regions : the compiled regions, in order.
    backend_notes : why runs of ops were split or left to NumPy (also at the top of ``source``).
    compile_seconds : the time spent compiling the regions (0 for regions cached in-process).
    """

    def __init__(
        self,
        compiled: CompiledFunction,
        regions: list[NativeRegion],
        notes: list[str],
        state: RunState,
        seconds: float,
    ) -> None:
        super().__init__(compiled)
        self.regions = regions
        self.backend_notes = notes
        self.compile_seconds = seconds
        self._state = state
        self._by_last = {id(r.members[-1]): r for r in regions}
        header = "".join(f"# backend note: {n}\n" for n in notes)
        natives = "".join(f"\n# native region {i} ({r.where}):\n{r.source}" for i, r in enumerate(regions))
        self.source = header + compiled.source + natives

    def locate_error(self, e: Exception) -> Exception:
        """An error raised by a region's native code, found again by running its ops on NumPy (which names the op)."""
        hit = self.compiled.failing_inputs(e)
        region = self._by_last.get(id(hit[0])) if hit is not None else None
        if region is None or hit is None:
            return super().locate_error(e)
        sub = Program()
        sub.feeds = list(region.inputs)
        sub.nodes = list(region.members)
        sub.outputs = list(region.outputs)
        try:
            Interpreter(sub, np, self._state).run(hit[1])
        except Exception as located:  # noqa: BLE001 - the NumPy kernels' error names the op and the user's line
            return located
        return super().locate_error(e)


class NumbaBackend(Backend):
    """Runs of ops that lower become one ``@numba.njit`` function each; other ops run their NumPy kernels.

    Parameters
    ----------
    max_region_lines : the longest function a region becomes (longer runs are split).
    max_plan_lines : the most lines of region functions one plan compiles (bounding its compile
        time); the regions past it run on NumPy, with a note.
    """

    name = "numba"

    def __init__(self, max_region_lines: int | None = None, max_plan_lines: int | None = None) -> None:
        self.max_region_lines = MAX_REGION_LINES if max_region_lines is None else max_region_lines
        self.max_plan_lines = MAX_PLAN_LINES if max_plan_lines is None else max_plan_lines
        self._numpy = NumPyBackend()

    def build(self, program: Program, xp: Any, state: RunState, options: Any) -> Executable:
        if xp is not np or not options.codegen:
            return self._numpy.build(program, xp, state, options)
        start = time.perf_counter()
        kept = _native_buffers(program, options) if options.reuse_buffers else {}
        specs, notes = partition(program, self.max_region_lines, kept)
        small = [spec for spec in specs if not worth_compiling(program, spec)]
        if small:
            notes.append(
                f"{len(small)} small native regions ({sum(len(s.members) for s in small)} ops) run on NumPy: "
                "their NumPy calls cost less than a native call would"
            )
            specs = [spec for spec in specs if worth_compiling(program, spec)]
        specs, left = within_budget(specs, self.max_plan_lines)
        if left:
            notes.append(
                f"{len(left)} native regions ({sum(len(s.members) for s in left)} ops) run on NumPy: the plan's "
                f"region functions passed {self.max_plan_lines} lines, a call of a lowering rule's helper counted "
                f"as {HELPER_LINES} (max_plan_lines, to bound Numba's compile time; equal regions count once, "
                "and the regions that save the most run time per line compile first)"
            )
        regions = []
        failed: set[tuple[Any, ...]] = set()  # a region Numba cannot compile: its copies are not tried again
        for spec in specs:
            identity = region_identity(spec)
            if identity in failed:
                continue
            try:
                regions.append(compile_region(program, spec))
            except Exception as e:  # noqa: BLE001 - Numba's typing errors: the ops run on NumPy instead
                failed.add(identity)
                ops = ", ".join(dict.fromkeys(n.op_type for n in spec.members))
                first = str(e).strip().splitlines()[0] if str(e).strip() else ""
                notes.append(f"a region of {len(spec.members)} ops ({ops}) runs on NumPy: {type(e).__name__}: {first}")
        seconds = time.perf_counter() - start
        members = {m: r for r in regions for m in r.members}
        buffers = _numpy_buffers(program, regions, state, options) if options.reuse_buffers else {}
        compiled = generate_program(
            program, lambda node: bind_kernel(node, xp, state), options, buffers, True, regions=members
        )
        plan = NativePlan(compiled, regions, notes, state, seconds)
        if not buffers and not any(r.buffers for r in regions):
            return plan
        # As on the NumPy backend: one run at a time writes into the kept arrays.
        unbuffered = dataclasses.replace(options, reuse_buffers=False)
        return Exclusive(plan, state.buffers.lock, lambda: self.build(program, xp, state, unbuffered))

    def build_loop(self, loop: LoopPrograms, xp: Any, state: RunState, options: Any) -> Executable:
        """A loop whose cond and body lower entirely runs all its iterations in one native function."""
        lowered = lower_loop(loop) if xp is np and options.codegen else None
        if lowered is None:
            return super().build_loop(loop, xp, state, options)
        return NativeLoop(lowered, lambda: super(NumbaBackend, self).build_loop(loop, xp, state, options))


def _native_buffers(program: Program, options: Any) -> dict[Node, np.ndarray]:
    """Kept arrays for the large elementwise results a region may write into: one per node (never shared).

    A node qualifies where ``compiler.memory.plan_buffers`` finds its result a safe site (large,
    static shape, not fetched, no view of it fetched or reaching a stateful op).
    """
    pool = BufferPool()  # the plan's own: the Session's pool shares arrays by program-order lifetimes
    safe = plan_buffers(program, options.buffer_min_bytes, pool)
    kept: dict[Node, np.ndarray] = {}
    for (node, i), _ in safe.items():
        holds = node.op_type != "Fused" or dict(node.extra.allocating_members()).get(i, False)
        if holds and node not in kept:
            kept[node] = np.empty(static_shape(node.out), dtype=node.out.dtype.as_numpy_dtype)
    return kept


def _numpy_buffers(
    program: Program, regions: Sequence[NativeRegion], state: RunState, options: Any
) -> dict[tuple[Node, int], np.ndarray]:
    """Kept arrays for the large results of the ops that run on NumPy (``compiler.memory.plan_buffers``).

    A region reads its inputs at its call (where its last member was), later than their last
    reader in program order, so no op between a region's first and last members writes into a
    kept array (which might be one of those inputs' arrays, free by program order).
    """
    position = {n: i for i, n in enumerate(program.nodes)}
    spans = [(position[r.members[0]], position[r.members[-1]]) for r in regions]
    inside = {n for n in program.nodes if any(a < position[n] < b for a, b in spans)}
    members = {m for r in regions for m in r.members}
    buffers = plan_buffers(program, options.buffer_min_bytes, state.buffers)
    return {site: array for site, array in buffers.items() if site[0] not in members and site[0] not in inside}


def native_regions(executable: Executable) -> Sequence[NativeRegion]:
    """The native regions an executable calls (none for the NumPy backend's), through an ``Exclusive`` wrapper."""
    return getattr(getattr(executable, "inner", executable), "regions", ())
