"""Every rewrite rule fires on an example of its own, and the rule-table API works as documented.

``EXAMPLES`` has one small graph per rule of every built-in table (``compiler.RULES``): with
only that rule's table enabled, ``optimize(...).stats`` must count the rule, and the graph
run with that table (and with every pass) must give what it gives run as written. A rule
added to a table without an example fails ``test_every_rule_has_an_example``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

import chainrule as cr
from chainrule import compiler
from chainrule.compiler import RULES, Pat, PatternMatcher, RewriteContext, Rule, RuleDatabase, Value, passes, rule
from chainrule.ops.broadcast_ops import sum_to_shape
from chainrule.ops.registry import apply

RNG = np.random.default_rng(0)

Feeds = dict[Any, np.ndarray]
Built = tuple[list[Any], Feeds]


@dataclass(frozen=True)
class Example:
    """``build()`` (run inside a fresh graph) returns the fetches and the feed dict."""

    build: Callable[[], Built]
    options: dict[str, Any] = field(default_factory=dict)


def _x(shape: list[int | None], dtype: Any = cr.float64, name: str = "x") -> tuple[Any, np.ndarray]:
    """A placeholder of ``shape`` and a value for it (3 for unknown dimensions)."""
    t = cr.placeholder(dtype, shape, name=name)
    return t, RNG.uniform(-2.0, 2.0, size=[3 if d is None else d for d in shape]).astype(dtype.as_numpy_dtype)


def _unary(f: Callable[[Any], Any], shape: list[int | None] | None = None) -> Callable[[], Built]:
    def build() -> Built:
        x, value = _x([3] if shape is None else shape)
        return [f(x)], {x: value}

    return build


def _cast_round_trip() -> Built:
    x, value = _x([3], cr.float32)
    y = cr.cast(cr.cast(x, cr.float64), cr.float32) * 2.0
    (dx,) = cr.gradients(cr.reduce_sum(y), [x])  # its gradient holds the same round trip
    return [y, dx], {x: value}


def _sum_to_shape_of_a_value() -> Built:
    x, xv = _x([3])
    m, mv = _x([2, 3], name="m")
    return [sum_to_shape(m, cr.shape(x))], {x: xv, m: mv}


def _broadcast_to_shape_of_a_value() -> Built:
    x, xv = _x([3])
    m, mv = _x([2, 3], name="m")
    return [cr.broadcast_to(x, cr.shape(m)) * m], {x: xv, m: mv}


def _transposes(outer: list[int]) -> Callable[[], Built]:
    def build() -> Built:
        m, value = _x([2, 3, 4], name="m")
        return [cr.transpose(cr.transpose(m, [1, 0, 2]), outer)], {m: value}

    return build


def _broadcast_row(f: Callable[[Any, Any], Any]) -> Callable[[], Built]:
    def build() -> Built:
        v, vv = _x([3], name="v")
        m, mv = _x([4, 3], name="m")
        return [f(cr.broadcast_to(v, [4, 3]), m)], {v: vv, m: mv}

    return build


def _tiling_slice_gradients() -> Built:
    x, value = _x([8, 3])
    loss = cr.reduce_sum(cr.sin(x[:2])) + cr.reduce_sum(x[2:5] * x[2:5]) + cr.reduce_sum(cr.exp(x[5:]))
    return list(cr.gradients(loss, [x])), {x: value}


f64 = cr.float64

EXAMPLES: dict[str, Example] = {
    # runtime
    "identity": Example(_unary(lambda x: cr.identity(cr.stop_gradient(x)) * 2.0)),
    "cast_same": Example(_cast_round_trip),
    "to_own_shape": Example(_unary(lambda x: cr.reshape(x, [3]) + cr.broadcast_to(x, [3]))),
    "sum_to_shape_of_value": Example(_sum_to_shape_of_a_value),
    "broadcast_to_shape_of_value": Example(_broadcast_to_shape_of_a_value),
    # fold
    "fold_constants": Example(_unary(lambda x: x + cr.constant([1.0, 2.0, 3.0], f64) * 3.0)),
    "fold_static_shape": Example(_unary(lambda x: x * cr.cast(cr.size(x), f64) + cr.cast(cr.shape(x), f64))),
    # algebraic
    "mul_one": Example(_unary(lambda x: 1.0 * x)),
    "add_zero": Example(_unary(lambda x: x + 0.0), options={"fast_math": True}),
    "sub_zero_div_one": Example(_unary(lambda x: (x - 0.0) + x / 1.0)),
    "zero_minus": Example(_unary(lambda x: 0.0 - x), options={"fast_math": True}),
    "mul_minus_one": Example(_unary(lambda x: x * -1.0)),
    "mul_zero": Example(_unary(lambda x: x * cr.zeros_like(x)), {"assume_finite": True}),
    "neg_neg": Example(_unary(lambda x: cr.negative(cr.negative(x)))),
    "neg_fill": Example(_unary(lambda x: -cr.ones_like(x) * x, shape=[None])),
    "neg_times_neg": Example(_unary(lambda x: -x * -cr.sin(x))),
    "log_exp": Example(_unary(lambda x: cr.log(cr.exp(x))), options={"fast_math": True}),
    "exp_log": Example(_unary(lambda x: cr.exp(cr.log(cr.square(x)))), options={"fast_math": True}),
    "reshape_reshape": Example(
        _unary(lambda x: cr.reshape(cr.reshape(x, [3, 1]), [1, 3])), options={"fast_math": True}
    ),
    "transpose_identity": Example(_unary(lambda x: cr.transpose(cr.reshape(x, [1, 3]), [0, 1]))),
    "transpose_transpose": Example(_transposes([0, 2, 1])),
    "sum_of_broadcast": Example(_broadcast_row(lambda b, m: sum_to_shape(b, [3])), options={"fast_math": True}),
    "reduce_sum_of_broadcast": Example(_broadcast_row(lambda b, m: cr.reduce_sum(b)), options={"fast_math": True}),
    "implicit_broadcast": Example(_broadcast_row(lambda b, m: b * m)),
    "add_n_zeros": Example(_unary(lambda x: cr.add_n([x, cr.zeros([3], dtype=f64), x])), options={"fast_math": True}),
    "slice_gradients_to_concat": Example(_tiling_slice_gradients),
    "select_same": Example(_unary(lambda x: cr.where(x > 0.0, x, x))),
}

BUILT_IN = [(table, r.name) for table in passes.RULES.names for r in passes.RULES[table]]


def test_every_rule_has_an_example():
    assert {name for _, name in BUILT_IN} == set(EXAMPLES)
    # ... and every rule passes.py defines is in one of its tables.
    defined = {v.name for v in vars(passes).values() if isinstance(v, Rule)}
    assert defined == set(EXAMPLES)
    assert RULES is passes.RULES and RULES.names == ("runtime", "fold", "algebraic")
    assert [RULES[n] for n in RULES.names] == [passes.RUNTIME, passes.FOLD, passes.ALGEBRAIC]


def _run(fetches: list[Any], feeds: Feeds, optimize: compiler.Options | bool) -> list[Any]:
    with cr.Session(graph=fetches[0].graph, optimize=optimize) as sess:
        return sess.run(fetches, feeds)


@pytest.mark.parametrize(("table", "name"), BUILT_IN, ids=[name for _, name in BUILT_IN])
def test_rule_fires_on_its_example_and_keeps_results(table: str, name: str):
    example = EXAMPLES[name]
    graph = cr.Graph()
    with graph.as_default():
        fetches, feeds = example.build()
    options = compiler.Options(passes=(table,), **example.options)
    program = compiler.optimize(fetches, feeds=list(feeds), options=options)
    assert program.stats.get(name, 0) >= 1, f"{name} did not fire:\n{program.dump()}\nfired: {program.stats}"
    want = _run(fetches, feeds, False)
    for optimize in (options, compiler.Options(**example.options)):
        for a, b in zip(want, _run(fetches, feeds, optimize), strict=True):
            assert a.dtype == b.dtype and a.shape == b.shape
            np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-12)


def test_a_cast_to_the_dtype_a_value_has_is_removed():
    # cr.cast returns x itself for the same dtype; a graph built op by op can hold such a cast.
    x = cr.placeholder(cr.float64, [3], name="x")
    y = apply("Cast", x, dtype=cr.float64)
    program = compiler.optimize(y, feeds=[x], passes=("runtime",))
    assert program.stats == {"cast_same": 1} and program.dump().endswith("return %0")


def test_lossy_cast_round_trips_are_kept():
    x = cr.placeholder(cr.float64, [3], name="x")
    i = cr.placeholder(cr.int64, [3], name="i")
    lossy = [cr.cast(cr.cast(x, cr.float32), cr.float64), cr.cast(cr.cast(i, cr.float64), cr.int64)]
    program = compiler.optimize(lossy, feeds=[x, i], passes=("runtime",))
    assert "cast_same" not in program.stats and program.dump().count("Cast(") == 4
    value = np.array([0.1, 1e-50, 2.0**60 + 1])
    with cr.Session(graph=x.graph) as sess:
        out = sess.run(lossy, {x: value, i: np.array([2**60 + 1, -3, 0])})
    np.testing.assert_array_equal(out[0], value.astype(np.float32).astype(np.float64))
    np.testing.assert_array_equal(out[1], [2**60, -3, 0])


# --- the API ------------------------------------------------------------------------------------
@rule(Pat("Square", Pat("Sqrt", Pat.var("y"))))
def _square_of_sqrt(y: Value) -> Value:
    return y


@rule(Pat("Neg", Pat.var("x")), name="neg_to_mul")
def _neg_to_mul(root: Value, x: Value, ctx: RewriteContext) -> Value:
    return ctx.make("Mul", [x, ctx.const(-1.0, x.dtype, like=root.node)], like=root.node)


def test_rules_are_values_with_names_and_bindings():
    assert isinstance(_square_of_sqrt, Rule) and _square_of_sqrt.name == "square_of_sqrt"
    assert _square_of_sqrt.params == ("y",) and _neg_to_mul.params == ("root", "x", "ctx")
    with pytest.raises(AttributeError):
        _square_of_sqrt.name = "other"  # type: ignore[misc]


def test_asking_for_a_name_the_pattern_does_not_bind_fails_when_the_rule_is_made():
    with pytest.raises(TypeError, match="asks for 'z'"):

        @rule(Pat("Neg", Pat.var("x")))
        def _wrong(x: Value, z: Value) -> Value:
            return x

    with pytest.raises(TypeError, match="keyword"):
        Rule(Pat("Neg", Pat.var("x")), lambda x, /: x)
    with pytest.raises(TypeError, match="is a Value"):

        @rule(Pat("Neg", Pat.var("x")))
        def _bad_type(x: int) -> Value:
            return x  # type: ignore[return-value]

    with pytest.raises(ValueError, match="reserved"):
        rule(Pat("Neg", Pat.var("root")))(lambda root: root)


def test_pattern_matchers_are_immutable_and_compose_in_order():
    a = PatternMatcher([_square_of_sqrt])
    b = PatternMatcher([_neg_to_mul])
    assert (a + b).names == ("square_of_sqrt", "neg_to_mul") and (b + a).names == ("neg_to_mul", "square_of_sqrt")
    assert a + b == PatternMatcher([_square_of_sqrt, _neg_to_mul]) and len(a + b) == 2
    assert (a + b)["neg_to_mul"] is _neg_to_mul and a.names == ("square_of_sqrt",)
    with pytest.raises(AttributeError):
        a.rules = ()  # type: ignore[misc]
    with pytest.raises(ValueError, match="two rules named"):
        a + a  # noqa: B018
    with pytest.raises(TypeError):
        PatternMatcher([lambda root: None])  # type: ignore[list-item]
    assert passes.RUNTIME + passes.FOLD + passes.ALGEBRAIC == RULES.query(["runtime", "fold", "algebraic"])


def test_the_first_rule_in_table_order_wins():
    x = cr.placeholder(cr.float64, [3], name="x")
    y = cr.negative(cr.square(cr.sqrt(x)))

    @rule(Pat("Neg", Pat.var("x")))
    def _neg_stays(root: Value) -> Value:
        return root  # "no change": the next rule gets its turn

    for table, expect in [
        (PatternMatcher([_neg_to_mul, _square_of_sqrt]), {"neg_to_mul": 1, "square_of_sqrt": 1}),
        (PatternMatcher([_neg_stays, _square_of_sqrt]), {"square_of_sqrt": 1}),
    ]:
        program = compiler.Program.from_graph([y], [], [x])
        assert compiler.rewrite_program(program, table, compiler.Options()) == expect


def test_a_pattern_over_op_types_chosen_by_a_test_matches_only_those_types():
    def odd_or_even(op_type: str) -> bool:
        return op_type in ("Sin", "Cos")

    @rule(Pat.where_type(odd_or_even, Pat("Neg", Pat.var("x"))))
    def _pull_out_neg(root: Value, x: Value, ctx: RewriteContext) -> Value | None:
        return ctx.make("Neg", [ctx.make(root.node.op_type, [x], like=root.node)], like=root.node)

    x = cr.placeholder(cr.float64, [3], name="x")
    y = cr.sin(-x) + cr.cos(-x) + cr.tan(-x) + cr.sin(-(x * 2))
    program = compiler.Program.from_graph([y], [], [x])
    fired = compiler.rewrite_program(program, PatternMatcher([_pull_out_neg]), compiler.Options())
    assert fired == {"pull_out_neg": 3}  # the two sines and the cosine; not the tangent
    kinds = [n.op_type for n in program.nodes]
    assert kinds.count("Tan") == 1 and program.nodes[kinds.index("Tan")].inputs[0].node.op_type == "Neg"


def test_a_rule_database_selects_tables_by_tag_in_registration_order():
    db = RuleDatabase([("first", PatternMatcher([_neg_to_mul]), ("math",))])
    db.register("second", PatternMatcher([_square_of_sqrt]), tags=("math", "roots"))
    assert db.names == ("first", "second") and "first" in db and list(db) == ["first", "second"]
    assert db.query(["math"]).names == ("neg_to_mul", "square_of_sqrt")
    assert db.query(["roots"]).names == db.query(["second"]).names == ("square_of_sqrt",)
    assert len(db.query(["nothing"])) == 0 and db.tags("second") == {"math", "roots", "second"}
    with pytest.raises(ValueError, match="already registered"):
        db.register("first", PatternMatcher())
    with pytest.raises(ValueError, match="two rules named"):
        db.register("third", PatternMatcher([_neg_to_mul]))
    assert db.unregister("first").names == ("neg_to_mul",) and db.names == ("second",)
    with pytest.raises(KeyError):
        db["first"]  # noqa: B018
