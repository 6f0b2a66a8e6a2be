"""Assertions (TF 1.x's ``tf.Assert`` and ``tf.assert_*``, also under ``cr.debugging``).

``Assert`` is an op with no outputs that raises ``InvalidArgumentError`` when it runs and its
condition is false, with TensorFlow's message: ``assertion failed: [text] [values]...``. In TF 1.x
graph mode nothing runs it unless something depends on it: put it in ``control_dependencies``
or fetch it. The ``assert_*`` functions build one; where both sides are known while the graph is
built (constants), a failing check raises at once, as TensorFlow's do, and a static-shape check
(``assert_rank``, ``assert_type``...) raises ``ValueError``/``TypeError`` at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from chainrule.framework import dtypes, errors
from chainrule.framework.graph import Operation, Tensor, is_tensor_like, name_scope
from chainrule.ops import array_ops, math_ops, reduction_ops, state_ops
from chainrule.ops.constant_op import convert_to_tensor
from chainrule.ops.registry import apply_op, constant_value, register_op
from chainrule.ops.script_ops import summarize_v1

__all__ = [
    "Assert",
    "assert_equal",
    "assert_greater",
    "assert_greater_equal",
    "assert_integer",
    "assert_less",
    "assert_less_equal",
    "assert_near",
    "assert_negative",
    "assert_non_negative",
    "assert_non_positive",
    "assert_none_equal",
    "assert_positive",
    "assert_proper_iterable",
    "assert_rank",
    "assert_rank_at_least",
    "assert_rank_in",
    "assert_same_float_dtype",
    "assert_scalar",
    "assert_type",
    "is_non_decreasing",
    "is_numeric_tensor",
    "is_strictly_increasing",
]


def _show(item: Any, summarize: int) -> str:
    """One entry of an assertion's data, in brackets: text as it is, a value as ``tf.Print`` shows it."""
    return "[" + (item if isinstance(item, str) else summarize_v1(np.asarray(item), summarize)) + "]"


def _assert_kernel(
    xp: Any, condition: Any, *values: Any, template: Sequence[Any], summarize: int, ctx: Any = None, op: Any = None
) -> Any:
    if not bool(np.all(condition)):
        data = [values[item] if isinstance(item, int) else item[0] for item in template]
        raise errors.InvalidArgumentError(None, op, "assertion failed: " + " ".join(_show(d, summarize) for d in data))
    return ()


def _assert_infer(inputs: list[Tensor], **_: Any) -> list[Any]:
    condition = inputs[0]
    if condition.dtype != dtypes.bool_:
        raise TypeError(f"Assert's condition must be bool, got {condition.dtype.name}")
    if condition.shape.rank not in (None, 0) and condition.shape.num_elements() != 1:
        raise ValueError(f"Assert's condition must be a scalar, got shape {condition.shape}")
    return []


register_op("Assert", _assert_kernel, _assert_infer, None, stateful=True)


def Assert(  # noqa: N802 - TensorFlow's name
    condition: Any, data: Sequence[Any], summarize: int | None = None, name: str | None = None
) -> Operation:
    """An op that raises ``InvalidArgumentError`` when it runs and ``condition`` is false.

    Parameters
    ----------
    condition : a bool scalar.
    data : what the error shows: strings as they are, tensors (or values) as ``tf.Print`` shows them.
    summarize : entries of each tensor to show (3 by default; negative: all).
    name : op name.

    Returns
    -------
    Operation
        Run it, or put it in ``control_dependencies``, for the check to happen (TF 1.x graph mode).
    """
    tensors: list[Tensor] = []
    template: list[Any] = []
    for item in data:
        if isinstance(item, (str, bytes)):
            template.append((item.decode() if isinstance(item, bytes) else item,))
        else:
            tensors.append(convert_to_tensor(item))
            template.append(len(tensors) - 1)
    attrs = {"template": tuple(template), "summarize": 3 if summarize is None else int(summarize)}
    with name_scope(name, "Assert", [condition, *tensors]) as scope:
        cond = convert_to_tensor(condition)
        return apply_op("Assert", [cond, *tensors], attrs, scope.rstrip("/").split("/")[-1] or "Assert")


