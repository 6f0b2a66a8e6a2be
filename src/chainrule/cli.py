"""The ``chainrule`` command: ``chainrule demo`` runs the lecture's example end to end."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import numpy as np


def demo(points: int = 9, steps: int = 60) -> None:
    """Differentiate cos symbolically, compare with -sin, then minimize cos from x = 1 to pi."""
    import chainrule as cr

    graph = cr.Graph()
    with graph.as_default():
        x = cr.placeholder(cr.float64, [None], name="x")
        y = cr.cos(x)
        (dy,) = cr.gradients(y, [x])
        xs = np.linspace(-np.pi, np.pi, points)
        with cr.Session() as sess:
            y_v, dy_v = sess.run([y, dy], {x: xs})
    print("The derivative of cos, built as a graph by cr.gradients and run by a Session:\n")
    print(f"{'x':>10} {'cos x':>12} {'d/dx cos x':>14} {'-sin x':>12}")
    for row in zip(xs, y_v, dy_v, -np.sin(xs)):
        print("".join(f"{v:>{w}.6f}" for v, w in zip(row, (10, 13, 15, 13))))
    print(f"\nmax |d/dx cos x - (-sin x)| = {np.max(np.abs(dy_v + np.sin(xs))):.1e}")
    print(f"gradient ops: {[op.name for op in graph.get_operations() if op.name.startswith('gradients/')]}")

    graph = cr.Graph()
    with graph.as_default():
        v = cr.Variable(1.0, dtype=cr.float64, name="x")
        loss = cr.cos(v)
        train = cr.train.GradientDescentOptimizer(0.1).minimize(loss)
        with cr.Session() as sess:
            sess.run(cr.global_variables_initializer())
            print("\nMinimizing cos(x) with GradientDescentOptimizer(0.1), starting at x = 1.0:")
            for step in range(1, steps + 1):
                sess.run(train)
                if step in (1, 2, 5, 10, 20, 40, steps):
                    print(f"  step {step:3d}: x = {sess.run(v):.10f}  cos x = {sess.run(loss):+.10f}")
            print(f"  pi        = {np.pi:.10f}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="chainrule", description="Graph-based automatic differentiation for NumPy.")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("demo", help="the lecture's example: d/dx cos x = -sin x, and minimizing cos to pi")
    args = parser.parse_args(argv)
    if args.version:
        from chainrule import __version__

        print(__version__)
        return 0
    if args.command == "demo":
        demo()
        return 0
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
