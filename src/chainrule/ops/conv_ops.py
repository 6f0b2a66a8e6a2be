"""Convolution and pooling over NHWC images, with TensorFlow 1.x semantics.

Primitive ops (TensorFlow's names): ``Conv2D``, ``Conv2DBackpropInput``, ``Conv2DBackpropFilter``,
``MaxPool``, ``MaxPoolGrad``, ``MaxPoolGradGrad``, ``AvgPool``, ``AvgPoolGrad``. Every backprop op is
linear in its gradient input and its own gradient is built from the others, so second derivatives
(Hessians of a CNN loss) work.

Padding follows TensorFlow: for ``"SAME"`` the output size is ``ceil(in / stride)`` and the
``pad_total = max((out - 1) * stride + (k - 1) * dilation + 1 - in, 0)`` zeros are split with
``pad_total // 2`` before (the odd one goes after). ``"VALID"`` uses no padding. Max pooling pads
with -inf; average pooling divides by the number of valid (unpadded) elements in each window.

Kernels are vectorized NumPy: windows are a strided view (``sliding_window_view``, i.e. im2col
without a copy) contracted with ``tensordot`` (one BLAS call); the backprop kernels scatter
(col2im) with one strided add per filter tap. The primitive ops are NHWC only; ``data_format="NCHW"``
is handled by transposes in the Python functions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from chainrule.framework.graph import Tensor, get_default_graph
from chainrule.framework.tensor_shape import TensorShape
from chainrule.ops import array_ops, indexing_ops
from chainrule.ops.constant_op import convert_to_tensor
from chainrule.ops.jvp_forms import linear, linear_in, multilinear
from chainrule.ops.registry import apply, constant_shape, constant_value, register_op
from chainrule.ops.shape_rules import FLOAT, NUMERIC, check_kind, common_dtype

__all__ = [
    "conv2d",
    "conv2d_transpose",
    "conv2d_backprop_input",
    "conv2d_backprop_filter",
    "depthwise_conv2d",
    "depthwise_conv2d_native",
    "max_pool2d",
    "max_pool",
    "avg_pool2d",
    "avg_pool",
]

_NCHW_TO_NHWC = (0, 2, 3, 1)
_NHWC_TO_NCHW = (0, 3, 1, 2)


# --- attributes and geometry (shared by shape rules and kernels) -----------------------------
def _hw_tuple(value: Any, data_format: str) -> tuple[int, ...]:
    """Strides/ksize/dilations in TensorFlow's NHWC 4-form ``(1, h, w, 1)``.

    An int, or 1, 2 or 4 ints (the 4-form in the layout of ``data_format``) is accepted; anything
    else is passed through unchanged so that the op's shape rule reports it with the op's context.
    """
    try:
        vals = tuple(int(v) for v in np.ravel(value))
    except (TypeError, ValueError):
        return (-1,)
    if len(vals) == 1:
        return (1, vals[0], vals[0], 1)
    if len(vals) == 2:
        return (1, vals[0], vals[1], 1)
    if len(vals) == 4 and data_format == "NCHW":
        return (vals[0], vals[2], vals[3], vals[1])
    return vals


def _padding_attrs(padding: Any, data_format: str) -> dict[str, Any]:
    """``padding`` as ``"SAME"``/``"VALID"`` or ``"EXPLICIT"`` with 8 NHWC-ordered pad amounts."""
    if isinstance(padding, str):
        return {"padding": padding.upper(), "explicit_paddings": ()}
    try:
        pairs = [tuple(int(v) for v in p) for p in padding]
    except (TypeError, ValueError):
        return {"padding": repr(padding), "explicit_paddings": ()}
    if len(pairs) == 4 and data_format == "NCHW":
        pairs = [pairs[i] for i in _NCHW_TO_NHWC]
    return {"padding": "EXPLICIT", "explicit_paddings": tuple(v for p in pairs for v in p)}


def _check_hw(name: str, value: tuple[int, ...]) -> None:
    if len(value) != 4 or value[0] != 1 or value[3] != 1 or min(value) < 1:
        raise ValueError(
            f"{name} must be a positive int or a list of 1, 2 or 4 ints (4: 1 for the batch and channel dims), "
            f"got {list(value)} (NHWC order)"
        )


def _check_common(
    strides: tuple[int, ...], padding: str, explicit: tuple[int, ...], data_format: str, explicit_ok: bool = False
) -> None:
    if data_format != "NHWC":
        raise ValueError(f"data_format must be 'NHWC' or 'NCHW', got {data_format!r}")
    _check_hw("strides", strides)
    allowed = ("SAME", "VALID", "EXPLICIT") if explicit_ok else ("SAME", "VALID")
    if padding not in allowed:
        extra = " or a list of 4 [before, after] pairs" if explicit_ok else ""
        raise ValueError(f"padding must be 'SAME' or 'VALID'{extra}, got {padding!r}")
    if padding == "EXPLICIT":
        if len(explicit) != 8 or min(explicit) < 0 or any(explicit[i] for i in (0, 1, 6, 7)):
            raise ValueError(
                "explicit padding must be 4 non-negative [before, after] pairs with no padding of the batch "
                f"and channel dims, got {[list(explicit[i : i + 2]) for i in range(0, len(explicit), 2)]}"
            )


def _geometry(
    size: int, k: int, s: int, d: int, padding: str, explicit: tuple[int, int], what: str
) -> tuple[int, int, int]:
    """``(out, pad_before, pad_after)`` along one spatial dim; ValueError if the window cannot fit."""
    eff = (k - 1) * d + 1
    if padding == "SAME":
        out = -(-size // s)
        total = max((out - 1) * s + eff - size, 0)
        return out, total // 2, total - total // 2
    before, after = explicit if padding == "EXPLICIT" else (0, 0)
    span = size + before + after - eff
    if span < 0:
        dilated = f" (dilated to {eff})" if d > 1 else ""
        padded = f"padded input {what} {size + before + after}" if before or after else f"input {what} {size}"
        raise ValueError(f"window {what} {k}{dilated} is larger than the {padded} with padding {padding}")
    return span // s + 1, before, after


def _static_out(
    size: int | None, k: int | None, s: int, d: int, padding: str, explicit: tuple[int, int], what: str
) -> int | None:
    if size is None:
        return None
    if padding == "SAME":
        return -(-size // s)
    if k is None:
        return None
    return _geometry(size, k, s, d, padding, explicit, what)[0]


def _pads(explicit: tuple[int, ...], axis: int) -> tuple[int, int]:
    return (explicit[2 * axis], explicit[2 * axis + 1]) if explicit else (0, 0)


def _plan(
    hw: tuple[int, int],
    k: tuple[int, int],
    strides: tuple[int, ...],
    dilations: tuple[int, ...],
    padding: str,
    explicit: tuple[int, ...],
) -> tuple[tuple[int, int], tuple[tuple[int, int], tuple[int, int]]]:
    """Output height/width and the (before, after) pads of both spatial dims, for a kernel."""
    oh, pt, pb = _geometry(hw[0], k[0], strides[1], dilations[1], padding, _pads(explicit, 1), "height")
    ow, pl, pr = _geometry(hw[1], k[1], strides[2], dilations[2], padding, _pads(explicit, 2), "width")
    return (oh, ow), ((pt, pb), (pl, pr))


def _rank4(t: Tensor, what: str) -> list[int | None]:
    if t.shape.rank is None:
        return [None] * 4
    if t.shape.rank != 4:
        raise ValueError(f"{what} must be rank 4 ({_LAYOUT[what]}), got shape {t.shape}")
    return t.shape.as_list()


_LAYOUT = {
    "input": "NHWC: [batch, height, width, channels]",
    "filters": "HWIO: [height, width, in_channels, out_channels]",
    "out_backprop": "NHWC: [batch, out_height, out_width, out_channels]",
    "grad": "NHWC: [batch, out_height, out_width, channels]",
    "orig_output": "NHWC",
}


def _sizes(t: Tensor, what: str) -> list[int | None]:
    """The statically known entries of a 4-element shape tensor."""
    shape = constant_shape(t)
    if shape.rank is None:
        return [None] * 4
    if shape.rank != 4:
        raise ValueError(f"{what} must have 4 elements, got {shape.rank}")
    return shape.as_list()


def _same(a: int | None, b: int | None, message: str) -> int | None:
    if a is not None and b is not None and a != b:
        raise ValueError(message)
    return a if a is not None else b


def _sliding_window_view(xp: Any) -> Any:
    """The array module's ``lib.stride_tricks.sliding_window_view`` (CuPy and dask.array have one)."""
    tricks = getattr(getattr(xp, "lib", None), "stride_tricks", None)
    return sliding_window_view if xp is np or tricks is None else tricks.sliding_window_view


