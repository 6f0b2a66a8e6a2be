"""Ops that call Python at run time (``py_func``, ``numpy_function``), print (``Print``, ``print``),
and ``identity_n`` (several tensors through one op, which ``custom_gradient`` hangs its gradient on).

As in TensorFlow 1.x: ``py_func`` adds a ``PyFunc`` op (``PyFuncStateless`` with
``stateful=False``) whose outputs have unknown static shapes and no gradient, unless one is
given with ``graph.gradient_override_map({"PyFunc": "MyGrad"})``. ``Print`` is an identity that
writes its data to stderr each time it runs; ``print`` is an op with no outputs that writes when
it runs (fetch it, or make it a control dependency).
"""

from __future__ import annotations

import sys
import weakref
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from chainrule.framework import dtypes
from chainrule.framework.dtypes import DType, as_dtype
from chainrule.framework.graph import Operation, Tensor, get_default_graph
from chainrule.framework.tensor_shape import TensorShape
from chainrule.ops.constant_op import convert_to_tensor
from chainrule.ops.registry import apply_op, register_op

# --- identity_n ---------------------------------------------------------------------------------


def _identity_n_infer(inputs: list[Tensor]) -> list[tuple[DType, TensorShape]]:
    return [(t.dtype, t.shape) for t in inputs]


register_op(
    "IdentityN",
    lambda xp, *xs: xs[0] if len(xs) == 1 else tuple(xs),  # one output is stored as itself, not a 1-tuple
    _identity_n_infer,
    lambda op, *grads: list(grads),
    jvp=lambda op, *tangents: list(tangents),
)


def identity_n(input: Sequence[Any], name: str | None = None) -> list[Tensor]:  # noqa: A002 - TF's name
    """The tensors of ``input``, passed through one op unchanged (TF's ``identity_n``)."""
    tensors = [convert_to_tensor(x) for x in input]
    if not tensors:
        return []
    return list(apply_op("IdentityN", tensors, {}, name).outputs)


# --- py_func, numpy_function ------------------------------------------------------------------


def _py_func_infer(inputs: list[Tensor], func: Any, Tout: tuple[DType, ...], token: str) -> list[Any]:  # noqa: N803
    return [(t, TensorShape(None)) for t in Tout]


def _py_func_kernel(xp: Any, *arrays: Any, func: Any, Tout: tuple[DType, ...], token: str, **_: Any) -> Any:  # noqa: N803
    # Copies: the function may keep or modify its arguments, which may be a variable's storage.
    result = func(*(np.array(a) for a in arrays))
    if not Tout:
        return ()
    values = list(result) if isinstance(result, (list, tuple)) else [result]
    if len(values) != len(Tout):
        raise ValueError(f"{token} returns {len(values)} values, but expects to see {len(Tout)} values.")
    out = []
    for i, (value, dtype) in enumerate(zip(values, Tout)):
        arr = np.array(value, dtype=object) if dtype == dtypes.string else np.array(value)
        if arr.dtype != np.dtype(dtype.as_numpy_dtype):
            # TensorFlow refuses a mismatch rather than converting (float64 for float32 would lose data).
            raise ValueError(f"{i}-th value returned by {token} is {arr.dtype}, but expects {dtype.name}")
        out.append(arr)
    return out[0] if len(out) == 1 else tuple(out)  # a one-output kernel returns its array


_CALLS_PYTHON = "calls the user's Python function with NumPy arrays (TensorFlow's py_func contract)"
register_op("PyFunc", _py_func_kernel, _py_func_infer, None, stateful=True, numpy_only=_CALLS_PYTHON)
register_op("PyFuncStateless", _py_func_kernel, _py_func_infer, None, numpy_only=_CALLS_PYTHON)

_tokens = [0]


