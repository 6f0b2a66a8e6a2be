"""A small convolutional network (cr.nn.conv2d, max_pool2d, avg_pool2d) on scikit-learn's digits, with Adam.

Run:  python examples/digits_cnn.py [--epochs 20] [--channels 16 32] [--save DIR]
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
    digits.add_training_arguments(parser, epochs=20, optimizer="adam")
    parser.add_argument("--channels", type=int, nargs=2, default=[16, 32], help="channels of the two convolutions")
    parser.add_argument("--dense", type=int, default=64, help="units of the dense layer (default 64)")
    args = parser.parse_args(argv)
    return digits.run_from_args("cnn", args, channels=tuple(args.channels), hidden=args.dense)


if __name__ == "__main__":
    main(sys.argv[1:])