def _windows(
    xp: Any, xpad: Any, k: tuple[int, int], strides: tuple[int, ...], dilations: tuple[int, ...], out: tuple[int, int]
) -> Any:
    """A strided view ``[N, OH, OW, C, KH, KW]`` of every window of a padded NHWC array (no copy)."""
    eh, ew = (k[0] - 1) * dilations[1] + 1, (k[1] - 1) * dilations[2] + 1
    view = _sliding_window_view(xp)(xpad, (eh, ew), axis=(1, 2))
    return view[
        :,
        0 : out[0] * strides[1] : strides[1],
        0 : out[1] * strides[2] : strides[2],
        :,
        :: dilations[1],
        :: dilations[2],
    ]


def _tap(
    k: tuple[int, int], i: int, j: int, strides: tuple[int, ...], dilations: tuple[int, ...], out: tuple[int, int]
) -> tuple[slice, ...]:
    """The index of the padded-input elements that filter tap ``(i, j)`` sees, one per output position."""
    h0, w0 = i * dilations[1], j * dilations[2]
    return (
        slice(None),
        slice(h0, h0 + (out[0] - 1) * strides[1] + 1, strides[1]),
        slice(w0, w0 + (out[1] - 1) * strides[2] + 1, strides[2]),
        slice(None),
    )


def _pad4(xp: Any, x: Any, pads: tuple[tuple[int, int], tuple[int, int]], value: Any = 0) -> Any:
    return xp.pad(x, ((0, 0), pads[0], pads[1], (0, 0)), constant_values=value)


def _crop(xpad: Any, pads: tuple[tuple[int, int], tuple[int, int]], hw: tuple[int, int]) -> Any:
    return xpad[:, pads[0][0] : pads[0][0] + hw[0], pads[1][0] : pads[1][0] + hw[1], :]


def _col2im(
    xp: Any,
    nhwc: tuple[int, ...],
    pads: tuple[tuple[int, int], tuple[int, int]],
    k: tuple[int, int],
    strides: tuple[int, ...],
    dilations: tuple[int, ...],
    out: tuple[int, int],
    dtype: Any,
    tap_values: Callable[[int, int], Any] | None,
) -> Any:
    """The transpose of ``_windows``: an NHWC array of shape ``nhwc`` that sums, for every filter tap
    ``(i, j)``, ``tap_values(i, j)`` (one value per output position) into the elements that tap sees.

    ``tap_values=None`` (nothing to scatter, e.g. an empty gradient) gives zeros.
    """
    n, h, w, c = nhwc
    xpad = xp.zeros((n, h + sum(pads[0]), w + sum(pads[1]), c), dtype=dtype)
    if tap_values is not None:
        for i in range(k[0]):
            for j in range(k[1]):
                xpad[_tap(k, i, j, strides, dilations, out)] += tap_values(i, j)
    return _crop(xpad, pads, (h, w))


