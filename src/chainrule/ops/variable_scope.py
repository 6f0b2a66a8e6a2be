"""``get_variable`` and ``variable_scope``: variables named by scope and shared on request (TensorFlow 1.x's).

Each graph keeps a variable store (the variables ``get_variable`` made, by full name) and the
current ``VariableScope`` in collections of its own, as TensorFlow does. The rules, TensorFlow
1.x's:

- ``get_variable("w")`` inside ``variable_scope("a")`` names the variable ``a/w``; name scopes
  (``cr.name_scope``) do not enter variable names, only op names.
- Asking for an existing name without reuse is an error ("... already exists, disallowed"); with
  ``reuse=True`` a missing name is an error; ``AUTO_REUSE`` creates or reuses. Reuse is inherited by
  nested scopes and cannot be turned off inside a reusing scope.
- ``variable_scope`` also opens a name scope for ops (unique-ified: the second ``variable_scope("a")``
  puts ops under ``a_1/``, its variables still under ``a/``). ``default_name`` (with no name) makes
  the *variable* scope unique: ``dense``, ``dense_1``, ...
- A variable with no initializer gets Glorot-uniform values if floating, zeros if integer or bool.
"""

from __future__ import annotations

import contextlib
import traceback
from collections.abc import Iterator
from typing import Any

from chainrule.framework import dtypes
from chainrule.framework.graph import FunctionGraph, Graph, get_default_graph
from chainrule.framework.graph_keys import GraphKeys
from chainrule.framework.tensor_shape import TensorShape, as_shape
from chainrule.ops import init_ops, state_ops
from chainrule.ops.state_ops import Variable

__all__ = [
    "AUTO_REUSE",
    "VariableScope",
    "get_variable",
    "get_local_variable",
    "get_variable_scope",
    "variable_scope",
    "variable_op_scope",
    "no_regularizer",
]

REGULARIZATION_LOSSES = GraphKeys.REGULARIZATION_LOSSES
_STORE_KEY = "__variable_store"  # TensorFlow keeps these in collections too
_SCOPE_KEY = "__varscope"


class _ReuseMode:
    """The type of ``AUTO_REUSE``: get the variable if it exists, create it otherwise."""

    def __repr__(self) -> str:
        return "cr.AUTO_REUSE"


AUTO_REUSE: Any = _ReuseMode()


def no_regularizer(_: Any) -> None:
    """A regularizer that adds nothing (to switch off a scope's default regularizer)."""
    return None


