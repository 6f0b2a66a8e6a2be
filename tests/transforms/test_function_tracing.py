"""cr.function: tracing once per signature, the cache, static arguments, structures, inline use."""

import collections

import numpy as np
import pytest

import chainrule as cr
from chainrule.transforms import pytree


def test_numpy_in_numpy_out_and_dtype_kept():
    f = cr.function(lambda x: cr.sin(x) * 2.0)
    x64 = np.linspace(0, 1, 4)
    y = f(x64)
    assert isinstance(y, np.ndarray) and y.dtype == np.float64
    np.testing.assert_allclose(y, 2 * np.sin(x64))
    y32 = f(x64.astype(np.float32))
    assert y32.dtype == np.float32
    assert f.trace_count == 2  # float64[4] and float32[4] are two signatures


def test_scalar_results_are_numpy_scalars():
    f = cr.function(lambda x: cr.reduce_sum(x))
    out = f(np.arange(3.0))
    assert isinstance(out, np.float64) and out == 3.0


def test_second_call_with_same_signature_builds_no_graph(op_counter):
    f = cr.function(lambda x, y: cr.reduce_sum(cr.exp(x) * y))
    x, y = np.random.rand(5), np.random.rand(5)
    f(x, y)
    assert op_counter["graphs"] >= 1 and op_counter["ops"] > 0
    concrete = f.get_concrete_function(x, y)
    num_ops = concrete.num_ops
    op_counter.update(graphs=0, ops=0)
    for _ in range(3):
        x = np.random.rand(5)
        assert f(x, y) == pytest.approx(np.sum(np.exp(x) * y))
    assert op_counter == {"graphs": 0, "ops": 0}
    assert f.trace_count == 1 and f.cache_size() == 1
    assert concrete.num_ops == num_ops
    f(np.random.rand(6), np.random.rand(6))  # a new shape: one new trace
    assert f.trace_count == 2 and op_counter["graphs"] == 1 and op_counter["ops"] > 0


def test_static_python_arguments_are_part_of_the_key():
    calls = []

    def f(x, power, name="p"):
        calls.append((power, name))
        return x**power

    cf = cr.function(f)
    x = np.array([2.0, 3.0])
    np.testing.assert_allclose(cf(x, 2), [4.0, 9.0])
    np.testing.assert_allclose(cf(x, 2), [4.0, 9.0])
    np.testing.assert_allclose(cf(x, 3), [8.0, 27.0])
    np.testing.assert_allclose(cf(x, 3, name="q"), [8.0, 27.0])
    assert calls == [(2, "p"), (3, "p"), (3, "q")]
    assert cf.trace_count == 3
    # The static value is passed as a Python value, not a tensor.
    assert isinstance(calls[0][0], int)


def test_numpy_scalars_are_dynamic_python_scalars_static():
    cf = cr.function(lambda x, s: x * s)
    cf(np.ones(2), np.float64(2.0))
    cf(np.ones(2), np.float64(3.0))
    assert cf.trace_count == 1
    cf(np.ones(2), 2.0)
    cf(np.ones(2), 3.0)
    assert cf.trace_count == 3


def test_nested_structures_in_and_out():
    Pair = collections.namedtuple("Pair", "a b")

    @cr.function
    def f(params, data):
        w, b = params["w"], params["b"]
        y = cr.reduce_sum(data[0] * w) + b
        return {"y": y, "pair": Pair(w * 2.0, [b, None])}

    params = {"w": np.array([1.0, 2.0]), "b": np.array(0.5)}
    out = f(params, (np.array([3.0, 4.0]),))
    assert set(out) == {"y", "pair"} and isinstance(out["pair"], Pair)
    assert out["y"] == pytest.approx(11.5)
    np.testing.assert_allclose(out["pair"].a, [2.0, 4.0])
    assert out["pair"].b[0] == 0.5 and out["pair"].b[1] is None


def test_outputs_are_owned_by_the_caller():
    ident = cr.function(lambda x: x)
    x = np.ones(3)
    y = ident(x)
    y[0] = 5.0
    assert x[0] == 1.0  # not a view of the input
    const = cr.function(lambda x: (x, cr.constant([1.0, 2.0])))
    _, c = const(x)
    c[0] = 7.0  # not the graph's read-only constant
    assert const(x)[1][0] == 1.0


def test_python_constant_results():
    f = cr.function(lambda x: (cr.reduce_sum(x), 3))
    s, three = f(np.ones(2))
    assert s == 2.0 and three == 3


def test_inline_inside_another_trace_and_with_tensors():
    inner = cr.function(lambda x: cr.square(x))
    outer = cr.function(lambda x: inner(x) + 1.0)
    np.testing.assert_allclose(outer(np.array([1.0, 2.0])), [2.0, 5.0])
    assert inner.trace_count == 0  # built inline in outer's graph
    t = cr.constant([3.0])
    y = inner(t)
    assert isinstance(y, cr.Tensor) and y.graph is t.graph
    with cr.Session() as sess:
        np.testing.assert_allclose(sess.run(y), [9.0])


def test_method_decoration():
    class Model:
        def __init__(self, scale):
            self.scale = scale

        @cr.function
        def predict(self, x):
            return x * self.scale

    m2, m3 = Model(2.0), Model(3.0)
    np.testing.assert_allclose(m2.predict(np.ones(2)), [2.0, 2.0])
    np.testing.assert_allclose(m3.predict(np.ones(2)), [3.0, 3.0])


def test_graph_is_inspectable():
    f = cr.function(lambda x: cr.sin(x))
    concrete = f.get_concrete_function(np.zeros(3))
    types = [op.type for op in concrete.graph.get_operations()]
    assert types == ["Placeholder", "Sin"]
    assert concrete.inputs[0].shape.as_list() == [3]


def test_errors():
    f = cr.function(lambda x: x)
    with pytest.raises(TypeError, match="neither an array nor hashable"):
        f([np.ones(1), {"a": set()}])
    with pytest.raises(TypeError, match="unsupported array dtype"):
        f(np.array(["a"]))
    captured = cr.constant(1.0)
    g = cr.function(lambda x: captured)
    with pytest.raises(ValueError, match="another graph"):
        g(np.ones(1))


def test_pytree_roundtrip():
    Point = collections.namedtuple("Point", "x y")
    tree = {"a": [1, (2, None)], "b": Point(3, {"c": 4})}
    leaves, td = pytree.flatten(tree)
    assert leaves == [1, 2, 3, 4]
    assert pytree.unflatten(td, leaves) == tree
    assert pytree.num_leaves(td) == 4
    assert pytree.tree_map(lambda a, b: a + b, tree, tree) == pytree.unflatten(td, [2, 4, 6, 8])
    assert "Point" in pytree.describe(td)
    with pytest.raises(ValueError):
        pytree.unflatten(td, [1, 2, 3])
    with pytest.raises(ValueError):
        pytree.unflatten(td, [1, 2, 3, 4, 5])
