"""Seeing where numbers went wrong: the check-numerics mode, and NumPy's warnings put on the user's line.

Two things, both reached from ``Plan.execute``:

- ``cr.debugging.enable_check_numerics()`` (TensorFlow 2's name) turns on, for the calling
  thread, a mode in which every run checks each float output of each op as it is produced and
  stops at the first op that gives a NaN or an infinity, with an ``InvalidArgumentError`` that
  names the op, its type, its creation line and, for an op of a gradient, the forward op it is
  the gradient of. The plans run in that mode are built apart from the ordinary ones, from the
  graph as written (no rewrites, no fusion, so that every op is checked under its own name), and
  the ordinary plans carry no checks at all.
- NumPy's floating-point warnings (divide by zero, overflow, invalid value) raised inside a
  plan are issued again against the op and the line of user code that created it, instead of
  the generated function's ``<chainrule plan N>:2``. ``located_warnings()`` does it by switching
  NumPy's error mode from ``"warn"`` to ``"call"`` for the run (NumPy's error state is per
  thread and per context, so other threads are not affected); the user's ``np.seterr`` /
  ``np.errstate`` choices of ``"ignore"``, ``"raise"``, ``"print"``, ``"log"`` and ``"call"`` are kept.
"""

from __future__ import annotations

import re
import sys
import threading
import warnings
from typing import Any

import numpy as np

from chainrule.framework import dtypes, errors
from chainrule.framework.graph import Operation

__all__ = [
    "CHECK",
    "STATE",
    "checking",
    "check_value",
    "describe_op",
    "disable_check_numerics",
    "enable_check_numerics",
    "gradient_of",
    "is_checked",
    "located_warnings",
    "register_interpreter",
    "restore_warnings",
]

_CHECKED_DTYPES = frozenset([dtypes.float16, dtypes.float32, dtypes.float64])


# --- the mode ---------------------------------------------------------------------------------------
class _ThreadState(threading.local):
    enabled = False  # the class attribute is every new thread's value


STATE = _ThreadState()  # ``STATE.enabled``: read by every run (``Plan.execute``)


def enable_check_numerics(stack_height_limit: int = 30, path_length_limit: int = 50) -> None:
    """Check every float output of every op in this thread's runs; stop at the first NaN or infinity.

    Parameters
    ----------
    stack_height_limit, path_length_limit : accepted for TensorFlow 2's signature and ignored:
        chainrule records one frame per op (the line of user code that created it), and the error
        shows it whole.

    Notes
    -----
    As in TensorFlow 2, the mode holds for the calling thread only, and calling this twice is
    the same as once. A run in this mode raises ``cr.errors.InvalidArgumentError`` at the first op
    (in execution order, inside ``cr.cond`` branches and loop bodies too) whose output holds a
    NaN or an infinity, and at a fed value that does; the message names the op, its type, the
    line that created it, the counts of NaN and infinite elements and, for an op made by
    ``cr.gradients`` (or an optimizer), the forward op it is part of the gradient of. Runs in this
    mode execute the graph as written (no compiler rewrites, no fusion) with a check after every
    op, so they are slower; the plans of ordinary runs are untouched.
    """
    del stack_height_limit, path_length_limit
    STATE.enabled = True


def disable_check_numerics() -> None:
    """Turn ``enable_check_numerics`` off for this thread (idempotent)."""
    STATE.enabled = False


def checking() -> bool:
    """Whether this thread's runs check every op's outputs."""
    return STATE.enabled


def is_checked(dtype: Any) -> bool:
    """Whether values of ``dtype`` are checked (the float types, as TensorFlow's ``is_floating``)."""
    return dtype in _CHECKED_DTYPES


# --- naming an op for the user ---------------------------------------------------------------------
_GRADIENT_SCOPE = re.compile(r"(?:^|/)(?:gradients|hessians)(?:_\d+)?/")


