"""Table-driven checks of every op: forward vs NumPy, static shapes and dtypes, gradients, errors.

The table lives in ``chainrule.testing.samples``; each family module adds its samples.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import chainrule as cr
from chainrule.testing.samples import all_samples

TABLE = all_samples()
GRAD_SAMPLES = [s for s in TABLE.samples if s.order > 0]


def _as_list(result):
    return list(result) if isinstance(result, (list, tuple)) else [result]


def _run(sample, args, unknown_dims=False):
    graph = cr.Graph()
    with graph.as_default():
        inputs = [
            cr.placeholder(a.dtype, [None] * a.ndim if unknown_dims else a.shape, name=f"arg{i}")
            for i, a in enumerate(args)
        ]
        outputs = _as_list(sample.fn(*inputs))
        with cr.Session(graph=graph) as sess:
            values = sess.run(outputs, dict(zip(inputs, args)))
    return outputs, [np.asarray(v) for v in values]


def _check_against_reference(sample, outputs, values, args, rtol, atol):
    expected = _as_list(sample.ref(*args))
    assert len(expected) == len(values)
    for out, got, want in zip(outputs, values, expected):
        want = np.asarray(want)
        assert got.shape == want.shape, f"{sample.id}: shape {got.shape} != reference {want.shape}"
        assert got.dtype == out.dtype.as_numpy_dtype, f"{sample.id}: runtime dtype {got.dtype} != static {out.dtype}"
        if want.dtype.kind in "biu":
            np.testing.assert_array_equal(got, want)
        else:
            np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=sample.id)


@pytest.mark.parametrize("sample", TABLE.samples, ids=lambda s: s.id)
def test_forward_matches_numpy_and_static_shape(sample):
    outputs, values = _run(sample, sample.args)
    for out, value in zip(outputs, values):
        assert out.shape.is_fully_defined(), f"{sample.id}: static shape {out.shape} not inferred from known inputs"
        assert tuple(out.shape.as_list()) == value.shape, f"{sample.id}: static {out.shape} vs runtime {value.shape}"
        assert value.dtype == out.dtype.as_numpy_dtype
    if sample.ref is not None:
        _check_against_reference(sample, outputs, values, sample.args, sample.rtol, sample.atol)


@pytest.mark.parametrize("sample", [s for s in TABLE.samples if s.unknown_dims], ids=lambda s: s.id)
def test_forward_with_unknown_dims(sample):
    outputs, values = _run(sample, sample.args, unknown_dims=True)
    for out, value in zip(outputs, values):
        assert out.shape.is_compatible_with(value.shape), f"{sample.id}: static {out.shape} vs runtime {value.shape}"
    if sample.ref is not None:
        _check_against_reference(sample, outputs, values, sample.args, sample.rtol, sample.atol)


@pytest.mark.parametrize("sample", [s for s in TABLE.samples if s.float32], ids=lambda s: s.id)
def test_forward_float32_keeps_dtype(sample):
    args = tuple(a.astype(np.float32) if a.dtype == np.float64 else a for a in sample.args)
    outputs, values = _run(sample, args)
    if sample.ref is not None:
        _check_against_reference(sample, outputs, values, args, rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("sample", GRAD_SAMPLES, ids=lambda s: s.id)
def test_gradients_match_central_differences(sample):
    cr.test.check_gradients(
        sample.fn,
        sample.args,
        order=sample.order,
        wrt=sample.wrt,
        rtol=sample.grad_rtol,
        atol=sample.grad_atol,
        delta=sample.grad_delta,
    )


@pytest.mark.parametrize("sample", TABLE.errors, ids=lambda s: s.id)
def test_bad_input_raises_clear_error(sample):
    graph = cr.Graph()
    with graph.as_default():
        inputs = [cr.placeholder(a.dtype, a.shape if sample.static_shapes else [None] * a.ndim) for a in sample.args]
        with pytest.raises(sample.error, match=re.compile(sample.match, re.S)) as info:
            out = sample.fn(*inputs)
            if sample.at_run:
                with cr.Session(graph=graph) as sess:
                    sess.run(out, dict(zip(inputs, sample.args)))
    # The message points at the line of user code that built the op: this file.
    assert __file__.rstrip("c") in str(info.value) or not isinstance(info.value, cr.errors.OpError), str(info.value)


def _static_tensors(graph, outputs):
    """The sample's outputs and every output of its graph's stateless ops (stateful ones may need initializing)."""
    from chainrule.ops.registry import find_op_def

    found = list(outputs)
    for op in graph.get_operations():
        op_def = find_op_def(op.type)
        if op.type != "Placeholder" and op_def is not None and not op_def.stateful:
            found.extend(op.outputs)
    return list(dict.fromkeys(found))


@pytest.mark.parametrize("optimize", [False, True], ids=["uncompiled", "compiled"])
@pytest.mark.parametrize("sample", TABLE.samples, ids=lambda s: s.id)
def test_runtime_dtype_and_shape_equal_the_static_ones(sample, optimize):
    """Every tensor a sample builds computes a value of exactly its static dtype and (known) shape."""
    graph = cr.Graph()
    with graph.as_default():
        inputs = [cr.placeholder(a.dtype, a.shape, name=f"arg{i}") for i, a in enumerate(sample.args)]
        outputs = _as_list(sample.fn(*inputs))
        feeds = dict(zip(inputs, sample.args))
        with cr.Session(graph=graph, optimize=optimize) as sess:
            # Uncompiled: every tensor of the graph; compiled: the outputs, after every rewrite.
            fetched = outputs if optimize else _static_tensors(graph, outputs)
            checked = list(zip(fetched, sess.run(fetched, feeds)))
    for tensor, value in checked:
        value = np.asarray(value)
        assert value.dtype == tensor.dtype.as_numpy_dtype, (
            f"{sample.id}: {tensor.name} runs to {value.dtype}, static {tensor.dtype.name}"
        )
        assert tensor.shape.is_compatible_with(value.shape), (
            f"{sample.id}: {tensor.name} runs to shape {value.shape}, static {tensor.shape}"
        )
        if tensor.shape.is_fully_defined():
            assert tuple(tensor.shape.as_list()) == value.shape


@pytest.mark.parametrize("sample", GRAD_SAMPLES, ids=lambda s: s.id)
def test_gradient_graph_runtime_dtype_and_shape_equal_the_static_ones(sample):
    """The gradient ops a sample's gradient builds also run to exactly their static dtypes and shapes."""
    graph = cr.Graph()
    with graph.as_default():
        inputs = [cr.placeholder(a.dtype, a.shape, name=f"arg{i}") for i, a in enumerate(sample.args)]
        outputs = [o for o in _as_list(sample.fn(*inputs)) if o.dtype.is_floating]
        wrt = [inputs[i] for i in (sample.wrt or range(len(inputs))) if inputs[i].dtype.is_floating]
        grads = [g for g in cr.gradients([cr.reduce_sum(o) for o in outputs], wrt) if g is not None]
        fetched = _static_tensors(graph, grads)
        with cr.Session(graph=graph, optimize=False) as sess:
            values = sess.run(fetched, dict(zip(inputs, sample.args)))
    for tensor, value in zip(fetched, values):
        value = np.asarray(value)
        assert value.dtype == tensor.dtype.as_numpy_dtype, f"{tensor.name} runs to {value.dtype}, static {tensor.dtype}"
        assert tensor.shape.is_compatible_with(value.shape), (
            f"{tensor.name} runs to {value.shape}, static {tensor.shape}"
        )
