"""The ``chainrule`` command: ``chainrule demo`` runs the lecture's example end to end, then trains a model.

The demo is a list of steps (:data:`DEMO_STEPS`), each a function of a :class:`DemoContext` that
prints what it shows and records the files it writes with :meth:`DemoContext.artifact`. A new
artifact writer (TensorBoard logs, a graph page, plots...) is one more function in that list.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

DEFAULT_DIGITS_EPOCHS = 60


@dataclass
class DemoContext:
    """What the demo's steps share: the output folder, options, and the files written so far.

    Attributes
    ----------
    out_dir : folder every step writes under (exists when the steps run).
    digits_epochs : epochs of the digits MLP step.
    progress : show a progress bar (tqdm) while training.
    artifacts : ``(description, path)`` of every file or folder the steps wrote.
    results : values steps leave for later steps (e.g. ``"digits"``: the training result).
    """

    out_dir: str
    digits_epochs: int = DEFAULT_DIGITS_EPOCHS
    progress: bool = True
    artifacts: list[tuple[str, str]] = field(default_factory=list)
    results: dict[str, Any] = field(default_factory=dict)

    def path(self, *parts: str) -> str:
        """A path under ``out_dir``; its parent folder is created."""
        p = os.path.join(self.out_dir, *parts)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        return p

    def artifact(self, description: str, path: str) -> None:
        """Record (and print) a file or folder a step wrote."""
        self.artifacts.append((description, path))
        print(f"  wrote {description}: {path}")


DemoStep = Callable[[DemoContext], None]


def cos_derivative(ctx: DemoContext, points: int = 9) -> None:
    """Differentiate cos symbolically and compare with -sin; keep the graph for the viewers."""
    import chainrule as cr

    graph = cr.Graph()
    with graph.as_default():
        x = cr.placeholder(cr.float64, [None], name="x")
        y = cr.cos(x)
        (dy,) = cr.gradients(y, [x])
        xs = np.linspace(-np.pi, np.pi, points)
        with cr.Session() as sess:
            y_v, dy_v = sess.run([y, dy], {x: xs})
            plot_xs = np.linspace(-2 * np.pi, 2 * np.pi, 400)
            plot_y, plot_dy = sess.run([y, dy], {x: plot_xs})
    print("The derivative of cos, built as a graph by cr.gradients and run by a Session:\n")
    print(f"{'x':>10} {'cos x':>12} {'d/dx cos x':>14} {'-sin x':>12}")
    for row in zip(xs, y_v, dy_v, -np.sin(xs)):
        print("".join(f"{v:>{w}.6f}" for v, w in zip(row, (10, 13, 15, 13))))
    print(f"\nmax |d/dx cos x - (-sin x)| = {np.max(np.abs(dy_v + np.sin(xs))):.1e}")
    print(f"gradient ops: {[op.name for op in graph.get_operations() if op.name.startswith('gradients/')]}")
    print(f"d/dx cos(x) as mathematics: {cr.explain(dy)}")
    ctx.results["cos"] = (graph, plot_xs, plot_y, plot_dy)


def cos_artifacts(ctx: DemoContext) -> None:
    """The lecture's pictures: cos and its derivative plotted, the graph as a page and in TensorBoard."""
    import chainrule as cr

    graph, xs, ys, dys = ctx.results["cos"]
    print("\nSeeing the graph and the derivative:")
    try:
        plot = cr.viz.plot_function_and_derivative(
            xs,
            ys,
            dys,
            ref=-np.sin(xs),
            path=ctx.path("cos_derivative.png"),
            f_label="cos(x)",
            df_label="d/dx cos(x) (chainrule)",
            ref_label="-sin(x)",
            title="cos and its derivative, computed by chainrule",
        )
        ctx.artifact("plot of cos, its derivative and -sin", plot)
    except ImportError as e:
        print(f"  plot skipped: {e}")
    ctx.artifact("graph page (open in a browser)", cr.viz.render(graph, ctx.path("cos_graph.html")))
    try:
        logdir = os.path.dirname(ctx.path("tensorboard", "cos", "x"))
        cr.summary.write_log(logdir, graph=graph)
        ctx.artifact("TensorBoard log of the cos graph", logdir)
    except ImportError as e:
        print(f"  TensorBoard log skipped: {e}")


def minimize_cos(ctx: DemoContext, steps: int = 60) -> None:
    """Minimize cos with gradient descent from x = 1: x goes to pi."""
    import chainrule as cr

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