def gradient_of(op: Operation) -> Operation | None:
    """The forward op whose gradient ``op`` is part of, when ``op`` lives under a ``gradients`` (or ``hessians``) scope.

    ``cr.gradients`` names the ops of an op's gradient ``gradients/<op name>_grad/...``; the longest
    such prefix that names an op of the graph is the answer (None when there is none, e.g. for
    the aggregation ``gradients/AddN``).
    """
    graph = op.graph
    name = op.name
    for scope in _GRADIENT_SCOPE.finditer(name):
        rest = name[scope.end() :].split("/")
        for j in range(len(rest) - 2, -1, -1):
            if rest[j].endswith("_grad"):
                candidate = "/".join([*rest[:j], rest[j][: -len("_grad")]])
                found = _op_named(graph, candidate)
                if found is not None and found is not op:
                    return found
    return None


def _op_named(graph: Any, name: str) -> Operation | None:
    try:
        found = graph.get_operation_by_name(name)
    except (KeyError, ValueError, errors.NotFoundError):
        return None
    return found if isinstance(found, Operation) else None


def describe_op(op: Operation) -> str:
    """``'name' (Type)``, its creation line and, for a gradient op, the chain of forward ops it is the gradient of."""
    text = op.describe()
    forward = gradient_of(op)
    seen = {op}
    while forward is not None and forward not in seen:
        seen.add(forward)
        text += f"\n  part of the gradient of {forward.describe()}"
        forward = gradient_of(forward)
    if _GRADIENT_SCOPE.search(op.name) and len(seen) == 1:
        text += "\n  part of a gradient computation (the ops cr.gradients adds)"
    return text


# --- the check ---------------------------------------------------------------------------------------
def check_value(node: Any, index: int, value: Any) -> None:
    """Raise if ``value`` (output ``index`` of the compiler node ``node``, or a fed value) is not all finite.

    Generated plans call it after each op in the check-numerics mode; ``node.origin`` is the
    user's op (a fed value's node stands for the fed placeholder).
    """
    try:
        ok = bool(np.all(np.isfinite(value)))
    except TypeError:  # not numbers (an object array): nothing to check
        return
    if ok:
        return
    op = node.origin
    arr = np.asarray(value)
    nan = int(np.count_nonzero(np.isnan(arr)))
    inf = np.isinf(arr)
    neg = int(np.count_nonzero(inf & (arr < 0)))
    pos = int(np.count_nonzero(inf & (arr > 0)))
    counts = ", ".join(f"{n} {what}" for n, what in ((nan, "NaN"), (neg, "-Inf"), (pos, "+Inf")) if n)
    if node.op_type == "Feed":
        head = f"the value fed for '{node.attrs['tensor']}'"
        where = op.describe() if op is not None else ""
    else:
        outputs = len(node.outputs)
        head = f"output {index} of op '{op.name}' ({op.type}) (# of outputs: {outputs})"
        where = describe_op(op)
    message = (
        f"!!! Detected Infinity or NaN in {head} !!!\n"
        f"  dtype: {arr.dtype}, shape: {arr.shape}; elements: {counts} of {arr.size}\n"
        f"  op: {where}"
    )
    if node.op_type != "Feed" and op is not None and op.inputs:
        message += "\n  inputs: " + ", ".join(f"{t.name} {t.dtype.name}{t.shape}" for t in op.inputs)
    raise errors.InvalidArgumentError(op.node_def if op is not None else None, op, message)


class _Checker:
    """``check_value`` with the question code generation asks it: which dtypes it checks."""

    __slots__ = ()

    def __call__(self, node: Any, index: int, value: Any) -> None:
        check_value(node, index, value)

    @staticmethod
    def dtypes(dtype: Any) -> bool:
        return is_checked(dtype)


CHECK = _Checker()


# --- NumPy's warnings, on the user's line ---------------------------------------------------------
try:  # NumPy >= 2: the error state is a context variable holding an opaque "extobj"
    from numpy._core._multiarray_umath import _extobj_contextvar, _make_extobj  # type: ignore[import-not-found, attr-defined, unused-ignore]
except ImportError:  # older NumPy: np.errstate per run (slower, same behaviour)
    _extobj_contextvar = None
    _make_extobj = None

