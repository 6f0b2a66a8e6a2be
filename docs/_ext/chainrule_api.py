"""The API reference, read from the package: ``.. chainrule-namespace:: nn`` documents every public name of ``cr.nn``.

The public names of a namespace are its ``__all__`` (every public module has one); for ``chainrule``
itself, its attributes that are not modules, underscored, or implementation packages. Each name is
documented from its docstring with autodoc (numpydoc formats the sections). A name bound to the same
object as a top-level ``cr`` name (``cr.math.cos`` is ``cr.cos``) is listed with a link to that entry
instead of being documented twice. ``tests/docs/test_public_names.py`` checks the same names have a
docstring and their own ``__name__``.
"""

from __future__ import annotations

import inspect
import types
from typing import Any

# cr.<attribute>: the page's title. The order is the reference's table of contents.
NAMESPACES = {
    "": "chainrule",
    "nn": "chainrule.nn",
    "train": "chainrule.train",
    "linalg": "chainrule.linalg",
    "math": "chainrule.math",
    "random": "chainrule.random",
    "layers": "chainrule.layers",
    "losses": "chainrule.losses",
    "metrics": "chainrule.metrics",
    "initializers": "chainrule.initializers",
    "summary": "chainrule.summary",
    "viz": "chainrule.viz",
    "optimize": "chainrule.optimize",
    "compiler": "chainrule.compiler",
    "test": "chainrule.test",
    "debugging": "chainrule.debugging",
    "errors": "chainrule.errors",
    "dtypes": "chainrule.dtypes",
    "app": "chainrule.app",
    "flags": "chainrule.flags",
    "logging": "chainrule.logging",
    "compat": "chainrule.compat",
}
# Module-valued public names that are namespaces of their own (documented on their own page), not leaks.
NAMESPACE_ALIASES = {("app", "flags"), ("compat", "v1")}


def namespace(attr: str) -> types.ModuleType:
    import chainrule

    return chainrule if not attr else getattr(chainrule, attr)


def public_names(attr: str) -> list[str]:
    """The public names of ``cr.<attr>`` (``attr=""``: of ``cr``), in a stable order."""
    module = namespace(attr)
    if attr:
        return list(module.__all__)
    names = []
    for name in sorted(dir(module)):
        value = getattr(module, name)
        if name.startswith("_") or (isinstance(value, types.ModuleType) and name not in NAMESPACES):
            continue  # chainrule.ops, chainrule.framework, ...: the implementation's packages
        names.append(name)
    return names


def kind(value: Any) -> str:
    if isinstance(value, types.ModuleType):
        return "module"
    if inspect.isclass(value):
        return "exception" if issubclass(value, BaseException) else "class"
    if callable(value):
        return "function"
    return "data"


def _rst(attr: str) -> list[str]:
    import chainrule

    module, qual = namespace(attr), NAMESPACES[attr]
    lines: list[str] = [f".. py:module:: {qual}", ""]
    if attr and attr != "compat":
        lines += [*inspect.getdoc(module).splitlines(), ""]
    aliases: list[tuple[str, str]] = []
    documented: list[tuple[str, Any]] = []
    for name in public_names(attr):
        value = getattr(module, name)
        top = getattr(chainrule, name, None) if attr else None
        if isinstance(value, types.ModuleType):
            target = value.__name__.replace("chainrule.testing", "chainrule.test").replace("tf_logging", "logging")
            aliases.append((name, f"the module ``{target}``" if attr != "compat" else "``chainrule`` itself"))
        elif top is not None and top is value and kind(value) != "data":
            role = "class" if inspect.isclass(value) else "func"
            aliases.append((name, f":{role}:`chainrule.{name}`"))
        else:
            documented.append((name, value))
    for name, value in documented:
        k = kind(value)
        if k == "data":
            lines += [f".. py:data:: {qual}.{name}", f"   :value: {_short_repr(value)}", ""]
            lines += [f"   A ``{type(value).__name__}``.", ""]
        else:
            lines += [f".. auto{k}:: {qual}.{name}"]
            if k == "class":
                lines += ["   :members:"]
            lines += [""]
    if aliases:
        lines += ["Also here", "---------", "", "The same objects as these entries:", ""]
        lines += [".. list-table::", "   :widths: 30 70", ""]
        for name, target in aliases:
            lines += [f"   * - ``{name}``", f"     - {target}"]
        lines += [""]
    return lines


def _short_repr(value: Any) -> str:
    text = repr(value).replace("\n", " ")
    return text if len(text) < 60 else text[:57] + "..."


def setup(app: Any) -> dict[str, Any]:
    from docutils.parsers.rst import Directive
    from docutils.statemachine import StringList
    from sphinx.util.nodes import nested_parse_with_titles

    class NamespaceDirective(Directive):
        required_arguments = 1

        def run(self) -> list[Any]:
            from docutils import nodes

            attr = "" if self.arguments[0] == "chainrule" else self.arguments[0]
            node = nodes.section()
            node.document = self.state.document
            nested_parse_with_titles(self.state, StringList(_rst(attr), source=f"<cr.{attr or '*'}>"), node)
            return node.children

    class UnsupportedDirective(Directive):
        """The table of TF 1.x names chainrule deliberately lacks, from chainrule/unsupported.py."""

        def run(self) -> list[Any]:
            from docutils import nodes

            from chainrule import unsupported

            lines = [".. list-table::", "   :header-rows: 1", "   :widths: 20 30 50", ""]
            lines += ["   * - name", "     - what it is", "     - what to use instead"]
            for prefix, table in (("tf", unsupported.TOP_LEVEL), ("tf.train", unsupported.TRAIN)):
                for name, (what, instead) in sorted(table.items()):
                    lines += [f"   * - ``{prefix}.{name}``", f"     - {what}", f"     - {instead}"]
            node = nodes.section()
            node.document = self.state.document
            nested_parse_with_titles(self.state, StringList(lines, source="<chainrule.unsupported>"), node)
            return node.children

    app.add_directive("chainrule-namespace", NamespaceDirective)
    app.add_directive("chainrule-unsupported", UnsupportedDirective)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
