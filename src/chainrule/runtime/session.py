"""Session: runs parts of a graph, holding variable values between runs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from chainrule.framework import default_session, errors
from chainrule.framework.graph import Graph, Operation, Tensor, get_default_graph
from chainrule.ops.constant_op import to_numpy
from chainrule.runtime.plan import Plan, RunState


class Session:
    """Runs operations and evaluates tensors of one graph.

    Parameters
    ----------
    graph : the graph to run; the default graph when None.
    array_module : the NumPy-compatible module kernels run with (NumPy by default).

    Examples
    --------
    >>> with cr.Session() as sess:
    ...     sess.run(y, feed_dict={x: np.linspace(0, 1, 5)})
    """

    def __init__(
        self, target: str = "", graph: Graph | None = None, config: Any = None, array_module: Any = np
    ) -> None:
        self._graph = graph or get_default_graph()
        self._xp = array_module
        self._state = RunState(self._graph.seed)
        self._plans: dict[tuple[Any, ...], Plan] = {}
        self._closed = False
        self._context: list[Any] = []

    @property
    def graph(self) -> Graph:
        return self._graph

    def run(
        self, fetches: Any, feed_dict: Mapping[Any, Any] | None = None, options: Any = None, run_metadata: Any = None
    ) -> Any:
        """Compute ``fetches`` (a tensor, op, or nested list/tuple/dict of them).

        Returns NumPy values in the same structure (None for operations).
        """
        if self._closed:
            raise RuntimeError("Attempted to use a closed Session.")
        flat: list[Tensor | Operation] = []
        structure = _flatten(fetches, flat, self._graph)
        feeds = self._convert_feeds(feed_dict or {})
        fetch_tensors = [x for x in dict.fromkeys(flat) if isinstance(x, Tensor)]
        target_ops = [x for x in dict.fromkeys(flat) if isinstance(x, Operation)]
        feed_tensors = list(feeds)
        key = (tuple(fetch_tensors), tuple(target_ops), tuple(feed_tensors))
        plan = self._plans.get(key)
        if plan is None:
            plan = Plan(fetch_tensors, target_ops, feed_tensors, self._xp, self._state)
            self._plans[key] = plan
        results = plan.execute(list(feeds.values()))
        by_tensor = {t: self._to_user(v) for t, v in zip(fetch_tensors, results)}
        return _rebuild(structure, by_tensor)

    def _to_user(self, value: Any) -> Any:
        value = np.asarray(value) if not isinstance(value, np.ndarray) else value
        aliases_state = any(np.may_share_memory(value, v) for v in self._state.variables.values())
        if not value.flags.writeable or aliases_state:
            value = value.copy()
        return value[()] if value.ndim == 0 else value

    def _convert_feeds(self, feed_dict: Mapping[Any, Any]) -> dict[Tensor, Any]:
        feeds: dict[Tensor, Any] = {}
        for key, value in feed_dict.items():
            element = self._graph.as_graph_element(key)
            if not isinstance(element, Tensor):
                raise TypeError(f"Cannot feed an Operation ({element.name}); feed one of its outputs.")
            try:
                arr = to_numpy(value, element.dtype)
            except TypeError as e:
                raise TypeError(
                    f"Cannot feed value {value!r} for Tensor '{element.name}' of dtype {element.dtype.name}: {e}"
                ) from None
            if not element.shape.is_compatible_with(arr.shape):
                raise ValueError(
                    f"Cannot feed value of shape {arr.shape} for Tensor '{element.name}', "
                    f"which has shape {element.shape}"
                )
            feeds[element] = arr
        return feeds

    def close(self) -> None:
        self._closed = True
        self._plans.clear()

    def as_default(self) -> Session:
        return self

    def __enter__(self) -> Session:
        ctx = self._graph.as_default()
        ctx.__enter__()
        self._context.append(ctx)
        default_session.push(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        default_session.pop(self)
        self._context.pop().__exit__(*exc)
        self.close()


def _flatten(fetches: Any, flat: list[Any], graph: Graph) -> Any:
    """Record the leaves of ``fetches`` in ``flat`` and return a structure to rebuild from."""
    if isinstance(fetches, Mapping):
        return (type(fetches), [(k, _flatten(v, flat, graph)) for k, v in fetches.items()])
    if isinstance(fetches, (list, tuple)):
        parts = [_flatten(v, flat, graph) for v in fetches]
        return (type(fetches), parts)
    if fetches is None:
        raise TypeError("Fetch argument None has invalid type NoneType")
    try:
        element = graph.as_graph_element(fetches)
    except (TypeError, errors.NotFoundError, ValueError) as e:
        raise TypeError(f"Fetch argument {fetches!r} cannot be interpreted as a Tensor or Operation: {e}") from None
    flat.append(element)
    return element


def _rebuild(structure: Any, values: dict[Tensor, Any]) -> Any:
    if isinstance(structure, Tensor):
        return values[structure]
    if isinstance(structure, Operation):
        return None
    kind, parts = structure
    if issubclass(kind, Mapping):
        return kind((k, _rebuild(v, values)) for k, v in parts)
    items = [_rebuild(p, values) for p in parts]
    if hasattr(kind, "_fields"):  # namedtuple
        return kind(*items)
    return kind(items)
