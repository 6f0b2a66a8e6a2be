"""The global step: one integer variable per graph that counts training steps."""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.framework import dtypes
from chainrule.framework.graph import Graph, Tensor, get_default_graph
from chainrule.ops.state_ops import Variable

__all__ = ["GLOBAL_STEP", "get_global_step", "create_global_step", "get_or_create_global_step", "global_step"]

GLOBAL_STEP = "global_step"


def get_global_step(graph: Graph | None = None) -> Variable | None:
    """The graph's global step variable (collection ``"global_step"``), or None."""
    graph = graph or get_default_graph()
    found = graph.get_collection(GLOBAL_STEP)
    if len(found) > 1:
        raise TypeError(f"There are {len(found)} variables in the collection '{GLOBAL_STEP}'; there must be one.")
    if not found:
        return None
    step = found[0]
    if not step.dtype.is_integer or step.shape.ndims != 0:
        raise TypeError(f"Existing global step {step.name} is not an integer scalar: {step.dtype.name} {step.shape}.")
    return step


def create_global_step(graph: Graph | None = None) -> Variable:
    """Create the graph's global step: a non-trainable int64 scalar Variable named ``global_step``, starting at 0.

    Raises
    ------
    ValueError
        If the graph already has one.
    """
    graph = graph or get_default_graph()
    if get_global_step(graph) is not None:
        raise ValueError('"global_step" already exists.')
    with graph.as_default(), graph.name_scope(None), graph.control_dependencies(None):
        step = Variable(np.int64(0), dtype=dtypes.int64, name="global_step", trainable=False)
    graph.add_to_collection(GLOBAL_STEP, step)
    return step


def get_or_create_global_step(graph: Graph | None = None) -> Variable:
    """The graph's global step, created if it does not exist yet."""
    graph = graph or get_default_graph()
    step = get_global_step(graph)
    return step if step is not None else create_global_step(graph)


def global_step(sess: Any, global_step_tensor: Variable | Tensor) -> int:
    """The current value of ``global_step_tensor`` in ``sess``, as a Python int."""
    return int(sess.run(global_step_tensor))
