"""Graph, Operation and Tensor: the deferred computation a Session runs.

A Graph owns Operations; each Operation has input Tensors, output Tensors,
control inputs and attributes, and remembers the user's line that created it.
Nothing here computes values: kernels live in the op registry (``chainrule.ops``)
and execution in ``chainrule.runtime``.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

from chainrule.framework import errors
from chainrule.framework.dtypes import DType
from chainrule.framework.source import SourceLocation, current_composite, user_frame
from chainrule.framework.tensor_shape import TensorShape, as_shape

_VALID_NAME = re.compile(r"^[A-Za-z0-9.][A-Za-z0-9_.\-/>]*$")


# -- the tensor-like protocol ---------------------------------------------------------------
# TensorFlow's duck-typing names: an object that stands for a tensor (a Variable) defines
# ``_as_tensor()`` (its value as a Tensor) and ``_as_graph_element()`` (what a Session fetches).
# Other packages go through these helpers rather than calling the underscore names.
def as_graph_element(obj: Any) -> Any:
    """``obj._as_graph_element()`` for an object that defines the protocol (a Variable), else ``obj``."""
    convert = getattr(obj, "_as_graph_element", None)
    return convert() if convert is not None else obj


def has_graph_element(obj: Any) -> bool:
    """Whether ``obj`` defines the ``_as_graph_element`` protocol (a Variable does; a Tensor does not)."""
    return hasattr(obj, "_as_graph_element")


def as_tensor_or_none(obj: Any) -> Tensor | None:
    """``obj`` if it is a Tensor, ``obj._as_tensor()`` for a tensor-like object (a Variable), else None."""
    if isinstance(obj, Tensor):
        return obj
    convert = getattr(obj, "_as_tensor", None)
    return convert() if convert is not None else None


def is_tensor_like(obj: Any) -> bool:
    """Whether ``obj`` is a Tensor or stands for one (defines ``_as_tensor``, as a Variable does)."""
    return isinstance(obj, Tensor) or hasattr(obj, "_as_tensor")


# Tensor operators by name ("add", "neg", "getitem"...), installed by the ops layer.
_OPERATORS: dict[str, Callable[..., Any]] = {}


def install_operators(implementations: dict[str, Callable[..., Any]]) -> None:
    """Give ``Tensor`` its operators: ``{"add": fn(x, y), "neg": fn(x), "getitem": fn(x, key), ...}``."""
    _OPERATORS.update(implementations)


def installed_operators() -> dict[str, Callable[..., Any]]:
    """A copy of the operator implementations installed so far (to wrap one, then install the wrapper)."""
    return dict(_OPERATORS)


class Tensor:
    """A symbolic handle to one output of an Operation; its value exists only inside ``Session.run``."""

    __slots__ = ("_op", "_value_index", "_dtype", "_shape", "__weakref__")
    # NumPy defers to our reflected operators (``np_array + tensor`` builds an op).
    __array_ufunc__ = None

    def __init__(self, op: Operation, value_index: int, dtype: DType, shape: TensorShape) -> None:
        self._op = op
        self._value_index = value_index
        self._dtype = dtype
        self._shape = shape

    op = property(lambda self: self._op, doc="The Operation that produces this tensor.")
    value_index = property(lambda self: self._value_index, doc="Which output of ``op`` this is.")
    dtype = property(lambda self: self._dtype, doc="Element type (a ``cr.DType``).")
    graph = property(lambda self: self._op.graph, doc="The Graph this tensor lives in.")
    device = property(lambda self: self._op.device, doc="The device of the op that produces it.")
    name = property(lambda self: f"{self._op.name}:{self._value_index}", doc='``"op_name:index"``.')

    @property
    def shape(self) -> TensorShape:
        """Static shape; unknown dimensions are None."""
        return self._shape

    def get_shape(self) -> TensorShape:
        return self._shape

    def set_shape(self, shape: Any) -> None:
        """Refine the static shape with information the graph could not infer."""
        self._shape = self._shape.merge_with(as_shape(shape))

    def consumers(self) -> list[Operation]:
        return self.graph.consumers(self)

    def eval(self, feed_dict: Any = None, session: Any = None) -> Any:
        from chainrule.framework import default_session

        sess = session or default_session.get()
        return sess.run(self, feed_dict=feed_dict)

    def __bool__(self) -> bool:
        raise TypeError(
            f"Using a cr.Tensor ({self.name}) as a Python bool is not allowed: the value exists only "
            "when a Session runs the graph. Use cr.cond(pred, true_fn, false_fn) to choose what to compute, "
            "or cr.where / cr.logical_* for elementwise choices."
        )

    def __iter__(self) -> Iterator[Tensor]:
        dims = self._shape.dims
        if dims is None or not dims or dims[0] is None:
            raise TypeError(
                f"Cannot iterate over tensor {self.name} of shape {self._shape}: leading dimension unknown."
            )
        return iter([self[i] for i in range(dims[0])])

    def __len__(self) -> int:
        dims = self._shape.dims
        if dims is None or not dims or dims[0] is None:
            raise TypeError(f"len() of tensor {self.name} with shape {self._shape} is not known statically.")
        return dims[0]

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return f"<cr.Tensor '{self.name}' shape={self._shape} dtype={self._dtype.name}>"

    # Operators: implemented by the ops layer (``install_operators``), so framework/ stays below ops/.
    def __add__(self, other: Any) -> Tensor:
        return _OPERATORS["add"](self, other)

    def __radd__(self, other: Any) -> Tensor:
        return _OPERATORS["add"](other, self)

    def __sub__(self, other: Any) -> Tensor:
        return _OPERATORS["sub"](self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return _OPERATORS["sub"](other, self)

    def __mul__(self, other: Any) -> Tensor:
        return _OPERATORS["mul"](self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return _OPERATORS["mul"](other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return _OPERATORS["truediv"](self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return _OPERATORS["truediv"](other, self)

    def __floordiv__(self, other: Any) -> Tensor:
        return _OPERATORS["floordiv"](self, other)

    def __rfloordiv__(self, other: Any) -> Tensor:
        return _OPERATORS["floordiv"](other, self)

    def __mod__(self, other: Any) -> Tensor:
        return _OPERATORS["mod"](self, other)

    def __rmod__(self, other: Any) -> Tensor:
        return _OPERATORS["mod"](other, self)

    def __pow__(self, other: Any) -> Tensor:
        return _OPERATORS["pow"](self, other)

    def __rpow__(self, other: Any) -> Tensor:
        return _OPERATORS["pow"](other, self)

    def __matmul__(self, other: Any) -> Tensor:
        return _OPERATORS["matmul"](self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return _OPERATORS["matmul"](other, self)

    def __and__(self, other: Any) -> Tensor:
        return _OPERATORS["and"](self, other)

    def __rand__(self, other: Any) -> Tensor:
        return _OPERATORS["and"](other, self)

    def __or__(self, other: Any) -> Tensor:
        return _OPERATORS["or"](self, other)

    def __ror__(self, other: Any) -> Tensor:
        return _OPERATORS["or"](other, self)

    def __lt__(self, other: Any) -> Tensor:
        return _OPERATORS["lt"](self, other)

    def __le__(self, other: Any) -> Tensor:
        return _OPERATORS["le"](self, other)

    def __gt__(self, other: Any) -> Tensor:
        return _OPERATORS["gt"](self, other)

    def __ge__(self, other: Any) -> Tensor:
        return _OPERATORS["ge"](self, other)

    def __neg__(self) -> Tensor:
        return _OPERATORS["neg"](self)

    def __abs__(self) -> Tensor:
        return _OPERATORS["abs"](self)

    def __invert__(self) -> Tensor:
        return _OPERATORS["invert"](self)

    def __getitem__(self, key: Any) -> Tensor:
        return _OPERATORS["getitem"](self, key)

    # -- NumPy's ndarray interface (implemented by chainrule.numpy, installed with ``install_operators``) --
    # ``==``/``!=`` are elementwise only on values traced by a transform (cr.grad, cr.vmap, cr.function...);
    # elsewhere they compare identity, as in TensorFlow 1.x, so tensors stay usable as dict keys and set
    # members (feed_dict). Hashing is by identity everywhere. See docs/architecture.md, "NumPy front end".
    def __eq__(self, other: object) -> Any:
        eq = _OPERATORS.get("eq")
        return NotImplemented if eq is None else eq(self, other)

    def __ne__(self, other: object) -> Any:
        ne = _OPERATORS.get("ne")
        return NotImplemented if ne is None else ne(self, other)

    def ref(self) -> TensorRef:
        """A hashable reference that compares by identity (TF 2's ``Tensor.ref()``); ``.deref()`` gives the tensor."""
        return TensorRef(self)

    def _ndarray(self, method: str, *args: Any, **kwargs: Any) -> Any:
        return _OPERATORS["ndarray_method"](method, self, args, kwargs)

    T = property(lambda self: self._ndarray("T"), doc="The transpose (NumPy's ``ndarray.T``: axes reversed).")
    mT = property(lambda self: self._ndarray("mT"), doc="The last two axes swapped (ndarray.mT).")  # noqa: N815
    real = property(lambda self: self._ndarray("real"), doc="The real part (NumPy's ``ndarray.real``).")
    imag = property(lambda self: self._ndarray("imag"), doc="The imaginary part (NumPy's ``ndarray.imag``).")

    @property
    def ndim(self) -> int | None:
        """The rank (NumPy's ``ndarray.ndim``; None when unknown)."""
        return self._shape.rank

    @property
    def size(self) -> int | None:
        """The number of elements (NumPy's ``ndarray.size``; None when not known statically)."""
        return self._shape.num_elements()

    def sum(self, *args: Any, **kwargs: Any) -> Any:
        """NumPy's ``ndarray.sum`` (``chainrule.numpy.sum``)."""
        return self._ndarray("sum", *args, **kwargs)

    def mean(self, *args: Any, **kwargs: Any) -> Any:
        return self._ndarray("mean", *args, **kwargs)

    def max(self, *args: Any, **kwargs: Any) -> Any:
        return self._ndarray("max", *args, **kwargs)

    def min(self, *args: Any, **kwargs: Any) -> Any:
        return self._ndarray("min", *args, **kwargs)

    def prod(self, *args: Any, **kwargs: Any) -> Any:
        return self._ndarray("prod", *args, **kwargs)

    def std(self, *args: Any, **kwargs: Any) -> Any:
        return self._ndarray("std", *args, **kwargs)

    def var(self, *args: Any, **kwargs: Any) -> Any:
        return self._ndarray("var", *args, **kwargs)

    def all(self, *args: Any, **kwargs: Any) -> Any:
        return self._ndarray("all", *args, **kwargs)

    def any(self, *args: Any, **kwargs: Any) -> Any:
        return self._ndarray("any", *args, **kwargs)

    def argmax(self, *args: Any, **kwargs: Any) -> Any:
        return self._ndarray("argmax", *args, **kwargs)

    def argmin(self, *args: Any, **kwargs: Any) -> Any:
        return self._ndarray("argmin", *args, **kwargs)

    def argsort(self, *args: Any, **kwargs: Any) -> Any:
        return self._ndarray("argsort", *args, **kwargs)

    def cumsum(self, *args: Any, **kwargs: Any) -> Any:
        return self._ndarray("cumsum", *args, **kwargs)

    def cumprod(self, *args: Any, **kwargs: Any) -> Any:
        return self._ndarray("cumprod", *args, **kwargs)

    def reshape(self, *shape: Any, **kwargs: Any) -> Any:
        """NumPy's ``ndarray.reshape``: ``x.reshape(2, 3)`` or ``x.reshape((2, 3))``."""
        return self._ndarray("reshape", *shape, **kwargs)

    def transpose(self, *axes: Any) -> Any:
        """NumPy's ``ndarray.transpose``: ``x.transpose()``, ``x.transpose(1, 0)`` or ``x.transpose((1, 0))``."""
        return self._ndarray("transpose", *axes)

    def swapaxes(self, axis1: int, axis2: int) -> Any:
        return self._ndarray("swapaxes", axis1, axis2)

    def ravel(self, *args: Any, **kwargs: Any) -> Any:
        return self._ndarray("ravel", *args, **kwargs)

    def flatten(self, *args: Any, **kwargs: Any) -> Any:
        return self._ndarray("flatten", *args, **kwargs)

    def squeeze(self, *args: Any, **kwargs: Any) -> Any:
        return self._ndarray("squeeze", *args, **kwargs)

    def dot(self, *args: Any, **kwargs: Any) -> Any:
        return self._ndarray("dot", *args, **kwargs)

    def astype(self, *args: Any, **kwargs: Any) -> Any:
        """NumPy's ``ndarray.astype`` (differentiable between float dtypes)."""
        return self._ndarray("astype", *args, **kwargs)

    def clip(self, *args: Any, **kwargs: Any) -> Any:
        return self._ndarray("clip", *args, **kwargs)

    def round(self, *args: Any, **kwargs: Any) -> Any:
        return self._ndarray("round", *args, **kwargs)

    def conj(self) -> Any:
        return self._ndarray("conj")

    def conjugate(self) -> Any:
        return self._ndarray("conj")

    def repeat(self, *args: Any, **kwargs: Any) -> Any:
        return self._ndarray("repeat", *args, **kwargs)

    def take(self, *args: Any, **kwargs: Any) -> Any:
        return self._ndarray("take", *args, **kwargs)

    def diagonal(self, *args: Any, **kwargs: Any) -> Any:
        return self._ndarray("diagonal", *args, **kwargs)

    def trace(self, *args: Any, **kwargs: Any) -> Any:
        return self._ndarray("trace", *args, **kwargs)

    def copy(self, *args: Any, **kwargs: Any) -> Any:
        return self._ndarray("copy", *args, **kwargs)


class TensorRef:
    """A Tensor wrapped to be hashed and compared by identity (what ``Tensor.ref()`` returns)."""

    __slots__ = ("_tensor",)

    def __init__(self, tensor: Tensor) -> None:
        self._tensor = tensor

    def deref(self) -> Tensor:
        """The tensor this refers to."""
        return self._tensor

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TensorRef) and other._tensor is self._tensor

    def __hash__(self) -> int:
        return id(self._tensor)

    def __repr__(self) -> str:
        return f"<cr.TensorRef {self._tensor!r}>"


