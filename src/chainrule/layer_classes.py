"""TensorFlow 1.x's layer classes (``tf.layers.Dense``, ``Conv2D``, ...): objects that own their variables.

A layer object keeps its configuration; its first call creates the variables in a fresh variable
scope (``dense``, ``dense_1``, ... as the functional layers do), and every later call reuses them,
so one layer applied to two inputs shares its weights, as in TensorFlow. Each class calls the
functional layer of ``cr.layers`` with that scope: one implementation serves both forms
(``chainrule.layers`` makes each class with ``functional_layer_class``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chainrule.framework.graph import Tensor, get_default_graph
from chainrule.framework.graph_keys import GraphKeys
from chainrule.ops.variable_scope import VariableScope, variable_scope

__all__ = ["Layer", "functional_layer_class"]


class Layer:
    """The base of the layer classes: a name, a variable scope fixed at the first call, and the variables made there.

    Parameters
    ----------
    trainable : whether the layer's variables go into ``TRAINABLE_VARIABLES``.
    name : the variable scope's name (unique per graph by default: the layer's snake-case name).
    dtype : accepted for TensorFlow's signature; the variables take the inputs' dtype.
    """

    _default_name = "layer"

    def __init__(self, trainable: bool = True, name: str | None = None, dtype: Any = None, **kwargs: Any) -> None:
        self.trainable = trainable
        self._given_name = name
        self.dtype = dtype
        self._scope: VariableScope | None = None
        self._variables: list[Any] = []
        self._updates: list[Any] = []
        self._config = kwargs

    def _apply(self, inputs: Any, *, scope: VariableScope, reuse: Any, **call_kwargs: Any) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} does not define how it is applied")

    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> Tensor:
        graph = get_default_graph()
        if self._scope is None:
            global_before = set(map(id, graph.get_collection(GraphKeys.GLOBAL_VARIABLES)))
            updates_before = set(map(id, graph.get_collection(GraphKeys.UPDATE_OPS)))
            with variable_scope(self._given_name, default_name=self._default_name) as scope:
                self._scope = scope
            outputs = self._apply(inputs, *args, scope=scope, reuse=None, **kwargs)
            self._variables = [
                v for v in graph.get_collection(GraphKeys.GLOBAL_VARIABLES) if id(v) not in global_before
            ]
            self._updates = [u for u in graph.get_collection(GraphKeys.UPDATE_OPS) if id(u) not in updates_before]
            return outputs
        return self._apply(inputs, *args, scope=self._scope, reuse=True, **kwargs)

    apply = __call__

    @property
    def name(self) -> str:
        """The layer's name: the one given, else its variable scope's (known after the first call)."""
        if self._given_name is not None:
            return self._given_name
        return self._scope.name.split("/")[-1] if self._scope is not None else self._default_name

    built = property(lambda self: self._scope is not None, doc="Whether the first call has created the variables.")
    variables = property(lambda self: list(self._variables), doc="The layer's variables (after the first call).")
    weights = variables
    trainable_variables = property(lambda self: [v for v in self._variables if v.trainable])
    trainable_weights = trainable_variables
    non_trainable_variables = property(lambda self: [v for v in self._variables if not v.trainable])
    non_trainable_weights = non_trainable_variables
    updates = property(lambda self: list(self._updates), doc="Update ops made by the first call (batch norm's).")

    def _variable(self, basename: str) -> Any:
        for v in self._variables:
            if v.op.name.split("/")[-1] == basename:
                return v
        return None


class _FunctionalLayer(Layer):
    """A layer whose call is one functional layer of ``cr.layers``, given the layer's scope and configuration."""

    _function: Any = None  # set per class by functional_layer_class (a staticmethod)
    _positional: tuple[str, ...] = ()
    _stateless = False

    def __init__(self, *args: Any, trainable: bool = True, name: str | None = None, dtype: Any = None, **kwargs: Any):
        if len(args) > len(self._positional):
            raise TypeError(
                f"{type(self).__name__} takes at most {len(self._positional)} positional arguments, got {len(args)}"
            )
        kwargs.update(zip(self._positional, args))
        super().__init__(trainable=trainable, name=name, dtype=dtype, **kwargs)

    def _apply(self, inputs: Any, *, scope: VariableScope, reuse: Any, **call_kwargs: Any) -> Tensor:
        function = type(self)._function
        if self._stateless:  # no variables: each call is the function under the layer's name
            return function(inputs, **self._config, **call_kwargs, name=self.name)
        return function(inputs, **self._config, **call_kwargs, trainable=self.trainable, name=scope, reuse=reuse)

    def __getattr__(self, attribute: str) -> Any:
        # The configuration reads as attributes (layer.units, layer.filters), as in TensorFlow.
        config = self.__dict__.get("_config", {})
        if attribute in config:
            return config[attribute]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {attribute!r}")


def _variable_property(basename: str) -> property:
    def get(self: Layer) -> Any:
        return self._variable(basename)

    return property(get, doc=f"The ``{basename}`` variable (None before the first call).")


def functional_layer_class(
    class_name: str,
    function: Callable[..., Tensor],
    positional: tuple[str, ...],
    variables: tuple[str, ...] = (),
    call: str = "layer(inputs)",
) -> type[Layer]:
    """The layer class of a functional layer (``Dense`` of ``dense``): TensorFlow's constructor arguments
    (``positional`` first, in order), one property per variable in ``variables``, and ``function``'s
    own name as the default scope name."""
    namespace: dict[str, Any] = {
        "_function": staticmethod(function),
        "_positional": positional,
        "_default_name": function.__name__,
        "_stateless": not variables,
        "__doc__": f"``tf.layers.{class_name}({', '.join(positional)}, ...)``, called as ``{call}``: "
        f"arguments as ``cr.layers.{function.__name__}``'s"
        + (f"; its variables: {', '.join(variables)}." if variables else " (no variables)."),
        "__module__": "chainrule.layers",
    }
    for variable in variables:
        namespace[variable] = _variable_property(variable)
    return type(class_name, (_FunctionalLayer,), namespace)