def _as_sizes(sizes: Any) -> tuple[int, int, int, int]:
    # ``reshape``, not ``np.ravel``: the sizes may be an array of another module (read on the host).
    values = tuple(int(v) for v in (sizes.reshape(-1) if hasattr(sizes, "reshape") else np.ravel(sizes)))
    if len(values) != 4 or min(values) < 0:
        raise ValueError(f"expected a shape of 4 non-negative sizes, got {list(values)}")
    n, h, w, c = values
    return n, h, w, c


def _check_out_backprop(dy: Any, n: int, out: tuple[int, int], channels: int) -> None:
    want = (n, out[0], out[1], channels)
    if tuple(dy.shape) != want:
        raise ValueError(f"out_backprop has shape {tuple(dy.shape)}, but the forward op's output shape is {want}")


# --- Conv2D ---------------------------------------------------------------------------------
def _conv_attrs(op: Any) -> dict[str, Any]:
    return {k: op.get_attr(k) for k in ("strides", "padding", "explicit_paddings", "dilations", "data_format")}


def _check_conv_attrs(strides: Any, padding: str, explicit_paddings: Any, dilations: Any, data_format: str) -> None:
    _check_common(strides, padding, explicit_paddings, data_format, explicit_ok=True)
    _check_hw("dilations", dilations)


def _conv_out_shape(
    x: list[int | None], w: list[int | None], strides: Any, padding: str, explicit: Any, dilations: Any
) -> list[int | None]:
    oh = _static_out(x[1], w[0], strides[1], dilations[1], padding, _pads(explicit, 1), "height")
    ow = _static_out(x[2], w[1], strides[2], dilations[2], padding, _pads(explicit, 2), "width")
    return [x[0], oh, ow, w[3]]


def _channel_message(x_c: Any, w_c: Any) -> str:
    layout = "filters are HWIO: [height, width, in_channels, out_channels]"
    return f"input has {x_c} channels but the filters expect {w_c} ({layout})"


def _conv2d_kernel(
    xp: Any, x: Any, w: Any, strides: Any, padding: str, explicit_paddings: Any, dilations: Any, data_format: str
) -> Any:
    if x.shape[3] != w.shape[2]:
        raise ValueError(_channel_message(x.shape[3], w.shape[2]))
    out, pads = _plan(x.shape[1:3], w.shape[:2], strides, dilations, padding, explicit_paddings)
    dtype = np.result_type(x.dtype, w.dtype)
    if 0 in out or x.shape[0] == 0:
        return xp.zeros((x.shape[0], *out, w.shape[3]), dtype=dtype)
    cols = _windows(xp, _pad4(xp, x, pads), w.shape[:2], strides, dilations, out)  # [N, OH, OW, C, KH, KW]
    return xp.tensordot(cols, w, axes=([3, 4, 5], [2, 0, 1])).astype(dtype, copy=False)


def _conv2d_infer(
    inputs: list[Tensor], strides: Any, padding: str, explicit_paddings: Any, dilations: Any, data_format: str
) -> list[Any]:
    x, w = inputs
    dtype = common_dtype(inputs)
    check_kind("Conv2D", x, FLOAT)
    _check_conv_attrs(strides, padding, explicit_paddings, dilations, data_format)
    xs, ws = _rank4(x, "input"), _rank4(w, "filters")
    _same(xs[3], ws[2], _channel_message(xs[3], ws[2]))
    return [(dtype, TensorShape(_conv_out_shape(xs, ws, strides, padding, explicit_paddings, dilations)))]


def _conv2d_grad(op: Any, g: Tensor) -> list[Tensor]:
    x, w = op.inputs
    attrs = _conv_attrs(op)
    return [
        apply("Conv2DBackpropInput", array_ops.shape(x), w, g, **attrs),
        apply("Conv2DBackpropFilter", x, array_ops.shape(w), g, **attrs),
    ]


register_op("Conv2D", _conv2d_kernel, _conv2d_infer, _conv2d_grad, jvp=multilinear)


# --- Conv2DBackpropInput: the transpose of Conv2D with respect to its input (col2im) ---------
def _backprop_input_kernel(
    xp: Any,
    input_sizes: Any,
    w: Any,
    dy: Any,
    strides: Any,
    padding: str,
    explicit_paddings: Any,
    dilations: Any,
    data_format: str,
) -> Any:
    n, h, wd, c = _as_sizes(input_sizes)
    if c != w.shape[2]:
        raise ValueError(_channel_message(c, w.shape[2]))
    out, pads = _plan((h, wd), w.shape[:2], strides, dilations, padding, explicit_paddings)
    _check_out_backprop(dy, n, out, w.shape[3])
    cols = xp.tensordot(dy, w, axes=([3], [3])) if dy.size and c else None  # [N, OH, OW, KH, KW, C]
    taps = None if cols is None else (lambda i, j: cols[:, :, :, i, j, :])
    return _col2im(
        xp, (n, h, wd, c), pads, w.shape[:2], strides, dilations, out, np.result_type(w.dtype, dy.dtype), taps
    )


def _check_backprop_kinds(
    op_type: str, sizes: Tensor, sizes_name: str, operand: Tensor, dy: Tensor, attrs: tuple[Any, ...]
) -> Any:
    """Dtype and attribute checks shared by both Conv2D backprop shape rules; returns the result dtype."""
    check_kind(op_type, sizes, "iu", sizes_name)
    dtype = common_dtype([operand, dy])
    check_kind(op_type, operand, FLOAT)
    _check_conv_attrs(*attrs)
    return dtype


