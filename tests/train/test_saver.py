"""Checkpoints: round trips, retention, the index, crash safety, corruption and mismatches."""

from __future__ import annotations

import errno
import json
import os
import struct
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import chainrule as cr
from chainrule.train import saver as saver_module

W0 = np.arange(6, dtype=np.float32).reshape(2, 3) / 10


def _build(w_shape=(2, 3), b_dtype=cr.float64, extra=False):
    """A small model with every kind of saved variable: float32/64, int64 step, bool, size 0, Adam slots."""
    w = cr.Variable(np.ones(w_shape, np.float32), name="w")
    b = cr.Variable(np.array(0.5, b_dtype.as_numpy_dtype), name="b")
    cr.Variable(np.array([True, False]), name="flags", trainable=False)
    cr.Variable(np.zeros((0, 3), np.int32), name="empty", trainable=False)
    if extra:
        cr.Variable(np.zeros(4, np.float32), name="extra")
    step = cr.train.get_or_create_global_step()
    loss = cr.reduce_sum(cr.square(w - 2.0)) + cr.square(cr.cast(b, cr.float32))
    train = cr.train.AdamOptimizer(0.1).minimize(loss, global_step=step)
    return train


def _values(sess):
    return {v.op.name: sess.run(v) for v in cr.global_variables()}


def _assert_same(got, expected):
    assert sorted(got) == sorted(expected)
    for name in expected:
        np.testing.assert_array_equal(got[name], expected[name], err_msg=name)
        assert np.asarray(got[name]).dtype == np.asarray(expected[name]).dtype, name


@pytest.fixture
def graph():
    g = cr.Graph()
    with g.as_default():
        yield g


@pytest.fixture
def trained(graph, tmp_path):
    """A session after two training steps, with one checkpoint saved at step 2."""
    train = _build()
    saver = cr.train.Saver(max_to_keep=3)
    sess = cr.Session()
    sess.run(cr.global_variables_initializer())
    sess.run(train)
    sess.run(train)
    path = saver.save(sess, str(tmp_path / "model"), global_step=cr.train.get_global_step())
    yield sess, saver, train, path, _values(sess)
    sess.close()


def _snapshot(directory):
    return {name: (directory / name).read_bytes() for name in sorted(os.listdir(directory))}


# -- round trips ------------------------------------------------------------------------------
def test_round_trip(trained, tmp_path):
    sess, saver, train, path, saved = trained
    assert path == str(tmp_path / "model-2") and os.path.isfile(path)
    assert sorted(saved) == [
        "b",
        "b/Adam",
        "b/Adam_1",
        "beta1_power",
        "beta2_power",
        "empty",
        "flags",
        "global_step",
        "w",
        "w/Adam",
        "w/Adam_1",
    ]
    sess.run(train)
    assert sess.run(cr.train.get_global_step()) == 3
    saver.restore(sess, path)
    _assert_same(_values(sess), saved)
    # Training resumes exactly where it was: slots and beta powers came back too.
    sess.run(train)
    after_restore = _values(sess)
    saver.restore(sess, path)
    sess.run(train)
    _assert_same(_values(sess), after_restore)


def test_restore_into_a_fresh_graph_and_session(trained):
    _, _, _, path, saved = trained
    with cr.Graph().as_default():
        _build()
        saver = cr.train.Saver()
        with cr.Session() as sess:
            saver.restore(sess, path)  # no initializer needed: restore sets every variable
            _assert_same(_values(sess), saved)


def test_var_list_dict_list_variables_and_load_variable(trained, tmp_path):
    sess, _, _, _, saved = trained
    w = cr.global_variables()[0]
    renamed = cr.train.Saver({"weights": w})
    path = renamed.save(sess, str(tmp_path / "renamed"))
    assert cr.train.list_variables(path) == [("weights", [2, 3])]
    np.testing.assert_array_equal(cr.train.load_variable(path, "weights"), saved["w"])
    # The directory form reads its latest checkpoint (the renamed one, written last).
    assert cr.train.load_variable(str(tmp_path), "weights:0").dtype == np.float32
    with pytest.raises(cr.errors.NotFoundError, match="nope"):
        cr.train.load_variable(path, "nope")
    sess.run(w.assign(np.zeros((2, 3), np.float32)))
    renamed.restore(sess, path)
    np.testing.assert_array_equal(sess.run(w), saved["w"])


