"""Every op-table sample gives the same bits compiled (default options) as run as written (issue 12, item 6).

The forward outputs and the gradients (of ``reduce_sum`` of each float output, with respect to
the float arguments the table differentiates) of every sample of ``chainrule.testing.samples``
(as ``tests/ops/test_op_table.py`` enumerates them), compiled with generated code and with the
interpreter, are compared byte for byte with the uncompiled run: same dtype, same shape, signed
zeros distinct, infinities equal; NaNs are equal whatever their payload. Random ops run from a
graph-level seed, so every session draws the same numbers.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import compiler
from chainrule.testing.samples import all_samples

TABLE = all_samples()
# The default options (generated code), and the same rewrites run by the interpreter.
COMPILED = {"compiled": compiler.Options(), "interpreted": compiler.Options(codegen=False)}


def _as_list(result):
    return list(result) if isinstance(result, (list, tuple)) else [result]


def bits(value) -> tuple[str, tuple[int, ...], bytes]:
    """What must be equal: dtype, shape and bytes, with every NaN made the one quiet NaN."""
    a = np.asarray(value)
    if a.dtype.kind == "f":
        a = np.where(np.isnan(a), np.array(np.nan, a.dtype), a)
    elif a.dtype.kind == "c":
        a = np.where(np.isnan(a.real), np.nan, a.real) + 1j * np.where(np.isnan(a.imag), np.nan, a.imag)
        a = a.astype(np.asarray(value).dtype)
    elif a.dtype.kind == "O":
        return a.dtype.str, a.shape, repr(a.tolist()).encode()
    return a.dtype.str, a.shape, np.ascontiguousarray(a).tobytes()


def _fetches(sample):
    graph = cr.Graph()
    with graph.as_default():
        cr.set_random_seed(7)  # random ops: the same stream in both sessions
        inputs = [cr.placeholder(a.dtype, a.shape, name=f"arg{i}") for i, a in enumerate(sample.args)]
        outputs = _as_list(sample.fn(*inputs))
        fetches = list(outputs)
        if sample.order > 0:
            floats = [o for o in outputs if isinstance(o, cr.Tensor) and o.dtype.is_floating]
            wrt = [inputs[i] for i in (sample.wrt or range(len(inputs))) if inputs[i].dtype.is_floating]
            if floats and wrt:
                grads = cr.gradients([cr.reduce_sum(o) for o in floats], wrt)
                fetches += [g for g in grads if g is not None]
    return graph, fetches, dict(zip(inputs, sample.args))


def _run(graph, fetches, feeds, optimize):
    with cr.Session(graph=graph, optimize=optimize) as sess:
        if any(op.type in ("VariableV2", "VarHandleOp") for op in graph.get_operations()):
            sess.run(cr.global_variables_initializer())
        return sess.run(fetches, feeds)


@pytest.mark.parametrize("sample", TABLE.samples, ids=lambda s: s.id)
def test_compiled_equals_uncompiled_bitwise(sample):
    graph, fetches, feeds = _fetches(sample)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        want = _run(graph, fetches, feeds, False)
        runs = {mode: _run(graph, fetches, feeds, optimize) for mode, optimize in COMPILED.items()}
    for mode, got in runs.items():
        for tensor, a, b in zip(fetches, want, got, strict=True):
            assert bits(b) == bits(a), f"{sample.id}: {tensor.name} {mode} {b!r} != uncompiled {a!r}"