class Operation:
    """A node of the graph: an op type applied to input tensors with attributes."""

    def __init__(
        self,
        graph: Graph,
        op_type: str,
        name: str,
        inputs: Sequence[Tensor],
        output_specs: Sequence[tuple[DType, TensorShape]],
        attrs: dict[str, Any],
        control_inputs: Sequence[Operation],
        source: SourceLocation | None,
    ) -> None:
        self._graph = graph
        self._type = op_type
        self._name = name
        self._inputs = tuple(inputs)
        self._outputs = tuple(Tensor(self, i, dtype, shape) for i, (dtype, shape) in enumerate(output_specs))
        self._attrs = dict(attrs)
        # A tuple (mostly the shared empty one): one list per op would be one more object per op
        # for the cyclic garbage collector to walk on every full pass.
        self._control_inputs: tuple[Operation, ...] = tuple(control_inputs)
        # Kept as a plain tuple of str/int, which the cyclic collector stops tracking.
        self._source = None if source is None else (source.filename, source.lineno, source.function)
        self._id = len(graph._ops)
        self._composite = current_composite()

    type = property(lambda self: self._type, doc="The op type, e.g. ``'Cos'``.")
    name = property(lambda self: self._name, doc="Unique name within the graph.")
    graph = property(lambda self: self._graph)
    inputs = property(lambda self: self._inputs, doc="Input tensors, in order.")
    outputs = property(lambda self: self._outputs, doc="Output tensors, in order.")
    control_inputs = property(lambda self: self._control_inputs, doc="Ops that must run before this one.")

    @property
    def source(self) -> SourceLocation | None:
        """Where the user's code created this op."""
        return None if self._source is None else SourceLocation(*self._source)

    composite = property(
        lambda self: self._composite, doc="The library composite call (``reduce_mean``...) that created it, or None."
    )
    attrs = property(lambda self: dict(self._attrs), doc="All attributes (a copy), private ones included.")
    id = property(lambda self: self._id, doc="Position in the graph's creation order (a topological order).")

    @property
    def kernel_attrs(self) -> dict[str, Any]:
        """The attributes the kernel receives: the public ones (names not starting with ``_``)."""
        return {k: v for k, v in self._attrs.items() if not k.startswith("_")}

    @property
    def gradient_op_type(self) -> str:
        """The op type whose gradient applies: ``type``, or its ``gradient_override_map`` replacement."""
        return self._attrs.get("_gradient_op_type", self._type)

    @property
    def gradient_overridden(self) -> bool:
        """Whether ``gradient_override_map`` gave this op another op type's gradient."""
        return "_gradient_op_type" in self._attrs

    # The placement ``cr.device`` recorded ("" when none); set by ``Graph.create_op``.
    _device = ""

    @property
    def device(self) -> str:
        """The device this op was placed on with ``cr.device(...)`` (``""`` when none)."""
        return self._device

    def _set_device(self, device: str | None) -> None:
        self._device = device or ""

    @property
    def node_def(self) -> dict[str, Any]:
        return {
            "name": self._name,
            "op": self._type,
            "input": [t.name for t in self._inputs],
            "device": self._device,
            "attr": self._attrs,
        }

    def get_attr(self, key: str) -> Any:
        try:
            return self._attrs[key]
        except KeyError:
            raise ValueError(f"Operation '{self._name}' ({self._type}) has no attr named '{key}'.") from None

    def _add_control_input(self, op: Operation) -> None:
        if op not in self._control_inputs:
            self._control_inputs = (*self._control_inputs, op)

    def describe(self) -> str:
        """``'name' (Type), created at file:line: code`` for error messages."""
        where = f"\n  created at {self.source}" if self._source else ""
        return f"'{self._name}' ({self._type}){where}"

    def run(self, feed_dict: Any = None, session: Any = None) -> None:
        from chainrule.framework import default_session

        (session or default_session.get()).run(self, feed_dict=feed_dict)

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return f"<cr.Operation '{self._name}' type={self._type}>"


