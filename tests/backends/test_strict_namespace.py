"""The op table through a non-NumPy array module: every kernel reaches its data only through ``xp``.

Each sample of the op table (``chainrule.testing.samples``, as ``tests/ops/test_op_table.py``
enumerates them) runs with ``chainrule.testing.strict_namespace``: NumPy's API over
array-api-strict arrays, which refuse to become NumPy arrays implicitly, as CuPy's do (loop bodies
and ``cr.cond`` branches included: they run as programs of the backend). A kernel
that calls ``np.<function>`` on its data, mixes in a NumPy array it made, or returns a NumPy
array fails here naming the op. Ops whose kernels need NumPy itself say why in their declaration
(``OpDef.numpy_only``); the backend runs those on host copies of their inputs, so every sample
must give the NumPy backend's values.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.backends.array_module import ArrayModuleBackend
from chainrule.testing import strict_namespace as sn
from chainrule.testing.op_table import as_list
from chainrule.testing.samples import all_samples

TABLE = all_samples()


class StrictBackend(ArrayModuleBackend):
    """The array-module backend with the strict namespace, checking that every kernel returns its arrays."""

    name = "strict-numpy"

    def to_module(self, xp, value):  # type: ignore[no-untyped-def]
        return sn.from_numpy(np.asarray(value))

    def to_host(self, value):  # type: ignore[no-untyped-def]
        return np.array(sn.to_numpy(value))

    def to_numpy(self, values):  # type: ignore[no-untyped-def]
        return [np.array(sn.to_numpy(v)) if isinstance(v, sn.ARRAY) else v for v in values]

    def wrap_kernel(self, node, kernel):  # type: ignore[no-untyped-def]
        def checked(*args):  # type: ignore[no-untyped-def]
            out = kernel(*args)
            for value in out if isinstance(out, tuple) else (out,):
                if not isinstance(value, sn.ARRAY):
                    raise TypeError(f"NumPy-only: the kernel of {node.op_type} returned a {type(value).__name__}")
            return out

        return checked


def _op_types(graph) -> set[str]:  # type: ignore[no-untyped-def]
    return {op.type for op in graph.get_operations()}


def _run(sample, optimize):  # type: ignore[no-untyped-def]
    graph = cr.Graph()
    with graph.as_default():
        inputs = [cr.placeholder(a.dtype, a.shape, name=f"arg{i}") for i, a in enumerate(sample.args)]
        outputs = as_list(sample.fn(*inputs))
        feeds = dict(zip(inputs, sample.args))
        with cr.Session(graph=graph, optimize=optimize) as sess:
            want = sess.run(outputs, feeds)
        with sn.refusing_numpy():
            with cr.Session(graph=graph, backend=StrictBackend(), array_module=sn.STRICT_NUMPY, optimize=optimize) as s:
                got = s.run(outputs, feeds)
    return graph, outputs, want, got


@pytest.mark.parametrize("optimize", [False, True], ids=["uncompiled", "compiled"])
@pytest.mark.parametrize("sample", TABLE.samples, ids=lambda s: s.id)
def test_kernels_reach_their_data_only_through_the_array_module(sample, optimize):
    graph, outputs, want, got = _run(sample, optimize)
    for a, b in zip(got, want):
        a, b = np.asarray(a), np.asarray(b)
        assert a.shape == b.shape and a.dtype == b.dtype, f"{sample.id}: {a.dtype}{a.shape} vs {b.dtype}{b.shape}"
        if sample.ref is None or _op_types(graph) & {"RandomUniform", "RandomStandardNormal"}:
            continue  # random values: the streams are the same, but shapes and dtypes are what is compared
        if b.dtype.kind in "fc":
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-300, err_msg=sample.id)
        else:
            np.testing.assert_array_equal(a, b, err_msg=sample.id)


def test_ops_that_need_numpy_say_why_in_their_declaration():
    """``OpDef.numpy_only`` is a reason (a sentence), and the ops that have one are the ones listed here."""
    declared = {
        name: op_def.numpy_only for name, op_def in cr.ops.registry.registered_ops().items() if op_def.numpy_only
    }
    assert all(isinstance(reason, str) and len(reason) > 20 for reason in declared.values())
    assert set(declared) == {
        "Erf",
        "Multinomial",
        "LogUniformCandidateSampler",
        "PrintV2",
        "PyFunc",
        "PyFuncStateless",
        "SparseToDense",
        *(f"Segment{k}" for k in ("Sum", "Mean", "Max", "Min", "Prod")),
        *(f"UnsortedSegment{k}" for k in ("Sum", "Max", "Min", "Prod")),
    }


def test_a_numpy_call_inside_a_kernel_is_found_and_names_the_op():
    def numpy_kernel(xp, x):  # type: ignore[no-untyped-def]
        return xp.asarray(np.exp(x))  # a NumPy ufunc on the data: converts it

    cr.ops.registry.register_op(
        "StrictTestNumPyCall", numpy_kernel, lambda inputs: [(inputs[0].dtype, inputs[0].shape)], None, replace=True
    )
    graph = cr.Graph()
    with graph.as_default():
        x = cr.placeholder(cr.float64, [3])
        y = cr.ops.registry.apply_op("StrictTestNumPyCall", [x], {}, "my_op").outputs[0]
        with sn.refusing_numpy(), cr.Session(backend=StrictBackend(), array_module=sn.STRICT_NUMPY) as sess:
            with pytest.raises(cr.errors.InvalidArgumentError, match=r"(?s)NumPy-only.*my_op.*test_strict"):
                sess.run(y, {x: np.ones(3)})