def _check_out_backprop_hw(
    xs: list[int | None], ws: list[int | None], ys: list[int | None], attrs: tuple[Any, ...], forward: str
) -> None:
    """out_backprop's height and width must be those of the Conv2D (described by ``forward``) it transposes."""
    strides, padding, explicit_paddings, dilations, _ = attrs
    expected = _conv_out_shape(xs, ws, strides, padding, explicit_paddings, dilations)
    for axis, what in ((1, "height"), (2, "width")):
        _same(
            ys[axis],
            expected[axis],
            f"out_backprop has {what} {ys[axis]}, but " + forward.format(what=what, xs=xs, want=expected[axis]),
        )


def _backprop_input_infer(
    inputs: list[Tensor], strides: Any, padding: str, explicit_paddings: Any, dilations: Any, data_format: str
) -> list[Any]:
    sizes, w, dy = inputs
    attrs = (strides, padding, explicit_paddings, dilations, data_format)
    dtype = _check_backprop_kinds("Conv2DBackpropInput", sizes, "input_sizes", w, dy, attrs)
    xs, ws, ys = _sizes(sizes, "input_sizes"), _rank4(w, "filters"), _rank4(dy, "out_backprop")
    xs[3] = _same(xs[3], ws[2], _channel_message(xs[3], ws[2]))
    xs[0] = _same(xs[0], ys[0], f"input_sizes has batch {xs[0]} but out_backprop has batch {ys[0]}")
    _same(ys[3], ws[3], f"out_backprop has {ys[3]} channels but the filters have {ws[3]} output channels")
    _check_out_backprop_hw(xs, ws, ys, attrs, "a Conv2D of input_sizes {xs} gives {want}")
    return [(dtype, TensorShape(xs))]


def _backprop_input_grad(op: Any, g: Tensor) -> list[Any]:
    # The op is bilinear in (filters, out_backprop): <g, B_in(w, dy)> = <conv2d(g, w), dy>.
    _, w, dy = op.inputs
    attrs = _conv_attrs(op)
    return [
        None,
        apply("Conv2DBackpropFilter", g, array_ops.shape(w), dy, **attrs),
        apply("Conv2D", g, w, **attrs),
    ]


register_op("Conv2DBackpropInput", _backprop_input_kernel, _backprop_input_infer, _backprop_input_grad, jvp=multilinear)


# --- Conv2DBackpropFilter: the transpose of Conv2D with respect to its filters --------------
def _backprop_filter_kernel(
    xp: Any,
    x: Any,
    filter_sizes: Any,
    dy: Any,
    strides: Any,
    padding: str,
    explicit_paddings: Any,
    dilations: Any,
    data_format: str,
) -> Any:
    kh, kw, c, o = _as_sizes(filter_sizes)
    if c != x.shape[3]:
        raise ValueError(_channel_message(x.shape[3], c))
    out, pads = _plan(x.shape[1:3], (kh, kw), strides, dilations, padding, explicit_paddings)
    _check_out_backprop(dy, x.shape[0], out, o)
    dtype = np.result_type(x.dtype, dy.dtype)
    if dy.size == 0:
        return xp.zeros((kh, kw, c, o), dtype=dtype)
    cols = _windows(xp, _pad4(xp, x, pads), (kh, kw), strides, dilations, out)  # [N, OH, OW, C, KH, KW]
    dw = xp.tensordot(cols, dy, axes=([0, 1, 2], [0, 1, 2]))  # [C, KH, KW, O]
    return xp.transpose(dw, (1, 2, 0, 3)).astype(dtype, copy=False)


def _backprop_filter_infer(
    inputs: list[Tensor], strides: Any, padding: str, explicit_paddings: Any, dilations: Any, data_format: str
) -> list[Any]:
    x, sizes, dy = inputs
    attrs = (strides, padding, explicit_paddings, dilations, data_format)
    dtype = _check_backprop_kinds("Conv2DBackpropFilter", sizes, "filter_sizes", x, dy, attrs)
    xs, ws, ys = _rank4(x, "input"), _sizes(sizes, "filter_sizes"), _rank4(dy, "out_backprop")
    ws[2] = _same(ws[2], xs[3], _channel_message(xs[3], ws[2]))
    ws[3] = _same(ws[3], ys[3], f"out_backprop has {ys[3]} channels but filter_sizes has {ws[3]} output channels")
    _same(xs[0], ys[0], f"input has batch {xs[0]} but out_backprop has batch {ys[0]}")
    _check_out_backprop_hw(xs, ws, ys, attrs, "the Conv2D output {what} is {want}")
    return [(dtype, TensorShape(ws))]


def _backprop_filter_grad(op: Any, g: Tensor) -> list[Any]:
    # Bilinear in (input, out_backprop): <g, B_f(x, dy)> = <conv2d(x, g), dy>.
    x, _, dy = op.inputs
    attrs = _conv_attrs(op)
    return [
        apply("Conv2DBackpropInput", array_ops.shape(x), g, dy, **attrs),
        None,
        apply("Conv2D", x, g, **attrs),
    ]


register_op(
    "Conv2DBackpropFilter", _backprop_filter_kernel, _backprop_filter_infer, _backprop_filter_grad, jvp=multilinear
)


# --- pooling geometry -----------------------------------------------------------------------
def _pool_attrs(op: Any) -> dict[str, Any]:
    return {k: op.get_attr(k) for k in ("ksize", "strides", "padding", "data_format")}


def _check_pool_attrs(ksize: Any, strides: Any, padding: str, data_format: str) -> None:
    _check_common(strides, padding, (), data_format)
    _check_hw("ksize", ksize)


def _pool_out_shape(x: list[int | None], ksize: Any, strides: Any, padding: str) -> list[int | None]:
    oh = _static_out(x[1], ksize[1], strides[1], 1, padding, (0, 0), "height")
    ow = _static_out(x[2], ksize[2], strides[2], 1, padding, (0, 0), "width")
    return [x[0], oh, ow, x[3]]


