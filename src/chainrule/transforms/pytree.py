"""Nested structures (pytrees): flatten tuples, lists, dicts and namedtuples to leaves and back.

A *treedef* is a hashable description of the containers, so it can be part of a cache key.
``None`` is an empty container (it has no leaves), as in JAX; everything else that is not a
tuple, list, dict or namedtuple is a leaf.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# Treedef encoding (plain tuples so that it hashes and compares by value):
#   _LEAF                           a leaf
#   (_NONE,)                        None
#   (tuple | list, children)        a tuple or list
#   (dict, keys, children)          a dict (insertion order kept)
#   (namedtuple_class, children)    a namedtuple
_LEAF = "*"
_NONE = "None"

TreeDef = Any


def flatten(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> tuple[list[Any], TreeDef]:
    """Leaves of ``tree`` in order, and the treedef to rebuild it with :func:`unflatten`.

    ``is_leaf`` may stop the descent at containers it accepts.
    """
    leaves: list[Any] = []
    return leaves, _flatten(tree, leaves, is_leaf)


def _flatten(node: Any, leaves: list[Any], is_leaf: Callable[[Any], bool] | None) -> TreeDef:
    if is_leaf is not None and is_leaf(node):
        leaves.append(node)
        return _LEAF
    if node is None:
        return (_NONE,)
    kind = type(node)
    if kind is tuple or kind is list:
        return (kind, tuple(_flatten(c, leaves, is_leaf) for c in node))
    if isinstance(node, dict):
        return (dict, tuple(node), tuple(_flatten(v, leaves, is_leaf) for v in node.values()))
    if isinstance(node, tuple) and hasattr(kind, "_fields"):
        return (kind, tuple(_flatten(c, leaves, is_leaf) for c in node))
    leaves.append(node)
    return _LEAF


def unflatten(treedef: TreeDef, leaves: list[Any]) -> Any:
    """Rebuild the structure described by ``treedef`` with ``leaves`` (in flatten order)."""
    it = iter(leaves)
    tree = _unflatten(treedef, it)
    if next(it, _sentinel) is not _sentinel:
        raise ValueError("unflatten: more leaves than the structure holds")
    return tree


_sentinel = object()


def _unflatten(td: TreeDef, it: Any) -> Any:
    if td == _LEAF:
        value = next(it, _sentinel)
        if value is _sentinel:
            raise ValueError("unflatten: fewer leaves than the structure holds")
        return value
    kind = td[0]
    if kind == _NONE:
        return None
    if kind is dict:
        return {k: _unflatten(c, it) for k, c in zip(td[1], td[2])}
    children = [_unflatten(c, it) for c in td[1]]
    if kind is tuple or kind is list:
        return kind(children)
    return kind(*children)  # namedtuple


def num_leaves(treedef: TreeDef) -> int:
    """How many leaves the structure holds."""
    if treedef == _LEAF:
        return 1
    kind = treedef[0]
    if kind == _NONE:
        return 0
    children = treedef[2] if kind is dict else treedef[1]
    return sum(num_leaves(c) for c in children)


def tree_map(fn: Callable[..., Any], tree: Any, *rest: Any) -> Any:
    """Apply ``fn`` leaf-wise to ``tree`` (and to the matching leaves of ``rest``, same structure)."""
    leaves, td = flatten(tree)
    others = []
    for r in rest:
        r_leaves, r_td = flatten(r)
        if r_td != td:
            raise ValueError(f"tree_map: structures differ: {describe(td)} vs {describe(r_td)}")
        others.append(r_leaves)
    return unflatten(td, [fn(*args) for args in zip(leaves, *others)])


def describe(treedef: TreeDef) -> str:
    """A short human-readable form of a treedef for error messages, e.g. ``(*, {'a': *})``."""
    if treedef == _LEAF:
        return "*"
    kind = treedef[0]
    if kind == _NONE:
        return "None"
    if kind is dict:
        return "{" + ", ".join(f"{k!r}: {describe(c)}" for k, c in zip(treedef[1], treedef[2])) + "}"
    inner = ", ".join(describe(c) for c in treedef[1])
    if kind is list:
        return f"[{inner}]"
    if kind is tuple:
        return f"({inner},)" if len(treedef[1]) == 1 else f"({inner})"
    return f"{kind.__name__}({inner})"


def broadcast_prefix(prefix: Any, tree: Any, what: str, is_axis: Callable[[Any], bool]) -> list[Any]:
    """One value per leaf of ``tree`` from ``prefix``, a tree that matches ``tree`` down to where it stops.

    Where ``prefix`` has a value (``is_axis`` accepts it: e.g. an int or None for vmap's axes),
    that value holds for every leaf of the subtree of ``tree`` there (JAX's in_axes/out_axes
    rule). Tuples and lists match each other; dicts must have the same keys.
    """
    out: list[Any] = []
    _broadcast(prefix, tree, what, is_axis, out, "")
    return out


def _broadcast(prefix: Any, tree: Any, what: str, is_axis: Callable[[Any], bool], out: list[Any], path: str) -> None:
    if is_axis(prefix):
        out.extend([prefix] * len(flatten(tree)[0]))
        return
    where = f" at {path}" if path else ""
    if isinstance(prefix, (tuple, list)) and isinstance(tree, (tuple, list)):
        if len(prefix) != len(tree):
            raise ValueError(f"{what}: {len(prefix)} entries{where} for a {type(tree).__name__} of {len(tree)}")
        for i, (p, t) in enumerate(zip(prefix, tree)):
            _broadcast(p, t, what, is_axis, out, f"{path}[{i}]")
        return
    if isinstance(prefix, dict) and isinstance(tree, dict):
        if set(prefix) != set(tree):
            raise ValueError(
                f"{what}: keys {sorted(map(str, prefix))}{where} for a dict with keys {sorted(map(str, tree))}"
            )
        for k in tree:  # the tree's order is the order of its leaves
            _broadcast(prefix[k], tree[k], what, is_axis, out, f"{path}[{k!r}]")
        return
    if isinstance(prefix, (tuple, list, dict)):
        raise ValueError(f"{what}: a {type(prefix).__name__}{where} for a {type(tree).__name__} value")
    raise TypeError(f"{what}: each entry must be an int or None, got {prefix!r}{where}")
