"""py_func / numpy_function, Print and print, beyond the op table: run-time Python calls, TF's
print formats (recorded once from TensorFlow 2.21's compat.v1 Print and tf.print), gradients."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import chainrule as cr


@pytest.fixture(autouse=True)
def _fresh_graph():
    with cr.Graph().as_default() as g:
        yield g


def test_py_func_is_called_each_run_with_numpy_arrays_and_has_unknown_shape():
    calls = []

    def f(a, b):
        calls.append((type(a), a.dtype))
        return (a * b).astype(np.float32), np.int64(a.size)

    x = cr.placeholder(cr.float32, [3])
    y = cr.placeholder(cr.float32, [3])
    prod, size = cr.py_func(f, [x, y], [cr.float32, cr.int64])
    assert prod.op.type == "PyFunc" and prod.shape.rank is None and size.dtype == cr.int64
    with cr.Session() as sess:
        for _ in range(2):
            got, n = sess.run([prod, size], {x: [1, 2, 3], y: [2, 2, 2]})
    np.testing.assert_array_equal(got, [2, 4, 6])
    assert n == 3 and calls == [(np.ndarray, np.float32)] * 2


def test_stateless_py_func_and_single_tout():
    x = cr.placeholder(cr.float64, [2])
    y = cr.py_func(np.exp, [x], cr.float64, stateful=False)
    assert y.op.type == "PyFuncStateless" and isinstance(y, cr.Tensor)
    np.testing.assert_allclose(cr.Session().run(y, {x: [0.0, 1.0]}), np.exp([0.0, 1.0]))
    assert cr.numpy_function(np.exp, [x], cr.float64).op.type == "PyFunc"


def test_py_func_with_no_outputs_returns_the_op():
    seen = []
    op = cr.py_func(lambda a: seen.append(a.sum()), [cr.constant([1.0, 2.0])], [])
    assert isinstance(op, cr.Operation)
    cr.Session().run(op)
    assert seen == [3.0]


def test_py_func_without_a_gradient_is_not_differentiable_and_gets_one_by_override():
    x = cr.placeholder(cr.float64, [3])
    plain = cr.py_func(np.square, [x], cr.float64)
    assert cr.gradients(plain, [x]) == [None]

    @cr.RegisterGradient("ScriptOpsTestSquareGrad")
    def _square_grad(op, grad):
        return grad * 2 * op.inputs[0]

    with cr.get_default_graph().gradient_override_map({"PyFunc": "ScriptOpsTestSquareGrad"}):
        y = cr.py_func(np.square, [x], cr.float64)
    (dx,) = cr.gradients(y, [x])
    np.testing.assert_allclose(cr.Session().run(dx, {x: [1.0, -2.0, 0.5]}), [2.0, -4.0, 1.0])


def test_py_func_dtype_mismatch_names_the_op():
    x = cr.constant([1.0, 2.0])  # float32
    y = cr.py_func(lambda a: a * 2.0, [x], cr.float32)  # float32 * Python float stays float32
    np.testing.assert_array_equal(cr.Session().run(y), [2.0, 4.0])
    bad = cr.py_func(lambda a: np.array([1.0, 2.0]), [x], cr.float32, name="bad_func")
    with pytest.raises(cr.errors.InvalidArgumentError, match=r"(?s)float64, but expects float32.*bad_func"):
        cr.Session().run(bad)


def test_Print_writes_tf1_format_to_stderr_and_passes_the_gradient(capsys):
    x = cr.constant(np.arange(10, dtype=np.float32) * 0.5)
    m = cr.constant(np.arange(6, dtype=np.int32).reshape(2, 3))
    s = cr.constant(3.25)
    big = cr.constant(np.arange(24, dtype=np.float64).reshape(2, 3, 4))
    cases = [
        (dict(data=[x]), "[0 0.5 1...]"),
        (dict(data=[m, s], message="msg: "), "msg: [[0 1 2]...][3.25]"),
        (dict(data=[x], summarize=20), "[0 0.5 1 1.5 2 2.5 3 3.5 4 4.5]"),
        (dict(data=[big]), "[[[0 1 2...]]...]"),
        (dict(data=[cr.constant([True, False])]), "[1 0]"),
        (dict(data=[x], summarize=-1), "[0 0.5 1 1.5 2 2.5 3 3.5 4 4.5]"),
    ]  # the lines TensorFlow's tf.compat.v1.Print printed for the same constants
    with cr.Session() as sess:
        for kwargs, expected in cases:
            capsys.readouterr()
            assert sess.run(cr.Print(s, **kwargs)) == 3.25
            assert capsys.readouterr().err == expected + "\n"
        once = cr.Print(s, [s], first_n=2)
        for _ in range(4):
            sess.run(once)
        assert capsys.readouterr().err == "[3.25]\n[3.25]\n"
    v = cr.placeholder(cr.float64, [2])
    (g,) = cr.gradients(cr.Print(v * v, [v], first_n=0), [v])
    np.testing.assert_allclose(cr.Session().run(g, {v: [1.0, 3.0]}), [2.0, 6.0])


def test_print_runs_as_a_control_dependency_in_tf2_format(capsys):
    m = cr.constant(np.arange(6, dtype=np.int32).reshape(2, 3))
    s = cr.constant(3.25)
    big = cr.constant(np.arange(24, dtype=np.float64).reshape(2, 3, 4))
    x = cr.constant(np.arange(10, dtype=np.float32) * 0.5)
    with cr.control_dependencies([cr.print("hello", m, s)]):
        out = cr.identity(s)
    ops = [cr.print(x), cr.print(big), cr.print({"a": s}), cr.print(x, summarize=-1, sep=",", end="!\n")]
    with cr.Session() as sess:
        capsys.readouterr()
        sess.run(out)
        assert capsys.readouterr().err == "hello [[0 1 2]\n [3 4 5]] 3.25\n"
        for op in ops:
            sess.run(op)
    # The output TensorFlow's tf.print gave for the same values.
    assert capsys.readouterr().err == (
        "[0 0.5 1 ... 3.5 4 4.5]\n"
        "[[[0 1 2 3]\n  [4 5 6 7]\n  [8 9 10 11]]\n\n [[12 13 14 15]\n  [16 17 18 19]\n  [20 21 22 23]]]\n"
        "{'a': 3.25}\n"
        "[0 0.5 1 1.5 2 2.5 3 3.5 4 4.5]!\n"
    )


def test_print_to_stdout_a_file_and_a_logging_function(capsys, tmp_path):
    s = cr.constant(1.5)
    lines = []
    path = tmp_path / "out.txt"
    with cr.Session() as sess:
        sess.run(cr.print("v", s, output_stream=sys.stdout))
        sess.run(cr.print("v", s, output_stream=lines.append))
        sess.run(cr.print("v", s, output_stream=f"file://{path}"))
    assert capsys.readouterr().out == "v 1.5\n"
    assert lines == ["v 1.5"] and path.read_text() == "v 1.5\n"
    with pytest.raises(TypeError, match="unexpected keyword"):
        cr.print(s, stream=sys.stderr)


def test_identity_n_passes_several_tensors_through_one_op():
    a, b = cr.identity_n([cr.constant(1.0), cr.constant([2, 3])])
    assert a.op is b.op and a.op.type == "IdentityN"
    assert cr.Session().run([a, b])[0] == 1.0
