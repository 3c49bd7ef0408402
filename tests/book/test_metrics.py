"""The course book's index (deepfab.book): each lecture's headline metrics come first, in the order
its ``HEADLINE`` tuple names them; everything else folds into a <details>.

    .venv/bin/python -m pytest tests/test_book.py -q
"""
from __future__ import annotations

import re

import pytest

from deepfab import lectures
from deepfab.book import MAX_METRICS, headline_names, metrics_table

METRICS = {"a/first": 1.0, "b/dict": {"x": 2.0, "y": 3.0}, "timing/seconds": 9.0, "z/last": 4.0}


def test_headline_names_read_from_source_without_running(tmp_path):
    src = tmp_path / "l99_x.py"
    src.write_text('raise SystemExit("never run")\nHEADLINE = ("z/last", "b/dict/y")\nx = 1\n')
    assert headline_names(src) == ("z/last", "b/dict/y")
    src.write_text("x = 1\n")
    assert headline_names(src) == ()
    assert headline_names(tmp_path / "missing.py") == ()


def test_headline_rows_come_first_in_their_order_and_the_rest_folds():
    page = metrics_table(METRICS, ("z/last", "b/dict"))
    shown, folded = page.split("<details>")
    assert shown.index("z/last") < shown.index("b/dict/x") < shown.index("b/dict/y")
    assert "a/first" not in shown and "a/first" in folded and "timing/seconds" in folded
    assert "3 more metrics" not in page and "2 more metrics" in page


def test_without_headline_the_first_rows_show_as_before():
    page = metrics_table(METRICS, ("not/recorded",))
    assert "<details>" not in page                      # 5 rows, fewer than MAX_METRICS
    assert page.index("a/first") < page.index("timing/seconds")   # wall-clock numbers last
    many = {f"m{i:02d}": float(i) for i in range(MAX_METRICS + 3)}
    assert "3 more metrics" in metrics_table(many)


@pytest.mark.parametrize("lec", [lec for lec in lectures.available() if lec.number <= 7], ids=lambda lec: lec.id)
def test_lectures_name_their_headline_metrics(lec):
    names = headline_names(lec.path)
    assert 2 <= len(names) <= 10 and len(set(names)) == len(names)
    source = lec.path.read_text(encoding="utf-8")
    for name in names:       # each names a metric the lecture records (its first part is a string there)
        head = name.split("/")[0]
        assert re.search(rf"""['"]{re.escape(head)}[/'"]""", source), name
