"""deepfab.ood test sets (a)-(c) and the table: valid maps, seeded, what each promises.

    .venv/bin/python -m pytest -q -p no:cacheprovider tests/ood/test_testsets.py
"""
from __future__ import annotations

import numpy as np
import pytest

from deepfab.data import PreparedSplits, WaferSet
from deepfab.data.synthetic import PATTERNS, make_dataset
from deepfab.errors import DataError
from deepfab.ood import CORRUPTIONS, corrupt, holdout_classes, mixed_maps, novel_maps, ood_auroc, ood_table


def valid(m) -> bool:
    return m.ndim == 2 and m.dtype == np.uint8 and set(np.unique(m)) <= {0, 1, 2}


@pytest.fixture(scope="module")
def maps():
    return list(make_dataset(2, size=30, seed=0)[0])


@pytest.mark.parametrize("kind", CORRUPTIONS)
def test_corruptions_are_valid_seeded_and_grow_with_severity(maps, kind):
    a, b = corrupt(maps, kind, 3, seed=0), corrupt(maps, kind, 3, seed=0)
    assert all(valid(m) for m in a) and all(np.array_equal(x, y) for x, y in zip(a, b))
    assert all(not np.array_equal(x, m) for x, m in zip(a, maps))
    if kind != "wrong-grid":                                                 # same grid: compare die by die
        changed = [np.mean([(x != m).mean() for x, m in zip(corrupt(maps, kind, s, seed=0), maps)]) for s in (1, 5)]
        assert changed[1] > changed[0]
    with pytest.raises(DataError, match="severity"):
        corrupt(maps, kind, 6)


def test_corruptions_do_what_they_say(maps):
    m = maps[0]
    (inv,) = corrupt([m], "inverted", 5)
    assert np.array_equal(inv == 2, m == 1) and np.array_equal(inv == 0, m == 0)
    (wide,) = corrupt([m], "wrong-grid", 2)
    assert wide.shape[1] == m.shape[1] + 2 and wide.size <= m.size
    (salt,) = corrupt([m], "salt", 5, seed=1)
    assert ((salt == 2) >= (m == 2)).all() and (salt == 2).sum() > (m == 2).sum()
    with pytest.raises(DataError, match="unknown corruption"):
        corrupt([m], "blur")


def test_holdout_classes_removes_them_from_training_and_renumbers():
    sets = {}
    for k, seed in (("train", 0), ("val", 1), ("test", 2)):
        m, _, y = make_dataset(6, size=20, seed=seed)
        sets[k] = WaferSet(list(m), y, list(PATTERNS), name=k)
    wm = PreparedSplits.from_sets(sets)
    h = holdout_classes(wm, ["Donut", "Scratch"], train="train", train_rows=dict(per_class=4), seed=0)
    assert h.label_names == [n for n in PATTERNS if n not in ("Donut", "Scratch")]
    for ws in (h.train, h.val, h.test_in):
        assert set(ws.labels.tolist()) == set(range(7)) and ws.label_names == h.label_names
    assert len(h.train) == 7 * 4 and len(h.val) == len(h.test_in) == 7 * 6
    assert {PATTERNS[c] for c in h.test_out.labels} == {"Donut", "Scratch"} and len(h.test_out) == 12
    again = holdout_classes(wm, ["Donut", "Scratch"], train="train", train_rows=dict(per_class=4), seed=0)
    assert all(np.array_equal(a, b) for a, b in zip(again.train.maps, h.train.maps))
    with pytest.raises(DataError, match="held_out"):
        holdout_classes(wm, ["Ring"], train="train")
    maps, fam = novel_maps(h.test_in, n_per_family=2, families=["half", "stripes"], seed=0)
    bases = {m.shape for m, y in zip(h.test_in.maps, h.test_in.labels) if h.label_names[y] == "none"}
    assert len(maps) == 4 and fam.tolist() == [0, 0, 1, 1] and {m.shape for m in maps} <= bases


def test_mixed_maps_have_two_or_more_types():
    from deepfab.data import load_mixedwm38

    mixed = mixed_maps("test", n=40, seed=0)
    assert len(mixed) == 40 and all(valid(m) and m.shape == (52, 52) for m in mixed)
    assert all(np.array_equal(a, b) for a, b in zip(mixed, mixed_maps("test", n=40, seed=0)))
    ref = load_mixedwm38("test")
    digests = {m.tobytes(): y.sum() for m, y in zip(ref.X, ref.Y)}
    assert all(digests[m.tobytes()] >= 2 for m in mixed)


def test_ood_table_rows_equal_the_metrics_computed_by_hand(maps):
    score = {"fail share": lambda ms: np.array([(m == 2).sum() / max((m > 0).sum(), 1) for m in ms])}
    bad = corrupt(maps, "salt", 5, seed=0)
    rows = ood_table(score, maps, {"salt": bad, "same": maps})
    assert [(r["method"], r["set"]) for r in rows] == [("fail share", "salt"), ("fail share", "same")]
    s = score["fail share"]
    assert rows[0]["auroc"] == ood_auroc(s(maps), s(bad)) > 0.7 and rows[1]["auroc"] == 0.5
    assert rows[0]["n_in"] == len(maps) and 0.0 <= rows[0]["fpr95"] <= 1.0