def _pool_plan(hw: tuple[int, int], ksize: Any, strides: Any, padding: str) -> tuple[tuple[int, int], Any]:
    return _plan(hw, ksize[1:3], strides, (1, 1, 1, 1), padding, ())


_NO_DILATION = (1, 1, 1, 1)


def _valid_windows(
    xp: Any, hw: tuple[int, int], k: tuple[int, int], strides: Any, pads: Any, out: tuple[int, int]
) -> Any:
    """``[1, OH, OW, 1, KH, KW]`` booleans: which window elements are real (not padding)."""
    valid = _pad4(xp, xp.ones((1, hw[0], hw[1], 1), dtype=bool), pads, False)
    return _windows(xp, valid, k, strides, _NO_DILATION, out)


# --- MaxPool --------------------------------------------------------------------------------
def _lowest(dtype: Any) -> Any:
    return -np.inf if np.dtype(dtype).kind == "f" else np.iinfo(dtype).min


def _max_pool_kernel(xp: Any, x: Any, ksize: Any, strides: Any, padding: str, data_format: str) -> Any:
    out, pads = _pool_plan(x.shape[1:3], ksize, strides, padding)
    if 0 in out or x.size == 0:
        return xp.zeros((x.shape[0], *out, x.shape[3]), dtype=x.dtype)
    win = _windows(xp, _pad4(xp, x, pads, _lowest(x.dtype)), ksize[1:3], strides, _NO_DILATION, out)
    return win.max(axis=(4, 5))


def _max_pool_argmax(xp: Any, x: Any, ksize: Any, strides: Any, padding: str) -> tuple[Any, tuple[int, int], Any]:
    """Per output element, the row-major index inside its window of the *first* maximum (TensorFlow's tie rule).

    A window whose maximum is nan picks its first real element, never a padded one.
    """
    out, pads = _pool_plan(x.shape[1:3], ksize, strides, padding)
    k = ksize[1:3]
    n_taps = k[0] * k[1]
    win = _windows(xp, _pad4(xp, x, pads, _lowest(x.dtype)), k, strides, _NO_DILATION, out)
    win = win.reshape(*win.shape[:4], n_taps)
    valid = _valid_windows(xp, x.shape[1:3], k, strides, pads, out).reshape(1, out[0], out[1], 1, n_taps)
    is_max = (win == win.max(axis=-1, keepdims=True)) & valid
    # argmax returns the first largest score: a real maximum (2) beats a real element (1) beats padding (0).
    return xp.argmax(is_max.astype(np.int8) * 2 + valid, axis=-1), out, pads


def _max_pool_infer(inputs: list[Tensor], ksize: Any, strides: Any, padding: str, data_format: str) -> list[Any]:
    (x,) = inputs
    check_kind("MaxPool", x, NUMERIC)
    _check_pool_attrs(ksize, strides, padding, data_format)
    return [(x.dtype, TensorShape(_pool_out_shape(_rank4(x, "input"), ksize, strides, padding)))]


register_op(
    "MaxPool",
    _max_pool_kernel,
    _max_pool_infer,
    lambda op, g: [apply("MaxPoolGrad", op.inputs[0], op.outputs[0], g, **_pool_attrs(op))],
)


def _max_pool_grad_kernel(
    xp: Any, x: Any, y: Any, g: Any, ksize: Any, strides: Any, padding: str, data_format: str
) -> Any:
    """Each output gradient goes, whole, to the first maximum of its window (recomputed from ``x``)."""
    if g.shape != y.shape:
        raise ValueError(f"grad has shape {g.shape}, but the MaxPool output has shape {y.shape}")
    out, pads = _pool_plan(x.shape[1:3], ksize, strides, padding)
    idx = _max_pool_argmax(xp, x, ksize, strides, padding)[0] if g.size else None
    taps = None if idx is None else (lambda i, j: xp.where(idx == i * ksize[2] + j, g, 0))
    return _col2im(xp, x.shape, pads, ksize[1:3], strides, _NO_DILATION, out, g.dtype, taps)


def _max_pool_grad_grad_kernel(
    xp: Any, x: Any, y: Any, gg: Any, ksize: Any, strides: Any, padding: str, data_format: str
) -> Any:
    """The transpose of MaxPoolGrad: gather ``gg`` at each window's first maximum."""
    if gg.shape != x.shape:
        raise ValueError(f"grad has shape {gg.shape}, but the MaxPool input has shape {x.shape}")
    out, pads = _pool_plan(x.shape[1:3], ksize, strides, padding)
    result = xp.zeros(y.shape, dtype=gg.dtype)
    if result.size:
        idx, out, pads = _max_pool_argmax(xp, x, ksize, strides, padding)
        ggpad = _pad4(xp, gg, pads)
        k = ksize[1:3]
        for i in range(k[0]):
            for j in range(k[1]):
                result += xp.where(idx == i * k[1] + j, ggpad[_tap(k, i, j, strides, _NO_DILATION, out)], 0)
    return result


def _max_pool_grad_infer(grad_like_input: bool) -> Any:
    """Shape rule of MaxPoolGrad (grad shaped like the pool's output, result like its input) or the reverse."""

    def infer(inputs: list[Tensor], ksize: Any, strides: Any, padding: str, data_format: str) -> list[Any]:
        x, y, g = inputs
        check_kind("MaxPoolGrad", g, FLOAT, "grad")
        common_dtype([x, y])
        _check_pool_attrs(ksize, strides, padding, data_format)
        xs, ys, gs = _rank4(x, "input"), _rank4(y, "orig_output"), _rank4(g, "grad")
        expected = _pool_out_shape(xs, ksize, strides, padding)
        ys = [
            _same(a, b, f"orig_output has shape {y.shape}, but MaxPool of the input gives {expected}")
            for a, b in zip(ys, expected, strict=True)
        ]
        like, other = (xs, ys) if grad_like_input else (ys, xs)
        what = "input" if grad_like_input else "output"
        for a, b in zip(gs, like, strict=True):
            _same(a, b, f"grad has shape {g.shape}, but the MaxPool {what} has shape {TensorShape(like)}")
        return [(g.dtype, TensorShape(other))]

    return infer


