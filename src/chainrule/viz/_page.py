"""The graph page's style and script, inlined into every page so it needs no server and no network.

The script reads the graph (ops, name-scope groups and their layers, computed
in Python by ``viz.layout``) from a JSON block, turns the layers into
coordinates for the scopes currently expanded, and draws an SVG. Clicking a
collapsed scope expands it; clicking an expanded scope's title bar collapses it.
"""

CSS = r"""
:root { --fwd: #dbeafe; --fwd-line: #2563eb; --grad: #ffedd5; --grad-line: #ea580c;
        --var: #dcfce7; --var-line: #16a34a; --const: #f1f5f9; --const-line: #94a3b8;
        --scope: #f8fafc; --scope-line: #64748b; --grad-scope: #fff7ed; }
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
.node.group.collapsed { cursor: zoom-in; }
.node.op:hover rect, .node.group.collapsed:hover rect { stroke-width: 2.5; }
.frame rect.box { fill: #f8fafc80; stroke: var(--scope-line); stroke-width: 1.2; }
.frame.gradient rect.box { fill: #fff7ed99; stroke: var(--grad-line); }
.frame rect.head { fill: transparent; cursor: zoom-out; }
.frame .label { font-size: 12px; font-weight: 600; fill: #334155; }
.frame.gradient .label { fill: #c2410c; }
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
  const ROOT = "g:", PAD = 10, HEAD = 22, GAPX = 14, GAPY = 30, CHAR = 7.3, SUBCHAR = 6.1;
  const expanded = new Set([ROOT]);
  const svg = document.getElementById("graph");
  const tip = document.getElementById("tooltip");
  let sizes = new Map(), rels = new Map(), boxes = new Map();

  function isGroup(id) { return id.startsWith("g:"); }

  function size(id) {
    if (sizes.has(id)) return sizes.get(id);
    let s;
    if (!isGroup(id)) {
      const op = D.ops[id];
      const two = op.short !== op.type;
      const textW = Math.max(op.short.length * CHAR, two ? op.type.length * SUBCHAR : 0);
      s = { w: Math.max(52, 16 + textW), h: two ? 36 : 24 };
    } else if (!expanded.has(id)) {
      const g = D.groups[id];
      s = { w: Math.max(76, 34 + g.short.length * CHAR), h: 38 };
    } else {
      s = layoutGroup(id);
    }
    sizes.set(id, s);
    return s;
  }

  // Coordinates of a group's children (relative to the group) from the layers computed in Python:
  // each child sits below the mean centre of its predecessors, pushed right to avoid overlaps.
  function layoutGroup(id) {
    const g = D.groups[id];
    const preds = {};
    for (const [a, b] of g.edges) (preds[b] = preds[b] || []).push(a);
    const rel = new Map();
    let y = (id === ROOT ? 0 : HEAD) + PAD;
    for (const row of g.layers) {
      let cursor = null, rowH = 0, shift = 0, wanted = 0;
      const placed = [];
      for (const c of row) {
        const s = size(c);
        const ps = (preds[c] || []).filter((p) => rel.has(p));
        let want = null;
        if (ps.length) {
          want = ps.reduce((acc, p) => acc + rel.get(p).x + size(p).w / 2, 0) / ps.length - s.w / 2;
        }
        let x = want === null ? (cursor === null ? 0 : cursor) : want;
        if (cursor !== null && x < cursor) x = cursor;
        if (want !== null) { shift += want - x; wanted++; }
        rel.set(c, { x: x, y: y });
        placed.push(c);
        cursor = x + s.w + GAPX;
        rowH = Math.max(rowH, s.h);
      }
      // Moving the whole row keeps it free of overlaps; move it towards where its nodes want to be.
      const dx = wanted ? Math.min(0, shift / wanted) : 0;
      for (const c of placed) {
        const r = rel.get(c);
        r.x += dx;
        if (!isGroup(c) || !expanded.has(c)) r.y = y + (Math.min(rowH, 40) - size(c).h) / 2;
      }
      y += rowH + GAPY;
    }
    let minX = Infinity, maxX = -Infinity;
    for (const [c, r] of rel) { minX = Math.min(minX, r.x); maxX = Math.max(maxX, r.x + size(c).w); }
    if (!rel.size) { minX = 0; maxX = 0; }
    for (const r of rel.values()) r.x += PAD - minX;
    rels.set(id, rel);
    const labelW = id === ROOT ? 0 : 40 + D.groups[id].short.length * CHAR;
    return { w: Math.max(maxX - minX + 2 * PAD, labelW), h: Math.max(y - GAPY + PAD, HEAD + PAD) };
  }

  function el(tag, attrs, parent) {
    const e = document.createElementNS(SVG, tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }

  function text(parent, x, y, cls, str) {
    const t = el("text", { x: x, y: y, class: cls, "text-anchor": "middle" }, parent);
    t.textContent = str;
    return t;
  }

  function drawGroup(id, ox, oy, layerFrames, layerNodes) {
    const rel = rels.get(id);
    for (const c of D.groups[id].layers.flat()) {
      const r = rel.get(c), s = size(c);
      const x = ox + r.x, y = oy + r.y;
      boxes.set(c, { x: x, y: y, w: s.w, h: s.h });
      if (isGroup(c) && expanded.has(c)) {
        const g = D.groups[c];
        const f = el("g", { class: "frame" + (g.gradient ? " gradient" : ""), "data-id": c }, layerFrames);
        el("rect", { class: "box", x: x, y: y, width: s.w, height: s.h, rx: 8 }, f);
        el("rect", { class: "head", x: x, y: y, width: s.w, height: HEAD }, f);
        const t = el("text", { x: x + 10, y: y + 15, class: "label" }, f);
        t.textContent = "\u2212 " + g.short;
        f.querySelector("rect.head").addEventListener("click", () => toggle(c));
        hover(f, c);
        drawGroup(c, x, y, layerFrames, layerNodes);
      } else if (isGroup(c)) {
        const g = D.groups[c];
        const cls = "node group collapsed" + (g.gradient ? " gradient" : "");
        const n = el("g", { class: cls, "data-id": c }, layerNodes);
        el("rect", { class: "stack", x: x + 4, y: y + 4, width: s.w - 4, height: s.h - 4, rx: 7 }, n);
        el("rect", { x: x, y: y, width: s.w - 4, height: s.h - 4, rx: 7 }, n);
        text(n, x + (s.w - 4) / 2, y + 15, "label", "+ " + g.short);
        text(n, x + (s.w - 4) / 2, y + 28, "sub", g.num_ops + (g.num_ops === 1 ? " op" : " ops"));
        n.addEventListener("click", () => toggle(c));
        hover(n, c);
      } else {
        const op = D.ops[c];
        const cls = "node op kind-" + op.kind + (op.gradient ? " gradient" : "");
        const n = el("g", { class: cls, "data-id": c }, layerNodes);
        el("rect", { x: x, y: y, width: s.w, height: s.h, rx: op.kind === "placeholder" ? 12 : 5 }, n);
        if (op.short !== op.type) {
          text(n, x + s.w / 2, y + 15, "label", op.short);
          text(n, x + s.w / 2, y + 29, "sub", op.type);
        } else {
          text(n, x + s.w / 2, y + 16, "label", op.short);
        }
        hover(n, c);
      }
    }
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

  function drawEdges(layer) {
    const seen = new Set();
    for (const [src, dst, kind] of D.edges) {
      const a = visible(src), b = visible(dst);
      if (a === b) continue;
      const key = a + "\u0000" + b + "\u0000" + kind;
      if (seen.has(key)) continue;
      seen.add(key);
      const p = boxes.get(a), q = boxes.get(b);
      if (!p || !q) continue;
      const x1 = p.x + p.w / 2, y1 = p.y + p.h, x2 = q.x + q.w / 2, y2 = q.y;
      const bend = Math.max(24, Math.abs(y2 - y1) / 2);
      const grad = D.ops[dst].gradient;
      el("path", {
        d: `M${x1},${y1} C${x1},${y1 + bend} ${x2},${y2 - bend} ${x2},${y2 - 2}`,
        class: "edge" + (kind === "control" ? " control" : "") + (grad ? " gradient" : ""),
        "marker-end": grad ? "url(#arrow-grad)" : "url(#arrow)",
      }, layer);
    }
  }

  function render() {
    sizes = new Map(); rels = new Map(); boxes = new Map();
    const s = size(ROOT);
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
    drawGroup(ROOT, 0, 0, frames, nodes);
    drawEdges(edges);
    svg.setAttribute("width", Math.ceil(s.w) + 2);
    svg.setAttribute("height", Math.ceil(s.h) + 2);
    svg.setAttribute("viewBox", `-1 -1 ${Math.ceil(s.w) + 2} ${Math.ceil(s.h) + 2}`);
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
      return `<b>${esc(g.name)}/</b>  <span class="k">name scope${g.gradient ? ", gradient ops" : ""}</span>\n` +
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

  document.getElementById("expand-all").addEventListener("click", () => {
    for (const id in D.groups) expanded.add(id);
    render();
  });
  document.getElementById("collapse-all").addEventListener("click", () => {
    expanded.clear(); expanded.add(ROOT);
    render();
  });
  window.chainruleGraph = { expanded: expanded, render: render, toggle: toggle, data: D };
  render();
})();
"""
