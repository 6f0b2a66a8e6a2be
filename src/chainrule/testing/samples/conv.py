"""Samples for convolution and pooling (``chainrule.ops.conv_ops``), with naive-loop NumPy references.

The references below recompute TensorFlow's padding rule on their own and loop over every output
element and filter tap, so they share no code with the vectorized kernels they check. Gradient
samples are tiny because order-2 checks run the graph twice per input element, twice.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import chainrule as cr
from chainrule.testing.samples import ErrorSample, OpSample, error, rand, sample


# --- naive references -------------------------------------------------------------------------
def _pair(v):
    v = [int(a) for a in np.ravel(v)]
    return (v[0], v[0]) if len(v) == 1 else (v[0], v[1]) if len(v) == 2 else (v[1], v[2])


def _pads(size, k, s, d, padding):
    """(before, after) padding of one spatial dim, TensorFlow's rule."""
    if not isinstance(padding, str):
        return tuple(padding)
    if padding == "VALID":
        return 0, 0
    eff = (k - 1) * d + 1
    out = math.ceil(size / s)
    total = max((out - 1) * s + eff - size, 0)
    return total // 2, total - total // 2


def _explicit(padding, axis):
    return padding if isinstance(padding, str) else padding[axis]


def _layout(x, w, strides, padding, dilations):
    n, h, wd, c = x.shape
    kh, kw = w.shape[:2] if hasattr(w, "shape") else w
    (sh, sw), (dh, dw) = _pair(strides), _pair(dilations)
    pt, pb = _pads(h, kh, sh, dh, _explicit(padding, 1))
    pl, pr = _pads(wd, kw, sw, dw, _explicit(padding, 2))
    oh = (h + pt + pb - (kh - 1) * dh - 1) // sh + 1
    ow = (wd + pl + pr - (kw - 1) * dw - 1) // sw + 1
    return (n, h, wd, c), (kh, kw), (sh, sw), (dh, dw), (pt, pb, pl, pr), (oh, ow)


def conv2d_ref(x, w, strides=1, padding="VALID", dilations=1):
    """Naive NHWC/HWIO cross-correlation: one multiply-add per output element, tap and channel."""
    (n, h, wd, c), (kh, kw), (sh, sw), (dh, dw), (pt, pb, pl, pr), (oh, ow) = _layout(x, w, strides, padding, dilations)
    xp = np.zeros((n, h + pt + pb, wd + pl + pr, c), dtype=x.dtype)
    xp[:, pt : pt + h, pl : pl + wd, :] = x
    out = np.zeros((n, oh, ow, w.shape[3]), dtype=x.dtype)
    for b in range(n):
        for i in range(oh):
            for j in range(ow):
                for q in range(w.shape[3]):
                    acc = x.dtype.type(0)
                    for di in range(kh):
                        for dj in range(kw):
                            for ch in range(c):
                                acc += xp[b, i * sh + di * dh, j * sw + dj * dw, ch] * w[di, dj, ch, q]
                    out[b, i, j, q] = acc
    return out


def conv2d_backprop_input_ref(input_sizes, w, dy, strides=1, padding="VALID", dilations=1):
    """Naive transposed convolution: scatter every ``dy`` element through every filter tap."""
    x_shape = np.zeros(input_sizes)
    (n, h, wd, c), (kh, kw), (sh, sw), (dh, dw), (pt, pb, pl, pr), (oh, ow) = _layout(
        x_shape, w, strides, padding, dilations
    )
    assert dy.shape == (n, oh, ow, w.shape[3])
    dxp = np.zeros((n, h + pt + pb, wd + pl + pr, c), dtype=dy.dtype)
    for b in range(n):
        for i in range(oh):
            for j in range(ow):
                for q in range(w.shape[3]):
                    for di in range(kh):
                        for dj in range(kw):
                            for ch in range(c):
                                dxp[b, i * sh + di * dh, j * sw + dj * dw, ch] += dy[b, i, j, q] * w[di, dj, ch, q]
    return dxp[:, pt : pt + h, pl : pl + wd, :]


