"""Optimizers against their update formulas computed by hand in NumPy."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

A0 = np.array([0.5, -1.0, 2.0])
B0 = np.array([1.5, 0.3, -0.7])
C = np.array([1.0, 2.0, -1.0])


@pytest.fixture
def graph():
    g = cr.Graph()
    with g.as_default():
        yield g


def _loss(a, b):
    """Non-quadratic, and each variable's gradient depends on the other variable."""
    return cr.reduce_sum(cr.square(a * b - C.astype(a.dtype.as_numpy_dtype))) + cr.reduce_sum(cr.sin(a) * b)


def _np_grads(a, b):
    r = a * b - C
    return [2 * r * b + np.cos(a) * b, 2 * r * a + np.sin(a)]


def _gd(lr):
    def step(xs, gs, state):
        return [x - lr * g for x, g in zip(xs, gs, strict=True)]

    return step


def _momentum(lr, mu, nesterov):
    def step(xs, gs, state):
        acc = state.setdefault("acc", [np.zeros_like(x) for x in xs])
        out = []
        for i, (x, g) in enumerate(zip(xs, gs, strict=True)):
            acc[i] = acc[i] * mu + g
            out.append(x - (g * lr + acc[i] * mu * lr) if nesterov else x - lr * acc[i])
        return out

    return step


def _adam(lr, b1, b2, eps):
    def step(xs, gs, state):
        t = state["t"] = state.get("t", 0) + 1
        m = state.setdefault("m", [np.zeros_like(x) for x in xs])
        v = state.setdefault("v", [np.zeros_like(x) for x in xs])
        lr_t = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
        out = []
        for i, (x, g) in enumerate(zip(xs, gs, strict=True)):
            m[i] = b1 * m[i] + (1 - b1) * g
            v[i] = b2 * v[i] + (1 - b2) * g * g
            out.append(x - lr_t * m[i] / (np.sqrt(v[i]) + eps))  # TF1: epsilon outside the sqrt, after lr_t
        return out

    return step


def _rmsprop(lr, decay, mu, eps, centered):
    def step(xs, gs, state):
        ms = state.setdefault("ms", [np.ones_like(x) for x in xs])  # TF1 starts the rms slot at one
        mg = state.setdefault("mg", [np.zeros_like(x) for x in xs])
        mom = state.setdefault("mom", [np.zeros_like(x) for x in xs])
        out = []
        for i, (x, g) in enumerate(zip(xs, gs, strict=True)):
            ms[i] = decay * ms[i] + (1 - decay) * g * g
            if centered:
                mg[i] = decay * mg[i] + (1 - decay) * g
                denom = ms[i] - mg[i] ** 2 + eps
            else:
                denom = ms[i] + eps
            mom[i] = mu * mom[i] + lr * g / np.sqrt(denom)
            out.append(x - mom[i])
        return out

    return step


def _adagrad(lr, init):
    def step(xs, gs, state):
        acc = state.setdefault("acc", [np.full_like(x, init) for x in xs])
        out = []
        for i, (x, g) in enumerate(zip(xs, gs, strict=True)):
            acc[i] = acc[i] + g * g
            out.append(x - lr * g / np.sqrt(acc[i]))
        return out

    return step


