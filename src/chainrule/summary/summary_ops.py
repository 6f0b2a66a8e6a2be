"""Summary ops: graph ops whose value is a serialized ``Summary`` protocol buffer (TensorFlow 1.x style).

``scalar`` and ``histogram`` add an op to the graph and to the ``"summaries"``
collection; running it in a Session gives ``bytes`` that ``FileWriter.add_summary``
writes to an event file. ``merge``/``merge_all`` combine several into one.
The protos are TensorBoard's own (``tensorboard.compat.proto``).
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from chainrule.framework import dtypes
from chainrule.framework.graph import Tensor, get_default_graph
from chainrule.framework.tensor_shape import TensorShape
from chainrule.ops.constant_op import convert_to_tensor
from chainrule.ops.registry import apply, register_op
from chainrule.summary._tensorboard import require

SUMMARIES = "summaries"
_INVALID_TAG_CHARS = re.compile(r"[^A-Za-z0-9_.\-/]")


def _as_string_scalar(data: bytes) -> np.ndarray:
    """A 0-d object array holding ``data``: what the Session hands back as plain ``bytes``."""
    out = np.empty((), dtype=object)
    out[()] = data
    return out


def _scalar_kernel(xp: Any, value: Any, tag: str) -> np.ndarray:
    value = np.asarray(value)
    if value.size != 1:
        raise ValueError(f"scalar summary '{tag}' needs a scalar, got shape {value.shape}")
    pb = require().summary_pb2
    summary = pb.Summary(value=[pb.Summary.Value(tag=tag, simple_value=float(value.reshape(())))])
    return _as_string_scalar(summary.SerializeToString())


def _scalar_infer(inputs: list[Tensor], tag: str) -> list[Any]:
    (x,) = inputs
    if not (x.dtype.is_numeric or x.dtype.is_bool):
        raise TypeError(f"scalar summary needs a numeric tensor, got {x.dtype.name}")
    if x.shape.rank not in (0, None):
        raise ValueError(f"scalar summary needs a scalar (shape ()), got shape {x.shape}")
    return [(dtypes.string, TensorShape([]))]


register_op("ScalarSummary", _scalar_kernel, _scalar_infer, None)


def _histogram_kernel(xp: Any, values: Any, tag: str, buckets: int) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64).ravel()
    if not np.all(np.isfinite(v)):
        raise ValueError(f"NaN or Inf in summary histogram for: {tag}")
    pb = require().summary_pb2
    histo = pb.HistogramProto(num=float(v.size))
    if v.size:
        lo, hi = float(v.min()), float(v.max())
        histo.min, histo.max = lo, hi
        histo.sum, histo.sum_squares = float(v.sum()), float(np.dot(v, v))
        # TensorBoard reads bucket i as (limit[i-1], limit[i]], the first starting at min.
        counts, edges = np.histogram(v, bins=buckets if hi > lo else 1, range=(lo, hi) if hi > lo else None)
        histo.bucket_limit.extend(float(e) for e in edges[1:])
        histo.bucket.extend(float(c) for c in counts)
    summary = pb.Summary(value=[pb.Summary.Value(tag=tag, histo=histo)])
    return _as_string_scalar(summary.SerializeToString())


def _histogram_infer(inputs: list[Tensor], tag: str, buckets: int) -> list[Any]:
    (x,) = inputs
    if not (x.dtype.is_numeric or x.dtype.is_bool):
        raise TypeError(f"histogram summary needs a numeric tensor, got {x.dtype.name}")
    return [(dtypes.string, TensorShape([]))]


register_op("HistogramSummary", _histogram_kernel, _histogram_infer, None)


def encode_png(image: np.ndarray) -> bytes:
    """A ``height x width x channels`` uint8 array (1: gray, 2: gray+alpha, 3: RGB, 4: RGBA) as PNG bytes."""
    height, width, channels = image.shape
    color_type = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    rows = b"".join(b"\x00" + image[r].tobytes() for r in range(height))  # filter type 0 on each row

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def _to_uint8(images: np.ndarray) -> np.ndarray:
    """TF's conversion of float images: all >= 0: scaled so the largest is 255; otherwise 0 goes to
    127 and the values are scaled so the smallest is 0 or the largest 255 (whichever comes first)."""
    if images.dtype == np.uint8:
        return images
    v = np.asarray(images, dtype=np.float64)
    if not np.all(np.isfinite(v)):
        raise ValueError("image summary: NaN or Inf in the images")
    if v.size == 0:
        return v.astype(np.uint8)
    lo, hi = float(v.min()), float(v.max())
    if lo >= 0:
        scale = 255.0 / hi if hi > 0 else 0.0
        offset = 0.0
    else:
        scale = min(127.0 / -lo, 128.0 / hi if hi > 0 else np.inf)
        offset = 127.0
    return np.clip(np.round(v * scale + offset), 0, 255).astype(np.uint8)


def _image_kernel(xp: Any, images: Any, tag: str, max_outputs: int) -> np.ndarray:
    images = np.asarray(images)
    batch = images[:max_outputs]
    pixels = _to_uint8(batch)
    pb = require().summary_pb2
    values = []
    for i in range(pixels.shape[0]):
        h, w, c = pixels[i].shape
        image = pb.Summary.Image(height=h, width=w, colorspace=c, encoded_image_string=encode_png(pixels[i]))
        values.append(pb.Summary.Value(tag=f"{tag}/image/{i}" if max_outputs > 1 else f"{tag}/image", image=image))
    return _as_string_scalar(pb.Summary(value=values).SerializeToString())


def _image_infer(inputs: list[Tensor], tag: str, max_outputs: int) -> list[Any]:
    (x,) = inputs
    if not (x.dtype.is_floating or x.dtype == dtypes.uint8):
        raise TypeError(f"image summary needs uint8 or floating images, got {x.dtype.name}")
    if x.shape.rank not in (4, None):
        raise ValueError(f"image summary needs images of shape [batch, height, width, channels], got {x.shape}")
    if x.shape.rank == 4 and x.shape[3] not in (1, 3, 4, None):
        raise ValueError(f"image summary needs 1, 3 or 4 channels, got {x.shape[3]}")
    return [(dtypes.string, TensorShape([]))]


register_op("ImageSummary", _image_kernel, _image_infer, None)


def _text_kernel(xp: Any, text: Any, tag: str) -> np.ndarray:
    values = np.asarray(text, dtype=object)
    pb = require()
    proto = pb.tensor_pb2.TensorProto(
        dtype=pb.types_pb2.DT_STRING,
        tensor_shape=pb.tensor_shape_pb2.TensorShapeProto(
            dim=[pb.tensor_shape_pb2.TensorShapeProto.Dim(size=n) for n in values.shape]
        ),
        string_val=[bytes(v) for v in values.ravel()],
    )
    # TensorBoard's Text tab reads tensor summaries whose metadata names its plugin, as TF 1.x writes them.
    metadata = pb.summary_pb2.SummaryMetadata(plugin_data=pb.summary_pb2.SummaryMetadata.PluginData(plugin_name="text"))
    value = pb.summary_pb2.Summary.Value(tag=tag, metadata=metadata, tensor=proto)
    return _as_string_scalar(pb.summary_pb2.Summary(value=[value]).SerializeToString())


def _text_infer(inputs: list[Tensor], tag: str) -> list[Any]:
    (x,) = inputs
    if x.dtype != dtypes.string:
        raise TypeError(f"text summary needs a string tensor, got {x.name} of dtype {x.dtype.name}")
    return [(dtypes.string, TensorShape([]))]


register_op("TextSummary", _text_kernel, _text_infer, None)


def _merge_kernel(xp: Any, *serialized: Any) -> np.ndarray:
    # Concatenated serialized protos parse as their merge, so repeated ``value`` fields add up.
    return _as_string_scalar(b"".join(bytes(np.asarray(s, dtype=object).reshape(())[()]) for s in serialized))


def _merge_infer(inputs: list[Tensor]) -> list[Any]:
    for t in inputs:
        if t.dtype != dtypes.string:
            raise TypeError(f"merge needs serialized summaries (string tensors), got {t.name} of dtype {t.dtype.name}")
    return [(dtypes.string, TensorShape([]))]


register_op("MergeSummary", _merge_kernel, _merge_infer, None)


def _summary(op_type: str, name: str, tensor: Any, collections: Sequence[str] | None, **attrs: Any) -> Tensor:
    require()  # fail at graph construction, with the install hint, rather than inside Session.run
    tensor = convert_to_tensor(tensor)
    graph = tensor.graph
    name = _INVALID_TAG_CHARS.sub("_", name).strip("/") or "summary"
    with graph.as_default():
        # The tag is the op's own unique, scoped name (as in TensorFlow 1.x: "loss", "loss_1", "train/loss").
        tag = graph.unique_name(name, mark_as_used=False)
        out = apply(op_type, tensor, name=name, tag=tag, **attrs)
    for key in (SUMMARIES,) if collections is None else collections:
        graph.add_to_collection(key, out)
    return out


def scalar(name: str, tensor: Any, collections: Sequence[str] | None = None) -> Tensor:
    """A summary of one scalar value (a point of a curve in TensorBoard's Scalars tab).

    Parameters
    ----------
    name : the tag (the op name, unique-ified and prefixed by the current name scope).
    tensor : a numeric scalar tensor.
    collections : graph collections to add the op to; ``["summaries"]`` by default.

    Returns
    -------
    A string tensor; running it gives a serialized ``Summary`` (``bytes``) for ``FileWriter.add_summary``.
    """
    return _summary("ScalarSummary", name, tensor, collections)


def histogram(name: str, values: Any, collections: Sequence[str] | None = None, buckets: int = 30) -> Tensor:
    """A summary of the distribution of ``values`` (TensorBoard's Histograms and Distributions tabs).

    Parameters
    ----------
    name : the tag.
    values : a numeric tensor of any shape (NaN or Inf is an error at run time, as in TensorFlow).
    collections : graph collections to add the op to; ``["summaries"]`` by default.
    buckets : number of equal-width buckets between the minimum and the maximum.
    """
    return _summary("HistogramSummary", name, values, collections, buckets=int(buckets))


def image(
    name: str, tensor: Any, max_outputs: int = 3, collections: Sequence[str] | None = None, family: str | None = None
) -> Tensor:
    """A summary of up to ``max_outputs`` images (TensorBoard's Images tab), PNG-encoded.

    Parameters
    ----------
    name : the tag; each image is ``<tag>/image/<i>`` (``<tag>/image`` when ``max_outputs`` is 1), as TF 1.x.
    tensor : ``[batch, height, width, channels]``, channels 1 (gray), 3 (RGB) or 4 (RGBA); uint8,
        or floats scaled as TensorFlow does (all >= 0: the largest becomes 255; with negative
        values 0 becomes 127).
    max_outputs : how many of the batch's images to write.
    collections : graph collections to add the op to; ``["summaries"]`` by default.
    family : a prefix for the tag (``family/name``), as TF's ``family`` groups tags in TensorBoard.
    """
    full = f"{family}/{name}" if family else name
    return _summary("ImageSummary", full, tensor, collections, max_outputs=int(max_outputs))


def text(name: str, tensor: Any, collections: Sequence[str] | None = None) -> Tensor:
    """A summary of a string tensor (TensorBoard's Text tab, which renders it as Markdown), as TF 1.x's.

    Parameters
    ----------
    name : the tag.
    tensor : a string tensor (``cr.constant("...")``, or strings fed to a ``cr.string`` placeholder).
    collections : graph collections to add the op to; ``["summaries"]`` by default.
    """
    return _summary("TextSummary", name, tensor, collections)


def merge(inputs: Sequence[Any], collections: Sequence[str] | None = None, name: str | None = None) -> Tensor:
    """One summary holding every value of ``inputs`` (string tensors from ``scalar``/``histogram``/``merge``).

    The op is ``<name>/MergeSummary`` with ``name`` defaulting to ``"Merge"``, as in TensorFlow.
    """
    require()
    tensors = [convert_to_tensor(t) for t in inputs]
    if not tensors:
        raise ValueError("merge needs at least one summary tensor")
    graph = tensors[0].graph
    with graph.as_default(), graph.name_scope(name or "Merge"):
        out = apply("MergeSummary", *tensors, name="MergeSummary")
    for key in collections or ():
        out.graph.add_to_collection(key, out)
    return out


def merge_all(key: str = SUMMARIES, scope: str | None = None, name: str | None = None) -> Tensor | None:
    """Merge every summary in the default graph's collection ``key`` (None when there are none).

    Parameters
    ----------
    key : the collection (``"summaries"``).
    scope : keep only summaries whose op name matches this regular expression at its start.
    name : name scope of the merge op (``"Merge"``).
    """
    graph = get_default_graph()
    items = [t for t in graph.get_collection(key) if scope is None or re.match(scope, t.op.name)]
    if not items:
        return None
    with graph.as_default():
        return merge(items, name=name)