def conv2d_backprop_filter_ref(x, filter_sizes, dy, strides=1, padding="VALID", dilations=1):
    """Naive filter gradient: every tap accumulates input times ``dy`` over all output positions."""
    (n, h, wd, c), (kh, kw), (sh, sw), (dh, dw), (pt, pb, pl, pr), (oh, ow) = _layout(
        x, filter_sizes[:2], strides, padding, dilations
    )
    xp = np.zeros((n, h + pt + pb, wd + pl + pr, c), dtype=x.dtype)
    xp[:, pt : pt + h, pl : pl + wd, :] = x
    dw_ = np.zeros(filter_sizes, dtype=x.dtype)
    for b in range(n):
        for i in range(oh):
            for j in range(ow):
                for q in range(filter_sizes[3]):
                    for di in range(kh):
                        for dj in range(kw):
                            for ch in range(c):
                                dw_[di, dj, ch, q] += xp[b, i * sh + di * dh, j * sw + dj * dw, ch] * dy[b, i, j, q]
    return dw_


def _pool_windows(x_shape, ksize, strides, padding):
    """For each output position, the list of real (unpadded) input positions in its window, row-major."""
    (n, h, wd, c), (kh, kw), (sh, sw), _, (pt, _pb, pl, _pr), (oh, ow) = _layout(
        np.zeros(x_shape), _pair(ksize), strides, padding, 1
    )
    windows = {}
    for i in range(oh):
        for j in range(ow):
            windows[i, j] = [
                (r, s)
                for r in range(i * sh - pt, i * sh - pt + kh)
                for s in range(j * sw - pl, j * sw - pl + kw)
                if 0 <= r < h and 0 <= s < wd
            ]
    return (oh, ow), windows


def max_pool_ref(x, ksize, strides, padding):
    (oh, ow), windows = _pool_windows(x.shape, ksize, strides, padding)
    out = np.zeros((x.shape[0], oh, ow, x.shape[3]), dtype=x.dtype)
    for (i, j), cells in windows.items():
        out[:, i, j, :] = np.max(np.stack([x[:, r, s, :] for r, s in cells]), axis=0)
    return out


def avg_pool_ref(x, ksize, strides, padding):
    (oh, ow), windows = _pool_windows(x.shape, ksize, strides, padding)
    out = np.zeros((x.shape[0], oh, ow, x.shape[3]), dtype=x.dtype)
    for (i, j), cells in windows.items():
        out[:, i, j, :] = np.mean(np.stack([x[:, r, s, :] for r, s in cells]), axis=0)
    return out


def max_pool_grad_ref(x, g, ksize, strides, padding):
    """Each ``g`` element goes to the first maximum (row-major scan, strict ``>``) of its window."""
    _, windows = _pool_windows(x.shape, ksize, strides, padding)
    dx = np.zeros_like(x, dtype=g.dtype)
    for (i, j), cells in windows.items():
        for b in range(x.shape[0]):
            for ch in range(x.shape[3]):
                best = cells[0]
                for r, s in cells[1:]:
                    if x[b, r, s, ch] > x[b, best[0], best[1], ch]:
                        best = (r, s)
                dx[b, best[0], best[1], ch] += g[b, i, j, ch]
    return dx


def avg_pool_grad_ref(x_shape, g, ksize, strides, padding):
    _, windows = _pool_windows(x_shape, ksize, strides, padding)
    dx = np.zeros(x_shape, dtype=g.dtype)
    for (i, j), cells in windows.items():
        for r, s in cells:
            dx[:, r, s, :] += g[:, i, j, :] / len(cells)
    return dx


def _nchw(ref):
    """A reference on NCHW arrays from one on NHWC arrays (first argument and result transposed)."""
    return lambda x, *rest: np.transpose(ref(np.transpose(x, (0, 2, 3, 1)), *rest), (0, 3, 1, 2))


# --- samples ----------------------------------------------------------------------------------
def _conv(label, x_shape, w_shape, strides, padding, dilations=1, order=2, seed=0, **kw):
    return sample(
        "conv2d",
        lambda x, w: cr.nn.conv2d(x, w, strides, padding, dilations=dilations),
        rand(*x_shape, seed=seed),
        rand(*w_shape, seed=seed + 1),
        ref=lambda x, w: conv2d_ref(x, w, strides, padding, dilations),
        label=label,
        order=order,
        **kw,
    )


