"""The course book as a reader meets it (deepfab.book): pages, navigation, search, and a real browser.

Two runs of the fixture notebook stand in for lectures L00 and L01. The browser tests load the
built site from ``file://`` in headless Chromium (``conftest.browser``) and fail on any console
error or failed request; they also save screenshots of the index, a lecture and a search into the
test's folder.

    .venv/bin/python -m pytest tests/book -q
"""
from __future__ import annotations

import json
import re

import pytest

from deepfab import lectures
from deepfab.book import build_book
from deepfab.runner import run_lecture


@pytest.fixture(scope="module")
def book(tmp_path_factory, fixture_lecture):
    runs = tmp_path_factory.mktemp("runs")
    for lid in ("L00", "L01"):
        assert run_lecture(fixture_lecture("lecture_ok", lid), out=runs / lid, smoke=True, seed=1, device="cpu") == 0
    out = tmp_path_factory.mktemp("site") / "book"
    build_book(out=out, runs=runs)
    return out


def _records(book) -> list[dict]:
    text = (book / "search-index.js").read_text(encoding="utf-8")
    assert text.startswith("window.DEEPFAB_SEARCH = ") and text.rstrip().endswith(";")
    return json.loads(text[len("window.DEEPFAB_SEARCH = "):].rstrip().rstrip(";"))


def test_lecture_pages_link_prev_next_index_and_search(book):
    first, second = (book / "L00.html").read_text(), (book / "L01.html").read_text()
    assert 'href="L01.html"' in first and 'href="L00.html"' not in first.split("book-bar", 2)[1][:400]
    assert 'href="L00.html"' in second and 'href="L01.html"' not in second.split("</nav>")[0]
    for page in (first, second):
        assert 'href="index.html"' in page and 'action="search.html"' in page
        assert page.count('class="book-bar"') == 2          # above the lecture and below it


def test_lecture_page_has_contents_folding_code_headline_and_notebook(book):
    page = (book / "L00.html").read_text()
    anchor = re.search(r'<nav class="toc"><ol><li class="h2"><a href="#([^"]+)">The normal equations', page)
    assert anchor and f'id="{anchor.group(1)}"' in page          # the contents link to a real heading
    assert page.count('<details class="code" open=""><summary>code</summary>') == 3   # three code cells
    assert "Headline results of this run" in page and "fit/weight_error" in page
    assert re.search(r'<a [^>]*href="L00.ipynb"[^>]*download|<a download[^>]*href="L00.ipynb"', page)
    notebook = json.loads((book / "L00.ipynb").read_text())
    assert notebook["nbformat"] == 4 and any(c["cell_type"] == "code" for c in notebook["cells"])
    assert "<math" in page


def test_search_index_holds_each_section_with_its_anchor(book):
    records = _records(book)
    assert {r["lecture"] for r in records} == {"L00", "L01"}
    normal = [r for r in records if r["heading"] == "The normal equations"]
    assert len(normal) == 2 and all(r["anchor"] for r in normal)
    assert all("Least squares minimizes" in r["text"] for r in normal)
    assert all("import numpy" not in r["text"] for r in records)          # code is not indexed, its outputs are
    assert any("weight error" in r["text"] for r in records)


def test_index_lists_seventeen_lectures_and_has_a_search_box(book):
    page = (book / "index.html").read_text()
    assert page.count('class="lec"') == len(lectures.LECTURES) == 17
    assert 'action="search.html"' in page and 'href="L01.ipynb" download' in page
    assert (book / "search.html").is_file() and (book / "search.js").is_file()


def test_rebuild_drops_pages_of_runs_that_are_gone(book, tmp_path):
    out = tmp_path / "again"
    build_book(out=out, runs=book.parent)        # a folder with no runs: every page is gone
    assert not (out / "L00.html").exists() and _records(out) == []


@pytest.mark.parametrize("width", [1280, 390], ids=["laptop", "phone"])
def test_pages_load_in_chromium_with_no_error_or_failed_request(book, browser, width, tmp_path):
    overflow = "document.documentElement.scrollWidth - window.innerWidth"
    for name in ("index.html", "L00.html", "L01.html", "search.html", "datasets.html"):
        rep = browser((book / name).as_uri(), width=width, evaluate=(overflow,),
                      screenshot=tmp_path / f"{name}-{width}.png")
        assert rep.console_errors == [] and rep.failed_requests == [], (name, rep.console_errors, rep.failed_requests)
        assert all(url.startswith(("file:", "data:")) for url in rep.requests), rep.requests
        if name != "datasets.html":          # README text in <pre> may scroll; pages must not
            assert rep.values[overflow] <= 1, f"{name} is wider than a {width}px screen"


def test_search_finds_a_section_offline_and_links_to_its_anchor(book, browser, tmp_path):
    rep = browser((book / "search.html").as_uri() + "?q=normal%20equations", screenshot=tmp_path / "search.png",
                  evaluate=("[...document.querySelectorAll('#results a')].map(a => a.getAttribute('href'))",))
    assert rep.console_errors == [] and rep.failed_requests == []
    assert "2 sections match “normal equations”" in rep.text
    links = rep.values["[...document.querySelectorAll('#results a')].map(a => a.getAttribute('href'))"]
    assert sorted(link.split("#")[0] for link in links) == ["L00.html", "L01.html"] and all("#" in x for x in links)
    none = browser((book / "search.html").as_uri() + "?q=zzqqxx")
    assert "0 sections match" in none.text
