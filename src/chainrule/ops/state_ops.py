"""Variables: state that lives in a Session and persists across ``run`` calls.

A variable is a ``VariableV2`` op whose kernel reads the session's stored value;
``Assign``/``AssignAdd``/``AssignSub`` replace it (never mutate in place, so a
value fetched earlier is never changed behind the user's back).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.framework import errors
from chainrule.framework.dtypes import DType
from chainrule.framework.graph import Graph, Operation, Tensor, get_default_graph
from chainrule.framework.tensor_shape import TensorShape, as_shape
from chainrule.ops.constant_op import convert_to_tensor
from chainrule.ops.registry import apply, apply_op, register_op

GLOBAL_VARIABLES = "variables"  # the strings are cr.GraphKeys' (framework/graph_keys.py)
TRAINABLE_VARIABLES = "trainable_variables"
LOCAL_VARIABLES = "local_variables"
MODEL_VARIABLES = "model_variables"


def _read_kernel(xp: Any, *_inputs: Any, ctx: Any, op: Operation, var: str | None = None, **_: Any) -> Any:
    name = var or op.name
    value = ctx.variables.get(name)
    if value is None:
        raise errors.FailedPreconditionError(
            None,
            op,
            f"Attempting to use uninitialized value {name}: run its initializer "
            "(e.g. sess.run(cr.global_variables_initializer())) first.",
        )
    return value


register_op(
    "VariableV2",
    _read_kernel,
    lambda inputs, dtype, shape: [(dtype, shape)],
    None,
    stateful=True,
    explain=lambda b, op, a: b.sym(op.name),
)
# A second read of a variable, ordered by its control inputs: initialized_value() (no input), and
# a variable used under control_dependencies (its VariableV2 tensor as input, so the gradient of
# the read is the variable's: the kernel reads the session's value when it runs, not the input).
register_op(
    "ReadVariable",
    _read_kernel,
    lambda inputs, var, dtype, shape: [(dtype, shape)],
    lambda op, g: [g] if op.inputs else [],
    stateful=True,
    explain=lambda b, op, a: b.sym(op.get_attr("var") or op.name),
)


def _assign_kernel(update: Any):
    def assign(xp: Any, value: Any, ctx: Any, op: Operation, var: str, var_shape: TensorShape) -> Any:
        if update is None:
            # A NumPy value may alias a feed or another variable, so it is copied; another module's
            # array (dask, a strict namespace) is the run's value, committed as NumPy by its backend.
            new = np.array(value, copy=True) if xp is np else value
        else:
            old = ctx.variables.get(var)
            if old is None:
                raise errors.FailedPreconditionError(
                    None, op, f"Attempting to use uninitialized value {var} in {op.type}."
                )
            new = update(old, value)
        if not var_shape.is_compatible_with(np.shape(new)):
            raise ValueError(f"cannot assign a value of shape {np.shape(new)} to variable {var} of shape {var_shape}")
        ctx.variables[var] = new
        return new

    def kernel(
        xp: Any,
        value: Any,
        *,
        ctx: Any,
        op: Operation,
        var: str,
        var_shape: TensorShape,
        use_locking: bool = False,
        **_: Any,
    ) -> Any:
        # Without use_locking, two threads' read-modify-writes of one variable may interleave and
        # lose an update (Hogwild, as in TensorFlow); with it, the variable's lock orders them.
        if not use_locking:
            return assign(xp, value, ctx, op, var, var_shape)
        with ctx.variable_lock(var):
            return assign(xp, value, ctx, op, var, var_shape)

    return kernel


def _assign_infer(inputs: list[Tensor], var: str, var_dtype: DType, var_shape: TensorShape, **_: Any) -> list[Any]:
    (value,) = inputs
    if value.dtype != var_dtype:
        raise TypeError(f"cannot assign a {value.dtype.name} value to variable {var} of dtype {var_dtype.name}")
    if not var_shape.is_compatible_with(value.shape):
        raise ValueError(f"cannot assign a value of shape {value.shape} to variable {var} of shape {var_shape}")
    return [(var_dtype, var_shape)]


register_op("Assign", _assign_kernel(None), _assign_infer, None, stateful=True)
register_op("AssignAdd", _assign_kernel(lambda old, v: old + v), _assign_infer, None, stateful=True)
register_op("AssignSub", _assign_kernel(lambda old, v: old - v), _assign_infer, None, stateful=True)
register_op("NoOp", lambda xp: (), lambda inputs: [], None)


def no_op(name: str | None = None) -> Operation:
    """An op that does nothing; useful as a target with control dependencies."""
    return apply_op("NoOp", [], {}, name)


def group(*inputs: Any, name: str | None = None) -> Operation:
    """An op that runs all of ``inputs`` (ops or tensors) and outputs nothing."""
    flat: list[Any] = []
    for x in inputs:
        flat.extend(x if isinstance(x, (list, tuple)) else [x])
    graph = get_default_graph()
    with graph.control_dependencies(flat):
        return no_op(name=name or "group_deps")


class Variable:
    """A tensor whose value persists in a Session and can be updated (TensorFlow 1.x's ``Variable``).

    Parameters
    ----------
    initial_value : value or tensor giving the initial value (its shape becomes the variable's),
        or a function of no arguments returning one (called under ``<name>/Initializer/``).
    trainable : whether optimizers update it by default (None: True); adds it to
        ``TRAINABLE_VARIABLES``.
    collections : graph collections to add it to (default ``[GraphKeys.GLOBAL_VARIABLES]``).
    validate_shape : False gives the variable an unknown static shape, so values of any shape
        may be assigned.
    name : op name (unique-ified within the graph, under the current name scope).
    dtype : optional element type of the initial value.
    shape : optional static shape, compatible with the initial value's (``None`` entries: any size).
    caching_device, expected_shape, import_scope, use_resource, synchronization, aggregation :
        accepted and ignored (they concern devices, distribution and resource handles).
    variable_def, constraint : not supported (a ``NotImplementedError`` when given).
    """

    def __init__(
        self,
        initial_value: Any = None,
        trainable: bool | None = None,
        collections: Any = None,
        validate_shape: bool = True,
        caching_device: Any = None,
        name: str | None = None,
        variable_def: Any = None,
        dtype: Any = None,
        expected_shape: Any = None,
        import_scope: Any = None,
        constraint: Any = None,
        use_resource: Any = None,
        synchronization: Any = None,
        aggregation: Any = None,
        shape: Any = None,
    ) -> None:
        if variable_def is not None:
            raise NotImplementedError("Variable(variable_def=...): building a variable from a VariableDef")
        if constraint is not None:
            raise NotImplementedError("Variable(constraint=...): optimizers here do not apply constraints")
        if initial_value is None:
            raise ValueError("initial_value must be specified.")
        if collections is None:
            collections = [GLOBAL_VARIABLES]
        if not isinstance(collections, (list, tuple, set)):
            raise ValueError(
                f"collections argument to Variable constructor must be a list, tuple, or set. Got {collections!r}"
            )
        trainable = True if trainable is None else bool(trainable)
        collections = list(dict.fromkeys(collections))
        if trainable and TRAINABLE_VARIABLES not in collections:
            collections.append(TRAINABLE_VARIABLES)
        graph = get_default_graph()
        if callable(initial_value):
            # The op's name is known before it exists, so the initial value's ops go under it.
            op_name = graph.unique_name(name or "Variable", mark_as_used=False)
            with graph.name_scope(op_name + "/Initializer/"):
                initial_value = initial_value()
        init = convert_to_tensor(initial_value, dtype=dtype, dtype_hint=dtype)
        graph = init.graph
        with graph.as_default():
            init = _guard_uninitialized_reads(init)
        static_shape = init.shape if validate_shape else TensorShape(None)
        if shape is not None:
            wanted = as_shape(shape)
            if not wanted.is_compatible_with(init.shape):
                raise ValueError(
                    f"Variable {name or 'Variable'}: shape {wanted} is not compatible with the initial "
                    f"value's shape {init.shape}"
                )
            static_shape = wanted
        with graph.as_default():
            self._variable = apply("VariableV2", name=name or "Variable", dtype=init.dtype, shape=static_shape)
            self._op: Operation = self._variable.op
            with graph.name_scope(self._op.name + "/"):
                self._initializer = self._assign_op("Assign", init, "Assign")
        self._initial_value = init
        self._trainable = trainable
        graph.add_to_collections(collections, self)

    def _assign_op(
        self, op_type: str, value: Any, name: str | None, use_locking: Any = False, read_value: bool = True
    ) -> Any:
        value = convert_to_tensor(value, dtype_hint=self.dtype)
        out = apply(
            op_type,
            value,
            name=name,
            var=self._op.name,
            var_dtype=self.dtype,
            var_shape=self.shape,
            use_locking=bool(use_locking),
        )
        return out if read_value else out.op

    # -- the Tensor protocol ---------------------------------------------------------------
    def _as_tensor(self) -> Tensor:
        # As TF 1.x's variables do, a use of the variable by an op built under control dependencies
        # reads the value after those dependencies ran (``with control_dependencies([v.assign_add(1)]):
        # y = cr.identity(v)`` sees the increment); elsewhere a use reads the value the run starts with.
        graph = self._op.graph
        if graph is not get_default_graph() or not graph.control_inputs_in_scope():
            return self._variable
        return apply(
            "ReadVariable",
            self._variable,
            name=self._op.name.split("/")[-1] + "/read",
            var=self._op.name,
            dtype=self.dtype,
            shape=self.shape,
        )

    def _as_graph_element(self) -> Tensor:
        return self._variable

    def value(self) -> Tensor:
        return self._variable

    def read_value(self) -> Tensor:
        """The variable's value, read in the current context (after the open control dependencies)."""
        return self._as_tensor()

    op = property(lambda self: self._op)
    name = property(lambda self: self._variable.name)
    dtype = property(lambda self: self._variable.dtype)
    shape = property(lambda self: self._variable.shape)
    graph = property(lambda self: self._op.graph)
    initializer = property(lambda self: self._initializer.op, doc="The op that sets the initial value.")
    initial_value = property(lambda self: self._initial_value)
    trainable = property(lambda self: self._trainable)

    def get_shape(self) -> TensorShape:
        return self.shape

    def initialized_value(self) -> Tensor:
        """This variable's value, running its initializer first (for initial values of other variables)."""
        with self.graph.control_dependencies(None), self.graph.control_dependencies([self.initializer]):
            return apply(
                "ReadVariable",
                name=self._op.name + "/initialized_value",
                var=self._op.name,
                dtype=self.dtype,
                shape=self.shape,
            )

    def assign(self, value: Any, use_locking: Any = False, name: str | None = None, read_value: bool = True) -> Any:
        """An op that sets the variable to ``value`` and outputs the new value.

        ``use_locking``: hold the variable's lock while updating it (see ``assign_add``);
        ``read_value`` False returns the op instead of its output tensor.
        """
        return self._assign_op("Assign", value, name, use_locking, read_value)

    def assign_add(self, delta: Any, use_locking: Any = False, name: str | None = None, read_value: bool = True) -> Any:
        """An op that adds ``delta`` to the variable and outputs the new value.

        ``use_locking`` True makes the read-modify-write atomic: runs from several threads then
        never lose an increment (a run that holds such an op takes the variable's lock for the
        whole run). Without it, concurrent updates may overwrite each other (Hogwild, as in
        TensorFlow). ``read_value`` False returns the op instead of its output tensor.
        """
        return self._assign_op("AssignAdd", delta, name, use_locking, read_value)

    def assign_sub(self, delta: Any, use_locking: Any = False, name: str | None = None, read_value: bool = True) -> Any:
        """An op that subtracts ``delta`` from the variable and outputs the new value (``use_locking``,
        ``read_value``: as in ``assign_add``)."""
        return self._assign_op("AssignSub", delta, name, use_locking, read_value)

    def eval(self, session: Any = None) -> Any:
        return self._variable.eval(session=session)

    def __repr__(self) -> str:
        return f"<cr.Variable '{self.name}' shape={self.shape} dtype={self.dtype.name}>"

    __hash__ = object.__hash__


def _guard_uninitialized_reads(init: Tensor) -> Tensor:
    """Rebuild ``init`` so every variable it reads is read through ``initialized_value()``.

    Without this, ``Variable(v * 2)`` could read ``v`` before ``v``'s initializer ran
    (TensorFlow 1.x guards initial values the same way).
    """
    variables = {v.op: v for v in init.graph.get_collection(GLOBAL_VARIABLES)}
    memo: dict[Tensor, Tensor] = {}
    # Children first, with an explicit stack: an initial value of any depth raises no RecursionError.
    stack = [init]
    while stack:
        t = stack[-1]
        if t in memo:
            stack.pop()
            continue
        op = t.op
        if op in variables:
            memo[t] = variables[op].initialized_value()
            stack.pop()
            continue
        pending = [x for x in op.inputs if x not in memo]
        if pending:
            stack.extend(pending)
            continue
        stack.pop()
        inputs = [memo[x] for x in op.inputs]
        if all(a is b for a, b in zip(inputs, op.inputs)):
            memo[t] = t
        else:
            attrs = op.kernel_attrs
            memo[t] = apply_op(op.type, inputs, attrs, op.name.split("/")[-1]).outputs[t.value_index]
    return memo[init]


def _delegate(name: str) -> Any:
    return lambda self, *args: getattr(self._as_tensor(), name)(*args)


for _op_name in (
    "__add__ __radd__ __sub__ __rsub__ __mul__ __rmul__ __truediv__ __rtruediv__ __floordiv__ "
    "__rfloordiv__ __mod__ __rmod__ __pow__ __rpow__ __matmul__ __rmatmul__ __neg__ __abs__ "
    "__lt__ __le__ __gt__ __ge__ __getitem__"
).split():
    setattr(Variable, _op_name, _delegate(_op_name))
Variable.__array_ufunc__ = None  # type: ignore[attr-defined]


def _collection(key: str, scope: str | Graph | None, graph: Graph | None) -> list[Any]:
    if isinstance(scope, Graph):  # the library's older call form: the graph as first argument
        scope, graph = None, scope
    return (graph or get_default_graph()).get_collection(key, scope)


def global_variables(scope: str | Graph | None = None, graph: Graph | None = None) -> list[Variable]:
    """The variables of ``GraphKeys.GLOBAL_VARIABLES``, in creation order; ``scope`` filters names (``re.match``)."""
    return _collection(GLOBAL_VARIABLES, scope, graph)


def trainable_variables(scope: str | Graph | None = None, graph: Graph | None = None) -> list[Variable]:
    """The variables created with ``trainable=True``; ``scope`` filters names (``re.match``)."""
    return _collection(TRAINABLE_VARIABLES, scope, graph)


def local_variables(scope: str | Graph | None = None, graph: Graph | None = None) -> list[Variable]:
    """The variables of ``GraphKeys.LOCAL_VARIABLES`` (e.g. metrics' counters)."""
    return _collection(LOCAL_VARIABLES, scope, graph)


def model_variables(scope: str | Graph | None = None, graph: Graph | None = None) -> list[Variable]:
    """The variables of ``GraphKeys.MODEL_VARIABLES``."""
    return _collection(MODEL_VARIABLES, scope, graph)


def variables_initializer(var_list: list[Variable], name: str = "init") -> Operation:
    """One op that runs the initializers of ``var_list``."""
    return group(*[v.initializer for v in var_list], name=name)


def global_variables_initializer() -> Operation:
    """One op that initializes every variable of the default graph."""
    return variables_initializer(global_variables())


def local_variables_initializer() -> Operation:
    """One op that initializes every variable of ``GraphKeys.LOCAL_VARIABLES``."""
    return variables_initializer(local_variables())


initialize_all_variables = global_variables_initializer  # TensorFlow's deprecated names
initialize_local_variables = local_variables_initializer


def _as_variable(ref: Any, what: str) -> Variable:
    if not isinstance(ref, Variable):
        raise TypeError(f"{what}: ref must be a cr.Variable, got {type(ref).__name__}")
    return ref


def assign(
    ref: Any, value: Any, validate_shape: Any = None, use_locking: Any = None, name: str | None = None
) -> Tensor:
    """``ref.assign(value)``: an op that sets the variable and outputs the new value.

    ``use_locking`` True holds the variable's lock while assigning (see ``assign_add``);
    ``validate_shape`` is taken from the variable (one created with ``validate_shape=False``
    accepts any shape).
    """
    return _as_variable(ref, "assign").assign(value, use_locking=use_locking, name=name)


def assign_add(ref: Any, value: Any, use_locking: Any = None, name: str | None = None) -> Tensor:
    """``ref.assign_add(value)``: adds ``value`` and outputs the new value.

    ``use_locking`` True makes the update atomic across threads (``Variable.assign_add``).
    """
    return _as_variable(ref, "assign_add").assign_add(value, use_locking=use_locking, name=name)


def assign_sub(ref: Any, value: Any, use_locking: Any = None, name: str | None = None) -> Tensor:
    """``ref.assign_sub(value)``: subtracts ``value`` and outputs the new value.

    ``use_locking`` True makes the update atomic across threads (``Variable.assign_sub``).
    """
    return _as_variable(ref, "assign_sub").assign_sub(value, use_locking=use_locking, name=name)