def _pool(name, fn, ref, label, x_shape, ksize, strides, padding, order=2, x=None, **kw):
    return sample(
        name,
        lambda x: fn(x, ksize, strides, padding),
        rand(*x_shape, seed=len(label)) if x is None else x,
        ref=lambda x: ref(x, ksize, strides, padding),
        label=label,
        order=order,
        **kw,
    )


def _max(label, *args, **kw):
    return _pool("max_pool2d", cr.nn.max_pool2d, max_pool_ref, label, *args, **kw)


def _avg(label, *args, **kw):
    return _pool("avg_pool2d", cr.nn.avg_pool2d, avg_pool_ref, label, *args, **kw)


def _avg_pool_grad(g, x_shape, ksize, strides, padding):
    """The gradient of avg_pool2d with respect to its input, as a function of the incoming gradient ``g``."""
    x = cr.zeros(list(x_shape), g.dtype)
    return cr.gradients(cr.reduce_sum(cr.nn.avg_pool2d(x, ksize, strides, padding) * g), x)[0]


_EXPLICIT = [[0, 0], [1, 0], [2, 1], [0, 0]]

SAMPLES: list[OpSample] = [
    # conv2d: VALID/SAME, strides 1 and 2, odd/even sizes (asymmetric SAME padding), 1x1 kernels.
    _conv("VALID s1 1ch", (1, 4, 4, 1), (3, 3, 1, 1), 1, "VALID"),
    _conv("SAME s1 even kernel", (1, 4, 4, 2), (2, 2, 2, 3), 1, "SAME"),
    _conv("SAME s2", (1, 4, 4, 2), (3, 3, 2, 2), 2, "SAME"),
    _conv("SAME s2 odd input", (1, 5, 5, 1), (3, 3, 1, 2), 2, "SAME"),
    _conv("VALID s2 leftover row", (1, 5, 4, 1), (2, 2, 1, 1), 2, "VALID"),
    _conv("1x1 kernel batch 2", (2, 2, 3, 3), (1, 1, 3, 2), 1, "VALID"),
    _conv("1x1 kernel SAME s2", (1, 3, 3, 2), (1, 1, 2, 2), 2, "SAME"),
    _conv("kernel = input VALID", (1, 3, 2, 2), (3, 2, 2, 1), 1, "VALID"),
    _conv("kernel > input SAME", (1, 2, 2, 1), (3, 3, 1, 2), 1, "SAME"),
    _conv("dilations 2 SAME", (1, 5, 5, 1), (2, 2, 1, 2), 1, "SAME", dilations=2),
    _conv("dilations 2 VALID s2", (1, 5, 5, 1), (2, 2, 1, 1), 2, "VALID", dilations=[2, 2]),
    _conv("TF strides [1,2,1,1]", (1, 4, 3, 2), (2, 2, 2, 2), [1, 2, 1, 1], "SAME"),
    _conv("explicit padding", (1, 3, 3, 1), (2, 2, 1, 2), 1, _EXPLICIT),
    _conv("size-0 batch", (0, 4, 4, 2), (2, 2, 2, 3), 1, "SAME"),
    _conv("larger forward only", (3, 7, 6, 4), (3, 2, 4, 5), [2, 1], "SAME", order=0),
    sample(
        "conv2d",
        lambda x, w: cr.nn.conv2d(x, w, [1, 1, 2, 2], "SAME", data_format="NCHW"),
        rand(1, 2, 4, 4),
        rand(2, 2, 2, 3, seed=1),
        ref=_nchw(lambda x, w: conv2d_ref(x, w, 2, "SAME")),
        label="NCHW",
        order=1,
    ),
    # The backprop ops directly: their gradients are conv2d and the other backprop op.
    sample(
        "conv2d_backprop_input",
        lambda w, dy: cr.nn.conv2d_backprop_input([1, 4, 4, 1], w, dy, 2, "SAME"),
        rand(3, 3, 1, 2),
        rand(1, 2, 2, 2, seed=1),
        ref=lambda w, dy: conv2d_backprop_input_ref((1, 4, 4, 1), w, dy, 2, "SAME"),
        label="SAME s2",
    ),
    sample(
        "conv2d_backprop_input",
        lambda w, dy: cr.nn.conv2d_backprop_input([1, 3, 3, 2], w, dy, 1, "VALID"),
        rand(2, 2, 2, 1),
        rand(1, 2, 2, 1, seed=1),
        ref=lambda w, dy: conv2d_backprop_input_ref((1, 3, 3, 2), w, dy, 1, "VALID"),
        label="VALID s1",
    ),
    sample(
        "conv2d_transpose",
        lambda x, w: cr.nn.conv2d_transpose(x, w, [1, 5, 5, 1], 2, "SAME"),
        rand(1, 3, 3, 2),
        rand(3, 3, 1, 2, seed=1),
        ref=lambda x, w: conv2d_backprop_input_ref((1, 5, 5, 1), w, x, 2, "SAME"),
        label="SAME s2 odd output",
    ),
    sample(
        "conv2d_transpose",
        lambda x, w: cr.nn.conv2d_transpose(x, w, [1, 2, 5, 5], 2, "VALID", data_format="NCHW"),
        rand(1, 2, 2, 2),
        rand(2, 2, 2, 2, seed=1),
        ref=lambda x, w: np.transpose(
            conv2d_backprop_input_ref((1, 5, 5, 2), w, np.transpose(x, (0, 2, 3, 1)), 2, "VALID"), (0, 3, 1, 2)
        ),
        label="NCHW VALID s2",
        order=1,
    ),
    sample(
        "conv2d_backprop_filter",
        lambda x, dy: cr.nn.conv2d_backprop_filter(x, [2, 2, 2, 3], dy, 1, "VALID"),
        rand(1, 3, 3, 2),
        rand(1, 2, 2, 3, seed=1),
        ref=lambda x, dy: conv2d_backprop_filter_ref(x, (2, 2, 2, 3), dy, 1, "VALID"),
        label="VALID s1",
    ),
    sample(
        "conv2d_backprop_filter",
        lambda x, dy: cr.nn.conv2d_backprop_filter(x, [3, 3, 1, 2], dy, 2, "SAME"),
        rand(1, 4, 4, 1),
        rand(1, 2, 2, 2, seed=1),
        ref=lambda x, dy: conv2d_backprop_filter_ref(x, (3, 3, 1, 2), dy, 2, "SAME"),
        label="SAME s2",
    ),
    # max_pool2d: padding is -inf, so all-negative inputs show it never wins.
    _max("VALID k2 s2", (1, 4, 4, 2), 2, 2, "VALID"),
    _max("SAME k3 s1 overlapping", (1, 3, 3, 2), 3, 1, "SAME"),
    _max("SAME k2 s2 odd input", (1, 5, 5, 1), 2, 2, "SAME"),
    _max("SAME k3 s2", (1, 5, 4, 1), 3, 2, "SAME"),
    _max("SAME negative input", (1, 3, 3, 1), 2, 1, "SAME", x=rand(1, 3, 3, 1, low=-3.0, high=-1.0)),
    _max("1x1 s2", (1, 3, 3, 2), 1, 2, "VALID"),
    _max("TF ksize [1,2,3,1]", (1, 4, 5, 1), [1, 2, 3, 1], [1, 1, 2, 1], "VALID"),
    _max("size-0 batch", (0, 4, 4, 2), 2, 2, "SAME"),
    _max("larger forward only", (3, 6, 5, 4), [2, 3], [2, 1], "SAME", order=0),
    _max("int32", (2, 4, 4, 1), 2, 2, "SAME", x=np.arange(32, dtype=np.int32).reshape(2, 4, 4, 1) % 7, order=0),
    sample(
        "max_pool2d",
        lambda x: cr.nn.max_pool2d(x, 2, 2, "SAME", data_format="NCHW"),
        rand(1, 2, 3, 3),
        ref=_nchw(lambda x: max_pool_ref(x, 2, 2, "SAME")),
        label="NCHW",
        order=1,
    ),
    sample(
        "max_pool",
        lambda x: cr.nn.max_pool(x, [1, 2, 2, 1], [1, 2, 2, 1], "VALID"),
        rand(1, 4, 4, 1),
        ref=lambda x: max_pool_ref(x, 2, 2, "VALID"),
        label="TF1 name",
        order=1,
    ),
    # The gradient of max pooling as a function of the incoming gradient: MaxPoolGrad, whose own
    # gradient is MaxPoolGradGrad (gather at the argmax), whose gradient is MaxPoolGrad again.
    sample(
        "max_pool2d_grad",
        lambda x, g: cr.gradients(cr.reduce_sum(cr.nn.max_pool2d(x, 2, 1, "SAME") * g), x)[0],
        rand(1, 3, 3, 2),
        rand(1, 3, 3, 2, seed=1),
        ref=lambda x, g: max_pool_grad_ref(x, g, 2, 1, "SAME"),
        label="SAME k2 s1",
    ),
    sample(
        "max_pool2d_grad",
        lambda x, g: cr.gradients(cr.reduce_sum(cr.nn.max_pool2d(x, 3, 2, "SAME") * g), x)[0],
        rand(1, 4, 4, 1),
        rand(1, 2, 2, 1, seed=1),
        ref=lambda x, g: max_pool_grad_ref(x, g, 3, 2, "SAME"),
        label="SAME k3 s2",
    ),
    # avg_pool2d: SAME averages only the real elements of border windows.
    _avg("VALID k2 s2", (1, 4, 4, 2), 2, 2, "VALID"),
    _avg("SAME k3 s1", (1, 3, 3, 2), 3, 1, "SAME"),
    _avg("SAME k2 s2 odd input", (1, 5, 5, 1), 2, 2, "SAME"),
    _avg("SAME k3 s2", (1, 5, 4, 1), 3, 2, "SAME"),
    _avg("1x1 s1", (1, 2, 3, 2), 1, 1, "VALID"),
    _avg("size-0 batch", (0, 4, 4, 2), 2, 2, "SAME"),
    _avg("larger forward only", (3, 6, 5, 4), [2, 3], [2, 1], "SAME", order=0),
    sample(
        "avg_pool2d",
        lambda x: cr.nn.avg_pool2d(x, 2, 2, "SAME", data_format="NCHW"),
        rand(1, 2, 3, 3),
        ref=_nchw(lambda x: avg_pool_ref(x, 2, 2, "SAME")),
        label="NCHW",
        order=1,
    ),
    sample(
        "avg_pool",
        lambda x: cr.nn.avg_pool(x, [1, 2, 2, 1], [1, 1, 1, 1], "VALID"),
        rand(1, 3, 3, 1),
        ref=lambda x: avg_pool_ref(x, 2, 1, "VALID"),
        label="TF1 name",
        order=1,
    ),
    sample(
        "avg_pool2d_grad",
        lambda g: _avg_pool_grad(g, (1, 5, 5, 2), 3, 2, "SAME"),
        rand(1, 3, 3, 2),
        ref=lambda g: avg_pool_grad_ref((1, 5, 5, 2), g, 3, 2, "SAME"),
        label="SAME k3 s2",
    ),
]


