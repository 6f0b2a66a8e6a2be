"""Learning-rate schedules, Adadelta and FTRL against numbers recorded from TensorFlow; the optimizer's TF arguments."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

STEPS = [0, 3, 4, 10, 15, 25]

# Recorded once from TensorFlow 2.21 (tf.compat.v1.train.*, graph mode, float32 rates) at STEPS, by
# the calls in ``_schedules`` with a placeholder int64 global step.
TF_DECAY = {
    "exp": [
        0.10000000149011612,
        0.07429971545934677,
        0.06729500740766525,
        0.037149857729673386,
        0.022643089294433594,
        0.008411875925958157,
    ],
    "exp_stair": [
        0.10000000149011612,
        0.10000000149011612,
        0.10000000149011612,
        0.05000000074505806,
        0.02500000037252903,
        0.012500000186264515,
    ],
    "natural": [
        0.10000000149011612,
        0.08071177452802658,
        0.07514773309230804,
        0.04895416647195816,
        0.03425188362598419,
        0.016767723485827446,
    ],
    "natural_stair": [
        0.10000000149011612,
        0.10000000149011612,
        0.10000000149011612,
        0.060653068125247955,
        0.03678794577717781,
        0.022313017398118973,
    ],
    "inverse": [
        0.10000000149011612,
        0.08235294371843338,
        0.07777778059244156,
        0.05833333358168602,
        0.04827585816383362,
        0.03589743375778198,
    ],
    "inverse_stair": [
        0.10000000149011612,
        0.10000000149011612,
        0.10000000149011612,
        0.06666667014360428,
        0.05000000074505806,
        0.03999999910593033,
    ],
    "poly": [
        0.10000000149011612,
        0.054099999368190765,
        0.04240000247955322,
        0.009999999776482582,
        0.009999999776482582,
        0.009999999776482582,
    ],
    "poly_cycle": [
        0.10000000149011612,
        0.08529940247535706,
        0.07971370220184326,
        0.009999999776482582,
        0.054999999701976776,
        0.04674234986305237,
    ],
    "cosine": [
        0.10000000149011612,
        0.08145033568143845,
        0.06890576332807541,
        0.010000000707805157,
        0.010000000707805157,
        0.010000000707805157,
    ],
    "piecewise": [1.0, 1.0, 0.5, 0.5, 0.10000000149011612, 0.10000000149011612],
}

# Recorded once from TensorFlow 2.21 (tf.compat.v1.train, graph mode, float64): x after each of 4
# minimize steps of the loss in ``_run``, from x = [1, -2, 0.5, 0.05], with the optimizers in ``OPTIMIZERS``.
TF_STEPS = {
    "ADADELTA": [
        [0.9968377254658245, -1.9968377242648756, 0.49683772397541837, 0.05316225975796741],
        [0.9935977577055726, -1.993602134754925, 0.49359507595543056, 0.05640152354098793],
        [0.9903076129006805, -1.9903224769347896, 0.4902985252829945, 0.05968997778819309],
        [0.986980871674824, -1.987013283191305, 0.486961077999576, 0.06301385654432247],
    ],
    "FTRL": [
        [0.3736520830684924, -1.3057393547309366, -0.04239145388599575, 0.5086124608225593],
        [0.12406802402806309, -1.2752836616577004, -0.36168851562391036, 0.7093033547025759],
        [-0.06267984601732128, -1.2590104863675808, -0.6078341756234744, 0.7763665236695196],
        [-0.21125204533243988, -1.250126950813958, -0.806395038832317, 0.7928806891974228],
    ],
    "FTRL_L1L2": [
        [0.49193601209637455, -1.478445753098437, 0.1448461791028525, 0.285134356009357],
        [0.32496386207877914, -1.4092213733613568, 0.0, 0.5070547427843162],
        [0.19758377664396462, -1.3625557916627744, -0.12722972724695908, 0.6362593308084914],
        [0.09315010432365513, -1.3297783960160139, -0.23427658170604554, 0.7109394605413613],
    ],
    "FTRL_SHRINK": [
        [0.18775879372476037, -1.041401925024275, -0.08447832730321202, 0.43869648334091405],
        [-0.02365353120509517, -0.9912847817711986, -0.39370863112447285, 0.5167110236105741],
        [-0.1905179212250422, -0.9650378463114279, -0.6084205761849595, 0.5228011384184676],
        [-0.3002957476987159, -0.9507608313622595, -0.7659828276991172, 0.5235041952042802],
    ],
}


def _schedules(step):
    return {
        "exp": cr.train.exponential_decay(0.1, step, 7, 0.5),
        "exp_stair": cr.train.exponential_decay(0.1, step, 7, 0.5, staircase=True),
        "natural": cr.train.natural_exp_decay(0.1, step, 7, 0.5),
        "natural_stair": cr.train.natural_exp_decay(0.1, step, 7, 0.5, staircase=True),
        "inverse": cr.train.inverse_time_decay(0.1, step, 7, 0.5),
        "inverse_stair": cr.train.inverse_time_decay(0.1, step, 7, 0.5, staircase=True),
        "poly": cr.train.polynomial_decay(0.1, step, 10, 0.01, power=2.0),
        "poly_cycle": cr.train.polynomial_decay(0.1, step, 10, 0.01, power=0.5, cycle=True),
        "cosine": cr.train.cosine_decay(0.1, step, 10, alpha=0.1),
        "piecewise": cr.train.piecewise_constant(step, [3, 10], [1.0, 0.5, 0.1]),
    }


def test_learning_rate_schedules_match_tensorflow():
    step = cr.placeholder(cr.int64, [])
    schedules = _schedules(step)
    assert all(t.dtype == cr.float32 and t.shape.rank == 0 for t in schedules.values())
    with cr.Session() as sess:
        got = {k: [] for k in schedules}
        for s in STEPS:
            for k, v in sess.run(schedules, {step: s}).items():
                got[k].append(v)
    for k, want in TF_DECAY.items():
        np.testing.assert_allclose(got[k], want, rtol=3e-7, err_msg=k)


def test_schedules_follow_the_global_step_variable_and_take_float64_rates():
    step = cr.train.get_or_create_global_step()
    lr = cr.train.exponential_decay(np.float64(0.2), step, 2, 0.5, staircase=True)
    assert lr.dtype == cr.float64
    inc = step.assign_add(1)
    with cr.Session() as sess:
        sess.run(cr.global_variables_initializer())
        seen = []
        for _ in range(5):
            seen.append(sess.run(lr))
            sess.run(inc)
    np.testing.assert_array_equal(seen, [0.2, 0.2, 0.1, 0.1, 0.05])


def test_schedule_errors():
    with pytest.raises(ValueError, match="global_step is required for exponential_decay"):
        cr.train.exponential_decay(0.1, None, 10, 0.9)
    with pytest.raises(ValueError, match="length of values"):
        cr.train.piecewise_constant(cr.constant(1), [1, 2], [0.1, 0.2])
    with pytest.raises(ValueError, match="boundaries.*x's dtype"):
        cr.train.piecewise_constant(cr.constant(1), [1.5], [0.1, 0.2])


# TensorFlow turns Python hyperparameters into float32 tensors and casts them to the variable's
# dtype, so a float64 run uses float32(0.9); chainrule keeps 0.9 exact. To compare the update
# formulas bit for bit, the hyperparameters here are given as the float32 values TensorFlow used.
F32 = np.float32

OPTIMIZERS = {
    "ADADELTA": lambda: cr.train.AdadeltaOptimizer(1.0, rho=F32(0.9), epsilon=F32(1e-6)),
    "FTRL": lambda: cr.train.FtrlOptimizer(0.5),
    "FTRL_L1L2": lambda: cr.train.FtrlOptimizer(
        0.5,
        learning_rate_power=F32(-0.7),
        initial_accumulator_value=0.2,  # a slot initializer in the variable's dtype: exact in TensorFlow too
        l1_regularization_strength=F32(0.3),
        l2_regularization_strength=F32(0.2),
    ),
    "FTRL_SHRINK": lambda: cr.train.FtrlOptimizer(
        0.5, l1_regularization_strength=F32(0.1), l2_shrinkage_regularization_strength=F32(0.4)
    ),
}


def _run(make, steps=4, **minimize_kwargs):
    graph = cr.Graph()
    with graph.as_default():
        x = cr.Variable(np.array([1.0, -2.0, 0.5, 0.05]))
        coef = cr.constant([1.0, 2.0, 3.0, -1.0], dtype=cr.float64)
        loss = cr.reduce_sum(coef * x + cr.square(x) * 0.5 + cr.pow(x, 4) * 0.1)
        opt = make()
        train = opt.minimize(loss, **minimize_kwargs)
        with cr.Session(graph=graph) as sess:
            sess.run(cr.global_variables_initializer())
            values = []
            for _ in range(steps):
                sess.run(train)
                values.append(sess.run(x))
        return np.array(values), opt, x


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_steps_match_tensorflow(name):
    values, _, _ = _run(OPTIMIZERS[name])
    np.testing.assert_allclose(values, TF_STEPS[name], rtol=1e-12, atol=1e-15)


def test_slots_are_named_as_tensorflow():
    _, ada, x = _run(OPTIMIZERS["ADADELTA"], steps=1)
    assert ada.get_slot_names() == ["accum", "accum_update"]
    assert [ada.get_slot(x, n).op.name for n in ("accum", "accum_update")] == [
        "Variable/Adadelta",
        "Variable/Adadelta_1",
    ]
    _, ftrl, x = _run(OPTIMIZERS["FTRL"], steps=1)
    assert ftrl.get_slot_names() == ["accum", "linear"]
    assert [ftrl.get_slot(x, n).op.name for n in ("accum", "linear")] == ["Variable/Ftrl", "Variable/Ftrl_1"]


def test_ftrl_rejects_bad_hyperparameters():
    with pytest.raises(ValueError, match="learning_rate_power"):
        cr.train.FtrlOptimizer(0.1, learning_rate_power=0.5)
    with pytest.raises(ValueError, match="l1_regularization_strength"):
        cr.train.FtrlOptimizer(0.1, l1_regularization_strength=-1.0)


@pytest.mark.parametrize(
    "gate", [cr.train.Optimizer.GATE_NONE, cr.train.Optimizer.GATE_OP, cr.train.Optimizer.GATE_GRAPH]
)
def test_minimize_accepts_tensorflows_gradient_arguments(gate):
    reference, _, _ = _run(OPTIMIZERS["FTRL"], steps=2)
    values, _, _ = _run(
        OPTIMIZERS["FTRL"], steps=2, gate_gradients=gate, aggregation_method=0, colocate_gradients_with_ops=True
    )
    np.testing.assert_array_equal(values, reference)
    with pytest.raises(ValueError, match="gate_gradients"):
        _run(OPTIMIZERS["FTRL"], steps=1, gate_gradients=3)


def test_minimize_sums_gradient_contributions_as_its_aggregation_method_says():
    def widest_add_n(method):
        graph = cr.Graph()
        with graph.as_default():
            w = cr.Variable(1.5, dtype=cr.float64, name="w")
            loss = cr.sin(w) + cr.cos(w) + w * w  # four contributions to w's gradient (w * w gives two)
            step = cr.train.GradientDescentOptimizer(0.1).minimize(loss, aggregation_method=method)
            with cr.Session() as sess:
                sess.run(cr.global_variables_initializer())
                sess.run(step)
                value = sess.run(w)
        widths = [len(op.inputs) for op in graph.get_operations() if op.type == "AddN"]
        return max(widths), value

    one_sum, after_one = widest_add_n(cr.AggregationMethod.ADD_N)
    tree, after_tree = widest_add_n(cr.AggregationMethod.EXPERIMENTAL_TREE)
    assert one_sum == 4 and tree == 2
    np.testing.assert_allclose(after_tree, after_one, rtol=1e-15)
    np.testing.assert_allclose(after_one, 1.5 - 0.1 * (np.cos(1.5) - np.sin(1.5) + 3.0))
