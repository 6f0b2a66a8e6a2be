"""Control flow: ``cr.cond`` and ``cr.case`` (TensorFlow 1.x's), as one ``If`` op over traced branches.

Each branch function is traced once into a graph of its own (``FunctionGraph``): the tensors
of the enclosing graph it uses are captured as placeholders. The ``If`` op takes the predicate
and every tensor either branch captured, and its kernel runs only the branch the predicate
selects, as a plan of its own compiled on first use: a branch that would fail or divide by zero
is not executed when it is not taken, and ops inside a branch run only if its outputs (or their
control dependencies) need them, as in TensorFlow 1.x.

The gradient of an ``If`` is an ``If`` of the branches' gradients, built inside the branch
graphs (``autodiff.control_flow``), so gradients flow only into the taken branch, and the
gradient is itself differentiable.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from chainrule.framework import dtypes
from chainrule.framework.graph import (
    FunctionGraph,
    Operation,
    Tensor,
    function_bodies,
    get_default_graph,
    is_tensor_like,
    reachable,
)
from chainrule.framework.tensor_shape import TensorShape, as_shape
from chainrule.ops import array_ops, indexing_ops
from chainrule.ops.constant_op import convert_to_tensor
from chainrule.ops.registry import apply_op, constant_value, get_op_def, register_op


@dataclass(eq=False)
class BranchFunction:
    """A traced function: its graph, its input placeholders and its output tensors, in order.

    ``draws``: the random tensors of a cond branch whose values the ``If`` also outputs (after its
    own outputs), so that the gradient reuses them instead of drawing again.
    """

    graph: FunctionGraph
    inputs: list[Tensor]
    outputs: list[Tensor]
    draws: list[Tensor] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"<branch {self.graph.name!r}: {len(self.inputs)} inputs, {len(self.outputs)} outputs>"


def _if_kernel(xp: Any, pred: Any, *args: Any, then_branch: Any, else_branch: Any, ctx: Any, op: Any) -> Any:
    branch = then_branch if bool(pred) else else_branch
    results = ctx.run_function(branch, args)
    return results[0] if len(results) == 1 else tuple(results)


def _most_specific_compatible(a: TensorShape, b: TensorShape) -> TensorShape:
    if a.dims is None or b.dims is None or len(a.dims) != len(b.dims):
        return TensorShape(None)
    return TensorShape(x if x == y else None for x, y in zip(a.dims, b.dims))


def _if_infer(inputs: list[Tensor], then_branch: BranchFunction, else_branch: BranchFunction) -> list[Any]:
    pred = inputs[0]
    if not pred.dtype.is_bool or pred.shape.rank not in (0, None):
        raise TypeError(f"the predicate {pred.name} must be a bool scalar, got {pred.dtype.name}{pred.shape}")
    outs_t, outs_f = then_branch.outputs, else_branch.outputs
    if len(outs_t) != len(outs_f):
        raise ValueError(f"the branches return {len(outs_t)} and {len(outs_f)} tensors; they must match")
    specs = []
    for i, (t, f) in enumerate(zip(outs_t, outs_f)):
        if t.dtype != f.dtype:
            raise TypeError(f"output {i}: the true branch gives {t.dtype.name}, the false branch {f.dtype.name}")
        specs.append((t.dtype, _most_specific_compatible(t.shape, f.shape)))
    return specs


def _if_explain(b: Any, op: Operation, args: list[Any]) -> Any:
    """``where(pred, then, else)`` of the branches' expressions (their inputs the op's), per output."""
    branches = [op.get_attr("then_branch"), op.get_attr("else_branch")]
    then_exprs, else_exprs = (b.function_outputs(f.outputs, dict(zip(f.inputs, args[1:]))) for f in branches)
    exprs = [b.where(args[0], t, e) for t, e in zip(then_exprs, else_exprs)]
    return exprs[0] if len(exprs) == 1 else exprs


# Stateful: its kernel runs a branch with the session's state (variables a branch reads or assigns).
register_op("If", _if_kernel, _if_infer, stateful=True, explain=_if_explain)


def _case_exclusive_kernel(xp: Any, *preds: Any, name: str) -> Any:
    true = [i for i, p in enumerate(preds) if bool(p)]
    if len(true) > 1:
        raise ValueError(f"case {name!r} with exclusive=True: more than one predicate is true (pairs {true})")
    return preds[0]


def _case_exclusive_infer(inputs: list[Tensor], name: str) -> list[Any]:
    for t in inputs:
        if not t.dtype.is_bool or t.shape.rank not in (0, None):
            raise TypeError(f"predicate {t.name} must be a bool scalar, got {t.dtype.name}{t.shape}")
    return [(inputs[0].dtype, inputs[0].shape)]


register_op("CaseExclusive", _case_exclusive_kernel, _case_exclusive_infer, None)


def _traced_leaves(result: Any) -> list[Tensor]:
    """The tensors of a traced function's result, as tensors of the graph it is traced into.

    A function may return a tensor of the enclosing graph (or a loop variable) as it is: its
    output is then the capture.
    """
    graph = get_default_graph()
    leaves = [convert_to_tensor(leaf) for leaf in _flatten(result)]
    return [graph.capture(t) for t in leaves] if isinstance(graph, FunctionGraph) else leaves


def _trace(fn: Callable[[], Any], name: str) -> tuple[FunctionGraph, Any, list[Tensor]]:
    """Trace ``fn()`` into a new function graph: the graph, the structure it returned, and its leaves."""
    graph = FunctionGraph(get_default_graph(), name)
    with graph.as_default():
        result = fn()
        leaves = _traced_leaves(result)
    return graph, result, leaves


# Stateful ops whose value a second run gives again (reads of variables, inputs); every other stateful
# op with outputs (random numbers, py_func) gives new values when run again.
_REPEATABLE = frozenset({"Placeholder", "PlaceholderWithDefault", "VariableV2", "ReadVariable"})


def draws_anew(op: Operation) -> bool:
    """Whether running ``op`` again may give other values (a random op): not a function-running op."""
    return bool(op.outputs) and get_op_def(op.type).stateful and op.type not in _REPEATABLE and not function_bodies(op)


def find_in_functions(ops: Iterable[Operation], predicate: Callable[[Operation], bool]) -> Operation | None:
    """The first op (in creation order) among ``ops``, or at any depth in the functions they run,
    for which ``predicate`` holds; ops that run functions are looked into, not tested themselves."""
    for op in sorted(ops, key=lambda o: o.id):
        bodies = function_bodies(op)
        if not bodies:
            if predicate(op):
                return op
            continue
        for _, inner in bodies:
            found = find_in_functions(inner, predicate)
            if found is not None:
                return found
    return None


def _draws(outputs: list[Tensor]) -> list[Tensor]:
    """The values of the ops that ``outputs`` need and that a second run would draw anew, in creation order."""
    needed = reachable((t.op for t in outputs), lambda o: [t.op for t in o.inputs])
    return [t for op in sorted(needed, key=lambda o: o.id) if draws_anew(op) for t in op.outputs]


def _standing_in_for(draws: list[Tensor]) -> list[Tensor]:
    """Empty arrays in the other branch's slots for ``draws`` (that branch draws nothing there)."""
    return [array_ops.zeros([0], dtype=t.dtype) for t in draws]


