"""Session: runs parts of a graph, holding variable values between runs."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from chainrule import compiler
from chainrule.framework import default_session, errors
from chainrule.framework.graph import Graph, Operation, Tensor, get_default_graph, has_graph_element
from chainrule.framework.lru import LRUCache, size_from_environment
from chainrule.runtime import reporting
from chainrule.runtime.backends import Backend, resolve_backend
from chainrule.runtime.feeds import check_feed_shape, convert_feed
from chainrule.runtime.plan import Plan, RunState

# Plans (and prepared runners) a Session keeps, one per fetch/feed set; the least recently used
# go first. A program that runs ever new fetch sets then holds a bounded number of plans.
PLAN_CACHE_SIZE = 256
PLAN_CACHE_SIZE_VARIABLE = "CHAINRULE_PLAN_CACHE_SIZE"


class Session:
    """Runs operations and evaluates tensors of one graph.

    Parameters
    ----------
    graph : the graph to run; the default graph when None.
    target : accepted for TensorFlow compatibility: only ``""`` (in process); a distributed
        target (``"grpc://..."``) raises ValueError.
    config : a ``cr.ConfigProto`` is accepted and ignored (see ``runtime.session_config``); a
        ``cr.compiler.Options`` is used as ``optimize``.
    array_module : the NumPy-compatible module kernels run with (NumPy by default).
    optimize : how plans are compiled: None (``cr.compiler.default_options()``, all passes unless
        the ``CHAINRULE_OPTIMIZE`` environment variable says otherwise), True (all passes), False
        (the graph as written, still run by a generated function), or a ``cr.compiler.Options``.
    backend : what runs the compiled plans (``runtime.backends``): ``"numpy"`` (one generated
        Python function calling NumPy per plan), ``"numba"`` (native code, the ``fast`` extra), a
        ``Backend``; None: the ``CHAINRULE_BACKEND`` environment variable's, else ``"numpy"``.
        ``"dask"`` (the ``dask`` extra) builds one dask graph per run, see ``chainrule.backends.dask``.
        ``"cupy"`` (the ``gpu`` extra) runs on a CUDA GPU, see ``chainrule.backends.cupy``; with no
        backend named, a graph whose ops were placed with ``cr.device("/gpu:N")`` runs there when
        CuPy and that GPU are available.
    client : the Dask backend's ``distributed.Client`` (None: dask's default scheduler).

    Examples
    --------
    >>> x = cr.placeholder(cr.float64, [None])
    >>> y = cr.cos(x)
    >>> with cr.Session() as sess:
    ...     print(sess.run(y, feed_dict={x: [0.0, np.pi]}))
    [ 1. -1.]
    """

    def __init__(
        self,
        target: str = "",
        graph: Graph | None = None,
        config: Any = None,
        array_module: Any = np,
        optimize: compiler.Options | bool | None = None,
        backend: Backend | str | None = None,
        client: Any = None,
    ) -> None:
        if target:
            raise ValueError(f"Session target {target!r}: chainrule runs in process only (target='').")
        self._graph = graph or get_default_graph()
        self._config = config
        self._backend = resolve_backend(backend, self._graph)  # ops placed on a GPU: CuPy's, where there is one
        if client is not None:
            self._backend = self._backend.configure(client=client)
        if array_module is np and self._backend.array_module is not None:
            array_module = self._backend.array_module
        self._xp = array_module
        if optimize is None and isinstance(config, compiler.Options):
            optimize = config
        self._options = compiler.resolve_options(optimize)
        self._state = RunState(self._graph.seed, array_module, self._options, self._backend)
        size = size_from_environment(PLAN_CACHE_SIZE_VARIABLE, PLAN_CACHE_SIZE)
        self._plans: LRUCache[Plan] = LRUCache(size)
        self._runners: LRUCache[_Runner] = LRUCache(size)
        self._closed = False
        self._context: list[Any] = []

    @property
    def graph(self) -> Graph:
        return self._graph

    @property
    def backend(self) -> Backend:
        """The execution backend this Session's plans are built by."""
        return self._backend

    def run(
        self, fetches: Any, feed_dict: Mapping[Any, Any] | None = None, options: Any = None, run_metadata: Any = None
    ) -> Any:
        """Compute ``fetches`` (a tensor, op, or nested list/tuple/dict of them).

        Returns NumPy values in the same structure (None for operations). ``options`` (a
        ``cr.RunOptions``) and ``run_metadata`` (a ``cr.RunMetadata``) are accepted and ignored.
        An error about the call itself (a feed of the wrong shape or dtype, an unknown feed key, a
        placeholder left unfed, a bad fetch) names the line of this call.
        """
        try:
            return self._run(fetches, feed_dict)
        except (TypeError, ValueError, KeyError) as e:
            if not reporting.is_call_error(e):
                raise
            raise reporting.at_call_site(e).with_traceback(e.__traceback__) from None

    def _run(self, fetches: Any, feed_dict: Mapping[Any, Any] | None) -> Any:
        if self._closed:
            raise RuntimeError("Attempted to use a closed Session.")
        # Fast path: the same fetches and feed keys as an earlier run reuse its prepared runner
        # (resolved fetches, feed checks, plan and result builder), so no per-run dicts are built.
        key = _fetch_key(fetches)
        if key is not None:
            try:
                key = (key, tuple(feed_dict) if feed_dict else ())
                runner = self._runners.get(key)
            except TypeError:  # an unhashable feed key: take the general path
                key, runner = None, None
            if runner is None:
                runner = self._prepare(fetches, feed_dict)
                if runner is not None and key is not None:
                    runner = self._runners.put(key, runner)
            if runner is not None:
                return runner(feed_dict)
        return self._run_general(fetches, feed_dict)

    @property
    def options(self) -> compiler.Options:
        """The compiler options this Session's plans are built with."""
        return self._options

    @property
    def plan_cache_size(self) -> int:
        """How many plans (one per fetch/feed set) this Session keeps, the least recently used dropped first.

        Defaults to ``PLAN_CACHE_SIZE`` (256) or the ``CHAINRULE_PLAN_CACHE_SIZE`` environment variable;
        a dropped plan is built again if its fetches are run again. Feed order is not part of the key.
        """
        return self._plans.maxsize

    @plan_cache_size.setter
    def plan_cache_size(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"plan_cache_size must be >= 1, got {size}")
        self._plans.maxsize = size
        self._runners.maxsize = size

    @property
    def plans(self) -> tuple[Plan, ...]:
        """The compiled plans this Session keeps, one per (fetches, feeds) signature, least recently used first.

        ``plan.program.dump()`` shows what a run executes and ``plan.source`` the generated code.
        """
        return tuple(self._plans.values())

    @property
    def run_state(self) -> RunState:
        """The state every plan of this Session shares: variable values and random streams.

        A plan built outside the Session (``Plan(..., state=sess.run_state)``) then reads and
        updates the same variables and draws from the same streams.
        """
        return self._state

    def _plan(
        self, fetch_tensors: list[Tensor], target_ops: list[Operation], feed_tensors: list[Tensor]
    ) -> tuple[Plan, list[int] | None]:
        """The plan for these fetches and feeds, and the order to pass the feed values in.

        The plan takes its feeds in graph order (by op creation), so the same feeds given in another
        order (a feed dict written the other way round) share one plan. Returns ``(plan, order)``:
        ``order[i]`` is the position, among ``feed_tensors``, of the plan's ``i``-th feed (None: the same order).
        """
        order = sorted(range(len(feed_tensors)), key=lambda i: (feed_tensors[i].op.id, feed_tensors[i].value_index))
        canonical = [feed_tensors[i] for i in order]
        key = (tuple(fetch_tensors), tuple(target_ops), tuple(canonical))
        plan = self._plans.get(key)
        if plan is None:
            made = Plan(fetch_tensors, target_ops, canonical, self._xp, self._state, self._options)
            plan = self._plans.put(key, made)
        return plan, (None if order == sorted(order) else order)

    def _run_general(self, fetches: Any, feed_dict: Mapping[Any, Any] | None) -> Any:
        flat: list[Tensor | Operation] = []
        structure = _flatten(fetches, flat, self._graph)
        feeds = self._convert_feeds(feed_dict or {})
        fetch_tensors = [x for x in dict.fromkeys(flat) if isinstance(x, Tensor)]
        target_ops = [x for x in dict.fromkeys(flat) if isinstance(x, Operation)]
        plan, order = self._plan(fetch_tensors, target_ops, list(feeds))
        values = list(feeds.values())
        results = plan.execute(values if order is None else [values[i] for i in order])
        by_tensor = {t: self._to_user(v) for t, v in zip(fetch_tensors, results)}
        return _rebuild(structure, by_tensor)

    def _prepare(self, fetches: Any, feed_dict: Mapping[Any, Any] | None) -> _Runner | None:
        """A runner for this fetch structure and these feed keys, or None to use the general path."""
        flat: list[Tensor | Operation] = []
        structure = _flatten(fetches, flat, self._graph)
        elements = [self._graph.as_graph_element(k) for k in (feed_dict or {})]
        feed_tensors = [e for e in elements if isinstance(e, Tensor)]
        if len(feed_tensors) != len(elements) or len(set(feed_tensors)) != len(feed_tensors):
            return None  # let the general path raise its error / keep its last-wins rule
        fetch_tensors = [x for x in dict.fromkeys(flat) if isinstance(x, Tensor)]
        target_ops = [x for x in dict.fromkeys(flat) if isinstance(x, Operation)]
        plan, order = self._plan(fetch_tensors, target_ops, feed_tensors)
        return _Runner(plan, structure, fetch_tensors, feed_tensors, self._to_user, order, self._backend.convert_feed)

    def _to_user(self, value: Any) -> Any:
        if isinstance(value, np.generic):
            return value  # NumPy scalars are immutable and share nothing
        if not self._backend.host_fetches and not isinstance(value, np.ndarray):
            return value  # a device array the backend was asked to return as it is (CuPy's fetch="device")
        value = np.asarray(value) if not isinstance(value, np.ndarray) else value
        # A snapshot: another thread may be initializing a variable (adding to the dict) meanwhile.
        variables = tuple(self._state.variables.values())
        aliases_state = bool(variables) and any(np.may_share_memory(value, v) for v in variables)
        if not value.flags.writeable or aliases_state:
            value = value.copy()
        return value[()] if value.ndim == 0 else value

    def _convert_feeds(self, feed_dict: Mapping[Any, Any]) -> dict[Tensor, Any]:
        feeds: dict[Tensor, Any] = {}
        for key, value in feed_dict.items():
            element = self._graph.as_graph_element(key)
            if not isinstance(element, Tensor):
                raise TypeError(f"Cannot feed an Operation ({element.name}); feed one of its outputs.")
            feeds[element] = self._backend.convert_feed(element, value)
        return feeds

    def close(self) -> None:
        self._closed = True
        self._plans.clear()
        self._runners.clear()

    def as_default(self) -> contextlib.AbstractContextManager[Session]:
        """A context in which this Session is the default one (``eval()``/``run()``); it stays open after."""
        return _as_default(self)

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


