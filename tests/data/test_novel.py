"""deepfab.data.novel: seeded, valid maps for every family, each measurably unlike WM-811K.

    .venv/bin/python -m pytest -q -p no:cacheprovider tests/data/test_novel.py
"""
from __future__ import annotations

import numpy as np
import pytest

from deepfab.data import DataError, load_wm811k
from deepfab.data.novel import ALL_FAMILIES, NOVEL_FAMILIES, REPORT_FAMILIES, make_novel, make_novel_set


@pytest.mark.parametrize("family", ALL_FAMILIES)
def test_every_family_gives_a_valid_seeded_map_and_region(family):
    m, region = make_novel(family, size=36, rng=0)
    assert m.dtype == np.uint8 and m.shape == (36, 36) and set(np.unique(m)) <= {0, 1, 2}
    assert region.dtype == bool and region.any() and not (region & (m == 0)).any()
    m2, r2 = make_novel(family, size=36, rng=0)
    assert np.array_equal(m, m2) and np.array_equal(region, r2)
    assert not np.array_equal(m, make_novel(family, size=36, rng=1)[0])
    clean, region = make_novel(family, size=36, rng=2, noise=0.0, density=1.0, holes=0.0)
    assert np.array_equal(clean == 2, region)                               # no noise: fails = the region


def test_family_geometry():
    _, half = make_novel("half", size=40, rng=0, noise=0.0, angle=0.0)
    assert half[:, 30:].mean() > 0.5 and not half[:, :12].any()            # u > ~0: the right side
    _, rows = make_novel("probe-card", size=40, rng=0, period=3, axis=0)
    on = np.flatnonzero(rows.any(1))
    assert len(set(np.diff(on))) == 1 and np.diff(on)[0] == 3               # every third row
    _, ret = make_novel("reticle", size=40, rng=0, period=(2, 4))
    ys, xs = np.nonzero(ret)
    assert len(set(ys % 2)) == 1 and len(set(xs % 4)) == 1                   # one die of every 2 x 4 shot


def test_report_family_geometry():
    _, shot = make_novel("shot", size=40, rng=0, period=(3, 2), density=1.0)
    ys, xs = np.nonzero(shot)
    blocks = {(y // 3, x // 2) for y, x in zip(ys - ys.min() % 3, xs - xs.min() % 2)}
    assert 2 <= len(blocks) <= 6 and len(ys) <= 6 * 3 * 2                    # whole 3 x 2 fields, two to six
    _, grad = make_novel("gradient", size=40, rng=0, angle=0.0)
    assert grad[:, 28:].mean() > 3 * grad[:, :12].mean()                     # more fails towards u = +1
    _, ring = make_novel("offset-ring", size=60, rng=0)
    cy, cx = np.argwhere(ring).mean(0)
    assert np.hypot(cy - 29.5, cx - 29.5) > 4                               # its centre is off the wafer's
    _, arm = make_novel("spiral", size=60, rng=0, noise=0.0)
    r = np.hypot(*(np.argwhere(arm) - 29.5).T) / 30
    assert r.min() < 0.3 and r.max() > 0.8                                   # from near the centre to the edge
    assert set(ALL_FAMILIES) == set(NOVEL_FAMILIES) | set(REPORT_FAMILIES)


def test_sets_sizes_labels_and_real_backgrounds():
    maps, masks, fam = make_novel_set(2, size=24, seed=0)
    assert maps.shape == (2 * len(NOVEL_FAMILIES), 24, 24) and np.bincount(fam).tolist() == [2] * len(NOVEL_FAMILIES)
    again, _, _ = make_novel_set(2, size=24, seed=0)
    assert np.array_equal(maps, again)
    bases = [np.where(np.hypot(*np.mgrid[-9:10, -10:11]) < 9, 1, 0).astype(np.uint8)]   # a 19 x 21 all-pass wafer
    bases[0][5, 5] = 2
    got, masks, _ = make_novel_set(3, families=["cross", "sector"], seed=1, bases=bases)
    for m, mk in zip(got, masks):
        assert m.shape == (19, 21) and np.array_equal(m > 0, bases[0] > 0)  # the base's die grid
        assert m[5, 5] == 2 and np.array_equal(m == 2, mk & (m == 2) | (bases[0] == 2))   # only adds fails
    with pytest.raises(DataError, match="unknown novel failure"):
        make_novel_set(1, families=["donut"])


def test_each_family_is_measurably_unlike_wm811k():
    """The k-th-neighbour distance of a map's fail autocorrelation to real WM-811K maps (train_1)
    separates each family, drawn on real ``none`` wafers, from other real maps (train_10)."""
    from deepfab.ood import MapTexture, ood_auroc

    ref, other = load_wm811k("train_1"), load_wm811k("train_10")
    rng = np.random.default_rng(0)
    ordinary = [other.maps[i] for i in rng.choice(len(other), 300, replace=False)]
    bases = [m for m, y in zip(other.maps, other.labels) if other.label_names[y] == "none"][:300]
    score = MapTexture(k=5).fit(ref.maps)
    s_in = score(ordinary)
    maps, _, fam = make_novel_set(25, families=ALL_FAMILIES, seed=0, bases=bases)
    s_out = score(maps)
    auroc = {f: ood_auroc(s_in, s_out[fam == k]) for k, f in enumerate(ALL_FAMILIES)}
    assert min(auroc.values()) > 0.75, auroc