class VariableScope:
    """The defaults ``get_variable`` uses inside a ``variable_scope``: name prefix, reuse, initializer, ...

    Parameters
    ----------
    reuse : True, False/None, or ``AUTO_REUSE``.
    name : the scope's full name (the prefix of its variables' names).
    initializer, regularizer, dtype : defaults for ``get_variable`` in this scope.
    name_scope : the name scope its ops went into when it was first opened (``original_name_scope``).
    caching_device, partitioner, custom_getter, use_resource, constraint : see ``variable_scope``.
    """

    def __init__(
        self,
        reuse: Any,
        name: str = "",
        initializer: Any = None,
        regularizer: Any = None,
        caching_device: Any = None,
        partitioner: Any = None,
        custom_getter: Any = None,
        name_scope: str = "",
        dtype: Any = dtypes.float32,
        use_resource: Any = None,
        constraint: Any = None,
    ) -> None:
        self._reuse = reuse
        self._name = name
        self._initializer = initializer
        self._regularizer = regularizer
        self._caching_device = caching_device
        self._partitioner = partitioner
        self._custom_getter = custom_getter
        self._name_scope = name_scope
        self._dtype = dtypes.as_dtype(dtype)
        self._use_resource = use_resource
        self._constraint = constraint

    name = property(lambda self: self._name, doc="The full name: the prefix of this scope's variables.")
    original_name_scope = property(lambda self: self._name_scope, doc="The name scope (with '/') it first opened.")
    reuse = property(lambda self: self._reuse)
    initializer = property(lambda self: self._initializer)
    regularizer = property(lambda self: self._regularizer)
    dtype = property(lambda self: self._dtype)
    caching_device = property(lambda self: self._caching_device)
    partitioner = property(lambda self: self._partitioner)
    custom_getter = property(lambda self: self._custom_getter)
    use_resource = property(lambda self: self._use_resource)
    constraint = property(lambda self: self._constraint)

    def reuse_variables(self) -> None:
        """From now on, ``get_variable`` in this scope reuses (and requires) existing variables."""
        self._reuse = True

    def set_initializer(self, initializer: Any) -> None:
        self._initializer = initializer

    def set_regularizer(self, regularizer: Any) -> None:
        self._regularizer = regularizer

    def set_dtype(self, dtype: Any) -> None:
        self._dtype = dtypes.as_dtype(dtype)

    def set_caching_device(self, caching_device: Any) -> None:
        self._caching_device = caching_device

    def set_partitioner(self, partitioner: Any) -> None:
        _refuse_partitioner(partitioner)
        self._partitioner = partitioner

    def set_custom_getter(self, custom_getter: Any) -> None:
        self._custom_getter = custom_getter

    def set_use_resource(self, use_resource: Any) -> None:
        self._use_resource = use_resource

    def global_variables(self) -> list[Variable]:
        """The global variables whose names start with this scope's."""
        return state_ops.global_variables(self._scope_pattern())

    def trainable_variables(self) -> list[Variable]:
        return state_ops.trainable_variables(self._scope_pattern())

    def local_variables(self) -> list[Variable]:
        return state_ops.local_variables(self._scope_pattern())

    def _scope_pattern(self) -> str | None:
        return self._name + "/" if self._name else None

    def get_variable(self, var_store: _VariableStore, name: str, **kwargs: Any) -> Variable:
        """``get_variable`` with this scope's defaults (``kwargs``: ``get_variable``'s arguments)."""
        full_name = f"{self._name}/{name}" if self._name else name
        if kwargs.get("initializer") is None:
            kwargs["initializer"] = self._initializer
        if kwargs.get("regularizer") is None:
            kwargs["regularizer"] = self._regularizer
        if kwargs.get("dtype") is None:
            kwargs["dtype"] = self._dtype
        reuse = kwargs.pop("reuse", None)
        reuse = self._reuse if reuse is None or reuse is False else reuse
        custom_getter = kwargs.pop("custom_getter", None) or self._custom_getter
        graph = variables_graph()
        # Variable names depend on variable scopes only: the name scope is reset while creating,
        # and control dependencies of the code around are not the initializer's.
        with graph.as_default(), graph.name_scope(None), graph.control_dependencies(None):
            if custom_getter is not None:

                def true_getter(name: str, *args: Any, **kw: Any) -> Variable:
                    kw = {**kw, "reuse": reuse}
                    return var_store.get_variable(name, *args, **kw)

                return custom_getter(true_getter, full_name, **kwargs)
            return var_store.get_variable(full_name, reuse=reuse, **kwargs)


def _refuse_partitioner(partitioner: Any) -> None:
    if partitioner is not None:
        raise NotImplementedError("partitioned variables (partitioner=...) are not supported")


