"""Fused elementwise regions as CUDA sources for ``cupy.ElementwiseKernel`` (pure Python: no CuPy needed).

A region is a compiler ``Fused`` node (``compiler.fusion``: a chain of elementwise ops whose
intermediate values nothing else reads) or one elementwise op of several ufunc steps
(``Sigmoid`` is four). Its members declare their kernels as NumPy ufunc steps
(``ops.ufunc_steps``); each step becomes one C expression, in the member's computation dtype,
following NumPy's definition of the ufunc where C's differs (``maximum`` propagates NaN,
``sign(nan)`` is NaN, ``logaddexp``, ``floor_divide`` and ``mod`` of floats are NumPy's
``npy_divmod``). The whole region is then one kernel: one pass over the broadcast inputs, no
temporaries in device memory.

``region_source(node)`` returns an ``ElementwiseSource`` (the arguments of
``cupy.ElementwiseKernel``), or a string saying why the region is not lowered (a dtype or a step
with no exact C form: integer ``floor_divide``, ``power`` and ``true_divide``, complex and float16
values); such a region runs its members with CuPy's own ufuncs, one kernel each. The sources use
only C99 and the CUDA math functions that C99's ``math.h`` also has (``expf``/``exp``...), with
helper functions marked ``__device__``: with ``#define __device__`` they compile and run as C,
which is how the tests check every region of the op table on a CPU.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from chainrule.compiler.codegen import node_steps
from chainrule.compiler.ir import Node, Value
from chainrule.ops.ufunc_steps import ONE, PREV, ZERO_ARRAY, ZERO_SCALAR

__all__ = ["C_TYPES", "HELPERS", "ElementwiseSource", "region_source", "region_members"]

# NumPy dtype -> (CuPy's parameter type name, the C type CuPy declares it as).
C_TYPES = {
    np.dtype(np.bool_): ("bool", "bool"),
    np.dtype(np.int32): ("int32", "int"),
    np.dtype(np.int64): ("int64", "long long"),
    np.dtype(np.float32): ("float32", "float"),
    np.dtype(np.float64): ("float64", "double"),
}

# Ufuncs that are one C math function: name -> the function's name (float32 takes the ``f`` suffix).
_MATH = {
    "exp": "exp", "expm1": "expm1", "log": "log", "log1p": "log1p", "sqrt": "sqrt",
    "sin": "sin", "cos": "cos", "tan": "tan", "sinh": "sinh", "cosh": "cosh", "tanh": "tanh",
    "arcsin": "asin", "arccos": "acos", "arctan": "atan", "arcsinh": "asinh", "arccosh": "acosh",
    "arctanh": "atanh", "floor": "floor", "ceil": "ceil", "rint": "rint", "arctan2": "atan2",
    "power": "pow",
}  # fmt: skip
_INFIX = {"add": "+", "subtract": "-", "multiply": "*", "true_divide": "/"}
_COMPARE = {"equal": "==", "not_equal": "!=", "less": "<", "less_equal": "<=", "greater": ">", "greater_equal": ">="}
_LOGICAL = {"logical_and": "&&", "logical_or": "||"}
_BOOL_RESULT = frozenset([*_COMPARE, *_LOGICAL, "logical_not"])
_FLOAT_ONLY = frozenset([*_MATH, "logaddexp", "floor_divide", "mod"])  # no exact integer C form here


def _helper(kind: str, c_type: str) -> tuple[str, str]:
    """A helper function's name and definition (include-guarded, so a file may hold each once)."""
    suffix = "f32" if c_type == "float" else "f64"
    f = "f" if c_type == "float" else ""
    name = f"cr_{kind}_{suffix}"
    t = c_type
    if kind == "logaddexp":  # NumPy's npy_logaddexp
        body = (
            f"    if (x == y) return x + ({t})0.69314718055994530942;\n"
            f"    {t} d = x - y;\n"
            f"    if (d > 0) return x + log1p{f}(exp{f}(-d));\n"
            f"    if (d <= 0) return y + log1p{f}(exp{f}(d));\n"
            f"    return d;\n"
        )
    elif kind == "floor_divide":  # NumPy's npy_divmod, its quotient
        body = (
            f"    if (y == 0) return x / y;\n"
            f"    {t} m = fmod{f}(x, y);\n"
            f"    {t} q = (x - m) / y;\n"
            f"    if (m != 0 && ((y < 0) != (m < 0))) q -= 1;\n"
            f"    if (q == 0) return copysign{f}(0, x / y);\n"
            f"    {t} r = floor{f}(q);\n"
            f"    if (q - r > ({t})0.5) r += 1;\n"
            f"    return r;\n"
        )
    elif kind == "mod":  # NumPy's npy_divmod, its remainder
        body = (
            f"    {t} m = fmod{f}(x, y);\n"
            f"    if (y == 0) return m;\n"
            f"    if (m != 0) {{ if ((y < 0) != (m < 0)) m += y; }} else {{ m = copysign{f}(0, y); }}\n"
            f"    return m;\n"
        )
    else:
        raise ValueError(kind)
    guard = name.upper()
    definition = (
        f"#ifndef {guard}\n#define {guard}\n"
        f"__device__ {t} {name}({t} x, {t} y) {{\n{body}}}\n#endif\n"
    )  # fmt: skip
    return name, definition


