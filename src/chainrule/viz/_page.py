"""The graph page's style and script, inlined into every page so it needs no server and no network.

The script reads the graph (ops, name-scope groups and their children, edges) from a JSON block
and lays out the scopes currently expanded with dagre (``vendor/dagre.min.js``, MIT, inlined into
the page before this script): expanded scopes are dagre's clusters, collapsed ones single boxes.
Edges are then drawn through dagre's points so that they cross no box: each one leaves its
source vertically, crosses every rank it spans at a point dagre kept free (its dummy nodes), and
turns only in the gaps between ranks. Clicking a collapsed scope expands it; clicking an
expanded scope's title bar collapses it.
"""

import functools
from importlib import resources


@functools.cache
def dagre_source() -> str:
    """The vendored dagre (with its license header), as text to inline in a ``<script>`` element."""
    text = resources.files("chainrule.viz").joinpath("vendor/dagre.min.js").read_text(encoding="utf-8")
    if "</" in text:  # would end the script element early; the vendored file has none
        raise RuntimeError("vendor/dagre.min.js contains '</' and cannot be inlined")
    return text


CSS = r"""
:root { --fwd: #dbeafe; --fwd-line: #2563eb; --grad: #ffedd5; --grad-line: #ea580c;
        --var: #dcfce7; --var-line: #16a34a; --const: #f1f5f9; --const-line: #94a3b8;
        --scope: #f8fafc; --scope-line: #64748b; --grad-scope: #fff7ed; --comp: #ede9fe; --comp-line: #7c3aed; }
* { box-sizing: border-box; }
body { margin: 0; font: 13px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: #0f172a; background: #fff; }
header { position: sticky; top: 0; z-index: 2; background: #ffffffee; border-bottom: 1px solid #e2e8f0;
         padding: 8px 14px; display: flex; flex-wrap: wrap; gap: 6px 18px; align-items: center; }
header h1 { font-size: 15px; margin: 0 8px 0 0; font-weight: 600; }
header .stats { color: #475569; }
header button { font: inherit; padding: 2px 10px; border: 1px solid #cbd5e1; border-radius: 6px; background: #f8fafc;
                cursor: pointer; }
header button:hover { background: #e2e8f0; }
.legend { display: flex; gap: 12px; flex-wrap: wrap; color: #334155; }
.legend span { display: inline-flex; align-items: center; gap: 5px; }
.swatch { width: 14px; height: 11px; border-radius: 3px; border: 1.5px solid; display: inline-block; }
.line { width: 22px; height: 0; border-top: 1.5px solid #64748b; display: inline-block; }
.line.dashed { border-top-style: dashed; }
#canvas { padding: 14px; }
svg text { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; pointer-events: none; }
.node rect { stroke-width: 1.5; }
.node.op rect { fill: var(--fwd); stroke: var(--fwd-line); }
.node.op.kind-variable rect { fill: var(--var); stroke: var(--var-line); }
.node.op.kind-const rect { fill: var(--const); stroke: var(--const-line); }
.node.op.kind-placeholder rect { fill: #fff; stroke: var(--fwd-line); stroke-dasharray: 4 2; }
.node.op.gradient rect { fill: var(--grad); stroke: var(--grad-line); }
.node.op.gradient.kind-const rect { fill: #fff7ed; stroke: #fdba74; }
.node .label { font-size: 12px; fill: #0f172a; }
.node .sub { font-size: 10px; fill: #64748b; }
.node.group.collapsed rect { fill: var(--scope); stroke: var(--scope-line); }
.node.group.collapsed rect.stack { fill: #e2e8f0; }
.node.group.collapsed.gradient rect { fill: var(--grad-scope); stroke: var(--grad-line); }
.node.group.collapsed.gradient rect.stack { fill: #fed7aa; }
.node.group.collapsed.composite rect { fill: var(--comp); stroke: var(--comp-line); }
.node.group.collapsed.composite rect.stack { fill: #ddd6fe; }
.node.group.collapsed { cursor: zoom-in; }
.node.op:hover rect, .node.group.collapsed:hover rect { stroke-width: 2.5; }
.frame rect.box { fill: #f8fafc80; stroke: var(--scope-line); stroke-width: 1.2; }
.frame.gradient rect.box { fill: #fff7ed99; stroke: var(--grad-line); }
.frame rect.head { fill: transparent; cursor: zoom-out; }
.frame .label { font-size: 12px; font-weight: 600; fill: #334155; }
.frame.gradient .label { fill: #c2410c; }
.frame.composite rect.box { fill: #f5f3ff99; stroke: var(--comp-line); }
.frame.composite .label { fill: #6d28d9; }
.edge { fill: none; stroke: #64748b; stroke-width: 1.2; }
.edge.gradient { stroke: #f97316; }
.edge.control { stroke-dasharray: 5 3; stroke: #94a3b8; }
#tooltip { position: fixed; z-index: 3; display: none; max-width: 560px; background: #0f172aee; color: #f8fafc;
           padding: 8px 10px; border-radius: 6px; font-size: 12px; pointer-events: none; white-space: pre-wrap;
           box-shadow: 0 4px 14px #0005; }
#tooltip b { color: #fff; }
#tooltip .k { color: #94a3b8; }
#tooltip code { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; color: #fde68a; }
"""

