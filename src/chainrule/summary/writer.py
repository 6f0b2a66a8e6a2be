"""``FileWriter``: writes the graph and summaries to a TensorBoard event file.

The protos are TensorBoard's (``tensorboard.compat.proto``, which needs only protobuf); the
record framing and checksums are chainrule's own (``summary.record_writer``), so writing an
event file never imports TensorFlow.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from chainrule.framework.graph import Graph, get_default_graph
from chainrule.summary._tensorboard import require
from chainrule.summary.graph_def import to_graph_def
from chainrule.summary.record_writer import EventFileWriter


class FileWriter:
    """Write a graph and summaries to an event file in ``logdir`` for ``tensorboard --logdir``.

    Parameters
    ----------
    logdir : directory for the event file (created if needed).
    graph : optional graph to write at once (as ``add_graph`` does).
    max_queue : events buffered before a write.
    flush_secs : how often, in seconds, pending events are flushed.
    filename_suffix : appended to the event file's name.

    Examples
    --------
    >>> import tempfile
    >>> logdir = tempfile.mkdtemp()
    >>> loss = cr.constant(0.5, name="loss")
    >>> cr.summary.scalar("loss", loss)  # doctest: +ELLIPSIS
    <cr.Tensor 'loss_1:0' ...>
    >>> merged = cr.summary.merge_all()
    >>> with cr.Session() as sess:
    ...     writer = cr.summary.FileWriter(logdir, sess.graph)  # the graph, for TensorBoard's Graphs tab
    ...     for step in range(3):
    ...         writer.add_summary(sess.run(merged), global_step=step)
    ...     writer.close()
    """

    def __init__(
        self,
        logdir: str | os.PathLike[str],
        graph: Graph | None = None,
        max_queue: int = 10,
        flush_secs: float = 120,
        filename_suffix: str = "",
    ) -> None:
        self._tb = require()
        self._logdir = os.fspath(logdir)
        self._writer = EventFileWriter(self._logdir, self._tb.event_pb2, max_queue, flush_secs, filename_suffix)
        self._closed = False
        if graph is not None:
            self.add_graph(graph)

    def get_logdir(self) -> str:
        """The directory the event file is in."""
        return self._logdir

    @property
    def path(self) -> str:
        """The event file's path."""
        return self._writer.path

    def add_event(self, event: Any) -> None:
        """Write an ``Event`` proto (its ``wall_time`` is set to now when left 0)."""
        if self._closed:
            raise RuntimeError("FileWriter is closed.")
        if not event.wall_time:
            event.wall_time = time.time()
        self._writer.add_serialized(event.SerializeToString())

    def add_graph(self, graph: Graph | None = None, global_step: int | None = None) -> None:
        """Write ``graph`` (the default graph when None) for TensorBoard's Graphs tab."""
        graph_def = to_graph_def(graph if graph is not None else get_default_graph())
        event = self._tb.event_pb2.Event(graph_def=graph_def.SerializeToString())
        if global_step is not None:
            event.step = int(global_step)
        self.add_event(event)

    def add_summary(self, summary: Any, global_step: int | None = None) -> None:
        """Write a summary: ``bytes`` from running a summary op, or a ``Summary`` proto."""
        pb = self._tb.summary_pb2
        if isinstance(summary, (bytes, bytearray, memoryview)):
            summary = pb.Summary.FromString(bytes(summary))
        elif isinstance(summary, np.ndarray) and summary.dtype == np.dtype(object):
            summary = pb.Summary.FromString(summary.item())  # a 0-d object array
        elif not isinstance(summary, pb.Summary):
            raise TypeError(
                f"add_summary expects serialized Summary bytes or a Summary proto, got {type(summary).__name__}"
            )
        event = self._tb.event_pb2.Event(summary=summary)
        if global_step is not None:
            event.step = int(global_step)
        self.add_event(event)

    def add_scalar(self, tag: str, value: float, global_step: int | None = None) -> None:
        """Write one scalar point directly, with no graph op (handy outside a Session)."""
        pb = self._tb.summary_pb2
        self.add_summary(pb.Summary(value=[pb.Summary.Value(tag=tag, simple_value=float(value))]), global_step)

    def flush(self) -> None:
        """Write pending events to disk."""
        self._writer.flush()

    def close(self) -> None:
        """Flush and close the event file."""
        if not self._closed:
            self._writer.close()
            self._closed = True

    def reopen(self) -> None:
        """Not supported: create a new FileWriter (it starts a new event file)."""
        raise NotImplementedError("Create a new cr.summary.FileWriter to write a new event file.")

    def __enter__(self) -> FileWriter:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def write_log(
    logdir: str | os.PathLike[str],
    graph: Graph | None = None,
    scalars: Mapping[str, Sequence[float]] | None = None,
) -> str:
    """Write a TensorBoard log folder in one call: a graph and/or scalar curves.

    Parameters
    ----------
    logdir : the folder (created if needed); view it with ``tensorboard --logdir <logdir>``.
    graph : the graph for the Graphs tab (nothing is written for it when None).
    scalars : ``{tag: [value at step 0, value at step 1, ...]}`` for the Scalars tab.

    Returns
    -------
    The path of the event file written.
    """
    with FileWriter(logdir, graph) as writer:
        for tag, values in (scalars or {}).items():
            for step, value in enumerate(values):
                writer.add_scalar(tag, value, global_step=step)
        return writer.path
