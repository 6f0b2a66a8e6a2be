"""cr.app.run, cr.flags (on argparse) and cr.logging, as TF 1.x programs use them."""

from __future__ import annotations

import logging

import pytest

import chainrule as cr
from chainrule import flags as flags_module


@pytest.fixture
def fresh_flags(monkeypatch):
    values = flags_module.FlagValues()
    monkeypatch.setattr(flags_module, "FLAGS", values)
    return values


def _define_all(fv):
    cr.flags.DEFINE_string("data_dir", "/tmp/data", "where the data is", flag_values=fv)
    cr.flags.DEFINE_integer("batch_size", 32, "batch size", flag_values=fv)
    cr.flags.DEFINE_float("learning_rate", 0.01, "step", flag_values=fv)
    cr.flags.DEFINE_boolean("fake_data", False, "use fake data", flag_values=fv)
    cr.flags.DEFINE_bool("verbose", True, "talk", flag_values=fv)
    cr.flags.DEFINE_list("layers", "64,32", "sizes", flag_values=fv)


def test_flags_parse_values_and_leave_unknown_arguments(fresh_flags):
    _define_all(fresh_flags)
    rest = fresh_flags(
        ["prog", "--batch_size=8", "--learning_rate", "0.5", "--fake_data", "--noverbose", "--layers=1,2,3",
         "--unknown=1", "positional"],
        known_only=True,
    )  # fmt: skip
    assert rest == ["prog", "--unknown=1", "positional"]
    f = fresh_flags
    assert (f.data_dir, f.batch_size, f.learning_rate, f.fake_data, f.verbose) == ("/tmp/data", 8, 0.5, True, False)
    assert f.layers == ["1", "2", "3"]
    f.batch_size = 4
    assert f.flag_values_dict()["batch_size"] == 4
    with pytest.raises(AttributeError, match="No flag named 'nope'"):
        _ = f.nope
    with pytest.raises(cr.flags.Error, match="defined twice"):
        cr.flags.DEFINE_integer("batch_size", 1, "again", flag_values=f)


def test_flags_read_before_app_run_parse_sys_argv(fresh_flags, monkeypatch):
    monkeypatch.setattr("sys.argv", ["prog", "--batch_size=3", "--other"])
    _define_all(fresh_flags)
    assert fresh_flags.batch_size == 3 and fresh_flags.fake_data is False


def test_app_run_parses_flags_calls_main_and_exits_with_its_result(fresh_flags):
    cr.flags.DEFINE_integer("steps", 1, "steps", flag_values=fresh_flags)
    seen = []

    def main(argv):
        seen.append((argv, cr.flags.FLAGS.steps))
        return 3

    with pytest.raises(SystemExit) as exit_info:
        cr.app.run(main=main, argv=["prog", "--steps=7", "extra"])
    assert exit_info.value.code == 3
    assert seen == [(["prog", "extra"], 7)]
    assert cr.app.flags is cr.flags


def test_logging_levels_and_output(capsys):
    logger = cr.logging.get_logger()
    old = logger.level
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append((record.levelno, record.getMessage()))

    handler = Keep()
    logger.addHandler(handler)
    try:
        cr.logging.set_verbosity(cr.logging.INFO)
        assert cr.logging.get_verbosity() == cr.logging.INFO == logging.INFO
        cr.logging.info("step %d", 3)
        cr.logging.debug("hidden")
        cr.logging.warning("careful")
        cr.logging.warn("also")
        cr.logging.error("bad")
        cr.logging.set_verbosity(cr.logging.ERROR)
        cr.logging.info("hidden too")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old)
    assert records == [(20, "step 3"), (30, "careful"), (30, "also"), (40, "bad")]
    assert (cr.logging.DEBUG, cr.logging.WARN, cr.logging.FATAL) == (10, 30, 50)