def _raise_static(data: Sequence[Any], summarize: int | None) -> None:
    shown = [d if isinstance(d, str) else _show(d, -1 if summarize is None else summarize) for d in data]
    raise errors.InvalidArgumentError(None, None, "\n".join(shown))


def _static_data(data: Sequence[Any]) -> list[Any] | None:
    """``data`` with each tensor replaced by its value known at graph construction, or None."""
    out: list[Any] = []
    for d in data:
        if isinstance(d, str):
            out.append(d)
            continue
        value = constant_value(d) if isinstance(d, Tensor) else np.asarray(d)
        if value is None:
            return None
        out.append(value)
    return out


def _compare_assert(
    sym: str,
    default_name: str,
    test: Callable[[Tensor, Tensor], Tensor],
    static_test: Callable[[np.ndarray, np.ndarray], np.ndarray],
    x: Any,
    y: Any,
    data: Sequence[Any] | None,
    summarize: int | None,
    message: str | None,
    name: str | None,
    condition_text: str | None = None,
    shown: str = "xy",
) -> Operation:
    with name_scope(name, default_name, [x, y]):
        x = convert_to_tensor(x, name="x")
        y = convert_to_tensor(y, name="y", dtype_hint=x.dtype)
        if data is None:
            data = [] if message is None else [message]
            data.append(condition_text or f"Condition x {sym} y did not hold element-wise:")
            if "x" in shown:
                data += [f"x ({x.name}) = ", x]
            if "y" in shown:
                data += [f"y ({y.name}) = ", y]
        x_static, y_static = constant_value(x), constant_value(y)
        if x_static is not None and y_static is not None and not np.all(static_test(x_static, y_static)):
            static = _static_data(data)
            _raise_static(static if static is not None else [d for d in data if isinstance(d, str)], summarize)
        condition = reduction_ops.reduce_all(test(x, y))
        return Assert(condition, data, summarize=summarize)


def _comparison(sym: str, tf_name: str, test: Callable[..., Tensor], static_test: Callable[..., Any]) -> Any:
    def check(
        x: Any,
        y: Any,
        data: Sequence[Any] | None = None,
        summarize: int | None = None,
        message: str | None = None,
        name: str | None = None,
    ) -> Operation:
        return _compare_assert(sym, tf_name, test, static_test, x, y, data, summarize, message, name)

    check.__name__ = check.__qualname__ = tf_name
    check.__doc__ = f"""An ``Assert`` op: ``x {sym} y`` holds for every (broadcast) pair of elements.

    Parameters
    ----------
    x, y : numeric tensors (``y`` broadcastable to ``x``).
    data : what the error shows; by default ``message``, the condition and the values of ``x`` and ``y``.
    summarize : entries of each tensor to show.
    message : text put first in the error.
    name : name scope (``{tf_name}``).

    Raises
    ------
    InvalidArgumentError
        At once, when both sides are constants and the condition fails.
    """
    return check


assert_equal = _comparison("==", "assert_equal", math_ops.equal, np.equal)
assert_none_equal = _comparison("!=", "assert_none_equal", math_ops.not_equal, np.not_equal)
assert_less = _comparison("<", "assert_less", math_ops.less, np.less)
assert_less_equal = _comparison("<=", "assert_less_equal", math_ops.less_equal, np.less_equal)
assert_greater = _comparison(">", "assert_greater", math_ops.greater, np.greater)
assert_greater_equal = _comparison(">=", "assert_greater_equal", math_ops.greater_equal, np.greater_equal)


def _sign(sym: str, tf_name: str, test: Callable[..., Tensor], static_test: Callable[..., Any]) -> Any:
    def check(
        x: Any,
        data: Sequence[Any] | None = None,
        summarize: int | None = None,
        message: str | None = None,
        name: str | None = None,
    ) -> Operation:
        x = convert_to_tensor(x)
        # TF shows the message slot even when it is empty ("[]"), and only x's values.
        return _compare_assert(
            sym,
            tf_name,
            test,
            static_test,
            x,
            np.zeros((), x.dtype.as_numpy_dtype),
            data,
            summarize,
            message or "",
            name,
            condition_text=f"Condition x {sym} 0 did not hold element-wise:",
            shown="x",
        )

    check.__name__ = check.__qualname__ = tf_name
    check.__doc__ = f"""An ``Assert`` op: ``x {sym} 0`` holds for every element (arguments as ``assert_equal``'s)."""
    return check