class Graph:
    """A dataflow graph. Use ``with g.as_default():`` to add ops to it."""

    def __init__(self) -> None:
        self._ops: list[Operation] = []
        self._ops_by_name: dict[str, Operation] = {}
        self._names_in_use: dict[str, int] = {}
        self._consumers: dict[Tensor, list[Operation]] = {}
        # The scopes a thread enters (name scope, control dependencies, devices, gradient
        # overrides) are that thread's only, as in TensorFlow 1.x; ops, names and collections
        # are shared, and ``_lock`` guards every change to them.
        self._scopes = _ThreadScopes()
        self._collections: dict[str, list[Any]] = {}
        self._lock = threading.RLock()
        self.seed: int | None = None
        self._version = 0
        self._finalized = False
        self._function_count = 0  # function graphs traced with this one as their outer graph

    # This thread's scopes (see ``_ThreadScopes``).
    _name_stack = property(lambda self: self._scopes.name_stack, lambda self, v: setattr(self._scopes, "name_stack", v))
    _control_stack = property(
        lambda self: self._scopes.control_stack, lambda self, v: setattr(self._scopes, "control_stack", v)
    )
    _gradient_override_map = property(
        lambda self: self._scopes.gradient_override_map,
        lambda self, v: setattr(self._scopes, "gradient_override_map", v),
    )
    _device_stack = property(lambda self: self._scopes.device_stack)

    # -- construction -----------------------------------------------------------------
    def create_op(
        self,
        op_type: str,
        inputs: Sequence[Tensor],
        output_specs: Sequence[tuple[DType, TensorShape]],
        attrs: dict[str, Any] | None = None,
        name: str | None = None,
        source: SourceLocation | None = None,
    ) -> Operation:
        """Add an op with already-inferred output specs (the registry does inference)."""
        if self._finalized:
            raise RuntimeError("Graph is finalized and cannot be modified.")
        for t in inputs:
            if t.graph is not self:
                raise ValueError(f"Tensor {t.name} is from a different graph than op {name or op_type}.")
        scopes = self._scopes
        attrs = dict(attrs or {})
        if op_type in scopes.gradient_override_map:
            attrs["_gradient_op_type"] = scopes.gradient_override_map[op_type]
        control = self.control_inputs_in_scope()
        source = source or user_frame(2)
        with self._lock:
            full_name = self.unique_name(name or op_type)
            op = Operation(self, op_type, full_name, inputs, output_specs, attrs, control, source)
            if scopes.device_stack:
                op._set_device(self._current_device(op))
            self._ops.append(op)
            self._ops_by_name[full_name] = op
            for t in op.inputs:
                self._consumers.setdefault(t, []).append(op)
            self._version += 1
            return op

    def unique_name(self, name: str, mark_as_used: bool = True) -> str:
        """``name`` under this thread's name scope, made unique in the graph (``_1``, ``_2``...)."""
        if self._name_stack:
            name = f"{self._name_stack}/{name}"
        key = name.lower()
        with self._lock:  # names are shared by every thread that builds into this graph
            count = self._names_in_use.get(key, 0)
            if mark_as_used:
                self._names_in_use[key] = count + 1
            if count:
                base = name
                while True:
                    candidate = f"{base}_{count}"
                    if candidate.lower() not in self._names_in_use:
                        break
                    count += 1
                if mark_as_used:
                    self._names_in_use[candidate.lower()] = 1
                return candidate
            return name

    @contextlib.contextmanager
    def name_scope(self, name: str | None) -> Iterator[str]:
        """Nest op names under ``name/``; ``None`` or ``""`` resets to the root scope."""
        old = self._name_stack
        if not name:
            new = ""
        elif name.endswith("/"):
            new = name[:-1]
        else:
            if not _VALID_NAME.match(name):
                raise ValueError(f"'{name}' is not a valid scope name")
            new = self.unique_name(name)
        self._name_stack = new
        try:
            yield (new + "/") if new else ""
        finally:
            self._name_stack = old

    def get_name_scope(self) -> str:
        return self._name_stack

    def control_inputs_in_scope(self) -> list[Operation]:
        """The control inputs an op created here and now would get (from the open ``control_dependencies``)."""
        return [op for deps in self._control_stack for op in deps]

    @contextlib.contextmanager
    def control_dependencies(self, control_inputs: Sequence[Any] | None) -> Iterator[None]:
        """Ops created inside run after every op (or tensor's op) in ``control_inputs``; None clears."""
        if control_inputs is None:
            saved, self._control_stack = self._control_stack, []
            try:
                yield
            finally:
                self._control_stack = saved
            return
        ops = []
        for c in control_inputs:
            c = as_graph_element(c)
            if isinstance(c, Tensor):
                c = c.op
            if not isinstance(c, Operation):
                raise TypeError(f"Control input must be an Operation or Tensor, got {c!r}")
            ops.append(c)
        self._control_stack.append(ops)
        try:
            yield
        finally:
            self._control_stack.pop()

    @contextlib.contextmanager
    def gradient_override_map(self, op_type_map: dict[str, str]) -> Iterator[None]:
        """Ops of the given types created inside use the gradient registered under another name."""
        saved = dict(self._gradient_override_map)
        self._gradient_override_map.update(op_type_map)
        try:
            yield
        finally:
            self._gradient_override_map = saved

    @contextlib.contextmanager
    def as_default(self) -> Iterator[Graph]:
        """Make this the graph new ops go into, in this thread (each thread has its own default)."""
        stack = _default_graphs.stack
        stack.append(self)
        try:
            yield self
        finally:
            if stack and stack[-1] is self:
                stack.pop()
            elif self in stack:  # contexts exited out of order (an InteractiveSession closed late)
                stack.reverse()
                stack.remove(self)
                stack.reverse()

    def finalize(self) -> None:
        """Make the graph read-only: creating an op afterwards raises RuntimeError (as in TF)."""
        self._finalized = True

    @contextlib.contextmanager
    def device(self, device_name_or_function: Any) -> Iterator[None]:
        """Ops created inside record this placement as ``op.device`` (a name like ``"/cpu:0"``,
        None to clear it, or a function ``op -> name``). The NumPy backend runs every op on the
        host; the placement is kept for the graph's readers (``as_graph_def``, TensorBoard) and
        for backends that place ops: a Session made with no backend named runs a graph with ops
        on ``/gpu:N`` on the CuPy backend on that GPU, where CuPy and the GPU are there
        (``runtime.backends.placement_backend``; elsewhere it runs as if placed on the CPU)."""
        self._device_stack.append(device_name_or_function)
        try:
            yield
        finally:
            self._device_stack.pop()

    def _current_device(self, op: Operation) -> str:
        spec: Any = ""
        for entry in self._device_stack:
            if entry is None:
                spec = ""
            elif callable(entry):
                spec = entry(op) or ""
            else:
                spec = _merge_device(spec, str(entry))
        return spec

    def as_graph_def(self, from_version: int | None = None, add_shapes: bool = False) -> Any:
        """The graph as a ``GraphDef``-like value: ``.node`` holds one ``NodeDef`` per op
        (``name``, ``op``, ``input`` ("op", "op:1", "^op" for a control input), ``device``,
        ``attr``), in creation order. ``from_version``: only ops added after that ``version``;
        ``add_shapes``: an ``_output_shapes`` attribute on each node. Plain Python values, no
        protocol buffers (``cr.summary`` writes the TensorFlow proto for TensorBoard)."""
        from chainrule.framework.graph_def import graph_def_of

        return graph_def_of(self, from_version, add_shapes)

    @property
    def finalized(self) -> bool:
        return self._finalized

    # -- queries ----------------------------------------------------------------------
    def consumers(self, tensor: Tensor) -> list[Operation]:
        """The ops that read ``tensor`` (once per use), in creation order."""
        return list(self._consumers.get(tensor, ()))

    def get_operations(self) -> list[Operation]:
        return list(self._ops)

    def get_operation_by_name(self, name: str) -> Operation:
        try:
            return self._ops_by_name[name]
        except KeyError:
            raise errors.NotFoundError(
                None, None, f"The name '{name}' refers to an Operation not in the graph."
            ) from None

    def get_tensor_by_name(self, name: str) -> Tensor:
        op_name, sep, index = name.rpartition(":")
        if not sep or not index.isdigit():
            raise ValueError(f"The name '{name}' looks like an op name, not a tensor name (expected 'op:0').")
        op = self.get_operation_by_name(op_name)
        i = int(index)
        if i >= len(op.outputs):
            raise errors.NotFoundError(None, op, f"Operation '{op_name}' has only {len(op.outputs)} outputs.")
        return op.outputs[i]

    def as_graph_element(self, obj: Any) -> Tensor | Operation:
        """The Tensor or Operation of this graph that ``obj`` (a tensor, op, Variable or name) stands for."""
        obj = as_graph_element(obj)
        if isinstance(obj, str):
            return self.get_tensor_by_name(obj) if ":" in obj else self.get_operation_by_name(obj)
        if isinstance(obj, (Tensor, Operation)):
            if obj.graph is not self:
                raise ValueError(f"{obj!r} is not an element of this graph.")
            return obj
        raise TypeError(f"Can not convert a {type(obj).__name__} into a Tensor or Operation.")

    def add_to_collection(self, name: str, value: Any) -> None:
        with self._lock:
            self._collections.setdefault(name, []).append(value)

    def add_to_collections(self, names: str | Iterable[str], value: Any) -> None:
        """Add ``value`` to each collection in ``names`` (a string is one name), once per name."""
        for name in dict.fromkeys([names] if isinstance(names, str) else names):
            self.add_to_collection(name, value)

    def get_collection(self, name: str, scope: str | None = None) -> list[Any]:
        """A copy of collection ``name``; with ``scope``, only items whose ``.name`` ``re.match``-es it.

        As in TensorFlow, items without a ``name`` attribute are left out when ``scope`` is given.
        """
        with self._lock:
            items = list(self._collections.get(name, []))
        if scope is None:
            return items
        pattern = re.compile(scope)
        return [item for item in items if isinstance(getattr(item, "name", None), str) and pattern.match(item.name)]

    def get_collection_ref(self, name: str) -> list[Any]:
        """The collection's list itself (created empty if missing): changing it changes the collection."""
        with self._lock:
            return self._collections.setdefault(name, [])

    def get_all_collection_keys(self) -> list[str]:
        with self._lock:
            return list(self._collections)

    def clear_collection(self, name: str) -> None:
        with self._lock:
            self._collections.pop(name, None)

    @property
    def random_stream_path(self) -> tuple[int, ...]:
        """Where this graph sits among function graphs: () for a graph, one more index per nesting.

        The Session derives an unseeded random op's stream from it and the op's position, so an op
        traced into a branch or loop body never shares a stream with an op of another graph.
        """
        return ()

    def _next_function_index(self) -> int:
        with self._lock:
            self._function_count += 1
            return self._function_count

    @property
    def version(self) -> int:
        return self._version


