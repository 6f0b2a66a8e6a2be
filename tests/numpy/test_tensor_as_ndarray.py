"""Tensors behave like ndarrays in NumPy code: properties, methods, NumPy indexing, and operators
with NumPy semantics on traced values -- while TF 1.x code keeps identity ``==`` and hashing."""

from __future__ import annotations

import numpy as onp
import pytest
from numpy_cases import assert_same, run_graph, values

import chainrule as cr
import chainrule.numpy as cnp

X = values((3, 4, 5))
M = values((3, 4))

# --- methods and properties -----------------------------------------------------------------------
METHODS = {
    "T": lambda a: a.T,
    "mT": lambda a: a.mT,
    "real": lambda a: a.real,
    "imag": lambda a: a.imag,
    "sum": lambda a: a.sum(),
    "sum(axis,keepdims)": lambda a: a.sum(axis=1, keepdims=True),
    "mean(0)": lambda a: a.mean(0),
    "max(axis=-1)": lambda a: a.max(axis=-1),
    "min()": lambda a: a.min(),
    "prod(1)": lambda a: a.prod(1),
    "std()": lambda a: a.std(),
    "var(ddof=1)": lambda a: a.var(ddof=1),
    "reshape(a,b)": lambda a: a.reshape(4, 3),
    "reshape((a,b))": lambda a: a.reshape((2, -1)),
    "transpose()": lambda a: a.transpose(),
    "transpose(1,0)": lambda a: a.transpose(1, 0),
    "transpose((1,0))": lambda a: a.transpose((1, 0)),
    "swapaxes": lambda a: a.swapaxes(0, 1),
    "ravel": lambda a: a.ravel(),
    "flatten": lambda a: a.flatten(),
    "squeeze": lambda a: a.reshape(1, 3, 4).squeeze(),
    "dot": lambda a: a.dot(a.T),
    "astype(float32)": lambda a: a.astype(onp.float32),
    "clip": lambda a: a.clip(-0.5, 0.5),
    "cumsum(axis=1)": lambda a: a.cumsum(axis=1),
    "cumprod()": lambda a: a.cumprod(),
    "argmax()": lambda a: a.argmax(),
    "argmin(axis=0)": lambda a: a.argmin(axis=0),
    "argsort()": lambda a: a.argsort(),
    "all": lambda a: (a > -3).all(),
    "any(axis=0)": lambda a: (a > 1).any(axis=0),
    "round(1)": lambda a: a.round(1),
    "conj": lambda a: a.conj(),
    "repeat": lambda a: a.repeat(2, axis=0),
    "take": lambda a: a.take([0, 2]),
    "diagonal": lambda a: a.diagonal(),
    "trace": lambda a: a.trace(),
    "copy": lambda a: a.copy(),
    "numpy.sum(tensor)": lambda a: onp.sum(a, axis=0),  # NumPy calls the method
    "numpy.mean(tensor)": lambda a: onp.mean(a),
}
NOT_DIFFERENTIABLE = {
    "argmax()",
    "argmin(axis=0)",
    "argsort()",
    "all",
    "any(axis=0)",
    "round(1)",
    "astype(float32)",
    "imag",
}


@pytest.mark.parametrize("name", METHODS)
def test_method_values_match_ndarray(name):
    fn = METHODS[name]
    assert_same(fn(M), run_graph(lambda m, a: fn(a), [M]))


@pytest.mark.parametrize("name", sorted(set(METHODS) - NOT_DIFFERENTIABLE))
def test_method_gradients(name):
    cr.test.check_gradients(METHODS[name], [M], order=2)


def test_static_properties():
    x = cr.placeholder(cr.float64, [3, 4, 5])
    assert x.ndim == 3 and x.size == 60 and x.dtype == onp.float64
    assert x.shape == (3, 4, 5) and tuple(x.shape) == (3, 4, 5) and len(x.shape) == 3
    n, h, w = x.shape
    assert (n, h, w) == (3, 4, 5) and isinstance(n, int)
    assert x.shape[1:] == (4, 5) and x.shape[-1] == 5
    assert onp.zeros(x.shape).shape == (3, 4, 5) and cnp.zeros(x.shape[:2]).shape == (3, 4)
    assert x.shape + (1,) == (3, 4, 5, 1) and (2,) + x.shape == (2, 3, 4, 5)
    assert {x.shape: 1}[(3, 4, 5)] == 1  # hashes as the tuple
    assert x.shape.as_list() == [3, 4, 5]  # still TF's TensorShape
    u = cr.placeholder(cr.float64, [None, 4])
    assert u.size is None and u.ndim == 2 and u.shape == cr.TensorShape([None, 4])