def _make_if(
    pred: Tensor,
    then_graph: FunctionGraph,
    then_outputs: list[Tensor],
    else_graph: FunctionGraph,
    else_outputs: list[Tensor],
    name: str | None = None,
) -> Operation:
    """The ``If`` op over two traced branches; each gets a placeholder for every captured tensor."""
    # The random values each branch draws are outputs too (the other branch fills their slots with
    # empty arrays), so that the gradient reads the forward pass's draws.
    then_draws, else_draws = _draws(then_outputs), _draws(else_outputs)
    if then_draws or else_draws:
        with then_graph.as_default():
            then_outputs = [*then_outputs, *then_draws, *_standing_in_for(else_draws)]
        with else_graph.as_default():
            else_outputs = [*else_outputs, *_standing_in_for(then_draws), *else_draws]
    captured = list(dict.fromkeys([*then_graph.captures, *else_graph.captures]))
    # Each branch takes all of them (capturing the other branch's too), in one order, so that
    # both branches' inputs line up with the op's inputs after the predicate.
    then_inputs = [then_graph.capture(t) for t in captured]
    else_inputs = [else_graph.capture(t) for t in captured]
    then_branch = BranchFunction(then_graph, then_inputs, then_outputs, then_draws)
    else_branch = BranchFunction(else_graph, else_inputs, else_outputs, else_draws)
    return apply_op("If", [pred, *captured], {"then_branch": then_branch, "else_branch": else_branch}, name)


