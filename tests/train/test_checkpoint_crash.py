"""A save killed (SIGKILL) at any moment: no temp files, no forgotten checkpoints, latest restorable."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import chainrule as cr

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