HELPERS = ("logaddexp", "floor_divide", "mod")


@dataclasses.dataclass(frozen=True)
class ElementwiseSource:
    """The arguments of ``cupy.ElementwiseKernel`` for one region, and what it was made from.

    ``in_params`` names the region's inputs ``a0, a1, ...`` (in the fused node's input order) with
    their dtypes, ``out_params`` the output ``out``; ``operation`` is the loop body (C statements
    over one element), ``preamble`` the helper functions it calls.
    """

    name: str
    in_params: str
    out_params: str
    operation: str
    preamble: str
    in_dtypes: tuple[np.dtype, ...]
    out_dtype: np.dtype
    members: tuple[str, ...]

    def kernel(self, module: Any) -> Any:
        """The ``module.ElementwiseKernel`` (CuPy compiles it with NVRTC on its first call, then caches it)."""
        return module.ElementwiseKernel(
            self.in_params, self.out_params, self.operation, self.name, preamble=self.preamble
        )


def region_members(node: Node) -> tuple[list[Node], list[Value]] | None:
    """A region's members and inputs: a ``Fused`` node's group, or an op of several steps alone; else None."""
    if node.op_type == "Fused":
        group = node.extra
        return list(group.members), list(group.inputs)
    steps = node_steps(node)
    if steps is not None and len(steps) > 1:
        return [node], list(node.inputs)
    return None


def region_source(node: Node) -> ElementwiseSource | str | None:
    """The CUDA source of ``node``'s region; a string saying why it has none; None when ``node`` is no region."""
    found = region_members(node)
    if found is None:
        return None
    members, inputs = found
    return members_source(members, inputs)


def members_source(members: Sequence[Node], inputs: Sequence[Value]) -> ElementwiseSource | str:
    """The kernel computing ``members`` (in order; the last one's value is the output) from ``inputs``."""
    names: dict[Value, tuple[str, np.dtype]] = {}
    params = []
    for i, v in enumerate(inputs):
        dtype = _np_dtype(v)
        if dtype not in C_TYPES:
            return f"input {i} has dtype {dtype}, which the generated kernels do not take"
        names[v] = (f"a{i}", dtype)
        params.append(f"{C_TYPES[dtype][0]} a{i}")
    lines: list[str] = []
    helpers: dict[str, str] = {}
    for k, m in enumerate(members):
        steps = node_steps(m)
        if steps is None:
            return f"{m.op_type} has no ufunc steps"
        out_dtype = _np_dtype(m)
        if out_dtype not in C_TYPES:
            return f"{m.op_type} returns {out_dtype}, which the generated kernels do not take"
        if any(v not in names for v in m.inputs):
            return f"{m.op_type} reads a value from outside the region that is not one of its inputs"
        operands = [names[v] for v in m.inputs]
        comp = np.result_type(*[d for _, d in operands]) if operands else out_dtype
        if comp not in C_TYPES:
            return f"{m.op_type} computes in {comp}"
        prev: tuple[str, np.dtype] | None = None
        for j, (ufunc, *tokens) in enumerate(steps):
            args: list[tuple[str, np.dtype]] = []
            for token in tokens:
                if isinstance(token, int):
                    args.append(operands[token])
                elif token == PREV:
                    assert prev is not None
                    args.append(prev)
                elif token in (ONE, ZERO_ARRAY, ZERO_SCALAR):
                    args.append((f"(({C_TYPES[comp][1]}){1 if token == ONE else 0})", comp))
                else:
                    return f"{m.op_type}: unknown step argument {token!r}"
            result_dtype = np.dtype(np.bool_) if ufunc in _BOOL_RESULT else comp
            expr = _expression(ufunc, args, comp, helpers)
            if isinstance(expr, _Refusal):
                return f"{m.op_type}: {expr.reason}"
            local = f"t{k}_{j}"
            lines.append(f"{C_TYPES[result_dtype][1]} {local} = {expr};")
            prev = (local, result_dtype)
        assert prev is not None
        if prev[1] != out_dtype:
            return f"{m.op_type} computes {prev[1]} but returns {out_dtype}"
        names[m] = prev
    final_name, final_dtype = names[members[-1]]
    lines.append(f"out = {final_name};")
    operation = "\n".join(lines)
    kinds = tuple(m.op_type for m in members)
    digest = hashlib.sha1(f"{params}{operation}".encode()).hexdigest()[:10]
    return ElementwiseSource(
        name=f"cr_{'_'.join(k.lower() for k in kinds[:3])}_{digest}",
        in_params=", ".join(params),
        out_params=f"{C_TYPES[final_dtype][0]} out",
        operation=operation,
        preamble="".join(helpers.values()),
        in_dtypes=tuple(d for _, d in (names[v] for v in inputs)),
        out_dtype=final_dtype,
        members=kinds,
    )