def _conv_error(label, x, w, match, error_type=cr.errors.InvalidArgumentError, strides=1, padding="SAME", **kw):
    call_kw = {k: kw.pop(k) for k in ("data_format", "dilations") if k in kw}
    return error(
        "conv2d",
        lambda a, b: cr.nn.conv2d(a, b, strides, padding, **call_kw),
        x,
        w,
        error=error_type,
        match=match,
        label=label,
        **kw,
    )


_IAE = cr.errors.InvalidArgumentError
# Explicit padding, which max_pool2d (typed ``padding: str``) refuses: passed on purpose by an error sample.
_EXPLICIT_PADDING: Any = [[0, 0], [1, 1], [1, 1], [0, 0]]

ERRORS: list[ErrorSample] = [
    _conv_error(
        "channel mismatch", rand(1, 4, 4, 3), rand(2, 2, 2, 1), r"Conv2D.*input has 3 channels.*expect 2.*HWIO"
    ),
    _conv_error(
        "bad padding",
        rand(1, 4, 4, 1),
        rand(2, 2, 1, 1),
        r"Conv2D.*padding must be 'SAME' or 'VALID'.*'SAMEE'",
        padding="SAMEE",
    ),
    _conv_error("input rank 3", rand(4, 4, 1), rand(2, 2, 1, 1), r"Conv2D.*input must be rank 4.*NHWC.*\(4, 4, 1\)"),
    _conv_error("filters rank 2", rand(1, 4, 4, 1), rand(2, 2), r"Conv2D.*filters must be rank 4.*HWIO"),
    _conv_error(
        "kernel > input VALID",
        rand(1, 2, 4, 1),
        rand(3, 3, 1, 1),
        r"Conv2D.*window height 3 is larger than the input height 2 with padding VALID",
        padding="VALID",
    ),
    _conv_error(
        "dilated kernel > input",
        rand(1, 4, 4, 1),
        rand(3, 1, 1, 1),
        r"Conv2D.*height 3 \(dilated to 5\)",
        padding="VALID",
        dilations=2,
    ),
    _conv_error(
        "bad strides", rand(1, 4, 4, 1), rand(2, 2, 1, 1), r"Conv2D.*strides must be.*\[2, 2, 2\]", strides=[2, 2, 2]
    ),
    _conv_error(
        "batch stride",
        rand(1, 4, 4, 1),
        rand(2, 2, 1, 1),
        r"Conv2D.*strides must be.*\[2, 1, 1, 1\]",
        strides=[2, 1, 1, 1],
    ),
    _conv_error("zero stride", rand(1, 4, 4, 1), rand(2, 2, 1, 1), r"Conv2D.*strides must be", strides=0),
    _conv_error(
        "bad data_format",
        rand(1, 4, 4, 1),
        rand(2, 2, 1, 1),
        r"Conv2D.*data_format must be 'NHWC' or 'NCHW'.*NCWH",
        data_format="NCWH",
    ),
    _conv_error(
        "dtype mismatch",
        rand(1, 4, 4, 1),
        rand(2, 2, 1, 1).astype(np.float32),
        r"Conv2D.*same dtype.*float64.*float32",
        error_type=cr.errors.InvalidDTypeError,
    ),
    _conv_error(
        "int input",
        np.ones((1, 4, 4, 1), np.int32),
        np.ones((2, 2, 1, 1), np.int32),
        r"Conv2D.*int32.*floating",
        error_type=cr.errors.InvalidDTypeError,
    ),
    _conv_error(
        "channel mismatch at run",
        rand(1, 4, 4, 3),
        rand(2, 2, 2, 1),
        r"input has 3 channels.*expect 2",
        at_run=True,
        static_shapes=False,
    ),
    _conv_error(
        "kernel > input at run",
        rand(1, 2, 2, 1),
        rand(3, 3, 1, 1),
        r"window height 3 is larger than the input height 2",
        padding="VALID",
        at_run=True,
        static_shapes=False,
    ),
    _conv_error(
        "negative explicit padding",
        rand(1, 4, 4, 1),
        rand(2, 2, 1, 1),
        r"Conv2D.*explicit padding must be",
        padding=[[0, 0], [-1, 0], [0, 0], [0, 0]],
    ),
    error(
        "conv2d_backprop_input",
        lambda w, dy: cr.nn.conv2d_backprop_input([1, 4, 4, 1], w, dy, 2, "SAME"),
        rand(3, 3, 1, 2),
        rand(1, 3, 3, 2),
        error=_IAE,
        match=r"Conv2DBackpropInput.*out_backprop has height 3.*gives 2",
        label="out_backprop size",
    ),
    error(
        "conv2d_transpose",
        lambda x, w: cr.nn.conv2d_transpose(x, w, [1, 4, 4, 1], 2, "SAME"),
        rand(1, 2, 2, 3),
        rand(3, 3, 1, 2),
        error=_IAE,
        match=r"Conv2DBackpropInput.*out_backprop has 3 channels but the filters have 2",
        label="channel mismatch",
    ),
    error(
        "conv2d_backprop_filter",
        lambda x, dy: cr.nn.conv2d_backprop_filter(x, [2, 2, 2, 3], dy, 1, "VALID"),
        rand(1, 3, 3, 1),
        rand(1, 2, 2, 3),
        error=_IAE,
        match=r"Conv2DBackpropFilter.*input has 1 channels but the filters expect 2",
        label="channel mismatch",
    ),
    error(
        "max_pool2d",
        lambda x: cr.nn.max_pool2d(x, 2, 2, "same-ish"),
        rand(1, 4, 4, 1),
        error=_IAE,
        match=r"MaxPool.*padding must be 'SAME' or 'VALID'",
        label="bad padding",
    ),
    error(
        "max_pool2d",
        lambda x: cr.nn.max_pool2d(x, 2, 2, _EXPLICIT_PADDING),
        rand(1, 4, 4, 1),
        error=_IAE,
        match=r"MaxPool.*padding must be 'SAME' or 'VALID'",
        label="explicit padding",
    ),
    error(
        "max_pool2d",
        lambda x: cr.nn.max_pool2d(x, 0, 1, "SAME"),
        rand(1, 4, 4, 1),
        error=_IAE,
        match=r"MaxPool.*ksize must be",
        label="zero ksize",
    ),
    error(
        "max_pool2d",
        lambda x: cr.nn.max_pool2d(x, [1, 2, 2, 2], 1, "SAME"),
        rand(1, 4, 4, 2),
        error=_IAE,
        match=r"MaxPool.*ksize must be.*1 for the batch and channel",
        label="channel ksize",
    ),
    error(
        "max_pool2d",
        lambda x: cr.nn.max_pool2d(x, 2, 2, "SAME"),
        rand(4, 4, 1),
        error=_IAE,
        match=r"MaxPool.*input must be rank 4",
        label="rank 3",
    ),
    error(
        "max_pool2d",
        lambda x: cr.nn.max_pool2d(x, 3, 1, "VALID"),
        rand(1, 4, 2, 1),
        error=_IAE,
        match=r"MaxPool.*window width 3 is larger than the input width 2",
        label="ksize > input",
    ),
    error(
        "max_pool2d",
        lambda x: cr.nn.max_pool2d(x, 3, 1, "VALID"),
        rand(1, 4, 2, 1),
        error=_IAE,
        match=r"window width 3 is larger",
        label="ksize > input at run",
        at_run=True,
        static_shapes=False,
    ),
    error(
        "avg_pool2d",
        lambda x: cr.nn.avg_pool2d(x, 2, 2, "SAME"),
        np.ones((1, 4, 4, 1), np.int32),
        error=cr.errors.InvalidDTypeError,
        match=r"AvgPool.*int32.*floating",
        label="int input",
    ),
    error(
        "avg_pool2d",
        lambda x: cr.nn.avg_pool2d(x, 2, 2, "FULL"),
        rand(1, 4, 4, 1),
        error=_IAE,
        match=r"AvgPool.*padding must be.*'FULL'",
        label="bad padding",
    ),
    error(
        "avg_pool2d",
        lambda x: cr.nn.avg_pool2d(x, 5, 1, "VALID"),
        rand(1, 4, 4, 1),
        error=_IAE,
        match=r"AvgPool.*window height 5 is larger",
        label="ksize > input",
    ),
]


