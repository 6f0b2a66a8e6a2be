"""The compiler's IR: a small, private copy of the part of a graph that one run needs.

Rewrites work on this IR, never on the user's ``cr.Graph``: ``Program.from_graph``
prunes the graph to what the fetches need (stopping at fed tensors) and copies
each op into a ``Node``; passes then replace, merge, fold and fuse nodes freely.
A ``Node`` keeps the ``Operation`` it came from (``origin``) so run-time errors
still name the user's op and line. ``Program.dump()`` is the readable text form
used by tests and ``cr.compiler.optimize``; ``to_graph`` turns a program back
into a ``cr.Graph`` for the viewers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from chainrule.framework.dtypes import DType
from chainrule.framework.graph import Graph, Operation, Tensor, reachable
from chainrule.framework.tensor_shape import TensorShape
from chainrule.ops.registry import get_op_def

FEED = "Feed"  # a value given by the caller (a fed tensor); never a user-visible op type


class Value:
    """One output of a ``Node``: what other nodes consume.

    A node is its own first output (``Node`` is a ``Value``; ``node.out is node``), so the IR of
    a large graph holds one object per op instead of a node, a value and a tuple of outputs:
    fewer objects to copy, and fewer for the cyclic garbage collector's full passes to walk.
    """

    __slots__ = ("node", "index", "dtype", "shape")

    def __init__(self, node: Node, index: int, dtype: DType, shape: TensorShape) -> None:
        self.node = node
        self.index = index
        self.dtype = dtype
        self.shape = shape

    def __repr__(self) -> str:
        return f"%{self.node.id}" + (f".{self.index}" if len(self.node.outputs) > 1 else "")


class Node(Value):
    """One operation of a ``Program``, and its first output.

    Attributes
    ----------
    op_type : the registered op type, ``"Feed"``, or a compiler-only type (``"Fused"``...).
    inputs : the consumed values, in order.
    attrs : the kernel's keyword attributes (public ones only; hashable except Const values).
    outputs : one ``Value`` per output (the first is the node itself).
    control : nodes that must run first (control dependencies of stateful ops).
    origin : the user's ``Operation`` this node stands for (errors, names, stateful kernels).
    kernel : ``kernel(xp, *arrays, **attrs)`` for compiler-only types; None means the registry's.
    stateful : reads or writes session state: never merged, folded or removed.
    extra : pass-specific data (the member list of a fused node).
    """

    __slots__ = ("id", "op_type", "inputs", "attrs", "_outputs", "control", "origin", "kernel", "stateful", "extra")

    def __init__(
        self,
        node_id: int,
        op_type: str,
        inputs: Sequence[Value],
        attrs: dict[str, Any],
        specs: Sequence[tuple[DType, TensorShape]],
        origin: Operation | None = None,
        kernel: Callable[..., Any] | None = None,
        stateful: bool = False,
        control: Sequence[Node] = (),
        extra: Any = None,
    ) -> None:
        if specs:
            super().__init__(self, 0, *specs[0])
        else:  # no outputs (NoOp, assignments run for their effect): a value nothing reads
            super().__init__(self, 0, None, None)  # type: ignore[arg-type]
        self.id = node_id
        self.op_type = op_type
        self.inputs = tuple(inputs)
        self.attrs = attrs
        # None: exactly one output, the node itself (no tuple kept for the most common case).
        self._outputs: tuple[Value, ...] | None = None
        if len(specs) != 1:
            self._outputs = tuple(self if i == 0 else Value(self, i, d, s) for i, (d, s) in enumerate(specs))
        self.control = tuple(control)
        self.origin = origin
        self.kernel = kernel
        self.stateful = stateful
        self.extra = extra

    @property
    def outputs(self) -> tuple[Value, ...]:
        """One ``Value`` per output; the first is the node itself."""
        return (self,) if self._outputs is None else self._outputs

    @property
    def out(self) -> Value:
        """The single output (most nodes have exactly one): the node itself."""
        return self

    @property
    def name(self) -> str:
        return self.origin.name if self.origin is not None else f"{self.op_type.lower()}_{self.id}"

    def __repr__(self) -> str:
        return f"<Node %{self.id} {self.op_type}>"


class Program:
    """A straight-line program: nodes in a valid execution order, the fed values and the outputs.

    Attributes
    ----------
    nodes : in execution order (inputs and control dependencies before users; stateful
        nodes keep the relative order they had in the graph).
    feeds : one ``Feed`` value per fed tensor, in the caller's order.
    outputs : the fetched values, in the caller's order.
    targets : nodes run for their effects only (fetched operations).
    awaited : the nodes that were control inputs of the program's nodes as built. The run as
        written runs every one of them (it runs every node it copied); rewrites that replace or
        remove the node waiting for one must not drop it, so dead-code elimination keeps these,
        and fusion leaves them out of groups. They stay where they were in ``nodes``: before
        everything that waited for them, and so before whatever now reads the replacements.
    stats : after ``compiler.optimize``, how often each rewrite rule (by name) and pass
        (``"cse"``, ``"dce"``, ``"fuse"``) fired.
    """

    def __init__(self) -> None:
        self.nodes: list[Node] = []
        self.feeds: list[Value] = []
        self.outputs: list[Value] = []
        self.targets: list[Node] = []
        self.awaited: list[Node] = []
        self.stats: dict[str, int] = {}
        self.dirty: set[Node] | None = None  # nodes rewrites should look at again (None: all)
        self._next_id = 0

    # -- construction ---------------------------------------------------------------------------
    def new_node(
        self,
        op_type: str,
        inputs: Sequence[Value],
        attrs: dict[str, Any],
        specs: Sequence[tuple[DType, TensorShape]],
        **kw: Any,
    ) -> Node:
        """A node with a fresh id; the caller decides where it goes in ``nodes``."""
        node = Node(self._next_id, op_type, inputs, attrs, specs, **kw)
        self._next_id += 1
        return node

    @classmethod
    def from_graph(
        cls, fetches: Sequence[Tensor], targets: Sequence[Operation] = (), feeds: Sequence[Tensor] = ()
    ) -> Program:
        """Copy the ops that ``fetches`` and ``targets`` need (stopping at ``feeds``) into a program.

        The ops are ordered by creation (an op is always created after its inputs, so
        that is a topological order, and it is the order the user wrote stateful ops in).
        """
        fed = {t: i for i, t in enumerate(feeds)}
        needed = reachable(
            list(targets) + [t.op for t in fetches if t not in fed],
            lambda op: [*(t.op for t in op.inputs if t not in fed), *op.control_inputs],
        )
        prog = cls()
        values: dict[Tensor, Value] = {}
        for t in feeds:
            node = prog.new_node(FEED, (), {"tensor": t.name}, [(t.dtype, t.shape)], origin=t.op)
            prog.feeds.append(node.out)
            values[t] = node.out
        nodes: dict[Operation, Node] = {}
        for op in sorted(needed, key=lambda o: o.id):
            op_def = get_op_def(op.type)
            attrs = op.kernel_attrs
            node = prog.new_node(
                op.type,
                [values[t] for t in op.inputs],
                attrs,
                [(t.dtype, t.shape) for t in op.outputs],
                origin=op,
                stateful=op_def.stateful,
                control=[nodes[c] for c in op.control_inputs],
            )
            nodes[op] = node
            for t, v in zip(op.outputs, node.outputs):
                if t not in fed:
                    values[t] = v
            prog.nodes.append(node)
        prog.outputs = [values[t] for t in fetches]
        prog.targets = [nodes[op] for op in targets]
        prog.awaited = list({c: None for node in prog.nodes for c in node.control})
        return prog

    # -- queries --------------------------------------------------------------------------------
    def consumers(self) -> dict[Value, list[Node]]:
        """Each value's consuming nodes (a node appears once per use)."""
        uses: dict[Value, list[Node]] = {}
        for node in self.nodes:
            for v in node.inputs:
                uses.setdefault(v, []).append(node)
        return uses

    def __len__(self) -> int:
        return len(self.nodes)

    # -- text form ------------------------------------------------------------------------------
    def dump(self, names: bool = False) -> str:
        """The program as text, one node a line: ``%3: f64[2] = Mul(%1, %2)``.

        Values are numbered in order of appearance (so two dumps of equal programs are
        equal); ``names=True`` adds each node's user op name.
        """
        numbers: dict[int, int] = {}
        for v in self.feeds:
            numbers.setdefault(v.node.id, len(numbers))
        for node in self.nodes:
            numbers.setdefault(node.id, len(numbers))

        def ref(v: Value) -> str:
            n = numbers.get(v.node.id, v.node.id)
            return f"%{n}" + (f".{v.index}" if len(v.node.outputs) > 1 else "")

        lines = []
        for v in self.feeds:
            lines.append(f"{ref(v)}: {_type_str(v)} = Feed({v.node.attrs['tensor']})")
        for node in self.nodes:
            outs = ", ".join(f"{ref(v)}: {_type_str(v)}" for v in node.outputs) or "()"
            args = [ref(v) for v in node.inputs] + [f"{k}={_attr_str(a)}" for k, a in sorted(node.attrs.items())]
            head = node.op_type
            if node.op_type == "Const":
                args = [_attr_str(node.attrs["value"])]
            elif node.op_type == "Fused":
                ops = node.extra.describe()
                shown = " ".join(ops if len(ops) <= 12 else ops[:10] + [f"...+{len(ops) - 10}"])
                head = f"Fused[{shown}]"
                args = [ref(v) for v in node.inputs]
            line = f"{outs} = {head}({', '.join(args)})"
            if node.control:
                line += " after " + ", ".join(f"%{numbers.get(c.id, c.id)}" for c in node.control)
            if names:
                line += f"  # {node.name}"
            lines.append(line)
        lines.append("return " + ", ".join(ref(v) for v in self.outputs))
        if self.targets:
            lines[-1] += "; run " + ", ".join(f"%{numbers.get(n.id, n.id)}" for n in self.targets)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.dump()


