"""A chainrule Graph as TensorFlow's ``GraphDef`` protocol buffer, the form TensorBoard's Graphs tab reads.

Each op becomes a ``NodeDef``: its name (name scopes are the ``/``-separated
prefixes, which TensorBoard draws as collapsible boxes), its op type, its
inputs (``"op"`` for output 0, ``"op:i"`` otherwise, ``"^op"`` for a control
input) and its attributes as ``AttrValue``s, plus ``_output_shapes`` (the edge
labels in TensorBoard) and ``_source`` (the user's line that created it).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from chainrule.framework.dtypes import DType
from chainrule.framework.graph import Graph, Operation, Tensor, function_bodies
from chainrule.framework.tensor_shape import TensorShape
from chainrule.summary._tensorboard import require

# Constants larger than this are exported with dtype and shape only, to keep event files small.
_MAX_CONST_ELEMENTS = 1024

_DT_NAMES = {
    "float16": "DT_HALF",
    "float32": "DT_FLOAT",
    "float64": "DT_DOUBLE",
    "int8": "DT_INT8",
    "int16": "DT_INT16",
    "int32": "DT_INT32",
    "int64": "DT_INT64",
    "uint8": "DT_UINT8",
    "bool": "DT_BOOL",
    "string": "DT_STRING",
}


def _dtype_enum(dtype: DType) -> int:
    types_pb2 = require().types_pb2
    return getattr(types_pb2, _DT_NAMES.get(dtype.name, "DT_INVALID"))


def tensor_name(t: Tensor) -> str:
    """TensorFlow's input spelling: ``"op"`` for output 0, ``"op:i"`` otherwise."""
    return t.op.name if t.value_index == 0 else f"{t.op.name}:{t.value_index}"


def shape_proto(shape: TensorShape) -> Any:
    """``TensorShapeProto``: unknown rank -> ``unknown_rank``, unknown dimension -> size -1."""
    pb = require().tensor_shape_pb2
    if shape.dims is None:
        return pb.TensorShapeProto(unknown_rank=True)
    return pb.TensorShapeProto(dim=[pb.TensorShapeProto.Dim(size=-1 if d is None else d) for d in shape.dims])


def tensor_proto(value: np.ndarray) -> Any:
    """``TensorProto`` of a constant; large values keep only dtype and shape."""
    tb = require()
    value = np.asarray(value)
    dims = TensorShape(value.shape)
    if value.dtype == object:
        out = tb.tensor_pb2.TensorProto(dtype=tb.types_pb2.DT_STRING, tensor_shape=shape_proto(dims))
        if value.size <= _MAX_CONST_ELEMENTS:
            out.string_val.extend(v if isinstance(v, bytes) else str(v).encode() for v in value.ravel())
        return out
    name = "bool" if value.dtype == np.bool_ else value.dtype.name
    out = tb.tensor_pb2.TensorProto(
        dtype=getattr(tb.types_pb2, _DT_NAMES.get(name, "DT_INVALID")), tensor_shape=shape_proto(dims)
    )
    if value.size <= _MAX_CONST_ELEMENTS:
        out.tensor_content = np.ascontiguousarray(value).astype(value.dtype.newbyteorder("<"), copy=False).tobytes()
    return out


def attr_value(value: Any) -> Any | None:
    """An op attribute as an ``AttrValue`` (None for values with no sensible proto form)."""
    pb = require().attr_value_pb2
    if value is None:
        return None
    if isinstance(value, DType):
        return pb.AttrValue(type=_dtype_enum(value))
    if isinstance(value, TensorShape):
        return pb.AttrValue(shape=shape_proto(value))
    if isinstance(value, (bool, np.bool_)):
        return pb.AttrValue(b=bool(value))
    if isinstance(value, (int, np.integer)):
        return pb.AttrValue(i=int(value))
    if isinstance(value, (float, np.floating)):
        return pb.AttrValue(f=float(value))
    if isinstance(value, str):
        return pb.AttrValue(s=value.encode())
    if isinstance(value, bytes):
        return pb.AttrValue(s=value)
    if isinstance(value, np.ndarray):
        return pb.AttrValue(tensor=tensor_proto(value))
    if isinstance(value, (tuple, list)):
        items = list(value)
        if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in items):
            return pb.AttrValue(list=pb.AttrValue.ListValue(i=[int(v) for v in items]))
        if all(isinstance(v, (float, np.floating)) for v in items):
            return pb.AttrValue(list=pb.AttrValue.ListValue(f=[float(v) for v in items]))
        if all(isinstance(v, str) for v in items):
            return pb.AttrValue(list=pb.AttrValue.ListValue(s=[v.encode() for v in items]))
        if all(isinstance(v, DType) for v in items):
            return pb.AttrValue(list=pb.AttrValue.ListValue(type=[_dtype_enum(v) for v in items]))
        if all(isinstance(v, TensorShape) for v in items):
            return pb.AttrValue(list=pb.AttrValue.ListValue(shape=[shape_proto(v) for v in items]))
    # Anything else (slice specs, Python callables of custom ops) is shown as its repr.
    return pb.AttrValue(s=repr(value)[:500].encode())


def node_def(op: Operation, prefix: str = "") -> Any:
    """One op as a ``NodeDef`` (``prefix``: put in front of its name and its inputs' names)."""
    tb = require()
    node = tb.node_def_pb2.NodeDef(name=prefix + op.name, op=op.type)
    node.input.extend(prefix + tensor_name(t) for t in op.inputs)
    node.input.extend(f"^{prefix}{c.name}" for c in op.control_inputs)
    attrs = op.attrs  # private ones (a gradient override) included
    for key, value in attrs.items():
        av = attr_value(value)
        if av is not None:
            node.attr[key].CopyFrom(av)
    if op.outputs and not {"dtype", "T", "out_type"} & attrs.keys():
        node.attr["T"].CopyFrom(attr_value(op.outputs[0].dtype))
    shapes = tb.attr_value_pb2.AttrValue.ListValue(shape=[shape_proto(t.shape) for t in op.outputs])
    node.attr["_output_shapes"].CopyFrom(tb.attr_value_pb2.AttrValue(list=shapes))
    if op.source is not None:
        node.attr["_source"].CopyFrom(attr_value(str(op.source)))
    return node


def to_graph_def(graph: Graph, ops: Iterable[Operation] | None = None) -> Any:
    """The graph (or just ``ops`` of it) as a ``GraphDef`` protocol buffer.

    Parameters
    ----------
    graph : the chainrule Graph.
    ops : optional subset of its operations, e.g. those a fetch needs.

    Returns
    -------
    ``tensorboard.compat.proto.graph_pb2.GraphDef``
    """
    tb = require()
    graph_def = tb.graph_pb2.GraphDef()
    graph_def.versions.producer = 27  # TensorFlow 1.15's GraphDef version; TensorBoard only displays it
    for op in ops if ops is not None else graph.get_operations():
        graph_def.node.extend(_nodes(op, ""))
    return graph_def


def _nodes(op: Operation, prefix: str) -> list[Any]:
    """The op's NodeDef, then those of the functions it runs (a cond's branches, a loop's body).

    A function's ops go under ``<op name>/<attribute>/`` (``cond/then_branch/Sin``), so that
    TensorBoard draws them inside the op's frame, collapsed; its inputs are its placeholders.
    """
    out = [node_def(op, prefix)]
    for key, function_ops in function_bodies(op):
        for function_op in function_ops:
            out.extend(_nodes(function_op, f"{prefix}{op.name}/{key}/"))
    return out
