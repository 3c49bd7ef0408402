"""Randomization sets: exact label counts, pixel permutations that invert, noise of the right moments;
the sign correlation by brute force; the Rademacher bound by hand."""
from __future__ import annotations

import math

import numpy as np
import pytest

from deepfab.errors import UsageError
from deepfab.generalization.memorize import (
    SETS,
    gaussian_like,
    rademacher_bound,
    random_labels,
    randomized_sets,
    shuffle_pixels,
    sign_correlation,
)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.random((40, 3, 4, 4)).astype(np.float32)
    return X, rng.integers(0, 9, 40), rng.random((10, 3, 4, 4)).astype(np.float32), rng.integers(0, 9, 10)


def test_random_labels_keep_counts_exactly(data):
    _, y, _, _ = data
    r = random_labels(y, np.random.default_rng(1))
    np.testing.assert_array_equal(np.bincount(r, minlength=9), np.bincount(y, minlength=9))
    assert (r != y).mean() > 0.5


def test_shuffle_pixels_is_one_permutation_for_all(data):
    X = data[0]
    perm = np.random.default_rng(2).permutation(16)
    S = shuffle_pixels(X, perm)
    for i, c, k in [(0, 0, 0), (5, 2, 7), (39, 1, 15)]:
        assert S[i, c].reshape(-1)[k] == X[i, c].reshape(-1)[perm[k]]
    np.testing.assert_array_equal(shuffle_pixels(S, np.argsort(perm)), X)
    with pytest.raises(UsageError):
        shuffle_pixels(X, np.arange(15))


def test_gaussian_like_moments(data):
    G = gaussian_like(data[0], 4000, np.random.default_rng(3))
    np.testing.assert_allclose(G.mean(axis=(0, 2, 3)), data[0].mean(axis=(0, 2, 3)), atol=0.01)
    np.testing.assert_allclose(G.std(axis=(0, 2, 3)), data[0].std(axis=(0, 2, 3)), atol=0.01)


def test_randomized_sets(data):
    X, y, Xt, yt = data
    sets = randomized_sets(X, y, Xt, yt, seed=0)
    assert tuple(sets) == SETS
    for Xa, _, Xb, yb in sets.values():
        assert Xa.shape == X.shape and Xb.shape == Xt.shape and np.array_equal(yb, yt)
    assert np.array_equal(sets["true labels"][1], y) and np.array_equal(sets["shuffled pixels"][1], y)
    again = randomized_sets(X, y, Xt, yt, seed=0)
    assert all(np.array_equal(a, b) for k in SETS for a, b in zip(sets[k], again[k]))


def test_sign_correlation_brute_force():
    rng = np.random.default_rng(4)
    a, b = rng.integers(0, 9, 200), rng.integers(0, 9, 200)
    ref = sum((1 if u % 2 == 0 else -1) * (1 if v % 2 == 0 else -1) for u, v in zip(a, b)) / 200
    assert sign_correlation(a, b) == pytest.approx(ref)
    assert sign_correlation(a, a) == 1.0


def test_rademacher_bound():
    assert rademacher_bound(0.0, 1.0, 200, 0.05) == pytest.approx(2 + math.sqrt(math.log(20) / 400))
    with pytest.raises(UsageError) as e:
        rademacher_bound(0.0, 1.5, 200)
    assert "\n" not in str(e.value)


def test_bad_shapes_raise(data):
    X, y, Xt, yt = data
    with pytest.raises(UsageError):
        randomized_sets(X[:, 0], y, Xt, yt)
    with pytest.raises(UsageError):
        sign_correlation([1, 2], [1])
