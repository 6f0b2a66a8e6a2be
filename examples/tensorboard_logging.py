"""TensorBoard logging with cr.summary: the graph, a loss curve and weight histograms while a model trains.

A small network learns ``y = cos(x)`` on [-pi, pi] (one hidden tanh layer, Adam). Summary ops are
ops like any other: ``cr.summary.scalar`` and ``cr.summary.histogram`` turn tensors into
serialized summaries when run, ``cr.summary.merge_all`` gathers them into one tensor, and a
``cr.summary.FileWriter`` writes the graph (for the Graphs tab, with the gradient section under
``gradients/``) and each step's summaries to an event file.

Run:  python examples/tensorboard_logging.py [--logdir logs/cos_fit] [--quick]
then:  tensorboard --logdir logs
(needs the tensorboard package: ``pip install 'chainrule[tensorboard]'``; ``--quick`` takes fewer steps)
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
    parser.add_argument("--logdir", default="logs/cos_fit", help="the event files' folder (default logs/cos_fit)")
    parser.add_argument("--steps", type=int, default=1000, help="training steps (default 1000)")
    parser.add_argument("--every", type=int, default=10, help="write the summaries every this many steps")
    parser.add_argument("--quick", action="store_true", help="200 steps (for CI)")
    args = parser.parse_args(argv)
    steps = 200 if args.quick else args.steps
    rng = np.random.default_rng(0)
    xs = np.linspace(-np.pi, np.pi, 64, dtype=np.float32)[:, None]

    graph = cr.Graph()
    with graph.as_default():
        x = cr.placeholder(cr.float32, [None, 1], name="x")
        target = cr.cos(x)
        with cr.name_scope("hidden"):
            w1 = cr.Variable(rng.standard_normal((1, 16)).astype(np.float32), name="weights")
            b1 = cr.Variable(np.zeros(16, np.float32), name="biases")
            hidden = cr.tanh(cr.matmul(x, w1) + b1)
        with cr.name_scope("output"):
            w2 = cr.Variable((rng.standard_normal((16, 1)) / 4).astype(np.float32), name="weights")
            b2 = cr.Variable(np.zeros(1, np.float32), name="biases")
            prediction = cr.matmul(hidden, w2) + b2
        loss = cr.reduce_mean(cr.square(prediction - target), name="loss")
        global_step = cr.train.get_or_create_global_step()
        train_op = cr.train.AdamOptimizer(0.01).minimize(loss, global_step=global_step)
        with cr.name_scope("summaries"):
            cr.summary.scalar("loss", loss)
            cr.summary.histogram("hidden_weights", w1)
            cr.summary.histogram("prediction", prediction)
        summaries = cr.summary.merge_all()  # one tensor: every summary above, serialized
        init = cr.global_variables_initializer()

    feed = {x: xs}
    losses = []
    with cr.Session(graph=graph) as sess, cr.summary.FileWriter(args.logdir, graph) as writer:
        sess.run(init)
        for _ in range(steps):
            step = int(sess.run(global_step))
            if step % args.every == 0:
                summary, loss_value = sess.run([summaries, loss], feed)
                writer.add_summary(summary, global_step=step)
                losses.append(float(loss_value))
            sess.run(train_op, feed)
        final_loss = float(sess.run(loss, feed))
        event_file = writer.path
    print(f"mean squared error {losses[0]:.4f} -> {final_loss:.5f} in {steps} steps")
    print(f"wrote {len(losses)} summaries and the graph to {event_file}")
    print(f"view them with:  tensorboard --logdir {args.logdir}")
    return {"losses": losses, "final_loss": final_loss, "event_file": event_file, "steps": steps}


if __name__ == "__main__":
    main(sys.argv[1:])
