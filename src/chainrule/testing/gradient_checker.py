"""Numerical gradient checks: central differences in float64, to any order.

``check_gradients`` compares reverse mode with central differences along the
way a user's loss sees it: a random cotangent ``w`` turns ``f`` into the scalar
``s = sum(w * f(x))``, whose gradient must match the differences of ``s``. For
order 2 the same is done for ``sum(v * ds/dx)`` with a random direction ``v``
(a Hessian-vector product), and so on: each order differentiates the graph the
previous order built.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from chainrule.autodiff.gradients import gradients
from chainrule.framework import default_session
from chainrule.framework.graph import Graph, Tensor
from chainrule.ops import math_ops, reduction_ops
from chainrule.ops.constant_op import constant, placeholder
from chainrule.ops.shape_rules import known_dims
from chainrule.runtime.session import Session


def _numeric_gradient(
    run: Callable[[list[np.ndarray]], float], values: list[np.ndarray], index: int, delta: float
) -> np.ndarray:
    x = values[index]
    grad = np.zeros(x.shape, dtype=np.float64)
    for i in np.ndindex(x.shape):
        step = delta * max(1.0, abs(float(x[i])))
        plus = [v.copy() for v in values]
        minus = [v.copy() for v in values]
        plus[index][i] += step
        minus[index][i] -= step
        grad[i] = (run(plus) - run(minus)) / (2 * step)
    return grad


def _random_weights(rng: np.random.Generator, dims: list[int] | None) -> Any:
    """Random weights of the given dimensions; 1.0 when they are not all known."""
    return rng.standard_normal(dims) if dims is not None else 1.0


def _as_outputs(result: Any) -> list[Tensor]:
    return list(result) if isinstance(result, (list, tuple)) else [result]


def check_gradients(
    f: Callable[..., Any],
    args: Sequence[Any],
    order: int = 2,
    wrt: Sequence[int] | None = None,
    delta: float = 1e-6,
    rtol: float = 1e-5,
    atol: float = 1e-6,
    seed: int = 0,
) -> None:
    """Check reverse-mode derivatives of ``f`` up to ``order`` against central differences.

    Parameters
    ----------
    f : function of chainrule tensors returning a tensor (or a tuple of tensors).
    args : NumPy inputs; floating ones are checked in float64, others passed as they are.
    order : highest derivative order to check (1: gradients, 2: also Hessian-vector products).
    wrt : indices of the arguments to differentiate (default: all floating ones).
    delta, rtol, atol : step (relative to ``max(1, |x|)``) and tolerances.

    Raises
    ------
    AssertionError naming the order, argument and largest mismatch.
    """
    rng = np.random.default_rng(seed)
    values = [np.asarray(a, dtype=np.float64) if np.asarray(a).dtype.kind == "f" else np.asarray(a) for a in args]
    wrt = list(wrt) if wrt is not None else [i for i, v in enumerate(values) if v.dtype.kind == "f"]
    graph = Graph()
    with graph.as_default():
        inputs = [placeholder(v.dtype, v.shape, name=f"arg{i}") for i, v in enumerate(values)]
        outputs = [o for o in _as_outputs(f(*inputs)) if o.dtype.is_floating]
        scalar = (
            math_ops.add_n(
                [
                    reduction_ops.reduce_sum(o * constant(_random_weights(rng, known_dims(o.shape)), dtype=o.dtype))
                    for o in outputs
                ]
            )
            if outputs
            else None
        )
        if scalar is None:
            raise AssertionError("f has no floating output to differentiate")
        sess = Session(graph=graph)
        for k in range(1, order + 1):
            grads = gradients(scalar, [inputs[i] for i in wrt], unconnected_gradients="zero")
            feed = dict(zip(inputs, values))
            analytic = sess.run(grads, feed)

            def run(vals: list[np.ndarray], _s: Tensor = scalar) -> float:
                return float(sess.run(_s, dict(zip(inputs, vals))))

            for g, i in zip(analytic, wrt):
                numeric = _numeric_gradient(run, values, i, delta)
                g = np.asarray(g, dtype=np.float64).reshape(values[i].shape)
                if not np.allclose(g, numeric, rtol=rtol, atol=atol, equal_nan=True):
                    err = np.max(np.abs(g - numeric)) if g.size else 0.0
                    raise AssertionError(
                        f"order-{k} gradient mismatch for argument {i} (shape {values[i].shape}): "
                        f"max abs error {err:.3g}\nreverse mode:\n{g}\ncentral differences:\n{numeric}"
                    )
            if k < order:
                # Next order: differentiate s_{k+1} = sum_i <grad_i, v_i> with random directions v.
                terms = []
                for g_t, i in zip(grads, wrt):
                    assert g_t is not None  # unconnected_gradients="zero"
                    v = constant(rng.standard_normal(values[i].shape), dtype=g_t.dtype)
                    terms.append(reduction_ops.reduce_sum(g_t * v))
                scalar = math_ops.add_n(terms)


def compute_gradient(
    x: Any,
    x_shape: Any,
    y: Tensor,
    y_shape: Any,
    x_init_value: Any = None,
    delta: float = 1e-3,
    init_targets: Any = None,
    extra_feed_dict: dict[Any, Any] | None = None,
) -> Any:
    """Theoretical (reverse mode) and numerical (central differences) Jacobians of ``y`` w.r.t. ``x``.

    TF 1.x's ``tf.test.compute_gradient``, same signature and layout.

    Parameters
    ----------
    x : a tensor, or a list of tensors (each is fed, so a placeholder or any tensor works).
    x_shape : the shape of ``x`` (a list of shapes when ``x`` is a list).
    y : the output tensor; y_shape : its shape.
    x_init_value : the point (an array, or a list of them); default: random values in [0, 1)
        of x's dtype, drawn from NumPy's global generator as TF does.
    delta : the central-difference step, absolute (TF's 1e-3, suited to float32: the
        differences are computed in x's dtype).
    init_targets : ops to run first (variable initializers).
    extra_feed_dict : values for the other placeholders ``y`` needs.

    Returns
    -------
    ``(theoretical, numerical)``, each of shape ``(x size, y size)``: entry ``[i, j]`` is
    dy_j/dx_i. For a list ``x``, a list of such pairs, one per x.

    The default Session runs the graph when there is one (``with sess:``), else a new one.
    """
    xs = list(x) if isinstance(x, (list, tuple)) else [x]
    shapes = list(x_shape) if isinstance(x, (list, tuple)) else [x_shape]
    if len(shapes) != len(xs):
        raise ValueError(f"compute_gradient: {len(xs)} tensors in x but {len(shapes)} shapes in x_shape")
    if x_init_value is None:
        values = [np.random.random_sample(tuple(s)).astype(t.dtype.as_numpy_dtype) for t, s in zip(xs, shapes)]
    else:
        inits = list(x_init_value) if isinstance(x, (list, tuple)) else [x_init_value]
        values = [np.asarray(v, dtype=t.dtype.as_numpy_dtype) for t, v in zip(xs, inits)]
    for t, v, shape in zip(xs, values, shapes):
        if tuple(v.shape) != tuple(shape):
            raise ValueError(
                f"compute_gradient: x_init_value for {t.name} has shape {v.shape}, x_shape says {tuple(shape)}"
            )
    y_shape = tuple(int(d) for d in y_shape)
    graph = y.graph
    sess = default_session.get_or_none()
    if sess is None or sess.graph is not graph:
        sess = Session(graph=graph)
    if init_targets is not None:
        sess.run(init_targets)
    feed = dict(extra_feed_dict or {})
    with graph.as_default():
        seed = placeholder(y.dtype, y_shape, name="compute_gradient_seed")
        grads = gradients(y, xs, grad_ys=[seed], unconnected_gradients="zero")
    y_size = int(np.prod(y_shape, dtype=np.int64))
    base = dict(zip(xs, values))
    results = []
    for k, (t, value) in enumerate(zip(xs, values)):
        dtype = np.dtype(t.dtype.as_numpy_dtype)
        theoretical = np.zeros((value.size, y_size), dtype=dtype)
        for j in range(y_size):
            one_hot = np.zeros(y_size, dtype=y.dtype.as_numpy_dtype)
            one_hot[j] = 1
            col = sess.run(grads[k], {**feed, **base, seed: one_hot.reshape(y_shape)})
            theoretical[:, j] = np.ravel(col)
        numerical = np.zeros((value.size, y_size), dtype=dtype)
        for i in range(value.size):
            plus, minus = value.copy(), value.copy()
            plus.flat[i] += delta
            minus.flat[i] -= delta
            y_plus = np.asarray(sess.run(y, {**feed, **base, t: plus}), dtype)
            y_minus = np.asarray(sess.run(y, {**feed, **base, t: minus}), dtype)
            numerical[i] = np.ravel(y_plus - y_minus) / dtype.type(2 * delta)
        results.append((theoretical, numerical))
    return results if isinstance(x, (list, tuple)) else results[0]


def compute_gradient_error(
    x: Any,
    x_shape: Any,
    y: Tensor,
    y_shape: Any,
    x_init_value: Any = None,
    delta: float = 1e-3,
    init_targets: Any = None,
    extra_feed_dict: dict[Any, Any] | None = None,
) -> float:
    """The largest absolute difference between the theoretical and numerical Jacobians (TF 1.x's).

    Takes ``compute_gradient``'s arguments; for a list ``x``, the largest over all of them.
    """
    result = compute_gradient(x, x_shape, y, y_shape, x_init_value, delta, init_targets, extra_feed_dict)
    pairs = result if isinstance(result, list) else [result]
    error = 0.0
    for theoretical, numerical in pairs:
        if theoretical.size:
            error = max(error, float(np.max(np.abs(theoretical.astype(np.float64) - numerical))))
    return error
