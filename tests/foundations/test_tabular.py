"""Tests for deepfab.theory.{tabular, metrics, datasets, mlp}."""
import numpy as np
import pytest

from deepfab.theory.datasets import rings, separable_2d
from deepfab.theory.metrics import binary_report
from deepfab.theory.mlp import fit_mlp, predict_scores
from deepfab.theory.tabular import prepare, stratified_split


def test_prepare_uses_training_statistics_only():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100, 4)) * [1, 10, 100, 0] + [0, 5, -3, 7]
    X[rng.random((100, 4)) < 0.1] = np.nan
    y = np.where(rng.random(100) < 0.2, 1, -1)
    t = prepare(X, y, test_size=0.3, seed=0, columns=["a", "b", "c", "d"])
    assert t.dropped == ["d"] and t.columns == ["a", "b", "c"]
    assert not np.isnan(t.X_train).any() and not np.isnan(t.X_test).any()
    np.testing.assert_allclose(t.X_train.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(t.X_train.std(0), 1, atol=1e-12)
    assert len(t.y_train) + len(t.y_test) == 100
    np.testing.assert_allclose(t.transform(X[:5, :3]), ((np.where(np.isnan(X[:5, :3]), t.median, X[:5, :3])) - t.mean) / t.std)
    t2 = prepare(X, y, test_size=0.3, seed=0)
    np.testing.assert_array_equal(t.X_test, t2.X_test)


def test_stratified_split_keeps_class_ratio():
    y = np.array([1] * 20 + [-1] * 180)
    tr, te = stratified_split(y, 0.25, np.random.default_rng(0))
    assert (y[te] == 1).sum() == 5 and len(te) == 50 and not set(tr) & set(te)


def test_binary_report_against_hand_counts():
    y = np.array([-1, -1, -1, -1, 1, 1])
    p = np.array([-1, -1, -1, 1, 1, -1])
    r = binary_report(y, p, scores=[0.1, 0.2, 0.3, 0.6, 0.9, 0.4])
    assert r["recall_pass"] == 0.75 and r["recall_fail"] == 0.5
    assert np.isclose(r["balanced_accuracy"], 0.625) and np.isclose(r["accuracy"], 4 / 6)
    f1_pass, f1_fail = 2 * 0.75 * 0.75 / 1.5, 2 * 0.5 * 0.5 / 1.0
    assert np.isclose(r["macro_f1"], (f1_pass + f1_fail) / 2)
    assert np.isclose(r["roc_auc"], 7 / 8)
    with pytest.raises(ValueError, match="labels must be in"):
        binary_report([0, 1], [0, 1])


def test_separable_data_has_the_margin():
    X, y, (a, b) = separable_2d(200, 0.2, np.random.default_rng(3))
    assert X.shape == (200, 2) and set(np.unique(y)) == {-1, 1}
    assert np.all(y * (X @ a + b) >= 0.2)


def test_mlp_solves_rings_where_a_line_cannot():
    rng = np.random.default_rng(4)
    X, y = rings(300, rng)
    model, hist = fit_mlp(X, y, hidden=(16, 16), epochs=40, lr=2e-2, batch_size=100, seed=0)
    acc = np.mean(np.where(predict_scores(model, X) > 0.5, 1, -1) == y)
    assert acc > 0.95 and hist[-1] < hist[0]
    model2, hist2 = fit_mlp(X, y, hidden=(16, 16), epochs=40, lr=2e-2, batch_size=100, seed=0)
    np.testing.assert_array_equal(hist, hist2)
