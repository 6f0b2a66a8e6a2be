"""A new op from NumPy (ZeroOut) with its gradient registered, checked against central differences.

ZeroOut keeps the first element of its input and zeroes the rest (TensorFlow's guide to adding an
op uses it). ``@cr.custom_op`` turns the NumPy function into an op: calling ``zero_out(t)`` adds a
``ZeroOut`` node to the graph, and the function runs only when a Session runs that node.
``@cr.RegisterGradient("ZeroOut")`` gives the op its gradient, written with chainrule ops so it
is a graph too (differentiable again): the incoming gradient's first element goes back to the
input's first element, and zeros elsewhere. ``cr.test.check_gradients`` compares that with
central differences, to second order.

Run:  python examples/custom_op.py [--quick]   (NumPy only; every mode is quick)
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

import chainrule as cr


@cr.custom_op("ZeroOut")
def zero_out(to_zero: np.ndarray) -> np.ndarray:
    """The kernel: NumPy in, NumPy out (same shape and dtype as the input)."""
    out = np.zeros_like(to_zero)
    out.flat[0] = to_zero.flat[0]
    return out


@cr.RegisterGradient("ZeroOut")
def _zero_out_grad(op: cr.Operation, grad: cr.Tensor) -> list[cr.Tensor]:
    """d(loss)/d(input) from d(loss)/d(output): the first element's gradient, in place, zeros elsewhere."""
    to_zero = op.inputs[0]
    shape = cr.shape(to_zero)
    index = cr.zeros_like(shape)  # the position of the first element: [0, 0, ...]
    first_grad = cr.reshape(grad, [-1])[0]
    to_zero_grad = cr.sparse_to_dense([index], shape, first_grad, 0)
    return [to_zero_grad]


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="accepted for symmetry with the other examples")
    parser.parse_args(argv)

    graph = cr.Graph()
    with graph.as_default():
        x = cr.placeholder(cr.float64, [2, 3], name="x")
        y = zero_out(x)
        weights = cr.constant([[10.0, 20.0, 30.0], [40.0, 50.0, 60.0]], cr.float64)
        loss = cr.reduce_sum(y * weights)  # = 10 * x[0, 0]
        (dx,) = cr.gradients(loss, [x])  # uses _zero_out_grad
        print(f"y = {y} (op type {y.op.type}); its gradient op: {dx.op.name}")
        values = np.arange(1.0, 7.0).reshape(2, 3)
        with cr.Session() as sess:
            y_value, dx_value = sess.run([y, dx], {x: values})
    print(f"zero_out({values.tolist()}) = {y_value.tolist()}")
    print(f"d/dx sum(zero_out(x) * weights) = {dx_value.tolist()}")

    # The registered gradient against central differences (float64), first and second order.
    with cr.Graph().as_default():
        cr.test.check_gradients(lambda t: zero_out(t) * 3.0 + cr.square(t), [values], order=2)
    print("check_gradients: the registered gradient matches central differences to second order")
    return {"y": y_value, "dx": dx_value, "values": values}


if __name__ == "__main__":
    main(sys.argv[1:])