class _VariableStore:
    """The variables ``get_variable`` created in one graph, by full name, and the scope-name counts."""

    def __init__(self) -> None:
        self.vars: dict[str, Variable] = {}
        self.scope_counts: dict[str, int] = {}

    def open_scope(self, name: str) -> None:
        self.scope_counts[name] = self.scope_counts.get(name, 0) + 1

    def close_subscopes(self, name: str) -> None:
        for key in self.scope_counts:
            if key.startswith(name + "/"):
                self.scope_counts[key] = 0

    def get_variable(
        self,
        name: str,
        shape: Any = None,
        dtype: Any = dtypes.float32,
        initializer: Any = None,
        regularizer: Any = None,
        reuse: Any = None,
        trainable: bool | None = None,
        collections: Any = None,
        caching_device: Any = None,
        partitioner: Any = None,
        validate_shape: bool = True,
        use_resource: Any = None,
        constraint: Any = None,
        synchronization: Any = None,
        aggregation: Any = None,
    ) -> Variable:
        _refuse_partitioner(partitioner)
        dtype = dtypes.as_dtype(dtype)
        from_value = initializer is not None and not callable(initializer)
        if from_value and shape is not None:
            raise ValueError("If initializer is a constant, do not specify shape.")
        static_shape = as_shape(shape) if shape is not None else TensorShape(None)
        found = self.vars.get(name)
        if found is not None:
            if reuse is not True and reuse is not AUTO_REUSE:
                raise ValueError(
                    f"Variable {name} already exists, disallowed. Did you mean to set reuse=True or "
                    f"reuse=tf.AUTO_REUSE in VarScope? Originally defined at:\n\n{_where(found)}"
                )
            if not static_shape.is_compatible_with(found.shape):
                raise ValueError(
                    f"Trying to share variable {name}, but specified shape {static_shape} and found shape "
                    f"{found.shape}."
                )
            if not from_value and dtype != found.dtype:
                raise ValueError(
                    f"Trying to share variable {name}, but specified dtype {dtype.name} and found dtype "
                    f"{found.dtype.name}."
                )
            return found
        if reuse is True:
            raise ValueError(
                f"Variable {name} does not exist, or was not created with tf.get_variable(). Did you mean to set "
                "reuse=tf.AUTO_REUSE in VarScope?"
            )
        if initializer is None:
            initializer = _default_initializer(name, dtype)
        if isinstance(initializer, type):
            initializer = initializer()
        if from_value:
            initial_value: Any = initializer
            value_dtype = None
        else:
            if shape is None or not static_shape.is_fully_defined():
                raise ValueError(
                    f"Shape of a new variable ({name}) must be fully defined, but instead was {static_shape}."
                )
            dims = static_shape.as_list()
            init = initializer

            def initial_value() -> Any:
                return init(dims, dtype=dtype, partition_info=None)

            value_dtype = dtype
        variable = Variable(
            initial_value,
            trainable=trainable,
            collections=collections,
            validate_shape=validate_shape,
            name=name,
            dtype=value_dtype,
            constraint=constraint,
        )
        self.vars[name] = variable
        if regularizer is not None:
            graph = variable.graph
            with graph.name_scope(name + "/Regularizer/"):
                loss = regularizer(variable)
            if loss is not None:
                graph.add_to_collection(REGULARIZATION_LOSSES, loss)
        return variable


def _where(variable: Variable) -> str:
    source = variable.op.source
    if source is None:
        return "  (unknown)"
    return "".join(traceback.format_list([(source.filename, source.lineno, source.function, None)]))


def _default_initializer(name: str, dtype: dtypes.DType) -> Any:
    if dtype.is_floating:
        return init_ops.GlorotUniform()
    if dtype.is_integer or dtype.is_bool:
        return init_ops.Zeros()
    raise ValueError(f"An initializer for variable {name} of {dtype.name} is required")


def variables_graph(graph: Graph | None = None) -> Graph:
    """The graph variables go into: the default graph or, while tracing a branch or loop body, the
    graph outside all function graphs (so a variable made in a ``cr.cond`` branch lives in the
    user's graph and is shared with the code outside, as in TensorFlow 1.x)."""
    graph = graph or get_default_graph()
    while isinstance(graph, FunctionGraph):
        graph = graph.outer
    return graph


def _store(graph: Graph) -> _VariableStore:
    ref = graph.get_collection_ref(_STORE_KEY)
    if not ref:
        ref.append(_VariableStore())
    return ref[0]


def _scope_ref(graph: Graph) -> list[Any]:
    ref = graph.get_collection_ref(_SCOPE_KEY)
    if not ref:
        ref.append(VariableScope(False))
    return ref


def get_variable_scope() -> VariableScope:
    """The current ``VariableScope`` of the default graph (the root one, named ``""``, outside any)."""
    return _scope_ref(variables_graph())[0]


