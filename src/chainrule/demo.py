"""``chainrule demo``: the cos example end to end (y = cos x, its derivative, minimizing it), then an MLP on the digits.

The demo is a list of steps (:data:`DEMO_STEPS`), each a function of a :class:`DemoContext` that
prints what it shows and records the files it writes with :meth:`DemoContext.artifact`. A new
artifact writer (TensorBoard logs, a graph page, plots...) is one more function in that list.

The digits step (:func:`digits_mlp`) is written out as a user would write it: placeholders for a
mini-batch, the layers, the loss, a ``cr.train`` optimizer's ``minimize``, a ``Session`` that runs
the training loop, and a ``Saver`` checkpoint restored into a fresh session. The longer examples
(logistic regression, MLP, CNN, with options) are the scripts in the checkout's ``examples/``.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import chainrule as cr

DEFAULT_DIGITS_EPOCHS = 60
LOSS_LABEL = "train cross-entropy + L2 penalty"
"""What the MLP's loss curve shows: the training objective on each mini-batch (not a test loss)."""


@dataclass
class DemoContext:
    """What the demo's steps share: the output folder, options, and the files written so far.

    Attributes
    ----------
    out_dir : folder every step writes under (exists when the steps run).
    digits_epochs : epochs of the digits MLP step.
    progress : show a progress bar (tqdm) while training.
    artifacts : ``(description, path)`` of every file or folder the steps wrote.
    results : values steps leave for later steps (e.g. ``"digits"``: the MLP's graph, its
        mini-batch losses and test accuracy).
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


def fixed(value: float, width: int, digits: int = 6) -> str:
    """``value`` right-aligned in ``width`` characters with ``digits`` decimals.

    A value that rounds to zero prints as ``0.000000``, never ``-0.000000`` (``-sin(pi)`` is
    ``-1.2e-16`` in floating point: its sign says nothing a reader of six decimals can use).
    """
    text = f"{value:>{width}.{digits}f}"
    if float(text) == 0.0:
        text = f"{0.0:>{width}.{digits}f}"
    return text


def spans_decades(values: Any, decades: float = 1.0) -> bool:
    """Whether positive ``values`` span at least ``decades`` powers of ten (then a log scale shows them)."""
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0 or not np.all(np.isfinite(values)) or values.min() <= 0:
        return False
    return bool(np.log10(values.max() / values.min()) >= decades)


def loss_figure(losses: Any, steps_per_epoch: int, label: str = LOSS_LABEL) -> Any:
    """A matplotlib Figure of the mini-batch losses and their mean over each epoch.

    The y axis is logarithmic where the losses span a decade or more (a loss falling from 2.3
    to 0.01 is a flat line after the first epoch on a linear axis); its label says which loss
    it is. Raises ImportError, naming the extra, without matplotlib.
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as e:
        raise ImportError(
            "Plotting needs matplotlib; install it with: pip install 'chainrule[viz]' (or: pip install matplotlib)"
        ) from e
    losses = np.asarray(losses, dtype=np.float64)
    fig = Figure(figsize=(7.0, 4.2), dpi=120, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    steps = np.arange(1, len(losses) + 1)
    ax.plot(steps, losses, color="#93c5fd", linewidth=0.8, label="each mini-batch")
    epochs = len(losses) // max(1, steps_per_epoch)
    if epochs >= 2:
        means = losses[: epochs * steps_per_epoch].reshape(epochs, steps_per_epoch).mean(axis=1)
        middles = steps_per_epoch * (np.arange(1, epochs + 1) - 0.5)  # each mean drawn mid-epoch
        ax.plot(middles, means, color="#1d4ed8", linewidth=2, marker="o", markersize=3, label="mean over each epoch")
    log = spans_decades(losses)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("training step (one mini-batch each)")
    ax.set_ylabel(f"{label}{' (log scale)' if log else ''}")
    ax.set_title(f"digits MLP: {label}, per training step")
    ax.grid(True, which="both" if log else "major", alpha=0.3)
    ax.legend(loc="upper right", frameon=False)
    return fig


def cos_derivative(ctx: DemoContext, points: int = 9) -> None:
    """Differentiate cos symbolically and compare with -sin; keep the graph for the viewers."""
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
        print("".join(fixed(v, w) for v, w in zip(row, (10, 13, 15, 13))))
    print(f"\nmax |d/dx cos x - (-sin x)| = {np.max(np.abs(dy_v + np.sin(xs))):.1e}")
    print(f"gradient ops: {[op.name for op in graph.get_operations() if op.name.startswith('gradients/')]}")
    print(f"d/dx cos(x) as mathematics: {cr.explain(dy)}")
    ctx.results["cos"] = (graph, plot_xs, plot_y, plot_dy)


def cos_artifacts(ctx: DemoContext) -> None:
    """The cos example's pictures: cos and its derivative plotted, the graph as a page and in TensorBoard."""
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


def load_digits_split(seed: int = 0) -> tuple[np.ndarray, ...]:
    """scikit-learn's 1797 digits (8x8 images as 64 features): three quarters to train on, one to test.

    Returns ``x_train, y_train, x_test, y_test``: float32 features standardized with the training
    set's per-pixel mean and spread, int32 labels 0..9. The split is stratified by class and fixed
    by ``seed``. Raises ImportError without scikit-learn.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)  # pixel intensities 0..16 -> [0, 1]
    y = digits.target.astype(np.int32)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, stratify=y, random_state=seed)
    mean = x_train.mean(axis=0)
    # Border pixels are (almost) always 0: a floor of one intensity level keeps their scale sane.
    scale = np.maximum(x_train.std(axis=0), np.float32(1.0 / 16.0))
    return (x_train - mean) / scale, y_train, (x_test - mean) / scale, y_test


def _progress_bar(total: int, enabled: bool) -> Any:
    """A tqdm bar over ``total`` steps (None when disabled or tqdm is not installed)."""
    if not enabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc="digits MLP", unit="step", file=sys.stderr, leave=False, dynamic_ncols=True)


def digits_mlp(ctx: DemoContext, hidden_units: int = 256, batch_size: int = 32, seed: int = 0) -> None:
    """Train an MLP on the digits with Adam on mini-batches, print its test accuracy, save and reload a checkpoint."""
    print("\nTraining an MLP on scikit-learn's digits (8x8 images), mini-batches fed through placeholders:")
    try:
        x_train, y_train, x_test, y_test = load_digits_split(seed=seed)
    except ImportError:
        print("  skipped: scikit-learn is not installed (pip install 'chainrule[examples]' to train on the digits)")
        return
    rng = np.random.default_rng(seed)

    def weights(fan_in: int, fan_out: int, gain: float) -> Any:
        # He (gain 2, before a ReLU) or Glorot-like (gain 1) scaling keeps activations O(1) from the start.
        init = rng.standard_normal((fan_in, fan_out)) * np.sqrt(gain / fan_in)
        return cr.Variable(init.astype(np.float32), name="weights")

    graph = cr.Graph()
    with graph.as_default():
        images = cr.placeholder(cr.float32, [None, 64], name="images")  # a mini-batch of flattened images
        labels = cr.placeholder(cr.int32, [None], name="labels")
        with cr.name_scope("hidden"):
            w1 = weights(64, hidden_units, gain=2.0)
            b1 = cr.Variable(np.zeros(hidden_units, np.float32), name="biases")
            hidden = cr.nn.relu(cr.matmul(images, w1) + b1)
        with cr.name_scope("output"):
            w2 = weights(hidden_units, 10, gain=1.0)
            b2 = cr.Variable(np.zeros(10, np.float32), name="biases")
            logits = cr.matmul(hidden, w2) + b2
        with cr.name_scope("loss"):
            xent = cr.reduce_mean(cr.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
            loss = xent + 1e-4 * (cr.nn.l2_loss(w1) + cr.nn.l2_loss(w2))
        with cr.name_scope("accuracy"):
            correct = cr.equal(cr.cast(cr.argmax(logits, axis=1), cr.int32), labels)
            accuracy = cr.reduce_mean(cr.cast(correct, cr.float32))
        global_step = cr.train.get_or_create_global_step()
        optimizer = cr.train.AdamOptimizer(learning_rate=1e-3)
        train_op = optimizer.minimize(loss, global_step=global_step)  # one step: gradients, then Adam's update
        init = cr.global_variables_initializer()  # made last: also initializes Adam's slots and the step
        saver = cr.train.Saver(max_to_keep=3)  # every variable: weights, Adam's slots, the global step

    num_parameters = sum(int(np.prod(v.shape.as_list())) for v in (w1, b1, w2, b2))
    train_set = {images: x_train, labels: y_train}
    test_set = {images: x_test, labels: y_test}
    steps_per_epoch = -(-len(y_train) // batch_size)
    print(
        f"  layers 64-{hidden_units}-10, ReLU, {optimizer.get_name()}, batch {batch_size}, {ctx.digits_epochs} epochs"
    )
    losses: list[float] = []
    with cr.Session(graph=graph) as sess:
        sess.run(init)
        initial_loss = sess.run(loss, train_set)
        bar = _progress_bar(ctx.digits_epochs * steps_per_epoch, ctx.progress)
        start = time.perf_counter()
        for _ in range(ctx.digits_epochs):
            order = rng.permutation(len(y_train))  # a new order every epoch
            for lo in range(0, len(order), batch_size):
                batch = order[lo : lo + batch_size]
                batch_loss, _ = sess.run([loss, train_op], {images: x_train[batch], labels: y_train[batch]})
                losses.append(float(batch_loss))
                if bar is not None:
                    bar.set_postfix(loss=f"{batch_loss:.4f}", refresh=False)
                    bar.update(1)
        seconds = time.perf_counter() - start
        if bar is not None:
            bar.close()
        final_loss, train_accuracy = sess.run([loss, accuracy], train_set)
        test_accuracy = sess.run(accuracy, test_set)
        print(
            f"  {len(y_train)} train / {len(y_test)} test images, {num_parameters} parameters, "
            f"{len(losses)} steps ({ctx.digits_epochs} epochs) in {seconds:.1f} s"
        )
        print(f"  {LOSS_LABEL} on the whole training set: {initial_loss:.4f} -> {final_loss:.4f}")
        print(f"  test accuracy: {test_accuracy:.2%} (train {train_accuracy:.2%})")
        path = saver.save(sess, ctx.path("digits_mlp", "model"), global_step=global_step)
        if path is None:  # Saver.save writes nothing for a graph without variables
            raise RuntimeError("the demo's MLP has no variables to save")
    ctx.results["digits"] = {
        "graph": graph,
        "losses": np.asarray(losses),
        "steps_per_epoch": steps_per_epoch,
        "test_accuracy": float(test_accuracy),
    }
    ctx.artifact("checkpoint (weights, Adam slots, global step)", path)
    # A fresh session restored from the file classifies exactly as the trained one.
    with cr.Session(graph=graph) as sess:
        saver.restore(sess, cr.train.latest_checkpoint(os.path.dirname(path)))
        restored = sess.run(accuracy, test_set)
    print(f"  restored into a new session: test accuracy {restored:.2%}")


def digits_artifacts(ctx: DemoContext) -> None:
    """The MLP's graph and loss curve in TensorBoard, and the loss curve as a picture (after :func:`digits_mlp`)."""
    if "digits" not in ctx.results:  # the MLP was skipped
        return
    graph, losses = ctx.results["digits"]["graph"], ctx.results["digits"]["losses"]
    try:
        logdir = os.path.dirname(ctx.path("tensorboard", "digits_mlp", "x"))
        cr.summary.write_log(logdir, graph=graph, scalars={"train/cross_entropy_plus_l2": losses})
        ctx.artifact("TensorBoard log of the MLP (graph, loss curve)", logdir)
    except ImportError as e:
        print(f"  TensorBoard log skipped: {e}")
    try:
        fig = loss_figure(losses, ctx.results["digits"]["steps_per_epoch"])
        curve = ctx.path("digits_mlp_loss.png")
        fig.savefig(curve)
        ctx.results["digits"]["loss_plot_scale"] = fig.axes[0].get_yscale()
        ctx.artifact(f"loss curve ({LOSS_LABEL})", curve)
    except ImportError as e:
        print(f"  loss plot skipped: {e}")


DEMO_STEPS: list[DemoStep] = [cos_derivative, cos_artifacts, minimize_cos, digits_mlp, digits_artifacts]
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
