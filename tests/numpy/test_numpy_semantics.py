"""chainrule.numpy's rules beyond values: dtype promotion on tensors, the unsupported-name error,
derivatives where NumPy code meets special values, and the fast path on arrays."""

from __future__ import annotations

import numpy as onp
import pytest

import chainrule as cr
import chainrule.numpy as cnp


def _dtype(fn, *args):
    graph = cr.Graph()
    with graph.as_default():
        phs = [cr.placeholder(a.dtype, a.shape) if isinstance(a, onp.ndarray) else a for a in args]
        return onp.dtype(fn(*phs).dtype.as_numpy_dtype)


@pytest.mark.parametrize(
    "fn, args",
    [
        (lambda x: x * 2.5, [onp.ones(3, onp.float32)]),  # a Python float is weak: float32 stays
        (lambda x: cnp.add(x, 2.5), [onp.ones(3, onp.int32)]),  # int32 + Python float: float64
        (lambda x, y: cnp.add(x, y), [onp.ones(3, onp.float32), onp.ones(3)]),  # float32 + float64: float64
        (lambda x, y: cnp.multiply(x, y), [onp.ones(3, onp.int32), onp.ones(3, onp.int64)]),
        (lambda x: cnp.sin(x), [onp.ones(3, onp.int32)]),  # ints compute in float64
        (lambda x: cnp.sin(x), [onp.ones(3, onp.int8)]),  # small ints in float16, as NumPy
        (lambda x: cnp.sum(x), [onp.ones(3, onp.int32)]),  # sums of small ints accumulate in int64
        (lambda x: cnp.mean(x), [onp.ones(3, onp.int32)]),
        (lambda x, y: cnp.divide(x, y), [onp.ones(3, onp.int32), onp.ones(3, onp.int32)]),
        (lambda x, y: cnp.dot(x, y), [onp.ones(3, onp.float32), onp.ones(3)]),
        (lambda x: cnp.concatenate([x, onp.ones(2)]), [onp.ones(3, onp.float32)]),
    ],
)
def test_dtype_promotion_on_tensors_is_numpys(fn, args):
    numpy_fn = fn.__code__
    expected = fn(*args).dtype  # the eager path is NumPy itself
    assert _dtype(fn, *args) == expected, numpy_fn


def test_an_unsupported_function_is_numpys_on_arrays_and_refused_on_tensors():
    assert cnp.searchsorted([1, 2, 3], 2) == 1
    x = cr.placeholder(cr.float64, [3])
    with pytest.raises(cr.errors.UnimplementedError, match=r"chainrule\.numpy\.searchsorted"):
        cnp.searchsorted(x, 2.0)
    with pytest.raises(cr.errors.UnimplementedError, match=r"chainrule\.numpy\.linalg\.inv"):
        cnp.linalg.inv(cr.placeholder(cr.float64, [2, 2]))
    onp.testing.assert_allclose(cnp.linalg.inv(onp.eye(2) * 2), onp.eye(2) / 2)
    with pytest.raises(AttributeError, match="no attribute 'no_such_function'"):
        cnp.no_such_function  # noqa: B018


def test_an_unsupported_argument_names_the_function_and_argument():
    x = cr.placeholder(cr.float64, [3])
    with pytest.raises(cr.errors.UnimplementedError, match=r"chainrule\.numpy\.sum: the argument initial=1"):
        cnp.sum(x, initial=1.0)
    with pytest.raises(cr.errors.UnimplementedError, match=r"chainrule\.numpy\.pad: the argument mode='edge'"):
        cnp.pad(x, 1, mode="edge")


def test_constants_dtypes_and_newaxis_are_numpys():
    assert cnp.pi == onp.pi and cnp.e == onp.e and cnp.inf == onp.inf and onp.isnan(cnp.nan)
    assert cnp.float64 is onp.float64 and cnp.int32 is onp.int32 and cnp.newaxis is None
    assert cnp.dtype("float32") == onp.float32
    x = cr.placeholder(cr.float64, [3])
    assert x[cnp.newaxis, :, cnp.newaxis].shape == (1, 3, 1)


def test_nan_to_num_passes_the_gradient_where_finite_only():
    def f(x):
        return cnp.sum(cnp.nan_to_num(x) * 2.0)

    g = cr.grad(f)(onp.array([onp.inf, 1.0, onp.nan, -onp.inf]))
    onp.testing.assert_array_equal(g, [0.0, 2.0, 0.0, 0.0])


def test_sinc_derivative_is_zero_at_zero():
    g = cr.grad(lambda x: cnp.sum(cnp.sinc(x)))(onp.array([0.0, 0.5]))
    h = 1e-6
    onp.testing.assert_allclose(g[1], (onp.sinc(0.5 + h) - onp.sinc(0.5 - h)) / (2 * h), rtol=1e-6)
    assert g[0] == 0.0


def test_max_shares_the_gradient_among_ties_as_autograd():
    g = cr.grad(lambda x: cnp.max(x))(onp.array([1.0, 3.0, 3.0]))
    onp.testing.assert_allclose(g, [0.0, 0.5, 0.5])


def test_array_and_stack_of_lists_mixing_tensors_and_numbers():
    def f(x):
        m = cnp.array([[x, 1.0], [2.0, x**2]])
        s = cnp.stack([x, 3.0, x * 2])
        return cnp.sum(m) + cnp.sum(s)

    x = onp.array(1.5)
    onp.testing.assert_allclose(cr.grad(f)(x), 1 + 2 * 1.5 + 1 + 2)
    graph = cr.Graph()
    with graph.as_default():
        t = cr.placeholder(cr.float32, [])
        assert cnp.array([t, 1.0]).dtype == cr.float64  # NumPy's array(): Python floats are float64
        assert cnp.array([t, onp.float32(1.0)]).dtype == cr.float32


def test_a_numpy_function_under_cr_grad_vmap_and_hessian():
    def loss(w, x):
        return cnp.mean(cnp.tanh(cnp.dot(x, w)) ** 2) + 0.1 * cnp.sum(w**2)

    w, x = onp.linspace(-1, 1, 3), onp.arange(12.0).reshape(4, 3) / 10
    h = 1e-6
    numeric = [(loss(w + h * e, x) - loss(w - h * e, x)) / (2 * h) for e in onp.eye(3)]
    onp.testing.assert_allclose(cr.grad(loss)(w, x), numeric, rtol=1e-6)
    per_example = cr.vmap(cr.grad(loss), in_axes=[None, 0])(w, x[:, None, :])
    assert per_example.shape == (4, 3)
    hess = cr.hessian(loss)(w, x)
    onp.testing.assert_allclose(hess, hess.T, atol=1e-12)


def test_eager_path_returns_numpy_objects():
    out = cnp.sin(onp.ones(3))
    assert type(out) is onp.ndarray
    assert type(cnp.sum([1, 2])) is onp.int64
    assert cnp.add(1, 2) == 3
