"""The op table's JVP column: forward mode for every differentiable sample, in float64.

For each sample with ``order > 0`` and random tangents ``v`` (one per differentiated argument):
- forward mode from the JVP rules agrees with forward mode by transposition (every op's gradient
  transposed), so both paths of ``cr.forward_gradients`` are checked op by op (on each op's first
  sample);
- it agrees with reverse mode: ``<w, J v> == <J^T w, v>`` for a random cotangent ``w``;
- it agrees with central differences along ``v`` (falling back to the sum of per-coordinate
  differences, the gradient check's own method, where a kink or a tie lies on the line).
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.autodiff import forward
from chainrule.testing.samples import all_samples

GRAD_SAMPLES = [s for s in all_samples().samples if s.order > 0]
# The rules are compared with transposition on the first sample of each op (the other checks run on all).
FIRST_OF_EACH_OP = {id(s) for s in {s.name: s for s in reversed(GRAD_SAMPLES)}.values()}


def _as_list(result):
    return list(result) if isinstance(result, (list, tuple)) else [result]


def _args(sample):
    """The sample's arguments (floats as float64) and the indices of the differentiated ones."""
    values = [a.astype(np.float64) if a.dtype.kind == "f" else a for a in sample.args]
    wrt = list(sample.wrt) if sample.wrt is not None else [i for i, v in enumerate(values) if v.dtype.kind == "f"]
    return values, wrt


def _placeholders(sample, values, wrt):
    """In the default graph: a placeholder per argument, the sample's float outputs, the differentiated inputs."""
    inputs = [cr.placeholder(v.dtype, v.shape, name=f"arg{i}") for i, v in enumerate(values)]
    outputs = [o for o in _as_list(sample.fn(*inputs)) if o.dtype.is_floating]
    return inputs, outputs, [inputs[i] for i in wrt]


def _forward(outputs, xs, tangents, use_rules):
    saved = forward.USE_RULES
    forward.USE_RULES = use_rules
    try:
        return cr.forward_gradients(outputs, xs, tangents, unconnected_gradients="zero")
    finally:
        forward.USE_RULES = saved


@pytest.mark.parametrize("sample", GRAD_SAMPLES, ids=lambda s: s.id)
def test_jvp_matches_reverse_mode_and_central_differences(sample):
    rng = np.random.default_rng(0)
    values, wrt = _args(sample)
    graph = cr.Graph()
    with graph.as_default():
        inputs, outputs, xs = _placeholders(sample, values, wrt)
        vs = [rng.standard_normal(values[i].shape) for i in wrt]
        ws = [rng.standard_normal(o.shape.as_list()) for o in outputs]
        tangents = [cr.constant(v) for v in vs]
        by_rules = _forward(outputs, xs, tangents, use_rules=True)
        by_transposition = _forward(outputs, xs, tangents, use_rules=False) if id(sample) in FIRST_OF_EACH_OP else []
        scalar = cr.add_n([cr.reduce_sum(o * cr.constant(w, dtype=o.dtype)) for o, w in zip(outputs, ws)])
        grads = cr.gradients(scalar, xs, unconnected_gradients="zero")
        sess = cr.Session(graph=graph, optimize=False)
        feed = dict(zip(inputs, values))
        ys, jvp, jvp_t, g = sess.run([outputs, by_rules, by_transposition, grads], feed)
    # Where a value is not finite (a mean over nothing), its derivative means nothing either.
    ws = [np.where(np.isfinite(y), w, 0.0) for y, w in zip(ys, ws)]
    jvp = [np.where(np.isfinite(y), j, 0.0) for y, j in zip(ys, jvp)]
    jvp_t = [np.where(np.isfinite(y), j, 0.0) for y, j in zip(ys, jvp_t)]

    tol = dict(rtol=sample.grad_rtol, atol=sample.grad_atol)
    for a, b in zip(jvp, jvp_t):
        np.testing.assert_allclose(a, b, **tol, err_msg=f"{sample.id}: JVP rules vs transposition")
    lhs = sum(float(np.sum(w * j)) for w, j in zip(ws, jvp))
    rhs = sum(float(np.sum(gi * v)) for gi, v in zip(g, vs))
    scale = sum(float(np.sum(np.abs(w * j))) for w, j in zip(ws, jvp)) + 1.0
    assert abs(lhs - rhs) <= sample.grad_rtol * scale, f"{sample.id}: <w, Jv> = {lhs} but <J^T w, v> = {rhs}"

    def run(vals):
        results = sess.run(outputs, dict(zip(inputs, vals)))
        return [np.where(np.isfinite(y), np.asarray(r, dtype=np.float64), 0.0) for y, r in zip(ys, results)]

    h = sample.grad_delta * max([1.0] + [float(np.max(np.abs(values[i]))) for i in wrt if values[i].size])
    plus, minus = list(values), list(values)
    for i, v in zip(wrt, vs):
        plus[i] = values[i] + h * v
        minus[i] = values[i] - h * v
    numeric = [(p - m) / (2 * h) for p, m in zip(run(plus), run(minus))]
    if all(np.allclose(j, n, **tol) for j, n in zip(jvp, numeric)):
        return
    # A kink or tie on the line: the gradient checker's per-coordinate differences instead.
    numeric = [np.zeros_like(j) for j in jvp]
    for i, v in zip(wrt, vs):
        for idx in np.ndindex(values[i].shape):
            step = sample.grad_delta * max(1.0, abs(float(values[i][idx])))
            plus, minus = list(values), list(values)
            plus[i], minus[i] = values[i].copy(), values[i].copy()
            plus[i][idx] += step
            minus[i][idx] -= step
            for k, (p, m) in enumerate(zip(run(plus), run(minus))):
                numeric[k] += v[idx] * (p - m) / (2 * step)
    for j, n in zip(jvp, numeric):
        np.testing.assert_allclose(j, n, **tol, err_msg=f"{sample.id}: JVP vs central differences")


# One sample per op (the first of order >= 2) keeps this column cheap: it targets the gradient ops' rules.
HVP_SAMPLES = list({s.name: s for s in reversed([s for s in GRAD_SAMPLES if s.order > 1])}.values())


@pytest.mark.parametrize("sample", HVP_SAMPLES, ids=lambda s: s.id)
def test_forward_over_reverse_matches_reverse_over_reverse(sample):
    """Forward mode through each op's *gradient* graph: the JVP rules of the gradient ops."""
    rng = np.random.default_rng(0)
    values, wrt = _args(sample)
    graph = cr.Graph()
    with graph.as_default():
        inputs, outputs, xs = _placeholders(sample, values, wrt)
        scalar = cr.add_n(
            [cr.reduce_sum(o * cr.constant(rng.standard_normal(o.shape.as_list()), dtype=o.dtype)) for o in outputs]
        )
        grads = cr.gradients(scalar, xs, unconnected_gradients="zero")
        vs = [cr.constant(rng.standard_normal(values[i].shape)) for i in wrt]
        fwd_rev = cr.forward_gradients(grads, xs, vs, unconnected_gradients="zero")
        inner = cr.add_n([cr.reduce_sum(g * v) for g, v in zip(grads, vs)])
        rev_rev = cr.gradients(inner, xs, unconnected_gradients="zero")
        with cr.Session(graph=graph, optimize=False) as sess:
            a, b = sess.run([fwd_rev, rev_rev], dict(zip(inputs, values)))
    for x, y in zip(a, b):
        np.testing.assert_allclose(x, y, rtol=sample.grad_rtol, atol=sample.grad_atol, err_msg=sample.id)
