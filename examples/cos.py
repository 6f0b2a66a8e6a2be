"""y = cos(x): build it as a graph, run it, differentiate it, plot cos and its derivative, minimize it.

This is the example the project started from. Nothing is computed while the graph is built:
``cr.cos(x)`` adds an op and returns a symbolic Tensor, and ``cr.gradients`` adds *more* ops (the
derivative is a graph too, so it can be differentiated again). A ``Session`` computes what it is
asked for, with the placeholders fed. The graph, gradient section included, is written as a
page to open in a browser (``cr.viz.render``). Last, ``GradientDescentOptimizer`` walks x from 1
down the slope of cos to its minimum at pi.

Run:  python examples/cos.py [--out cos.png] [--graph cos_graph.html] [--show] [--quick]
(the plot needs matplotlib: ``pip install 'chainrule[viz]'``; ``--quick`` takes fewer steps).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

import chainrule as cr


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="cos.png", help="where to write the plot (default cos.png)")
    parser.add_argument("--graph", default="cos_graph.html", help="the graph page (default cos_graph.html)")
    parser.add_argument("--show", action="store_true", help="also open the plot in a window")
    parser.add_argument("--quick", action="store_true", help="fewer optimizer steps (for CI)")
    args = parser.parse_args(argv)

    # 1. Build the graph. x is a placeholder: a value fed at run time, here a vector of any length.
    graph = cr.Graph()
    with graph.as_default():
        x = cr.placeholder(cr.float64, [None], name="x")
        y = cr.cos(x)
        print(f"y is a symbolic tensor, nothing is computed yet: {y}")

        # 2. Differentiate: one call adds the gradient ops (under the "gradients/" name scope).
        (dy_dx,) = cr.gradients(y, [x])  # -sin(x)
        (d2y_dx2,) = cr.gradients(dy_dx, [x])  # -cos(x): the derivative of a graph is a graph
        print(f"d/dx cos(x) reads as {cr.explain(dy_dx)}; d2/dx2 cos(x) as {cr.explain(d2y_dx2)}")

        # 3. Run it: the session computes the three tensors for 200 points in one call.
        xs = np.linspace(-2 * np.pi, 2 * np.pi, 200)
        with cr.Session() as sess:
            ys, dys, d2ys = sess.run([y, dy_dx, d2y_dx2], feed_dict={x: xs})
        error = float(np.max(np.abs(dys - (-np.sin(xs)))))
        print(f"max |d/dx cos(x) - (-sin x)| over {xs.size} points: {error:.1e}")

        # The graph as one self-contained page: x -> Cos, and the gradient section beside it.
        page = cr.viz.render(graph, args.graph, title="y = cos(x) and its derivatives")
        print(f"graph page (open it in a browser): {page}")

    # 4. Plot cos and the derivative chainrule computed, with -sin(x) dotted on top.
    plot = None
    try:
        import matplotlib

        if not args.show:
            matplotlib.use("Agg")  # write the file only, no window
        import matplotlib.pyplot as plt
    except ImportError:
        print("plot skipped: matplotlib is not installed (pip install matplotlib)")
    else:
        fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
        ax.plot(xs, ys, label="cos(x)")
        ax.plot(xs, dys, linewidth=3, alpha=0.7, label="d/dx cos(x), by chainrule")
        ax.plot(xs, -np.sin(xs), "k:", label="-sin(x)")
        ax.set_xlabel("x")
        ax.grid(alpha=0.3)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3, frameon=False)
        fig.savefig(args.out)
        plot = args.out
        print(f"plot: {plot}")
        if args.show:
            plt.show()
        plt.close(fig)

    # 5. Minimize cos(x) from x = 1: each step moves x by -0.1 * d/dx cos(x) = 0.1 * sin(x).
    steps = 100 if args.quick else 200
    with cr.Graph().as_default():
        v = cr.Variable(1.0, dtype=cr.float64, name="x")
        loss = cr.cos(v)
        train_op = cr.train.GradientDescentOptimizer(learning_rate=0.1).minimize(loss)
        with cr.Session() as sess:
            sess.run(cr.global_variables_initializer())
            for step in range(1, steps + 1):
                sess.run(train_op)
                if step in (1, 10, steps):
                    print(f"step {step:3d}: x = {sess.run(v):.6f}, cos(x) = {sess.run(loss):+.6f}")
            x_min = float(sess.run(v))
    print(f"minimum of cos found at x = {x_min:.6f} (pi = {np.pi:.6f})")
    return {
        "xs": xs,
        "dy_dx": dys,
        "d2y_dx2": d2ys,
        "max_error": error,
        "x_min": x_min,
        "steps": steps,
        "plot": plot,
        "graph_page": page,
    }


if __name__ == "__main__":
    main(sys.argv[1:])