@contextlib.contextmanager
def _as_default(session: Session) -> Iterator[Session]:
    default_session.push(session)
    try:
        yield session
    finally:
        default_session.pop(session)


class InteractiveSession(Session):
    """A Session that makes itself (and its graph) the default when created, for shells and notebooks.

    ``t.eval()`` and ``op.run()`` then work without a ``with`` block, as with TF 1.x's
    ``tf.InteractiveSession``; ``close()`` restores the previous defaults.

    Examples
    --------
    >>> sess = cr.InteractiveSession()
    >>> print(cr.constant(2.0).eval())
    2.0
    >>> sess.close()
    """

    def __init__(self, target: str = "", graph: Graph | None = None, config: Any = None, **kwargs: Any) -> None:
        super().__init__(target, graph, config, **kwargs)
        ctx = self._graph.as_default()
        ctx.__enter__()
        self._interactive_context: Any = ctx
        default_session.push(self)

    def close(self) -> None:
        if self._interactive_context is not None:
            default_session.pop(self)
            ctx, self._interactive_context = self._interactive_context, None
            with contextlib.suppress(IndexError):
                ctx.__exit__(None, None, None)
        super().close()


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


def _fetch_key(fetches: Any) -> Any:
    """A hashable key for a fetch structure of tensors, ops and names, or None when there is none."""
    if isinstance(fetches, (Tensor, Operation, str)):
        return fetches
    if isinstance(fetches, (list, tuple)):
        parts = []
        for f in fetches:
            k = _fetch_key(f)
            if k is None:
                return None
            parts.append(k)
        return (type(fetches), tuple(parts))
    if isinstance(fetches, Mapping):
        parts = []
        for name, f in fetches.items():
            k = _fetch_key(f)
            if k is None:
                return None
            parts.append((name, k))
        return (type(fetches), tuple(parts))
    if has_graph_element(fetches):
        return fetches  # a Variable: hashes by identity
    return None


