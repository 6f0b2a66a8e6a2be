"""The ``chainrule`` command: ``chainrule demo`` differentiates and minimizes cos, then trains a model.

The demo itself lives in :mod:`chainrule.demo`; the benchmarks are scripts in a source checkout
(``python benchmarks/bench.py``), not part of the installed package.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from chainrule.demo import DEFAULT_DIGITS_EPOCHS, demo


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="chainrule",
        description="Graph-based automatic differentiation for NumPy.",
        epilog="The benchmarks against NumPy and the peer frameworks run from a source checkout: "
        "python benchmarks/bench.py (see benchmarks/README.md).",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command")
    demo_parser = sub.add_parser(
        "demo",
        help="the cos example (y = cos x as a graph, its derivative -sin x, gradient descent on cos), "
        "then an MLP learning scikit-learn's digits",
        description="Build y = cos(x) as a graph, differentiate it (d/dx cos x = -sin x) and minimize it with "
        "gradient descent; then train an MLP on scikit-learn's digits. Writes a plot of cos and its derivative, "
        "a graph page, TensorBoard logs and the MLP's loss curve.",
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
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
