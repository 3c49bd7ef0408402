"""deepfab.generative.gan_metrics: the Frechet distance equals a direct computation with scipy.linalg.sqrtm,
precision and recall equal a brute-force k-NN manifold test, the ring's mode counts match what the samples are.

    .venv/bin/python -m pytest -q -p no:cacheprovider tests/generative/test_gan_metrics.py
"""
from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg

from deepfab.errors import DataError
from deepfab.generative.gan_metrics import (
    class_consistency,
    frechet_distance,
    knn_radii,
    precision_recall,
    ring_centers,
    ring_modes,
    sample_ring,
)


def _direct_fd(a, b):
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = scipy.linalg.sqrtm(s1 @ s2).real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * root))


@pytest.mark.parametrize("n, d", [(60, 5), (200, 12), (40, 30)])
def test_frechet_distance_equals_scipy_sqrtm(n, d):
    rng = np.random.default_rng(d)
    a = rng.standard_normal((n, d)) @ rng.standard_normal((d, d))
    b = 0.5 + rng.standard_normal((n + 7, d)) @ rng.standard_normal((d, d))
    assert frechet_distance(a, b) == pytest.approx(_direct_fd(a, b), rel=1e-6)
    assert frechet_distance(a, b) == pytest.approx(frechet_distance(b, a), rel=1e-8)


def test_frechet_distance_of_a_shift_is_the_squared_shift():
    a = np.random.default_rng(0).standard_normal((100, 4))
    shift = np.array([1.0, -2.0, 0.5, 0.0])
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-9)
    assert frechet_distance(a, a + shift) == pytest.approx((shift ** 2).sum(), rel=1e-9)
    with pytest.raises(DataError):
        frechet_distance(a, a[:, :3])


def _brute_pr(real, fake, k):
    def radius(s, i):
        d = sorted(np.linalg.norm(s[i] - s[j]) for j in range(len(s)) if j != i)
        return d[k - 1]

    def share(q, s):
        r = [radius(s, i) for i in range(len(s))]
        return np.mean([any(np.linalg.norm(x - s[j]) <= r[j] for j in range(len(s))) for x in q])

    return share(fake, real), share(real, fake)


@pytest.mark.parametrize("k", [1, 3])
def test_precision_recall_equals_brute_force(k):
    rng = np.random.default_rng(k)
    real = rng.standard_normal((30, 3))
    fake = np.concatenate([rng.standard_normal((15, 3)), 3 + rng.standard_normal((10, 3))])   # 10 far off
    pr = precision_recall(real, fake, k=k)
    p, r = _brute_pr(real, fake, k)
    assert pr["precision"] == pytest.approx(p) and pr["recall"] == pytest.approx(r)
    assert pr["precision"] <= 0.7                                         # the 10 far-off fakes are outside
    assert knn_radii(real, k)[0] == pytest.approx(sorted(np.linalg.norm(real[0] - real[1:], axis=1))[k - 1])


def test_precision_and_recall_see_collapse():
    rng = np.random.default_rng(0)
    real = rng.standard_normal((300, 2))
    collapsed = 0.1 * rng.standard_normal((300, 2))                      # realistic, but only the centre
    pr = precision_recall(real, collapsed)
    assert pr["precision"] > 0.95 and pr["recall"] < 0.3


def test_ring_modes_of_the_ring_itself_and_of_a_collapse():
    pts = sample_ring(4000, std=0.02, seed=1)
    m = ring_modes(pts)
    assert m["modes"] == 8 and sum(m["counts"]) == round(m["high_quality"] * 4000)
    assert m["high_quality"] == pytest.approx(1 - np.exp(-4.5), abs=0.01)   # P(|N2(0, s^2 I)| <= 3 s)
    one = ring_centers()[[2]] + 0.02 * np.random.default_rng(0).standard_normal((500, 2))
    assert ring_modes(one)["modes"] == 1 and ring_modes(one)["reached"] == 1
    blur = ring_modes(sample_ring(4000, std=0.3, seed=2))                 # every mode reached, few samples sharp
    assert blur["high_quality"] < 0.1 and blur["reached"] == 8 and blur["modes"] < 8
    with pytest.raises(DataError):
        ring_modes(np.zeros((5, 3)))


def test_class_consistency():
    out = class_consistency([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 2, 0], ["a", "b", "c", "d"])
    assert out["a"] == 0.5 and out["b"] == 0.5 and out["c"] == 1.0 and np.isnan(out["d"])
    assert out["mean"] == pytest.approx(2 / 3)
