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
from chainrule.framework.graph import Graph, Tensor
from chainrule.ops import array_ops, math_ops, reduction_ops
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
    y: Tensor,
    x: Tensor,
    x_value: Any,
    delta: float = 1e-6,
    feed_dict: dict[Any, Any] | None = None,
    session: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Theoretical (reverse mode) and numerical (central differences) Jacobians of ``y`` w.r.t. ``x``.

    Both have shape ``(x.size, y.size)``, TensorFlow's layout: entry ``[i, j]`` is dy_j/dx_i.
    ``x`` is fed ``x_value`` (it may be a placeholder or any tensor); ``feed_dict`` feeds the rest.
    """
    graph = y.graph
    x_value = np.asarray(x_value, dtype=x.dtype.as_numpy_dtype)
    sess = session or Session(graph=graph)
    feed = dict(feed_dict or {})
    with graph.as_default():
        seed = placeholder(y.dtype, y.shape, name="compute_gradient_seed")
        (g,) = gradients(y, [x], grad_ys=[seed], unconnected_gradients="zero")
        y_shape = tuple(int(d) for d in sess.run(array_ops.shape(y), {**feed, x: x_value}))
    y_size = int(np.prod(y_shape))
    theoretical = np.zeros((x_value.size, y_size))
    for j in range(y_size):
        one_hot = np.zeros(y_size, dtype=y.dtype.as_numpy_dtype)
        one_hot[j] = 1
        col = sess.run(g, {**feed, x: x_value, seed: one_hot.reshape(y_shape)})
        theoretical[:, j] = np.ravel(col)
    numerical = np.zeros_like(theoretical)
    for i in range(x_value.size):
        plus, minus = x_value.copy(), x_value.copy()
        step = delta * max(1.0, abs(float(x_value.flat[i])))
        plus.flat[i] += step
        minus.flat[i] -= step
        diff = np.asarray(sess.run(y, {**feed, x: plus}), np.float64) - np.asarray(
            sess.run(y, {**feed, x: minus}), np.float64
        )
        numerical[i] = np.ravel(diff) / (2 * step)
    return theoretical, numerical
