"""Graph-building state is per thread, as in TensorFlow 1.x.

TF 1.x keeps the default-graph stack, the default-session stack and each graph's name-scope,
control-dependency and device stacks in ``threading.local`` objects: a new thread starts with
empty stacks and its own global default graph (TF 1.15's ``_DefaultGraphStack`` is a
``threading.local``; recorded with tensorflow 2.21's ``compat.v1``: a new thread's
``get_default_graph()`` is neither the main thread's global graph nor the graph the main thread
entered with ``as_default()``, and ``get_default_session()`` is None there).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

import chainrule as cr
from chainrule.testing.threads import frequent_thread_switches, run_in_threads
from chainrule.transforms import is_tracing


@pytest.fixture(autouse=True)
def _frequent_thread_switches() -> Iterator[None]:
    with frequent_thread_switches():
        yield


def _in_thread(target: Callable[[], Any]) -> Any:
    return run_in_threads(1, lambda _: target())[0]


# -- the default graph ---------------------------------------------------------------------
def test_a_new_thread_does_not_see_the_graph_another_thread_entered() -> None:
    main_global = cr.get_default_graph()
    g = cr.Graph()
    with g.as_default():
        seen = _in_thread(lambda: (cr.get_default_graph(), cr.get_default_graph(), cr.constant(1.0).graph))
    assert seen[0] is not g
    # TF 1.x: each thread has its own global default graph, the same on every call in that thread.
    assert seen[0] is not main_global
    assert seen[1] is seen[0] and seen[2] is seen[0]
    assert cr.get_default_graph() is main_global


def test_reset_default_graph_in_a_thread_leaves_other_threads_alone() -> None:
    main_global = cr.get_default_graph()

    def reset() -> tuple[cr.Graph, cr.Graph]:
        before = cr.get_default_graph()
        cr.reset_default_graph()
        return before, cr.get_default_graph()

    before, after = _in_thread(reset)
    assert before is not after
    assert cr.get_default_graph() is main_global


def test_as_default_in_a_thread_builds_into_that_graph() -> None:
    g = cr.Graph()

    def build() -> cr.Tensor:
        with g.as_default():
            return cr.constant(2.0, name="c")

    c = _in_thread(build)
    assert c.graph is g and c.op.name == "c"


# -- a graph's scopes belong to the thread that entered them --------------------------------
def _while_main_holds(enter: Callable[[], Any], build: Callable[[], Any]) -> Any:
    """Run ``build`` in another thread while the main thread is inside the context ``enter()``."""
    with enter():
        return _in_thread(build)


def test_name_scope_entered_in_one_thread_does_not_name_ops_of_another() -> None:
    g = cr.Graph()

    def build() -> tuple[str, str]:
        with g.as_default():
            return cr.constant(1.0, name="c").op.name, cr.get_default_graph().get_name_scope()

    with g.as_default():
        name, scope = _while_main_holds(lambda: cr.name_scope("outer"), build)
        inner = cr.constant(1.0, name="c").op.name
    assert (name, scope) == ("c", "")
    assert inner == "c_1"  # unique names are shared by the graph, scopes are not


def test_control_dependencies_entered_in_one_thread_do_not_apply_in_another() -> None:
    g = cr.Graph()
    with g.as_default():
        a = cr.constant(1.0, name="a")

        def build() -> cr.Operation:
            with g.as_default():
                return cr.identity(cr.constant(2.0), name="b").op

        b = _while_main_holds(lambda: cr.control_dependencies([a]), build)
    assert list(b.control_inputs) == []


def test_device_and_gradient_override_scopes_are_per_thread() -> None:
    g = cr.Graph()

    def build() -> cr.Operation:
        with g.as_default():
            return cr.cos(cr.constant(2.0)).op

    with g.as_default(), g.gradient_override_map({"Cos": "Sin"}):
        op = _while_main_holds(lambda: cr.device("/cpu:1"), build)
        mine = cr.cos(cr.constant(2.0)).op
    assert op.device == "" and not op.gradient_overridden
    assert mine.gradient_overridden


def test_function_graph_scopes_start_empty_in_each_thread() -> None:
    """Entering a graph in a thread starts from the root scope, whatever the graph's creator had."""
    g = cr.Graph()
    with g.as_default(), cr.name_scope("creator"):
        made_here = cr.constant(0.0, name="x").op.name

        def build() -> str:
            with g.as_default():
                return cr.constant(0.0, name="x").op.name

        other = _in_thread(build)
    assert made_here == "creator/x" and other == "x"