def test_file_layout_matches_the_documented_format(trained):
    _, _, _, path, saved = trained
    data = open(path, "rb").read()
    magic, header_len = struct.unpack_from("<8sQ", data)
    assert magic == b"CRCKPT01"
    header = json.loads(data[16 : 16 + header_len])
    assert header["format"] == "chainrule.checkpoint" and header["version"] == 1
    assert len(data) == 16 + header_len + header["payload_bytes"] + 32
    entry = next(e for e in header["tensors"] if e["name"] == "w")
    assert entry["dtype"] == "float32" and entry["shape"] == [2, 3] and entry["offset"] % 8 == 0
    start = 16 + header_len + entry["offset"]
    np.testing.assert_array_equal(np.frombuffer(data[start : start + entry["nbytes"]], "<f4").reshape(2, 3), saved["w"])


# -- retention and the index -------------------------------------------------------------------
def test_max_to_keep(graph, tmp_path):
    train = _build()
    saver = cr.train.Saver(max_to_keep=2)
    step = cr.train.get_global_step()
    with cr.Session() as sess:
        sess.run(cr.global_variables_initializer())
        for _ in range(4):
            sess.run(train)
            saver.save(sess, str(tmp_path / "model"), global_step=step)
        assert sorted(os.listdir(tmp_path)) == ["checkpoint", "model-3", "model-4"]
        assert saver.last_checkpoints == [str(tmp_path / "model-3"), str(tmp_path / "model-4")]
        index = json.loads((tmp_path / "checkpoint").read_text())
        # "obsolete" journals the deletion: a save killed before it happened finishes it next time.
        assert index == {
            "model_checkpoint_path": "model-4",
            "all_model_checkpoint_paths": ["model-3", "model-4"],
            "obsolete": ["model-2"],
        }
        # Saving the same path again moves it to the end instead of duplicating it.
        saver.save(sess, str(tmp_path / "model"), global_step=3)
        assert saver.last_checkpoints == [str(tmp_path / "model-4"), str(tmp_path / "model-3")]
        assert cr.train.latest_checkpoint(str(tmp_path)) == str(tmp_path / "model-3")

        keep_all = cr.train.Saver(max_to_keep=None)
        for i in range(7):
            keep_all.save(sess, str(tmp_path / "all"), global_step=i)
        assert len([f for f in os.listdir(tmp_path) if f.startswith("all-")]) == 7


def test_latest_checkpoint(trained, tmp_path):
    sess, saver, train, path, _ = trained
    assert cr.train.latest_checkpoint(str(tmp_path)) == path
    assert cr.train.latest_checkpoint(str(tmp_path / "nowhere")) is None
    empty = tmp_path / "empty"
    empty.mkdir()
    assert cr.train.latest_checkpoint(str(empty)) is None
    sess.run(train)
    newer = saver.save(sess, str(tmp_path / "model"), global_step=cr.train.get_global_step())
    assert cr.train.latest_checkpoint(str(tmp_path)) == newer
    state = cr.train.get_checkpoint_state(str(tmp_path))
    assert state.all_model_checkpoint_paths == [path, newer]
    # Paths are stored relative to the directory, so a moved directory still works.
    moved = tmp_path.parent / (tmp_path.name + "_moved")
    os.rename(tmp_path, moved)
    try:
        assert cr.train.latest_checkpoint(str(moved)) == str(moved / "model-3")
    finally:
        os.rename(moved, tmp_path)
    (empty / "checkpoint").write_text("{not json")
    with pytest.warns(UserWarning, match="unreadable checkpoint index"):
        assert cr.train.latest_checkpoint(str(empty)) is None


def test_save_errors(graph, tmp_path):
    cr.Variable(1.0, name="v")
    saver = cr.train.Saver()
    with cr.Session() as sess:
        with pytest.raises(cr.errors.FailedPreconditionError, match="uninitialized"):
            saver.save(sess, str(tmp_path / "model"))
        assert os.listdir(tmp_path) == []
        sess.run(cr.global_variables_initializer())
        with pytest.raises(ValueError, match="doesn't exist"):
            saver.save(sess, str(tmp_path / "missing_dir" / "model"))
        with pytest.raises(ValueError, match="None"):
            saver.restore(sess, None)
    with cr.Graph().as_default():
        with pytest.raises(ValueError, match="No variables to save"):
            cr.train.Saver()


# -- crash safety ------------------------------------------------------------------------------
def _index_state(index_bytes):
    state = json.loads(index_bytes)
    return state["model_checkpoint_path"], state["all_model_checkpoint_paths"]