def get_variable(
    name: str,
    shape: Any = None,
    dtype: Any = None,
    initializer: Any = None,
    regularizer: Any = None,
    trainable: bool | None = None,
    collections: Any = None,
    caching_device: Any = None,
    partitioner: Any = None,
    validate_shape: bool = True,
    use_resource: Any = None,
    custom_getter: Any = None,
    constraint: Any = None,
    synchronization: Any = None,
    aggregation: Any = None,
) -> Variable:
    """Get an existing variable of the current variable scope, or create it (TensorFlow 1.x's ``get_variable``).

    Parameters
    ----------
    name : the name within the current variable scope: the variable is ``<scope>/<name>``.
    shape : the shape of a new variable (fully defined); checked against an existing one's.
    dtype : default the scope's (float32).
    initializer : an initializer (object or class, called as ``init(shape, dtype=..., partition_info=None)``),
        or a value or tensor (then ``shape`` must be None). Default: the scope's, else
        ``glorot_uniform_initializer`` for floating dtypes and zeros for integers and bools.
    regularizer : a function of the new variable; its result (if not None) goes into
        ``GraphKeys.REGULARIZATION_LOSSES``. Default: the scope's.
    trainable : None or True adds the variable to ``TRAINABLE_VARIABLES``.
    collections : collections for a new variable (default ``[GraphKeys.GLOBAL_VARIABLES]``).
    validate_shape : False gives the variable an unknown static shape.
    custom_getter : ``getter(true_getter, name, *args, **kwargs)`` wrapping the creation.
    caching_device, use_resource, synchronization, aggregation : accepted and ignored.
    partitioner, constraint : not supported (``NotImplementedError``).

    Raises
    ------
    ValueError : the variable exists and the scope does not reuse; it does not exist and the scope
        reuses (``reuse=True``); or shapes/dtypes of a shared variable disagree.
    """
    scope = get_variable_scope()
    return scope.get_variable(
        _store(variables_graph()),
        name,
        shape=shape,
        dtype=dtype,
        initializer=initializer,
        regularizer=regularizer,
        trainable=trainable,
        collections=collections,
        caching_device=caching_device,
        partitioner=partitioner,
        validate_shape=validate_shape,
        use_resource=use_resource,
        custom_getter=custom_getter,
        constraint=constraint,
        synchronization=synchronization,
        aggregation=aggregation,
    )


def get_local_variable(
    name: str, shape: Any = None, dtype: Any = None, initializer: Any = None, **kwargs: Any
) -> Variable:
    """``get_variable`` for a non-trainable variable of ``GraphKeys.LOCAL_VARIABLES`` (TensorFlow's)."""
    collections = list(kwargs.pop("collections", None) or []) + [state_ops.LOCAL_VARIABLES]
    kwargs.pop("trainable", None)
    return get_variable(name, shape, dtype, initializer, trainable=False, collections=collections, **kwargs)


