"""``cr.nn``: neural-network ops (re-exports only)."""

from chainrule.ops import conv_ops as _conv_ops
from chainrule.ops import nn_impl as _nn_impl
from chainrule.ops import nn_ops as _nn_ops
from chainrule.ops.candidate_sampling_ops import log_uniform_candidate_sampler
from chainrule.ops.conv_ops import (
    avg_pool,
    avg_pool2d,
    conv2d,
    conv2d_backprop_filter,
    conv2d_backprop_input,
    conv2d_transpose,
    depthwise_conv2d,
    depthwise_conv2d_native,
    max_pool,
    max_pool2d,
)
from chainrule.ops.nn_impl import (
    batch_normalization,
    embedding_lookup,
    fused_batch_norm,
    l2_normalize,
    moments,
    nce_loss,
    sampled_softmax_loss,
    weighted_cross_entropy_with_logits,
)
from chainrule.ops.nn_ops import *  # noqa: F403
from chainrule.ops.tf1_math import in_top_k, zero_fraction

__all__ = list(_nn_ops.__all__) + [
    "avg_pool",
    "avg_pool2d",
    "conv2d",
    "conv2d_backprop_filter",
    "conv2d_backprop_input",
    "conv2d_transpose",
    "depthwise_conv2d",
    "depthwise_conv2d_native",
    "max_pool",
    "max_pool2d",
    "batch_normalization",
    "embedding_lookup",
    "fused_batch_norm",
    "l2_normalize",
    "moments",
    "nce_loss",
    "sampled_softmax_loss",
    "weighted_cross_entropy_with_logits",
    "log_uniform_candidate_sampler",
]
del _conv_ops, _nn_impl, _nn_ops

from chainrule.ops.selection_ops import top_k  # noqa: E402

__all__ += ["top_k", "in_top_k", "zero_fraction"]
