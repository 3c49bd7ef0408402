"""Summaries, bootstrap intervals and paired tests of experiment rows (deepfab.experiment.stats)."""
from __future__ import annotations

import numpy as np
import pytest

from deepfab.experiment import bootstrap_macro_f1, paired_differences, recall_table, summarize, summary_table
from deepfab.experiment.stats import bootstrap_macro_f1_difference


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


CM = np.array([[40, 5, 5], [4, 30, 6], [2, 3, 15]])


def test_bootstrap_interval_brackets_the_point_estimate_and_shrinks_with_more_maps():
    from deepfab.train import classification_metrics

    k = 3
    pairs = np.repeat(np.arange(k * k), CM.ravel())
    point = classification_metrics(pairs // k, pairs % k)["macro_f1"]
    lo, hi = bootstrap_macro_f1(CM, n_boot=400, seed=0)
    assert lo < point < hi
    lo10, hi10 = bootstrap_macro_f1(CM * 10, n_boot=400, seed=0)
    assert hi10 - lo10 < 0.6 * (hi - lo)  # width ~ 1/sqrt(n): ten times the maps, ~0.32 the width
    assert bootstrap_macro_f1(CM, n_boot=50, seed=3) == bootstrap_macro_f1(CM, n_boot=50, seed=3)
    with pytest.raises(ValueError, match="square matrix"):
        bootstrap_macro_f1(np.ones((2, 3)))


def test_bootstrap_matches_a_naive_resampler_and_pools_seeds():
    """Reference: resample the (true, predicted) pairs of each run by hand, score with sklearn."""
    from sklearn.metrics import f1_score

    def naive(cms, n_boot, seed):
        rng = np.random.default_rng(seed)
        runs = [(np.repeat(np.arange(3), cm.sum(1)), np.concatenate([np.repeat(np.arange(3), r) for r in cm]))
                for cm in cms]
        scores = []
        for _ in range(n_boot):
            per_run = []
            for y, p in runs:
                i = rng.integers(0, len(y), len(y))
                per_run.append(f1_score(y[i], p[i], labels=[0, 1, 2], average="macro", zero_division=0))
            scores.append(np.mean(per_run))
        return tuple(np.quantile(scores, [0.025, 0.975]))

    assert bootstrap_macro_f1(CM, n_boot=60, seed=2) == pytest.approx(naive([CM], 60, 2))
    other = CM[:, ::-1] + 1
    pooled = bootstrap_macro_f1([CM, other], n_boot=60, seed=2)
    assert pooled == pytest.approx(naive([CM, other], 60, 2))
    rows = [{"variant": "a", "seed": s, "macro_f1": 0.5, "epochs_run": 1, "train_seconds": 1.0,
             "test": {"confusion": cm.tolist()}} for s, cm in enumerate((CM, other))]
    (s,) = summarize(rows, ("macro_f1",), n_boot=60, seed=2)
    assert (s["macro_f1_low"], s["macro_f1_high"]) == pooled


def test_summary_table_formats_spread_and_paired_columns():
    rows = [{"variant": v, "seed": s, "macro_f1": m, "accuracy": 0.5, "d4": 0.25, "epochs_run": 2,
             "train_seconds": 1.26}
            for v, s, m in (("baseline", 0, 0.5), ("baseline", 1, 0.6), ("x", 0, 0.7), ("x", 1, 0.7))]
    table = summary_table(summarize(rows, ("macro_f1", "accuracy", "d4")), paired_differences(rows),
                          means={"d4": "D4 agreement"})
    assert table[0] == {"variant": "baseline", "macro-F1": "0.550 ± 0.071", "accuracy": "0.500 ± 0.000",
                        "Δ macro-F1": "", "paired p": "", "D4 agreement": "0.250", "epochs": 2.0, "train s": 1.3}
    assert table[1]["Δ macro-F1"] == "+0.150" and table[1]["paired p"] == "0.20"  # t = 3, one degree of freedom


def test_paired_bootstrap_difference_matches_a_naive_resampler():
    """Reference: resample the maps by hand, score both prediction vectors on each draw with sklearn."""
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, 2000)
    a = np.where(rng.random(2000) < 0.8, y, rng.integers(0, 4, 2000))
    b = np.where(rng.random(2000) < 0.7, y, rng.integers(0, 4, 2000))
    d, lo, hi = bootstrap_macro_f1_difference(y, a, b, n_boot=80, seed=5)

    def f1(yy, pp):
        return f1_score(yy, pp, labels=[0, 1, 2, 3], average="macro", zero_division=0)

    assert d == pytest.approx(f1(y, a) - f1(y, b))
    draws = np.random.default_rng(5)
    ref = []
    for _ in range(80):
        i = draws.integers(0, 2000, 2000)
        ref.append(f1(y[i], a[i]) - f1(y[i], b[i]))
    assert (lo, hi) == pytest.approx(tuple(np.quantile(ref, [0.025, 0.975])))
    assert lo < d < hi and lo > 0                      # a is right on ~85 % of 2000 maps, b on ~78 %
    assert bootstrap_macro_f1_difference(y, a, a, n_boot=20) == (0.0, 0.0, 0.0)
    with pytest.raises(ValueError, match="equally long"):
        bootstrap_macro_f1_difference(y, a[:-1], b)
