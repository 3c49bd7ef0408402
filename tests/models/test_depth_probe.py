"""The zoo comparison's data protocol and the residual-gradient probe (lecture 1).

Run: .venv/bin/python -m pytest tests/test_models_zoo_bench.py -q
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from deepfab.data import map_digest
from deepfab.models.depth_probe import grad_norm_vs_depth, stack
from deepfab.models.zoo_bench import capped_indices, compare_architectures, encode_cached, prepare_wm811k
from deepfab.train import TrainConfig

torch.set_num_threads(1)


def test_capped_indices_caps_each_class():
    labels = np.array([0] * 50 + [1] * 3 + [2] * 20)
    idx = capped_indices(labels, 10, np.random.default_rng(0), caps={2: 15})
    assert np.all(np.diff(idx) > 0)
    assert np.bincount(labels[idx]).tolist() == [10, 3, 15]
    again = capped_indices(labels, 10, np.random.default_rng(0), caps={2: 15})
    assert np.array_equal(idx, again)
    with pytest.raises(ValueError, match="per_class must be a positive int; got 0"):
        capped_indices(labels, 0, np.random.default_rng(0))


def test_encode_cached_reuses_file_and_matches(tmp_path):
    from deepfab.data import encode_maps, load_wm811k

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
def tiny():
    return prepare_wm811k(size=32, train_split="train_1", per_class=6, caps={"none": 9}, n_val=40, n_test=60, seed=1)


def test_prepare_wm811k_protocol(tiny):
    from deepfab.data import load_wm811k

    assert tiny.X_train.shape[1:] == (2, 32, 32) and tiny.X_train.dtype == np.float32
    counts = tiny.info["counts"]
    assert max(counts["train"]) <= 9 and counts["train"][tiny.label_names.index("none")] == 9
    assert sum(counts["val"]) == 40 and sum(counts["test"]) == 60
    # no chosen test map is byte-identical to any map of the training split or the chosen val maps
    rows = tiny.info["indices"]
    train_digests = {map_digest(m) for m in load_wm811k("train_1").maps}
    val_ws, test_ws = load_wm811k("val"), load_wm811k("test")
    test_digests = {map_digest(test_ws.maps[i]) for i in rows["test"]}
    assert len(test_digests) == 60
    assert not test_digests & (train_digests | {map_digest(val_ws.maps[i]) for i in rows["val"]})
    assert np.array_equal(tiny.y_test, test_ws.labels[rows["test"]])
    assert tiny.info["duplicates_dropped"]["test"] > 0  # WM-811K has copies across splits
    with pytest.raises(ValueError, match="caps names unknown classes"):
        prepare_wm811k(train_split="train_1", caps={"Ring": 3})
    with pytest.raises(ValueError, match="train_split must be a training split"):
        prepare_wm811k(train_split="test")


def test_compare_architectures_same_seed_same_numbers(tiny):
    cfg = TrainConfig(epochs=1, batch_size=16, lr=2e-3, seed=0, progress=False, device="cpu")
    a = compare_architectures(["lenet"], tiny, cfg)[0]
    b = compare_architectures(["lenet"], tiny, cfg)[0]
    assert a.test["macro_f1"] == b.test["macro_f1"] and a.history == b.history
    assert a.params == 61771 and a.test["n"] == 60 and a.train_seconds > 0


def test_residual_keeps_first_layer_gradient_bounded():
    from deepfab.data import encode_maps, load_wm811k

    ws = load_wm811k("train_1")
    x, y = torch.from_numpy(encode_maps(ws.maps[:32], 32)), torch.from_numpy(ws.labels[:32])
    g = {(r["kind"], r["depth"]): r["grad_norm"] for r in grad_norm_vs_depth(x, y, depths=(1, 24), width=8)}
    assert g[("plain", 24)] / g[("plain", 1)] > 20 * g[("residual", 24)] / g[("residual", 1)]
    torch.manual_seed(0)
    plain = stack(3, residual=False)
    torch.manual_seed(0)
    res = stack(3, residual=True)  # same weights: the two differ only by the shortcuts
    assert all(torch.equal(v, res.state_dict()[k]) for k, v in plain.state_dict().items())


def test_bootstrap_interval_brackets_the_point_estimate_and_shrinks_with_more_maps():
    from deepfab.models.zoo_bench import bootstrap_macro_f1
    from deepfab.train import classification_metrics

    cm = np.array([[40, 5, 5], [4, 30, 6], [2, 3, 15]])
    k = 3
    pairs = np.repeat(np.arange(k * k), cm.ravel())
    point = classification_metrics(pairs // k, pairs % k)["macro_f1"]
    lo, hi = bootstrap_macro_f1(cm, n_boot=400, seed=0)
    assert lo < point < hi
    lo10, hi10 = bootstrap_macro_f1(cm * 10, n_boot=400, seed=0)
    assert hi10 - lo10 < 0.6 * (hi - lo)  # width ~ 1/sqrt(n): ten times the maps, ~0.32 the width
    assert bootstrap_macro_f1(cm, n_boot=50, seed=3) == bootstrap_macro_f1(cm, n_boot=50, seed=3)
    with pytest.raises(ValueError, match="square matrix"):
        bootstrap_macro_f1(np.ones((2, 3)))
