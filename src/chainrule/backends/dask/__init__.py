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

An op dask cannot run on chunked inputs raises at graph-building time, naming the op and the
user's line (the generated plan locates it as for the NumPy backend). Ops that contract the
chunked axis (``matmul(x, y, transpose_a=True)``) are dask reductions and run as they are.
Control flow (``cr.cond``, ``cr.while_loop``) needs concrete predicates, which a lazy graph does
not have: such graphs run on the NumPy backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from chainrule.backends.array_module import ArrayModuleBackend, as_numpy
from chainrule.framework import errors
from chainrule.framework.graph import Tensor
from chainrule.runtime.feeds import check_feed_shape, convert_feed

try:
    import dask
    import dask.array as da
except ImportError as e:  # pragma: no cover - exercised with dask hidden, see tests/backends
    raise ImportError("The 'dask' backend needs dask: install the extra with pip install 'chainrule[dask]'") from e

from chainrule.backends.dask.namespace import DASK_NUMPY  # noqa: E402 - after the friendly ImportError

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
        want = np.dtype(element.dtype.as_numpy_dtype)
        if value.dtype != want:
            if not np.can_cast(value.dtype, want, "safe"):
                raise errors.InvalidDTypeError(
                    None,
                    None,
                    f"Cannot feed a dask array of dtype {value.dtype} for Tensor '{element.name}' of dtype "
                    f"{element.dtype.name}: the conversion would lose values.",
                )
            value = value.astype(want)
        if not any(np.isnan(d) for d in value.shape):  # unknown chunk sizes: checked by the kernels
            check_feed_shape(element, value)
        return value

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
            raise errors.UnavailableError(
                None,
                None,
                f"The dask computation of this run failed, so no variable was updated: {type(e).__name__}: {e}",
            ) from e
        for i, value in zip(lazy, computed):
            out[i] = as_numpy(value)
        return out


BACKEND = DaskBackend()