# --- depthwise convolution --------------------------------------------------------------------
def depthwise_conv2d_ref(x, w, strides=1, padding="VALID", dilations=1):
    """Each input channel c convolved alone with each of its filters w[:, :, c, m], into channel c * M + m."""
    outs = [
        conv2d_ref(x[..., c : c + 1], w[:, :, c : c + 1, m : m + 1], strides, padding, dilations)
        for c in range(w.shape[2])
        for m in range(w.shape[3])
    ]
    return np.concatenate(outs, axis=-1)


SAMPLES += [
    sample(
        "depthwise_conv2d",
        lambda x, w: cr.nn.depthwise_conv2d(x, w, [1, 1, 1, 1], "SAME"),
        rand(1, 3, 3, 2),
        rand(2, 2, 2, 1, seed=1),
        ref=lambda x, w: depthwise_conv2d_ref(x, w, 1, "SAME"),
        label="SAME s1",
    ),
    sample(
        "depthwise_conv2d",
        lambda x, w: cr.nn.depthwise_conv2d(x, w, [1, 2, 2, 1], "VALID"),
        rand(2, 5, 4, 2, seed=2),
        rand(3, 2, 2, 2, seed=3),
        ref=lambda x, w: depthwise_conv2d_ref(x, w, 2, "VALID"),
        label="VALID s2 multiplier 2",
        order=1,
    ),
    sample(
        "depthwise_conv2d",
        lambda x, w: cr.nn.depthwise_conv2d(x, w, [1, 1, 1, 1], "SAME", rate=[2, 2]),
        rand(1, 4, 4, 1, seed=4),
        rand(2, 2, 1, 2, seed=5),
        ref=lambda x, w: depthwise_conv2d_ref(x, w, 1, "SAME", 2),
        label="rate 2",
        order=1,
    ),
    sample(
        "depthwise_conv2d",
        lambda x, w: cr.nn.depthwise_conv2d(x, w, [1, 1, 1, 1], "VALID", data_format="NCHW"),
        rand(1, 2, 3, 3, seed=6),
        rand(2, 2, 2, 1, seed=7),
        ref=lambda x, w: np.transpose(depthwise_conv2d_ref(np.transpose(x, (0, 2, 3, 1)), w), (0, 3, 1, 2)),
        label="NCHW",
        order=1,
    ),
    sample(
        "depthwise_conv2d_native",
        lambda x, w: cr.nn.depthwise_conv2d_native(x, w, [1, 1, 1, 1], "VALID", dilations=[1, 1, 1, 1]),
        rand(1, 3, 3, 3, seed=8),
        rand(2, 2, 3, 1, seed=9),
        ref=lambda x, w: depthwise_conv2d_ref(x, w),
        order=1,
    ),
    sample(
        "conv2d_transpose",
        lambda x, w: cr.nn.conv2d_transpose(value=x, filter=w, output_shape=[1, 4, 4, 1], strides=[1, 2, 2, 1]),
        rand(1, 2, 2, 2),
        rand(3, 3, 1, 2, seed=1),
        ref=lambda x, w: conv2d_backprop_input_ref((1, 4, 4, 1), w, x, 2, "SAME"),
        label="TF 1.x keywords",
        order=1,
    ),
]

