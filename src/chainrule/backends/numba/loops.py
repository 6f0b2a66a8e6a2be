"""A ``While`` whose cond and body lower entirely: all its iterations in one native function.

``loop(limit, *loop vars, *sliced, *captured, *constants)`` runs the cond's and the body's lowered
code inside a ``while`` loop, as ``compiler.codegen.generate_loop`` does in Python, and returns the
final loop variables, the count and (when recording) one list per loop variable of its value at
the start of each iteration. A loop that does not lower entirely (an op without a lowering, an
unknown shape) runs as the NumPy backend's Python loop; so does a run whose native code raises
(which then names the op and the user's line).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numba
import numpy as np

from chainrule.backends.numba import cache
from chainrule.backends.numba.lowering import DTYPES, Lowerer, Names, lower_node, typed
from chainrule.backends.numba.regions import constant_argument
from chainrule.compiler.ir import Program, Value
from chainrule.runtime.plan import Executable, LoopPrograms


class LoweredLoop:
    """The source of a native loop function and the constants it is called with."""

    def __init__(self, source: str, lw: Lowerer, constants: list[Any], loop: LoopPrograms) -> None:
        self.source = source
        self.lw = lw
        self.constants = constants
        self.scalar_vars = [np.dtype(v.dtype.as_numpy_dtype).type if v.shape.rank == 0 else None for v in
                            loop.body.outputs]  # fmt: skip


def _ranked(v: Value) -> bool:
    return v.dtype is not None and v.dtype.name in DTYPES and v.shape.rank is not None


def _lower_program(
    program: Program, lw: Lowerer, names: Names, constants: dict[Value, str], pad: str
) -> list[str] | None:
    lines: list[str] = []
    for node in program.nodes:
        if node.op_type == "Const":
            if node.out not in constants:
                if not typed(node.out):
                    return None
                constants[node.out] = f"c{len(constants)}"
            names.of[node.out] = constants[node.out]
            continue
        lowered = lower_node(lw, node, names)
        if lowered is None:
            return None
        lines.extend(pad + line for line in lowered)
    return lines


def lower_loop(loop: LoopPrograms) -> LoweredLoop | None:
    """The loop as one native function's source (None: its cond or body does not lower entirely)."""
    cond, body = loop.cond, loop.body
    num_vars, num_sliced = loop.num_vars, loop.num_sliced
    num_caps = len(cond.feeds) - num_vars
    variables = body.feeds[:num_vars]
    sliced_rows = body.feeds[num_vars : num_vars + num_sliced]
    captured = body.feeds[num_vars + num_sliced :]
    # A value the lowered code reads has a fully known shape (``lower_node`` checks); the feeds need
    # a known rank only (a loop variable of unknown length that the body replaces, say).
    if not all(_ranked(v) for v in (*cond.feeds, *body.feeds, *body.outputs)) or len(body.outputs) != num_vars:
        return None
    if any(v.shape.rank != o.shape.rank or v.dtype != o.dtype for v, o in zip(variables, body.outputs)):
        return None
    lw = Lowerer()
    constants: dict[Value, str] = {}
    # The cond's and the body's feeds read the same locals: w<i> (loop variables), r<i> (rows of
    # the sliced inputs), k<i> (captured values).
    cond_names, body_names = Names(), Names()
    cond_names.of.update({v: f"w{i}" for i, v in enumerate(cond.feeds[:num_vars])})
    cond_names.of.update({v: f"k{i}" for i, v in enumerate(cond.feeds[num_vars:])})
    body_names.of.update({v: f"w{i}" for i, v in enumerate(variables)})
    body_names.of.update({v: f"r{i}" for i, v in enumerate(sliced_rows)})
    body_names.of.update({v: f"k{i}" for i, v in enumerate(captured)})
    cond_names._count = 10_000  # the two programs' locals never share a name  # noqa: SLF001
    cond_lines = _lower_program(cond, lw, cond_names, constants, "        ")
    body_lines = _lower_program(body, lw, body_names, constants, "        ")
    if cond_lines is None or body_lines is None or not cond.outputs:
        return None
    params = ["limit", *(f"p{i}" for i in range(num_vars)), *(f"s{i}" for i in range(num_sliced))]
    params += [f"q{i}" for i in range(num_caps)] + [f"c{i}_in" for i in range(len(constants))]
    head = []
    for i, v in enumerate(variables):
        head.append(f"w{i} = np.ascontiguousarray(p{i})" if v.shape.rank else f"w{i} = scalar(p{i})")
    for i, v in enumerate(captured):
        head.append(f"k{i} = q{i}" if v.shape.rank else f"k{i} = scalar(q{i})")
    for v, name in constants.items():
        head.append(f"{name} = {name}_in" if v.shape.rank else f"{name} = scalar({name}_in)")
    head.append("count = 0")
    if loop.record:  # each loop variable's values, in an array that doubles when full
        for i, v in enumerate(variables):
            shape = "" if not v.shape.rank else "".join(f"w{i}.shape[{d}], " for d in range(v.shape.rank))
            head.append(
                f"h{i} = np.empty((16, {shape}), w{i}.dtype)" if shape else f"h{i} = np.empty(16, np.{v.dtype.name})"
            )
    lines = [*head, "while count != limit:", *(line[4:] for line in cond_lines)]
    lines += [f"    if not {cond_names.of[cond.outputs[0]]}:", "        break"]
    if loop.record:
        for i in range(num_vars):
            lines += [f"    if count == h{i}.shape[0]:", f"        h{i} = grow(h{i})", f"    h{i}[count] = w{i}"]
    lines += [f"    r{i} = s{i}[count]" for i in range(num_sliced)]
    lines += [line[4:] for line in body_lines]
    if num_vars:
        new = [body_names.of[v] for v in body.outputs]
        lines.append(f"    {', '.join(f'w{i}' for i in range(num_vars))}, = {', '.join(new)},")
    lines.append("    count += 1")
    returned = [
        *(f"w{i}" for i in range(num_vars)),
        "count",
        *(f"h{i}[:count]" for i in range(num_vars) if loop.record),
    ]
    lines.append(f"return ({', '.join(returned)},)")
    source = f"def loop({', '.join(params)}):\n" + "".join(f"    {line}\n" for line in lines)
    values = [constant_argument(v) for v in constants]
    return LoweredLoop(source, lw, values, loop)