def cond(
    pred: Any,
    true_fn: Callable[[], Any] | None = None,
    false_fn: Callable[[], Any] | None = None,
    strict: bool = False,
    name: str | None = None,
    fn1: Callable[[], Any] | None = None,
    fn2: Callable[[], Any] | None = None,
) -> Any:
    """``true_fn()`` if ``pred`` else ``false_fn()``; only the branch taken runs.

    Parameters
    ----------
    pred : a bool scalar tensor (or Python bool).
    true_fn, false_fn : functions of no arguments returning the same structure (a tensor, or
        nested lists, tuples and dicts of tensors) with the same dtypes. They may use any tensor
        of the enclosing graph; ops they create run only when their branch is taken.
    strict : keep a one-element list or tuple as it is (TensorFlow 1.x unpacks it otherwise).
    name : name of the op.
    fn1, fn2 : TensorFlow 1.x's deprecated names of ``true_fn`` and ``false_fn``.

    Returns
    -------
    The taken branch's results, in the branches' structure. Gradients flow into the taken
    branch only.
    """
    true_fn = true_fn or fn1
    false_fn = false_fn or fn2
    if true_fn is None or false_fn is None:
        raise TypeError("cond needs both true_fn and false_fn")
    pred_t = convert_to_tensor(pred)
    base = name or "cond"
    then_graph, then_result, then_leaves = _trace(true_fn, base + "/true")
    else_graph, else_result, else_leaves = _trace(false_fn, base + "/false")
    then_structure, else_structure = _structure(then_result), _structure(else_result)
    if then_structure != else_structure:
        raise ValueError(
            f"cond {base!r}: true_fn and false_fn must return the same structure, got {then_structure} and "
            f"{else_structure}"
        )
    op = _make_if(pred_t, then_graph, then_leaves, else_graph, else_leaves, name=base)
    if not then_leaves:
        return op
    result = _unflatten(then_result, iter(op.outputs[: len(then_leaves)]))
    if not strict and isinstance(result, (list, tuple)) and len(result) == 1:
        return result[0]
    return result


def case(
    pred_fn_pairs: Any,
    default: Callable[[], Any] | None = None,
    exclusive: bool = False,
    strict: bool = False,
    name: str = "case",
) -> Any:
    """The function of the first pair whose predicate is true (``default`` when none is), as nested conds.

    ``pred_fn_pairs``: a list of ``(pred, fn)`` pairs (or a dict, in its order). With
    ``exclusive=True`` at most one predicate may be true; the run fails naming them otherwise.
    Without ``default`` the last pair's function is taken when no predicate is true (TF 1.x).
    """
    pairs = list(pred_fn_pairs.items()) if isinstance(pred_fn_pairs, dict) else list(pred_fn_pairs)
    if not pairs:
        raise ValueError("case needs at least one (pred, fn) pair")
    preds = [convert_to_tensor(p) for p, _ in pairs]
    fns = [f for _, f in pairs]
    if default is None:
        default = fns[-1]
    if exclusive and len(preds) > 1:
        # The first predicate passes through a check of all of them, so the check runs first.
        preds[0] = apply_op("CaseExclusive", preds, {"name": name}, name=name + "/exclusive").outputs[0]
    result: Callable[[], Any] = default
    for p, f in reversed(list(zip(preds, fns))):
        result = _chained(p, f, result, strict, name)
    return result()


