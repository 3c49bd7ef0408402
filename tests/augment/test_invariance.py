"""Tests for deepfab.augment's ablation bookkeeping, invariance measures and figure helpers."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from deepfab.augment import (
    Variant,
    d4_agreement,
    d4_logits,
    dihedral,
    paired_differences,
    recall_table,
    stratified_subset,
    summarize,
    tta_predict,
)
from deepfab.augment.plots import render_map


class SymmetricNet(torch.nn.Module):
    """Logits from D4-invariant features (total fail count and centre fail count): exactly invariant."""

    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(2, 3)

    def forward(self, x):
        c = x.shape[-1] // 2
        feats = torch.stack([x[:, 1].sum((1, 2)), x[:, 1, c - 1:c + 1, c - 1:c + 1].sum((1, 2))], 1)
        return self.lin(feats)


class CornerNet(torch.nn.Module):
    """Looks at the top-left corner only: not invariant."""

    def forward(self, x):
        return torch.stack([x[:, 1, 0, 0], 1 - x[:, 1, 0, 0]], 1)


def test_d4_agreement_and_tta():
    torch.manual_seed(0)
    x = (torch.rand(50, 2, 8, 8) < 0.5).float()
    z = d4_logits(SymmetricNet(), x)
    assert z.shape == (8, 50, 3)
    assert d4_agreement(z) == 1.0
    z2 = d4_logits(CornerNet(), x)
    assert d4_agreement(z2) < 0.5
    # TTA equals the argmax of the hand-averaged softmax over the orbit
    probs = torch.stack([CornerNet()(dihedral(x, k)).softmax(-1) for k in range(8)]).mean(0)
    np.testing.assert_array_equal(tta_predict(z2), probs.argmax(-1).numpy())
    with pytest.raises(ValueError, match=r"\(8, N, classes\)"):
        d4_agreement(z2[:4])


def test_summarize_mean_and_sample_sd():
    rows = [{"variant": "a", "macro_f1": v, "accuracy": 0.5, "balanced_accuracy": 0.1, "epochs_run": 3,
             "train_seconds": 1.0} for v in (0.2, 0.4, 0.9)]
    rows.append({"variant": "b", "macro_f1": 0.7, "accuracy": 0.6, "balanced_accuracy": 0.2, "epochs_run": 2,
                 "train_seconds": 2.0})
    s = summarize(rows)
    assert [r["variant"] for r in s] == ["a", "b"]
    assert s[0]["macro_f1_mean"] == pytest.approx(0.5)
    assert s[0]["macro_f1_sd"] == pytest.approx(np.std([0.2, 0.4, 0.9], ddof=1))
    assert s[1]["macro_f1_sd"] == 0.0 and s[1]["seeds"] == 1


def test_paired_differences_match_scipy_ttest_rel():
    from scipy import stats

    rng = np.random.default_rng(0)
    base = rng.uniform(0.4, 0.6, 5)
    other = base + rng.normal(0.03, 0.01, 5)
    rows = [{"variant": "baseline", "seed": s, "macro_f1": v} for s, v in enumerate(base)]
    rows += [{"variant": "x", "seed": s, "macro_f1": v} for s, v in enumerate(other)][::-1]  # order must not matter
    (d,) = paired_differences(rows)
    ref = stats.ttest_rel(other, base)
    assert d["variant"] == "x" and d["n"] == 5
    assert d["diff_mean"] == pytest.approx(np.mean(other - base))
    assert d["t"] == pytest.approx(ref.statistic) and d["p"] == pytest.approx(ref.pvalue)
    one = paired_differences([r for r in rows if r["seed"] == 0])
    assert np.isnan(one[0]["p"]) and one[0]["diff_mean"] == pytest.approx(other[0] - base[0])
    with pytest.raises(ValueError, match="baseline"):
        paired_differences(rows, baseline="nope")


def test_recall_table_means():
    rows = [{"variant": "a", "recall/x": 0.0, "recall/y": 1.0}, {"variant": "a", "recall/x": 1.0, "recall/y": 1.0}]
    assert recall_table(rows) == [{"variant": "a", "x": 0.5, "y": 1.0}]


def test_variant_stacking():
    a = Variant("+dropout", model={"dropout": 0.3})
    b = Variant("+wd", config={"weight_decay": 1e-3})
    c = a + b
    assert c.model == {"dropout": 0.3} and c.config == {"weight_decay": 1e-3} and c.name == "+dropout +wd"
    with pytest.raises(ValueError, match="compose them first"):
        Variant("x", augment=lambda x, g: x) + Variant("y", augment=lambda x, g: x)


def test_stratified_subset_keeps_proportions_and_rare_classes():
    labels = np.array([0] * 900 + [1] * 95 + [2] * 5)
    idx = stratified_subset(labels, 100, seed=0)
    counts = np.bincount(labels[idx], minlength=3)
    assert counts.tolist() == [90, 10, 1]  # round(9.5) = 10 (to even), and a 5-member class keeps one
    assert len(set(idx.tolist())) == len(idx)
    np.testing.assert_array_equal(idx, stratified_subset(labels, 100, seed=0))
    assert not np.array_equal(idx, stratified_subset(labels, 100, seed=1))


def test_render_map_colours():
    x = np.zeros((2, 3, 3), dtype=np.float32)
    x[0, 1, :] = 1
    x[1, 1, 1] = 1
    rgb = render_map(x)
    assert rgb.shape == (3, 3, 3)
    np.testing.assert_allclose(rgb[0, 0], [1, 1, 1])       # off the wafer: white
    assert rgb[1, 1, 0] > rgb[1, 1, 1]                    # the fail die is red
    assert rgb[1, 0, 1] > rgb[1, 0, 0]                    # a pass die is green
    with pytest.raises(ValueError, match=r"\(2, S, S\)"):
        render_map(np.zeros((3, 4, 4)))


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


def test_run_ablation_trains_scores_and_repeats():
    from deepfab.augment import RandomDihedral, run_ablation

    train, val, test = _toy_data(96, 0), _toy_data(48, 1), _toy_data(64, 2)
    base = dict(epochs=2, batch_size=32, lr=1e-2, progress=False, device="cpu")
    variants = [Variant("baseline"),
                Variant("+es", augment=RandomDihedral(), config={"early_stopping_patience": 1}, model={"batchnorm": True})]
    kw = dict(seeds=[0], label_names=["top", "bottom"], model_kw={"num_classes": 2, "width": 4}, log=None,
              score=lambda m, t: {"n_test": len(t[1])})
    rows = run_ablation(variants, train, val, test, base, **kw)
    assert [(r["variant"], r["seed"]) for r in rows] == [("baseline", 0), ("+es", 0)]
    for r in rows:
        assert 0.0 <= r["macro_f1"] <= 1.0 and 0.0 <= r["accuracy"] <= 1.0
        assert set(k for k in r if k.startswith("recall/")) == {"recall/top", "recall/bottom"}
        assert r["n_test"] == 64
    # only the early-stopping run sees validation data (and so has a best epoch chosen on it)
    assert rows[0]["best_epoch"] == 2 and rows[0]["epochs_run"] == 2
    again = run_ablation(variants[:1], train, val, test, base, **kw)
    assert again[0]["macro_f1"] == rows[0]["macro_f1"] and again[0]["accuracy"] == rows[0]["accuracy"]
    with pytest.raises(ValueError, match="unique"):
        run_ablation([Variant("a"), Variant("a")], train, val, test, base, **kw)