def py_func(
    func: Callable[..., Any],
    inp: Any,
    Tout: Any,  # noqa: N803 - TensorFlow's argument name
    stateful: bool = True,
    name: str | None = None,
) -> Any:
    """Wrap a Python function of NumPy arrays as an op (TF 1.x's ``tf.py_func``).

    Parameters
    ----------
    func : called at run time with one NumPy array per tensor of ``inp``; returns one array per
        dtype of ``Tout`` (a single array when ``Tout`` is one dtype), of exactly those dtypes:
        a mismatch is an error at run time, as in TensorFlow (no silent conversion).
    inp : a list of tensors (or a single tensor).
    Tout : a dtype, or a list/tuple of dtypes.
    stateful : True (op type ``PyFunc``): never merged or folded by the compiler. False
        (``PyFuncStateless``): a pure function, which the compiler may merge.
    name : op name.

    Returns
    -------
    A tensor (``Tout`` a single dtype) or a list of tensors, of unknown static shape (use
    ``set_shape`` to refine it); the Operation itself when ``Tout`` is an empty list.

    Notes
    -----
    The op has no gradient; give it one as TensorFlow programs do::

        @cr.RegisterGradient("MyGrad")
        def _my_grad(op, grad): ...
        with cr.get_default_graph().gradient_override_map({"PyFunc": "MyGrad"}):
            y = cr.py_func(f, [x], cr.float32)
    """
    is_list = isinstance(Tout, (list, tuple))
    types = tuple(as_dtype(t) for t in (Tout if is_list else [Tout]))
    inputs = [convert_to_tensor(x) for x in (inp if isinstance(inp, (list, tuple)) else [inp])]
    token = f"pyfunc_{_tokens[0]}"
    _tokens[0] += 1
    op_type = "PyFunc" if stateful else "PyFuncStateless"
    op = apply_op(op_type, inputs, {"func": func, "Tout": types, "token": token}, name)
    if not op.outputs:
        return op
    return list(op.outputs) if is_list else op.outputs[0]


def numpy_function(
    func: Callable[..., Any],
    inp: Any,
    Tout: Any,  # noqa: N803 - TensorFlow's argument name
    stateful: bool = True,
    name: str | None = None,
) -> Any:
    """``py_func`` under its TensorFlow 1.15+/2.x name: ``func`` takes and returns NumPy arrays."""
    return py_func(func, inp, Tout, stateful=stateful, name=name)


# --- value formatting (TensorFlow's, so printed lines read the same) ---------------------------


def format_element(value: Any) -> str:
    """One element as TensorFlow prints it: bools as 1/0, floats in the shortest of %.6g/%.9g
    (float32) or %.15g/%.17g (float64) that reads back the same, as its C++ ``StrCat`` does."""
    if isinstance(value, (bool, np.bool_)):
        return "1" if value else "0"
    if isinstance(value, (bytes, np.bytes_)):
        return bytes(value).decode(errors="replace")
    if isinstance(value, np.floating):
        short, long = (6, 9) if value.dtype.itemsize <= 4 else (15, 17)
        text = f"{float(value):.{short}g}"
        if type(value)(float(text)) != value and not np.isnan(value):
            text = f"{float(value):.{long}g}"
        return {"inf": "inf", "-inf": "-inf", "nan": "nan"}.get(text, text)
    return str(value)


def summarize_v1(value: np.ndarray, summarize: int) -> str:
    """``Tensor::SummarizeValue`` of TF 1.x (what ``tf.Print`` shows): the first ``summarize``
    elements in row-major order inside the tensor's brackets, ``...`` where it stops."""
    value = np.asarray(value)
    flat = value.ravel()
    limit = flat.size if summarize < 0 else min(summarize, flat.size)
    if value.ndim == 0:
        text = " ".join(format_element(flat[i]) for i in range(limit))
        return text + ("..." if flat.size > limit else "")
    parts: list[str] = []
    index = [0]

    def one_dim(dim: int) -> None:
        if index[0] >= limit:
            return
        count = value.shape[dim]
        if dim == value.ndim - 1:
            for i in range(count):
                if index[0] >= limit:
                    if dim != 0:
                        parts.append("...")
                    return
                if i > 0:
                    parts.append(" ")
                parts.append(format_element(flat[index[0]]))
                index[0] += 1
            return
        for _ in range(count):
            opened = index[0] < limit
            if opened:
                parts.append("[")
            one_dim(dim + 1)
            if index[0] < limit or opened:
                parts.append("]")

    one_dim(0)
    return "".join(parts) + ("..." if flat.size > limit else "")


