"""``ConfigProto``, ``GPUOptions``, ``RunOptions``, ``RunMetadata``: TF 1.x's session options, accepted.

TensorFlow programs pass them to ``Session(config=...)`` and ``Session.run(options=...,
run_metadata=...)``. They describe threads, devices, memory growth and tracing of TF's runtime,
which chainrule's NumPy runtime does not have: every field is accepted, kept (readable and
settable, as on the protos) and otherwise ignored. A ``cr.compiler.Options`` given as ``config``
still chooses the compiler passes.
"""

from __future__ import annotations

from typing import Any


class _Options:
    """A message with free-form fields: keyword arguments become attributes; unset ones read as None."""

    def __init__(self, **fields: Any) -> None:
        self.__dict__.update(fields)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return None

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self.__dict__.items())
        return f"{type(self).__name__}({fields})"

    def CopyFrom(self, other: _Options) -> None:  # noqa: N802 - the protobuf method name
        self.__dict__.clear()
        self.__dict__.update(other.__dict__)


class GPUOptions(_Options):
    """Accepted and ignored (``allow_growth``, ``per_process_gpu_memory_fraction``, ...): no GPU runtime here."""


class GraphOptions(_Options):
    """Accepted and ignored: chainrule's graph optimizations are chosen by ``cr.compiler.Options``."""


class OptimizerOptions(_Options):
    """Accepted and ignored (TF's graph optimizer levels)."""

    L0 = -1
    L1 = 0
    DEFAULT = 0
    OFF = -1
    ON_1 = 1
    ON_2 = 2


class ConfigProto(_Options):
    """Session options (``allow_soft_placement``, ``log_device_placement``, ``gpu_options``,
    ``inter_op_parallelism_threads``, ``device_count``, ...): accepted, kept and ignored.

    Examples
    --------
    >>> config = cr.ConfigProto(gpu_options=cr.GPUOptions(allow_growth=True))
    >>> sess = cr.Session(config=config)
    """

    def __init__(self, **fields: Any) -> None:
        fields.setdefault("gpu_options", GPUOptions())
        fields.setdefault("graph_options", GraphOptions())
        super().__init__(**fields)


class RunOptions(_Options):
    """Per-run options (``trace_level``, ``timeout_in_ms``): accepted and ignored."""

    NO_TRACE = 0
    SOFTWARE_TRACE = 1
    HARDWARE_TRACE = 2
    FULL_TRACE = 3


class RunMetadata(_Options):
    """Filled by TF with step statistics; chainrule leaves it empty (``step_stats`` None)."""
