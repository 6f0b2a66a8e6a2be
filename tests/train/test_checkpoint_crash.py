"""A save killed (SIGKILL) at any moment: no temp files, no forgotten checkpoints, latest restorable."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.train import saver as saver_module

# One child process imports chainrule once, then forks a "training process" per round that
# saves in a loop (a fresh graph and Saver each time, as a restarted job has) and SIGKILLs it
# after a seeded random delay. After every kill it checks that the latest checkpoint restores
# with the values of its step; at the end a last, clean save must leave exactly max_to_keep
# checkpoints and nothing else.
_CHILD = textwrap.dedent(
    """
    import json, os, random, re, signal, sys, time
    import numpy as np
    import chainrule as cr

    directory, kills, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    MAX_TO_KEEP, SIZE = 3, 1 << 18  # 1 MiB of float32 per checkpoint

    def saver_and_session():
        graph = cr.Graph()
        with graph.as_default():
            v = cr.Variable(np.zeros(SIZE, np.float32), name="v")
            step = cr.Variable(0, dtype=cr.int64, name="global_step", trainable=False)
            saver = cr.train.Saver(max_to_keep=MAX_TO_KEEP)
            sess = cr.Session()
            sess.run(cr.global_variables_initializer())
        return graph, v, step, saver, sess

    def latest_step():
        latest = cr.train.latest_checkpoint(directory)
        return 0 if latest is None else int(latest.rsplit("-", 1)[1])

    def train_forever():
        graph, v, step, saver, sess = saver_and_session()
        n = latest_step()
        with graph.as_default():
            while True:
                n += 1
                sess.run([v.assign(np.full(SIZE, n, np.float32)), step.assign(n)])
                saver.save(sess, os.path.join(directory, "model"), global_step=n)

    def check_latest():
        latest = cr.train.latest_checkpoint(directory)
        if latest is None:
            return None
        graph, v, step, saver, sess = saver_and_session()
        saver.restore(sess, latest)
        n = int(latest.rsplit("-", 1)[1])
        assert sess.run(step) == n, (latest, sess.run(step))
        assert (sess.run(v) == n).all(), latest
        return n

    rng = random.Random(seed)
    stats = {"temp_files_after_kill": 0, "pending_after_kill": 0, "orphans_seen": 0, "steps": []}
    for _ in range(kills):
        pid = os.fork()
        if pid == 0:
            try:
                train_forever()
            finally:
                os._exit(1)
        time.sleep(rng.uniform(0.05, 0.35))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        names = os.listdir(directory)
        stats["temp_files_after_kill"] += sum(".tmp-" in n for n in names)
        index = os.path.join(directory, "checkpoint")
        if os.path.exists(index):
            state = json.load(open(index))
            stats["pending_after_kill"] += bool(state.get("pending"))
            listed = set(state["all_model_checkpoint_paths"])
            stats["orphans_seen"] += sum(bool(re.fullmatch(r"model-\\d+", n)) and n not in listed for n in names)
        stats["steps"].append(check_latest())  # the previous checkpoint always restores

    graph, v, step, saver, sess = saver_and_session()  # the job restarts and saves once more, cleanly
    n = latest_step() + 1
    with graph.as_default():
        sess.run([v.assign(np.full(SIZE, n, np.float32)), step.assign(n)])
    saver.save(sess, os.path.join(directory, "model"), global_step=n)
    stats["final_step"] = n
    stats["restored_step"] = check_latest()
    stats["files"] = sorted(os.listdir(directory))
    print(json.dumps(stats))
    """
)


def test_random_sigkills_during_saves_leave_no_temp_files_and_no_orphans(tmp_path):
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join([os.path.dirname(os.path.dirname(cr.__file__)), env.get("PYTHONPATH", "")])
    child = subprocess.run(
        [sys.executable, "-c", _CHILD, str(tmp_path), "20", "12"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert child.returncode == 0, child.stderr
    stats = json.loads(child.stdout.strip().splitlines()[-1])
    print(stats)
    final = stats["final_step"]
    assert stats["restored_step"] == final
    checkpoints = [name for name in stats["files"] if name.startswith("model-")]
    # Nothing but the index and max_to_keep (3) checkpoints: no temp file, no orphan.
    assert stats["files"] == ["checkpoint", *checkpoints] and len(checkpoints) == 3, stats["files"]
    assert f"model-{final}" in checkpoints
    index = json.loads((tmp_path / "checkpoint").read_text())
    assert index["model_checkpoint_path"] == f"model-{final}"
    assert sorted(index["all_model_checkpoint_paths"]) == sorted(checkpoints)
    # The kills did land mid-save (else this test would prove nothing), and training progressed.
    assert stats["temp_files_after_kill"] + stats["pending_after_kill"] > 0, stats
    assert all(step is not None for step in stats["steps"][1:]) and final > len(stats["steps"])


# -- the pieces, one at a time ---------------------------------------------------------------------
@pytest.fixture
def session():
    with cr.Graph().as_default():
        v = cr.Variable(np.arange(3.0), name="v")
        with cr.Session() as sess:
            sess.run(v.initializer)
            yield sess


def test_only_dead_writers_temp_files_of_this_saver_are_removed(session, tmp_path):
    live_fd, live = saver_module._create_temp_file(str(tmp_path / "model-9"))  # a writer still at work
    dead = tmp_path / ".model-8.tmp-0123456789ab"  # a killed writer's (no lock held)
    dead_index = tmp_path / ".checkpoint.tmp-00000000abcd"
    foreign = [tmp_path / ".other-1.tmp-0123456789ab", tmp_path / ".model-8.tmp-notours"]
    for path in [dead, dead_index, *foreign]:
        path.write_bytes(b"partial")
    saver = cr.train.Saver(max_to_keep=2)
    try:
        saver.save(session, str(tmp_path / "model"), global_step=1)
        assert not dead.exists() and not dead_index.exists()
        assert os.path.exists(live) and all(path.exists() for path in foreign)
    finally:
        os.close(live_fd)
    saver.save(session, str(tmp_path / "model"), global_step=2)  # its writer is gone now
    assert not os.path.exists(live)
    assert sorted(os.listdir(tmp_path)) == sorted(["checkpoint", "model-1", "model-2", *(p.name for p in foreign)])


def test_a_temp_file_taken_before_its_writer_locks_it_is_replaced(tmp_path, monkeypatch):
    """The race the writer re-checks: its new file removed between creation and lock."""
    real_flock, removed = saver_module.fcntl.flock, []

    def flock_after_removal(fd, operation):
        if not removed:
            (path,) = [p for p in tmp_path.iterdir() if p.name.startswith(".x.tmp-")]
            os.unlink(path)
            removed.append(path)
        return real_flock(fd, operation)

    monkeypatch.setattr(saver_module.fcntl, "flock", flock_after_removal)
    saver_module.write_checkpoint(str(tmp_path / "x"), {"a": np.ones(2)})
    monkeypatch.undo()
    assert removed and sorted(os.listdir(tmp_path)) == ["x"]
    np.testing.assert_array_equal(saver_module.read_checkpoint(str(tmp_path / "x"))["a"], np.ones(2))


def _write_index(directory, **state):
    (directory / "checkpoint").write_text(json.dumps(state))


def test_the_next_save_finishes_a_killed_saves_deletions_and_adopts_its_checkpoint(session, tmp_path):
    for step in (1, 2, 3):
        saver_module.write_checkpoint(str(tmp_path / f"model-{step}"), {"v": np.zeros(3)})
    (tmp_path / "notes").write_text("not a checkpoint")
    # Killed after writing model-3 (still pending) and after dropping model-1 (obsolete, not yet deleted).
    _write_index(
        tmp_path,
        model_checkpoint_path="model-2",
        all_model_checkpoint_paths=["model-2"],
        pending=["model-3"],
        obsolete=["model-1", "notes"],
    )
    assert cr.train.latest_checkpoint(str(tmp_path)) == str(tmp_path / "model-2")
    saver = cr.train.Saver(max_to_keep=3)  # a fresh Saver, as after a restart
    saver.save(session, str(tmp_path / "model"), global_step=4)
    assert saver.last_checkpoints == [str(tmp_path / f"model-{s}") for s in (2, 3, 4)]
    assert sorted(os.listdir(tmp_path)) == ["checkpoint", "model-2", "model-3", "model-4", "notes"]
    assert json.loads((tmp_path / "checkpoint").read_text()) == {
        "model_checkpoint_path": "model-4",
        "all_model_checkpoint_paths": ["model-2", "model-3", "model-4"],
    }


def test_a_restarted_saver_keeps_max_to_keep_for_its_prefix_only(session, tmp_path):
    first = cr.train.Saver(max_to_keep=2)
    for step in (1, 2, 3):
        first.save(session, str(tmp_path / "model"), global_step=step)
    second = cr.train.Saver(max_to_keep=2)
    second.save(session, str(tmp_path / "model"), global_step=4)
    assert sorted(os.listdir(tmp_path)) == ["checkpoint", "model-3", "model-4"]
    best = cr.train.Saver(max_to_keep=1)  # another prefix in the same directory: its own count
    best.save(session, str(tmp_path / "best"), global_step=5)
    assert sorted(os.listdir(tmp_path)) == ["best-5", "checkpoint", "model-3", "model-4"]


def test_an_index_of_a_first_save_killed_early_means_no_checkpoint_yet(tmp_path):
    _write_index(tmp_path, model_checkpoint_path=None, all_model_checkpoint_paths=[], pending=["model-1"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cr.train.latest_checkpoint(str(tmp_path)) is None
        assert cr.train.get_checkpoint_state(str(tmp_path)) is None


def test_write_state_false_files_are_not_adopted(session, tmp_path):
    saver = cr.train.Saver(max_to_keep=1)
    saver.save(session, str(tmp_path / "model"), global_step=1, write_state=False)
    saver.save(session, str(tmp_path / "model"), global_step=2)
    saver.save(session, str(tmp_path / "model"), global_step=3)
    assert sorted(os.listdir(tmp_path)) == ["checkpoint", "model-1", "model-3"]
