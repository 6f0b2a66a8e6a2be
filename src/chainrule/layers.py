"""``cr.layers``: TensorFlow 1.x's functional layers, built on ``get_variable`` and ``variable_scope``.

Each call opens ``variable_scope(name, default_name=<layer>)``, so variables get TensorFlow's names
(``dense/kernel``, ``dense/bias``, then ``dense_1/...``; ``conv2d/kernel``;
``batch_normalization/gamma|beta|moving_mean|moving_variance``) and are shared with
``reuse=True`` (or ``AUTO_REUSE``) under the same ``name``. Kernels default to Glorot uniform
(``get_variable``'s default), biases to zeros, as in TensorFlow. Everything is a composition of
library ops, so gradients come from their declarations.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chainrule.framework import dtypes
from chainrule.framework.graph import Tensor, get_default_graph, is_tensor_like
from chainrule.framework.graph_keys import GraphKeys
from chainrule.layer_classes import Layer, functional_layer_class
from chainrule.ops import array_ops, conv_ops, linalg_ops, math_ops, nn_ops, reduction_ops
from chainrule.ops.constant_op import convert_to_tensor
from chainrule.ops.control_flow_ops import cond
from chainrule.ops.init_ops import Ones, Zeros
from chainrule.ops.variable_scope import get_variable, variable_scope

__all__ = [
    "dense",
    "conv2d",
    "max_pooling2d",
    "average_pooling2d",
    "flatten",
    "dropout",
    "batch_normalization",
    "Layer",
    "Dense",
    "Conv2D",
    "MaxPooling2D",
    "AveragePooling2D",
    "Flatten",
    "Dropout",
    "BatchNormalization",
]

UPDATE_OPS = GraphKeys.UPDATE_OPS
REGULARIZATION_LOSSES = GraphKeys.REGULARIZATION_LOSSES
_ZEROS = Zeros()  # TensorFlow's defaults, zeros_initializer() and ones_initializer()
_ONES = Ones()


def _refuse(**arguments: Any) -> None:
    for what, value in arguments.items():
        if value is not None:
            raise NotImplementedError(f"cr.layers: {what}= is not supported")


def _activity(outputs: Tensor, activation: Callable[..., Any] | None, activity_regularizer: Any) -> Tensor:
    if activation is not None:
        outputs = activation(outputs)
    if activity_regularizer is not None:
        loss = activity_regularizer(outputs)
        if loss is not None:
            get_default_graph().add_to_collection(REGULARIZATION_LOSSES, loss)
    return outputs


def _float_input(inputs: Any, layer: str) -> Tensor:
    x = convert_to_tensor(inputs)
    if not x.dtype.is_floating:
        raise TypeError(f"cr.layers.{layer}: inputs {x.name} must be floating, got {x.dtype.name}")
    return x


def _last_dim(x: Tensor, layer: str, what: str = "last dimension") -> int:
    dims = x.shape.dims
    if dims is None or not dims or dims[-1] is None:
        raise ValueError(f"cr.layers.{layer}: the {what} of the inputs should be defined, got shape {x.shape}")
    return int(dims[-1])


def dense(
    inputs: Any,
    units: int,
    activation: Callable[..., Any] | None = None,
    use_bias: bool = True,
    kernel_initializer: Any = None,
    bias_initializer: Any = _ZEROS,
    kernel_regularizer: Any = None,
    bias_regularizer: Any = None,
    activity_regularizer: Any = None,
    kernel_constraint: Any = None,
    bias_constraint: Any = None,
    trainable: bool = True,
    name: str | None = None,
    reuse: Any = None,
) -> Tensor:
    """A fully connected layer: ``activation(inputs @ kernel + bias)`` on the last axis.

    Parameters
    ----------
    inputs : floating tensor ``[..., in]`` (last dimension known); higher ranks are contracted on
        the last axis, as TensorFlow's ``tensordot`` path.
    units : the output size.
    activation : applied last (None: linear).
    use_bias : whether to add ``bias``.
    kernel_initializer : default ``glorot_uniform_initializer`` (``get_variable``'s default).
    bias_initializer : default ``zeros_initializer()``.
    kernel_regularizer, bias_regularizer, activity_regularizer : their losses go into
        ``GraphKeys.REGULARIZATION_LOSSES``.
    trainable : whether the variables go into ``TRAINABLE_VARIABLES``.
    name, reuse : the variable scope (``dense``, ``dense_1``, ... by default) and its reuse.
    kernel_constraint, bias_constraint : not supported (``NotImplementedError``).

    Returns
    -------
    ``[..., units]``; the variables are ``<name>/kernel`` (``[in, units]``) and ``<name>/bias``.
    """
    _refuse(kernel_constraint=kernel_constraint, bias_constraint=bias_constraint)
    x = _float_input(inputs, "dense")
    if x.shape.rank is not None and x.shape.rank < 2:
        raise ValueError(f"cr.layers.dense: expected inputs of rank 2 or more, got shape {x.shape}")
    with variable_scope(name, default_name="dense", values=[x], reuse=reuse):
        in_dim = _last_dim(x, "dense")
        kernel = get_variable(
            "kernel", [in_dim, units], x.dtype, kernel_initializer, kernel_regularizer, trainable=trainable
        )
        rank = x.shape.rank
        if rank == 2:
            outputs = linalg_ops.matmul(x, kernel)
        else:
            outputs = linalg_ops.tensordot(x, kernel, [[rank - 1 if rank is not None else -1], [0]])
        if use_bias:
            bias = get_variable("bias", [units], x.dtype, bias_initializer, bias_regularizer, trainable=trainable)
            outputs = nn_ops.bias_add(outputs, bias)
        return _activity(outputs, activation, activity_regularizer)


def _pair(value: Any, what: str) -> tuple[int, int]:
    if isinstance(value, int):
        return (value, value)
    pair = tuple(int(v) for v in value)
    if len(pair) != 2:
        raise ValueError(f"The `{what}` argument must be a tuple of 2 integers, got {value!r}")
    return pair


def _padding(padding: Any) -> str:
    mode = str(padding).upper()
    if mode not in ("VALID", "SAME"):
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")
    return mode


def _nhwc(data_format: str, layer: str) -> str:
    fmt = {"channels_last": "NHWC", "channels_first": "NCHW"}.get(data_format)
    if fmt is None:
        raise ValueError(
            f"cr.layers.{layer}: data_format must be 'channels_last' or 'channels_first', got {data_format!r}"
        )
    return fmt


def conv2d(
    inputs: Any,
    filters: int,
    kernel_size: Any,
    strides: Any = (1, 1),
    padding: str = "valid",
    data_format: str = "channels_last",
    dilation_rate: Any = (1, 1),
    activation: Callable[..., Any] | None = None,
    use_bias: bool = True,
    kernel_initializer: Any = None,
    bias_initializer: Any = _ZEROS,
    kernel_regularizer: Any = None,
    bias_regularizer: Any = None,
    activity_regularizer: Any = None,
    kernel_constraint: Any = None,
    bias_constraint: Any = None,
    trainable: bool = True,
    name: str | None = None,
    reuse: Any = None,
) -> Tensor:
    """A 2-D convolution layer: ``activation(conv2d(inputs, kernel) + bias)``.

    Parameters
    ----------
    inputs : ``[batch, height, width, channels]`` (``channels_first``: ``[batch, channels, height, width]``).
    filters : the number of output channels.
    kernel_size, strides, dilation_rate : an int or two ints.
    padding : ``"valid"`` or ``"same"`` (case-insensitive).
    data_format : ``"channels_last"`` or ``"channels_first"``.
    Others : as ``dense``. The variables are ``<name>/kernel`` (``[kh, kw, in, filters]``) and
    ``<name>/bias``; the scope defaults to ``conv2d``, ``conv2d_1``, ...
    """
    _refuse(kernel_constraint=kernel_constraint, bias_constraint=bias_constraint)
    x = _float_input(inputs, "conv2d")
    fmt = _nhwc(data_format, "conv2d")
    kh, kw = _pair(kernel_size, "kernel_size")
    with variable_scope(name, default_name="conv2d", values=[x], reuse=reuse):
        if x.shape.rank not in (4, None):
            raise ValueError(f"cr.layers.conv2d: inputs should have rank 4, got shape {x.shape}")
        channels = x.shape.dims[1 if fmt == "NCHW" else -1] if x.shape.rank == 4 else None  # type: ignore[index]
        if channels is None:
            raise ValueError("cr.layers.conv2d: the channel dimension of the inputs should be defined")
        kernel = get_variable(
            "kernel", [kh, kw, int(channels), filters], x.dtype, kernel_initializer, kernel_regularizer,
            trainable=trainable,
        )  # fmt: skip
        outputs = conv_ops.conv2d(
            x, kernel, _pair(strides, "strides"), _padding(padding), data_format=fmt,
            dilations=_pair(dilation_rate, "dilation_rate"),
        )  # fmt: skip
        if use_bias:
            bias = get_variable("bias", [filters], x.dtype, bias_initializer, bias_regularizer, trainable=trainable)
            outputs = nn_ops.bias_add(outputs, bias, data_format=fmt)
        return _activity(outputs, activation, activity_regularizer)


def _pooling(
    kind: str, inputs: Any, pool_size: Any, strides: Any, padding: str, data_format: str, name: str | None
) -> Tensor:
    layer = {"MaxPool": "max_pooling2d", "AvgPool": "average_pooling2d"}[kind]
    x = _float_input(inputs, layer)
    fmt = _nhwc(data_format, layer)
    pool = conv_ops.max_pool2d if kind == "MaxPool" else conv_ops.avg_pool2d
    with get_default_graph().name_scope(name or layer):
        return pool(x, _pair(pool_size, "pool_size"), _pair(strides, "strides"), _padding(padding), data_format=fmt)


def max_pooling2d(
    inputs: Any,
    pool_size: Any,
    strides: Any,
    padding: str = "valid",
    data_format: str = "channels_last",
    name: str | None = None,
) -> Tensor:
    """Maximum over ``pool_size`` windows moved by ``strides`` (ints or pairs); ``padding`` ``"valid"``/``"same"``."""
    return _pooling("MaxPool", inputs, pool_size, strides, padding, data_format, name)


def average_pooling2d(
    inputs: Any,
    pool_size: Any,
    strides: Any,
    padding: str = "valid",
    data_format: str = "channels_last",
    name: str | None = None,
) -> Tensor:
    """Mean over ``pool_size`` windows moved by ``strides``; with ``"same"`` only real elements are averaged."""
    return _pooling("AvgPool", inputs, pool_size, strides, padding, data_format, name)


def flatten(inputs: Any, name: str | None = None, data_format: str = "channels_last") -> Tensor:
    """``[batch, ...]`` reshaped to ``[batch, prod(...)]`` (``channels_first`` moves channels last first)."""
    x = convert_to_tensor(inputs)
    fmt = _nhwc(data_format, "flatten")
    with get_default_graph().name_scope(name or "flatten"):
        if fmt == "NCHW" and x.shape.rank is not None and x.shape.rank > 2:
            x = array_ops.transpose(x, [0, *range(2, x.shape.rank), 1])
        dims = x.shape.dims
        if dims is not None and dims[1:] and all(d is not None for d in dims[1:]):
            size = 1
            for d in dims[1:]:
                size *= int(d)  # type: ignore[arg-type]
            return array_ops.reshape(x, [-1, size])
        batch = array_ops.shape(x)[:1]
        return array_ops.reshape(x, array_ops.concat([batch, [-1]], 0))


def _static_bool(value: Any) -> bool | None:
    """``value`` as a Python bool when it is one (or a NumPy bool); None for a tensor."""
    if is_tensor_like(value):
        return None
    return bool(value)


def dropout(
    inputs: Any,
    rate: float = 0.5,
    noise_shape: Any = None,
    seed: int | None = None,
    training: Any = False,
    name: str | None = None,
) -> Tensor:
    """Drop each element with probability ``rate`` (scaling the rest by ``1 / (1 - rate)``) when ``training``.

    ``training`` is a Python bool or a bool tensor (then a ``cr.cond`` picks at run time). Note
    the default ``training=False``: the layer is the identity unless asked, as in TensorFlow.
    """
    x = convert_to_tensor(inputs)
    with get_default_graph().name_scope(name or "dropout"):
        flag = _static_bool(training)
        if flag is False:
            return array_ops.identity(x)

        dropped = nn_ops.dropout(x, noise_shape=noise_shape, seed=seed, rate=rate)
        if flag is True:
            return dropped
        # The mask is drawn outside the cond: the gradient of a cond recomputes its branch, and
        # a random op traced into the branch would draw a different mask for the gradient.
        pred = convert_to_tensor(training, dtype=dtypes.bool_)
        return cond(pred, lambda: array_ops.identity(dropped), lambda: array_ops.identity(x))


def batch_normalization(
    inputs: Any,
    axis: Any = -1,
    momentum: float = 0.99,
    epsilon: float = 1e-3,
    center: bool = True,
    scale: bool = True,
    beta_initializer: Any = _ZEROS,
    gamma_initializer: Any = _ONES,
    moving_mean_initializer: Any = _ZEROS,
    moving_variance_initializer: Any = _ONES,
    beta_regularizer: Any = None,
    gamma_regularizer: Any = None,
    beta_constraint: Any = None,
    gamma_constraint: Any = None,
    training: Any = False,
    trainable: bool = True,
    name: str | None = None,
    reuse: Any = None,
    renorm: bool = False,
    renorm_clipping: Any = None,
    renorm_momentum: float = 0.99,
    fused: Any = None,
    virtual_batch_size: Any = None,
    adjustment: Any = None,
) -> Tensor:
    """Batch normalization: ``gamma * (x - mean) / sqrt(variance + epsilon) + beta`` per feature of ``axis``.

    With ``training`` (a Python bool or a bool tensor), ``mean``/``variance`` are the batch's
    (over every axis but ``axis``; the variance is the biased one, ``mean((x - mean)^2)``) and two
    update ops, ``moving -= (moving - batch) * (1 - momentum)`` for the moving mean and variance,
    go into ``GraphKeys.UPDATE_OPS``: run them with the train op, e.g. under
    ``cr.control_dependencies(cr.get_collection(cr.GraphKeys.UPDATE_OPS))``. Otherwise the moving
    averages are used and no update ops are made. With a tensor ``training`` the update ops always
    exist and leave the averages unchanged when it is False (momentum 1), as TensorFlow's.

    Variables (scope ``batch_normalization``, ``batch_normalization_1``, ...): ``gamma`` (if
    ``scale``), ``beta`` (if ``center``), and the non-trainable ``moving_mean``,
    ``moving_variance``, all of shape ``[features]``. ``fused`` is accepted (same results);
    ``renorm``, ``virtual_batch_size``, ``adjustment`` and the constraints are not supported.
    """
    _refuse(
        beta_constraint=beta_constraint,
        gamma_constraint=gamma_constraint,
        renorm_clipping=renorm_clipping,
        virtual_batch_size=virtual_batch_size,
        adjustment=adjustment,
    )
    if renorm:
        raise NotImplementedError("cr.layers.batch_normalization: renorm=True is not supported")
    x = _float_input(inputs, "batch_normalization")
    if isinstance(axis, (list, tuple)):
        if len(axis) != 1:
            raise NotImplementedError("cr.layers.batch_normalization: normalizing over several feature axes")
        axis = axis[0]
    rank = x.shape.rank
    if rank is None:
        raise ValueError("cr.layers.batch_normalization: the rank of the inputs must be known")
    if not -rank <= axis < rank:
        raise ValueError(f"cr.layers.batch_normalization: axis {axis} is out of range for inputs of rank {rank}")
    axis %= rank
    features = x.shape.dims[axis]  # type: ignore[index]
    if features is None:
        raise ValueError(f"cr.layers.batch_normalization: axis {axis} of the inputs has no known size ({x.shape})")
    reduce_axes = [i for i in range(rank) if i != axis]
    broadcast = [1] * rank
    broadcast[axis] = int(features)
    with variable_scope(name, default_name="batch_normalization", values=[x], reuse=reuse):
        shape = [int(features)]
        gamma = beta = None
        if scale:
            gamma = get_variable("gamma", shape, x.dtype, gamma_initializer, gamma_regularizer, trainable=trainable)
        if center:
            beta = get_variable("beta", shape, x.dtype, beta_initializer, beta_regularizer, trainable=trainable)
        moving_mean = get_variable("moving_mean", shape, x.dtype, moving_mean_initializer, trainable=False)
        moving_variance = get_variable("moving_variance", shape, x.dtype, moving_variance_initializer, trainable=False)
        flag = _static_bool(training)
        if flag is False:
            mean, variance = moving_mean.value(), moving_variance.value()
        else:
            batch_mean = reduction_ops.reduce_mean(x, reduce_axes, keepdims=True)
            batch_variance = reduction_ops.reduce_mean(math_ops.square(x - batch_mean), reduce_axes, keepdims=True)
            batch_mean = array_ops.reshape(batch_mean, shape)
            batch_variance = array_ops.reshape(batch_variance, shape)
            if flag is True:
                mean, variance = batch_mean, batch_variance
                decay: Any = 1.0 - momentum
            else:
                pred = convert_to_tensor(training, dtype=dtypes.bool_)
                mean = cond(pred, lambda: batch_mean, lambda: moving_mean.value())
                variance = cond(pred, lambda: batch_variance, lambda: moving_variance.value())
                rate, still = convert_to_tensor(1.0 - momentum, dtype=x.dtype), convert_to_tensor(0.0, dtype=x.dtype)
                decay = cond(pred, lambda: rate, lambda: still)
            graph = get_default_graph()
            for var, value in ((moving_mean, batch_mean), (moving_variance, batch_variance)):
                with graph.name_scope("AssignMovingAvg"):
                    update = var.assign_sub((var.value() - value) * decay)
                graph.add_to_collection(UPDATE_OPS, update)
        inv = math_ops.rsqrt(array_ops.reshape(variance, broadcast) + convert_to_tensor(epsilon, dtype=x.dtype))
        if gamma is not None:
            inv = inv * array_ops.reshape(gamma, broadcast)
        outputs = (x - array_ops.reshape(mean, broadcast)) * inv
        if beta is not None:
            outputs = outputs + array_ops.reshape(beta, broadcast)
        return outputs


# The layer classes (TF 1.x's tf.layers.Dense, ...): the functional layers above, as objects that
# create their variables at the first call and reuse them after.
_POOL_ARGS = ("pool_size", "strides", "padding", "data_format")
Dense = functional_layer_class("Dense", dense, ("units", "activation"), ("kernel", "bias"))
Conv2D = functional_layer_class(
    "Conv2D",
    conv2d,
    ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate", "activation"),
    ("kernel", "bias"),
)
MaxPooling2D = functional_layer_class("MaxPooling2D", max_pooling2d, _POOL_ARGS)
AveragePooling2D = functional_layer_class("AveragePooling2D", average_pooling2d, _POOL_ARGS)
Flatten = functional_layer_class("Flatten", flatten, ("data_format",))
Dropout = functional_layer_class(
    "Dropout", dropout, ("rate", "noise_shape", "seed"), call="layer(inputs, training=...)"
)
BatchNormalization = functional_layer_class(
    "BatchNormalization",
    batch_normalization,
    ("axis", "momentum", "epsilon", "center", "scale"),
    ("gamma", "beta", "moving_mean", "moving_variance"),
    call="layer(inputs, training=...)",
)
