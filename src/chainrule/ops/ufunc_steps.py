"""Elementwise kernels as data: a list of NumPy ufunc steps (a leaf module: it imports NumPy only).

An elementwise op declares what its kernel computes as *steps*, each ``(ufunc name, *args)``;
an argument is the op's input by position, ``PREV`` (the previous step's result), or one of
the constants below. ``Sigmoid`` is ``exp(-logaddexp(0, -x))``::

    [("negative", 0), ("logaddexp", ZERO_ARRAY, PREV), ("negative", PREV), ("exp", PREV)]

The op's kernel is made from its steps (``kernel_from_steps``), and the compiler's code
generator emits the same steps inline, fused with their neighbours and writing into buffers
(``out=``), so the generated code and the kernel cannot drift apart: both give the same bits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

PREV = "_"  # the previous step's result
ONE = "one"  # 1 in the output dtype (a Python 1 is float64 against a float32 scalar on NumPy 1.x)
ZERO_ARRAY = "zero0d"  # ``np.zeros((), dtype)`` of the output dtype
ZERO_SCALAR = "zero"  # ``dtype.type(0)`` of the output dtype

Token = int | str
Step = tuple[Any, ...]  # (ufunc name, *tokens)
# A fixed list of steps, or a function of the number of inputs (AddN) returning one (None: no steps).
Steps = Sequence[Step] | Callable[[int], Sequence[Step] | None]

# Ufuncs that cannot write into a given buffer (``out=``).
NO_OUT = frozenset(["where"])


def steps_for(steps: Steps | None, num_inputs: int) -> Sequence[Step] | None:
    """The concrete steps of an op with ``num_inputs`` inputs."""
    if steps is None:
        return None
    return steps(num_inputs) if callable(steps) else steps


def constant_token(token: Token, dtype: Any) -> Any:
    """The value a constant token stands for, in the output dtype ``dtype`` (a NumPy dtype)."""
    if token == ONE:
        return dtype.type(1)
    if token == ZERO_ARRAY:
        return np.zeros((), dtype)
    if token == ZERO_SCALAR:
        return dtype.type(0)
    raise ValueError(f"not a constant token: {token!r}")


def kernel_from_steps(steps: Steps) -> Callable[..., Any]:
    """The op's kernel ``kernel(xp, *arrays)``: the steps, one ufunc call each, in the array module ``xp``."""
    fixed = None if callable(steps) else list(steps)
    if fixed is not None and len(fixed) == 1 and all(isinstance(t, int) for t in fixed[0][1:]):
        name, *positions = fixed[0]
        if positions == [0]:
            return lambda xp, x: getattr(xp, name)(x)
        if positions == [0, 1]:
            return lambda xp, x, y: getattr(xp, name)(x, y)

    def kernel(xp: Any, *arrays: Any) -> Any:
        result = None
        dtype = None
        for name, *tokens in steps_for(steps, len(arrays)) or ():
            args = []
            for token in tokens:
                if isinstance(token, int):
                    args.append(arrays[token])
                elif token == PREV:
                    args.append(result)
                else:
                    if dtype is None:
                        dtype = xp.result_type(*arrays)
                    value = constant_token(token, dtype)
                    # A 0-d constant array enters the array module (a GPU module refuses NumPy operands).
                    args.append(value if xp is np or not isinstance(value, np.ndarray) else xp.asarray(value))
            result = getattr(xp, name)(*args)
        return result

    return kernel
