"""Tests for deepfab.foundations.tabular: statistics from the training rows only, stratified splits."""
import numpy as np
import pytest

from deepfab.errors import DataError, UsageError
from deepfab.foundations.tabular import prepare, stratified_split


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
    imputed = np.where(np.isnan(X[:5, :3]), t.median, X[:5, :3])
    np.testing.assert_allclose(t.transform(X[:5, :3]), (imputed - t.mean) / t.std)
    t2 = prepare(X, y, test_size=0.3, seed=0)
    np.testing.assert_array_equal(t.X_test, t2.X_test)


def test_stratified_split_keeps_class_ratio():
    y = np.array([1] * 20 + [-1] * 180)
    tr, te = stratified_split(y, 0.25, np.random.default_rng(0))
    assert (y[te] == 1).sum() == 5 and len(te) == 50 and not set(tr) & set(te)


def test_bad_inputs_name_what_was_expected():
    with pytest.raises(UsageError, match="test_size"):
        stratified_split(np.array([1, -1]), 1.5, np.random.default_rng(0))
    with pytest.raises(DataError, match="expected X"):
        prepare(np.ones((3, 2)), np.ones(4))
    with pytest.raises(DataError, match="2 columns"):
        prepare(np.ones((3, 2)), np.ones(3), columns=["a"])
