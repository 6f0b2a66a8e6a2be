"""Multinomial logistic regression on scikit-learn's digits, trained with mini-batch Momentum.

Run:  python examples/digits_logistic.py [--epochs 30] [--optimizer adam] [--save DIR]
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
    digits.add_training_arguments(parser, epochs=30, optimizer="momentum")
    args = parser.parse_args(argv)
    return digits.run_from_args("logistic", args)


if __name__ == "__main__":
    main(sys.argv[1:])
