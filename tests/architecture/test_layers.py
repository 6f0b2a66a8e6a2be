"""The package's layers, read from the source: who may import whom, and no reach into private names.

docs/architecture.md lists the layers; each imports only from the layers above it. The op modules
form a DAG among themselves (a rule that needs an op declared further down builds it through
``ops.raw_ops``), with no imports inside functions to hide a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import chainrule

PACKAGE = Path(chainrule.__file__).parent

# Each layer and the layers (besides itself) it may import, as docs/architecture.md says.
ALLOWED = {
    "framework": set(),
    "ops": {"framework"},
    "autodiff": {"framework", "ops"},
    "compiler": {"framework", "ops"},
    "runtime": {"framework", "ops", "compiler"},
    "train": {"framework", "ops", "autodiff", "runtime"},
    "transforms": {"framework", "ops", "autodiff", "compiler", "runtime"},
    "summary": {"framework", "ops", "runtime"},
    "viz": {"framework", "ops", "compiler", "runtime", "summary"},
    "testing": {"framework", "ops", "autodiff", "runtime", "transforms"},
    "backends": {"framework", "ops", "compiler", "runtime"},
}


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> str | None:
    """The subpackage a module belongs to (``chainrule.ops.math_ops``: ``ops``); None for top-level modules."""
    parts = module.split(".")
    return parts[1] if len(parts) >= 2 and (PACKAGE / parts[1]).is_dir() else None


def _imports(tree: ast.AST, top_level_only: bool) -> list[tuple[str, list[str], int]]:
    """``(module, imported names, line)`` for each ``import``/``from ... import`` of a chainrule module."""
    nodes = tree.body if top_level_only and isinstance(tree, ast.Module) else ast.walk(tree)
    found = []
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("chainrule"):
            found.append((node.module, [a.name for a in node.names], node.lineno))
        elif isinstance(node, ast.Import):
            found.extend((a.name, [], node.lineno) for a in node.names if a.name.startswith("chainrule"))
    return found


def _targets(module: str, names: list[str]) -> list[str]:
    """The chainrule modules an import statement brings in (``from chainrule.ops import math_ops``: both)."""
    out = [module]
    out.extend(f"{module}.{n}" for n in names if (PACKAGE.parent / f"{module}.{n}".replace(".", "/")).exists()
               or (PACKAGE.parent / (f"{module}.{n}".replace(".", "/") + ".py")).exists())  # fmt: skip
    return out


SOURCES = {_name(p): ast.parse(p.read_text(), str(p)) for p in _modules()}


@pytest.mark.parametrize("module", sorted(m for m in SOURCES if _layer(m) in ALLOWED))
def test_each_layer_imports_only_the_layers_above_it(module):
    layer = _layer(module)
    wrong = []
    for imported, names, line in _imports(SOURCES[module], top_level_only=False):
        for target in _targets(imported, names):
            other = _layer(target)
            if other is not None and other != layer and other not in ALLOWED[layer]:  # type: ignore[index]
                wrong.append(f"line {line}: {target} ({other})")
    assert not wrong, f"{module} ({layer}) imports a layer below it: {wrong}"


def test_no_module_imports_another_packages_private_names():
    wrong = []
    for module, tree in SOURCES.items():
        for imported, names, line in _imports(tree, top_level_only=False):
            if _layer(imported) == _layer(module):
                continue
            parts = [*names, *imported.split(".")]
            private = [n for n in parts if n.startswith("_") and not n.endswith("__")]
            if private:
                wrong.append(f"{module}:{line} imports {private} from {imported}")
    assert not wrong, "\n".join(wrong)


def test_the_op_modules_form_a_dag_without_imports_inside_functions():
    ops = {m for m in SOURCES if m.startswith("chainrule.ops.")}
    edges: dict[str, set[str]] = {}
    hidden = []
    for module in ops:
        tree = SOURCES[module]
        top = _imports(tree, top_level_only=True)
        edges[module] = {t for imported, names, _ in top for t in _targets(imported, names) if t in ops and t != module}
        everything = _imports(tree, top_level_only=False)
        hidden.extend(f"{module}:{line} imports {imported}" for imported, _, line in everything if
                      (imported, _, line) not in top)  # fmt: skip
    assert not hidden, "imports inside functions (a hidden cycle): " + "; ".join(hidden)
    state: dict[str, int] = {}  # 1: on the path, 2: done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for nxt in sorted(edges[module]):
            assert state.get(nxt) != 1, "import cycle: " + " -> ".join([*path, module, nxt])
            if nxt not in state:
                visit(nxt, [*path, module])
        state[module] = 2

    for module in sorted(ops):
        if module not in state:
            visit(module, [])
