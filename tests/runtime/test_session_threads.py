"""One Session used from several threads: runs, variable creation and locked updates."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

import chainrule as cr
from chainrule.testing.threads import frequent_thread_switches, run_in_threads


@pytest.fixture(autouse=True)
def _frequent_thread_switches() -> Iterator[None]:
    with frequent_thread_switches():
        yield


def test_run_while_another_thread_creates_and_initializes_variables() -> None:
    g = cr.Graph()
    with g.as_default():
        x = cr.Variable(np.arange(3.0), name="x")
        y = x * 2.0
    sess = cr.Session(graph=g)
    sess.run(x.initializer)
    created = 300

    def work(i: int) -> int:
        if i == 0:  # the creator: new variables, each initialized at once
            with g.as_default():
                for k in range(created):
                    v = cr.Variable(np.full(2, float(k)), name="v")
                    sess.run(v.initializer)
            return created
        runs = 0
        for _ in range(created):
            np.testing.assert_array_equal(sess.run(y), [0.0, 2.0, 4.0])
            np.testing.assert_array_equal(sess.run([x, y])[0], [0.0, 1.0, 2.0])
            runs += 1
        return runs

    assert run_in_threads(4, work) == [created] * 4
    values = sess.run(cr.global_variables(graph=g))
    assert len(values) == created + 1
    assert all(np.array_equal(v, np.full(2, float(k))) for k, v in enumerate(values[1:]))


@pytest.mark.parametrize("method", ["function", "method"])
def test_locked_assign_add_from_many_threads_loses_no_update(method: str) -> None:
    threads, per_thread = 8, 5000
    g = cr.Graph()
    with g.as_default():
        v = cr.Variable(0, dtype=cr.int64, name="counter")
        if method == "function":
            inc = cr.assign_add(v, 1, use_locking=True)
        else:
            inc = v.assign_add(1, use_locking=True)
    assert inc.op.get_attr("use_locking") is True
    sess = cr.Session(graph=g)
    sess.run(v.initializer)

    def work(_: int) -> None:
        for _ in range(per_thread):
            sess.run(inc)

    run_in_threads(threads, work)
    assert sess.run(v) == threads * per_thread


def test_locked_assign_sub_and_add_together_cancel_exactly() -> None:
    threads, per_thread = 8, 1000
    g = cr.Graph()
    with g.as_default():
        v = cr.Variable(np.zeros(3), name="v")
        add = cr.assign_add(v, np.ones(3), use_locking=True)
        sub = v.assign_sub(np.ones(3), use_locking=True)
    sess = cr.Session(graph=g)
    sess.run(v.initializer)

    def work(i: int) -> None:
        op = add if i % 2 else sub
        for _ in range(per_thread):
            sess.run(op.op)

    run_in_threads(threads, work)
    np.testing.assert_array_equal(sess.run(v), np.zeros(3))


def test_use_locking_is_recorded_on_assign_ops() -> None:
    with cr.Graph().as_default():
        v = cr.Variable(1.0)
        assert v.assign(2.0).op.get_attr("use_locking") is False
        assert v.assign(2.0, use_locking=True).op.get_attr("use_locking") is True
        assert cr.assign(v, 2.0, use_locking=True).op.get_attr("use_locking") is True
        assert cr.assign_sub(v, 2.0).op.get_attr("use_locking") is False
        assert v.assign_sub(2.0, use_locking=True).op.get_attr("use_locking") is True


OPTIMIZERS = {
    "GradientDescent": lambda: cr.train.GradientDescentOptimizer(1.0, use_locking=True),
    "Momentum": lambda: cr.train.MomentumOptimizer(1.0, 0.0, use_locking=True),
    "Adagrad": lambda: cr.train.AdagradOptimizer(1.0, use_locking=True),
    "Adam": lambda: cr.train.AdamOptimizer(0.1, use_locking=True),
    "RMSProp": lambda: cr.train.RMSPropOptimizer(0.1, use_locking=True),
    "Adadelta": lambda: cr.train.AdadeltaOptimizer(1.0, use_locking=True),
    "Ftrl": lambda: cr.train.FtrlOptimizer(0.1, use_locking=True),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_use_locking_reaches_every_update_op(name: str) -> None:
    with cr.Graph().as_default() as g:
        v = cr.Variable(np.ones(2), name="v")
        train = OPTIMIZERS[name]().minimize(cr.reduce_sum(v * v))
        del train
        updates = [op for op in g.get_operations() if op.type in ("Assign", "AssignAdd", "AssignSub")]
        # every update an optimizer builds is locked; initializers are not updates
        updates = [op for op in updates if not op.name.endswith("/Assign")]
        assert updates and all(op.get_attr("use_locking") is True for op in updates), [
            (op.name, op.get_attr("use_locking")) for op in updates
        ]


def test_locked_gradient_descent_from_many_threads_loses_no_step() -> None:
    """With a constant gradient of -1 and learning rate 1, every step adds exactly 1 to v."""
    threads, per_thread = 8, 500
    with cr.Graph().as_default() as g:
        v = cr.Variable(0.0, dtype=cr.float64, name="v")
        step = OPTIMIZERS["GradientDescent"]().minimize(-v)
    sess = cr.Session(graph=g)
    sess.run(v.initializer)

    def work(_: int) -> None:
        for _ in range(per_thread):
            sess.run(step)

    run_in_threads(threads, work)
    assert sess.run(v) == threads * per_thread


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_locked_optimizer_steps_from_many_threads_equal_the_same_steps_in_one_thread(name: str) -> None:
    """Each locked step (the variable, its slots, Adam's beta powers) is atomic: the threads' steps
    are some serial order of identical steps, so the result is bit for bit that of one thread."""
    threads, per_thread = 8, 60
    with cr.Graph().as_default() as g:
        v = cr.Variable(np.array([1.0, -2.0, 0.5]), name="v")
        step = OPTIMIZERS[name]().minimize(cr.reduce_sum(v * v * v * v) * 0.01)
        init = cr.global_variables_initializer()
        variables = cr.global_variables()

    serial = cr.Session(graph=g)
    serial.run(init)
    for _ in range(threads * per_thread):
        serial.run(step)

    sess = cr.Session(graph=g)
    sess.run(init)

    def work(_: int) -> None:
        for _ in range(per_thread):
            sess.run(step)

    run_in_threads(threads, work)
    for var, want, got in zip(variables, serial.run(variables), sess.run(variables)):
        np.testing.assert_array_equal(got, want, err_msg=var.name)


def test_locked_update_inside_a_cond_branch_locks_the_whole_run() -> None:
    threads, per_thread = 8, 300
    with cr.Graph().as_default() as g:
        v = cr.Variable(0.0, dtype=cr.float64, name="v")
        flag = cr.placeholder(cr.bool, [])
        step = cr.cond(flag, lambda: v.assign_add(v * 0.0 + 1.0, use_locking=True), lambda: cr.identity(v))
    sess = cr.Session(graph=g)
    sess.run(v.initializer)
    sess.run(step, {flag: True})
    assert any(plan.locked_variables == ("v",) for plan in sess.plans)

    def work(_: int) -> None:
        for _ in range(per_thread):
            sess.run(step, {flag: True})

    run_in_threads(threads, work)
    assert sess.run(v) == threads * per_thread + 1


def test_read_value_false_gives_the_update_op() -> None:
    with cr.Graph().as_default():
        v = cr.Variable(1.0)
        for update in (v.assign(3.0, read_value=False), v.assign_add(1.0, read_value=False)):
            assert isinstance(update, cr.Operation)
        sess = cr.Session()
        sess.run(v.initializer)
        assert sess.run(v.assign_sub(0.5, read_value=False)) is None
        assert sess.run(v) == 0.5
