"""``.. graph-page:: NAME`` runs its Python body at build time and embeds ``cr.viz.render``'s page of the graph.

The body builds a graph (in a fresh ``cr.Graph``, with ``cr`` and ``np`` imported) and must leave the
tensors to draw in ``show`` (or nothing: the whole graph). The page is written to ``_graph/NAME.html``
beside the built site and shown in an ``<iframe>``, with the code above it, so the picture is the
real renderer's output for the code the reader sees.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any


def setup(app: Any) -> dict[str, Any]:
    from docutils import nodes
    from docutils.parsers.rst import Directive, directives

    class GraphPage(Directive):
        required_arguments = 1
        has_content = True
        option_spec = {"height": directives.positive_int, "title": directives.unchanged}

        def run(self) -> list[Any]:
            import numpy as np

            import chainrule as cr

            name = self.arguments[0]
            code = "\n".join(self.content)
            graph = cr.Graph()
            scope: dict[str, Any] = {"cr": cr, "np": np}
            with graph.as_default():
                exec(compile(code, f"<graph-page {name}>", "exec"), scope)  # the docs' own code
            target = scope.get("show") or graph
            out = Path(self.state.document.settings.env.app.outdir) / "_graph"
            out.mkdir(parents=True, exist_ok=True)
            cr.viz.render(target, out / f"{name}.html", title=self.options.get("title", name))
            height = self.options.get("height", 520)
            docname = self.state.document.settings.env.docname
            prefix = "../" * docname.count("/")
            src = html.escape(f"{prefix}_graph/{name}.html")
            frame = (
                f'<p><a href="{src}">Open the graph page on its own</a></p>'
                f'<iframe class="graph-page" src="{src}" style="width:100%;height:{height}px;border:1px solid #ccc"'
                f' title="graph page: {html.escape(name)}"></iframe>'
            )
            block = nodes.literal_block(code, code, language="python")
            return [block, nodes.raw("", frame, format="html")]

    app.add_directive("graph-page", GraphPage)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
