"""Full-text search across the course book that works offline, from ``file://``.

At ``deepfab book`` time every lecture page is cut into sections at its h1/h2/h3 headings; each
section's text (the narrative and the printed outputs) goes into ``search-index.js`` as one
record. ``search.html`` loads that file and ``search.js`` (both plain ``<script src>``, which a
browser allows from ``file://`` where ``fetch`` of a JSON file is refused) and ranks the
sections that contain every word of the query, headings weighted up; ``search.html?q=grad-cam``
opens with a query, and the search box on every page submits to it.

    records = page_sections(page_html, lec)          # [{"page", "anchor", "lecture", "heading", "text"}]
    write_search(out, records)                       # search-index.js, search.js, search.html

References: the client side is ``static/search.js`` in this package.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from .pages import page_html

STATIC = Path(__file__).resolve().parent / "static"
MAX_TEXT = 4000           # characters of one section kept in the index
_SPACE = re.compile(r"\s+")


def page_sections(page: str, lec) -> list[dict]:
    """One record per heading-led section of a lecture page (the text before the first heading
    belongs to the lecture's title)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(page, "html.parser")
    root = soup.select_one(".jp-Notebook") or soup.body or soup
    for tag in root.select("style, script, img, details.code, nav.book-bar, .book-box"):
        tag.decompose()
    records, current, parts = [], {"anchor": "", "heading": f"{lec.id} {lec.title}"}, []

    def close():
        text = _SPACE.sub(" ", " ".join(parts)).strip()
        if text or current["anchor"]:
            records.append({"page": f"{lec.id}.html", "anchor": current["anchor"], "lecture": lec.id,
                            "title": lec.title, "heading": current["heading"], "text": text[:MAX_TEXT]})

    for el in root.find_all(["h1", "h2", "h3", "p", "li", "pre", "td", "th"]):
        if el.name in ("h1", "h2", "h3") and el.get("id"):
            close()
            current = {"anchor": el["id"], "heading": el.get_text(" ", strip=True).rstrip("¶").strip()}
            parts = []
        elif el.name in ("p", "pre", "td", "th") or (el.name == "li" and not el.find(["p", "li"])):
            if el.find_parent(["li", "td", "th"]) is None or el.name != "p":
                parts.append(el.get_text(" ", strip=True))
    close()
    return records


def write_search(out: Path, records: list[dict]) -> Path:
    """Write the index, the client script and the search page into ``out``; returns the page's path."""
    index = json.dumps(records, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    (out / "search-index.js").write_text(f"window.DEEPFAB_SEARCH = {index};\n", encoding="utf-8")
    (out / "search.js").write_text((STATIC / "search.js").read_text(encoding="utf-8"), encoding="utf-8")
    lectures = len({r["lecture"] for r in records})
    body = ('<p><a href="index.html">&larr; deepfab course book</a></p><h1>Search the course</h1>'
            '<form action="search.html" role="search"><input id="q" type="search" name="q" autofocus '
            'placeholder="e.g. grad-cam, dispatching, macro-F1" aria-label="Search the course"></form>'
            f'<p id="summary" class="facts">{len(records)} sections of {lectures} lectures are indexed.</p>'
            '<ol id="results" class="results"></ol>'
            '<noscript><p>Search needs JavaScript; every lecture page also has a table of contents.</p></noscript>'
            '<script src="search-index.js"></script><script src="search.js"></script>')
    path = out / "search.html"
    path.write_text(page_html("Search · deepfab course book", body), encoding="utf-8")
    return path
