"""The op table's batching column: ``cr.vmap`` of every sample agrees with a loop over examples.

Each sample becomes a batch of three examples (the sample's own arguments and two perturbed
copies of its float arguments); ``cr.vmap(sample.fn)`` on the stacked batch must equal the op run
on each example. Twice: with every argument mapped, and with only the first one mapped (the
others shared), which exercises the rules' batched/unbatched mixes. Ops with no batching rule
must raise ``UnimplementedError`` naming the op, and are listed here so none goes missing silently.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.testing.samples import all_samples

SAMPLES = all_samples().samples
BATCH = 3

# Op types that cr.vmap refuses (UnimplementedError naming the op) in some of the table's uses, on purpose:
NO_BATCH_RULE = {
    "RandomUniform",  # stateful: a random stream is not split per example (dropout)
    "RandomStandardNormal",
    "RandomUniformInt",
    "LogUniformCandidateSampler",  # stateful, as the random ops: one sample per batch, not per example
    "TruncatedNormal",
    "RandomShuffle",
    "Multinomial",
    "SparseToDense",  # its output shape and indices would differ between examples
    "Conv2D",  # per-example filters (the images alone may differ)
    "StridedSlice",  # a tensor index that differs between examples (use cr.gather)
    "Slice",  # a begin that differs between examples
    "Conv2DBackpropInput",  # per-example filters (as Conv2D)
    "Conv2DBackpropFilter",  # per-example filter gradients
    "MaxPoolGrad",
    "AvgPoolGrad",
    "LinalgDiagEmbed",
    "PyFunc",  # stateful: the Python function is called once per run, not once per example
    "Print",  # stateful: it prints once per run
}


def _as_list(result):
    return list(result) if isinstance(result, (list, tuple)) else [result]


def _examples(sample, mapped):
    rng = np.random.default_rng(1)

    def perturbed(a, k):
        return (a + 1e-3 * k * rng.standard_normal(a.shape)).astype(a.dtype)

    examples = [list(sample.args)]
    for k in range(1, BATCH):
        examples.append(
            [perturbed(a, k) if a.dtype.kind == "f" and i in mapped else a for i, a in enumerate(sample.args)]
        )
    return examples


def _check(sample, mapped):
    examples = _examples(sample, mapped)
    graph = cr.Graph()
    with graph.as_default():
        feeds = {}
        loop_outputs = []
        for k, ex in enumerate(examples):
            phs = [cr.placeholder(a.dtype, a.shape, name=f"ex{k}_{i}") for i, a in enumerate(ex)]
            feeds.update(zip(phs, ex))
            loop_outputs.append(_as_list(sample.fn(*phs)))
        batched_args = [
            np.stack([ex[i] for ex in examples]) if i in mapped else examples[0][i] for i in range(len(sample.args))
        ]
        phs = [cr.placeholder(a.dtype, a.shape, name=f"batch{i}") for i, a in enumerate(batched_args)]
        feeds.update(zip(phs, batched_args))
        in_axes = tuple(0 if i in mapped else None for i in range(len(sample.args)))
        try:
            out = _as_list(cr.vmap(sample.fn, in_axes=in_axes)(*phs))
        except cr.errors.UnimplementedError as e:
            op_type = next((t for t in NO_BATCH_RULE if f"'{t}'" in str(e) or f"({t})" in str(e)), None)
            assert op_type is not None, f"{sample.id}: unexpected missing batching rule: {e}"
            return
        with cr.Session(graph=graph, optimize=False) as sess:
            loop_values, batch_values = sess.run([loop_outputs, out], feeds)
    for j, got in enumerate(batch_values):
        want = np.stack([np.asarray(vals[j]) for vals in loop_values])
        got = np.asarray(got)
        assert got.shape == want.shape, f"{sample.id}: vmap shape {got.shape} != loop {want.shape}"
        assert got.dtype == want.dtype, f"{sample.id}: vmap dtype {got.dtype} != loop {want.dtype}"
        if want.dtype.kind in "biu":
            np.testing.assert_array_equal(got, want, err_msg=sample.id)
        else:
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12, equal_nan=True, err_msg=sample.id)


@pytest.mark.parametrize("sample", [s for s in SAMPLES if s.args], ids=lambda s: s.id)
def test_vmap_of_every_op_matches_a_loop(sample):
    _check(sample, mapped=set(range(len(sample.args))))


@pytest.mark.parametrize("sample", [s for s in SAMPLES if len(s.args) > 1], ids=lambda s: s.id)
def test_vmap_with_shared_arguments_matches_a_loop(sample):
    _check(sample, mapped={0})