# Both are linear in their last input and piecewise constant in x (the argmax does not move
# under small changes), so the gradients with respect to the input and output are zero.
register_op(
    "MaxPoolGrad",
    _max_pool_grad_kernel,
    _max_pool_grad_infer(False),
    lambda op, g: [None, None, apply("MaxPoolGradGrad", *op.inputs[:2], g, **_pool_attrs(op))],
    jvp=linear_in(2),
)
register_op(
    "MaxPoolGradGrad",
    _max_pool_grad_grad_kernel,
    _max_pool_grad_infer(True),
    lambda op, g: [None, None, apply("MaxPoolGrad", *op.inputs[:2], g, **_pool_attrs(op))],
    jvp=linear_in(2),
)


# --- AvgPool --------------------------------------------------------------------------------
def _window_counts(xp: Any, hw: tuple[int, int], ksize: Any, strides: Any, pads: Any, out: tuple[int, int]) -> Any:
    """``[1, OH, OW, 1]``: how many real (unpadded) elements each window averages."""
    return _valid_windows(xp, hw, ksize[1:3], strides, pads, out).sum(axis=(4, 5))


def _avg_pool_kernel(xp: Any, x: Any, ksize: Any, strides: Any, padding: str, data_format: str) -> Any:
    out, pads = _pool_plan(x.shape[1:3], ksize, strides, padding)
    if 0 in out or x.size == 0:
        return xp.zeros((x.shape[0], *out, x.shape[3]), dtype=x.dtype)
    win = _windows(xp, _pad4(xp, x, pads), ksize[1:3], strides, _NO_DILATION, out)
    counts = _window_counts(xp, x.shape[1:3], ksize, strides, pads, out)
    return (win.sum(axis=(4, 5)) / counts).astype(x.dtype, copy=False)


def _avg_pool_infer(inputs: list[Tensor], ksize: Any, strides: Any, padding: str, data_format: str) -> list[Any]:
    (x,) = inputs
    check_kind("AvgPool", x, FLOAT)
    _check_pool_attrs(ksize, strides, padding, data_format)
    return [(x.dtype, TensorShape(_pool_out_shape(_rank4(x, "input"), ksize, strides, padding)))]


register_op(
    "AvgPool",
    _avg_pool_kernel,
    _avg_pool_infer,
    lambda op, g: [apply("AvgPoolGrad", array_ops.shape(op.inputs[0]), g, **_pool_attrs(op))],
    jvp=linear,
)


def _avg_pool_grad_kernel(xp: Any, sizes: Any, g: Any, ksize: Any, strides: Any, padding: str, data_format: str) -> Any:
    n, h, w, c = _as_sizes(sizes)
    out, pads = _pool_plan((h, w), ksize, strides, padding)
    _check_out_backprop(g, n, out, c)
    share = g / _window_counts(xp, (h, w), ksize, strides, pads, out) if g.size else None
    taps = None if share is None else (lambda i, j: share)
    return _col2im(xp, (n, h, w, c), pads, ksize[1:3], strides, _NO_DILATION, out, g.dtype, taps)


def _avg_pool_grad_infer(inputs: list[Tensor], ksize: Any, strides: Any, padding: str, data_format: str) -> list[Any]:
    sizes, g = inputs
    check_kind("AvgPoolGrad", sizes, "iu", "orig_input_shape")
    check_kind("AvgPoolGrad", g, FLOAT, "grad")
    _check_pool_attrs(ksize, strides, padding, data_format)
    xs, gs = _sizes(sizes, "orig_input_shape"), _rank4(g, "grad")
    message = f"grad has shape {g.shape}, but AvgPool of orig_input_shape {TensorShape(xs)} gives {{}}"
    for a in (0, 3):
        xs[a] = _same(xs[a], gs[a], message.format(TensorShape(_pool_out_shape(xs, ksize, strides, padding))))
    expected = _pool_out_shape(xs, ksize, strides, padding)
    for got, want in zip(gs, expected, strict=True):
        _same(got, want, message.format(TensorShape(expected)))
    return [(g.dtype, TensorShape(xs))]


# AvgPoolGrad is the transpose of the linear map AvgPool, so its gradient is AvgPool itself.
register_op(
    "AvgPoolGrad",
    _avg_pool_grad_kernel,
    _avg_pool_grad_infer,
    lambda op, g: [None, apply("AvgPool", g, **_pool_attrs(op))],
    jvp=linear,
)


# --- public functions -----------------------------------------------------------------------
def _data_format(data_format: Any) -> str:
    return data_format.upper() if isinstance(data_format, str) else repr(data_format)


def _to_nhwc(t: Tensor, data_format: str) -> Tensor:
    return array_ops.transpose(t, list(_NCHW_TO_NHWC)) if data_format == "NCHW" else t


def _from_nhwc(t: Tensor, data_format: str, name: str | None) -> Tensor:
    if data_format == "NCHW":
        return array_ops.transpose(t, list(_NHWC_TO_NCHW), name=name)
    return t


def _conv_kwargs(strides: Any, padding: Any, dilations: Any, data_format: str) -> dict[str, Any]:
    return {
        "strides": _hw_tuple(strides, data_format),
        **_padding_attrs(padding, data_format),
        "dilations": _hw_tuple(1 if dilations is None else dilations, data_format),
        "data_format": "NHWC" if data_format == "NCHW" else data_format,
    }


