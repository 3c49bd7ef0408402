"""An executed lecture notebook as one self-contained HTML page (no network, no scripts).

``deepfab run L00`` writes ``runs/L00/L00.html`` with this module: nbconvert's lab template,
figures embedded as base64 ``data:`` URIs, every formula converted to MathML (browsers render it
natively, see ``mathml.py``), and every ``<script>`` and external ``<link>`` removed, so the page
opens the same from a laptop with no internet, from a file share, or from the course book.

    page, failed = notebook_to_html(nb, title="L00 Supervised learning foundation", path=out)

References:
    nbconvert HTMLExporter, https://nbconvert.readthedocs.io/
"""
from __future__ import annotations

import copy
import html

from .mathml import MathSpans, protect_math

# Chromium lays out <mtd> as a table cell but ignores MathML's columnalign and, for math content,
# honours only the -webkit- keywords of text-align (checked in headless Chromium 156).
EXTRA_CSS = """
body { max-width: 1100px; margin: 0 auto; }
math { font-family: "STIX Two Math", "Cambria Math", "Latin Modern Math", "STIXGeneral", math; font-size: 1.08em; }
math[display="block"] { display: block math; margin: 0.6em 0; padding: 0.15em 0; font-size: 1.1em;
  overflow-x: auto; overflow-y: hidden; }
math mtd[columnalign="right"] { text-align: right; text-align: -webkit-right; padding-right: 0; }
math mtd[columnalign="left"] { text-align: left; text-align: -webkit-left; padding-left: 0; }
math .mv-bold, math .mv-bold-italic { font-weight: bold; }
math .mv-normal { font-style: normal; }
code.tex-fallback { background: #fff3cd; color: #7a4d00; padding: 0 0.2em; }
.deepfab-run { font: 14px/1.45 system-ui, sans-serif; border: 1px solid #d0d7de; border-radius: 6px;
  padding: 0.7em 1em; margin: 1em 0 1.5em; background: #f6f8fa; }
.deepfab-run h1 { font-size: 1.5em; margin: 0 0 0.2em; }
.deepfab-run .ko { color: #57606a; margin-bottom: 0.4em; }
.deepfab-run.failed { border-color: #cf222e; background: #ffebe9; }
.deepfab-run pre { white-space: pre-wrap; margin: 0.4em 0 0; }
"""


def _protect_notebook(nb, spans: MathSpans):
    """A copy of ``nb`` whose formulas (markdown cells and rich outputs) are tokens in ``spans``."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source, _ = protect_math(cell.source, spans)
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if "text/markdown" in data:
                data["text/markdown"], _ = protect_math(data["text/markdown"], spans)
            if "text/latex" in data:
                tex = data["text/latex"]
                protected, _ = protect_math(tex, spans)
                # IPython's Math() has delimiters; a bare formula is display math.
                data["text/latex"] = protected if protected != tex else spans.token(tex, True)
    return nb


def _strip_network(page: str) -> str:
    """Remove every script and every stylesheet or icon link that is not inline data."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(page, "html.parser")
    for tag in soup.find_all("script"):
        tag.decompose()
    for tag in soup.find_all("link"):
        if not str(tag.get("href", "")).startswith("data:"):
            tag.decompose()
    for tag in soup.find_all(["img", "iframe", "source", "audio", "video"]):
        src = str(tag.get("src", ""))
        if src.startswith(("http:", "https:", "//")):
            tag["data-external-src"] = src        # kept visible as an attribute, never fetched
            del tag["src"]
    return str(soup)


def header_html(info: dict) -> str:
    """The box at the top of a lecture page: titles, mode, seed, device, time, and any failure."""
    e = html.escape
    failed = info.get("status") != "ok"
    meta = (f"{e(info.get('mode', '?'))} run · seed {e(str(info.get('seed', '?')))} · device "
            f"{e(str(info.get('device', '?')))} · {e(info.get('finished', '')[:19].replace('T', ' '))} UTC · "
            f"{info.get('wall_seconds', 0):.1f} s")
    parts = [f'<div class="deepfab-run{" failed" if failed else ""}">',
             f"<h1>{e(info.get('lecture', ''))} · {e(info.get('title', ''))}</h1>"]
    if info.get("title_seed"):
        parts.append(f'<div class="ko">{e(info["title_seed"])}</div>')
    parts.append(f"<div>{meta}</div>")
    if failed and info.get("error"):
        err = info["error"]
        parts.append(f"<pre><b>{e(info.get('status', 'failed'))}</b> at cell {e(str(err.get('cell', '?')))}: "
                     f"{e(err.get('first_line', ''))}\n{e(err.get('message', ''))}</pre>")
    parts.append("</div>")
    return "\n".join(parts)


def notebook_to_html(nb, title: str, path, header: str = "") -> tuple[str, list[str]]:
    """Export ``nb`` to one HTML page; returns ``(page, formulas_not_rendered)``.

    ``path`` is the folder relative image links in markdown are resolved from (embedded too).
    """
    from nbconvert import HTMLExporter

    spans = MathSpans()
    protected = _protect_notebook(nb, spans)
    exporter = HTMLExporter(template_name="lab", embed_images=True)
    page, _ = exporter.from_notebook_node(protected, resources={"metadata": {"name": title, "path": str(path)}})
    page = _strip_network(page)
    page = page.replace("</head>", f"<style>{EXTRA_CSS}</style>\n</head>", 1)
    if header:
        marker = '<main>' if '<main>' in page else "<body"
        at = page.find(marker)
        at = page.find(">", at) + 1
        page = page[:at] + "\n" + header + page[at:]
    page = spans.restore(page)
    return page, spans.failed
