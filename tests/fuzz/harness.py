"""The op fuzzer's harness: call public op functions on random tensors and classify each outcome.

Classes: ``ok`` (runtime dtype and shape equal the static ones, compiled == interpreted bitwise,
NaNs equal), ``clear`` (a chainrule error class, or a TypeError/ValueError/NotImplementedError
raised by chainrule's own code), ``wrapped`` (a run-time InvalidArgumentError that names the op,
its line and the runtime shapes, but whose message is a NumPy IndexError/AxisError from the
kernel: a kernel that trusts a rank its static rule could not check), ``raw`` (anything else:
an exception from NumPy's or Python's internals, IndexError, OverflowError, ZeroDivisionError,
RecursionError...) and ``silent`` (a
static/runtime mismatch or compiled != interpreted).
"""

from __future__ import annotations

import importlib
import inspect
import os
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import strategies as st

import chainrule as cr
from chainrule import compiler
from chainrule.ops import registry

NAMESPACES = ("chainrule", "chainrule.nn", "chainrule.math", "chainrule.linalg")
# Functions that take callables, run sessions, or build no op from tensors alone.
NOT_OP_BUILDERS = frozenset(
    {
        "cond",
        "case",
        "while_loop",
        "scan",
        "map_fn",
        "foldl",
        "foldr",
        "py_func",
        "numpy_function",
        "py_function",
        "custom_gradient",
        "custom_op",
        "function",
        "make_template",
        "group",
        "tuple",
        "get_variable",
        "variable_scope",
        "no_op",
        "print",
        "Print",
        "while_loop_v2",
        "control_dependencies",
        "name_scope",
        "device",
        "colocate_with",
        "get_default_graph",
        "reset_default_graph",
        "Assert",
        "assert_equal",
        "switch_case",
        "linear",
        "zero",
        "broadcast_shapes",
        "global_variables",
        "local_variables",
        "model_variables",
        "moving_average_variables",
        "trainable_variables",
        "variables_initializer",
        "initialize_variables",
    }
)
DTYPES = (np.float32, np.float64, np.int32, np.int64, np.bool_)
CLEAR_TYPES = (TypeError, ValueError, NotImplementedError)
INTERPRETED = compiler.Options(passes=(), codegen=False)


def op_functions() -> list[tuple[str, Callable[..., Any]]]:
    """Public functions of the namespaces that are defined in chainrule's op modules."""
    found: dict[str, Callable[..., Any]] = {}
    for ns in NAMESPACES:
        module = importlib.import_module(ns)
        for name in sorted(dir(module)):
            fn = getattr(module, name)
            if name.startswith("_") or name in NOT_OP_BUILDERS or not inspect.isfunction(fn):
                continue
            if not (fn.__module__ or "").startswith(
                ("chainrule.ops", "chainrule.math", "chainrule.nn", "chainrule.linalg")
            ):
                continue
            found.setdefault(f"{ns}.{name}".removeprefix("chainrule."), fn)
    return sorted(found.items())