def conv2d(
    input: Any,  # noqa: A002 - TensorFlow's name
    filters: Any,
    strides: Any,
    padding: Any,
    data_format: str = "NHWC",
    dilations: Any = None,
    name: str | None = None,
) -> Tensor:
    """2-D convolution (cross-correlation, as TensorFlow) of a batch of images with a filter bank.

    Parameters
    ----------
    input : ``[batch, height, width, in_channels]`` (``[batch, in_channels, height, width]`` for NCHW).
    filters : ``[filter_height, filter_width, in_channels, out_channels]`` (HWIO).
    strides : int, or 1, 2 or 4 ints (4: TensorFlow's ``[1, sh, sw, 1]`` in the layout of ``data_format``).
    padding : ``"SAME"`` (output ``ceil(in / stride)``, zeros split with the odd one after), ``"VALID"``,
        or explicit ``[[0, 0], [top, bottom], [left, right], [0, 0]]`` pairs in the layout of ``data_format``.
    data_format : ``"NHWC"`` or ``"NCHW"`` (computed as NHWC between two transposes).
    dilations : int or 1, 2 or 4 ints: spacing between filter taps (atrous convolution).

    Returns
    -------
    ``[batch, out_height, out_width, out_channels]`` in the layout of ``data_format``.
    """
    fmt = _data_format(data_format)
    x, w = convert_to_tensor(input), convert_to_tensor(filters)
    y = apply(
        "Conv2D",
        _to_nhwc(x, fmt),
        w,
        name=None if fmt == "NCHW" else name,
        **_conv_kwargs(strides, padding, dilations, fmt),
    )
    return _from_nhwc(y, fmt, name)


def _nhwc_sizes(sizes: Any, data_format: str) -> Any:
    t = convert_to_tensor(sizes)
    if data_format != "NCHW":
        return t
    value = constant_value(t)
    if value is not None and value.shape == (4,):
        return convert_to_tensor(value[list(_NCHW_TO_NHWC)])
    return array_ops.stack([t[i] for i in _NCHW_TO_NHWC])


def conv2d_backprop_input(
    input_sizes: Any,
    filter: Any,  # noqa: A002 - TensorFlow's name
    out_backprop: Any,
    strides: Any,
    padding: Any,
    data_format: str = "NHWC",
    dilations: Any = None,
    name: str | None = None,
) -> Tensor:
    """The gradient of ``conv2d`` with respect to its input (shape ``input_sizes``), given ``out_backprop``."""
    fmt = _data_format(data_format)
    dy = _to_nhwc(convert_to_tensor(out_backprop), fmt)
    dx = apply(
        "Conv2DBackpropInput",
        _nhwc_sizes(input_sizes, fmt),
        convert_to_tensor(filter),
        dy,
        name=None if fmt == "NCHW" else name,
        **_conv_kwargs(strides, padding, dilations, fmt),
    )
    return _from_nhwc(dx, fmt, name)


def conv2d_backprop_filter(
    input: Any,  # noqa: A002 - TensorFlow's name
    filter_sizes: Any,
    out_backprop: Any,
    strides: Any,
    padding: Any,
    data_format: str = "NHWC",
    dilations: Any = None,
    name: str | None = None,
) -> Tensor:
    """The gradient of ``conv2d`` with respect to its filters (HWIO shape ``filter_sizes``), given ``out_backprop``."""
    fmt = _data_format(data_format)
    x, dy = _to_nhwc(convert_to_tensor(input), fmt), _to_nhwc(convert_to_tensor(out_backprop), fmt)
    return apply(
        "Conv2DBackpropFilter",
        x,
        convert_to_tensor(filter_sizes),
        dy,
        name=name,
        **_conv_kwargs(strides, padding, dilations, fmt),
    )


def conv2d_transpose(
    value: Any = None,
    filter: Any = None,  # noqa: A002 - TensorFlow's name
    output_shape: Any = None,
    strides: Any = None,
    padding: Any = "SAME",
    data_format: str = "NHWC",
    name: str | None = None,
    input: Any = None,  # noqa: A002 - TensorFlow's name
    filters: Any = None,
    dilations: Any = None,
) -> Tensor:
    """Transposed ("deconvolution") 2-D convolution: the gradient of ``conv2d`` with respect to its input.

    TensorFlow 1.x's signature: ``value`` (or ``input``) is the ``[batch, height, width,
    in_channels]`` tensor, ``filter`` (or ``filters``) is ``[height, width, output_channels,
    in_channels]`` (the filters of the forward ``conv2d`` this op transposes); ``output_shape`` is
    the 4-element shape of the result, needed because several input sizes give the same ``conv2d``
    output size when the stride exceeds 1.
    """
    value = _one_of(value, input, "value", "input")
    filter = _one_of(filter, filters, "filter", "filters")  # noqa: A001
    if output_shape is None or strides is None:
        raise ValueError("conv2d_transpose: output_shape and strides are required")
    return conv2d_backprop_input(output_shape, filter, value, strides, padding, data_format, dilations, name)


def _one_of(value: Any, alias: Any, name: str, alias_name: str) -> Any:
    if (value is None) == (alias is None):
        raise ValueError(f"give exactly one of {name} and {alias_name}")
    return value if alias is None else alias


