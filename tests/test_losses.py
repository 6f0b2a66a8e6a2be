"""``cr.losses``: values against TensorFlow, the reductions and weights, gradients, and the collections."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.testing import check_gradients

R = cr.losses.Reduction
LABELS = np.array([[0.0, 1.0, 0.5], [1.0, 0.0, 2.0]])
PREDS = np.array([[0.3, 0.9, -1.0], [2.5, 0.2, 1.5]])
W = np.array([[1.0, 0.0, 2.0], [0.5, 1.0, 0.0]])
P = np.array([[0.1, 0.8, 0.5], [0.99, 0.3, 0.0]])
BINARY = np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]])
ONEHOT = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])

# Recorded once from TensorFlow 2.21, tf.compat.v1.losses in graph mode, on the arrays above
# (TensorFlow computes losses in float32, hence the float32-sized digits).
TF = {
    "mse_NONE": [[0.09000000357627869, 0.0, 4.5], [1.125, 0.04000000283122063, 0.0]],
    "mse_SUM": 5.755000114440918,
    "mse_MEAN": 1.2788889408111572,
    "mse_SUM_OVER_BATCH_SIZE": 0.9591667056083679,
    "mse_SUM_BY_NONZERO_WEIGHTS": 1.4387500286102295,
    "abs": 1.2666667699813843,
    "huber": 0.5193749666213989,
    "log": 0.46333855390548706,
    "hinge": 1.183333396911621,
    "sig": 1.048365592956543,
    "softmax": 1.0474967956542969,
    "sparse": 0.875673770904541,
    "sparse_none": [0.5296750068664551, 1.3839951753616333],
    "mse_zero_weights": 0.0,
}


def _losses():
    """The same calls that recorded ``TF``, by key."""
    out = {f"mse_{r}": cr.losses.mean_squared_error(LABELS, PREDS, weights=W, reduction=getattr(R, r)) for r in
           ("NONE", "SUM", "MEAN", "SUM_OVER_BATCH_SIZE", "SUM_BY_NONZERO_WEIGHTS")}  # fmt: skip
    out["abs"] = cr.losses.absolute_difference(LABELS, PREDS, weights=np.array([[2.0], [0.0]]))
    out["huber"] = cr.losses.huber_loss(LABELS, PREDS, weights=W, delta=0.7)
    out["log"] = cr.losses.log_loss(BINARY, P, weights=W)
    out["hinge"] = cr.losses.hinge_loss(BINARY, PREDS)
    out["sig"] = cr.losses.sigmoid_cross_entropy(BINARY, PREDS, weights=W, label_smoothing=0.2)
    out["softmax"] = cr.losses.softmax_cross_entropy(ONEHOT, PREDS, weights=np.array([1.0, 3.0]), label_smoothing=0.1)
    out["sparse"] = cr.losses.sparse_softmax_cross_entropy(
        np.array([[1], [2]]), PREDS, weights=np.array([[2.0], [0.5]])
    )
    out["sparse_none"] = cr.losses.sparse_softmax_cross_entropy(np.array([1, 2]), PREDS, reduction=R.NONE)
    out["mse_zero_weights"] = cr.losses.mean_squared_error(LABELS, PREDS, weights=0.0)
    return out


def test_losses_match_tensorflow_and_are_collected():
    graph = cr.Graph()
    with graph.as_default():
        out = _losses()
        with cr.Session(graph=graph) as sess:
            got = sess.run(out)
        assert len(cr.losses.get_losses()) == 14  # TensorFlow's collection held 14 too
        assert all(t.dtype == cr.float64 for t in out.values())
    for key, want in TF.items():
        np.testing.assert_allclose(got[key], want, rtol=2e-7, atol=1e-7, err_msg=key)


def _weighted_ref(losses, weights, reduction):
    weights = np.broadcast_to(weights, losses.shape)
    total = np.sum(losses * weights)
    count = {
        R.SUM: 1.0,
        R.MEAN: np.sum(weights),
        R.SUM_OVER_BATCH_SIZE: losses.size,
        R.SUM_BY_NONZERO_WEIGHTS: np.count_nonzero(weights),
    }[reduction]
    return total / count if count else 0.0


@pytest.mark.parametrize("reduction", [R.SUM, R.MEAN, R.SUM_OVER_BATCH_SIZE, R.SUM_BY_NONZERO_WEIGHTS])
@pytest.mark.parametrize("weights", [1.0, np.array([[0.0], [2.0]]), np.array([[0.5, 0.0, 1.5]]), np.zeros((2, 3))])
def test_compute_weighted_loss_reductions_and_broadcast_weights(reduction, weights):
    losses = np.abs(PREDS)
    got = cr.Session().run(cr.losses.compute_weighted_loss(losses, weights, reduction=reduction))
    np.testing.assert_allclose(got, _weighted_ref(losses, weights, reduction), rtol=1e-14)


def test_gradients_of_every_loss_match_central_differences():
    def grads_ok(fn, *args):
        check_gradients(fn, list(args), order=2)

    grads_ok(lambda p: cr.losses.mean_squared_error(LABELS, p, weights=W), PREDS)
    grads_ok(lambda p: cr.losses.absolute_difference(LABELS, p, weights=W), PREDS)
    grads_ok(lambda p: cr.losses.huber_loss(LABELS, p, weights=W, delta=0.7), PREDS + 0.013)  # off the kinks
    grads_ok(lambda p: cr.losses.log_loss(BINARY, p), np.clip(P, 0.05, 0.95))
    grads_ok(lambda x: cr.losses.hinge_loss(BINARY, x, reduction=R.MEAN), PREDS + 0.01)
    grads_ok(lambda x: cr.losses.sigmoid_cross_entropy(BINARY, x, label_smoothing=0.2), PREDS)
    grads_ok(lambda x: cr.losses.softmax_cross_entropy(ONEHOT, x, weights=np.array([1.0, 3.0])), PREDS)
    grads_ok(lambda x: cr.losses.sparse_softmax_cross_entropy(np.array([1, 2]), x), PREDS)


def test_softmax_cross_entropy_stops_the_labels_gradient():
    labels = cr.constant(ONEHOT)
    loss = cr.losses.softmax_cross_entropy(labels, PREDS)
    assert cr.gradients(loss, [labels]) == [None]


def test_total_and_regularization_losses_and_scopes():
    graph = cr.Graph()
    with graph.as_default():
        with cr.name_scope("tower"):
            a = cr.losses.mean_squared_error(LABELS, PREDS)
        b = cr.losses.absolute_difference(LABELS, PREDS, loss_collection="other")
        reg = cr.constant(0.25, dtype=cr.float64)
        graph.add_to_collection("regularization_losses", reg)
        assert cr.losses.get_losses() == [a]
        assert cr.losses.get_losses(loss_collection="other") == [b]
        assert cr.losses.get_losses(scope="tower") == [a] and cr.losses.get_losses(scope="other") == []
        assert cr.losses.get_regularization_losses() == [reg]
        total = cr.losses.get_total_loss()
        without = cr.losses.get_total_loss(add_regularization_losses=False)
        reg_total = cr.losses.get_regularization_loss()
        assert total.op.name == "total_loss" and reg_total.op.name == "total_regularization_loss"
        extra = cr.constant(1.0, dtype=cr.float64)
        cr.losses.add_loss(extra)
        assert cr.losses.get_losses() == [a, extra]
        with cr.Session(graph=graph) as sess:
            t, w, r, va = sess.run([total, without, reg_total, a])
        assert t == va + 0.25 and w == va and r == 0.25
    with cr.Graph().as_default():
        assert cr.Session().run(cr.losses.get_regularization_loss()) == 0.0
        with pytest.raises(ValueError, match="no losses"):
            cr.losses.get_total_loss()
        cr.losses.mean_squared_error(LABELS, PREDS, loss_collection=None)
        assert cr.losses.get_losses() == []


def test_loss_errors_are_clear():
    with pytest.raises(ValueError, match="Invalid Reduction Key"):
        cr.losses.mean_squared_error(LABELS, PREDS, reduction="mean")
    with pytest.raises(ValueError, match="weights can not be broadcast to values"):
        cr.losses.mean_squared_error(LABELS, PREDS, weights=np.ones(3))
    with pytest.raises(ValueError, match="weights can not be broadcast"):
        cr.losses.mean_squared_error(LABELS, PREDS, weights=np.ones((2, 2)))
    with pytest.raises(ValueError, match="mean_squared_error: labels shape .* differ"):
        cr.losses.mean_squared_error(LABELS[:1], PREDS[:, :2])
    with pytest.raises(ValueError, match="labels must not be None"):
        cr.losses.huber_loss(None, PREDS)
    with pytest.raises(TypeError, match="float32 but the predictions are float64"):
        cr.losses.absolute_difference(LABELS.astype(np.float32), PREDS)


def test_integer_labels_are_cast_and_sum_over_zero_weights_is_zero():
    got = cr.Session().run(
        [
            cr.losses.hinge_loss(BINARY.astype(np.int32), PREDS),
            cr.losses.sigmoid_cross_entropy(BINARY.astype(np.int64), PREDS, weights=np.zeros((2, 1))),
        ]
    )
    np.testing.assert_allclose(got[0], TF["hinge"], rtol=2e-7)
    assert got[1] == 0.0
