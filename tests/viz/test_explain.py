"""cr.explain: a tensor's graph printed as simplified mathematics, in text and LaTeX."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import chainrule as cr


def d(y, x):
    (g,) = cr.gradients(y, [x])
    return g


# Each case builds a tensor from placeholders x, y, w, b (float32, unknown shape) and gives the
# expected text and, where given, LaTeX.
CASES: list[tuple[str, Callable[..., cr.Tensor], str, str | None]] = [
    ("d cos", lambda x, y, w, b: d(cr.cos(x), x), "-sin(x)", r"-\sin\left(x\right)"),
    ("d x**3", lambda x, y, w, b: d(x**3, x), "3*x**2", "3 x^{2}"),
    (
        "d sigmoid(w*x+b) / dw",
        lambda x, y, w, b: d(cr.sigmoid(w * x + b), w),
        "sigmoid(w*x + b)*(1 - sigmoid(w*x + b))*x",
        r"\sigma\left(w x + b\right) \left(1 - \sigma\left(w x + b\right)\right) x",
    ),
    ("d sin", lambda x, y, w, b: d(cr.sin(x), x), "cos(x)", r"\cos\left(x\right)"),
    ("d exp(2x)", lambda x, y, w, b: d(cr.exp(2 * x), x), "2*exp(2*x)", "2 e^{2 x}"),
    ("d log", lambda x, y, w, b: d(cr.log(x), x), "1/x", r"\frac{1}{x}"),
    ("d log(2x)", lambda x, y, w, b: d(cr.log(2 * x), x), "1/x", None),
    ("d x*x", lambda x, y, w, b: d(x * x, x), "2*x", "2 x"),
    ("d polynomial", lambda x, y, w, b: d(x**2 + 3 * x + 1, x), "2*x + 3", "2 x + 3"),
    ("d tanh", lambda x, y, w, b: d(cr.tanh(x), x), "1 - tanh(x)**2", r"1 - \tanh\left(x\right)^{2}"),
    ("d sqrt", lambda x, y, w, b: d(cr.sqrt(x), x), "0.5/sqrt(x)", r"\frac{0.5}{\sqrt{x}}"),
    ("d rsqrt", lambda x, y, w, b: d(cr.rsqrt(x), x), "-0.5/x**1.5", r"-\frac{0.5}{x^{1.5}}"),
    ("d2 cos", lambda x, y, w, b: d(d(cr.cos(x), x), x), "-cos(x)", r"-\cos\left(x\right)"),
    ("d2 x**3", lambda x, y, w, b: d(d(x**3, x), x), "6*x", "6 x"),
    ("d x/y dx", lambda x, y, w, b: d(x / y, x), "1/y", r"\frac{1}{y}"),
    ("d x/y dy", lambda x, y, w, b: d(x / y, y), "-x/y**2", r"-\frac{x}{y^{2}}"),
    ("d x*sin(x)", lambda x, y, w, b: d(x * cr.sin(x), x), "sin(x) + x*cos(x)", None),
    ("d (x-y)**2", lambda x, y, w, b: d(cr.square(x - y), x), "2*(x - y)", r"2 \left(x - y\right)"),
    ("d atan", lambda x, y, w, b: d(cr.atan(x), x), "1/(1 + x**2)", r"\frac{1}{1 + x^{2}}"),
    ("d abs", lambda x, y, w, b: d(cr.abs(x), x), "sign(x)", r"\operatorname{sign}\left(x\right)"),
    ("d softplus", lambda x, y, w, b: d(cr.softplus(x), x), "sigmoid(x)", r"\sigma\left(x\right)"),
    (
        "d max(x, 0)",
        lambda x, y, w, b: d(cr.maximum(x, 0.0), x),
        "where(x >= 0, 1, 0)",
        r"\begin{cases} 1 & \text{if } x \geq 0 \\ 0 & \text{otherwise} \end{cases}",
    ),
    ("d exp(x)*y", lambda x, y, w, b: d(cr.exp(x) * y, x), "exp(x)*y", "e^{x} y"),
    ("d sum of two paths", lambda x, y, w, b: d(cr.sin(x) + cr.sin(x), x), "2*cos(x)", None),
    ("x - x", lambda x, y, w, b: x - x, "0", "0"),
    ("--x", lambda x, y, w, b: cr.negative(cr.negative(x)), "x", "x"),
    ("x + 0, x*1", lambda x, y, w, b: (x + 0.0) * 1.0, "x", "x"),
    ("0*x", lambda x, y, w, b: 0.0 * x + y, "y", "y"),
    ("constant folding", lambda x, y, w, b: cr.constant(2.0) * 3 + 1, "7", "7"),
    ("x*x*x / x", lambda x, y, w, b: x * x * x / x, "x**2", "x^{2}"),
    ("x - 2*x", lambda x, y, w, b: x - 2 * x, "-x", "-x"),
    ("y - x", lambda x, y, w, b: y - x, "y - x", "y - x"),
    ("(x*y)**2", lambda x, y, w, b: (x * y) ** 2, "x**2*y**2", "x^{2} y^{2}"),
    ("x**y", lambda x, y, w, b: x ** (y - 1), "x**(y - 1)", r"x^{y - 1}"),
    ("log(exp(x))", lambda x, y, w, b: cr.log(cr.exp(x)), "x", "x"),
    ("cos(-x)", lambda x, y, w, b: cr.cos(-x) + cr.sin(-x), "cos(x) - sin(x)", None),
    ("cos(0)", lambda x, y, w, b: cr.cos(cr.constant(0.0)) + x, "1 + x", "1 + x"),
    ("sin(1) stays", lambda x, y, w, b: cr.sin(cr.constant(1.0)), "sin(1)", r"\sin\left(1\right)"),
    ("reduce_sum", lambda x, y, w, b: cr.reduce_sum(x), "sum(x)", r"\sum x"),
    ("third", lambda x, y, w, b: x / 3 + 2 * y / 3, "x/3 + 2*y/3", r"\frac{x}{3} + \frac{2 y}{3}"),
    ("unknown op", lambda x, y, w, b: cr.shape(x), "Shape(x)", r"\operatorname{Shape}\left(x\right)"),
    ("comparison", lambda x, y, w, b: cr.where(x > y, x, y), "where(x > y, x, y)", None),
    ("decimal", lambda x, y, w, b: 0.1 * x, "0.1*x", r"0.1 x"),
    ("matmul", lambda x, y, w, b: cr.matmul(x, y, transpose_b=True), "x @ transpose(y)", r"x y^{\top}"),
]


@pytest.mark.parametrize("build, text, latex", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_explain_table(build, text, latex):
    x, y, w, b = (cr.placeholder(cr.float32, name=n) for n in "xywb")
    t = build(x, y, w, b)
    assert cr.explain(t) == text
    if latex is not None:
        assert cr.explain(t, format="latex") == latex


def test_known_shapes_keep_sums_that_change_shape():
    x = cr.placeholder(cr.float32, [3], name="x")
    s = cr.placeholder(cr.float32, [], name="s")
    (gs,) = cr.gradients(x * s, [s])  # d/ds sum(x*s) sums over x's axis
    assert cr.explain(gs) == "sum(x)"
    (gx,) = cr.gradients(x * s, [x])  # same shape: no sum
    assert cr.explain(gx) == "s"


def test_static_shapes_fold_and_mean_reads_as_mean():
    x = cr.placeholder(cr.float32, [2, 3], name="x")
    assert cr.explain(cr.shape(x)) == "[2, 3]"
    assert cr.explain(cr.size(x) * 1) == "6"
    assert cr.explain(cr.reduce_mean(x, axis=1)) == "mean(x, axis=1)"
    latex = r"\operatorname{mean}_{\mathrm{axis}=1}\left(x\right)"
    assert cr.explain(cr.reduce_mean(x, axis=1), format="latex") == latex
    # Only reduce_mean's output reads as a mean: a sum the user divides stays a sum over a number.
    assert cr.explain(cr.reduce_sum(x, axis=1) / 3) == "sum(x, axis=1)/3"


def test_variables_print_by_name_and_names_in_latex():
    v = cr.Variable(1.5, name="theta")
    w1 = cr.placeholder(cr.float32, name="w_1")
    rate = cr.placeholder(cr.float32, name="learning_rate")
    assert cr.explain(v * w1 * rate) == "theta*w_1*learning_rate"
    assert cr.explain(v * w1 * rate, format="latex") == r"\theta w_{1} \mathrm{learning\_rate}"
    with cr.name_scope("layer"):
        z = cr.placeholder(cr.float32, name="z")
    assert cr.explain(cr.sin(z)) == "sin(layer/z)"


def test_explanation_is_a_string_that_shows_itself():
    x = cr.placeholder(cr.float32, name="x")
    out = cr.explain(cr.gradients(cr.cos(x), [x])[0])
    assert isinstance(out, str) and repr(out) == "-sin(x)" and out._repr_latex_() is None
    latex = cr.explain(cr.cos(x), format="latex")
    assert latex._repr_latex_() == r"$\cos\left(x\right)$"
    assert cr.explain([x, cr.cos(x)]) == ["x", "cos(x)"]


def test_explain_rejects_bad_input():
    x = cr.placeholder(cr.float32, name="x")
    with pytest.raises(ValueError, match="format"):
        cr.explain(x, format="html")
    with pytest.raises(TypeError, match="unconnected"):
        cr.explain(cr.gradients(cr.constant(1.0), [x])[0])
    with pytest.raises(TypeError, match="needs a tensor"):
        cr.explain(cr.no_op())
    with pytest.raises(TypeError, match="needs a cr.Tensor"):
        cr.explain(3.0)


def test_explained_expression_evaluates_like_the_graph():
    """The printed text, run as Python with NumPy, gives the values the graph computes."""
    x = cr.placeholder(cr.float64, name="x")
    w = cr.placeholder(cr.float64, name="w")
    b = cr.placeholder(cr.float64, name="b")
    cases = [d(cr.sigmoid(w * x + b), w), d(x**3 * cr.cos(x), x), d(cr.tanh(w * x) / (1 + x * x), x)]
    env = {
        "sin": np.sin,
        "cos": np.cos,
        "tanh": np.tanh,
        "exp": np.exp,
        "log": np.log,
        "sqrt": np.sqrt,
        "sigmoid": lambda v: 1 / (1 + np.exp(-v)),
    }
    feed = {x: 0.7, w: -1.3, b: 0.4}
    with cr.Session() as sess:
        for t in cases:
            text = cr.explain(t)
            value = eval(text, dict(env), {"x": 0.7, "w": -1.3, "b": 0.4})  # noqa: S307 - our own output
            assert value == pytest.approx(sess.run(t, feed), rel=1e-12), text


def test_deep_graph_does_not_recurse_per_op():
    x = cr.placeholder(cr.float32, name="x")
    y = x
    for _ in range(3000):
        y = y + 0.0
    assert cr.explain(y) == "x"


# --- matrix expressions read as a reader writes them: mean, sum, size, no Reshape/floor/Size ------
_NOT_MATHEMATICS = ("floor", "Size(", "Reshape(", "StridedSlice(", "BroadcastTo(", "Cast(", "KeepDimsShape")


def _reads_as_mathematics(text: str) -> str:
    assert not any(word in text for word in _NOT_MATHEMATICS), text
    return text


@pytest.mark.parametrize("batch", [None, 5])
def test_mean_of_squares_of_w_x_minus_y(batch):
    w = cr.placeholder(cr.float64, [3, 2], name="W")
    x = cr.placeholder(cr.float64, [2, batch], name="x")
    y = cr.placeholder(cr.float64, [3, batch], name="y")
    loss = cr.reduce_mean(cr.square(cr.matmul(w, x) - y))
    (dw,) = cr.gradients(loss, [w])
    assert _reads_as_mathematics(cr.explain(loss)) == "mean((W @ x - y)**2)"
    # d/dW mean((Wx - y)^2) = 2 (Wx - y) x^T / n, n the number of elements averaged.
    count = "size(W @ x - y)" if batch is None else "15"
    assert _reads_as_mathematics(cr.explain(dw)) == f"2*(W @ x - y)/{count} @ transpose(x)"
    if batch is None:
        assert cr.explain(dw, format="latex") == (
            r"\frac{2 \left(W x - y\right)}{\operatorname{size}\left(W x - y\right)} x^{\top}"
        )


def test_mean_over_one_axis_divides_by_that_axis():
    w = cr.placeholder(cr.float64, [3, 2], name="W")
    x = cr.placeholder(cr.float64, [2, None], name="x")
    y = cr.placeholder(cr.float64, [3, None], name="y")
    loss = cr.reduce_mean(cr.square(cr.matmul(w, x) - y), axis=0)
    (dw,) = cr.gradients(loss, [w])
    assert _reads_as_mathematics(cr.explain(loss)) == "mean((W @ x - y)**2, axis=0)"
    assert _reads_as_mathematics(cr.explain(dw)) == "2*(W @ x - y)/3 @ transpose(x)"


def test_softmax_cross_entropy_of_an_affine_layer():
    x = cr.placeholder(cr.float64, [None, 4], name="x")
    labels = cr.placeholder(cr.float64, [None, 3], name="labels")
    w = cr.placeholder(cr.float64, [4, 3], name="W")
    b = cr.placeholder(cr.float64, [3], name="b")
    xent = cr.nn.softmax_cross_entropy_with_logits(labels=labels, logits=cr.matmul(x, w) + b)
    loss = cr.reduce_mean(xent)
    dw, db = cr.gradients(loss, [w, b])
    assert _reads_as_mathematics(cr.explain(xent)) == "-sum(labels*log_softmax(x @ W + b), axis=-1)"
    assert _reads_as_mathematics(cr.explain(loss)) == "mean(-sum(labels*log_softmax(x @ W + b), axis=-1))"
    # (softmax(z) - labels)/n, with softmax(z) scaled by each row's label mass (1 for probabilities).
    residual = "(softmax(x @ W + b)*sum(labels, axis=1, keepdims=True) - labels)"
    count = "size(sum(labels*log_softmax(x @ W + b), axis=-1))"
    assert _reads_as_mathematics(cr.explain(db)) == f"{residual}/{count}"
    assert _reads_as_mathematics(cr.explain(dw)) == f"transpose(x) @ ({residual}/{count})"


def test_two_layer_network():
    x = cr.placeholder(cr.float64, [None, 4], name="x")
    target = cr.placeholder(cr.float64, [None, 3], name="t")
    w1 = cr.placeholder(cr.float64, [4, 5], name="W1")
    w2 = cr.placeholder(cr.float64, [5, 3], name="W2")
    h = cr.tanh(cr.matmul(x, w1))
    loss = cr.reduce_mean(cr.square(cr.matmul(h, w2) - target))
    dw1, dw2 = cr.gradients(loss, [w1, w2])
    assert _reads_as_mathematics(cr.explain(loss)) == "mean((tanh(x @ W1) @ W2 - t)**2)"
    delta = "2*(tanh(x @ W1) @ W2 - t)/size(tanh(x @ W1) @ W2 - t)"
    assert _reads_as_mathematics(cr.explain(dw2)) == f"transpose(tanh(x @ W1)) @ ({delta})"
    assert _reads_as_mathematics(cr.explain(dw1)) == (f"transpose(x) @ ({delta} @ transpose(W2)*(1 - tanh(x @ W1)**2))")


def test_a_reshape_that_moves_values_stays_visible():
    x = cr.placeholder(cr.float64, [2, 3], name="x")
    assert cr.explain(cr.reshape(x, [3, 2])) == "Reshape(x, [3, 2])"
    assert cr.explain(cr.reshape(cr.reduce_sum(x), [1, 1])) == "sum(x)"  # one value: broadcasting repeats it
    assert cr.explain(x[:, None]) != "x"  # a real index (not only new axes) is not read away