_CATEGORIES = {"divide by zero": "divide", "overflow": "over", "underflow": "under", "invalid value": "invalid"}
_OURS: dict[Any, Any] = {}  # the user's error state -> ours (None: leave it), a few entries at most
_REGISTRIES: dict[str, dict[Any, Any]] = {}  # per user file: what ``warnings`` has shown once already
_PLAN_FILES = "<chainrule "
_INTERPRETER_CODES: set[Any] = set()


def _on_numpy_error(kind: str, flag: int) -> None:
    """NumPy's ``"call"`` handler: warn as NumPy would, but at the op's creation line."""
    op = _current_op(sys._getframe(1))
    message = f"{kind} encountered"
    if op is None or op.source is None:
        warnings.warn(message, RuntimeWarning, stacklevel=2)
        return
    source = op.source
    message += f" in op '{op.name}' ({op.type})"
    forward = gradient_of(op)
    if forward is not None:
        message += f", part of the gradient of '{forward.name}' ({forward.type})"
        if forward.source is not None:
            message += f" created at {forward.source.filename}:{forward.source.lineno}"
    registry = _REGISTRIES.setdefault(source.filename, {})
    warnings.warn_explicit(message, RuntimeWarning, source.filename, source.lineno, registry=registry)


def _current_op(frame: Any) -> Operation | None:
    """The user's op whose code ``frame`` (or a caller of it) is running, found by the generated function's line."""
    while frame is not None:
        code = frame.f_code
        if code.co_filename.startswith(_PLAN_FILES):
            compiled = frame.f_globals.get("__chainrule_function__")
            node = compiled.node_at(frame.f_lineno, code.co_filename) if compiled is not None else None
            if node is not None and node.origin is not None:
                return node.origin
        elif code in _INTERPRETER_CODES:
            node = frame.f_locals.get("node")  # the interpreter's loop (Options(codegen=False))
            if getattr(node, "origin", None) is not None:
                return node.origin
        frame = frame.f_back
    return None


def register_interpreter(function: Any) -> None:
    """Declare an interpreter loop (a function whose local ``node`` is the node it runs), for locating warnings."""
    _INTERPRETER_CODES.add(function.__code__)


def _ours_for(current: Any) -> Any:
    """Our error state for the user's ``current`` one, or None to leave it (a handler of theirs, or ours already)."""
    modes = np.geterr()
    if np.geterrcall() is not None or any(m in ("call", "log") for m in modes.values()):
        return None
    changed = {k: "call" for k, m in modes.items() if m == "warn"}
    if not changed:
        return None
    if _make_extobj is None:
        return changed
    return _make_extobj(call=_on_numpy_error, **changed)


def _learn(current: Any) -> Any:
    ours = _ours_for(current)
    if len(_OURS) >= 8:
        _OURS.clear()
    _OURS[current] = ours
    if ours is not None:
        _OURS[ours] = None  # a plan run inside a run keeps the outer run's state
    return ours


if _extobj_contextvar is not None:
    _get_state, _set_state = _extobj_contextvar.get, _extobj_contextvar.set

    def located_warnings() -> Any:
        """Start a run whose NumPy warnings name the op and the user's line; give the result to ``restore_warnings``.

        Returns None when there is nothing to restore. This is on every run's path, hence the
        bound methods and the per-error-state cache: a context variable's get, set and reset.
        """
        current = _get_state()
        ours = _OURS.get(current, _OURS)
        if ours is _OURS:  # an error state not seen yet: work out ours once
            ours = _learn(current)
        return None if ours is None else _set_state(ours)

    restore_warnings = _extobj_contextvar.reset

else:

    def located_warnings() -> Any:
        """Start a run whose NumPy warnings name the op and the user's line (older NumPy: an ``np.errstate``)."""
        changed = _ours_for(None)
        if changed is None:
            return None
        state = np.errstate(call=_on_numpy_error, **changed)
        state.__enter__()
        return state

    def restore_warnings(token: Any) -> None:
        """End what ``located_warnings`` started (its result, when not None)."""
        token.__exit__(None, None, None)