@contextlib.contextmanager
def variable_scope(
    name_or_scope: str | VariableScope | None,
    default_name: str | None = None,
    values: Any = None,
    initializer: Any = None,
    regularizer: Any = None,
    caching_device: Any = None,
    partitioner: Any = None,
    custom_getter: Any = None,
    reuse: Any = None,
    dtype: Any = None,
    use_resource: Any = None,
    constraint: Any = None,
    auxiliary_name_scope: bool = True,
) -> Iterator[VariableScope]:
    """Open a variable scope (and a name scope for ops); yields the new ``VariableScope``.

    Parameters
    ----------
    name_or_scope : a name (nested under the current scope), a ``VariableScope`` to re-enter
        (its name is used as is, not nested), or None to use ``default_name``.
    default_name : with ``name_or_scope=None``: the name, made unique among the current scope's
        sub-scopes (``dense``, ``dense_1``, ...).
    values : tensors the scope's ops use (accepted; used by TensorFlow to pick the graph).
    initializer, regularizer, dtype, caching_device, custom_getter, use_resource, constraint :
        defaults for ``get_variable`` in the scope (and inherited by sub-scopes).
    reuse : True, ``AUTO_REUSE``, or None/False to inherit the enclosing scope's reuse.
    partitioner : not supported (``NotImplementedError``).
    auxiliary_name_scope : False opens no name scope for ops.
    """
    _refuse_partitioner(partitioner)
    if default_name is None and name_or_scope is None:
        raise TypeError("If default_name is None then name_or_scope is required")
    if not (name_or_scope is None or isinstance(name_or_scope, (str, VariableScope))):
        raise TypeError(f"VariableScope: name_or_scope must be a string or VariableScope, got {name_or_scope!r}")
    if reuse is False:
        reuse = None  # False does not switch off an enclosing scope's reuse (TensorFlow 1.x)
    if name_or_scope is None and reuse is True:
        raise ValueError("reuse=True cannot be used without a name_or_scope")
    graph = get_default_graph()  # ops' name scopes are the current graph's, variable scopes the user graph's
    store = _store(variables_graph(graph))
    scope_ref = _scope_ref(variables_graph(graph))
    old: VariableScope = scope_ref[0]
    if isinstance(name_or_scope, VariableScope):
        ns_name = name_or_scope.name.split("/")[-1]
    elif name_or_scope is not None:
        ns_name = name_or_scope
    else:
        ns_name = default_name
    name_scope_cm: Any = graph.name_scope(ns_name) if auxiliary_name_scope and ns_name else contextlib.nullcontext("")
    with name_scope_cm as opened:
        if isinstance(name_or_scope, VariableScope):
            full_name = name_or_scope.name
            saved_counts = dict(store.scope_counts)
            new = VariableScope(
                name_or_scope.reuse if not reuse else reuse,
                name=full_name,
                initializer=name_or_scope.initializer,
                regularizer=name_or_scope.regularizer,
                caching_device=name_or_scope.caching_device,
                partitioner=name_or_scope.partitioner,
                custom_getter=name_or_scope.custom_getter,
                name_scope=name_or_scope.original_name_scope,
                dtype=name_or_scope.dtype,
                use_resource=name_or_scope.use_resource,
                constraint=name_or_scope.constraint,
            )
        else:
            saved_counts = None
            local = name_or_scope if name_or_scope is not None else _unique_scope_name(store, old, default_name)  # type: ignore[arg-type]
            full_name = f"{old.name}/{local}" if old.name else local
            new = VariableScope(
                reuse or old.reuse,
                name=full_name,
                initializer=old.initializer,
                regularizer=old.regularizer,
                caching_device=old.caching_device,
                partitioner=old.partitioner,
                custom_getter=old.custom_getter,
                name_scope=opened if auxiliary_name_scope else old.original_name_scope,
                dtype=old.dtype,
                use_resource=old.use_resource,
                constraint=old.constraint,
            )
        store.open_scope(full_name)
        for setter, value in (
            (new.set_initializer, initializer),
            (new.set_regularizer, regularizer),
            (new.set_caching_device, caching_device),
            (new.set_custom_getter, custom_getter),
            (new.set_dtype, dtype),
            (new.set_use_resource, use_resource),
        ):
            if value is not None:
                setter(value)
        if constraint is not None:
            new._constraint = constraint
        scope_ref[0] = new
        try:
            yield new
        finally:
            scope_ref[0] = old
            if saved_counts is not None:
                store.scope_counts = saved_counts
            else:
                store.close_subscopes(full_name)


def _unique_scope_name(store: _VariableStore, current: VariableScope, prefix: str) -> str:
    """``prefix``, or ``prefix_1``, ``prefix_2``...: the first not yet opened in the current scope."""
    base = f"{current.name}/{prefix}" if current.name else prefix
    if store.scope_counts.get(base, 0) == 0:
        return prefix
    i = 1
    while store.scope_counts.get(f"{base}_{i}", 0) > 0:
        i += 1
    return f"{prefix}_{i}"


def variable_op_scope(
    values: Any, name_or_scope: str | VariableScope | None, default_name: str | None = None, **kwargs: Any
) -> contextlib.AbstractContextManager[VariableScope]:
    """TensorFlow's deprecated ``variable_op_scope(values, name_or_scope, default_name, ...)``."""
    return variable_scope(name_or_scope, default_name=default_name, values=values, **kwargs)
