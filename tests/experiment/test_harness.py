"""The experiment harness trains variants x seeds into rows (deepfab.experiment.harness)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from deepfab.experiment import Variant, d4_agreement_score, run_variants, slug
from deepfab.train import TrainConfig

torch.set_num_threads(1)


def _toy_data(n, seed):
    """Two separable classes of 8x8 'wafers': fail dies in the top half vs the bottom half."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (n,), generator=g)
    x = torch.zeros(n, 2, 8, 8)
    x[:, 0] = 1.0
    noise = (torch.rand(n, 8, 8, generator=g) < 0.6).float()
    top = torch.zeros(8, 8)
    top[:4] = 1.0
    x[:, 1] = noise * torch.where(y[:, None, None] == 0, top, 1 - top)
    return x, y


TRAIN, VAL, TEST = _toy_data(96, 0), _toy_data(48, 1), _toy_data(64, 2)


def test_variant_stacking():
    a = Variant("+dropout", model={"dropout": 0.3})
    b = Variant("+wd", config={"weight_decay": 1e-3})
    c = a + b
    assert c.model == {"dropout": 0.3} and c.config == {"weight_decay": 1e-3} and c.name == "+dropout +wd"
    with pytest.raises(ValueError, match="compose them first"):
        Variant("x", augment=lambda x, g: x) + Variant("y", augment=lambda x, g: x)
    assert slug("+D4+rot+die noise") == "d4_rot_die_noise"


def test_run_variants_trains_scores_and_repeats():
    from deepfab.augment import RandomDihedral

    base = dict(epochs=2, batch_size=32, lr=1e-2, progress=False, device="cpu")
    variants = [Variant("baseline"),
                Variant("+es", augment=RandomDihedral(), config={"early_stopping_patience": 1},
                        model={"batchnorm": True})]
    kw = dict(seeds=[0], label_names=["top", "bottom"], model_kw={"width": 4}, log=None,
              score=lambda m, t: {"n_test": len(t[1])})
    rows = run_variants(variants, TRAIN, VAL, TEST, base, **kw)
    assert [(r["variant"], r["seed"]) for r in rows] == [("baseline", 0), ("+es", 0)]
    for r in rows:
        assert 0.0 <= r["macro_f1"] <= 1.0 and 0.0 <= r["accuracy"] <= 1.0
        assert set(k for k in r if k.startswith("recall/")) == {"recall/top", "recall/bottom"}
        assert r["n_test"] == 64
        assert r["test"]["n"] == 64 and np.sum(r["test"]["confusion"]) == 64 and len(r["history"]) == r["epochs_run"]
    # only the early-stopping run sees validation data (and so has a best epoch chosen on it)
    assert rows[0]["best_epoch"] == 2 and rows[0]["epochs_run"] == 2
    assert np.isnan(rows[0]["val_macro_f1"]) and np.isfinite(rows[1]["val_macro_f1"])
    again = run_variants(variants[:1], TRAIN, VAL, TEST, base, **kw)
    assert again[0]["macro_f1"] == rows[0]["macro_f1"] and again[0]["accuracy"] == rows[0]["accuracy"]
    with pytest.raises(ValueError, match="unique"):
        run_variants([Variant("a"), Variant("a")], TRAIN, VAL, TEST, base, **kw)


def test_a_variant_trains_on_its_own_dataset():
    base = dict(epochs=2, batch_size=32, lr=1e-2, progress=False, device="cpu")
    kw = dict(seeds=[0], label_names=["top", "bottom"], model_kw={"width": 4}, log=None)
    same = torch.utils.data.TensorDataset(*TRAIN)                    # the shared pair as a Dataset: same run
    flipped = torch.utils.data.TensorDataset(TRAIN[0], 1 - TRAIN[1])  # every label wrong: a different model
    rows = run_variants([Variant("pair"), Variant("dataset", data=same), Variant("flipped", data=flipped)],
                        TRAIN, VAL, TEST, base, **kw)
    assert rows[1]["macro_f1"] == rows[0]["macro_f1"] and rows[1]["accuracy"] == rows[0]["accuracy"]
    assert rows[2]["accuracy"] < 0.5 < rows[0]["accuracy"]
    assert (Variant("a", data=same) + Variant("b", config={"lr": 1e-3})).data is same
    with pytest.raises(ValueError, match="cannot stack two training datasets"):
        Variant("a", data=same) + Variant("b", data=flipped)


def test_architectures_same_seed_same_numbers():
    """An architecture comparison on prepared WM-811K maps: a TrainConfig, best validation epoch kept."""
    from deepfab.data import prepare

    wm = prepare({"train": "train_1", "val": "val", "test": "test"})
    rng = np.random.default_rng(1)
    rows = {"train": wm.rows("train", per_class=6, caps={"none": 9}, seed=rng),
            "val": wm.rows("val", n=40, stratify=False, seed=rng),
            "test": wm.rows("test", n=60, stratify=False, seed=rng)}
    data = [wm.encode(k, r, size=32) for k, r in rows.items()]
    cfg = TrainConfig(epochs=1, batch_size=16, lr=2e-3, seed=0, progress=False, device="cpu")
    a, b = (run_variants([Variant("lenet", arch="lenet")], *data, cfg, seeds=[cfg.seed], label_names=wm.label_names,
                         select_on_val=True, keep_models=True, log=None)[0] for _ in range(2))
    assert a["macro_f1"] == b["macro_f1"] and a["history"] == b["history"]
    assert a["params"] == 61771 and a["test"]["n"] == 60 and a["train_seconds"] > 0
    assert a["best_epoch"] == 1 and np.isfinite(a["val_macro_f1"]) and isinstance(a["model"], torch.nn.Module)
    assert a["macs"] > 0 and a["arch"] == "lenet"


def test_d4_agreement_score_uses_the_first_maps():
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(2 * 8 * 8, 2))
    out = d4_agreement_score(net, TEST, n_maps=10)
    assert set(out) == {"d4_agreement"} and 0.0 <= out["d4_agreement"] <= 1.0


def test_set_scores_and_rows_on_equal_evaluate():
    from deepfab.errors import UsageError
    from deepfab.experiment import rows_on, set_scores
    from deepfab.models import build_model
    from deepfab.train import evaluate

    X, y = TEST
    torch.manual_seed(0)
    model = build_model("small_cnn", 2, 2, width=4)
    names = ["top", "bottom"]
    score = set_scores({"late": (X[:6], y[:6]), "all": (X, y)}, names, device="cpu")
    cols = score(model, None)
    m = evaluate(model, (X, y), names, device="cpu")
    assert cols["all/macro_f1"] == m["macro_f1"] and cols["all/recall/bottom"] == m["per_class_recall"]["bottom"]
    row = {"variant": "v", "seed": 0, "macro_f1": -1.0, "recall/top": -1.0, **cols}
    (view,) = rows_on([row], "late")
    m6 = evaluate(model, (X[:6], y[:6]), names, device="cpu")
    assert view["macro_f1"] == m6["macro_f1"] and view["recall/top"] == m6["per_class_recall"]["top"]
    assert view["test"]["confusion"] == m6["confusion"] and view["variant"] == "v"
    with pytest.raises(UsageError, match="rows hold no scores on 'grids'"):
        rows_on([row], "grids")