def _chained(pred: Tensor, fn: Callable[[], Any], otherwise: Callable[[], Any], strict: bool, name: str) -> Any:
    return lambda: cond(pred, fn, otherwise, strict=strict, name=name)


# --- while_loop -------------------------------------------------------------------------------
def _while_kernel(
    xp: Any,
    *args: Any,
    cond: BranchFunction,
    body: BranchFunction,
    num_vars: int,
    num_sliced: int,
    maximum_iterations: int | None,
    record: bool,
    ctx: Any,
    op: Any,
    history_read: bool = True,
) -> Any:
    limit = -1 if maximum_iterations is None else maximum_iterations
    # The iterations run as one generated function: the cond's and the body's code in a loop.
    # ``history_read`` is False where the compiler saw that this run reads no recorded iteration.
    result = ctx.run_loop(cond, body, num_vars, num_sliced, record and history_read, [limit, *args])
    values, count, history = result[:num_vars], int(result[num_vars]), result[num_vars + 1 :]
    if not record:
        return values[0] if len(values) == 1 else tuple(values)
    if not history_read:
        unread = [xp.zeros((0, *np.shape(v)), dtype=v.dtype) for v in values]
        return (*values, *unread, xp.asarray(count, dtype=np.int32))
    stacked = []
    for kept, v, declared in zip(history, values, op.outputs):
        # Only a loop variable whose static shape is not fully known can change shape.
        if not declared.shape.is_fully_defined() and len({np.shape(h) for h in kept}) > 1:
            # A loop variable that changed shape cannot be stacked: the count -1 tells the gradient,
            # which fails then (``WhileHistoryCheck``); the loop's own values are fine.
            count = -1
            kept = []
        stacked.append(xp.stack(kept) if kept else xp.zeros((0, *np.shape(v)), dtype=v.dtype))
    return (*values, *stacked, xp.asarray(count, dtype=np.int32))


def _history_check_kernel(xp: Any, count: Any) -> Any:
    if int(count) < 0:
        raise ValueError(
            "a loop variable changed shape across iterations, so the loop's iterations were not recorded for its "
            "gradient; differentiate a loop whose loop variables keep their shapes, or pass back_prop=False"
        )
    return count


register_op("WhileHistoryCheck", _history_check_kernel, lambda inputs: [(inputs[0].dtype, inputs[0].shape)], None)


def _while_infer(
    inputs: list[Tensor],
    cond: BranchFunction,
    body: BranchFunction,
    num_vars: int,
    num_sliced: int,
    maximum_iterations: int | None,
    record: bool,
    _body: Any = None,
) -> list[Any]:
    (predicate,) = cond.outputs
    if not predicate.dtype.is_bool or predicate.shape.rank not in (0, None):
        raise TypeError(f"cond must return a bool scalar, got {predicate.dtype.name}{predicate.shape}")
    if len(body.outputs) != num_vars:
        raise ValueError(f"body returns {len(body.outputs)} loop variables, the loop has {num_vars}")
    specs = []
    for j, (placeholder, new) in enumerate(zip(body.inputs, body.outputs)):
        if new.dtype != placeholder.dtype:
            raise TypeError(f"loop variable {j} enters as {placeholder.dtype.name}, the body returns {new.dtype.name}")
        if not placeholder.shape.is_compatible_with(new.shape) or (
            placeholder.shape.rank is not None and new.shape.rank != placeholder.shape.rank
        ):
            raise ValueError(
                f"loop variable {j} has shape {placeholder.shape} before the loop and {new.shape} after one "
                "iteration; pass shape_invariants that allow both"
            )
        specs.append((placeholder.dtype, placeholder.shape))
    if record:
        specs += [(d, TensorShape(None if sh.dims is None else (None, *sh.dims))) for d, sh in specs[:num_vars]]
        specs.append((dtypes.int32, TensorShape([])))
    return specs


