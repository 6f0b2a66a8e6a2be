"""Every public name of chainrule's namespaces has a docstring and its own name (``help(cr.cos)`` says ``cos``).

The namespaces and their public names are the API reference's (docs/_ext/chainrule_api.py), so a name
this test accepts is a name the reference documents.
"""

from __future__ import annotations

import inspect
import sys
import types
from pathlib import Path

import pytest

import chainrule as cr

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "docs" / "_ext"))
import chainrule_api  # noqa: E402

NAMESPACES = list(chainrule_api.NAMESPACES)


def _entries(attr: str) -> list[tuple[str, object]]:
    module = chainrule_api.namespace(attr)
    return [(name, getattr(module, name)) for name in chainrule_api.public_names(attr)]


@pytest.mark.parametrize("attr", NAMESPACES)
def test_public_functions_and_classes_have_a_docstring_and_their_own_name(attr):
    bad = []
    for name, value in _entries(attr):
        if not (inspect.isfunction(value) or inspect.isclass(value)):
            continue
        if "<locals>" in value.__qualname__ or value.__name__ in ("fn", "<lambda>", "wrapper", "inner"):
            bad.append(f"{name}: named {value.__qualname__!r}")
        if not (inspect.getdoc(value) or "").strip():
            bad.append(f"{name}: no docstring")
    assert not bad, f"cr.{attr}: " + "; ".join(bad)


@pytest.mark.parametrize("attr", NAMESPACES)
def test_namespaces_export_no_helpers_or_foreign_modules(attr):
    module = chainrule_api.namespace(attr)
    if attr:
        assert isinstance(getattr(module, "__all__", None), list | tuple), f"cr.{attr} has no __all__"
    bad = []
    for name, value in _entries(attr):
        if isinstance(value, types.ModuleType):
            if (attr, name) not in chainrule_api.NAMESPACE_ALIASES and name not in chainrule_api.NAMESPACES:
                bad.append(f"{name} (module {value.__name__})")
        elif getattr(value, "__module__", None) in ("typing", "collections.abc", "dataclasses", "functools"):
            bad.append(f"{name} ({value.__module__})")
        elif (inspect.isfunction(value) or inspect.isclass(value)) and not value.__module__.startswith("chainrule"):
            bad.append(f"{name} (from {value.__module__})")
    assert not bad, f"cr.{attr} exports " + ", ".join(bad)


def test_op_functions_made_by_factories_carry_the_name_they_are_bound_to():
    assert (cr.cos.__name__, cr.cos.__qualname__) == ("cos", "cos")
    assert cr.add.__name__ == "add" and cr.math.argmax.__name__ == "argmax"
    assert cr.floor_div.__name__ == "floordiv"  # an alias keeps the first name it was bound to
    doc = inspect.getdoc(cr.cos)
    assert doc.startswith("Elementwise ``Cos`` of ``x``.") and "Parameters\n----------\nx : " in doc
    assert "Returns\n-------\nTensor" in doc
    assert cr.dtypes.float32 is cr.float32 and cr.dtypes.bool is cr.bool  # tf.dtypes, now a namespace of its own
    for helper in ("Any", "np", "os", "apply", "register_op", "check_kind", "array_ops"):
        assert helper not in cr.math.__all__ and helper not in cr.viz.__all__ and helper not in cr.optimize.__all__
