"""One module per tool; each implements the benchmark problems with the same math.

A tool module defines ``available() -> str | None`` (its version, or None when it cannot be
imported) and ``gmm(inst)``, ``lstm(inst)``, ``mlp(data)``, ``chain(n)``, each returning a
:class:`harness.problems.Case` (``gradient`` None for objective-only tools).
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

# Display name -> (module in this package, the import it needs).
TOOLS: dict[str, tuple[str, str]] = {
    "chainrule": ("chainrule_tool", "chainrule"),
    "chainrule-noopt": ("chainrule_tool", "chainrule"),
    "chainrule-scan": ("chainrule_tool", "chainrule"),  # the LSTM as one cr.foldl (LSTM only)
    # The same graphs run by the native backend (cr.Session(backend="numba")): needs Numba and
    # chainrule.backends.numba (``chainrule_tool.numba_backend()`` says whether both are there).
    "chainrule-numba": ("chainrule_tool", "numba"),
    "numpy": ("numpy_tool", "numpy"),
    "jax": ("jax_tool", "jax"),
    "torch": ("torch_tool", "torch"),
    "tensorflow": ("tf_tool", "tensorflow"),
    "tensorflow-unrolled": ("tf_tool", "tensorflow"),  # the LSTM unrolled (slow to set up; full run only)
    "autograd": ("autograd_tool", "autograd"),
}


def installed(name: str) -> bool:
    """Whether the tool's framework can be found (without importing it: peers import slowly)."""
    return importlib.util.find_spec(TOOLS[name][1]) is not None


def load(name: str) -> ModuleType:
    """The tool's module (imports its framework)."""
    module = importlib.import_module(f"harness.tools.{TOOLS[name][0]}")
    if name == "chainrule-noopt":
        module.configure(optimize=False)
    if name == "chainrule-scan":
        module.configure(lstm_scan=True)
    if name == "chainrule-numba":
        module.configure(backend="numba")
    if name == "tensorflow-unrolled":
        module.configure(unrolled=True)
    return module