def _while_explain(b: Any, op: Operation, args: list[Any]) -> list[Any]:
    """A loop is not printed as a formula: ``while_loop(initial values...)[i]`` per output."""
    return [b.opaque("while_loop", args, i) for i in range(len(op.outputs))]


# Stateful as If: the body may read and assign variables.
register_op("While", _while_kernel, _while_infer, stateful=True, explain=_while_explain)


def while_loop(
    cond: Callable[..., Any],
    body: Callable[..., Any],
    loop_vars: Any,
    shape_invariants: Any = None,
    parallel_iterations: int = 10,
    back_prop: bool = True,
    swap_memory: bool = False,
    name: str | None = None,
    maximum_iterations: Any = None,
    return_same_structure: bool = False,
) -> Any:
    """Repeat ``loop_vars = body(*loop_vars)`` while ``cond(*loop_vars)`` (TensorFlow 1.x's ``tf.while_loop``).

    Parameters
    ----------
    cond : a function of the loop variables returning a bool scalar tensor.
    body : a function of the loop variables returning new ones, in the same structure.
    loop_vars : a tensor, or a (nested) list or tuple of tensors and values.
    shape_invariants : the shape each loop variable keeps (same structure; ``None`` dims may
        change between iterations); by default each keeps its initial static shape.
    parallel_iterations, swap_memory : accepted for TensorFlow compatibility (iterations run
        one after another; nothing is swapped).
    back_prop : record what the gradient needs (each iteration's loop variables); False stops
        gradients through the loop.
    name : name of the op.
    maximum_iterations : an int bounding the number of iterations.
    return_same_structure : keep a one-element list as it is (unpacked otherwise, as TF 1.x).

    Returns
    -------
    The final loop variables, in ``loop_vars``' structure. The body is traced once and run as
    a plan compiled once; reverse mode runs a loop too, backwards over the recorded iterations,
    so gradients (of any order) and forward mode work through it.
    """
    del parallel_iterations, swap_memory
    structure = loop_vars
    flat = [convert_to_tensor(v) for v in _flatten(structure)]
    invariants = [t.shape for t in flat] if shape_invariants is None else _flat_shapes(shape_invariants, len(flat))
    limit = None if maximum_iterations is None else _static_iterations(maximum_iterations)
    record = back_prop and any(t.dtype.is_floating or t.dtype.is_complex for t in flat)
    op = loop_op(cond, body, structure, flat, invariants, limit, record, name or "while")
    result = _unflatten(structure, iter(op.outputs[: len(flat)]))
    if not return_same_structure and isinstance(result, (list, tuple)) and len(result) == 1:
        return result[0]
    return result