def summarize_v2(value: np.ndarray, summarize: int, indent: int = 0) -> str:
    """How ``tf.print`` shows a tensor: NumPy-like rows, the first and last ``summarize`` entries
    of each dimension around ``...`` (all of them when ``summarize`` is negative)."""
    value = np.asarray(value)
    if value.ndim == 0:
        return format_element(value[()])
    n = value.shape[0]
    rows: list[int | None] = list(range(n))
    if 0 <= summarize and n > 2 * summarize:
        rows = [*range(summarize), None, *range(n - summarize, n)]
    if value.ndim == 1:
        return "[" + " ".join("..." if i is None else format_element(value[i]) for i in rows) + "]"
    sep = "\n" * (value.ndim - 1) + " " * (indent + 1)
    return "[" + sep.join("..." if i is None else summarize_v2(value[i], summarize, indent + 1) for i in rows) + "]"


# --- Print (TF 1.x) -------------------------------------------------------------------------------

# How many times each Print op has printed, per Session state (``first_n`` counts per session, as in TF).
_print_counts: weakref.WeakKeyDictionary[Any, dict[str, int]] = weakref.WeakKeyDictionary()


def _print_kernel(
    xp: Any, x: Any, *data: Any, message: str, first_n: int, summarize: int, ctx: Any = None, op: Any = None
) -> Any:
    if first_n >= 0:
        counts = _print_counts.setdefault(ctx, {}) if ctx is not None else {}
        key = op.name if op is not None else ""
        if counts.get(key, 0) >= first_n:
            return x
        counts[key] = counts.get(key, 0) + 1
    text = message + "".join(f"[{summarize_v1(np.asarray(d), summarize)}]" for d in data)
    sys.stderr.write(text + "\n")
    sys.stderr.flush()
    return x


register_op(
    "Print",
    _print_kernel,
    lambda inputs, **attrs: [(inputs[0].dtype, inputs[0].shape)],
    lambda op, grad: [grad] + [None] * (len(op.inputs) - 1),
    stateful=True,
    jvp=lambda op, tangent, *rest: [tangent],
)


def Print(  # noqa: N802 - TensorFlow's name
    input_: Any,
    data: Sequence[Any],
    message: str | None = None,
    first_n: int | None = None,
    summarize: int | None = None,
    name: str | None = None,
) -> Tensor:
    """An identity of ``input_`` that writes ``message`` and the values of ``data`` to stderr when it runs.

    Parameters
    ----------
    input_ : the tensor passed through (its gradient passes through too).
    data : tensors whose values are printed, each as ``[v0 v1 v2...]`` (TF 1.x's format).
    message : text put in front.
    first_n : print only the first ``first_n`` runs (per Session); None or negative: every run.
    summarize : how many entries of each tensor to print (3 by default; negative: all).
    name : op name.
    """
    x = convert_to_tensor(input_)
    tensors = [convert_to_tensor(d) for d in data]
    attrs = {
        "message": "" if message is None else str(message),
        "first_n": -1 if first_n is None else int(first_n),
        "summarize": 3 if summarize is None else int(summarize),
    }
    return apply_op("Print", [x, *tensors], attrs, name).outputs[0]


# --- print (TF 2.x's tf.print, an op with no outputs) --------------------------------------------


def _flatten(obj: Any, tensors: list[Tensor]) -> Any:
    """A template of ``obj`` with each tensor replaced by its index in ``tensors``."""
    if isinstance(obj, dict):
        return ("dict", [(k, _flatten(v, tensors)) for k, v in obj.items()])
    if isinstance(obj, (list, tuple)):
        return ("list" if isinstance(obj, list) else "tuple", [_flatten(v, tensors) for v in obj])
    tensor = convert_to_tensor(obj) if hasattr(obj, "_as_tensor") or isinstance(obj, (Tensor, np.ndarray)) else None
    if tensor is not None:
        tensors.append(tensor)
        return ("tensor", len(tensors) - 1)
    return ("py", obj)


