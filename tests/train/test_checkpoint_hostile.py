"""Hostile checkpoint files: every malformed file is a DataLossError naming it, quickly; nothing hangs.

The malformed headers below carry a valid SHA-256 digest, so they get past the checksum and
exercise the header validation itself (the checksum is not a signature: anyone can write one).
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import chainrule as cr
from chainrule.train import saver as saver_module

_GOOD_TENSORS = [{"name": "x", "dtype": "float32", "shape": [2], "offset": 0, "nbytes": 8}]


def _file(header: object = None, payload: bytes = b"\0" * 8, *, raw_header: bytes | None = None) -> bytes:
    """A checkpoint file with the given header (a dict, or raw bytes) and a valid digest."""
    if raw_header is None:
        raw_header = json.dumps(header).encode("utf-8")
    body = struct.pack("<8sQ", b"CRCKPT01", len(raw_header)) + raw_header + payload
    return body + hashlib.sha256(body).digest()


def _header(tensors=None, **overrides) -> dict:
    header = {
        "format": "chainrule.checkpoint",
        "version": 1,
        "payload_bytes": 8,
        "tensors": _GOOD_TENSORS if tensors is None else tensors,
    }
    header.update(overrides)
    return header


def _entry(**overrides) -> dict:
    entry = dict(_GOOD_TENSORS[0])
    entry.update(overrides)
    return entry


_DEEP = 200_000  # far past Python's recursion limit
# name -> (file bytes, a fragment of the expected message)
CASES = {
    "deeply nested JSON header": (_file(raw_header=b"[" * _DEEP + b"]" * _DEEP), "header"),
    "deeply nested JSON inside the tensor list": (
        _file(raw_header=json.dumps(_header()).encode()[:-1] + b',"x":' + b"[" * _DEEP + b"]" * _DEEP + b"}"),
        "header",
    ),
    "header is not UTF-8": (_file(raw_header=b'{"format": "\xff\xfe"}'), "header"),
    "header is a list": (_file([1, 2, 3]), "not a JSON object"),
    "duplicate key in the header": (
        _file(raw_header=json.dumps(_header()).encode()[:-1] + b', "payload_bytes": 8}'),
        "duplicate key 'payload_bytes'",
    ),
    "huge integer literal": (
        _file(raw_header=json.dumps(_header()).encode().replace(b'"offset": 0', b'"offset": ' + b"9" * 5000)),
        "header",
    ),
    "version true": (_file(_header(version=True)), "version"),
    "version as a string": (_file(_header(version="1")), "version"),
    "payload_bytes true": (_file(_header(payload_bytes=True)), "payload_bytes"),
    "payload_bytes negative": (_file(_header(payload_bytes=-8)), "payload_bytes"),
    "payload_bytes a float": (_file(_header(payload_bytes=8.0)), "payload_bytes"),
    "tensors not a list": (_file(_header(tensors={"x": 1})), "tensor list"),
    "entry is a string": (_file(_header(tensors=["x"])), "malformed tensor entry"),
    "entry is a list": (_file(_header(tensors=[[1, 2]])), "malformed tensor entry"),
    "entry lacks a field": (_file(_header(tensors=[{"name": "x"}])), "malformed tensor entry"),
    "name not a string": (_file(_header(tensors=[_entry(name=7)])), "name"),
    "empty name": (_file(_header(tensors=[_entry(name="")])), "name"),
    "duplicate name": (
        _file(_header(tensors=[_entry(shape=[1], nbytes=4), _entry(shape=[0], nbytes=0, offset=8)])),
        "duplicate",
    ),
    "unknown dtype string": (_file(_header(tensors=[_entry(dtype="float128")])), "unsupported dtype 'float128'"),
    "numpy dtype string": (_file(_header(tensors=[_entry(dtype="<f4")])), "unsupported dtype '<f4'"),
    "object dtype": (_file(_header(tensors=[_entry(dtype="object")])), "unsupported dtype 'object'"),
    "numpy object code": (_file(_header(tensors=[_entry(dtype="O")])), "unsupported dtype 'O'"),
    "dtype is a list": (_file(_header(tensors=[_entry(dtype=["float32"])])), "unsupported dtype"),
    "dtype is a dict": (_file(_header(tensors=[_entry(dtype={"a": 1})])), "unsupported dtype"),
    "shape not a list": (_file(_header(tensors=[_entry(shape=2)])), "bad shape"),
    "negative dim": (_file(_header(tensors=[_entry(shape=[-2])])), "bad shape"),
    "float dim": (_file(_header(tensors=[_entry(shape=[2.0])])), "bad shape"),
    "bool dim": (_file(_header(tensors=[_entry(shape=[True, 2])])), "bad shape"),
    "absurd dims": (_file(_header(tensors=[_entry(shape=[2**40, 2**40, 2**40])])), "does not fit"),
    "absurd dims whose product wraps in int64": (
        _file(_header(tensors=[_entry(shape=[2**32, 2**32, 2], nbytes=8, dtype="uint8")])),
        "does not fit",
    ),
    "rank beyond NumPy's limit": (
        _file(_header(tensors=[_entry(shape=[1] * 70, nbytes=4)], payload_bytes=4), b"\0" * 4),
        "rank",
    ),
    "offset a string": (_file(_header(tensors=[_entry(offset="0")])), "offset"),
    "offset a float": (_file(_header(tensors=[_entry(offset=0.0)])), "offset"),
    "offset true": (_file(_header(tensors=[_entry(offset=True, shape=[1], nbytes=4)])), "offset"),
    "offset null": (_file(_header(tensors=[_entry(offset=None)])), "offset"),
    "negative offset": (_file(_header(tensors=[_entry(offset=-8)])), "offset"),
    "misaligned offset": (
        _file(_header(tensors=[_entry(offset=4, shape=[1], nbytes=4)], payload_bytes=8)),
        "offset",
    ),
    "nbytes true": (_file(_header(tensors=[_entry(nbytes=True)])), "nbytes"),
    "nbytes does not match dtype and shape": (_file(_header(tensors=[_entry(nbytes=4)])), "does not fit"),
    "negative nbytes": (_file(_header(tensors=[_entry(nbytes=-8)])), "nbytes"),
    "tensor past the payload": (_file(_header(tensors=[_entry(shape=[4], nbytes=16)])), "does not fit"),
    "overlapping tensors": (
        _file(_header(tensors=[_entry(), _entry(name="y", offset=0)])),
        "overlaps",
    ),
    "tensors out of order": (
        _file(
            _header(
                tensors=[_entry(offset=8, shape=[1], nbytes=4), _entry(name="y", shape=[1], nbytes=4)],
                payload_bytes=16,
            ),
            b"\0" * 16,
        ),
        "overlaps",
    ),
    "payload bytes no tensor accounts for": (
        _file(_header(payload_bytes=16), b"\0" * 16),
        "payload",
    ),
    "non-canonical bool byte": (
        _file(_header(tensors=[_entry(dtype="bool", shape=[2], nbytes=2)], payload_bytes=2), b"\x01\x02"),
        "bool",
    ),
    "non-canonical bool byte 0xff": (
        _file(_header(tensors=[_entry(dtype="bool", shape=[1], nbytes=1)], payload_bytes=1), b"\xff"),
        "bool",
    ),
}


def test_the_case_files_are_otherwise_well_formed(tmp_path):
    """The template the cases break is itself a readable checkpoint (so each case tests one defect)."""
    path = tmp_path / "good"
    path.write_bytes(_file(_header(), np.array([1.5, -2.0], "<f4").tobytes()))
    np.testing.assert_array_equal(saver_module.read_checkpoint(str(path))["x"], [1.5, -2.0])
    path.write_bytes(_file(_header(tensors=[_entry(dtype="bool", shape=[2], nbytes=2)], payload_bytes=2), b"\1\0"))
    np.testing.assert_array_equal(saver_module.read_checkpoint(str(path))["x"], [True, False])


@pytest.mark.parametrize("case", sorted(CASES))
def test_malformed_file_is_data_loss_naming_the_path(tmp_path, case):
    data, fragment = CASES[case]
    path = str(tmp_path / "hostile-1")
    with open(path, "wb") as f:
        f.write(data)
    start = time.perf_counter()
    with pytest.raises(cr.errors.DataLossError) as info:
        saver_module.read_checkpoint(path)
    elapsed = time.perf_counter() - start
    assert path in str(info.value)
    assert fragment in str(info.value), str(info.value)
    assert elapsed < 1.0, f"{case} took {elapsed:.2f} s"


def test_malformed_file_through_saver_restore_changes_nothing(tmp_path):
    with cr.Graph().as_default():
        x = cr.Variable(np.array([3.0, 4.0], np.float32), name="x")
        saver = cr.train.Saver()
        with cr.Session() as sess:
            sess.run(x.initializer)
            for case in ["overlapping tensors", "non-canonical bool byte", "deeply nested JSON header"]:
                path = str(tmp_path / "model")
                with open(path, "wb") as f:
                    f.write(CASES[case][0])
                with pytest.raises(cr.errors.DataLossError, match="model"):
                    saver.restore(sess, path)
                np.testing.assert_array_equal(sess.run(x), [3.0, 4.0])


# -- special files -------------------------------------------------------------------------------
# Run in a child process with a memory cap and a timeout: a regression then fails this test
# (timeout, MemoryError) instead of hanging the test run or eating the machine's memory.
_SPECIAL_FILES_CHILD = textwrap.dedent(
    """
    import json, os, resource, sys, time, warnings
    resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
    import chainrule as cr
    from chainrule.train import saver as s

    root = sys.argv[1]
    results = {}

    def attempt(name, fn):
        start = time.perf_counter()
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                value = fn()
            outcome = ["returned", repr(value), [str(w.message) for w in caught]]
        except BaseException as e:
            outcome = ["raised", type(e).__name__, str(e)]
        results[name] = outcome + [time.perf_counter() - start]

    fifo = os.path.join(root, "fifo-ckpt")
    os.mkfifo(fifo)
    zero = os.path.join(root, "zero-ckpt")
    os.symlink("/dev/zero", zero)
    attempt("read fifo", lambda: s.read_checkpoint(fifo))
    attempt("read /dev/zero", lambda: s.read_checkpoint(zero))
    attempt("list_variables fifo", lambda: cr.train.list_variables(fifo))
    with cr.Graph().as_default():
        v = cr.Variable(1.0, name="v")
        saver = cr.train.Saver()
        with cr.Session() as sess:
            attempt("restore fifo", lambda: saver.restore(sess, fifo))
            attempt("restore /dev/zero", lambda: saver.restore(sess, zero))

    for kind in ("fifo", "zero"):
        d = os.path.join(root, "index-" + kind)
        os.mkdir(d)
        index = os.path.join(d, "checkpoint")
        os.mkfifo(index) if kind == "fifo" else os.symlink("/dev/zero", index)
        attempt("latest_checkpoint, index is " + kind, lambda: cr.train.latest_checkpoint(d))
    print(json.dumps(results))
    """
)


def test_fifos_and_devices_are_refused_quickly(tmp_path):
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join([os.path.dirname(os.path.dirname(cr.__file__)), env.get("PYTHONPATH", "")])
    child = subprocess.run(
        [sys.executable, "-c", _SPECIAL_FILES_CHILD, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert child.returncode == 0, child.stderr
    results = json.loads(child.stdout.strip().splitlines()[-1])
    for name, outcome in results.items():
        assert outcome[-1] < 1.0, (name, outcome)
        if name.startswith("latest_checkpoint"):
            # An unreadable index is ignored with a warning, as TensorFlow does.
            assert outcome[:2] == ["returned", "None"], (name, outcome)
            assert any("not a regular file" in w for w in outcome[2]), (name, outcome)
        else:
            assert outcome[:2] == ["raised", "DataLossError"], (name, outcome)
            assert "not a regular file" in outcome[2] and "-ckpt" in outcome[2], (name, outcome)


# -- the index file ------------------------------------------------------------------------------
def _index(directory, **state):
    with open(os.path.join(directory, "checkpoint"), "w") as f:
        json.dump(state, f)


@pytest.mark.parametrize(
    "entry",
    ["/etc/passwd", "../model-1", "sub/model-1", "..", ".", "", "model-1\0x"],
)
def test_index_entries_outside_the_directory_are_refused(tmp_path, entry):
    inner = tmp_path / "run"
    inner.mkdir()
    (tmp_path / "model-1").write_bytes(b"x")  # what "../model-1" would reach
    _index(inner, model_checkpoint_path=entry, all_model_checkpoint_paths=[entry])
    with pytest.warns(UserWarning, match="outside|plain file name"):
        assert cr.train.latest_checkpoint(str(inner)) is None
    _index(inner, model_checkpoint_path="model-2", all_model_checkpoint_paths=[entry, "model-2"])
    with pytest.warns(UserWarning, match="outside|plain file name"):
        assert cr.train.get_checkpoint_state(str(inner)) is None


def test_deeply_nested_index_is_ignored_with_a_warning(tmp_path):
    (tmp_path / "checkpoint").write_text('{"model_checkpoint_path": ' + "[" * _DEEP + "]" * _DEEP + "}")
    with pytest.warns(UserWarning, match="unreadable checkpoint index"):
        assert cr.train.latest_checkpoint(str(tmp_path)) is None