ERRORS += [
    error(
        "depthwise_conv2d",
        lambda x, w: cr.nn.depthwise_conv2d(x, w, [1, 2, 2, 1], "SAME", rate=2),
        rand(1, 4, 4, 1),
        rand(2, 2, 1, 1),
        error=ValueError,
        match="strides > 1 not supported in conjunction with rate > 1",
    ),
    error(
        "depthwise_conv2d",
        lambda x, w: cr.nn.depthwise_conv2d(x, w, 1, "SAME"),
        rand(1, 4, 4, 1),
        rand(2, 2, 1),
        error=ValueError,
        match="depthwise_conv2d: filter must be 4-D",
        label="3-D filter",
    ),
    error(
        "depthwise_conv2d",
        lambda x, w: cr.nn.depthwise_conv2d(x, w, 1, "SAME"),
        rand(1, 4, 4, 3),
        rand(2, 2, 2, 1),
        error=cr.errors.InvalidArgumentError,
        match="Conv2D",
        label="channels",
    ),
    error(
        "conv2d_transpose",
        lambda x, w: cr.nn.conv2d_transpose(x, w, [1, 4, 4, 1], 2, input=x),
        rand(1, 2, 2, 2),
        rand(3, 3, 1, 2),
        error=ValueError,
        match="exactly one of value and input",
        label="value and input",
    ),
]
