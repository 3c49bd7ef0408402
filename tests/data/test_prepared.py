"""The prepared WM-811K pipeline and the one subset rule (deepfab.data.prepared), checked against
naive copies of the subset rules the lectures used before, kept here as the reference."""
from __future__ import annotations

import numpy as np
import pytest

from deepfab.data import encode_maps, find_duplicates, load_wm811k, map_digest, prepare, stratified_indices
from deepfab.data.prepared import encode_cached
from deepfab.errors import DataError


def naive_proportional(labels, n, seed):
    """Reference: about n samples, each class in proportion (at least one), one generator in class order."""
    labels = np.asarray(labels)
    if n >= len(labels):
        return np.arange(len(labels))
    rng = np.random.default_rng(seed)
    picks = []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        k = max(1, int(round(n * len(idx) / len(labels))))
        picks.append(rng.choice(idx, size=min(k, len(idx)), replace=False))
    return np.sort(np.concatenate(picks))


def naive_capped(labels, per_class, rng, caps=None):
    """Reference: at most per_class of each class (caps: class -> own cap), drawn from a given generator."""
    caps = caps or {}
    keep = [rng.choice(idx, min(caps.get(int(c), per_class), idx.size), replace=False)
            for c in np.unique(labels) for idx in [np.flatnonzero(labels == c)]]
    return np.sort(np.concatenate(keep))


LABEL_SETS = {
    "skewed": np.array([0] * 900 + [1] * 95 + [2] * 5),
    "shuffled, a gap": np.random.default_rng(3).permutation(np.array([0] * 40 + [2] * 7 + [5] * 130 + [8] * 1)),
    "wm811k train_1": load_wm811k("train_1").labels,
}


@pytest.mark.parametrize("labels", LABEL_SETS.values(), ids=LABEL_SETS.keys())
@pytest.mark.parametrize("n", [1, 7, 100, 300, 5000])
@pytest.mark.parametrize("seed", [0, 1, 17])
def test_proportional_subset_matches_reference(labels, n, seed):
    np.testing.assert_array_equal(stratified_indices(labels, n=n, seed=seed), naive_proportional(labels, n, seed))


@pytest.mark.parametrize("labels", LABEL_SETS.values(), ids=LABEL_SETS.keys())
@pytest.mark.parametrize("per_class,caps", [(1, None), (10, None), (10, {0: 15}), (3, {2: 50, 8: 1}), (1000, None)])
def test_capped_subset_matches_reference_and_advances_a_shared_generator(labels, per_class, caps):
    ours, ref = np.random.default_rng(5), np.random.default_rng(5)
    np.testing.assert_array_equal(stratified_indices(labels, per_class=per_class, caps=caps, seed=ours),
                                  naive_capped(labels, per_class, ref, caps))
    assert ours.integers(1 << 30) == ref.integers(1 << 30)  # the same draws were used up
    np.testing.assert_array_equal(stratified_indices(labels, per_class=per_class, caps=caps, seed=5),
                                  naive_capped(labels, per_class, np.random.default_rng(5), caps))


def test_capped_indices_caps_each_class():
    labels = np.array([0] * 50 + [1] * 3 + [2] * 20)
    idx = stratified_indices(labels, per_class=10, caps={2: 15}, seed=np.random.default_rng(0))
    assert np.all(np.diff(idx) > 0)
    assert np.bincount(labels[idx]).tolist() == [10, 3, 15]
    again = stratified_indices(labels, per_class=10, caps={2: 15}, seed=np.random.default_rng(0))
    assert np.array_equal(idx, again)
    with pytest.raises(ValueError, match="per_class must be a positive int; got 0"):
        stratified_indices(labels, per_class=0)


def test_stratified_subset_keeps_proportions_and_rare_classes():
    labels = np.array([0] * 900 + [1] * 95 + [2] * 5)
    idx = stratified_indices(labels, n=100, seed=0)
    counts = np.bincount(labels[idx], minlength=3)
    assert counts.tolist() == [90, 10, 1]  # round(9.5) = 10 (to even), and a 5-member class keeps one
    assert len(set(idx.tolist())) == len(idx)
    np.testing.assert_array_equal(idx, stratified_indices(labels, n=100, seed=0))
    assert not np.array_equal(idx, stratified_indices(labels, n=100, seed=1))


def test_stratified_indices_rejects_mixed_or_bad_requests():
    labels = np.array([0, 0, 1])
    np.testing.assert_array_equal(stratified_indices(labels), [0, 1, 2])  # no limit: every index
    with pytest.raises(DataError, match="not both"):
        stratified_indices(labels, n=2, per_class=1)
    with pytest.raises(DataError, match="caps needs per_class"):
        stratified_indices(labels, caps={0: 1})
    with pytest.raises(DataError, match="n must be a positive int; got 0"):
        stratified_indices(labels, n=0)


def test_encode_cached_reuses_file_and_matches(tmp_path):
    maps = load_wm811k("train_1").maps[:5]
    a = encode_cached(maps, 32, "t", tmp_path)
    files = list(tmp_path.glob("t_s32_*.npy"))
    assert len(files) == 1
    b = encode_cached(maps, 32, "t", tmp_path)
    assert np.array_equal(a, b) and np.array_equal(a, encode_maps(maps, 32))
    encode_cached(maps[:4], 32, "t", tmp_path)  # other maps: another file, never the stale one
    assert len(list(tmp_path.glob("t_s32_*.npy"))) == 2
    d = encode_cached(maps, 32, "t", tmp_path, density=True)   # the density encoding has its own file
    assert d.shape == (5, 3, 32, 32) and np.array_equal(d, encode_maps(maps, 32, density=True))
    assert len(list(tmp_path.glob("t_s32d_*.npy"))) == 1 and np.array_equal(d[:, :2], a)


