"""TF 1.x session API: InteractiveSession, ConfigProto and run options, as_default, get_default_session."""

from __future__ import annotations

import pytest

import chainrule as cr


def test_interactive_session_is_the_default_until_closed():
    g = cr.Graph()
    assert cr.get_default_session() is None
    sess = cr.InteractiveSession(graph=g)
    try:
        assert cr.get_default_session() is sess and cr.get_default_graph() is g
        x = cr.constant(2.0)
        v = cr.Variable(3.0)
        v.initializer.run()
        assert x.eval() == 2.0 and (x * v).eval() == 6.0
        assert x.graph is g
    finally:
        sess.close()
    assert cr.get_default_session() is None and cr.get_default_graph() is not g


def test_config_proto_gpu_options_and_run_options_are_accepted():
    config = cr.ConfigProto(
        allow_soft_placement=True,
        log_device_placement=False,
        gpu_options=cr.GPUOptions(allow_growth=True, per_process_gpu_memory_fraction=0.5),
    )
    config.gpu_options.allow_growth = True  # the usual attribute form
    assert config.allow_soft_placement and config.inter_op_parallelism_threads is None
    g = cr.Graph()
    with g.as_default():
        y = cr.constant(3.0) * 2
    with cr.Session(graph=g, config=config) as sess:
        options = cr.RunOptions(trace_level=cr.RunOptions.FULL_TRACE)
        metadata = cr.RunMetadata()
        assert sess.run(y, options=options, run_metadata=metadata) == 6.0
    with cr.Session("", g, config) as sess:  # TF's positional order
        assert sess.run(y) == 6.0


def test_a_distributed_target_is_refused():
    with pytest.raises(ValueError, match="in process"):
        cr.Session("grpc://localhost:2222")


def test_as_default_makes_the_session_default_without_closing_it():
    g = cr.Graph()
    with g.as_default():
        y = cr.constant(1.0) + 1
    sess = cr.Session(graph=g)
    with sess.as_default():
        assert cr.get_default_session() is sess
        assert y.eval() == 2.0
    assert cr.get_default_session() is None
    assert sess.run(y) == 2.0  # still open
    sess.close()