def loop_op(
    cond: Callable[..., Any],
    body: Callable[..., Any],
    structure: Any,
    flat: list[Tensor],
    invariants: list[TensorShape],
    maximum_iterations: int | None,
    record: bool,
    base: str,
    sliced: Sequence[Tensor] = (),
) -> Operation:
    """The ``While`` op: ``cond`` and ``body`` (functions of ``structure``) traced over ``flat`` loop variables.

    ``sliced``: tensors whose row ``k`` the body receives at iteration ``k``, after the loop
    variables (``body(*loop_vars, *rows)``; the gradient of such an input is a row per iteration,
    not a whole tensor). With ``record``, the op's outputs after the final loop variables are
    each loop variable's value at the start of every iteration, stacked, and the iteration count.
    """
    outer = get_default_graph()

    def flat_call(fn: Callable[..., Any]) -> Callable[..., list[Tensor]]:
        """``fn`` as a function of the flat loop variables (and rows), returning flat tensors."""

        def call(values: list[Tensor], rows: Sequence[Tensor] = ()) -> list[Tensor]:
            args = _unflatten(structure, iter(values))
            result = fn(*args, *rows) if isinstance(structure, (list, tuple)) else fn(args, *rows)
            if not isinstance(structure, (list, tuple)) and isinstance(result, (list, tuple)) and len(result) == 1:
                result = result[0]
            return _traced_leaves(result)

        return call

    def traced(
        fn: Callable[..., list[Tensor]], what: str, with_rows: bool
    ) -> tuple[FunctionGraph, list[Tensor], list[Any]]:
        graph = FunctionGraph(outer, f"{base}/{what}")
        with graph.as_default():
            specs = list(zip([t.dtype for t in flat], invariants))
            if with_rows:
                specs += [(t.dtype, t.shape[1:]) for t in sliced]
            holders = [
                graph.create_op(
                    "Placeholder", [], [spec], {"dtype": spec[0], "shape": spec[1]}, name=f"loop_var_{j}"
                ).outputs[0]
                for j, spec in enumerate(specs)
            ]
            leaves = fn(holders[: len(flat)], holders[len(flat) :])
        return graph, holders, leaves

    flat_body = flat_call(body)
    cond_graph, cond_vars, cond_out = traced(flat_call(cond), "cond", False)
    body_graph, body_vars, body_out = traced(flat_body, "body", True)
    captured = list(dict.fromkeys([*cond_graph.captures, *body_graph.captures]))
    cond_fn = BranchFunction(cond_graph, cond_vars + [cond_graph.capture(t) for t in captured], cond_out)
    body_fn = BranchFunction(body_graph, body_vars + [body_graph.capture(t) for t in captured], body_out)
    return apply_op(
        "While",
        [*flat, *sliced, *captured],
        {
            "cond": cond_fn,
            "body": body_fn,
            "num_vars": len(flat),
            "num_sliced": len(sliced),
            "maximum_iterations": maximum_iterations,
            "record": record,
            # The body as a Python function of the flat loop variables and rows: reverse mode traces it
            # again inside the backward loop (private: kernels do not receive it).
            "_body": flat_body,
        },
        name=base,
    )


# --- scan, map_fn, foldl, foldr: loops over the first axis of their elements ----------------------
def scan(
    fn: Callable[[Any, Any], Any],
    elems: Any,
    initializer: Any = None,
    parallel_iterations: int = 10,
    back_prop: bool = True,
    swap_memory: bool = False,
    infer_shape: bool = True,
    reverse: bool = False,
    name: str | None = None,
) -> Any:
    """``fn(acc, x)`` over the first axis of ``elems``, stacking every ``acc`` (TensorFlow 1.x's ``tf.scan``).

    ``elems`` is a tensor or a structure of tensors sharing their first dimension; ``initializer``
    (the first ``acc``, same structure as ``fn``'s result) defaults to the first element, which
    is then the first output. ``reverse`` scans from the end (outputs stay in ``elems``' order).
    The loop is one ``While`` (not unrolled); its recorded iterations are the stacked outputs,
    and gradients flow to ``elems``, ``initializer`` and the tensors ``fn`` uses.
    """
    del parallel_iterations, swap_memory, infer_shape
    # A scan always records: its iterations are its outputs.
    op, initializer, acc, count, from_first = _element_loop(fn, elems, initializer, reverse, True, name or "scan")
    n = 1 + len(acc)
    finals, history = op.outputs[1:n], op.outputs[n + 1 : 2 * n]
    # The recorded values at each iteration's start are acc_0..acc_{k-1}; the outputs are acc_1..acc_k.
    stacked = [array_ops.concat([h, array_ops.expand_dims(f, 0)], 0)[1:] for h, f in zip(history, finals)]
    if from_first:  # the first element is the first output
        stacked = [array_ops.concat([array_ops.expand_dims(f, 0), t], 0) for f, t in zip(acc, stacked)]
    if reverse:
        stacked = [array_ops.reverse(t, [0]) for t in stacked]
    if not back_prop:
        stacked = [array_ops.stop_gradient(t) for t in stacked]
    if isinstance(count, int):  # the loop's count is not static, but the elements' length is
        for t, a in zip(stacked, acc):
            if a.shape.dims is not None:
                t.set_shape([count, *a.shape.dims])
    return _unflatten(initializer, iter(stacked))


