"""Execution plans: the pruned, ordered, pre-bound program for one (fetches, feeds) signature.

A plan is built once per signature and cached by the Session. Building it:
prune to the ops the fetches need (stopping at fed tensors), order them (an op's
id is its creation order, and an op can only be created after its inputs, so id
order is a topological order), bind each kernel to its attributes, give every
tensor a slot, and note after which step each slot is last used so its buffer
can be released at once.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from chainrule.framework import errors
from chainrule.framework.graph import Operation, Tensor
from chainrule.ops.registry import describe_inputs, get_op_def


@dataclass
class Step:
    op: Operation
    kernel: Callable[..., Any]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]  # -1 for an output nobody reads
    release: tuple[int, ...]


_DEFAULT_GRAPH_SEED = 87654321  # TensorFlow's, used when only an op seed is set


class RunState:
    """What persists across runs of one Session: variable values and random streams."""

    def __init__(self, graph_seed: int | None) -> None:
        self.variables: dict[str, Any] = {}
        self._rngs: dict[str, np.random.Generator] = {}
        self._graph_seed = graph_seed

    def random_generator(self, op: Operation) -> np.random.Generator:
        """The op's own random stream, reproducible when the op or the graph has a seed."""
        rng = self._rngs.get(op.name)
        if rng is None:
            # TensorFlow's rule: with an op seed, the stream depends on (graph seed, op seed) only,
            # so two ops with the same seeds repeat each other; with only a graph seed, the op's
            # position in the graph stands in for its seed.
            op_seed = op._attrs.get("seed")
            if op_seed is None and self._graph_seed is None:
                rng = np.random.default_rng()
            else:
                graph_seed = _DEFAULT_GRAPH_SEED if self._graph_seed is None else self._graph_seed
                rng = np.random.default_rng([graph_seed, op._id if op_seed is None else op_seed])
            self._rngs[op.name] = rng
        return rng


class Plan:
    def __init__(
        self,
        fetch_tensors: Sequence[Tensor],
        target_ops: Sequence[Operation],
        feed_tensors: Sequence[Tensor],
        xp: Any,
        state: RunState,
    ) -> None:
        fed = set(feed_tensors)
        needed: set[Operation] = set()
        stack: list[Operation] = list(target_ops) + [t.op for t in fetch_tensors if t not in fed]
        while stack:
            op = stack.pop()
            if op in needed:
                continue
            needed.add(op)
            stack.extend(t.op for t in op.inputs if t not in fed)
            stack.extend(op.control_inputs)
        order = sorted(needed, key=lambda op: op._id)

        slots: dict[Tensor, int] = {}

        def slot(t: Tensor) -> int:
            if t not in slots:
                slots[t] = len(slots)
            return slots[t]

        self.feed_slots = [slot(t) for t in feed_tensors]
        consumed = {t for op in order for t in op.inputs}
        steps_io = []
        for op in order:
            ins = tuple(slot(t) for t in op.inputs)
            outs = tuple(slot(t) if (t in consumed or t in fetch_tensors) and t not in fed else -1 for t in op.outputs)
            steps_io.append((op, ins, outs))
        self.fetch_slots = [slot(t) for t in fetch_tensors]
        self.num_slots = len(slots)

        # Release each slot right after its last reader; fetched slots live to the end.
        last_use: dict[int, int] = {}
        for i, (_, ins, _) in enumerate(steps_io):
            for s in ins:
                last_use[s] = i
        keep = set(self.fetch_slots)
        release: dict[int, list[int]] = {}
        for s, i in last_use.items():
            if s not in keep:
                release.setdefault(i, []).append(s)
        self.steps = [
            Step(op, _bind(op, xp, state), ins, outs, tuple(release.get(i, ())))
            for i, (op, ins, outs) in enumerate(steps_io)
        ]

    def execute(self, feed_values: Sequence[Any]) -> list[Any]:
        values: list[Any] = [None] * self.num_slots
        for s, v in zip(self.feed_slots, feed_values):
            values[s] = v
        for step in self.steps:
            try:
                result = step.kernel(*[values[i] for i in step.inputs])
            except Exception as e:  # noqa: BLE001 - re-raised with the op's name and creation site
                raise _runtime_error(step, values, e) from e
            outs = step.outputs
            if len(outs) == 1:
                if outs[0] >= 0:
                    values[outs[0]] = result
            else:
                for s, r in zip(outs, result):
                    if s >= 0:
                        values[s] = r
            for s in step.release:
                values[s] = None
        return [values[s] for s in self.fetch_slots]


def _bind(op: Operation, xp: Any, state: RunState) -> Callable[..., Any]:
    op_def = get_op_def(op.type)
    attrs = {k: v for k, v in op._attrs.items() if not k.startswith("_")}
    if op_def.stateful:
        return functools.partial(op_def.kernel, xp, ctx=state, op=op, **attrs)
    return functools.partial(op_def.kernel, xp, **attrs) if attrs else functools.partial(op_def.kernel, xp)


def _runtime_error(step: Step, values: list[Any], e: Exception) -> errors.OpError:
    op = step.op
    if isinstance(e, errors.OpError):
        if e.op is not None and e.op is not op:
            return e
        cls: type[errors.OpError] = type(e)
        detail = e.message
    else:
        cls = errors.InvalidArgumentError
        detail = f"{type(e).__name__}: {e}"
    arrays = []
    for i in step.inputs:
        v = values[i]
        arrays.append(f"{getattr(v, 'dtype', type(v).__name__)}{tuple(np.shape(v))}" if v is not None else "?")
    message = (
        f"{detail}\n  while running op {op.describe()}\n"
        f"  static inputs: {describe_inputs(op.inputs)}\n  runtime inputs: {', '.join(arrays) or 'none'}"
    )
    return cls(op.node_def, op, message)
