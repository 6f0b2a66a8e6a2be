"""``cr.function``: trace a Python function of tensors into a graph once per input signature.

The signature of a call is the structure of its arguments plus, for every leaf, either the
(shape, dtype) of an array (a *dynamic* leaf: it becomes a placeholder and is fed at each call)
or the value of a Python scalar, string or other hashable object (a *static* leaf: it is passed
to the function as is and is part of the cache key). The first call with a new signature
traces: a fresh ``cr.Graph``, placeholders for the dynamic leaves, the function called on them.
The graph, its Session and the execution plans are cached, so later calls only feed arrays and
run the plans. The cache keeps the 128 most recently used signatures per function (the
``CHAINRULE_FUNCTION_CACHE_SIZE`` environment variable, or ``f.cache_maxsize``); an older one is
traced again when it comes back, so a program calling with ever new signatures stays bounded.

Inside a trace (or when called with tensors) a ``Function`` just calls its symbolic body, so
transforms compose: ``cr.jacobian(cr.grad(f))`` builds one graph holding both.

Derivative transforms whose result is linear in a large number of basis vectors (Jacobian
rows or columns) do not have to copy the linear graph once per vector: they return a
:class:`LinearProgram`, which the executable splits from the rest of the graph. The forward
part runs once and leaves its *residuals* (the forward values the linear part reads); the
linear part then runs once per vector. A later batching pass can run all vectors at once.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from chainrule.framework import dtypes
from chainrule.framework.graph import Graph, Tensor, as_tensor_or_none, is_tensor_like, reachable
from chainrule.framework.lru import LRUCache, size_from_environment
from chainrule.ops.constant_op import placeholder
from chainrule.runtime.backends import resolve_backend
from chainrule.runtime.plan import Plan
from chainrule.runtime.session import Session
from chainrule.transforms import pytree

# --------------------------------------------------------------------------------------------
# tracing state
# --------------------------------------------------------------------------------------------
_local = threading.local()


def _trace_stack() -> list[_TraceContext]:
    stack = getattr(_local, "stack", None)
    if stack is None:
        stack = _local.stack = []
    return stack


def is_tracing() -> bool:
    """True while some ``cr.function`` (or derivative transform) is tracing its graph."""
    return bool(_trace_stack())


@dataclass
class _TraceContext:
    graph: Graph
    programs: list[LinearProgram] = field(default_factory=list)


@contextlib.contextmanager
def _tracing(ctx: _TraceContext) -> Iterator[_TraceContext]:
    stack = _trace_stack()
    stack.append(ctx)
    try:
        with ctx.graph.as_default():
            yield ctx
    finally:
        stack.pop()


def register_program(program: LinearProgram) -> None:
    """Attach a linear program to the graph being traced (see :class:`ConcreteFunction`)."""
    stack = _trace_stack()
    if not stack:
        raise RuntimeError("register_program called outside a trace")
    stack[-1].programs.append(program)


def _tensor_or_self(x: Any) -> Any:
    """A Variable's (tensor-like's) tensor; anything else as it is."""
    t = as_tensor_or_none(x)
    return x if t is None else t


# --------------------------------------------------------------------------------------------
# linear programs: the part of a graph that is linear in some placeholders
# --------------------------------------------------------------------------------------------
@dataclass(eq=False)  # compared by identity
class LinearProgram:
    """Tensors ``outputs`` that are linear in the placeholders ``inputs``.

    ``evaluate(run)`` assembles results from runs of the linear part: ``run(values)`` feeds
    one array per input and returns one array per output. A transform places
    ``Deferred(program, i)`` leaves in its result for the ``i``-th assembled value.
    """

    inputs: list[Tensor]
    outputs: list[Tensor]
    evaluate: Callable[[Callable[[list[np.ndarray]], list[np.ndarray]]], list[Any]] | None = None
    meta: Any = None  # whatever the transform that made it needs to interpret its runs


@dataclass(frozen=True)
class Deferred:
    """An output leaf standing for the ``index``-th value that ``program.evaluate`` assembles."""

    program: LinearProgram
    index: int


def _split(program: LinearProgram) -> list[Tensor]:
    """The residuals of ``program``: tensors computed without its inputs that its linear part reads."""
    # The ops downstream of the program's inputs, and of those, the ones that the outputs need.
    depends = reachable((t.op for t in program.inputs), lambda op: [c for out in op.outputs for c in out.consumers()])
    linear_ops = reachable(
        (t.op for t in program.outputs if t.op in depends),
        lambda op: [*(t.op for t in op.inputs if t.op in depends), *(c for c in op.control_inputs if c in depends)],
    )
    residuals: dict[Tensor, None] = {}
    for op in sorted(linear_ops, key=lambda o: o.id):
        for t in op.inputs:
            if t.op not in depends:
                residuals[t] = None
    for t in program.outputs:  # an output that does not depend on the inputs at all
        if t.op not in depends:
            residuals[t] = None
    return list(residuals)


# --------------------------------------------------------------------------------------------
# one traced signature
# --------------------------------------------------------------------------------------------
class ConcreteFunction:
    """The graph traced for one input signature, with its Session and cached execution plans.

    Attributes
    ----------
    graph : the ``cr.Graph`` holding the traced computation (inspect it, render it).
    session : the ``cr.Session`` that runs it.
    inputs : the placeholders, one per dynamic (array) leaf of the arguments.
    outputs : the fetched tensors (plain results, then residuals of linear programs).
    """

    def __init__(
        self,
        graph: Graph,
        inputs: list[Tensor],
        out_treedef: Any,
        out_leaves: list[Any],
        programs: list[LinearProgram],
        backend: Any = None,
    ) -> None:
        self.graph = graph
        # ``backend`` None: the ``CHAINRULE_BACKEND`` one, read now (``runtime.backends.resolve_backend``).
        self.session = Session(graph=graph, backend=backend)
        self.inputs = inputs
        self._out_treedef = out_treedef
        # Each output leaf: ("t", fetch index) | ("c", constant array) | ("d", program index, value index).
        self._leaf_plan: list[tuple[Any, ...]] = []
        fetches: dict[Tensor, int] = {}
        all_programs: list[LinearProgram] = list(programs)
        for leaf in out_leaves:
            if isinstance(leaf, Deferred):
                if leaf.program not in all_programs:
                    all_programs.append(leaf.program)
                self._leaf_plan.append(("d", all_programs.index(leaf.program), leaf.index))
            elif isinstance(leaf, Tensor):
                self._leaf_plan.append(("t", fetches.setdefault(leaf, len(fetches))))
            else:
                const = np.array(leaf)
                const.flags.writeable = False  # so that to_user hands out copies
                self._leaf_plan.append(("c", const))
        self.programs = all_programs
        residual_lists = [_split(p) for p in all_programs]
        for residuals in residual_lists:
            for t in residuals:
                fetches.setdefault(t, len(fetches))
        self.outputs = list(fetches)
        # The Session's run state (random streams) is shared by every plan of this function.
        state = self.session.run_state
        self._forward_plan = Plan(self.outputs, [], inputs, np, state)
        self._linear = [
            ([fetches[t] for t in residuals], Plan(p.outputs, [], residuals + p.inputs, np, state))
            for p, residuals in zip(all_programs, residual_lists)
        ]
        self._num_program_inputs = [len(p.inputs) for p in all_programs]
        self._has_deferred = any(kind == "d" for kind, *_ in self._leaf_plan)

    @property
    def plan(self) -> Plan:
        """The compiled plan of the forward run (``plan.program`` is its optimized IR)."""
        return self._forward_plan

    @property
    def num_ops(self) -> int:
        """Number of operations in the traced graph."""
        return len(self.graph.get_operations())

    def forward(self, values: Sequence[np.ndarray]) -> list[Any]:
        """Run the graph on the dynamic leaves; returns every fetched value (outputs and residuals)."""
        return self._forward_plan.execute(values)

    def run_linear(self, program: int, fetched: list[Any], values: Sequence[np.ndarray]) -> list[Any]:
        """Run the linear part of ``programs[program]`` on its input ``values``, reusing the forward run."""
        slots, plan = self._linear[program]
        if len(values) != self._num_program_inputs[program]:
            raise ValueError(f"linear program takes {self._num_program_inputs[program]} inputs, got {len(values)}")
        return plan.execute([fetched[i] for i in slots] + list(values))

    def __call__(self, values: Sequence[np.ndarray]) -> Any:
        fetched = self.forward(values)
        assembled: dict[int, list[Any]] = {}
        if self._has_deferred:
            for kind, *where in self._leaf_plan:
                if kind == "d" and where[0] not in assembled:
                    p: int = where[0]
                    evaluate = self.programs[p].evaluate
                    if evaluate is None:
                        raise TypeError("a Deferred output needs a LinearProgram with an evaluate function")
                    assembled[p] = evaluate(functools.partial(self.run_linear, p, fetched))
        leaves = []
        for kind, *where in self._leaf_plan:
            if kind == "t":
                leaves.append(to_user(fetched[where[0]], values))
            elif kind == "c":
                leaves.append(to_user(where[0], values))
            else:
                leaves.append(to_user(assembled[where[0]][where[1]], values))
        return pytree.unflatten(self._out_treedef, leaves)

    def output_structure(self, fetched: list[Any], values: Sequence[np.ndarray]) -> Any:
        """The plain (non-deferred) outputs of a forward run, in the traced structure.

        They are copies: the forward values stay with the residuals for later linear runs.
        """
        leaves = []
        for kind, *where in self._leaf_plan:
            if kind == "t":
                leaves.append(to_user(np.array(fetched[where[0]]), values))
            elif kind == "c":
                leaves.append(to_user(where[0], values))
            else:
                raise TypeError("output_structure: the function has deferred outputs")
        return pytree.unflatten(self._out_treedef, leaves)


def to_user(value: Any, inputs: Sequence[np.ndarray]) -> Any:
    """A result the caller owns: never a read-only constant, never a view of an input array."""
    arr = value if isinstance(value, np.ndarray) else np.asarray(value)
    if not arr.flags.writeable or any(np.may_share_memory(arr, a) for a in inputs):
        arr = arr.copy()
    return arr[()] if arr.ndim == 0 else arr


# --------------------------------------------------------------------------------------------
# signatures
# --------------------------------------------------------------------------------------------
_STATIC_SCALARS = (bool, int, float, complex, str, bytes)

# Traced signatures kept per function (each holds a graph, its Session and plans: tens of KB and up).
CACHE_SIZE = 128
CACHE_SIZE_VARIABLE = "CHAINRULE_FUNCTION_CACHE_SIZE"


def _is_array(x: Any) -> bool:
    return isinstance(x, (np.ndarray, np.generic))


def as_float_array(leaf: Any, what: str) -> np.ndarray:
    """A leaf of a differentiated argument as a float array (Python numbers become float64)."""
    if isinstance(leaf, bool) or isinstance(leaf, np.bool_):
        raise TypeError(f"{what}: cannot differentiate with respect to a bool ({leaf!r})")
    if isinstance(leaf, (int, float)):
        return np.asarray(leaf, dtype=np.float64)
    arr = np.asarray(leaf)
    if arr.dtype.kind != "f":
        raise TypeError(
            f"{what}: derivatives need float inputs, got an array of dtype {arr.dtype}; pass x.astype(np.float64)"
        )
    return arr


def _signature(
    args: tuple[Any, ...], kwargs: dict[str, Any], float_argnums: tuple[int, ...], name: str
) -> tuple[Any, list[Any], list[np.ndarray]] | None:
    """(cache key, leaves with arrays in the dynamic positions, the dynamic arrays).

    None when some leaf is a tensor: the caller then builds the ops inline.
    """
    leaves: list[Any] = []
    arg_treedefs = []
    bounds = []
    for a in args:
        a_leaves, td = pytree.flatten(a)
        bounds.append((len(leaves), len(leaves) + len(a_leaves)))
        leaves.extend(a_leaves)
        arg_treedefs.append(td)
    kwargs = dict(sorted(kwargs.items())) if kwargs else {}
    kw_leaves, kw_treedef = pytree.flatten(kwargs)
    leaves.extend(kw_leaves)
    if any(is_tensor_like(x) for x in leaves):
        return None
    for i in float_argnums:
        if i >= len(args):
            raise TypeError(f"{name}: argnums {i} is out of range for a call with {len(args)} positional arguments")
        for j in range(*bounds[i]):
            leaves[j] = as_float_array(leaves[j], name)
    keys: list[Any] = []
    dynamic: list[np.ndarray] = []
    for i, leaf in enumerate(leaves):
        if _is_array(leaf) or (hasattr(leaf, "__array__") and not isinstance(leaf, _STATIC_SCALARS)):
            arr = np.asarray(leaf)
            if arr.dtype.kind not in "biuf":
                raise TypeError(f"{name}: unsupported array dtype {arr.dtype} for argument leaf {i}")
            leaves[i] = arr
            dynamic.append(arr)
            keys.append((arr.shape, arr.dtype.str))
        else:
            try:
                hash(leaf)
            except TypeError:
                raise TypeError(
                    f"{name}: argument leaf {i} of type {type(leaf).__name__} is neither an array nor hashable; "
                    "pass arrays (np.asarray) or hashable static values"
                ) from None
            keys.append(("static", type(leaf), leaf))
    treedef = (tuple(arg_treedefs), kw_treedef)
    return (treedef, tuple(keys)), leaves, dynamic


def _unflatten_call(treedef: Any, leaves: list[Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
    arg_treedefs, kw_treedef = treedef
    args = []
    pos = 0
    for td in arg_treedefs:
        n = pytree.num_leaves(td)
        args.append(pytree.unflatten(td, leaves[pos : pos + n]))
        pos += n
    return tuple(args), pytree.unflatten(kw_treedef, leaves[pos:])


# --------------------------------------------------------------------------------------------
# the user-facing callable
# --------------------------------------------------------------------------------------------
class Function:
    """A function of tensors made callable on NumPy arrays; see :func:`function`.

    Attributes
    ----------
    trace_count : how many signatures have been traced (each trace builds one graph).
    """

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        symbolic: Callable[..., Any] | None = None,
        lower: Callable[..., Any] | None = None,
        float_argnums: tuple[int, ...] = (),
        name: str | None = None,
        backend: Any = None,
    ) -> None:
        self._fn = fn
        # What runs the traced graphs: a backend name, a ``Backend``, or None (``CHAINRULE_BACKEND``,
        # else NumPy, when a signature is traced). A name is checked now, so a typo fails here.
        if backend is not None:
            resolve_backend(backend)
        self._backend = backend
        # ``symbolic`` builds the ops inline (nested use); ``lower`` builds this Function's own
        # graph and may return Deferred leaves (linear parts run per basis vector).
        self._symbolic = symbolic or fn
        self._lower = lower or self._symbolic
        self._float_argnums = tuple(float_argnums)
        self._name = name or f"cr.function({getattr(fn, '__name__', 'f')})"
        self._cache: LRUCache[ConcreteFunction] = LRUCache(size_from_environment(CACHE_SIZE_VARIABLE, CACHE_SIZE))
        # One trace per signature even when several threads call at once (the trace itself
        # builds into a graph of its own and is per thread: see ``_tracing``).
        self._trace_lock = threading.RLock()
        self.trace_count = 0
        functools.update_wrapper(self, fn, updated=())

    def __repr__(self) -> str:
        return f"<{self._name}: {len(self._cache)} traced signature(s)>"

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        # Decorating a method: bind ``self`` as a static leading argument.
        return self if obj is None else functools.partial(self, obj)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if is_tracing():
            return self._symbolic(*args, **kwargs)
        found = self.lookup(args, kwargs)
        if found is None:  # called with tensors: build inline in their graph
            return self._symbolic(*args, **kwargs)
        concrete, dynamic = found
        return concrete(dynamic)

    def get_concrete_function(self, *args: Any, **kwargs: Any) -> ConcreteFunction:
        """The traced graph for this call's signature (traced now if it is new)."""
        found = self.lookup(args, kwargs)
        if found is None:
            raise TypeError(f"{self._name}: get_concrete_function takes arrays, not tensors")
        return found[0]

    def cache_size(self) -> int:
        """How many traced signatures are kept (at most ``cache_maxsize``)."""
        return len(self._cache)

    @property
    def cache_maxsize(self) -> int:
        """How many traced signatures are kept, least recently used dropped first (retraced if called again).

        Defaults to ``CACHE_SIZE`` (128) or the ``CHAINRULE_FUNCTION_CACHE_SIZE`` environment variable.
        """
        return self._cache.maxsize

    @cache_maxsize.setter
    def cache_maxsize(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"{self._name}: cache_maxsize must be >= 1, got {size}")
        self._cache.maxsize = size

    def lookup(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[ConcreteFunction, list[np.ndarray]] | None:
        """The traced graph for this call's signature (traced now if it is new) and the call's arrays.

        Returns ``(concrete, dynamic)``: feeding ``dynamic`` to ``concrete`` runs the call. None
        when some argument is a tensor (the call would build its ops inline instead).
        """
        sig = _signature(args, kwargs, self._float_argnums, self._name)
        if sig is None:
            return None
        key, leaves, dynamic = sig
        concrete = self._cache.get(key)
        if concrete is None:
            with self._trace_lock:
                concrete = self._cache.get(key)
                if concrete is None:
                    concrete = self._cache.put(key, self._trace(key[0], leaves))
        return concrete, dynamic

    def _trace(self, treedef: Any, leaves: list[Any]) -> ConcreteFunction:
        graph = Graph()
        ctx = _TraceContext(graph)
        with _tracing(ctx):
            inputs: list[Tensor] = []
            traced_leaves = []
            for i, leaf in enumerate(leaves):
                if isinstance(leaf, np.ndarray):
                    p = placeholder(dtypes.as_dtype(leaf.dtype), leaf.shape, name=f"arg{i}")
                    inputs.append(p)
                    traced_leaves.append(p)
                else:
                    traced_leaves.append(leaf)
            args, kwargs = _unflatten_call(treedef, traced_leaves)
            out = self._lower(*args, **kwargs)
            out_leaves, out_treedef = pytree.flatten(out)
            out_leaves = [_tensor_or_self(x) for x in out_leaves]
            for x in out_leaves:
                if isinstance(x, Tensor) and x.graph is not graph:
                    raise ValueError(
                        f"{self._name} returned {x!r}, a tensor of another graph: a traced function must build "
                        "its result from its arguments (and constants), not from tensors it closes over"
                    )
        self.trace_count += 1
        return ConcreteFunction(graph, inputs, out_treedef, out_leaves, ctx.programs, backend=self._backend)

    @property
    def backend(self) -> Any:
        """The backend asked for (a name or a ``Backend``; None: the ``CHAINRULE_BACKEND`` one, else NumPy)."""
        return self._backend

    def with_backend(self, backend: Any) -> Function:
        """The same function, its graphs run by ``backend`` (a new Function: nothing traced is shared)."""
        return Function(
            self._fn,
            symbolic=self._symbolic,
            lower=self._lower,
            float_argnums=self._float_argnums,
            name=self._name,
            backend=backend,
        )


def function(fn: Callable[..., Any] | None = None, *, backend: Any = None) -> Any:
    """Make a function of chainrule tensors callable on NumPy arrays, traced once per signature.

    ``fn`` calls ``cr.*`` ops on its arguments. Array arguments (NumPy arrays and scalars,
    also inside tuples, lists and dicts) become placeholders of the same shape and dtype; other
    leaves (Python numbers, strings, None, hashable objects) are static: passed to ``fn`` as
    they are and part of the cache key, so a new value traces a new graph (pass
    ``np.float64(v)`` to make a scalar dynamic). Arrays keep their dtype. Results are NumPy
    arrays (NumPy scalars for 0-d) in the structure ``fn`` returned.

    Inside another trace, or called with tensors, the function just builds its ops inline.

    Examples
    --------
    >>> @cr.function
    ... def f(x, scale=2.0):
    ...     return cr.reduce_sum(cr.sin(x) * scale)
    >>> print(round(float(f(np.linspace(0, 1, 5))), 6))  # traces once for float64[5]
    4.499878
    >>> _ = f(np.ones(5)); f.trace_count  # same signature: runs the cached graph
    1

    ``backend`` chooses what runs the traced graphs (``"numpy"``, ``"numba"``, a ``Backend``); the
    default is the ``CHAINRULE_BACKEND`` environment variable's, else NumPy
    (``@cr.function(backend="numba")`` as a decorator).
    """
    if fn is None:
        return functools.partial(function, backend=backend)
    if isinstance(fn, Function):
        return fn if backend is None or backend == fn.backend else fn.with_backend(backend)
    return Function(fn, backend=backend)


# --------------------------------------------------------------------------------------------
# per-function caches of derived transforms (vjp(f, ...), hvp(f, ...), jvp(f, ...))
# --------------------------------------------------------------------------------------------
_CACHE_ATTR = "_chainrule_transforms"


def cached_transform(fn: Callable[..., Any], key: Any, make: Callable[[], Function]) -> Function:
    """The ``Function`` for transform ``key`` of ``fn``, created once and kept on ``fn`` itself.

    Keeping it on the function (not in a global dict) lets it die with the function. Callables
    that take no attributes (bound methods, builtins) get a new, uncached transform each call.
    """
    if inspect.ismethod(fn):  # its __dict__ is the shared function's: caching there would mix instances
        return make()
    table = getattr(fn, "__dict__", {}).get(_CACHE_ATTR)
    if table is None:
        table = {}
        try:
            setattr(fn, _CACHE_ATTR, table)
        except (AttributeError, TypeError):
            return make()
    transform = table.get(key)
    if transform is None:
        transform = table[key] = make()
    return transform