# --- indexing -----------------------------------------------------------------------------------------
KEYS = {
    "[list]": [0, 2],
    "[ndarray]": onp.array([2, 0, 2]),
    "[negative ints]": [-1, -3],
    "[2d int array]": onp.array([[0, 1], [2, 2]]),
    "[bool mask 1d]": onp.array([True, False, True]),
    "[bool mask 2d]": X[:, :, 0] > 0,
    "[slice, list]": (slice(None), [1, 3]),
    "[list, list]": ([0, 2], [1, 3]),
    "[list, list broadcast]": (onp.array([[0], [2]]), [0, 1, 3]),
    "[list, slice, list] (apart)": ([0, 1], slice(None), [4, 2]),
    "[int, slice, list] (apart)": (0, slice(None), [1, 2]),
    "[slice, int, list] (adjacent)": (slice(None), 1, [1, 2]),
    "[Ellipsis, list]": (Ellipsis, [0, 4]),
    "[None, list]": (None, [1, 0]),
    "[list, None, ::-1]": ([2, 0], None, slice(None, None, -1)),
    "[::-2, list]": (slice(None, None, -2), [3, 0]),
    "[1:, bool]": (slice(1, None), onp.array([True, False, True, True])),
    "[empty list]": onp.array([], dtype=onp.int64),
    "[::-1, ..., None]": (slice(None, None, -1), Ellipsis, None),
    "[int]": 1,
    "[-1, 2:0:-1]": (-1, slice(2, 0, -1)),
}


@pytest.mark.parametrize("key", KEYS, ids=list(KEYS))
def test_indexing_matches_numpy(key):
    k = KEYS[key]
    assert_same(X[k], run_graph(lambda m, a: a[k], [X]), exact=True)


@pytest.mark.parametrize("key", [k for k in KEYS if k != "[empty list]"], ids=[k for k in KEYS if k != "[empty list]"])
def test_indexing_gradients(key):
    k = KEYS[key]
    cr.test.check_gradients(lambda a: a[k], [X], order=2)


def test_indexing_with_tensors():
    def f(a, i, mask):
        return a[i], a[mask], a[:, i]

    i, mask = onp.array([2, -1, 0]), M > 0
    graph = cr.Graph()
    with graph.as_default():
        pa, pi, pm = cr.placeholder(cr.float64, [3, 4]), cr.placeholder(cr.int64, [3]), cr.placeholder(cr.bool, [3, 4])
        out = f(pa, pi, pm)
        with cr.Session(graph=graph) as sess:
            got = sess.run(list(out), {pa: M, pi: i, pm: mask})
    for e, g in zip(f(M, i, mask), got):
        onp.testing.assert_array_equal(g, e)
    g = cr.grad(lambda a: cnp.sum(a[M > 0] ** 2))(M)
    onp.testing.assert_allclose(g, onp.where(M > 0, 2 * M, 0.0))


def test_indexing_errors_say_why():
    x = cr.placeholder(cr.float64, [3, 4])
    with pytest.raises(IndexError, match="out of bounds"):
        x[[0, 3]]
    with pytest.raises(IndexError, match="too many indices"):
        x[[0], [0], [0]]
    with pytest.raises(IndexError, match="bool tensor mask can only be the whole index"):
        x[:, cr.placeholder(cr.bool, [4])]


# --- operators: NumPy semantics on traced values, TF 1.x's elsewhere --------------------------------------
def test_equality_is_elementwise_under_the_transforms():
    def f(x):
        y = x * 1.0
        return cnp.sum((x == y) * x) + cnp.sum((x != 2.0) * x)

    onp.testing.assert_allclose(cr.grad(f)(onp.array([1.0, 2.0, 3.0])), [2.0, 1.0, 2.0])
    out = cr.function(lambda x: (x == x.max(), x != 1.0))(onp.array([1.0, 3.0]))
    onp.testing.assert_array_equal(out[0], [False, True])
    onp.testing.assert_array_equal(out[1], [False, True])
    rows = cr.vmap(lambda r: r == cnp.max(r))(onp.array([[1.0, 2.0], [4.0, 3.0]]))
    onp.testing.assert_array_equal(rows, [[False, True], [True, False]])


def test_graph_tensors_keep_identity_equality_and_hashing():
    a = cr.placeholder(cr.float32, [2], name="a")
    b = cr.placeholder(cr.float32, [2], name="b")
    assert (a == a) is True and (a == b) is False and (a != b) is True
    feeds = {a: onp.ones(2, onp.float32), b: onp.zeros(2, onp.float32)}
    assert len({a, b, a}) == 2 and a in feeds and b in [a, b]
    with cr.Session() as sess:
        onp.testing.assert_array_equal(sess.run(a + b, feed_dict=feeds), [1.0, 1.0])
    assert a.ref() == a.ref() and a.ref() != b.ref() and {a.ref(): 1}[a.ref()] == 1
    assert a.ref().deref() is a
    with pytest.raises(TypeError):  # TF 1.x: float32 + float64 tensors is an error in a graph
        a + cr.constant(onp.ones(2))


def test_traced_operators_promote_as_numpy():
    def f(x):
        y = x.astype(onp.float32) * 2.0  # float32 (a Python float is weak)
        assert y.dtype == cr.float32
        z = y + x  # float32 + float64 -> float64, as NumPy
        assert z.dtype == cr.float64
        i = cnp.arange(3)  # int64 array
        return cnp.sum(z * i / 2)

    onp.testing.assert_allclose(cr.grad(f)(onp.ones(3)), onp.arange(3) * 3 / 2)


def test_matmul_operator_on_vectors_under_a_transform():
    def f(w):
        return w @ w + (onp.eye(3) @ w).sum()

    onp.testing.assert_allclose(cr.grad(f)(onp.arange(3.0)), 2 * onp.arange(3.0) + 1)