def _assert_previous_checkpoint_intact(sess, saver, path, saved, tmp_path, before):
    after = _snapshot(tmp_path)
    # The same files with the same bytes (no temp file, no partial file), except that the index
    # may have journaled the save that failed ("pending"); what it says is latest is unchanged.
    assert _index_state(after.pop("checkpoint")) == _index_state(before["checkpoint"])
    assert after == {name: data for name, data in before.items() if name != "checkpoint"}
    assert cr.train.latest_checkpoint(str(tmp_path)) == path
    saver.restore(sess, path)
    _assert_same(_values(sess), saved)


def _half_then(error):
    def write(f, chunks):
        data = b"".join(bytes(c) for c in chunks)
        f.write(data[: len(data) // 2])
        raise error

    return write


@pytest.mark.parametrize(
    "failure",
    [
        "disk_full_mid_write",
        "fsync_fails",
        "rename_fails",
        "pending_index_write_fails",
        "index_write_fails",
        "index_rename_fails",
    ],
)
def test_failure_during_save_keeps_previous_checkpoint(trained, tmp_path, monkeypatch, failure):
    sess, saver, train, path, saved = trained
    before = _snapshot(tmp_path)
    sess.run(train)
    enospc = OSError(errno.ENOSPC, "No space left on device")
    if failure == "disk_full_mid_write":
        monkeypatch.setattr(saver_module, "_write_chunks", _half_then(enospc))
    elif failure == "fsync_fails":
        monkeypatch.setattr(saver_module.os, "fsync", lambda fd: (_ for _ in ()).throw(enospc))
    elif failure == "rename_fails":
        monkeypatch.setattr(saver_module.os, "replace", lambda a, b: (_ for _ in ()).throw(OSError("rename failed")))
    elif failure.endswith("index_write_fails"):
        # The writes are: the index journaling the pending checkpoint, the checkpoint, the final index.
        real_write, calls = saver_module._write_chunks, []
        failing = 1 if failure.startswith("pending") else 3

        def nth_write_fails(f, chunks):
            calls.append(1)
            return (_half_then(enospc) if len(calls) == failing else real_write)(f, chunks)

        monkeypatch.setattr(saver_module, "_write_chunks", nth_write_fails)
    else:
        real_replace, index_renames = os.replace, []

        def final_index_rename_fails(src, dst):
            if os.path.basename(dst) == "checkpoint":
                index_renames.append(dst)
                if len(index_renames) == 2:
                    raise enospc
            return real_replace(src, dst)

        monkeypatch.setattr(saver_module.os, "replace", final_index_rename_fails)
    with pytest.raises(OSError):
        saver.save(sess, str(tmp_path / "model"), global_step=cr.train.get_global_step())
    monkeypatch.undo()
    after = _snapshot(tmp_path)
    if failure.startswith("index"):
        # The new checkpoint file made it; the index (and so latest_checkpoint) did not move, but
        # it journals the new file as pending, so the next save adopts it (max_to_keep counts it).
        new = tmp_path / "model-3"
        assert sorted(after) == sorted([*before, "model-3"])
        assert json.loads(after["checkpoint"])["pending"] == ["model-3"]
        assert saver.last_checkpoints == [path]
        cr.train.Saver().restore(sess, str(new))
        os.rename(new, tmp_path / "model-3.keep")
        with_new = {**before, "model-3.keep": after["model-3"]}
        _assert_previous_checkpoint_intact(sess, saver, path, saved, tmp_path, with_new)
        os.rename(tmp_path / "model-3.keep", new)
        saver.save(sess, str(tmp_path / "model"), global_step=4)
        assert saver.last_checkpoints == [path, str(new), str(tmp_path / "model-4")]
        assert "pending" not in json.loads((tmp_path / "checkpoint").read_text())
        return
    _assert_previous_checkpoint_intact(sess, saver, path, saved, tmp_path, before)


def test_disk_full_while_overwriting_the_same_checkpoint(trained, tmp_path, monkeypatch):
    sess, saver, train, path, saved = trained
    before = _snapshot(tmp_path)
    sess.run(train)
    monkeypatch.setattr(saver_module, "_write_chunks", _half_then(OSError(errno.ENOSPC, "full")))
    with pytest.raises(OSError, match="full"):
        saver.save(sess, str(tmp_path / "model"), global_step=2)  # the path of the existing checkpoint
    monkeypatch.undo()
    _assert_previous_checkpoint_intact(sess, saver, path, saved, tmp_path, before)


def test_max_to_keep_deletes_nothing_when_save_fails(trained, tmp_path, monkeypatch):
    sess, saver, train, path, saved = trained
    saver._max_to_keep = 1
    before = _snapshot(tmp_path)
    monkeypatch.setattr(saver_module, "_write_chunks", _half_then(OSError(errno.ENOSPC, "full")))
    with pytest.raises(OSError):
        saver.save(sess, str(tmp_path / "model"), global_step=5)
    monkeypatch.undo()
    _assert_previous_checkpoint_intact(sess, saver, path, saved, tmp_path, before)


def test_process_killed_mid_write_keeps_previous_checkpoint(trained, tmp_path):
    """A real crash: the child process dies (os._exit) halfway through writing the new file."""
    sess, saver, train, path, saved = trained
    before = _snapshot(tmp_path)
    child = textwrap.dedent(
        f"""
        import os, numpy as np
        from chainrule.train import saver as s
        def write(f, chunks):
            data = b"".join(bytes(c) for c in chunks)
            f.write(data[: len(data) // 2]); f.flush()
            os._exit(3)
        s._write_chunks = write
        s.write_checkpoint({str(tmp_path / "model-2")!r}, {{"w": np.zeros((2, 3), np.float32)}})
        """
    )
    result = subprocess.run([sys.executable, "-c", child], capture_output=True, timeout=120)
    assert result.returncode == 3, result.stderr.decode()
    # The previous file is untouched; only a hidden temporary file is left behind by the crash.
    leftovers = sorted(set(os.listdir(tmp_path)) - set(before))
    assert len(leftovers) == 1 and leftovers[0].startswith(".model-2.tmp-")
    os.remove(tmp_path / leftovers[0])
    _assert_previous_checkpoint_intact(sess, saver, path, saved, tmp_path, before)


# -- damaged files -----------------------------------------------------------------------------
def _damage_and_check(sess, saver, path, saved, data, match):
    with open(path, "wb") as f:
        f.write(data)
    sess.run(cr.train.get_global_step().assign(100))
    changed = _values(sess)
    with pytest.raises(cr.errors.DataLossError, match=match) as info:
        saver.restore(sess, path)
    assert path in str(info.value)
    _assert_same(_values(sess), changed)  # nothing restored


@pytest.mark.parametrize("keep", [0, 10, 16, 100, -33, -1])
def test_truncated_file(trained, keep):
    sess, saver, _, path, saved = trained
    data = open(path, "rb").read()
    _damage_and_check(sess, saver, path, saved, data[:keep], "corrupted or truncated")


def test_truncated_file_says_so(trained):
    sess, saver, _, path, saved = trained
    data = open(path, "rb").read()
    _damage_and_check(sess, saver, path, saved, data[:-40], r"truncated: it has \d+ bytes, its header says \d+")
    _damage_and_check(sess, saver, path, saved, data + b"\0", "unexpected bytes after its end")


@pytest.mark.parametrize("where", ["magic", "length", "header", "payload", "digest"])
def test_flipped_byte(trained, where):
    sess, saver, _, path, saved = trained
    data = bytearray(open(path, "rb").read())
    (header_len,) = struct.unpack_from("<Q", data, 8)
    position = {
        "magic": 2,
        "length": 9,
        "header": 16 + header_len // 2,
        "payload": 16 + header_len + 5,
        "digest": len(data) - 3,
    }[where]
    data[position] ^= 0x01
    _damage_and_check(sess, saver, path, saved, bytes(data), "corrupted or truncated")


def test_missing_file_and_directory(trained, tmp_path):
    sess, saver, _, _, _ = trained
    with pytest.raises(cr.errors.NotFoundError, match="not found"):
        saver.restore(sess, str(tmp_path / "model-99"))
    with pytest.raises(cr.errors.NotFoundError, match="is a directory"):
        saver.restore(sess, str(tmp_path))


def test_read_rejects_a_forged_header_even_with_a_valid_checksum(tmp_path):
    # The checksum is not a signature: header fields are validated too (no pickle, no object dtype).
    import hashlib

    header = json.dumps(
        {
            "format": "chainrule.checkpoint",
            "version": 1,
            "payload_bytes": 8,
            "tensors": [{"name": "x", "dtype": "object", "shape": [1], "offset": 0, "nbytes": 8}],
        }
    ).encode()
    body = struct.pack("<8sQ", b"CRCKPT01", len(header)) + header + b"\0" * 8
    path = tmp_path / "forged"
    path.write_bytes(body + hashlib.sha256(body).digest())
    with pytest.raises(cr.errors.DataLossError, match="unsupported dtype 'object'"):
        saver_module.read_checkpoint(str(path))


# -- mismatched graphs -------------------------------------------------------------------------
def test_restore_into_mismatched_graph_lists_everything_and_changes_nothing(trained):
    _, _, _, path, _ = trained
    with cr.Graph().as_default():
        _build(w_shape=(3, 2), b_dtype=cr.float32, extra=True)
        # Leave the checkpoint's "flags" out of this graph's Saver to get a "missing in graph" entry.
        saver = cr.train.Saver([v for v in cr.global_variables() if v.op.name != "flags"])
        with cr.Session() as sess:
            sess.run(cr.global_variables_initializer())
            before = _values(sess)
            with pytest.raises(cr.errors.InvalidArgumentError) as info:
                saver.restore(sess, path)
            message = str(info.value)
            for expected in [
                "9 problems",
                "missing in checkpoint: 'extra' (float32 [4])",
                "shape mismatch: 'w': graph has [3, 2], checkpoint has [2, 3]",
                "shape mismatch: 'w/Adam_1': graph has [3, 2], checkpoint has [2, 3]",
                "dtype mismatch: 'b': graph has float32, checkpoint has float64",
                "dtype mismatch: 'beta1_power': graph has float32, checkpoint has float64",
                path,
            ]:
                assert expected in message, (expected, message)
            _assert_same(_values(sess), before)


def test_only_missing_variables_is_not_found_and_extra_entries_are_ignored(trained):
    _, _, _, path, saved = trained
    with cr.Graph().as_default():
        w = cr.Variable(np.zeros((2, 3), np.float32), name="w")
        new = cr.Variable(np.zeros(2, np.float32), name="new")
        with cr.Session() as sess:
            sess.run(cr.global_variables_initializer())
            with pytest.raises(cr.errors.NotFoundError, match="missing in checkpoint: 'new'"):
                cr.train.Saver([w, new]).restore(sess, path)
            np.testing.assert_array_equal(sess.run(w), np.zeros((2, 3)))
            cr.train.Saver([w]).restore(sess, path)  # the file's w/Adam, b, ... are ignored, as in TensorFlow
            np.testing.assert_array_equal(sess.run(w), saved["w"])


def test_session_of_another_graph_is_refused(trained):
    _, saver, _, path, _ = trained
    with cr.Graph().as_default(), cr.Session() as other:
        with pytest.raises(ValueError, match="not the graph"):
            saver.restore(other, path)


# -- TensorFlow 1.x's constructor ------------------------------------------------------------------
def test_keep_checkpoint_every_n_hours_keeps_one_file_per_period(graph, tmp_path, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(saver_module.time, "time", lambda: clock[0])
    w = cr.Variable(np.zeros(2), name="w")
    saver = cr.train.Saver([w], max_to_keep=2, keep_checkpoint_every_n_hours=1.0)
    with cr.Session() as sess:
        sess.run(w.initializer)
        for step in range(1, 7):
            clock[0] += 1500.0  # a checkpoint every 25 minutes
            saver.save(sess, str(tmp_path / "model"), global_step=step)
    files = sorted(f for f in os.listdir(tmp_path) if f.startswith("model-"))
    # Steps 5 and 6 are the two most recent; step 3, the first saved more than an hour after the
    # Saver was made, survives max_to_keep; step 4, less than an hour after step 3, does not.
    assert files == ["model-3", "model-5", "model-6"]
    index = json.loads((tmp_path / "checkpoint").read_text())
    assert index["all_model_checkpoint_paths"] == ["model-5", "model-6"]


def test_saver_takes_tensorflows_positional_arguments_and_refuses_what_it_cannot_do(graph, tmp_path):
    w = cr.Variable(np.ones(3), name="w")
    saver = cr.train.Saver({"renamed": w}, False, True, 1)  # var_list, reshape, sharded, max_to_keep
    saver.build()
    with cr.Session() as sess:
        sess.run(w.initializer)
        saver.save(sess, str(tmp_path / "a"), global_step=1)
        saver.save(sess, str(tmp_path / "a"), global_step=2)
    assert sorted(f for f in os.listdir(tmp_path) if f.startswith("a-")) == ["a-2"]
    assert cr.train.list_variables(str(tmp_path / "a-2")) == [("renamed", [3])]
    with pytest.raises(ValueError, match="reshape=True"):
        cr.train.Saver([w], reshape=True)
    with pytest.raises(ValueError, match="saver_def and builder"):
        cr.train.Saver([w], saver_def=object())