def foldl(
    fn: Callable[[Any, Any], Any],
    elems: Any,
    initializer: Any = None,
    parallel_iterations: int = 10,
    back_prop: bool = True,
    swap_memory: bool = False,
    name: str | None = None,
) -> Any:
    """``fn(acc, x)`` over the first axis of ``elems`` from the start: the final ``acc`` (``tf.foldl``)."""
    return _fold(fn, elems, initializer, back_prop, False, name or "foldl")


def foldr(
    fn: Callable[[Any, Any], Any],
    elems: Any,
    initializer: Any = None,
    parallel_iterations: int = 10,
    back_prop: bool = True,
    swap_memory: bool = False,
    name: str | None = None,
) -> Any:
    """``fn(acc, x)`` over the first axis of ``elems`` from the end: the final ``acc`` (``tf.foldr``)."""
    return _fold(fn, elems, initializer, back_prop, True, name or "foldr")


def _fold(
    fn: Callable[[Any, Any], Any], elems: Any, initializer: Any, back_prop: bool, reverse: bool, name: str
) -> Any:
    # A fold keeps only its final value: it records its iterations for the gradient.
    op, initializer, acc, _, _ = _element_loop(fn, elems, initializer, reverse, back_prop, name)
    return _unflatten(initializer, iter(op.outputs[1 : 1 + len(acc)]))


def _element_loop(
    fn: Callable[[Any, Any], Any], elems: Any, initializer: Any, reverse: bool, record: bool, name: str
) -> tuple[Operation, Any, list[Tensor], Any, bool]:
    """The ``While`` of scan and fold: ``acc = fn(acc, x)`` for each row ``x`` of ``elems`` (sliced).

    Returns the op, the initializer (the first element when none was given), its flat tensors,
    the number of elements, and whether the loop started from the first element.
    """
    items = [convert_to_tensor(e) for e in _flatten(elems)]
    if not items:
        raise ValueError(f"{name} needs at least one tensor in elems")
    count = _length(items[0])
    from_first = initializer is None
    if from_first:
        initializer = _unflatten(elems, iter([_row(e, count - 1 if reverse else 0) for e in items]))
    start = 1 if from_first else 0
    acc = [convert_to_tensor(a) for a in _flatten(initializer)]
    structure = [convert_to_tensor(0, dtype=dtypes.int32), *acc]
    op = loop_op(
        lambda i, *state: i < count - start,
        _step(fn, elems, initializer, len(acc)),
        structure,
        structure,
        [t.shape for t in structure],
        None,
        record,
        name,
        sliced=_rows_from(items, start, reverse),
    )
    return op, initializer, acc, count, from_first


def map_fn(
    fn: Callable[[Any], Any],
    elems: Any,
    dtype: Any = None,
    parallel_iterations: int = 10,
    back_prop: bool = True,
    swap_memory: bool = False,
    infer_shape: bool = True,
    name: str | None = None,
) -> Any:
    """``fn`` applied to each element along the first axis of ``elems``, results stacked (``tf.map_fn``).

    A ``scan`` whose accumulator is ``fn``'s result (the previous one is not read).
    """
    initializer = _first_result(fn, elems)
    return scan(lambda _, x: fn(x), elems, initializer=initializer, back_prop=back_prop, name=name or "map")


def _first_result(fn: Callable[[Any], Any], elems: Any) -> Any:
    """Zeros shaped as ``fn``'s result on one element: the accumulator ``map_fn``'s scan starts from."""
    items = [convert_to_tensor(e) for e in _flatten(elems)]
    probe = FunctionGraph(get_default_graph(), "map_fn/probe")
    with probe.as_default():
        sample = fn(_unflatten(elems, iter([_row(e, 0) for e in items])))
        specs = [(t.dtype, t.shape) for t in (convert_to_tensor(s) for s in _flatten(sample))]
    zeros = []
    for dtype, shape in specs:
        if not shape.is_fully_defined():
            raise ValueError(f"map_fn needs the static shape of fn's results, got {shape}")
        zeros.append(array_ops.zeros(shape.as_list(), dtype=dtype))
    return _unflatten(sample, iter(zeros))