def _merge_device(outer: str, inner: str) -> str:
    """An inner device spec refines the outer one field by field ("/job:w" + "/cpu:0" = "/job:w/cpu:0")."""
    if not outer or inner.startswith("/job:") or not inner:
        return inner or outer
    fields = [f for f in outer.split("/") if f]
    for new in (f for f in inner.split("/") if f):
        key = new.split(":")[0].lower()
        same = {"cpu", "gpu", "device"} if key in ("cpu", "gpu", "device") else {key}
        fields = [f for f in fields if f.split(":")[0].lower() not in same] + [new]
    return "/" + "/".join(fields)


class _ThreadScopes(threading.local):
    """One graph's scopes as the current thread entered them (each thread starts with none)."""

    def __init__(self) -> None:
        self.name_stack = ""
        self.control_stack: list[list[Operation]] = []
        self.device_stack: list[Any] = []
        self.gradient_override_map: dict[str, str] = {}


class _DefaultGraphs(threading.local):
    """The current thread's ``as_default()`` stack and its global default graph.

    As in TensorFlow 1.x (whose ``_DefaultGraphStack`` is a ``threading.local``), each thread has
    its own: a new thread sees neither the graph another thread entered nor that thread's global
    graph, but a global default graph of its own, made on first use.
    """

    def __init__(self) -> None:
        self.stack: list[Graph] = []
        self.global_graph: Graph | None = None

    def global_default(self) -> Graph:
        if self.global_graph is None:
            self.global_graph = Graph()
        return self.global_graph


