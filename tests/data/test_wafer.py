"""Wafer-map codec, resizer, duplicates, lot order, bad input (class weights: tests/train/test_losses.py)."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from deepfab.data import (
    DataError,
    WaferSet,
    dedup,
    encode_maps,
    find_duplicates,
    load_wm811k,
    lot_ordered_split,
    read_wafer_npz,
    write_wafer_npz,
)

wafer_map = st.tuples(st.integers(1, 40), st.integers(1, 40)).flatmap(
    lambda hw: arrays(np.uint8, hw, elements=st.integers(0, 2)))


@settings(max_examples=40, deadline=None)
@given(maps=st.lists(wafer_map, min_size=0, max_size=6), data=st.data())
def test_npz_roundtrip_is_identical(tmp_path_factory, maps, data):
    labels = np.array(data.draw(st.lists(st.integers(-1, 8), min_size=len(maps), max_size=len(maps))), np.int64)
    src = np.arange(len(maps), dtype=np.int64) * 7
    path = tmp_path_factory.mktemp("npz") / "maps.npz"
    write_wafer_npz(path, WaferSet(maps, labels, source_index=src))
    back = read_wafer_npz(path)
    assert len(back) == len(maps)
    assert all(a.shape == b.shape and np.array_equal(a, b) for a, b in zip(maps, back.maps))
    assert np.array_equal(back.labels, labels) and np.array_equal(back.source_index, src)


@settings(max_examples=60, deadline=None)
@given(m=wafer_map, size=st.integers(2, 48))
def test_resizer_properties(m, size):
    x = encode_maps([m], size)
    assert x.shape == (1, 2, size, size) and x.dtype == np.float32
    assert set(np.unique(x).tolist()) <= {0.0, 1.0}
    assert np.all(x[0, 1] <= x[0, 0])                       # fail dies lie on the wafer
    assert (x[0, 1].max() == 1) == bool((m == 2).any())     # a fail die anywhere leaves a fail pixel
    assert (x[0, 0].max() == 1) == bool((m > 0).any())


@settings(max_examples=40, deadline=None)
@given(m=wafer_map, size=st.integers(2, 48))
def test_density_channel_is_the_fail_fraction_of_each_cell(m, size):
    x2, x3 = encode_maps([m], size), encode_maps([m], size, density=True)
    assert x3.shape == (1, 3, size, size) and np.array_equal(x3[:, :2], x2)   # first two channels unchanged
    d = x3[0, 2]
    assert np.all((d >= 0) & (d <= 1 + 1e-6)) and np.all(d <= x3[0, 1])       # a fraction, 0 where no fail die
    if m.shape[0] >= size and m.shape[1] >= size:       # reference: count dies per adaptive-pool block by hand
        h, w = m.shape
        for i in range(size):
            for j in range(size):
                rows = slice(i * h // size, -(-(i + 1) * h // size))
                cols = slice(j * w // size, -(-(j + 1) * w // size))
                block = m[rows, cols]
                want = (block == 2).sum() / max((block > 0).sum(), 1)
                assert abs(d[i, j] - want) < 1e-5, (i, j, d[i, j], want)


def test_density_tells_sparse_fails_from_a_cluster_after_shrinking():
    sparse = np.ones((64, 64), np.uint8)
    sparse[::4, ::4] = 2                                 # 1 die in 16 fails, everywhere
    dense = np.ones((64, 64), np.uint8)
    dense[:, :] = 2                                      # every die fails
    a, b = encode_maps([sparse, dense], 16, density=True)
    assert np.array_equal(a[1], b[1])                    # the max-pooled fail channel cannot tell them apart
    assert np.allclose(a[2], 1 / 16) and np.allclose(b[2], 1.0)


def test_one_die_scratch_survives_4x_reduction_where_nearest_loses_it():
    import torch
    import torch.nn.functional as F

    m = np.ones((128, 128), np.uint8)
    for i in range(10, 118):            # a diagonal scratch one die wide, 108 dies long
        m[i, i + 3 if i < 115 else i] = 2
    pooled = encode_maps([m], 32)[0, 1]
    nearest = F.interpolate(torch.from_numpy((m == 2).astype(np.float32))[None, None], size=32,
                            mode="nearest")[0, 0].numpy()
    assert pooled.sum() >= 27           # ~108 / 4 cells along the diagonal
    assert nearest.sum() < 0.25 * pooled.sum()


def _bad(tmp_path, name, **arrays):
    path = tmp_path / name
    with open(path, "wb") as f:
        np.savez(f, **arrays)
    return path


def test_bad_npz_inputs_name_the_file(tmp_path):
    good = dict(maps_flat=np.ones(6, np.uint8), shapes=np.array([[2, 3]]), offsets=np.array([0, 6]))
    cases = {
        "empty.npz": None,
        "text.npz": b"not a zip at all",
        "trunc.npz": "truncate",
        "offsets.npz": dict(good, offsets=np.array([0, 5])),
        "values.npz": dict(good, maps_flat=np.array([0, 1, 2, 3, 1, 1], np.uint8)),
        "missing.npz": dict(shapes=good["shapes"], offsets=good["offsets"]),
        "labels.npz": dict(good, label=np.array([12])),
    }
    for name, content in cases.items():
        path = tmp_path / name
        if content is None:
            path.write_bytes(b"")
        elif isinstance(content, bytes):
            path.write_bytes(content)
        elif content == "truncate":
            _bad(tmp_path, "full.npz", **good)
            path.write_bytes((tmp_path / "full.npz").read_bytes()[:100])
        else:
            _bad(tmp_path, name, **content)
        with pytest.raises(DataError) as err:
            read_wafer_npz(path)
        assert str(path) in str(err.value) and "\n" not in str(err.value), name
    with pytest.raises(DataError, match="not an npz file"):
        read_wafer_npz(tmp_path / "text.npz")
    with pytest.raises(DataError, match="no such file"):
        read_wafer_npz(tmp_path / "absent.npz")
    with pytest.raises(DataError, match="unknown WM-811K split"):
        load_wm811k("train_2")


def test_find_duplicates_across_splits_and_conflicts():
    a, b, c = (np.full((5, 5), v, np.uint8) for v in (0, 1, 2))
    tr = WaferSet([a, b, b, c], np.array([0, 1, 1, 2]))
    te = WaferSet([a, c, np.eye(5, dtype=np.uint8)], np.array([0, 3, 4]))
    rep = find_duplicates({"train": tr, "test": te})
    assert len(rep.groups) == 3 and len(rep.conflicts) == 1
    assert rep.conflicts[0]["labels"] == ["Edge-Loc", "Edge-Ring"]
    assert rep.drop["train"].tolist() == [2, 3] and rep.drop["test"].tolist() == [0, 1]
    clean, _ = dedup({"train": tr, "test": te})
    assert len(clean["train"]) == 2 and len(clean["test"]) == 1


def test_shipped_splits_have_cross_split_duplicates():
    _, rep = dedup({"train_1": load_wm811k("train_1"), "val": load_wm811k("val")})
    assert all(len(g) >= 2 for g in rep.groups)


def test_lot_ordered_split_puts_latest_lots_in_val():
    ws = load_wm811k("train_10")
    fit, val = lot_ordered_split(ws, 0.25)
    assert len(fit) + len(val) == len(ws) and abs(len(val) - 0.25 * len(ws)) <= 1
    assert fit.source_index.max() < val.source_index.min()
    with pytest.raises(DataError):
        lot_ordered_split(WaferSet([np.ones((2, 2), np.uint8)], None), 0.5)


def test_wafer_dataset_from_waferset():
    from deepfab.data import WaferDataset

    ds = WaferDataset.from_waferset(load_wm811k("train_1"), size=16)
    x, y = ds[3]
    assert tuple(x.shape) == (2, 16, 16) and y.dtype.is_floating_point is False and len(ds) == 549
    with pytest.raises(DataError):
        WaferDataset(np.zeros((3, 16, 16)), [0, 1, 2])


def test_batched_encoding_equals_one_map_at_a_time():
    ws = load_wm811k("train_1")
    maps = ws.maps[:120]
    together = encode_maps(maps, 24)
    alone = np.concatenate([encode_maps([m], 24) for m in maps])
    assert np.array_equal(together, alone)
    with pytest.raises(DataError, match="non-empty 2-D"):
        encode_maps([np.zeros((0, 3), np.uint8)], 8)
