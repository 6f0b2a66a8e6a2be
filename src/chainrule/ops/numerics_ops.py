"""NaN/Inf checks as ops: ``check_numerics``, ``verify_tensor_all_finite``, ``add_check_numerics_ops`` (TF 1.x).

``CheckNumerics`` is an identity that raises ``InvalidArgumentError`` when its input holds a NaN
or an infinity, with TensorFlow's message (``"<message> : Tensor had NaN values"``, ``Inf values``
or ``Inf and NaN values``). Its gradient checks the incoming gradient the same way, as
TensorFlow's does. The session-wide mode that checks every op's outputs without changing the
graph (``cr.debugging.enable_check_numerics``) lives in ``runtime/numerics.py``.
"""

from __future__ import annotations

from typing import Any

from chainrule.framework import dtypes, errors
from chainrule.framework.graph import Operation, Tensor, function_bodies, get_default_graph
from chainrule.ops.constant_op import convert_to_tensor
from chainrule.ops.control_flow_ops import find_in_functions
from chainrule.ops.registry import UNARY, apply, register_op
from chainrule.ops.state_ops import group

__all__ = ["check_numerics", "verify_tensor_all_finite", "add_check_numerics_ops"]

# TensorFlow's CheckNumerics accepts bfloat16, half, float and double (chainrule has no bfloat16).
_CHECKED = (dtypes.float16, dtypes.float32, dtypes.float64)
_GRADIENT_MESSAGE = "Not a number (NaN) or infinity (Inf) values detected in gradient. "
# Outputs that are the new value of a variable, which TF 1.x's ref-typed outputs kept out of
# ``add_check_numerics_ops``: a check on one would run the assignment whenever the checks run.
_ASSIGNMENTS = frozenset(["Assign", "AssignAdd", "AssignSub"])


def non_finite_kinds(xp: Any, x: Any) -> str | None:
    """TensorFlow's words for what ``x`` holds that is not finite (``"NaN"``, ``"Inf"``, ``"Inf and NaN"``), or None."""
    if bool(xp.all(xp.isfinite(x))):
        return None
    nan = bool(xp.any(xp.isnan(x)))
    inf = bool(xp.any(xp.isinf(x)))
    return "Inf and NaN" if nan and inf else ("NaN" if nan else "Inf")


def _check_numerics_kernel(xp: Any, x: Any, message: str) -> Any:
    kinds = non_finite_kinds(xp, x)
    if kinds is not None:
        raise errors.InvalidArgumentError(None, None, f"{message} : Tensor had {kinds} values")
    return x


def _check_numerics_infer(inputs: list[Tensor], message: str) -> list[Any]:
    (x,) = inputs
    if x.dtype not in _CHECKED:
        raise TypeError(
            f"Value passed to parameter 'tensor' has DataType {x.dtype.name} not in list of allowed values: "
            + ", ".join(d.name for d in _CHECKED)
        )
    return [(x.dtype, x.shape)]


def _check_numerics_grad(op: Operation, grad: Tensor) -> list[Tensor]:
    return [check_numerics(grad, _GRADIENT_MESSAGE + op.get_attr("message"))]


register_op(
    "CheckNumerics",
    _check_numerics_kernel,
    _check_numerics_infer,
    _check_numerics_grad,
    elementwise=UNARY,
    # The tangent passes through unchecked: the op checks the values it is given, and a forward
    # derivative is not one of them (its reverse-mode gradient is checked, as in TensorFlow).
    jvp=lambda op, tangent: [tangent],
    explain=lambda b, op, a: a[0],
)


def check_numerics(tensor: Any, message: str, name: str | None = None) -> Tensor:
    """The same tensor, checked when it runs: an ``InvalidArgumentError`` if it holds a NaN or an infinity.

    Parameters
    ----------
    tensor : a float16, float32 or float64 tensor.
    message : the start of the error's message: ``"<message> : Tensor had NaN values"`` (or
        ``Inf values``, ``Inf and NaN values``), followed by the op's name and the line that created it.
    name : op name.

    Returns
    -------
    A tensor with ``tensor``'s value. Its gradient is the incoming gradient, checked too (message
    ``"Not a number (NaN) or infinity (Inf) values detected in gradient. <message>"``).

    Examples
    --------
    >>> x = cr.placeholder(cr.float64, [2])
    >>> y = cr.check_numerics(cr.log(x), "log of x")
    >>> cr.Session().run(y, {x: [1.0, -1.0]})
    Traceback (most recent call last):
    ...
    chainrule.framework.errors.InvalidArgumentError: log of x : Tensor had NaN values...
    """
    return apply("CheckNumerics", convert_to_tensor(tensor), name=name, message=str(message))


def verify_tensor_all_finite(t: Any, msg: str, name: str | None = None) -> Tensor:
    """``t``, checked when it runs (TF 1.x's ``tf.verify_tensor_all_finite``): ``check_numerics(t, msg)``.

    TensorFlow returns an identity of ``t`` with a control dependency on the check; the check's
    own output is that same value, and returning it keeps the check on the path of every use.

    Parameters
    ----------
    t : a float tensor.
    msg : the message of the error raised when ``t`` holds a NaN or an infinity.
    name : op name (``"VerifyFinite"`` by default).
    """
    return check_numerics(t, msg, name=name or "VerifyFinite")


def _has_float_output(op: Operation) -> bool:
    return any(t.dtype in _CHECKED for t in op.outputs)


def add_check_numerics_ops() -> Operation:
    """Add a ``check_numerics`` of every float16/32/64 tensor of the default graph; returns a group op of them.

    Running the returned op runs the checks, in the order the ops were created (each check has a
    control dependency on the previous one, as in TensorFlow, and the group on each), so the error names the first
    tensor, as ``"<op name>:<output index> : Tensor had NaN values"``. Fetch it with the training
    op (``sess.run([train_op, check_op])``) so that both see the same values. The new value of a
    variable (the output of ``assign``, ``assign_add``, ``assign_sub``) is not checked: in TF 1.x
    it is a reference, and a check on it would run the assignment.

    Raises
    ------
    ValueError
        When the graph holds control flow (``cr.cond``, ``cr.while_loop`` and the functions built
        on them) with float tensors inside, as TensorFlow 1.x does: checks cannot be put inside a
        branch or a loop body from outside. ``cr.debugging.enable_check_numerics()`` checks those
        ops too, without changing the graph.
    """
    graph = get_default_graph()
    ops = graph.get_operations()
    with_functions = [op for op in ops if function_bodies(op)]
    if with_functions and find_in_functions(with_functions, _has_float_output) is not None:
        raise ValueError(
            "`tf.add_check_numerics_ops() is not compatible with TensorFlow control flow operations such as "
            "`tf.cond()` or `tf.while_loop()`. Use cr.debugging.enable_check_numerics() to check every op, "
            "those inside branches and loops included."
        )
    check_op: list[Operation] = []
    checks = []
    for op in ops:
        if op.type in _ASSIGNMENTS:
            continue
        for output in op.outputs:
            if output.dtype in _CHECKED:
                with graph.control_dependencies(check_op):
                    check_op = [check_numerics(output, message=f"{op.name}:{output.value_index}").op]
                checks.append(check_op[0])
    # TensorFlow's group depends on the last check only (the chain brings the others); this one
    # depends on each, so that a check the compiler folds away (one of a constant) never takes
    # the checks before it out of the run with it.
    return group(*checks)