_default_graphs = _DefaultGraphs()


class FunctionGraph(Graph):
    """A graph that a function is traced into (a ``cr.cond`` branch): it captures what it uses.

    An op built while this graph is the default one, on a tensor of an enclosing graph, reads a
    placeholder of this graph instead (``capture``); ``captures`` maps each captured tensor to its
    placeholder, in the order they were first used, so the op that calls the function can feed them.
    Function graphs nest: a tensor of a graph further out is captured by each graph in between.
    """

    def __init__(self, outer: Graph, name: str = "function") -> None:
        super().__init__()
        self.outer = outer
        self.name = name
        self.seed = outer.seed
        self.captures: dict[Tensor, Tensor] = {}
        # 1-based, so that a path never ends in a 0 (NumPy's seed sequences ignore trailing zeros).
        self._random_stream_path = (*outer.random_stream_path, outer._next_function_index())

    @property
    def random_stream_path(self) -> tuple[int, ...]:
        return self._random_stream_path

    def capture(self, tensor: Tensor) -> Tensor:
        """``tensor`` as a tensor of this graph: itself, or the placeholder that stands for it."""
        if tensor.graph is self:
            return tensor
        if tensor.graph is not self.outer:
            if not isinstance(self.outer, FunctionGraph):
                raise ValueError(f"Tensor {tensor.name} is from a graph that does not enclose {self.name!r}.")
            tensor = self.outer.capture(tensor)
        placeholder = self.captures.get(tensor)
        if placeholder is None:
            op = self.create_op(
                "Placeholder",
                [],
                [(tensor.dtype, tensor.shape)],
                {"dtype": tensor.dtype, "shape": tensor.shape},
                name="captured_" + tensor.op.name.replace("/", "_"),
            )
            placeholder = op.outputs[0]
            self.captures[tensor] = placeholder
        return placeholder


