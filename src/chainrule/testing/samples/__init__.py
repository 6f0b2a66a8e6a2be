"""The op sample table: one list of samples drives forward, shape, gradient and error checks.

Each op family has a module here defining ``SAMPLES`` (``OpSample``) and
``ERRORS`` (``ErrorSample``); ``all_samples()`` gathers them. Tests in
``tests/ops/test_op_table.py`` (and the JVP and vmap tables in ``tests/transforms``) are
parametrized over this table.

A private testing helper, not part of the public API: its contents follow the library's ops
and may change in any release. It ships with the package so that the authors of ops outside
chainrule can run their declarations through the same checks (``OpSample`` and the tests'
pattern), which is why it is not under ``tests/``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

FAMILIES = (
    "math",
    "array",
    "reduction",
    "linalg",
    "nn",
    "conv",
    "random",
    "control_flow",
    "variables",
    "segment",
    "script",
    "numerics",
)


@dataclass(frozen=True)
class OpSample:
    """One input case of one public op.

    ``fn(*tensors)`` builds the op from placeholders for ``args``; ``ref(*arrays)`` is the
    NumPy reference (None when there is none, e.g. random ops). ``order`` is the highest
    derivative order to check numerically (0: not differentiable); ``wrt`` the argument
    indices to differentiate (default all floating ones).
    """

    name: str
    fn: Callable[..., Any]
    args: tuple[np.ndarray, ...]
    ref: Callable[..., Any] | None
    label: str = ""
    order: int = 2
    wrt: tuple[int, ...] | None = None
    rtol: float = 1e-7
    atol: float = 1e-12
    grad_rtol: float = 1e-5
    grad_atol: float = 1e-6
    grad_delta: float = 1e-6
    float32: bool = True  # also run the forward check with float32 inputs
    unknown_dims: bool = True  # also run with placeholders whose dims are all unknown

    @property
    def id(self) -> str:
        return f"{self.name}[{self.label}]" if self.label else self.name


@dataclass(frozen=True)
class ErrorSample:
    """A bad input: building ``fn(*tensors)`` (or running it, if ``at_run``) must raise ``error`` matching ``match``."""

    name: str
    fn: Callable[..., Any]
    args: tuple[np.ndarray, ...]
    error: type[BaseException]
    match: str
    label: str = ""
    at_run: bool = False
    static_shapes: bool = True

    @property
    def id(self) -> str:
        return f"{self.name}[{self.label}]" if self.label else self.name


def rand(*shape: int, low: float = -2.0, high: float = 2.0, seed: int = 0) -> np.ndarray:
    """Deterministic uniform float64 sample data."""
    return np.random.default_rng(abs(hash((shape, low, high, seed))) % 2**32).uniform(low, high, size=shape)


def positive(*shape: int, seed: int = 0) -> np.ndarray:
    return rand(*shape, low=0.5, high=2.0, seed=seed)


def sample(name: str, fn: Callable[..., Any], *args: Any, ref: Callable[..., Any] | None, **kw: Any) -> OpSample:
    return OpSample(name, fn, tuple(np.asarray(a) for a in args), ref, **kw)


def error(
    name: str, fn: Callable[..., Any], *args: Any, error: type[BaseException], match: str, **kw: Any
) -> ErrorSample:
    return ErrorSample(name, fn, tuple(np.asarray(a) for a in args), error, match, **kw)


@dataclass
class Table:
    samples: list[OpSample] = field(default_factory=list)
    errors: list[ErrorSample] = field(default_factory=list)


def all_samples() -> Table:
    table = Table()
    for family in FAMILIES:
        try:
            module = importlib.import_module(f"chainrule.testing.samples.{family}")
        except ModuleNotFoundError as e:
            if e.name != f"chainrule.testing.samples.{family}":
                raise
            continue
        table.samples.extend(module.SAMPLES)
        table.errors.extend(getattr(module, "ERRORS", []))
    return table