def tensor_params(fn: Callable[..., Any]) -> list[str]:
    """The required positional parameters: those the fuzzer fills with tensors."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return []
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return [p.name for p in params if p.kind in kinds and p.default is inspect.Parameter.empty]


@st.composite
def arrays(draw: Any) -> tuple[np.ndarray, list[int | None] | None]:
    """A value and the static shape of the placeholder feeding it (None: a constant)."""
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(st.lists(st.integers(0, 3), min_size=0, max_size=3))
    size = int(np.prod(shape)) if shape else 1
    if dtype == np.bool_:
        flat = draw(st.lists(st.booleans(), min_size=size, max_size=size))
    elif np.issubdtype(dtype, np.integer):
        flat = draw(st.lists(st.integers(-3, 5), min_size=size, max_size=size))
    else:
        special = st.sampled_from([np.nan, np.inf, -np.inf, 0.0, -0.0])
        flat = draw(st.lists(st.one_of(st.floats(-10, 10), special), min_size=size, max_size=size))
    value = np.array(flat, dtype=dtype).reshape(shape)
    feed = draw(st.sampled_from(["constant", "placeholder", "unknown"]))
    if feed == "constant":
        return value, None
    static = [d if draw(st.booleans()) else None for d in shape] if feed == "placeholder" else None
    return value, (static if feed == "placeholder" else ["?"])


_CHAINRULE_DIR = str(Path(cr.__file__).resolve().parent)
_NUMPY_DIR = str(Path(np.__file__).resolve().parent)


def _raised_by_chainrule(e: BaseException) -> bool:
    # By package folder, not by name: chainrule has a chainrule/numpy/ of its own, and a checkout's
    # path may contain either word.
    frames = traceback.extract_tb(e.__traceback__)
    if not frames:
        return False
    where = str(Path(frames[-1].filename).resolve())
    return where.startswith(_CHAINRULE_DIR) and not where.startswith(_NUMPY_DIR)


def classify_error(e: BaseException) -> str:
    if isinstance(e, cr.errors.OpError):
        cause = e.__cause__
        if isinstance(cause, (IndexError, OverflowError, ZeroDivisionError, RecursionError, KeyError, AttributeError)):
            return "wrapped" if e.op is not None else "raw"
        return "clear"
    if isinstance(e, CLEAR_TYPES) and not isinstance(e, (IndexError, OverflowError)) and _raised_by_chainrule(e):
        return "clear"
    return "raw"


def _bitwise_equal(a: Any, b: Any) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if a.dtype.kind in "fc":
        return bool(np.all((a == b) | (np.isnan(a) & np.isnan(b))))
    return bool(np.array_equal(a, b))


def run_case(fn: Callable[..., Any], values: list[tuple[np.ndarray, Any]]) -> tuple[str, str]:
    """Build ``fn`` on ``values``, run it compiled and interpreted: (class, detail)."""
    graph = cr.Graph()
    feeds: dict[Any, np.ndarray] = {}
    with graph.as_default():
        args = []
        for value, static in values:
            if static is None:
                args.append(cr.constant(value))
            else:
                p = cr.placeholder(cr.as_dtype(value.dtype), None if static == ["?"] else static)
                feeds[p] = value
                args.append(p)
        names = tensor_params(fn)
        kwargs = dict(zip(names, args))
        try:
            inspect.signature(fn).bind(**kwargs)
        except TypeError:
            return "n/a", "the function does not take tensors for its required arguments"
        try:
            out = fn(**kwargs)
        except RecursionError as e:
            return "raw", f"build: {type(e).__name__}"
        except Exception as e:  # noqa: BLE001 - classified
            return classify_error(e), f"build: {type(e).__name__}: {str(e).splitlines()[0][:120] if str(e) else ''}"
    fetches = [t for t in (out if isinstance(out, (list, tuple)) else [out]) if isinstance(t, cr.Tensor)]
    if not fetches:
        return "ok", "no tensor"
    results = []
    for options in (None, INTERPRETED):
        try:
            results.append(cr.Session(graph=graph, optimize=options).run(fetches, feeds))
        except Exception as e:  # noqa: BLE001 - classified
            results.append(e)
    kinds = [isinstance(r, BaseException) for r in results]
    if all(kinds):
        err = results[1]
        cause = f" from {type(err.__cause__).__name__}: {err.__cause__}" if err.__cause__ is not None else ""
        return classify_error(err), f"run: {type(err).__name__}{cause}"
    if any(kinds):
        err = next(r for r in results if isinstance(r, BaseException))
        return (
            "silent",
            f"only one of compiled/interpreted raised {type(err).__name__}: {str(err).splitlines()[0][:120]}",
        )
    # Random draws differ between two sessions: those results are compared by dtype and shape only.
    random = any(
        registry.find_op_def(op.type) is not None and registry.find_op_def(op.type).stateful
        for op in graph.get_operations()
    )
    for t, a, b in zip(fetches, results[0], results[1], strict=True):
        arr = np.asarray(b)
        if t.dtype.name not in ("string",) and arr.dtype != np.dtype(t.dtype.as_numpy_dtype):
            return "silent", f"{t.name}: static dtype {t.dtype.name}, runtime {arr.dtype}"
        if not t.shape.is_compatible_with(arr.shape):
            return "silent", f"{t.name}: static shape {t.shape}, runtime {arr.shape}"
        if not random and not _bitwise_equal(a, b):
            return "silent", f"{t.name}: compiled != interpreted"
    return "ok", ""


def examples_per_op(default: int) -> int:
    return int(os.environ.get("CHAINRULE_FUZZ_EXAMPLES", default))