# -- many threads at once --------------------------------------------------------------------
def test_concurrent_builds_each_in_its_own_graph_with_its_own_scopes() -> None:
    threads, builds = 8, 200

    def work(i: int) -> list[str]:
        problems = []
        for j in range(builds):
            g = cr.Graph()
            with g.as_default():
                with cr.name_scope(f"t{i}_{j}"):
                    a = cr.constant(float(j), name="a")
                    with cr.control_dependencies([a]):
                        b = cr.add(a, 1.0, name="b")
                    c = cr.multiply(b, 2.0, name="c")
            ops = g.get_operations()
            if cr.get_default_graph() is g:
                problems.append(f"{i},{j}: still the default graph")
            if any(op.graph is not g for op in ops) or {a.graph, b.graph, c.graph} != {g}:
                problems.append(f"{i},{j}: an op in another graph")
            names = {op.name for op in ops}
            if not {f"t{i}_{j}/a", f"t{i}_{j}/b", f"t{i}_{j}/c"} <= names:
                problems.append(f"{i},{j}: names {sorted(names)}")
            if any(not n.startswith(f"t{i}_{j}/") for n in names):
                problems.append(f"{i},{j}: names {sorted(names)}")
            if list(b.op.control_inputs) != [a.op] or c.op.control_inputs:
                problems.append(f"{i},{j}: control inputs {b.op.control_inputs}, {c.op.control_inputs}")
        return problems

    problems = [p for ps in run_in_threads(threads, work) for p in ps]
    assert problems == []


def test_concurrent_op_creation_in_one_graph_gives_unique_names_and_ids() -> None:
    threads, per_thread = 8, 200
    g = cr.Graph()

    def work(i: int) -> list[cr.Operation]:
        made = []
        with g.as_default():
            for _ in range(per_thread):
                op = cr.constant(float(i), name="c").op
                g.add_to_collection("made", op)
                made.append(op)
        return made

    made = [op for ops in run_in_threads(threads, work) for op in ops]
    ops = g.get_operations()
    assert len(ops) == len(made) == threads * per_thread
    assert len({op.name for op in ops}) == len(ops)
    assert [op.id for op in ops] == list(range(len(ops)))
    assert all(g.get_operation_by_name(op.name) is op for op in made)
    assert len(g.get_collection("made")) == len(made)


# -- the default session --------------------------------------------------------------------
def test_default_session_is_per_thread() -> None:
    g = cr.Graph()
    with g.as_default():
        c = cr.constant(3.0)
    sess = cr.Session(graph=g)
    with sess.as_default():
        other = _in_thread(cr.get_default_session)
        assert cr.get_default_session() is sess

        def eval_with_own_session() -> Any:
            mine = cr.Session(graph=g)
            with mine.as_default():
                return cr.get_default_session() is mine, c.eval()

        own = _in_thread(eval_with_own_session)
    assert other is None
    assert own == (True, 3.0)


def test_session_as_default_does_not_close_the_session() -> None:
    g = cr.Graph()
    with g.as_default():
        c = cr.constant(3.0)
    sess = cr.Session(graph=g)
    with sess.as_default():
        assert c.eval() == 3.0
    assert sess.run(c) == 3.0  # still open, as in TensorFlow
    sess.close()


# -- tracing ---------------------------------------------------------------------------------
def test_concurrent_tracing_keeps_each_trace_to_its_thread() -> None:
    threads, calls = 8, 25

    def work(i: int) -> list[str]:
        problems = []
        for j in range(calls):
            scale = float(i * calls + j)  # a static argument: a new trace per call

            @cr.function
            def f(x: Any, s: float = scale) -> Any:
                with cr.name_scope("body"):
                    return cr.reduce_sum(cr.sin(x) * s)

            x = np.linspace(0.0, 1.0, 3 + i)
            got = f(x)
            if not np.isclose(got, np.sin(x).sum() * scale, rtol=1e-12, atol=0):
                problems.append(f"{i},{j}: f(x) = {got}")
            concrete = f.get_concrete_function(x)
            names = [op.name for op in concrete.graph.get_operations()]
            if any(n != "arg0" and not n.startswith("body") for n in names):
                problems.append(f"{i},{j}: foreign ops {names}")
            g = cr.grad(lambda v: cr.reduce_sum(cr.sin(v) * scale))(x)
            if not np.allclose(g, np.cos(x) * scale, rtol=1e-12, atol=0):
                problems.append(f"{i},{j}: grad = {g}")
        return problems

    problems = [p for ps in run_in_threads(threads, work) for p in ps]
    assert problems == []
    assert not is_tracing()


def test_one_function_called_from_many_threads_traces_each_signature_once() -> None:
    @cr.function
    def f(x: Any) -> Any:
        return cr.reduce_sum(x * x)

    def work(i: int) -> list[float]:
        return [float(f(np.full(4, float(i)))) for _ in range(20)]

    results = run_in_threads(8, work)
    assert results == [[4.0 * i * i] * 20 for i in range(8)]
    assert f.trace_count == 1


def test_building_in_a_thread_while_another_traces_is_not_captured() -> None:
    started, release = threading.Event(), threading.Event()
    g = cr.Graph()

    @cr.function
    def slow(x: Any) -> Any:
        y = cr.sin(x)
        started.set()
        release.wait(10)
        return y

    def trace() -> Any:
        return slow(np.ones(2))

    box: list[Any] = []
    tracer = threading.Thread(target=lambda: box.append(trace()))
    tracer.start()
    assert started.wait(10)
    try:
        assert not is_tracing()
        with g.as_default():
            c = cr.constant(1.0, name="outside")
        plain = cr.constant(1.0)
    finally:
        release.set()
        tracer.join()
    assert c.graph is g and plain.graph is cr.get_default_graph()
    traced = slow.get_concrete_function(np.ones(2)).graph
    assert all(op.name != "outside" for op in traced.get_operations())
    np.testing.assert_allclose(box[0], np.sin(np.ones(2)))
