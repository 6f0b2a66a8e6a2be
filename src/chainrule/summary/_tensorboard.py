"""Lazy access to the ``tensorboard`` package (an optional extra): its protocol buffers.

Only ``tensorboard.compat.proto`` is imported (it needs protobuf, not TensorFlow).
"""

from __future__ import annotations

import types

_MESSAGE = (
    "cr.summary needs the 'tensorboard' package for its protocol buffers; "
    "install it with: pip install 'chainrule[tensorboard]' (or: pip install tensorboard)"
)


def require() -> types.SimpleNamespace:
    """The tensorboard modules cr.summary uses; ImportError with an install hint when missing."""
    try:
        from tensorboard.compat.proto import (
            attr_value_pb2,
            event_pb2,
            graph_pb2,
            node_def_pb2,
            summary_pb2,
            tensor_pb2,
            tensor_shape_pb2,
            types_pb2,
        )
    except ImportError as e:
        raise ImportError(f"{_MESSAGE}\n  ({e})") from e
    return types.SimpleNamespace(
        attr_value_pb2=attr_value_pb2,
        event_pb2=event_pb2,
        graph_pb2=graph_pb2,
        node_def_pb2=node_def_pb2,
        summary_pb2=summary_pb2,
        tensor_pb2=tensor_pb2,
        tensor_shape_pb2=tensor_shape_pb2,
        types_pb2=types_pb2,
    )


def available() -> bool:
    """Whether the tensorboard package can be imported."""
    try:
        require()
    except ImportError:
        return False
    return True