class _Runner:
    """One prepared (fetch structure, feed keys) pair: checks feeds, runs the plan, builds the result.

    ``Session.run`` calls it only while the Session is open (closing drops every runner).
    """

    def __init__(
        self,
        plan: Plan,
        structure: Any,
        fetch_tensors: list[Tensor],
        feeds: list[Tensor],
        to_user: Callable[[Any], Any],
        order: list[int] | None = None,
        convert: Callable[[Tensor, Any], Any] = convert_feed,
    ) -> None:
        self._execute = plan.execute
        self._convert = convert
        self._feeds = [(t, t.dtype.as_numpy_dtype) for t in feeds]
        self._order = order  # the plan's feed order, as positions in ``feeds`` (None: the same)
        self._build: Callable[[list[Any]], Any]
        if isinstance(structure, Tensor):
            self._build = lambda results: to_user(results[0])
        elif isinstance(structure, Operation):
            self._build = lambda results: None
        else:

            def build(results: list[Any]) -> Any:
                return _rebuild(structure, {t: to_user(v) for t, v in zip(fetch_tensors, results)})

            self._build = build

    def __call__(self, feed_dict: Mapping[Any, Any] | None) -> Any:
        values = []
        if feed_dict:
            for (element, np_dtype), value in zip(self._feeds, feed_dict.values()):
                # Object arrays (strings) are checked and encoded to bytes by convert_feed.
                if type(value) is np.ndarray and value.dtype == np_dtype and np_dtype is not np.object_:
                    check_feed_shape(element, value)
                    values.append(value)
                else:
                    values.append(self._convert(element, value))
        if self._order is not None:
            values = [values[i] for i in self._order]
        return self._build(self._execute(values))