def _step(
    fn: Callable[[Any, Any], Any], elems: Any, initializer: Any, num_acc: int
) -> Callable[..., tuple[Tensor, ...]]:
    """The loop body of scan and fold: ``acc = fn(acc, x)`` for the iteration's rows ``x`` of ``elems``."""

    def body(i: Tensor, *state_and_rows: Tensor) -> tuple[Tensor, ...]:
        state, rows = state_and_rows[:num_acc], state_and_rows[num_acc:]
        result = fn(_unflatten(initializer, iter(state)), _unflatten(elems, iter(rows)))
        return (i + 1, *(convert_to_tensor(r) for r in _flatten(result)))

    return body


def _rows_from(items: list[Tensor], start: int, reverse: bool) -> list[Tensor]:
    """The elements the loop takes a row of per iteration: from ``start``, or from the end backwards."""
    if reverse:
        items = [array_ops.reverse(t, [0]) for t in items]
    return [t[start:] if start else t for t in items]


def _length(t: Tensor) -> Any:
    """The size of ``t``'s first axis: an int when static, else a scalar tensor."""
    if t.shape.rank == 0:
        raise ValueError(f"scan and fold loop over the first axis of their elements; {t.name} is a scalar")
    n = t.shape[0] if t.shape.rank is not None else None
    return n if n is not None else array_ops.shape(t)[0]


def _row(t: Tensor, i: Any) -> Tensor:
    return indexing_ops.gather(t, i)


def _flat_shapes(shape_invariants: Any, count: int) -> list[TensorShape]:
    shapes = [as_shape(s) for s in _flatten_shapes(shape_invariants)]
    if len(shapes) != count:
        raise ValueError(f"shape_invariants has {len(shapes)} shapes for {count} loop variables")
    return shapes


def _flatten_shapes(value: Any) -> list[Any]:
    """Leaves of a structure of shapes (a shape itself may be a list of dims)."""
    if isinstance(value, TensorShape) or value is None:
        return [value]
    if isinstance(value, (list, tuple)) and all(d is None or isinstance(d, int) for d in value):
        return [value]
    if isinstance(value, (list, tuple)):
        return [leaf for v in value for leaf in _flatten_shapes(v)]
    if isinstance(value, dict):
        return [leaf for k in sorted(value) for leaf in _flatten_shapes(value[k])]
    return [value]


def _static_iterations(value: Any) -> int:
    known = constant_value(convert_to_tensor(value)) if is_tensor_like(value) else value
    if known is None:
        raise TypeError("maximum_iterations must be known when the graph is built (an int or a constant)")
    if int(known) < 0:
        raise ValueError(f"maximum_iterations must not be negative, got {int(known)}")
    return int(known)


# --- nested structures of tensors ------------------------------------------------------------
def _flatten(value: Any) -> list[Any]:
    if isinstance(value, (list, tuple)):
        return [leaf for v in value for leaf in _flatten(v)]
    if isinstance(value, dict):
        return [leaf for k in sorted(value) for leaf in _flatten(value[k])]
    if value is None:
        return []
    return [value]


def _structure(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(_structure(v) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple((k, _structure(value[k])) for k in sorted(value)))
    return None if value is None else "tensor"


def _unflatten(value: Any, leaves: Any) -> Any:
    if isinstance(value, (list, tuple)):
        items = [_unflatten(v, leaves) for v in value]
        return type(value)(items) if isinstance(value, list) else tuple(items)
    if isinstance(value, dict):
        return {k: _unflatten(value[k], leaves) for k in sorted(value)}
    return None if value is None else next(leaves)