@dataclasses.dataclass(frozen=True)
class _Refusal:
    reason: str


def _np_dtype(v: Value) -> np.dtype:
    return np.dtype(v.dtype.as_numpy_dtype)


def _expression(ufunc: str, args: list[tuple[str, np.dtype]], comp: np.dtype, helpers: dict[str, str]) -> Any:
    """One step as a C expression over its operands' names (a ``_Refusal`` when it has no exact form here)."""
    kind = comp.kind  # "f", "i" or "b"
    c_type = C_TYPES[comp][1]
    x = [name for name, _ in args]
    if ufunc in _FLOAT_ONLY and kind != "f":
        return _Refusal(f"{ufunc} of {comp} has no exact C form here (CuPy's own ufunc runs)")
    if ufunc in _BOOL_RESULT:
        if ufunc in _COMPARE:
            return f"({x[0]} {_COMPARE[ufunc]} {x[1]})"
        if ufunc in _LOGICAL:
            return f"({x[0]} {_LOGICAL[ufunc]} {x[1]})"
        return f"(!{x[0]})"
    if kind == "b" and ufunc != "where":
        return _Refusal(f"{ufunc} of bool values")
    suffix = "f" if c_type == "float" else ""
    if ufunc in _MATH:
        return f"{_MATH[ufunc]}{suffix}({', '.join(x)})"
    if ufunc in _INFIX:
        if ufunc == "true_divide" and kind != "f":
            return _Refusal(f"true_divide of {comp} (NumPy returns float64)")
        return f"({x[0]} {_INFIX[ufunc]} {x[1]})"
    if ufunc in HELPERS:
        name, definition = _helper(ufunc, c_type)
        helpers[name] = definition
        return f"{name}({x[0]}, {x[1]})"
    if ufunc == "negative":
        return f"(-{x[0]})"
    if ufunc == "square":
        return f"({x[0]} * {x[0]})"
    if ufunc in ("absolute", "conjugate"):
        if ufunc == "conjugate":
            return x[0]  # of a real value: itself
        return f"fabs{suffix}({x[0]})" if kind == "f" else f"({x[0]} < 0 ? -{x[0]} : {x[0]})"
    if ufunc in ("maximum", "minimum"):
        op = ">" if ufunc == "maximum" else "<"
        if kind == "f":  # NumPy's: a NaN on either side is the result
            return f"((isnan({x[0]}) || {x[0]} {op} {x[1]}) ? {x[0]} : {x[1]})"
        return f"(({x[0]} {op} {x[1]}) ? {x[0]} : {x[1]})"
    if ufunc == "sign":
        magnitude = f"(({c_type})(({x[0]} > 0) - ({x[0]} < 0)))"
        return f"(isnan({x[0]}) ? {x[0]} : {magnitude})" if kind == "f" else magnitude
    if ufunc == "where":
        return f"({x[0]} ? ({c_type}){x[1]} : ({c_type}){x[2]})"
    return _Refusal(f"no C form for the ufunc {ufunc}")
