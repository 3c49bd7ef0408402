"""Random-feature regression: the features by hand, interpolation past p = n, the peak at p = n,
the ridge that removes it, seeds that reproduce."""
from __future__ import annotations

import numpy as np
import pytest

from deepfab.errors import UsageError
from deepfab.generalization.random_features import (
    flat_standardized,
    linear_teacher,
    one_hot,
    peak_summary,
    random_feature_curve,
    relu_features,
)


def test_relu_features_by_hand():
    rng = np.random.default_rng(0)
    X, W = rng.standard_normal((3, 4)), rng.standard_normal((4, 5))
    ref = [[max(0.0, sum(X[i, k] * W[k, j] for k in range(4)) / 2.0) for j in range(5)] for i in range(3)]
    np.testing.assert_allclose(relu_features(X, W), ref, atol=1e-12)


def test_teacher_shares_beta_across_seeds():
    X, y = linear_teacher(50, 6, sigma=0.0, seed=0)
    Xt, yt = linear_teacher(50, 6, sigma=0.0, seed=1)
    beta = np.linalg.lstsq(X, y, rcond=None)[0]
    np.testing.assert_allclose(Xt @ beta, yt, atol=1e-10)
    assert np.linalg.norm(beta) == pytest.approx(1.0)


@pytest.fixture(scope="module")
def curve():
    X, y = linear_teacher(40, 10, sigma=0.5, seed=0)
    Xt, yt = linear_teacher(400, 10, sigma=0.5, seed=1)
    return random_feature_curve(X, y, Xt, yt, widths=[5, 20, 40, 80, 400], ridges=(0.0, 1.0), draws=8, seed=0)


def test_interpolates_past_threshold_and_peaks_at_it(curve):
    train = np.median(curve["train_mse"][0], axis=0)
    assert np.all(train[curve["widths"] >= 40] < 1e-12) and np.all(train[curve["widths"] < 40] > 1e-3)
    s = peak_summary(curve)
    assert s["peak_width"] == 40 and s["peak"] > 5 * s["last"] and s["peak"] > 5 * s["best_below"]


def test_ridge_flattens_the_peak(curve):
    peak_ridgeless = np.median(curve["test_mse"][0], axis=0)[2]
    peak_ridge = np.median(curve["test_mse"][1], axis=0)[2]
    assert peak_ridge < peak_ridgeless / 5


def test_seed_reproduces(curve):
    X, y = linear_teacher(40, 10, sigma=0.5, seed=0)
    Xt, yt = linear_teacher(400, 10, sigma=0.5, seed=1)
    again = random_feature_curve(X, y, Xt, yt, widths=[5, 20, 40, 80, 400], ridges=(0.0, 1.0), draws=8, seed=0)
    np.testing.assert_array_equal(again["test_mse"], curve["test_mse"])
    other = random_feature_curve(X, y, Xt, yt, widths=[5, 20, 40, 80, 400], ridges=(0.0, 1.0), draws=8, seed=1)
    assert not np.array_equal(other["test_mse"], curve["test_mse"])


def test_classification_targets_give_error_rate():
    rng = np.random.default_rng(0)
    X, Xt = rng.standard_normal((30, 5)), rng.standard_normal((50, 5))
    y, yt = (X[:, 0] > 0).astype(int), (Xt[:, 0] > 0).astype(int)
    c = random_feature_curve(X, one_hot(y, 2), Xt, one_hot(yt, 2), widths=[10, 200], draws=2)
    assert c["test_error"].shape == (1, 2, 2) and np.all((c["test_error"] >= 0) & (c["test_error"] <= 1))
    assert np.median(c["test_error"][0, :, 1]) < 0.3                 # the sign of x_0 is easy to learn


def test_flat_standardized_uses_training_stats():
    rng = np.random.default_rng(0)
    A, B = rng.normal(3, 2, (20, 2, 3, 3)), rng.normal(3, 2, (5, 2, 3, 3))
    A[:, 0, 0, 0] = 7.0                                               # a constant pixel
    a, b = flat_standardized(A, B)
    assert a.shape == (20, 18) and b.shape == (5, 18)
    np.testing.assert_allclose(a.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(a[:, 1:].std(0), 1, atol=1e-12)
    np.testing.assert_allclose(b[:, 5], (B.reshape(5, -1)[:, 5] - A.reshape(20, -1)[:, 5].mean())
                               / A.reshape(20, -1)[:, 5].std())


def test_bad_input_raises_one_line():
    with pytest.raises(UsageError) as e:
        random_feature_curve(np.ones((4, 3)), np.ones(4), np.ones((4, 2)), np.ones(4), widths=[2])
    assert "\n" not in str(e.value)
    with pytest.raises(UsageError):
        one_hot([0, 3], 3)
    with pytest.raises(UsageError):
        relu_features(np.ones((2, 3)), np.ones((2, 3)))
