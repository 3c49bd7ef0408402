"""Oracle tests of deepfab.scratch.info against scipy.special.rel_entr and scipy.stats.entropy.

Run: .venv/bin/python -m pytest tests/scratch/test_info.py -q
"""
import numpy as np
import pytest
from scipy.special import rel_entr
from scipy.stats import entropy as sp_entropy

from deepfab.scratch.info import cross_entropy, entropy, kl_divergence

RNG = np.random.default_rng(0)


def _pmf(n, zeros=0):
    p = RNG.random(n)
    p[RNG.choice(n, size=zeros, replace=False)] = 0.0
    return p / p.sum()


CASES = [(_pmf(5), _pmf(5)), (_pmf(8, zeros=3), _pmf(8)), (_pmf(6), _pmf(6, zeros=2)),
         (_pmf(10, zeros=4), _pmf(10, zeros=4)), (np.array([1.0, 0.0]), np.array([0.5, 0.5])),
         (_pmf(12).reshape(3, 4), _pmf(12).reshape(3, 4))]


@pytest.mark.parametrize("p, q", CASES)
def test_against_scipy(p, q):
    assert entropy(p) == pytest.approx(sp_entropy(p.ravel()), rel=1e-12, abs=1e-15)
    kl = rel_entr(p, q).sum()
    assert kl_divergence(p, q) == pytest.approx(kl, rel=1e-12, abs=1e-15)
    if np.isfinite(kl):
        assert kl_divergence(p, q) == pytest.approx(sp_entropy(p.ravel(), q.ravel()), rel=1e-12, abs=1e-15)
    # H(p, q) = H(p) + KL(p || q), infinite exactly when the KL is
    assert cross_entropy(p, q) == pytest.approx(sp_entropy(p.ravel()) + kl, rel=1e-12, abs=1e-15)


def test_zero_conventions_and_inf():
    p, q = np.array([0.5, 0.5, 0.0]), np.array([0.5, 0.0, 0.5])
    assert kl_divergence(p, q) == np.inf == rel_entr(p, q).sum()
    assert cross_entropy(p, q) == np.inf
    assert kl_divergence([1.0, 0.0, 0.0], q) == pytest.approx(np.log(2))  # p_i = 0 where q_i = 0: term 0
    assert entropy([0.0, 1.0]) == 0.0
    assert entropy(np.full(4, 0.25)) == pytest.approx(np.log(4))
    assert kl_divergence(p, p) == 0.0


@pytest.mark.parametrize("p, q, match", [
    ([0.5, 0.6], [0.5, 0.5], "sum to 1"),
    ([1.5, -0.5], [0.5, 0.5], "non-negative"),
    ([np.nan, 1.0], [0.5, 0.5], "finite"),
    ([], [], "empty"),
    ([0.5, 0.5], [0.2, 0.3, 0.5], "same shape"),
    ([0.5, 0.5], [0.2, 0.3], "q must sum"),
])
def test_invalid_pmf_raises(p, q, match):
    with pytest.raises(ValueError, match=match):
        kl_divergence(p, q)
    with pytest.raises(ValueError, match=match):
        cross_entropy(p, q)
