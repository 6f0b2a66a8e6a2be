"""The log-uniform candidate sampler and the sampled losses built on it (``nce_loss``, ``sampled_softmax_loss``).

The sample table checks the losses' values and gradients for fixed ``sampled_values``; here the
sampler itself: its distribution, its expected counts, its seeds, and the losses with the sample
drawn inside the graph, against a NumPy reference evaluated on the very ids that were drawn.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

FLT_MAX = float(np.finfo(np.float32).max)


def _probability(k, range_max):
    k = np.asarray(k, np.float64)
    return np.log((k + 2) / (k + 1)) / np.log(range_max + 1)


def _sample(unique, num_sampled=5, range_max=10, seed=7, graph_seed=None, runs=1):
    graph = cr.Graph()
    with graph.as_default():
        if graph_seed is not None:
            cr.random.set_seed(graph_seed)
        out = cr.nn.log_uniform_candidate_sampler(
            np.array([[0], [3], [9]], np.int64), 1, num_sampled, unique, range_max, seed=seed
        )
        with cr.Session(graph=graph) as sess:
            return [sess.run(out) for _ in range(runs)]


def test_with_replacement_the_frequencies_follow_the_log_uniform_law():
    (draw,) = _sample(unique=False, num_sampled=40000, range_max=6)
    sampled, true_expected, sampled_expected = draw
    assert sampled.dtype == np.int64 and sampled.shape == (40000,)
    assert sampled.min() >= 0 and sampled.max() < 6
    freq = np.bincount(sampled, minlength=6) / sampled.size
    p = _probability(np.arange(6), 6)
    # 40000 draws: the standard error of each frequency is below 0.0025.
    np.testing.assert_allclose(freq, p, atol=0.01)
    # Without rejection the expected count is p * num_sampled.
    np.testing.assert_allclose(sampled_expected, _probability(sampled, 6) * 40000, rtol=1e-6)
    np.testing.assert_allclose(true_expected, _probability([[0], [3], [9]], 6) * 40000, rtol=1e-6)
    assert true_expected.dtype == sampled_expected.dtype == np.float32


def test_unique_samples_are_distinct_and_their_counts_share_one_number_of_tries():
    for sampled, true_expected, sampled_expected in _sample(unique=True, num_sampled=6, range_max=8, runs=5):
        assert len(set(sampled.tolist())) == 6
        p = _probability(sampled, 8)
        # expected = 1 - (1 - p)^tries, or p * 6 when no draw was rejected: solve for tries and check
        # that one integer >= 6 explains every count (TensorFlow's ExpectedCountHelper).
        tries = np.log1p(-sampled_expected.astype(np.float64)) / np.log1p(-p)
        if np.allclose(sampled_expected, p * 6, rtol=1e-6):
            continue
        t = int(round(tries[0]))
        assert t > 6
        np.testing.assert_allclose(sampled_expected, -np.expm1(t * np.log1p(-p)), rtol=1e-5)
        p_true = _probability([[0], [3], [9]], 8)
        np.testing.assert_allclose(true_expected, -np.expm1(t * np.log1p(-p_true)), rtol=1e-5)


def test_the_op_and_graph_seeds_fix_the_sequence_in_every_new_session():
    a = _sample(unique=True, seed=11, runs=3)
    b = _sample(unique=True, seed=11, runs=3)
    c = _sample(unique=True, seed=12, runs=3)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x[0], y[0])
    assert any(not np.array_equal(x[0], y[0]) for x, y in zip(a, c, strict=True))
    assert not np.array_equal(a[0][0], a[1][0]) or not np.array_equal(a[1][0], a[2][0])  # new draws each run
    g1 = _sample(unique=True, seed=None, graph_seed=5, runs=2)
    g2 = _sample(unique=True, seed=None, graph_seed=5, runs=2)
    for x, y in zip(g1, g2, strict=True):
        np.testing.assert_array_equal(x[0], y[0])


def _reference(w, b, x, labels, sampled, true_expected, sampled_expected, remove_hits):
    true_logits = np.einsum("bd,btd->bt", x, w[labels]) + b[labels] - np.log(true_expected.astype(np.float64))
    sampled_logits = x @ w[sampled].T + b[sampled]
    if remove_hits:
        hits = np.any(labels[:, :, None] == sampled[None, None, :], axis=1)
        sampled_logits = np.where(hits, sampled_logits - FLT_MAX, sampled_logits)
    sampled_logits = sampled_logits - np.log(sampled_expected.astype(np.float64))
    logits = np.concatenate([true_logits, sampled_logits], 1)
    targets = np.concatenate([np.full(true_logits.shape, 1 / labels.shape[1]), np.zeros(sampled_logits.shape)], 1)
    return logits, targets


@pytest.mark.parametrize("loss_name", ["nce_loss", "sampled_softmax_loss"])
@pytest.mark.parametrize("remove_hits", [False, True])
def test_sampled_losses_with_the_graphs_own_sample_match_numpy_on_the_drawn_ids(loss_name, remove_hits):
    rng = np.random.default_rng(0)
    w0, b0, x0 = rng.normal(size=(6, 3)), rng.normal(size=6), rng.normal(size=(4, 3))
    labels = np.array([[0, 1], [2, 0], [5, 4], [1, 1]], np.int64)
    graph = cr.Graph()
    with graph.as_default():
        w, b, x = cr.Variable(w0), cr.Variable(b0), cr.placeholder(cr.float64, [None, 3])
        sampler = cr.nn.log_uniform_candidate_sampler(labels, 2, 4, True, 6, seed=3)
        fn = getattr(cr.nn, loss_name)
        loss = fn(w, b, labels, x, 4, 6, num_true=2, sampled_values=sampler, remove_accidental_hits=remove_hits)
        grads = cr.gradients(cr.reduce_sum(loss), [w, b, x])
        with cr.Session(graph=graph) as sess:
            sess.run(cr.global_variables_initializer())
            for _ in range(3):
                (sampled, te, se), value, (gw, gb, gx) = sess.run([sampler, loss, grads], {x: x0})
                logits, targets = _reference(w0, b0, x0, labels, sampled, te, se, remove_hits)
                if loss_name == "nce_loss":
                    want = np.sum(np.maximum(logits, 0) - logits * targets + np.log1p(np.exp(-np.abs(logits))), axis=1)
                    dlogits = 0.5 * (1 + np.tanh(logits / 2)) - targets  # sigmoid, without overflow
                else:
                    shifted = logits - logits.max(1, keepdims=True)
                    logp = shifted - np.log(np.sum(np.exp(shifted), 1, keepdims=True))
                    want = -np.sum(targets * logp, axis=1)
                    dlogits = np.exp(logp) - targets
                np.testing.assert_allclose(value, want, rtol=1e-12)
                # The gradients by hand: logits are x . w[id] + b[id], scattered back to the drawn rows.
                ids = np.concatenate([labels, np.broadcast_to(sampled, (4, 4))], 1)
                want_gx = np.einsum("bk,bkd->bd", dlogits, w0[ids])
                want_gw, want_gb = np.zeros_like(w0), np.zeros_like(b0)
                np.add.at(want_gw, ids, dlogits[:, :, None] * x0[:, None, :])
                np.add.at(want_gb, ids, dlogits)
                np.testing.assert_allclose(gx, want_gx, rtol=1e-10, atol=1e-12)
                np.testing.assert_allclose(gw, want_gw, rtol=1e-10, atol=1e-12)
                np.testing.assert_allclose(gb, want_gb, rtol=1e-10, atol=1e-12)


def test_sampled_softmax_loss_seed_makes_it_reproducible_and_float32_stays_float32():
    def losses(seed):
        graph = cr.Graph()
        with graph.as_default():
            rng = np.random.default_rng(1)
            w = rng.normal(size=(50, 4)).astype(np.float32)
            x = rng.normal(size=(3, 4)).astype(np.float32)
            loss = cr.nn.sampled_softmax_loss(w, np.zeros(50, np.float32), [[1], [7], [30]], x, 10, 50, seed=seed)
            assert loss.dtype == cr.float32 and loss.shape.as_list() == [3]
            with cr.Session(graph=graph) as sess:
                return [sess.run(loss) for _ in range(2)]

    a, b = losses(4), losses(4)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a[0], a[1])


def test_an_accidental_hit_contributes_nothing():
    # Class 2 is both the target and sampled: with hits removed the loss equals the loss over the
    # other sampled classes alone.
    w = np.eye(4)
    x = np.array([[0.5, 1.0, -0.5, 2.0]])
    counts = np.array([0.5, 0.5, 0.5], np.float32)
    with_hit = cr.nn.sampled_softmax_loss(
        w, np.zeros(4), [[2]], x, 3, 4, sampled_values=([0, 2, 3], np.array([[0.5]], np.float32), counts)
    )
    without = cr.nn.sampled_softmax_loss(
        w, np.zeros(4), [[2]], x, 2, 4, sampled_values=([0, 3], np.array([[0.5]], np.float32), counts[:2])
    )
    with cr.Session() as sess:
        a, b = sess.run([with_hit, without])
    np.testing.assert_allclose(a, b, rtol=1e-14)