def _render(template: Any, values: Sequence[Any], summarize: int, top: bool) -> str:
    kind, item = template
    if kind == "tensor":
        return summarize_v2(values[item], summarize)
    if kind == "py":
        return str(item) if top or not isinstance(item, str) else repr(item)
    if kind == "dict":
        return "{" + ", ".join(f"{k!r}: {_render(v, values, summarize, False)}" for k, v in item) + "}"
    body = ", ".join(_render(v, values, summarize, False) for v in item)
    return f"[{body}]" if kind == "list" else f"({body}{',' if len(item) == 1 else ''})"


def _stream_spec(output_stream: Any) -> Any:
    """sys.stderr/sys.stdout by name (looked up when the op runs, so redirections apply), else as given."""
    if output_stream is sys.stderr or output_stream is sys.__stderr__:
        return "stderr"
    if output_stream is sys.stdout or output_stream is sys.__stdout__:
        return "stdout"
    if isinstance(output_stream, str):
        if not output_stream.startswith("file://"):
            raise ValueError(
                "output_stream must be sys.stderr, sys.stdout, a logging function or 'file://...', "
                f"got {output_stream!r}"
            )
        return output_stream
    if callable(output_stream) or hasattr(output_stream, "write"):
        return output_stream
    raise ValueError(f"Unsupported output_stream {output_stream!r}")


def _write(stream: Any, text: str, end: str) -> None:
    if stream == "stderr" or stream == "stdout":
        target = sys.stderr if stream == "stderr" else sys.stdout
        target.write(text + end)
        target.flush()
    elif isinstance(stream, str):
        with open(stream[len("file://") :], "a", encoding="utf-8") as f:
            f.write(text + end)
    elif hasattr(stream, "write"):
        stream.write(text + end)
    else:
        stream(text)  # a logging function (cr.logging.info): it ends the line itself


def _print_v2_kernel(
    xp: Any,
    *values: Any,
    template: Any,
    stream: Any,
    summarize: int,
    sep: str,
    end: str,
    ctx: Any = None,
    op: Any = None,
) -> Any:
    text = sep.join(_render(t, values, summarize, True) for t in template)
    _write(stream, text, end)
    return ()


register_op(
    "PrintV2",
    _print_v2_kernel,
    lambda inputs, **attrs: [],
    None,
    stateful=True,
    numpy_only="formats values on the host",
)


def print_v2(*inputs: Any, **kwargs: Any) -> Operation:
    """``tf.print``: an op that prints ``inputs`` (tensors, Python values, nested lists/dicts) when it runs.

    Keyword arguments (TF's): ``output_stream`` (``sys.stderr`` by default; ``sys.stdout``, a
    logging function such as ``cr.logging.info``, or ``"file:///path"``), ``summarize`` (entries
    shown at the start and end of each dimension, 3 by default; negative: all), ``sep`` (" "),
    ``end`` ("\\n"), ``name``.

    Returns
    -------
    The Operation (no outputs): in a graph it runs only when fetched or made a control dependency::

        with cr.control_dependencies([cr.print("loss:", loss)]):
            train = optimizer.minimize(loss)
    """
    unknown = set(kwargs) - {"output_stream", "summarize", "sep", "end", "name"}
    if unknown:
        raise TypeError(f"print() got unexpected keyword arguments {sorted(unknown)}")
    summarize = kwargs.get("summarize", 3)
    tensors: list[Tensor] = []
    template = tuple(_flatten(x, tensors) for x in inputs)
    attrs = {
        "template": template,
        "stream": _stream_spec(kwargs.get("output_stream", sys.stderr)),
        "summarize": 3 if summarize is None else int(summarize),
        "sep": str(kwargs.get("sep", " ")),
        "end": str(kwargs.get("end", "\n")),
    }
    graph = tensors[0].graph if tensors else get_default_graph()
    with graph.as_default():
        return apply_op("PrintV2", tensors, attrs, kwargs.get("name"))
