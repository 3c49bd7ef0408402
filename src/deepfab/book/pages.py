"""A lecture's run page as a page of the course book: navigation, contents, folding code, downloads.

``deepfab run`` writes each lecture as one self-contained page (``runner/html.py``). The book
copies it in and adds, with no script: a bar with the course index, the previous and next
lecture and a search box (a form that opens ``search.html?q=...``); the run's headline metrics
and a link that downloads the executed notebook; a table of contents built from the page's own
section headings; every code cell's source in a ``<details>`` (open; a click folds it); and a
layout that reads on a phone (no prompts, wrapping code, images scaled to the width).

    page = decorate(run_page_html, here=lec, prev=prev_lec, next=next_lec,
                    metrics_html=metrics_table(metrics, headline_names(lec.path)), notebook="L03.ipynb")

References: HTML ``<details>``/``<summary>``, https://html.spec.whatwg.org/#the-details-element
"""
from __future__ import annotations

import html

SITE_CSS = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 1100px; margin: 2em auto;
  padding: 0 1em; color: #1f2328; }
h1 { margin-bottom: 0.1em; } .sub { color: #57606a; margin-top: 0; }
.lec { border: 1px solid #d0d7de; border-radius: 6px; padding: 0.6em 1em; margin: 0.8em 0; }
.lec h2 { font-size: 1.15em; margin: 0; } .lec .ko { color: #57606a; }
.badge { display: inline-block; font-size: 0.8em; padding: 0 0.5em; border-radius: 1em; margin-left: 0.5em;
  vertical-align: middle; border: 1px solid; }
.ok { color: #1a7f37; } .smoke { color: #9a6700; } .failed { color: #cf222e; } .todo, .planned { color: #57606a; }
table { border-collapse: collapse; margin: 0.4em 0; font-size: 0.92em; }
td, th { border-bottom: 1px solid #eaeef2; padding: 0.15em 0.8em 0.15em 0; text-align: left; }
td.num { font-variant-numeric: tabular-nums; text-align: right; }
code { background: #f6f8fa; padding: 0.1em 0.3em; border-radius: 4px; }
.facts { color: #57606a; font-size: 0.9em; }
pre { background: #f6f8fa; padding: 0.8em; overflow-x: auto; white-space: pre-wrap; }
input[type=search] { font: inherit; padding: 0.3em 0.5em; width: min(28em, 100%); box-sizing: border-box; }
ol.results li { margin: 0.7em 0; } .snippet { color: #1f2328; font-size: 0.92em; } mark { background: #fff3b0; }
@media (max-width: 700px) { body { margin: 1em auto; } table { display: block; overflow-x: auto; } }
"""
BOOK_CSS = """
.book-bar { font: 14px/1.4 system-ui, sans-serif; display: flex; flex-wrap: wrap; gap: 0.4em 1.2em;
  align-items: center; padding: 0.5em 0; border-bottom: 1px solid #d0d7de; margin-bottom: 0.8em; }
.book-bar a { text-decoration: none; } .book-bar .grow { flex: 1; }
.book-bar form { margin: 0; } .book-bar input { font: inherit; padding: 0.15em 0.4em; width: 11em; }
.book-box { font: 14px/1.45 system-ui, sans-serif; border: 1px solid #d0d7de; border-radius: 6px;
  padding: 0.5em 1em; margin: 0.8em 0; }
.book-box h2 { font-size: 1.05em; margin: 0.2em 0 0.4em; }
.book-box table { border-collapse: collapse; } .book-box td { padding: 0.1em 1em 0.1em 0; }
.book-box td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
nav.toc ol { margin: 0.2em 0; padding-left: 1.4em; } nav.toc li.h3 { margin-left: 1.2em; list-style: circle; }
details.code > summary { font: 12px system-ui, sans-serif; color: #57606a; cursor: pointer; margin: 0.2em 0; }
img { max-width: 100%; height: auto; }
@media (max-width: 700px) {
  body { font-size: 15px; } .jp-InputPrompt, .jp-OutputPrompt { display: none !important; }
  .jp-InputArea, .jp-OutputArea-child { display: block !important; }
  .jp-InputArea-editor, .jp-OutputArea-output { width: 100% !important; }
  pre { white-space: pre-wrap; word-break: break-word; }
  .jp-RenderedHTMLCommon table { display: block; overflow-x: auto; }
  main, .jp-Notebook { padding: 0 0.4em !important; }
}
"""


def page_html(title: str, body: str) -> str:
    """A plain page of the book (index, search, datasets) with the site's style."""
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(title)}</title><style>{SITE_CSS}</style></head>\n<body>\n{body}\n</body></html>\n")


def _bar(here, prev, next_) -> str:
    e = html.escape
    prev_link = f'<a href="{prev.id}.html">&larr; {prev.id} {e(prev.title)}</a>' if prev else "<span></span>"
    next_link = f'<a href="{next_.id}.html">{next_.id} {e(next_.title)} &rarr;</a>' if next_ else "<span></span>"
    return (f'<nav class="book-bar"><a href="index.html">&#8962; Course book</a>{prev_link}'
            f'<span class="grow"></span>{next_link}'
            '<form action="search.html"><input type="search" name="q" placeholder="Search the course" '
            'aria-label="Search the course"></form></nav>')


def _toc(soup) -> str:
    """``<nav class="toc">`` linking every h2/h3 of the lecture's markdown cells (``[]`` before the first h2)."""
    items = []
    for h in soup.select(".jp-MarkdownCell h2[id], .jp-MarkdownCell h3[id]"):
        text = h.get_text(" ", strip=True).rstrip("¶").strip()
        items.append(f'<li class="{h.name}"><a href="#{html.escape(h["id"], quote=True)}">{html.escape(text)}</a></li>')
    if not items:
        return ""
    return (f'<details class="book-box" open><summary><b>Contents</b> ({len(items)} sections)</summary>'
            f'<nav class="toc"><ol>{"".join(items)}</ol></nav></details>')


def decorate(page: str, here, prev=None, next=None, metrics_html: str = "", notebook: str | None = None) -> str:
    """``page`` (a lecture's run page) with the book's bar, headline box, contents and folding code."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(page, "html.parser")
    for w in soup.select("div.jp-CodeCell > div.jp-Cell-inputWrapper"):
        fold = soup.new_tag("details", attrs={"class": "code", "open": ""})
        summary = soup.new_tag("summary")
        summary.string = "code"
        w.wrap(fold)
        fold.insert(0, summary)
    download = (f'<p><a href="{html.escape(notebook)}" download>Download the notebook ({html.escape(notebook)})</a>'
                f' · run it yourself: <code>deepfab run {here.id}</code></p>') if notebook else ""
    box = (f'<div class="book-box"><h2>Headline results of this run</h2>{metrics_html}{download}</div>'
           if metrics_html or download else "")
    style = soup.new_tag("style")
    style.string = BOOK_CSS
    (soup.head or soup).append(style)
    root = soup.find("main") or soup.body or soup
    details = BeautifulSoup(box + _toc(soup), "html.parser")
    root.insert(0, BeautifulSoup(_bar(here, prev, next), "html.parser"))
    (root.find("div", class_="deepfab-run") or root.find("nav", class_="book-bar")).insert_after(details)
    root.append(BeautifulSoup(_bar(here, prev, next), "html.parser"))
    return str(soup)
