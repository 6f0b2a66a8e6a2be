"""Writing an event file does not import TensorFlow (where it is installed, that costs seconds)."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytest.importorskip("tensorboard", reason="tensorboard is in the test extra; CI installs it")

_SCRIPT = """
import sys, chainrule as cr
x = cr.constant(1.0)
s = cr.summary.scalar("x", x)
with cr.Session() as sess, cr.summary.FileWriter(sys.argv[1], cr.get_default_graph()) as w:
    w.add_summary(sess.run(s), 1)
    w.add_scalar("y", 2.0, 2)
print("tensorflow" in sys.modules)
"""


def test_file_writer_does_not_import_tensorflow(tmp_path):
    result = subprocess.run([sys.executable, "-c", _SCRIPT, str(tmp_path)], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(tmp_path))
    acc.Reload()
    assert acc.Tags()["scalars"] == ["x", "y"] and acc.Tags()["graph"] is True
    assert [(e.step, e.value) for e in acc.Scalars("y")] == [(2, 2.0)]


def test_record_framing_matches_tensorboards_checksum():
    from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c

    from chainrule.summary.record_writer import masked_crc32c as ours

    for data in (b"", b"abc", bytes(range(256)) * 5):
        assert ours(data) == masked_crc32c(data)


def test_image_summary_read_back_by_tensorboard(tmp_path):
    import io

    import numpy as np
    from PIL import Image as pil  # noqa: N813 - Pillow (the test extra) decodes the PNG for the pixel check
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    import chainrule as cr

    graph = cr.Graph()
    rgb = np.arange(2 * 3 * 4 * 3, dtype=np.uint8).reshape(2, 3, 4, 3) * 2
    with graph.as_default():
        images = cr.placeholder(cr.uint8, [None, 3, 4, 3])
        gray = cr.placeholder(cr.float32, [1, 2, 2, 1])
        s1 = cr.summary.image("pics", images, max_outputs=2)
        s2 = cr.summary.image("gray", gray, max_outputs=1)
        merged = cr.summary.merge_all()
    with cr.Session(graph=graph) as sess, cr.summary.FileWriter(tmp_path) as writer:
        writer.add_summary(sess.run(merged, {images: rgb, gray: [[[[0.0], [0.5]], [[1.0], [0.25]]]]}), 1)
    assert s1.op.type == s2.op.type == "ImageSummary"
    acc = EventAccumulator(str(tmp_path), size_guidance={"images": 0})
    acc.Reload()
    assert sorted(acc.Tags()["images"]) == ["gray/image", "pics/image/0", "pics/image/1"]
    for i in range(2):
        (event,) = acc.Images(f"pics/image/{i}")
        assert (event.height, event.width, event.step) == (3, 4, 1)
        decoded = np.asarray(pil.open(io.BytesIO(event.encoded_image_string)))
        np.testing.assert_array_equal(decoded, rgb[i])
    (event,) = acc.Images("gray/image")
    decoded = np.asarray(pil.open(io.BytesIO(event.encoded_image_string)))
    np.testing.assert_array_equal(decoded, [[0, 128], [255, 64]])  # floats in [0, 1]: x * 255, rounded


def test_text_summary_read_back_by_tensorboard(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    import chainrule as cr

    graph = cr.Graph()
    with graph.as_default():
        note = cr.placeholder(cr.string, [2])
        summary = cr.summary.text("notes", note)
        with cr.Session() as sess:
            serialized = sess.run(summary, {note: ["**loss** went down", "é"]})
        writer = cr.summary.FileWriter(str(tmp_path))
        writer.add_summary(serialized, global_step=3)
        writer.close()
    with pytest.raises(TypeError, match="text summary needs a string tensor"):
        cr.summary.text("bad", cr.constant(1.0))
    acc = EventAccumulator(str(tmp_path), size_guidance={"tensors": 0})
    acc.Reload()
    assert acc.Tags()["tensors"] == ["notes"]
    (event,) = acc.Tensors("notes")
    assert event.step == 3 and list(event.tensor_proto.string_val) == [b"**loss** went down", "é".encode()]
    assert acc.SummaryMetadata("notes").plugin_data.plugin_name == "text"
