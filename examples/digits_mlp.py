"""A multilayer perceptron (ReLU) on scikit-learn's digits, trained with mini-batch Adam: about 98% test accuracy.

Run:  python examples/digits_mlp.py [--epochs 60] [--hidden 256] [--save DIR]
(needs scikit-learn for the bundled data, nothing is downloaded; tqdm for a progress bar:
``pip install 'chainrule[examples]'``). The model and training loop live in chainrule.models.digits.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from chainrule.models import digits


def main(argv: Sequence[str] | None = None) -> digits.TrainResult:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    digits.add_training_arguments(parser, epochs=60, optimizer="adam")
    parser.add_argument("--hidden", type=int, nargs="+", default=[256], help="hidden layer sizes (default 256)")
    args = parser.parse_args(argv)
    return digits.run_from_args("mlp", args, hidden=tuple(args.hidden))


if __name__ == "__main__":
    main(sys.argv[1:])