class NativeLoop(Executable):
    """Runs a loop's native function; the NumPy loop (made on first need) when Numba cannot type it or it raises."""

    def __init__(self, lowered: LoweredLoop, fallback: Callable[[], Executable]) -> None:
        self.lowered = lowered
        self.dispatcher, self.where = cache.native_function("loop", lowered.source, lowered.lw.globals,
                                                            lowered.lw.fingerprints)  # fmt: skip
        self.source = lowered.source
        self.backend_notes: list[str] = []
        self._make_fallback = fallback
        self._fallback: Executable | None = None
        self._broken = False

    def fallback(self) -> Executable:
        if self._fallback is None:
            self._fallback = self._make_fallback()
        return self._fallback

    def run(self, feed_values: Sequence[Any]) -> list[Any]:
        if self._broken:
            return self.fallback().run(feed_values)
        limit, *rest = feed_values
        try:
            result = self.dispatcher(int(limit), *rest, *self.lowered.constants)
        except numba.core.errors.NumbaError as e:  # Numba cannot compile it for these types: NumPy from now on
            self._broken = True
            self.backend_notes.append(f"the loop runs on NumPy: {type(e).__name__}: {str(e).strip().splitlines()[0]}")
            return self.fallback().run(feed_values)
        except Exception:  # noqa: BLE001 - rerun on NumPy, whose error names the op and the user's line
            return self.fallback().run(feed_values)
        boxes = self.lowered.scalar_vars
        num_vars = len(boxes)
        values = [v if box is None else box(v) for v, box in zip(result[:num_vars], boxes)]
        out = [*values, result[num_vars]]
        out.extend(list(h) for h in result[num_vars + 1 :])  # rows (NumPy scalars for rank 0)
        return out