assert_positive = _sign(">", "assert_positive", math_ops.greater, np.greater)
assert_negative = _sign("<", "assert_negative", math_ops.less, np.less)
assert_non_negative = _sign(">=", "assert_non_negative", math_ops.greater_equal, np.greater_equal)
assert_non_positive = _sign("<=", "assert_non_positive", math_ops.less_equal, np.less_equal)


def assert_near(
    x: Any,
    y: Any,
    rtol: Any = None,
    atol: Any = None,
    data: Sequence[Any] | None = None,
    summarize: int | None = None,
    message: str | None = None,
    name: str | None = None,
) -> Operation:
    """An ``Assert`` op: ``|x - y| <= atol + rtol * |y|`` elementwise (tolerances 10 eps of x's dtype by default)."""
    x = convert_to_tensor(x, name="x")
    eps = float(np.finfo(x.dtype.as_numpy_dtype).eps) if x.dtype.is_floating else 0.0
    rtol_value = 10 * eps if rtol is None else rtol
    atol_value = 10 * eps if atol is None else atol

    def close(a: Tensor, b: Tensor) -> Tensor:
        return math_ops.less_equal(math_ops.abs(a - b), atol_value + rtol_value * math_ops.abs(b))

    def close_static(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.abs(a - b) <= np.asarray(atol_value) + np.asarray(rtol_value) * np.abs(b)

    text = f"x and y not equal to tolerance rtol = {rtol_value}, atol = {atol_value}"
    return _compare_assert(
        "~=", "assert_near", close, close_static, x, y, data, summarize, message or "", name, condition_text=text
    )


def _rank_assert(
    x: Any,
    requirement: str,
    expected: Any,
    ok: Callable[[int], bool],
    runtime_condition: Callable[[Tensor], Tensor],
    default_name: str,
    message: str | None,
    name: str | None,
) -> Operation:
    """Check ``x``'s rank: at once when it is static (``ValueError``), else with an ``Assert`` op."""
    x = convert_to_tensor(x)
    rank = x.shape.rank
    if rank is not None:
        if not ok(rank):
            raise ValueError(
                f"{message or ''}Tensor {x.name} must have {requirement} {expected}.  "
                f"Received rank {rank}, shape {x.shape}"
            )
        return state_ops.no_op(name=name or default_name)
    with name_scope(name, default_name, [x]):
        data = [message or "", f"Tensor {x.name} must have {requirement}", expected, "Received shape: "]
        return Assert(runtime_condition(array_ops.rank(x)), [*data, array_ops.shape(x)])


def assert_rank(x: Any, rank: int, message: str | None = None, name: str | None = None) -> Operation:
    """Check that ``x`` has rank ``rank``: at once when its rank is static (``ValueError``), else an ``Assert`` op."""
    rank = int(rank)
    return _rank_assert(
        x, "rank", np.int32(rank), lambda r: r == rank, lambda r: math_ops.equal(r, rank), "assert_rank", message, name
    )


def assert_rank_at_least(x: Any, rank: int, message: str | None = None, name: str | None = None) -> Operation:
    """Check that ``x`` has rank ``rank`` or more (as ``assert_rank``)."""
    rank = int(rank)
    return _rank_assert(
        x,
        "rank at least",
        np.int32(rank),
        lambda r: r >= rank,
        lambda r: math_ops.greater_equal(r, rank),
        "assert_rank_at_least",
        message,
        name,
    )


def assert_rank_in(x: Any, ranks: Iterable[int], message: str | None = None, name: str | None = None) -> Operation:
    """Check that ``x``'s rank is one of ``ranks`` (as ``assert_rank``)."""
    allowed = np.asarray([int(r) for r in ranks], np.int32)
    return _rank_assert(
        x,
        "rank in",
        allowed,
        lambda r: r in allowed.tolist(),
        lambda r: reduction_ops.reduce_any(math_ops.equal(r, allowed)),
        "assert_rank_in",
        message,
        name,
    )


def assert_scalar(tensor: Any, name: str | None = None, message: str | None = None) -> Tensor:
    """``tensor`` itself, after checking that its static rank is 0 (``ValueError`` otherwise)."""
    t = convert_to_tensor(tensor)
    if t.shape.rank != 0:
        raise ValueError(f"{message or ''}Expected scalar shape for {t.name}, saw shape: {t.shape}.")
    return t


def assert_type(tensor: Any, tf_type: Any, message: str | None = None, name: str | None = None) -> Operation:
    """Check statically that ``tensor`` has dtype ``tf_type`` (``TypeError`` otherwise); returns a no-op."""
    t = convert_to_tensor(tensor)
    wanted = dtypes.as_dtype(tf_type)
    if t.dtype != wanted:
        raise TypeError(f"{message or ''}{t.name} must be of type {wanted.name}; got {t.dtype.name}")
    return state_ops.no_op(name=name or "assert_type")


def assert_integer(x: Any, message: str | None = None, name: str | None = None) -> Operation:
    """Check statically that ``x`` has an integer dtype (``TypeError`` otherwise); returns a no-op."""
    t = convert_to_tensor(x)
    if not t.dtype.is_integer:
        raise TypeError(f"{message or ''}Expected integer type for {t.name}, got {t.dtype.name}.")
    return state_ops.no_op(name=name or "assert_integer")


def assert_same_float_dtype(tensors: Sequence[Any] | None = None, dtype: Any = None) -> dtypes.DType:
    """The one floating dtype of ``tensors`` (and ``dtype``), float32 when there are none; ``ValueError`` on a mix."""
    expected = None if dtype is None else dtypes.as_dtype(dtype)
    for t in tensors or []:
        t_dtype = convert_to_tensor(t).dtype
        if expected is None:
            expected = t_dtype
        elif t_dtype != expected:
            raise ValueError(f"Tensor conversion requested dtype {expected.name} for {t_dtype.name} tensor {t!r}")
    if expected is None:
        return dtypes.float32
    if not expected.is_floating:
        raise ValueError(f"Expected floating point type, got {expected.name}.")
    return expected


def assert_proper_iterable(values: Any) -> None:
    """``TypeError`` unless ``values`` is an iterable of values (not a tensor, array or string)."""
    if is_tensor_like(values) or isinstance(values, (np.ndarray, str, bytes)):
        raise TypeError(f"Expected argument 'values' to be a 'proper' iterable.  Found: {type(values)}")
    if not isinstance(values, Iterable):
        raise TypeError(f"Expected argument 'values' to be iterable.  Found: {type(values)}")


def is_numeric_tensor(tensor: Any) -> bool:
    """Whether ``tensor`` is a tensor of a numeric dtype (not bool or string)."""
    return isinstance(tensor, Tensor) and (
        tensor.dtype.is_floating or tensor.dtype.is_integer or tensor.dtype.is_complex
    )


def _monotone(x: Any, test: Callable[[Tensor, Tensor], Tensor], name: str | None, default_name: str) -> Tensor:
    with name_scope(name, default_name, [x]):
        flat = array_ops.reshape(convert_to_tensor(x), [-1])
        return reduction_ops.reduce_all(test(flat[:-1], flat[1:]))


def is_non_decreasing(x: Any, name: str | None = None) -> Tensor:
    """Whether the entries of ``x``, in row-major order, never decrease (True for fewer than two)."""
    return _monotone(x, math_ops.less_equal, name, "is_non_decreasing")


def is_strictly_increasing(x: Any, name: str | None = None) -> Tensor:
    """Whether the entries of ``x``, in row-major order, always increase (True for fewer than two)."""
    return _monotone(x, math_ops.less, name, "is_strictly_increasing")