SCRIPT = r"""
"use strict";
(function () {
  const D = JSON.parse(document.getElementById("graph-data").textContent);
  const SVG = "http://www.w3.org/2000/svg";
  const ROOT = "g:", HEAD = 20, CHAR = 7.3, SUBCHAR = 6.1, CORNER = 7;
  const expanded = new Set([ROOT]);
  const svg = document.getElementById("graph");
  const tip = document.getElementById("tooltip");
  let boxes = new Map(), frameBoxes = new Map(), edgePaths = [];
  window.chainruleGraph = {};

  function isGroup(id) { return id.startsWith("g:"); }

  function groupSub(g) {
    const count = g.num_ops + (g.num_ops === 1 ? " op" : " ops");
    return g.composite ? g.composite + " \u00b7 " + count : count;
  }

  // The size of a box: an op, or a collapsed scope (drawn as a little stack of cards).
  function leafSize(id) {
    if (!isGroup(id)) {
      const op = D.ops[id];
      const two = op.short !== op.type;
      const textW = Math.max(op.short.length * CHAR, two ? op.type.length * SUBCHAR : 0);
      return { w: Math.max(52, 16 + textW), h: two ? 36 : 24 };
    }
    const g = D.groups[id];
    return { w: Math.max(76, 34 + g.short.length * CHAR, 28 + groupSub(g).length * SUBCHAR), h: 38 };
  }

  // The box an op is drawn in: itself, or its outermost collapsed scope.
  function visible(id) {
    let rep = id, n = id;
    while (D.parent[n] !== undefined) {
      n = D.parent[n];
      if (!expanded.has(n)) rep = n;
    }
    return rep;
  }

  // dagre's graph of what is shown: expanded scopes are clusters holding their children,
  // collapsed scopes and ops are boxes. With ``tops`` (each cluster's children that a first
  // layout put highest), a cluster also gets a title node above those, so its label has room.
  function buildGraph(tops) {
    const g = new dagre.graphlib.Graph({ compound: true });
    g.setGraph({ rankdir: "TB", nodesep: 20, ranksep: 28, edgesep: 14, marginx: 6, marginy: 6 });
    g.setDefaultEdgeLabel(() => ({}));
    const leaves = [], clusters = [];
    const firstOf = (id) => (tops && isGroup(id) && expanded.has(id) ? "t:" + id : id);
    function add(id, parent) {
      if (isGroup(id) && expanded.has(id)) {
        g.setNode(id, {});
        if (parent) g.setParent(id, parent);
        clusters.push(id);
        if (tops) {
          const title = "t:" + id;
          const label = D.groups[id].short + (D.groups[id].composite ? "  (" + D.groups[id].composite + ")" : "");
          g.setNode(title, { width: 24 + label.length * CHAR, height: HEAD - 6 });
          g.setParent(title, id);
        }
        for (const c of D.groups[id].children) add(c, id);
      } else {
        const s = leafSize(id);
        g.setNode(id, { width: s.w, height: s.h });
        if (parent) g.setParent(id, parent);
        leaves.push(id);
      }
    }
    for (const c of D.groups[ROOT].children) add(c, null);
    if (tops) {
      for (const id of clusters) for (const c of tops.get(id) || []) g.setEdge("t:" + id, firstOf(c), { title: true });
    }
    const seen = new Map();
    for (const [src, dst, kind] of D.edges) {
      const a = visible(src), b = visible(dst);
      if (a === b) continue;
      const key = a + "\u0000" + b;
      const grad = D.ops[dst].gradient;
      const old = seen.get(key);
      if (old) {
        if (kind === "data") old.kind = "data";
        old.gradient = old.gradient || grad;
        continue;
      }
      const label = { kind: kind, gradient: grad, a: a, b: b };
      seen.set(key, label);
      g.setEdge(a, b, label);
    }
    return { g: g, leaves: leaves, clusters: clusters, edges: [...seen.values()], titled: !!tops };
  }

  // Lay out twice: the first layout says which children of each cluster come first; the second
  // puts the cluster's title node above them.
  function layout() {
    const first = buildGraph(null);
    dagre.layout(first.g);
    const tops = new Map();
    for (const id of first.clusters) {
      const top = (c) => {
        const n = first.g.node(c);
        return n.y - n.height / 2;
      };
      const kids = D.groups[id].children;
      const best = Math.min(...kids.map(top));
      tops.set(id, kids.filter((c) => top(c) <= best + 1));
    }
    const built = buildGraph(tops);
    dagre.layout(built.g);
    return built;
  }

  function el(tag, attrs, parent) {
    const e = document.createElementNS(SVG, tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }

  function text(parent, x, y, cls, str, anchor) {
    const t = el("text", { x: x, y: y, class: cls, "text-anchor": anchor || "middle" }, parent);
    t.textContent = str;
    return t;
  }

  function key(y) { return Math.round(y * 4) / 4; }

  // The polyline of an edge through the "stations" it passes: its source, dagre's points in the
  // ranks between (spots kept free of boxes), its target. Inside a rank's band it runs vertically;
  // it turns only in the gaps between bands, where no box is.
  function route(stations, bands) {
    const out = [];
    stations.forEach((s, i) => {
      const band = Math.max(bands.get(key(s.y)) || 0, s.half);
      if (i > 0) {
        const dir = stations[i - 1].y <= s.y ? -1 : 1;
        out.push([s.x, s.y + dir * band]);
        if (s.half) out.push([s.x, s.y + dir * s.half]);
      }
      if (i < stations.length - 1) {
        const dir = stations[i + 1].y >= s.y ? 1 : -1;
        if (s.half) out.push([s.x, s.y + dir * s.half]);
        out.push([s.x, s.y + dir * band]);
      }
    });
    return out.filter((p, i) => i === 0 || Math.abs(p[0] - out[i - 1][0]) + Math.abs(p[1] - out[i - 1][1]) > 0.01);
  }

  // Straight segments with small rounded corners (the rounding stays next to the corner).
  function pathData(pts) {
    let d = `M${pts[0][0].toFixed(1)},${pts[0][1].toFixed(1)}`;
    for (let i = 1; i < pts.length - 1; i++) {
      const [px, py] = pts[i - 1], [x, y] = pts[i], [nx, ny] = pts[i + 1];
      const l1 = Math.hypot(x - px, y - py), l2 = Math.hypot(nx - x, ny - y);
      const r = Math.min(CORNER, l1 / 2, l2 / 2);
      const ax = x - ((x - px) / l1) * r, ay = y - ((y - py) / l1) * r;
      const cx = x + ((nx - x) / l2) * r, cy = y + ((ny - y) / l2) * r;
      d += ` L${ax.toFixed(1)},${ay.toFixed(1)} Q${x.toFixed(1)},${y.toFixed(1)} ${cx.toFixed(1)},${cy.toFixed(1)}`;
    }
    const last = pts[pts.length - 1];
    return d + ` L${last[0].toFixed(1)},${last[1].toFixed(1)}`;
  }

  function drawFrame(id, n, title, layer) {
    const g = D.groups[id];
    const x = n.x - n.width / 2, y = n.y - n.height / 2;
    frameBoxes.set(id, { x: x, y: y, w: n.width, h: n.height });
    const cls = "frame" + (g.gradient ? " gradient" : "") + (g.composite ? " composite" : "");
    const f = el("g", { class: cls, "data-id": id }, layer);
    el("rect", { class: "box", x: x, y: y, width: n.width, height: n.height, rx: 8 }, f);
    // The title bar (click to collapse) reaches down to the title node dagre kept free.
    const ty = title ? title.y + title.height / 2 : y + HEAD;
    const head = el("rect", { class: "head", x: x, y: y, width: n.width, height: Math.max(ty - y, 12) }, f);
    const lx = title ? title.x - title.width / 2 + 2 : x + 10;
    text(f, lx, ty - 3, "label", "\u2212 " + g.short + (g.composite ? "  (" + g.composite + ")" : ""), "start");
    head.addEventListener("click", () => toggle(id));
    hover(f, id);
  }

  function drawLeaf(id, b, layer) {
    if (isGroup(id)) {
      const g = D.groups[id];
      const cls = "node group collapsed" + (g.gradient ? " gradient" : "") + (g.composite ? " composite" : "");
      const n = el("g", { class: cls, "data-id": id }, layer);
      el("rect", { class: "stack", x: b.x + 4, y: b.y + 4, width: b.w - 4, height: b.h - 4, rx: 7 }, n);
      el("rect", { x: b.x, y: b.y, width: b.w - 4, height: b.h - 4, rx: 7 }, n);
      text(n, b.x + (b.w - 4) / 2, b.y + 15, "label", "+ " + g.short);
      text(n, b.x + (b.w - 4) / 2, b.y + 28, "sub", groupSub(g));
      n.addEventListener("click", () => toggle(id));
      hover(n, id);
      return;
    }
    const op = D.ops[id];
    const n = el("g", { class: "node op kind-" + op.kind + (op.gradient ? " gradient" : ""), "data-id": id }, layer);
    el("rect", { x: b.x, y: b.y, width: b.w, height: b.h, rx: op.kind === "placeholder" ? 12 : 5 }, n);
    if (op.short !== op.type) {
      text(n, b.x + b.w / 2, b.y + 15, "label", op.short);
      text(n, b.x + b.w / 2, b.y + 29, "sub", op.type);
    } else {
      text(n, b.x + b.w / 2, b.y + 16, "label", op.short);
    }
    hover(n, id);
  }

  function drawEdges(built, layer) {
    const g = built.g;
    const bands = new Map();
    for (const id of built.leaves) {
      const n = g.node(id);
      bands.set(key(n.y), Math.max(bands.get(key(n.y)) || 0, n.height / 2));
    }
    for (const id of built.titled ? built.clusters : []) {
      const n = g.node("t:" + id);
      bands.set(key(n.y), Math.max(bands.get(key(n.y)) || 0, n.height / 2));
    }
    // Each edge's stations; then the edges leaving (entering) a box side by side spread along it.
    const routes = [];
    const ports = new Map();
    for (const e of built.edges) {
      const pts = g.edge(e.a, e.b).points;
      const A = boxes.get(e.a), B = boxes.get(e.b);
      const mid = pts.slice(1, -1).map((p) => ({ x: p.x, y: p.y, half: 0 }));
      const first = { x: A.x + A.w / 2, y: A.y + A.h / 2, half: A.h / 2, box: A };
      const last = { x: B.x + B.w / 2, y: B.y + B.h / 2, half: B.h / 2, box: B };
      const stations = [first, ...mid, last];
      routes.push({ e: e, stations: stations });
      const toward = (s, other) => (other.y >= s.y ? "b" : "t");
      for (const [s, other, id] of [[first, stations[1], e.a], [last, stations[stations.length - 2], e.b]]) {
        const k = id + "|" + toward(s, other);
        if (!ports.has(k)) ports.set(k, []);
        ports.get(k).push({ s: s, other: other });
      }
    }
    for (const list of ports.values()) {
      list.sort((p, q) => p.other.x - q.other.x);
      const box = list[0].s.box, n = list.length;
      const step = n > 1 ? Math.min(10, (box.w * 0.6) / (n - 1)) : 0;
      list.forEach((p, i) => { p.s.x = box.x + box.w / 2 + (i - (n - 1) / 2) * step; });
    }
    edgePaths = [];
    for (const { e, stations } of routes) {
      const cls = "edge" + (e.kind === "control" ? " control" : "") + (e.gradient ? " gradient" : "");
      const path = el("path", {
        d: pathData(route(stations, bands)),
        class: cls,
        "data-from": e.a,
        "data-to": e.b,
        "marker-end": e.gradient ? "url(#arrow-grad)" : "url(#arrow)",
      }, layer);
      edgePaths.push(path);
    }
  }

  function render() {
    boxes = new Map(); frameBoxes = new Map();
    const built = layout();
    window.chainruleGraph.layout = built;
    for (const id of built.leaves) {
      const n = built.g.node(id);
      boxes.set(id, { x: n.x - n.width / 2, y: n.y - n.height / 2, w: n.width, h: n.height });
    }
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    const defs = el("defs", {}, svg);
    for (const [name, color] of [["arrow", "#64748b"], ["arrow-grad", "#f97316"]]) {
      const m = el("marker", { id: name, viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7,
                               orient: "auto-start-reverse" }, defs);
      el("path", { d: "M0,0 L10,5 L0,10 z", fill: color }, m);
    }
    const frames = el("g", { class: "frames" }, svg);
    const edges = el("g", { class: "edges" }, svg);
    const nodes = el("g", { class: "nodes" }, svg);
    for (const id of built.clusters) {
      drawFrame(id, built.g.node(id), built.titled ? built.g.node("t:" + id) : null, frames);
    }
    for (const id of built.leaves) drawLeaf(id, boxes.get(id), nodes);
    drawEdges(built, edges);
    const w = Math.ceil(built.g.graph().width || 0) + 2, h = Math.ceil(built.g.graph().height || 0) + 2;
    svg.setAttribute("width", w);
    svg.setAttribute("height", h);
    svg.setAttribute("viewBox", `-1 -1 ${w} ${h}`);
    document.getElementById("shown").textContent = String(nodes.childNodes.length);
  }

  function toggle(id) {
    if (expanded.has(id)) expanded.delete(id); else expanded.add(id);
    tip.style.display = "none";
    render();
  }

  function esc(s) {
    return String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));
  }

  function describe(id) {
    if (isGroup(id)) {
      const g = D.groups[id];
      const what = g.composite ? `one call of ${esc(g.composite)}` : "name scope";
      return `<b>${esc(g.name)}/</b>  <span class="k">${what}${g.gradient ? ", gradient ops" : ""}</span>\n` +
        `${g.num_ops} ops inside\n<span class="k">click to ${expanded.has(id) ? "collapse" : "expand"}</span>`;
    }
    const op = D.ops[id];
    const lines = [`<b>${esc(op.name)}</b>`,
                   `<span class="k">op:</span> ${esc(op.type)}` + (op.gradient ? "  (gradient)" : "")];
    op.outputs.forEach((o, i) => {
      const label = op.outputs.length > 1 ? `output ${i}` : "output";
      lines.push(`<span class="k">${label}:</span> dtype ${esc(o[0])}, shape ${esc(o[1])}`);
    });
    if (!op.outputs.length) lines.push('<span class="k">output:</span> none');
    if (op.inputs.length) lines.push(`<span class="k">inputs:</span> ${esc(op.inputs.join(", "))}`);
    if (op.control.length) lines.push(`<span class="k">control inputs:</span> ${esc(op.control.join(", "))}`);
    for (const k in op.attrs) lines.push(`<span class="k">${esc(k)}:</span> ${esc(op.attrs[k])}`);
    if (op.source) lines.push(`<span class="k">created at:</span> <code>${esc(op.source)}</code>`);
    return lines.join("\n");
  }

  function hover(node, id) {
    node.addEventListener("mouseenter", (e) => {
      tip.innerHTML = describe(id);
      tip.style.display = "block";
      move(e);
      e.stopPropagation();
    });
    node.addEventListener("mousemove", (e) => { move(e); e.stopPropagation(); });
    node.addEventListener("mouseleave", () => { tip.style.display = "none"; });
  }

  function move(e) {
    const w = tip.offsetWidth, h = tip.offsetHeight;
    let x = e.clientX + 14, y = e.clientY + 14;
    if (x + w > window.innerWidth - 4) x = Math.max(4, e.clientX - w - 14);
    if (y + h > window.innerHeight - 4) y = Math.max(4, e.clientY - h - 14);
    tip.style.left = x + "px";
    tip.style.top = y + "px";
  }

  // Points of every drawn edge that fall inside a box other than its own two ends (for tests: []).
  function crossings(step) {
    const found = [];
    for (const p of edgePaths) {
      const a = p.getAttribute("data-from"), b = p.getAttribute("data-to"), len = p.getTotalLength();
      for (let s = 0; s <= len; s += step || 2) {
        const q = p.getPointAtLength(s);
        for (const [id, r] of boxes) {
          if (id === a || id === b) continue;
          if (q.x > r.x + 0.5 && q.x < r.x + r.w - 0.5 && q.y > r.y + 0.5 && q.y < r.y + r.h - 0.5) {
            found.push([a, b, id, Math.round(q.x), Math.round(q.y)]);
            break;
          }
        }
      }
    }
    return found;
  }

  document.getElementById("expand-all").addEventListener("click", () => {
    for (const id in D.groups) expanded.add(id);
    render();
  });
  document.getElementById("collapse-all").addEventListener("click", () => {
    expanded.clear(); expanded.add(ROOT);
    render();
  });
  // For scripts and tests: the state, and what was drawn.
  Object.assign(window.chainruleGraph, { expanded: expanded, render: render, toggle: toggle, data: D,
                                         crossings: crossings, boxes: () => boxes, frames: () => frameBoxes });
  render();
})();
"""
