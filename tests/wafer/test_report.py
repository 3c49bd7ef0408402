"""``deepfab.wafer.report.by_grid``: scores by die grid, checked against counting by hand.

Run: .venv/bin/python -m pytest tests/wafer/test_report.py -q
"""
from __future__ import annotations

import numpy as np
import pytest

from deepfab.errors import DataError, UsageError
from deepfab.wafer.report import by_grid

NAMES = ["Center", "Loc", "none"]


def _maps(shapes):
    return [np.ones(s, np.uint8) for s in shapes]


def test_rows_by_grid_most_maps_first_then_the_rest_pooled():
    maps = _maps([(3, 4)] * 5 + [(5, 5)] * 3 + [(6, 6)] * 2 + [(7, 7)])
    y = np.array([0, 1, 2, 2, 2, 0, 2, 2, 1, 2, 0])
    p = np.array([0, 2, 2, 0, 2, 0, 2, 2, 1, 2, 2])
    flags = np.array([1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 1], bool)
    rows = by_grid(maps, y, p, NAMES, flags, top=2)
    assert [r["grid"] for r in rows] == ["3x4", "5x5", "other (2 grids)"]
    assert [r["maps"] for r in rows] == [5, 3, 3] and [r["defects"] for r in rows] == [2, 1, 2]
    first = rows[0]                                  # Loc called none once, none called Center once
    assert first["missed_defects"] == 1 and first["false_defects"] == 1
    assert first["accuracy"] == pytest.approx(3 / 5) and first["flagged"] == pytest.approx(1 / 5)
    # macro-F1 over Center, Loc, none: 2/3 (1 of 1 found, 1 of 2 calls right), 0 (never found), 2/3 (2 of 3
    # found, 2 of 3 calls right)
    assert first["macro_f1"] == pytest.approx((2 / 3 + 0 + 2 / 3) / 3)
    assert rows[1]["accuracy"] == 1.0 and rows[2]["missed_defects"] == 1 and rows[2]["flagged"] == pytest.approx(1 / 3)
    assert by_grid(maps, y, p, NAMES)[0]["flagged"] is None and len(by_grid(maps, y, p, NAMES)) == 4


def test_bad_input_is_refused():
    with pytest.raises(DataError, match="one label and one prediction per map"):
        by_grid(_maps([(3, 3)] * 2), [0], [0, 0], NAMES)
    with pytest.raises(DataError, match="one label and one prediction per map"):
        by_grid([], [], [], NAMES)
    with pytest.raises(UsageError, match="top must be a positive int"):
        by_grid(_maps([(3, 3)]), [0], [0], NAMES, top=0)