def digits_mlp(ctx: DemoContext) -> None:
    """Train the digits MLP (Adam, mini-batches), print its test accuracy, save and reload a checkpoint."""
    import chainrule as cr

    print("\nTraining an MLP on scikit-learn's digits (8x8 images), mini-batches fed through placeholders:")
    try:
        from chainrule.models import digits

        data = digits.load_digits_split(seed=0)
    except ImportError:
        print("  skipped: scikit-learn is not installed (pip install 'chainrule[examples]' to train on the digits)")
        return
    model = digits.build_mlp()
    layers = [str(digits.NUM_FEATURES)] + [str(w.shape[1]) for w in model.weights if w.shape.ndims == 2]
    print(f"  layers {'-'.join(layers)}, ReLU, {model.optimizer.get_name()}, batch 32, {ctx.digits_epochs} epochs")
    with cr.Session(graph=model.graph) as sess:
        sess.run(model.initializer)
        result = digits.train(model, data, epochs=ctx.digits_epochs, sess=sess, progress=ctx.progress)
        ctx.results["digits"] = result
        print(
            f"  {len(data.y_train)} train / {len(data.y_test)} test images, {model.num_parameters} parameters, "
            f"{result.steps} steps ({result.epochs:g} epochs) in {result.seconds:.1f} s"
        )
        print(f"  loss {result.initial_loss:.4f} -> {result.final_loss:.4f}")
        print(f"  test accuracy: {result.test_accuracy:.2%} (train {result.train_accuracy:.2%})")
        path = model.saver.save(sess, ctx.path("digits_mlp", "model"), global_step=model.global_step)
    ctx.artifact("checkpoint (weights, Adam slots, global step)", path)
    # A fresh session restored from the file classifies exactly as the trained one.
    with cr.Session(graph=model.graph) as sess:
        model.saver.restore(sess, cr.train.latest_checkpoint(os.path.dirname(path)))
        _, restored = digits.evaluate(model, sess, data.x_test, data.y_test)
    print(f"  restored into a new session: test accuracy {restored:.2%}")
    try:
        logdir = os.path.dirname(ctx.path("tensorboard", "digits_mlp", "x"))
        cr.summary.write_log(logdir, graph=model.graph, scalars={"loss": result.losses})
        ctx.artifact("TensorBoard log of the MLP (graph, loss curve)", logdir)
    except ImportError as e:
        print(f"  TensorBoard log skipped: {e}")
    try:
        curve = cr.viz.plot_curve(
            result.losses,
            ctx.path("digits_mlp_loss.png"),
            title="digits MLP: mini-batch loss",
            xlabel="step",
            ylabel="loss",
        )
        ctx.artifact("loss curve", curve)
    except ImportError as e:
        print(f"  loss plot skipped: {e}")


DEMO_STEPS: list[DemoStep] = [cos_derivative, cos_artifacts, minimize_cos, digits_mlp]
"""The demo's steps, in order; append a function of a :class:`DemoContext` to add one."""


def demo(
    out_dir: str | os.PathLike[str] | None = None,
    digits_epochs: int = DEFAULT_DIGITS_EPOCHS,
    progress: bool = True,
    steps: Sequence[DemoStep] | None = None,
) -> DemoContext:
    """Run the demo's steps, writing their files under ``out_dir``.

    Parameters
    ----------
    out_dir : folder for the files (created if needed); None makes a new temporary folder,
        which is kept so the files can be looked at.
    digits_epochs : epochs of the digits MLP.
    progress : show a progress bar while training.
    steps : the steps to run; None for :data:`DEMO_STEPS`.

    Returns
    -------
    The context, with the artifacts written and the steps' results.
    """
    if out_dir is None:
        out_dir = tempfile.mkdtemp(prefix="chainrule-demo-")
    out = os.path.abspath(os.fspath(out_dir))
    os.makedirs(out, exist_ok=True)
    ctx = DemoContext(out_dir=out, digits_epochs=digits_epochs, progress=progress)
    for step in DEMO_STEPS if steps is None else steps:
        step(ctx)
    print(f"\nOutput folder: {out}")
    for description, path in ctx.artifacts:
        print(f"  {os.path.relpath(path, out)}  ({description})")
    if any("TensorBoard" in description for description, _ in ctx.artifacts):
        print(f"View the graphs and the loss curve with:  tensorboard --logdir {os.path.join(out, 'tensorboard')}")
    return ctx


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="chainrule", description="Graph-based automatic differentiation for NumPy.")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command")
    demo_parser = sub.add_parser(
        "demo", help="the lecture's example (d/dx cos x = -sin x, minimizing cos), then an MLP learning the digits"
    )
    demo_parser.add_argument(
        "--out", metavar="DIR", default=None, help="keep the demo's files in DIR (default: a new temporary folder)"
    )
    demo_parser.add_argument(
        "--epochs",
        type=int,
        default=DEFAULT_DIGITS_EPOCHS,
        help=f"epochs of the digits MLP (default {DEFAULT_DIGITS_EPOCHS}, a few seconds)",
    )
    demo_parser.add_argument("--no-progress", action="store_true", help="no progress bar while training")
    bench_parser = sub.add_parser(
        "bench", help="time chainrule beside NumPy and the installed peers (quick sizes; --full for benchmarks/)"
    )
    try:
        from chainrule.bench.runner import add_arguments as add_bench_arguments
    except ImportError as e:  # the demo must work even if the benchmark runner cannot load
        bench_parser.set_defaults(bench_error=str(e))
    else:
        add_bench_arguments(bench_parser)
    args = parser.parse_args(argv)
    if args.version:
        from chainrule import __version__

        print(__version__)
        return 0
    if args.command == "demo":
        if args.epochs < 1:
            parser.error("--epochs must be at least 1")
        demo(args.out, digits_epochs=args.epochs, progress=not args.no_progress)
        return 0
    if args.command == "bench":
        from chainrule.bench.runner import run_from_args

        return run_from_args(args)
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
