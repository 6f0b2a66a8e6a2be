"""A progress display for training loops: a tqdm bar when tqdm is installed, plain lines otherwise."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from typing import Any


class Progress:
    """Shows the progress of ``total`` steps with the current loss.

    tqdm is optional: it is imported here, lazily, and when it is missing the loop prints one
    plain line per reported epoch instead (at most about ``lines`` of them, plus the last).

    Parameters
    ----------
    total : number of steps.
    epochs : number of epochs (for the plain lines).
    desc : label shown in front of the bar or lines.
    enabled : False shows nothing.
    print_fn : where plain lines go.
    lines : about how many plain lines to print over the whole run.
    """

    def __init__(
        self,
        total: int,
        epochs: int,
        desc: str = "",
        enabled: bool = True,
        print_fn: Callable[[str], Any] = print,
        lines: int = 10,
    ) -> None:
        self._bar: Any = None
        self._desc = desc
        self._epochs = epochs
        self._print = print_fn
        self._every = max(1, math.ceil(epochs / max(1, lines)))
        self._enabled = enabled
        if enabled:
            try:
                from tqdm import tqdm
            except ImportError:
                tqdm = None
            if tqdm is not None:
                self._bar = tqdm(total=total, desc=desc, unit="step", file=sys.stderr, leave=False, dynamic_ncols=True)

    @property
    def uses_tqdm(self) -> bool:
        """True when a tqdm bar is shown."""
        return self._bar is not None

    def step(self, loss: float) -> None:
        """One step done; ``loss`` is its mini-batch loss."""
        if self._bar is not None:
            self._bar.set_postfix(loss=f"{loss:.4f}", refresh=False)
            self._bar.update(1)

    def epoch(self, epoch: int, loss: float, last: bool = False) -> None:
        """Epoch ``epoch`` (1-based) done; ``loss`` is its mean mini-batch loss; ``last``: the run stops here."""
        if not self._enabled or self._bar is not None:
            return
        if last or epoch == 1 or epoch % self._every == 0 or epoch == self._epochs:
            width = len(str(self._epochs))
            self._print(f"{self._desc} epoch {epoch:>{width}}/{self._epochs}  loss {loss:.4f}".lstrip())

    def close(self) -> None:
        """Remove the bar (the caller prints the summary)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
