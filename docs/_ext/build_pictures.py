"""Pictures made at build time by the code shown beside them: a graph page and figures.

``.. graph-page:: NAME`` runs its Python body (in a fresh ``cr.Graph``, with ``cr`` and ``np``
imported); it may leave the tensors to draw in ``show`` (else the whole graph is drawn). The page
``cr.viz.render`` writes goes to ``_graph/NAME.html`` beside the built site and is shown in an
``<iframe>`` under the code.

``.. run-figure:: NAME`` runs its body with ``path`` set to ``_figures/NAME.png`` beside the built
site; the body must write that PNG (``cr.viz.plot_function_and_derivative(..., path=path)`` or
matplotlib's ``fig.savefig(path)``), which is shown under the code.

A body that raises fails the build, so every picture on the site is the current code's output.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any


def _run(code: str, label: str, extra: dict[str, Any]) -> dict[str, Any]:
    import numpy as np

    import chainrule as cr

    graph = cr.Graph()
    scope: dict[str, Any] = {"cr": cr, "np": np, "graph": graph, **extra}
    with graph.as_default():
        exec(compile(code, f"<{label}>", "exec"), scope)  # the docs' own code, shown on the page
    return scope


def setup(app: Any) -> dict[str, Any]:
    from docutils import nodes
    from docutils.parsers.rst import Directive, directives

    class _Picture(Directive):
        required_arguments = 1
        has_content = True
        option_spec = {"height": directives.positive_int, "title": directives.unchanged, "alt": directives.unchanged}
        folder = ""

        def target(self) -> tuple[Path, str]:
            """Where the picture is written, and its address relative to the page."""
            env = self.state.document.settings.env
            out = Path(env.app.outdir) / self.folder
            out.mkdir(parents=True, exist_ok=True)
            suffix = ".html" if self.folder == "_graph" else ".png"
            prefix = "../" * env.docname.count("/")
            return out / (self.arguments[0] + suffix), f"{prefix}{self.folder}/{self.arguments[0]}{suffix}"

        def show(self, markup: str) -> list[Any]:
            code = "\n".join(self.content)
            return [nodes.literal_block(code, code, language="python"), nodes.raw("", markup, format="html")]

    class GraphPage(_Picture):
        folder = "_graph"

        def run(self) -> list[Any]:
            import chainrule as cr

            path, src = self.target()
            scope = _run("\n".join(self.content), f"graph-page {self.arguments[0]}", {})
            cr.viz.render(scope.get("show") or scope["graph"], path, title=self.options.get("title", self.arguments[0]))
            height = self.options.get("height", 520)
            src = html.escape(src)
            return self.show(
                f'<p><a href="{src}">Open the graph page on its own</a></p>'
                f'<iframe class="graph-page" src="{src}" style="width:100%;height:{height}px;border:1px solid #ccc"'
                f' title="graph page: {html.escape(self.arguments[0])}"></iframe>'
            )

    class RunFigure(_Picture):
        folder = "_figures"

        def run(self) -> list[Any]:
            path, src = self.target()
            _run("\n".join(self.content), f"run-figure {self.arguments[0]}", {"path": str(path)})
            if not path.is_file():
                raise self.error(f"run-figure {self.arguments[0]}: the code wrote no {path.name}")
            alt = html.escape(self.options.get("alt", self.arguments[0]))
            image = f'<img class="run-figure" src="{html.escape(src)}" alt="{alt}" style="max-width:100%">'
            return self.show(f"<p>{image}</p>")

    app.add_directive("graph-page", GraphPage)
    app.add_directive("run-figure", RunFigure)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