def get_default_graph() -> Graph:
    """The graph new ops go into in this thread: the innermost ``as_default()`` graph, else the
    thread's global default graph (a new thread has its own, as in TensorFlow 1.x)."""
    graphs = _default_graphs
    stack = graphs.stack
    return stack[-1] if stack else graphs.global_default()


def reset_default_graph() -> None:
    """Replace this thread's global default graph with a new, empty one (other threads keep theirs)."""
    if _default_graphs.stack:
        raise AssertionError("Do not use reset_default_graph() inside a `with graph.as_default()` block.")
    _default_graphs.global_graph = Graph()


@contextlib.contextmanager
def name_scope(name: str | None, default_name: str | None = None, values: Any = None) -> Iterator[str]:
    """Nest op names under ``name/`` (TF 1.x's three-argument form).

    ``default_name`` is used (made unique) when ``name`` is None; ``values``, the tensors the
    ops will use, pick the graph (that graph is the default one inside). ``name`` None with no
    ``default_name`` resets to the root scope.
    """
    graph = get_default_graph()
    for v in values if isinstance(values, (list, tuple)) else ([values] if values is not None else []):
        v = as_graph_element(v)
        if isinstance(v, (Tensor, Operation)):
            graph = v.graph
            break
    scope_name = default_name if name is None else name
    if graph is get_default_graph():
        with graph.name_scope(scope_name) as scope:
            yield scope
    else:
        with graph.as_default(), graph.name_scope(scope_name) as scope:
            yield scope