# --- depthwise convolution (a composite over Conv2D) ---------------------------------------
def _block_diagonal(w: Tensor) -> Tensor:
    """A depthwise filter ``[kh, kw, C, M]`` as the ``[kh, kw, C, C * M]`` Conv2D filter that does the same.

    Output channel ``c * M + m`` reads input channel ``c`` only, through ``w[:, :, c, m]`` (TensorFlow's
    order). A composition (times an identity mask, then a reshape), so every gradient and second
    derivative is Conv2D's; it costs C times the multiplies of a dedicated kernel.
    """
    if w.shape.rank not in (None, 4):
        raise ValueError(
            f"depthwise_conv2d: filter must be 4-D [height, width, in_channels, multiplier], got {w.shape}"
        )
    if w.shape.is_fully_defined():
        kh, kw, c, m = (int(d or 0) for d in w.shape.as_list())  # fully defined: never None
        eye: Any = convert_to_tensor(np.eye(c, dtype=w.dtype.as_numpy_dtype).reshape(1, 1, c, c, 1))
        return array_ops.reshape(array_ops.expand_dims(w, 3) * eye, [kh, kw, c, c * m])
    sizes = array_ops.shape(w)
    c_t = sizes[2]
    eye = array_ops.reshape(
        indexing_ops.one_hot(array_ops.range(c_t), c_t, dtype=w.dtype), array_ops.stack([1, 1, c_t, c_t, 1])
    )
    return array_ops.reshape(
        array_ops.expand_dims(w, 3) * eye, array_ops.stack([sizes[0], sizes[1], c_t, c_t * sizes[3]])
    )


def depthwise_conv2d_native(
    input: Any,  # noqa: A002 - TensorFlow's name
    filter: Any,  # noqa: A002 - TensorFlow's name
    strides: Any,
    padding: Any,
    data_format: str = "NHWC",
    dilations: Any = None,
    name: str | None = None,
) -> Tensor:
    """Depthwise 2-D convolution: each input channel convolved with its own ``channel_multiplier`` filters.

    Parameters
    ----------
    input : ``[batch, height, width, in_channels]`` (``[batch, in_channels, height, width]`` for NCHW).
    filter : ``[filter_height, filter_width, in_channels, channel_multiplier]``.
    strides, padding, dilations : as ``conv2d``'s.

    Returns
    -------
    ``[batch, out_height, out_width, in_channels * channel_multiplier]``, channel ``c * M + m`` being
    input channel ``c`` convolved with ``filter[:, :, c, m]``.
    """
    w = convert_to_tensor(filter)
    with get_default_graph().name_scope(name or "depthwise"):
        return conv2d(input, _block_diagonal(w), strides, padding, data_format, dilations)


def depthwise_conv2d(
    input: Any,  # noqa: A002 - TensorFlow's name
    filter: Any,  # noqa: A002 - TensorFlow's name
    strides: Any,
    padding: Any,
    rate: Any = None,
    name: str | None = None,
    data_format: str | None = None,
    dilations: Any = None,
) -> Tensor:
    """Depthwise 2-D convolution with TensorFlow 1.x's ``rate`` (atrous) argument; see ``depthwise_conv2d_native``.

    ``strides`` is TensorFlow's 4-form ``[1, sh, sw, 1]`` (or an int or 2 ints); ``rate`` (or its
    newer name ``dilations``) is 1 or 2 ints, the dilation of the filter taps; as in TensorFlow,
    a rate above 1 needs strides of 1.
    """
    if rate is not None and dilations is not None:
        raise ValueError("depthwise_conv2d: give at most one of rate and dilations")
    rate = dilations if rate is None else rate
    fmt = "NHWC" if data_format is None else _data_format(data_format)
    dil = _hw_tuple(1 if rate is None else rate, "NHWC" if np.size(rate) != 4 else fmt)
    if max(dil) > 1 and max(_hw_tuple(strides, fmt)) > 1:
        raise ValueError(f"depthwise_conv2d: strides > 1 not supported in conjunction with rate > 1 (rate {rate})")
    return depthwise_conv2d_native(input, filter, strides, padding, fmt, dil[1:3], name)


def _pool(
    op_type: str, value: Any, ksize: Any, strides: Any, padding: Any, data_format: Any, name: str | None
) -> Tensor:
    fmt = _data_format(data_format)
    attrs = {
        "ksize": _hw_tuple(ksize, fmt),
        "strides": _hw_tuple(strides, fmt),
        "padding": padding.upper() if isinstance(padding, str) else repr(padding),
        "data_format": "NHWC" if fmt == "NCHW" else fmt,
    }
    y = apply(op_type, _to_nhwc(convert_to_tensor(value), fmt), name=None if fmt == "NCHW" else name, **attrs)
    return _from_nhwc(y, fmt, name)


def max_pool2d(
    input: Any,  # noqa: A002 - TensorFlow's name
    ksize: Any,
    strides: Any,
    padding: str,
    data_format: str = "NHWC",
    name: str | None = None,
) -> Tensor:
    """Maximum over each ``ksize`` window of each channel.

    ``ksize`` and ``strides`` are an int, or 1, 2 or 4 ints (4: ``[1, kh, kw, 1]``); ``padding`` is
    ``"SAME"`` (pads with -inf, so padding never wins) or ``"VALID"``. The gradient goes, whole, to
    the *first* maximum of each window in row-major order when several elements tie (TensorFlow's rule).
    """
    return _pool("MaxPool", input, ksize, strides, padding, data_format, name)


def avg_pool2d(
    input: Any,  # noqa: A002 - TensorFlow's name
    ksize: Any,
    strides: Any,
    padding: str,
    data_format: str = "NHWC",
    name: str | None = None,
) -> Tensor:
    """Mean over each ``ksize`` window of each channel; with ``"SAME"`` padding only real elements are averaged."""
    return _pool("AvgPool", input, ksize, strides, padding, data_format, name)


def max_pool(
    value: Any, ksize: Any, strides: Any, padding: str, data_format: str = "NHWC", name: str | None = None
) -> Tensor:
    """TensorFlow 1.x's name for :func:`max_pool2d`."""
    return max_pool2d(value, ksize, strides, padding, data_format, name)


def avg_pool(
    value: Any, ksize: Any, strides: Any, padding: str, data_format: str = "NHWC", name: str | None = None
) -> Tensor:
    """TensorFlow 1.x's name for :func:`avg_pool2d`."""
    return avg_pool2d(value, ksize, strides, padding, data_format, name)