_DTYPE_SHORT = {"float16": "f16", "float32": "f32", "float64": "f64", "int8": "i8", "int16": "i16", "int32": "i32"}
_DTYPE_SHORT.update({"int64": "i64", "uint8": "u8", "bool": "bool"})


def _type_str(v: Value) -> str:
    dims = v.shape.dims
    shape = "[?]" if dims is None else "[" + ",".join("?" if d is None else str(d) for d in dims) + "]"
    return _DTYPE_SHORT.get(v.dtype.name, v.dtype.name) + shape


def _attr_str(a: Any) -> str:
    if isinstance(a, np.ndarray):
        if a.size <= 6:
            return repr(a.tolist())
        return f"<{a.dtype}{list(a.shape)}>"
    if isinstance(a, DType):
        return a.name
    if isinstance(a, TensorShape):
        return str(a)
    if isinstance(a, float):
        return repr(a)
    text = repr(a)
    return text if len(text) <= 40 else text[:37] + "..."


def to_graph(program: Program, graph: Graph | None = None) -> Graph:
    """Turn a program into a new ``cr.Graph`` (for viewers: DOT/HTML rendering, TensorBoard).

    Each node becomes an op of the same type with the original op's name where it had one;
    fed values become placeholders; fused nodes become one ``Fused`` op whose ``ops`` attribute
    lists the fused op types. The graph is for looking at: it is not meant to be run.
    """
    graph = graph or Graph()
    tensors: dict[Value, Tensor] = {}

    def name_for(node: Node, fallback: str) -> str:
        base = node.origin.name if node.origin is not None and node.op_type != FEED else fallback
        if node.op_type == FEED:
            base = node.attrs["tensor"].replace(":", "_")
        return base

    for v in program.feeds:
        op = graph.create_op(
            "Placeholder", [], [(v.dtype, v.shape)], {"dtype": v.dtype, "shape": v.shape}, name_for(v.node, "feed")
        )
        tensors[v] = op.outputs[0]
    for node in program.nodes:
        attrs = dict(node.attrs)
        if node.op_type == "Fused":
            attrs = {"ops": tuple(node.extra.describe())}
        op = graph.create_op(
            node.op_type,
            [tensors[v] for v in node.inputs],
            [(v.dtype, v.shape) for v in node.outputs],
            attrs,
            name_for(node, node.op_type),
            node.origin.source if node.origin is not None else None,
        )
        for v, t in zip(node.outputs, op.outputs):
            tensors[v] = t
    return graph