@pytest.fixture(scope="module")
def wm():
    return prepare({"train": "train_1", "val": "val", "test": "test"})


def test_prepared_protocol(wm):
    """Capped training set, uniform val/test subsets from one generator, all de-duplicated."""
    rng = np.random.default_rng(1)
    rows = {"train": wm.rows("train", per_class=6, caps={"none": 9}, seed=rng),
            "val": wm.rows("val", n=40, stratify=False, seed=rng),
            "test": wm.rows("test", n=60, stratify=False, seed=rng)}
    arrays = {k: wm.encode(k, r, size=32) for k, r in rows.items()}
    x_train, y_train = arrays["train"]
    assert x_train.shape[1:] == (2, 32, 32) and x_train.dtype == np.float32 and y_train.dtype == np.int64
    counts = {row["split"]: [row[c] for c in wm.label_names]
              for row in wm.count_table({k: y for k, (_, y) in arrays.items()})}
    assert max(counts["train"]) <= 9 and counts["train"][wm.label_names.index("none")] == 9
    assert sum(counts["val"]) == 40 and sum(counts["test"]) == 60
    # no chosen test map is byte-identical to any map of the training split or the chosen val maps
    train_digests = {map_digest(m) for m in load_wm811k("train_1").maps}
    test_digests = {map_digest(wm["test"].maps[i]) for i in rows["test"]}
    assert len(test_digests) == 60
    assert not test_digests & (train_digests | {map_digest(wm["val"].maps[i]) for i in rows["val"]})
    assert np.array_equal(arrays["test"][1], wm["test"].labels[rows["test"]])
    assert len(wm.report.drop["test"]) > 0  # WM-811K has copies across splits
    with pytest.raises(ValueError, match="caps names unknown classes"):
        wm.rows("train", per_class=3, caps={"Ring": 3})
    with pytest.raises(ValueError, match="each split once"):
        prepare({"train": "test", "val": "val", "test": "test"})


def test_prepared_rows_match_the_reference_protocol(wm):
    """The same seed picks the same maps as the reference: caps on the kept training rows, then
    uniform val and test rows, from one generator; rows index the de-duplicated splits."""
    raw = {k: load_wm811k(s) for k, s in (("train", "train_1"), ("val", "val"), ("test", "test"))}
    rep = find_duplicates(raw)
    keep = {k: np.setdiff1d(np.arange(len(ws)), rep.drop[k]) for k, ws in raw.items()}
    ref = np.random.default_rng(4)
    names = raw["train"].label_names
    tr = keep["train"][naive_capped(raw["train"].labels[keep["train"]], 5, ref, {names.index("none"): 8})]
    va = np.sort(ref.choice(keep["val"], 50, replace=False))
    te = np.sort(ref.choice(keep["test"], 70, replace=False))
    rng = np.random.default_rng(4)
    ours = [wm.rows("train", per_class=5, caps={"none": 8}, seed=rng), wm.rows("val", n=50, stratify=False, seed=rng),
            wm.rows("test", n=70, stratify=False, seed=rng)]
    for key, mine, theirs in zip(("train", "val", "test"), ours, (tr, va, te)):
        np.testing.assert_array_equal(keep[key][mine], theirs)


def test_encode_tensors_and_lot_split(wm):
    import torch

    x, y = wm.encode("val", wm.rows("val", n=30, seed=0), size=16, density=True, tensors=True)
    assert isinstance(x, torch.Tensor) and x.shape == (len(y), 3, 16, 16) and y.dtype == torch.int64
    split = wm.lot_split("train", 0.25, into=("fit", "late"))
    assert list(split.sets) == ["fit", "late", "val", "test"]
    assert len(split["fit"]) + len(split["late"]) == len(wm["train"])
    assert split["fit"].source_index.max() <= split["late"].source_index.min()
    with pytest.raises(DataError, match="no split 'train'"):
        split.rows("train")


def test_within_false_keeps_repeats_inside_a_split_and_drops_later_copies():
    """``within=False``: a later split loses its copies of earlier maps; repeats inside one split,
    even with conflicting labels, stay (the semantics of ``deepfab wafer train``'s validation)."""
    from deepfab.data import PreparedSplits, WaferSet

    a, b, c = (np.full((3, 3), v, dtype=np.uint8) for v in (0, 1, 2))
    names = ["x", "y"]
    train = WaferSet([a, a, b], np.array([0, 1, 0]), names, name="train")      # a twice, labels disagree
    val = WaferSet([b, c, c, a], np.array([0, 1, 1, 0]), names, name="val")    # b and a are copies of train maps
    prep = PreparedSplits.from_sets({"train": train, "val": val}, within=False)
    assert len(prep["train"]) == 3
    assert [map_digest(m) for m in prep["val"].maps] == [map_digest(c)] * 2
    assert prep.report.drop["val"].tolist() == [0, 3] and prep.report.drop["train"].tolist() == []
    strict = PreparedSplits.from_sets({"train": train, "val": val})             # the lectures' protocol
    assert len(strict["train"]) == 1 and len(strict["val"]) == 1                # a (conflict) and copies go