def device(device_name_or_function: Any) -> contextlib.AbstractContextManager[None]:
    """``get_default_graph().device(...)``: ops created inside record this placement as ``op.device``."""
    return get_default_graph().device(device_name_or_function)


def control_dependencies(control_inputs: Sequence[Any] | None) -> contextlib.AbstractContextManager[None]:
    """The default graph's ``control_dependencies``: ops created inside run after ``control_inputs``; None clears."""
    return get_default_graph().control_dependencies(control_inputs)


def add_to_collection(name: str, value: Any) -> None:
    """Add ``value`` to the default graph's collection ``name``."""
    get_default_graph().add_to_collection(name, value)


def add_to_collections(names: str | Iterable[str], value: Any) -> None:
    """Add ``value`` to each of the default graph's collections ``names``."""
    get_default_graph().add_to_collections(names, value)


def get_collection(key: str, scope: str | None = None) -> list[Any]:
    """A copy of the default graph's collection ``key``, filtered by ``scope`` (see ``Graph.get_collection``)."""
    return get_default_graph().get_collection(key, scope)


def get_collection_ref(key: str) -> list[Any]:
    """The default graph's collection ``key`` itself (a list changes to which change the collection)."""
    return get_default_graph().get_collection_ref(key)


_Node = TypeVar("_Node")


def reachable(start: Iterable[_Node], successors: Callable[[_Node], Iterable[_Node]]) -> set[_Node]:
    """``start`` and everything reachable from it by following ``successors``, as a set.

    Depth-first with an explicit stack, so deep graphs do not hit the recursion limit; the nodes
    can be anything hashable (Operations, the compiler's Nodes).
    """
    seen: set[_Node] = set()
    stack = list(start)
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        stack.extend(successors(node))
    return seen


def function_bodies(op: Operation) -> list[tuple[str, list[Operation]]]:
    """The functions ``op`` runs (a cond's branches, a loop's cond and body), for drawing them.

    Each is the attribute that holds it and the ops of its graph that its outputs need, in creation
    order (TensorBoard and the graph page draw them inside the op's frame).
    """
    bodies = []
    for key, value in op.attrs.items():
        if isinstance(getattr(value, "graph", None), FunctionGraph) and hasattr(value, "outputs"):
            needed = reachable((t.op for t in value.outputs), lambda o: [*(t.op for t in o.inputs), *o.control_inputs])
            bodies.append((key, sorted(needed, key=lambda o: o.id)))
    return bodies