CASES = {
    "gd": (lambda: cr.train.GradientDescentOptimizer(0.05), _gd(0.05)),
    "momentum": (lambda: cr.train.MomentumOptimizer(0.05, 0.9), _momentum(0.05, 0.9, False)),
    "nesterov": (lambda: cr.train.MomentumOptimizer(0.05, 0.9, use_nesterov=True), _momentum(0.05, 0.9, True)),
    "adam": (lambda: cr.train.AdamOptimizer(0.1), _adam(0.1, 0.9, 0.999, 1e-8)),
    "adam_args": (
        lambda: cr.train.AdamOptimizer(0.02, beta1=0.5, beta2=0.8, epsilon=0.1),
        _adam(0.02, 0.5, 0.8, 0.1),
    ),
    "rmsprop": (lambda: cr.train.RMSPropOptimizer(0.01), _rmsprop(0.01, 0.9, 0.0, 1e-10, False)),
    "rmsprop_momentum": (
        lambda: cr.train.RMSPropOptimizer(0.01, decay=0.8, momentum=0.5, epsilon=1e-3),
        _rmsprop(0.01, 0.8, 0.5, 1e-3, False),
    ),
    "rmsprop_centered": (
        lambda: cr.train.RMSPropOptimizer(0.01, momentum=0.3, centered=True),
        _rmsprop(0.01, 0.9, 0.3, 1e-10, True),
    ),
    "adagrad": (lambda: cr.train.AdagradOptimizer(0.1), _adagrad(0.1, 0.1)),
    "adagrad_init": (
        lambda: cr.train.AdagradOptimizer(0.3, initial_accumulator_value=2.0),
        _adagrad(0.3, 2.0),
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_first_steps_match_numpy(graph, case):
    make_opt, np_step = CASES[case]
    a = cr.Variable(A0, name="a")
    b = cr.Variable(B0, name="b")
    train = make_opt().minimize(_loss(a, b))
    xs, state = [A0.copy(), B0.copy()], {}
    with cr.Session() as sess:
        sess.run(cr.global_variables_initializer())
        for _ in range(3):
            xs = np_step(xs, _np_grads(*xs), state)
            sess.run(train)
            got = sess.run([a, b])
            np.testing.assert_allclose(got[0], xs[0], rtol=1e-12, atol=1e-14)
            np.testing.assert_allclose(got[1], xs[1], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("case", ["gd", "momentum", "adam", "rmsprop_centered", "adagrad"])
def test_float32_variables(graph, case):
    make_opt, np_step = CASES[case]
    a = cr.Variable(A0.astype(np.float32), name="a")
    b = cr.Variable(B0.astype(np.float32), name="b")
    train = make_opt().minimize(_loss(a, b))
    xs, state = [A0.copy(), B0.copy()], {}
    with cr.Session() as sess:
        sess.run(cr.global_variables_initializer())
        for _ in range(3):
            xs = np_step(xs, _np_grads(*xs), state)
            sess.run(train)
        got = sess.run([a, b])
    assert got[0].dtype == np.float32
    np.testing.assert_allclose(got[0], xs[0], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(got[1], xs[1], rtol=1e-4, atol=1e-5)


def test_updates_use_pre_update_values(graph):
    # loss = a*b: a step must use b's old value for a and a's old value for b.
    a = cr.Variable(2.0, dtype=cr.float64, name="a")
    b = cr.Variable(3.0, dtype=cr.float64, name="b")
    loss = a * b
    train = cr.train.GradientDescentOptimizer(1.0).minimize(loss)
    with cr.Session() as sess:
        sess.run(cr.global_variables_initializer())
        _, loss_before = sess.run([train, loss])
        assert loss_before == 6.0  # the loss fetched with the step is the pre-step loss
        assert sess.run([a, b]) == [-1.0, 1.0]  # not b = 3 - (-1) = 4


def test_compute_then_apply_gradients(graph):
    a = cr.Variable(A0, name="a")
    b = cr.Variable(B0, name="b")
    opt = cr.train.GradientDescentOptimizer(0.1)
    gv = opt.compute_gradients(_loss(a, b))
    assert [v for _, v in gv] == [a, b]
    # Gradient clipping between the two halves, as users do.
    clipped = [(cr.clip_by_value(g, -1.0, 1.0), v) for g, v in gv]
    train = opt.apply_gradients(clipped)
    assert isinstance(train, cr.Operation)
    with cr.Session() as sess:
        sess.run(cr.global_variables_initializer())
        sess.run(train)
        got = sess.run([a, b])
    ga, gb = _np_grads(A0, B0)
    np.testing.assert_allclose(got[0], A0 - 0.1 * np.clip(ga, -1, 1))
    np.testing.assert_allclose(got[1], B0 - 0.1 * np.clip(gb, -1, 1))


def test_var_list_and_none_gradients_are_skipped(graph):
    a = cr.Variable(1.0, dtype=cr.float64, name="a")
    b = cr.Variable(5.0, dtype=cr.float64, name="b")
    frozen = cr.Variable(7.0, dtype=cr.float64, name="frozen", trainable=False)
    loss = cr.square(a) + frozen
    opt = cr.train.MomentumOptimizer(0.1, 0.9)
    gv = opt.compute_gradients(loss)
    assert [v for _, v in gv] == [a, b] and gv[1][0] is None
    train = opt.apply_gradients(gv)
    assert opt.get_slot(b, "momentum") is None  # no slot for a variable without a gradient
    with cr.Session() as sess:
        sess.run(cr.global_variables_initializer())
        sess.run(train)
        assert sess.run([a, b, frozen]) == [pytest.approx(0.8), 5.0, 7.0]


def test_cos_converges_to_pi(graph):
    x = cr.Variable(1.0, name="x")
    train = cr.train.GradientDescentOptimizer(0.1).minimize(cr.cos(x))
    with cr.Session() as sess:
        sess.run(cr.global_variables_initializer())
        for _ in range(200):
            sess.run(train)
        assert abs(sess.run(x) - np.pi) < 1e-5


def test_learning_rate_placeholder_and_tensor(graph):
    a = cr.Variable(A0, name="a")
    b = cr.Variable(B0, name="b")
    lr = cr.placeholder(cr.float32, shape=[], name="lr")  # float32 fed for float64 variables: cast
    train = cr.train.GradientDescentOptimizer(lr).minimize(_loss(a, b))
    xs = [A0.copy(), B0.copy()]
    with cr.Session() as sess:
        sess.run(cr.global_variables_initializer())
        for rate in (0.1, 0.01, 0.5):
            sess.run(train, feed_dict={lr: rate})
            xs = _gd(float(np.float32(rate)))(xs, _np_grads(*xs), {})
        np.testing.assert_allclose(sess.run(a), xs[0], rtol=1e-12)


def test_adam_learning_rate_tensor_and_beta_powers(graph):
    a = cr.Variable(A0, name="a")
    b = cr.Variable(B0, name="b")
    rate = cr.Variable(0.1, dtype=cr.float64, name="rate", trainable=False)
    opt = cr.train.AdamOptimizer(learning_rate=rate * 1.0)
    train = opt.minimize(_loss(a, b))
    xs, state = [A0.copy(), B0.copy()], {}
    with cr.Session() as sess:
        sess.run(cr.global_variables_initializer())
        for _ in range(3):
            sess.run(train)
            xs = _adam(0.1, 0.9, 0.999, 1e-8)(xs, _np_grads(*xs), state)
        np.testing.assert_allclose(sess.run(b), xs[1], rtol=1e-12)
        names = {v.op.name: v for v in opt.variables()}
        assert sess.run(names["beta1_power"]) == pytest.approx(0.9**4)
        assert sess.run(names["beta2_power"]) == pytest.approx(0.999**4)


@pytest.mark.parametrize(
    "make_opt, slots, names",
    [
        (lambda: cr.train.AdamOptimizer(), ["m", "v"], ["a/Adam", "a/Adam_1"]),
        (lambda: cr.train.MomentumOptimizer(0.1, 0.9), ["momentum"], ["a/Momentum"]),
        (lambda: cr.train.RMSPropOptimizer(0.1), ["momentum", "rms"], ["a/RMSProp", "a/RMSProp_1"]),
        (
            lambda: cr.train.RMSPropOptimizer(0.1, centered=True),
            ["mg", "momentum", "rms"],
            ["a/RMSProp", "a/RMSProp_1", "a/RMSProp_2"],
        ),
        (lambda: cr.train.AdagradOptimizer(0.1), ["accumulator"], ["a/Adagrad"]),
        (lambda: cr.train.GradientDescentOptimizer(0.1), [], []),
    ],
)
def test_slots(graph, make_opt, slots, names):
    with cr.name_scope("model"):
        a = cr.Variable(np.ones((2, 3), np.float32), name="a")
    assert a.op.name == "model/a"
    opt = make_opt()
    with cr.name_scope("training"), cr.control_dependencies([cr.no_op()]):
        opt.minimize(cr.reduce_sum(cr.square(a)))
    assert opt.get_slot_names() == slots
    made = [opt.get_slot(a, s) for s in slots]
    assert sorted(v.op.name for v in made) == ["model/" + n for n in names]
    for v in made:
        assert v.shape.as_list() == [2, 3] and v.dtype == cr.float32
        assert v in cr.global_variables() and v not in cr.trainable_variables()
        assert not v.initializer.control_inputs  # slots ignore the caller's control dependencies
    assert opt.get_slot(a, "nope") is None
    with cr.Session() as sess:
        sess.run(cr.global_variables_initializer())  # initializes the slots too
        for s, v in zip(slots, made, strict=True):
            expected = {"rms": 1.0, "accumulator": 0.1}.get(s, 0.0)
            np.testing.assert_array_equal(sess.run(v), np.full((2, 3), expected, np.float32))


def test_slots_are_reused_across_minimize_calls(graph):
    a = cr.Variable(1.0, name="a")
    opt = cr.train.AdamOptimizer()
    opt.minimize(cr.square(a))
    count = len(cr.global_variables())
    opt.minimize(cr.square(a - 1.0))
    assert len(cr.global_variables()) == count


def test_global_step(graph):
    assert cr.train.get_global_step() is None
    step = cr.train.get_or_create_global_step()
    assert step.op.name == "global_step" and step.dtype == cr.int64 and not step.trainable
    assert cr.train.get_or_create_global_step() is step
    assert cr.train.get_global_step() is step
    with pytest.raises(ValueError, match="already exists"):
        cr.train.create_global_step()
    a = cr.Variable(1.0, name="a")
    train = cr.train.AdamOptimizer(0.1).minimize(cr.square(a), global_step=step)
    with cr.Session() as sess:
        sess.run(cr.global_variables_initializer())
        for i in range(3):
            assert cr.train.global_step(sess, step) == i
            sess.run(train)
        assert sess.run(step) == 3


def test_no_gradients_error(graph):
    a = cr.Variable(1.0, name="a")
    b = cr.Variable(2.0, name="b")
    loss = cr.identity(cr.constant(3.0) * 2.0, name="the_loss")
    opt = cr.train.GradientDescentOptimizer(0.1)
    with pytest.raises(ValueError, match="No gradients provided for any variable") as info:
        opt.minimize(loss)
    message = str(info.value)
    assert "a:0" in message and "b:0" in message and "the_loss" in message
    with pytest.raises(ValueError, match="No gradients provided for any variable.*a:0"):
        opt.apply_gradients([(None, a), (None, b)])


def test_argument_errors(graph):
    a = cr.Variable(1.0, name="a")
    n = cr.Variable(1, name="n")
    opt = cr.train.GradientDescentOptimizer(0.1)
    with pytest.raises(ValueError, match="Invalid type int32 for n"):
        opt.minimize(cr.cast(n, cr.float32) + a, var_list=[n])
    with pytest.raises(TypeError, match="expected a cr.Variable"):
        opt.minimize(cr.square(a), var_list=[cr.square(a)])
    with pytest.raises(ValueError, match="more than once"):
        opt.minimize(cr.square(a), var_list=[a, a])
    with pytest.raises(ValueError, match="No variables provided"):
        opt.apply_gradients([])
    with pytest.raises(ValueError, match="must be floating"):
        opt.minimize(n)
    with pytest.raises(ValueError, match="positive"):
        cr.train.AdagradOptimizer(0.1, initial_accumulator_value=0.0)
    with cr.Graph().as_default():
        cr.Variable(1.0, trainable=False)
        with pytest.raises(ValueError, match="No variables to optimize"):
            cr.train.GradientDescentOptimizer(0.1).minimize(cr.constant(1.0))
