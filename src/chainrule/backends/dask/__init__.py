"""The Dask backend: ``cr.Session(backend="dask", client=...)`` runs each ``Session.run`` as one dask graph.

Feeds may be dask arrays (typically chunked along the batch axis, e.g. a dataset generated chunk by
chunk or read from zarr); a NumPy feed is wrapped as a dask array chunked along its first axis
(``chunk_rows`` rows a chunk, dask's ``"auto"`` by default). The kernels run with ``dask.array``
as their array module, so they build a lazy graph; the run's fetches and variable updates are then
computed together, in one ``compute`` call (work they share is computed once), on the Client's
cluster or, with none, dask's default scheduler. Reductions over the batch (``reduce_sum``,
``reduce_mean`` and the gradients built from them) are dask tree reductions, so the gradient of a
mean loss over a dataset is summed where its chunks live and only the partial sums travel.

Variables stay NumPy arrays on the client: each run sends their values into its graph (one key
each) and commits the computed updates after the compute succeeded (``backends.array_module``),
so a run that fails (a lost worker after dask's retries, an error in a chunk) leaves every
variable as it was.

Ops that contract the chunked axis (``matmul(x, y, transpose_a=True)``) are dask reductions and
run as they are. An op whose kernel dask cannot build on chunked inputs (``det``, ``top_k``, a
gather with an index array, a kernel writing with ``out=``...) runs as one task: its inputs are
gathered into one chunk and its NumPy kernel runs on them where the task is scheduled (right for
the small matrices such ops see after a reduction over the batch; a whole dataset would not fit).
That needs the op's output shape statically; without it the error names the op and the user's
line. A lazy output whose dtype dask promoted (an int32 ``matmul`` computes in int64) is cast
back to the op's static dtype, as NumPy computes it, so nothing changes dtype silently.
Loop bodies (``cr.while_loop``, ``cr.scan``, ``map_fn``, the folds) build the same lazy graph, one
copy of the body per iteration, computed with the run's other values: the loop's condition must
not depend on the data (a counter, a bound: eager NumPy), since deciding another iteration would
need a compute per iteration; a condition that does raises UnimplementedError naming the loop.
A ``cr.cond`` whose predicate depends on the data computes that predicate (dask's ``bool``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from chainrule.backends.array_module import ArrayModuleBackend, as_numpy
from chainrule.compiler.ir import Node
from chainrule.framework import errors
from chainrule.framework.graph import Tensor
from chainrule.ops.registry import get_op_def
from chainrule.runtime.feeds import cast_device_feed, check_feed_shape, convert_feed

try:
    import dask
    import dask.array as da
except ImportError as e:  # pragma: no cover - exercised with dask hidden, see tests/backends
    raise ImportError("The 'dask' backend needs dask: install the extra with pip install 'chainrule[dask]'") from e

from chainrule.backends.dask.namespace import DASK_NUMPY, is_lazy  # noqa: E402 - after the friendly ImportError

__all__ = ["BACKEND", "DaskBackend"]


class DaskBackend(ArrayModuleBackend):
    """Plans that build one dask graph per run and compute its fetches and updates in one call.

    Parameters
    ----------
    client : a ``distributed.Client`` whose cluster computes the runs (None: dask's default scheduler).
    chunk_rows : rows per chunk when a NumPy feed is wrapped (None: dask's ``"auto"``).
    """

    name = "dask"

    def __init__(self, client: Any = None, chunk_rows: int | None = None) -> None:
        super().__init__(DASK_NUMPY)
        self.client = client
        self.chunk_rows = chunk_rows
        self.computes = 0  # how many compute calls this backend made (one per run with lazy values)

    @property
    def array_module(self) -> Any:
        return DASK_NUMPY

    def configure(self, *, client: Any = None, chunk_rows: int | None = None, **settings: Any) -> DaskBackend:
        if settings:
            raise TypeError(f"The 'dask' backend takes client and chunk_rows, got {', '.join(sorted(settings))}")
        return DaskBackend(client if client is not None else self.client, chunk_rows or self.chunk_rows)

    def convert_feed(self, element: Tensor, value: Any) -> Any:
        if not isinstance(value, da.Array):
            return convert_feed(element, value)
        value = cast_device_feed(element, value, "a dask array")
        if not any(np.isnan(d) for d in value.shape):  # unknown chunk sizes: checked by the kernels
            check_feed_shape(element, value)
        return value

    def wrap_kernel(self, node: Node, kernel: Callable[..., Any]) -> Callable[..., Any]:
        dtypes = [np.dtype(v.dtype.as_numpy_dtype) for v in node.outputs]

        def run(*args: Any) -> Any:
            if not any(is_lazy(a) for a in args):
                return kernel(*args)  # constants, shapes, variables alone: eager NumPy
            try:
                out = kernel(*args)
            except errors.OpError:
                raise
            except (
                AttributeError,
                TypeError,
                ValueError,
                NotImplementedError,
                IndexError,
                AssertionError,
                ArithmeticError,
            ) as e:
                out = _one_task(node, kernel, args, e)
            return _static_dtypes(out, dtypes)

        return run

    def host_kernel(self, node: Node, kernel: Callable[..., Any], xp: Any) -> Callable[..., Any]:
        stateful = node.stateful

        def run(*args: Any) -> Any:
            if not any(is_lazy(a) for a in args):
                return kernel(*args)
            if not stateful:
                return _one_task(node, kernel, args, None)
            # A stateful NumPy-only op (py_func, a sampler) runs on the client: its inputs are computed first.
            self.computes += 1
            return kernel(*dask.compute(*args, scheduler=self.client))

        return run

    def loop_predicate(self, value: Any) -> bool:
        if is_lazy(value):
            raise errors.UnimplementedError(
                None,
                None,
                "the condition of this while_loop depends on chunked (dask) data: the dask backend builds a "
                "loop's iterations lazily, so its condition must be known without computing (a counter or a "
                "bound, as in scan and map_fn); compute the condition's inputs first, or use the numpy backend",
            )
        return bool(value)

    def constant(self, xp: Any, value: Any) -> Any:
        return value  # constants stay NumPy, like the variables

    def state_to_module(self, xp: Any, value: Any) -> Any:
        return value  # variables and random draws stay NumPy: dask embeds them in the graph where used

    def to_module(self, xp: Any, value: Any) -> Any:
        if isinstance(value, da.Array) or np.ndim(value) == 0:
            return value  # NumPy scalars mix with dask arrays as they are
        arr = np.asarray(value)
        chunks = {0: self.chunk_rows or "auto", **{i: -1 for i in range(1, arr.ndim)}}
        return da.from_array(arr, chunks=chunks, name=False)

    def to_numpy(self, values: Sequence[Any]) -> list[Any]:
        lazy = [i for i, v in enumerate(values) if isinstance(v, da.Array)]
        out = [v if i in lazy else as_numpy(v) for i, v in enumerate(values)]
        if not lazy:
            return out
        self.computes += 1
        try:
            computed = dask.compute(*[values[i] for i in lazy], scheduler=self.client)
        except Exception as e:  # noqa: BLE001 - re-raised as chainrule's error, the cause kept
            raise errors.UnavailableError(None, None, _failure_message(e)) from e
        for i, value in zip(lazy, computed):
            out[i] = as_numpy(value)
        return out


def _failure_message(e: Exception) -> str:
    """What the error of a failed run says: a lost worker (``distributed.KilledWorker``) by name, else dask's error."""
    if type(e).__name__ == "KilledWorker" and len(e.args) == 3:  # distributed's: (task, last worker, allowed failures)
        task, worker, retries = e.args
        return (
            f"A Dask worker died while computing this run (task {task!r}, last on worker "
            f"{getattr(worker, 'address', worker)}; the scheduler retried it {retries} times, its "
            "distributed.scheduler.allowed-failures), so no variable was updated: the run can be repeated"
        )
    return f"The dask computation of this run failed, so no variable was updated: {type(e).__name__}: {e}"


def _one_task(node: Node, kernel: Callable[..., Any], args: tuple[Any, ...], cause: Exception | None) -> Any:
    """``node``'s kernel as one dask task on its inputs gathered whole (dask.delayed computes them)."""
    shapes = [v.shape for v in node.outputs]
    if not all(s.is_fully_defined() for s in shapes):
        raise errors.UnimplementedError(
            None,
            node.origin,
            f"dask cannot build this op on chunked inputs ({_reason(node, cause)}), and its output "
            f"shape {', '.join(str(s) for s in shapes)} is not known before running, so it cannot run as one task",
        ) from cause
    # In the task the inputs are NumPy arrays, so the same kernel runs its NumPy path.
    task = dask.delayed(kernel, pure=True, nout=len(shapes) if len(shapes) > 1 else None)(*args)
    parts = [task] if len(shapes) == 1 else list(task)
    lazy = [
        da.from_delayed(p, shape=tuple(s.as_list()), dtype=v.dtype.as_numpy_dtype)
        for p, s, v in zip(parts, shapes, node.outputs)
    ]
    return lazy[0] if len(lazy) == 1 else tuple(lazy)


def _reason(node: Node, cause: Exception | None) -> str:
    if cause is None:
        return f"its kernel needs NumPy: {get_op_def(node.op_type).numpy_only}"
    return f"{type(cause).__name__}: {cause}"


def _static_dtypes(out: Any, dtypes: list[np.dtype]) -> Any:
    """Lazy outputs cast to the op's static dtypes where dask promoted them (NumPy keeps them)."""
    if isinstance(out, tuple):
        return tuple(_static_dtypes(o, [d]) for o, d in zip(out, dtypes))
    if isinstance(out, da.Array) and dtypes and out.dtype != dtypes[0]:
        return out.astype(dtypes[0])
    return out


BACKEND = DaskBackend()
