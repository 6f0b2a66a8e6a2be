"""How run-time errors read: printed once, chainrule's message before NumPy's, the user's lines named.

The printed form is checked on a script run in a subprocess (its stderr is what a user sees);
the messages themselves in process, in the three execution modes.
"""

from __future__ import annotations

import inspect
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule import compiler

_MODES = {
    "optimized": compiler.Options(),
    "as-written": compiler.Options(passes=()),
    "interpreted": compiler.Options(passes=(), codegen=False),
}
_SRC = str(Path(cr.__file__).parent.parent)


@pytest.fixture(params=list(_MODES))
def options(request):
    return _MODES[request.param]


@pytest.fixture(autouse=True)
def fresh_graph():
    with cr.Graph().as_default() as graph:
        yield graph


def _line(offset: int = 0) -> int:
    return inspect.currentframe().f_back.f_lineno + offset


def _run_script(tmp_path: Path, body: str, optimize: str = "1") -> subprocess.CompletedProcess:
    script = tmp_path / "user_script.py"
    script.write_text(textwrap.dedent(body))
    env = {"PYTHONPATH": _SRC, "CHAINRULE_OPTIMIZE": optimize, "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=120, check=False
    )


_MATMUL_SCRIPT = """\
    import numpy as np
    import chainrule as cr
    x = cr.placeholder(cr.float64, [None, 3])
    w = cr.placeholder(cr.float64, [None, None])
    y = cr.matmul(x, w)
    with cr.Session() as sess:
        sess.run(y, feed_dict={x: np.ones((2, 3)), w: np.ones((4, 2))})
"""


@pytest.mark.parametrize("optimize", ["1", "0", "interpret"])
def test_a_run_time_error_is_printed_once_chainrule_first(tmp_path, optimize):
    result = _run_script(tmp_path, _MATMUL_SCRIPT, optimize)
    err = result.stderr
    assert result.returncode == 1, err
    numpy_text = "Input operand 1 has a mismatch in its core dimension 0"
    assert err.count(numpy_text) == 1, err
    assert err.count("Traceback (most recent call last)") == 1, err
    assert "The above exception was the direct cause" not in err and "During handling" not in err, err
    ours = err.index("InvalidArgumentError: error while running op 'MatMul' (MatMul)")
    assert ours < err.index(f"NumPy: ValueError: matmul: {numpy_text}"), err
    script = str(tmp_path / "user_script.py")
    assert f"created at {script}:5: y = cr.matmul(x, w)" in err  # where the op was made
    assert f'File "{script}", line 7' in err  # and the run that failed, in the traceback


def test_a_feed_error_names_the_line_of_the_run_call_in_a_script(tmp_path):
    result = _run_script(
        tmp_path,
        """\
        import numpy as np
        import chainrule as cr
        x = cr.placeholder(cr.float64, [None, 3])
        y = x * 2.0
        with cr.Session() as sess:
            sess.run(y, feed_dict={x: np.ones((2, 4))})
        """,
    )
    err = result.stderr
    script = str(tmp_path / "user_script.py")
    assert "Cannot feed value of shape (2, 4) for Tensor 'Placeholder:0', which has shape (?, 3)" in err, err
    assert f"in the Session.run call at {script}:6: sess.run(y, feed_dict={{x: np.ones((2, 4))}})" in err, err
    assert err.count("Cannot feed value") == 1


def test_the_original_error_stays_reachable(options):
    x = cr.placeholder(cr.float64, [None, 3])
    w = cr.placeholder(cr.float64, [None, None])
    y = cr.matmul(x, w)
    with cr.Session(optimize=options) as sess, pytest.raises(cr.errors.InvalidArgumentError) as info:
        sess.run(y, {x: np.ones((2, 3)), w: np.ones((4, 2))})
    e = info.value
    assert e.__cause__ is None and e.__suppress_context__
    assert isinstance(e.__context__, ValueError) and "mismatch" in str(e.__context__)
    assert e.op is y.op
    text = str(e)
    assert text.index("error while running op 'MatMul'") < text.index("NumPy: ValueError: matmul")


def test_an_error_of_a_users_function_says_where_it_was_raised(options):
    def broken(a):
        return a[10]  # IndexError, in the user's code

    line = _line(-2)
    x = cr.placeholder(cr.float64, [3])
    y = cr.py_func(broken, [x], cr.float64)
    with cr.Session(optimize=options) as sess, pytest.raises(cr.errors.InvalidArgumentError) as info:
        sess.run(y, {x: np.ones(3)})
    assert f"raised at {__file__}:{line} in broken: IndexError: index 10 is out of bounds" in str(info.value)


def test_a_kernels_own_message_comes_first(options):
    data = cr.placeholder(cr.float64, [3])
    ids = cr.placeholder(cr.int32, [3])
    s = cr.math.segment_sum(data, ids)
    with cr.Session(optimize=options) as sess, pytest.raises(cr.errors.InvalidArgumentError) as info:
        sess.run(s, {data: np.ones(3), ids: [1, 0, 0]})
    text = str(info.value)
    assert text.startswith("segment ids are not increasing"), text
    assert "while running op 'SegmentSum' (SegmentSum)" in text


def test_feed_errors_name_the_line_of_the_run_call(options):
    x = cr.placeholder(cr.float64, [None, 3], name="x")
    y = x * 2.0
    with cr.Session(optimize=options) as sess:
        sess.run(y, {x: np.ones((1, 3))})  # the next runs with these keys take the prepared path
        cases = [
            ({x: np.ones((2, 4))}, ValueError, "Cannot feed value of shape (2, 4) for Tensor 'x:0'"),
            ({x: [["a", "b", "c"]]}, TypeError, "Cannot feed value"),
            ({x: np.ones((1, 3), np.complex128)}, TypeError, "without changing it"),
            ({"nope:0": np.ones((1, 3))}, cr.errors.NotFoundError, "nope"),
            ({5: np.ones((1, 3))}, TypeError, "Can not convert a int into a Tensor or Operation"),
            ({}, cr.errors.InvalidArgumentError, "You must feed a value for placeholder tensor 'x'"),
        ]
        for feeds, error, words in cases:
            with pytest.raises(error) as info:
                line = _line()
                sess.run(y, feeds)
            text = str(info.value)
            assert words in text, text
            assert f"in the Session.run call at {__file__}:{line + 1}: sess.run(y, feeds)" in text, text
        with pytest.raises(TypeError) as info:
            line = _line()
            sess.run(None)
        assert f"in the Session.run call at {__file__}:{line + 1}" in str(info.value)


def test_eval_names_the_users_line_too():
    x = cr.placeholder(cr.float64, [2], name="x")
    with cr.Session():
        with pytest.raises(ValueError) as info:
            line = _line()
            (x * 2.0).eval({x: np.ones(3)})
    assert f"in the Session.run call at {__file__}:{line + 1}" in str(info.value)


def test_errors_of_ops_do_not_get_the_call_line(options):
    v = cr.Variable(1.0)
    with cr.Session(optimize=options) as sess, pytest.raises(cr.errors.FailedPreconditionError) as info:
        sess.run(v)
    text = str(info.value)
    assert text.startswith("Attempting to use uninitialized value") and "in the Session.run call" not in text
