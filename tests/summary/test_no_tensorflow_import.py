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
