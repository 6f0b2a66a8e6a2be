"""The harness that runs TF 1.x programs written by others with only the import changed.

The programs themselves are not in the repository (tests/tf1_programs/README.md says why and where each
comes from); ``programs/index.json`` names their sources and ``references/`` holds the numbers TensorFlow
2.21's compat.v1 printed for them. ``python benchmarks/tf1_programs_report.py`` runs the local copies and
prints which run and match. These tests check the harness itself: the comparison, the import mapping, the
name scan and the seeded random numbers, on programs written here.
"""

from __future__ import annotations

import json

import numpy as np
import tf1_harness

import chainrule


def test_every_program_names_its_source_and_has_tensorflows_numbers():
    assert len(tf1_harness.SPECS) >= 15
    index = json.loads((tf1_harness.PROGRAMS_DIR / "index.json").read_text())
    for name, spec in tf1_harness.SPECS.items():
        assert index[name]["source"].startswith("https://github.com/"), name
        assert index[name]["licence"], name
        entry = tf1_harness.reference(name)
        assert entry["program"] == spec.file
        assert entry["tensorflow"].startswith("2.")
        assert entry["ok"] is (entry["error"] is None), name


def test_the_comparison_fails_on_a_changed_number_and_allows_printed_rounding():
    spec = tf1_harness.Spec(file="x.py")
    assert tf1_harness.compare("cost= 0.5510555", "cost= 0.5510556", spec) is None
    assert tf1_harness.compare("loss 1.2345", "loss 1.2346", spec) is None  # one unit in the last printed place
    assert "chainrule 'cost= 0.58'" in tf1_harness.compare("cost= 0.55", "cost= 0.58", spec)
    assert "numbers" in tf1_harness.compare("[1. 2.]", "[1. 2. 3.]", spec)
    assert tf1_harness.compare("Done!", "Done.", spec) == "TF printed 'Done!', chainrule 'Done.'"
    timed = tf1_harness.Spec(file="x.py", ignore=("Took",))
    assert tf1_harness.compare("Took 1.5 s\n3", "Took 9.0 s\n3", timed) is None


def test_the_harness_maps_only_the_programs_own_tensorflow_import(tmp_path, monkeypatch):
    program = tmp_path / "p.py"
    program.write_text(
        "import json\nimport tensorflow as tf\nfrom tensorflow import nn\n"
        "print(json.dumps([tf.__name__, nn.__name__]))\n"
    )
    monkeypatch.setattr(tf1_harness, "PROGRAMS_DIR", tmp_path)
    monkeypatch.setitem(tf1_harness.SPECS, "p", tf1_harness.Spec(file="p.py"))
    out = _run_in_process(program)
    assert json.loads(out) == ["chainrule", "chainrule.nn"]


def _run_in_process(program) -> str:
    import contextlib
    import io

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        tf1_harness.run_with_tensorflow_as(chainrule, program)
    return buffer.getvalue()


def test_missing_names_are_read_from_the_source(tmp_path, monkeypatch):
    (tmp_path / "p.py").write_text(
        "import tensorflow as tf\nx = tf.nn.relu(tf.constant(1.0))\ny = tf.no_such_op(x)\n"
        "cell = tf.contrib.rnn.BasicLSTMCell(4)\nz = tf.nn.no_such_nn_op(x) + tf.no_such_op(x)\n"
    )
    monkeypatch.setattr(tf1_harness, "PROGRAMS_DIR", tmp_path)
    monkeypatch.setitem(tf1_harness.SPECS, "p", tf1_harness.Spec(file="p.py"))
    assert tf1_harness.missing_names("p", chainrule) == ["tf.no_such_op", "tf.contrib", "tf.nn.no_such_nn_op"]


def test_seeded_random_evaluates_a_stddev_computed_from_constants(monkeypatch):
    for owner in (chainrule, chainrule.random):  # install() replaces these: put them back after the test
        for name in ("random_normal", "truncated_normal", "random_uniform", "normal", "uniform"):
            if hasattr(owner, name):
                monkeypatch.setattr(owner, name, getattr(owner, name))
    tf1_harness.SeededRandom(chainrule).install()
    tensor = chainrule.random.normal([200, 50], stddev=1.0 / chainrule.sqrt(4.0))
    assert tensor.op.type == "Const"
    with chainrule.Session() as session:
        values = session.run(tensor)
    assert values.dtype == np.float32 and abs(values.std() - 0.5) < 0.02


def test_seeded_random_gives_the_same_constants_on_every_run():
    class Fake:
        float32 = "float32"

        @staticmethod
        def as_dtype(d):
            return type("D", (), {"name": str(d)})()

        @staticmethod
        def constant(values, dtype=None, name=None):
            return values

    first = tf1_harness.SeededRandom(Fake()).wrap("truncated", None)([3, 4], stddev=0.1)
    again = tf1_harness.SeededRandom(Fake()).wrap("truncated", None)([3, 4], stddev=0.1)
    assert first.shape == (3, 4) and first.dtype.name == "float32"
    assert (first == again).all() and abs(first).max() <= 0.2
