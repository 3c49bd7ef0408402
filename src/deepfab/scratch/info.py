"""Entropy, cross-entropy and KL divergence of discrete distributions (lecture 0).

Lecture 0 uses them to explain why logistic regression and softmax classifiers minimise the
cross-entropy H(p, q) = H(p) + KL(p ‖ q): with the data distribution p fixed, minimising the
cross-entropy over the model q is minimising the KL divergence. All in nats (natural log), with
the conventions 0 · log 0 = 0 and 0 · log(0 / q) = 0, and p · log(p / 0) = +∞ for p > 0.

    H(p)      = −Σᵢ pᵢ log pᵢ
    H(p, q)   = −Σᵢ pᵢ log qᵢ
    KL(p ‖ q) =  Σᵢ pᵢ log(pᵢ / qᵢ)  ≥ 0, with equality iff p = q (Gibbs' inequality)

A pmf is any non-empty array (a joint pmf may be 2-D) of finite, non-negative numbers summing to 1
within ``atol``; anything else raises ``ValueError`` saying what was expected and what was got.

References: Cover & Thomas, "Elements of Information Theory", 2nd ed., ch. 2;
scipy.special.rel_entr and scipy.stats.entropy (the oracles in tests/scratch/test_info.py).
"""
from __future__ import annotations

import numpy as np

SUM_ATOL = 1e-6  # float32 histograms normalised by their count sum to 1 within ~1e-7


def check_pmf(p, name: str = "p", atol: float = SUM_ATOL) -> np.ndarray:
    """Return ``p`` as a float64 array after checking that it is a probability mass function."""
    arr = np.asarray(p, dtype=np.float64)
    if arr.size == 0:
        raise ValueError(f"{name} must be a non-empty probability vector; got an empty array")
    if not np.all(np.isfinite(arr)):
        bad = int(np.sum(~np.isfinite(arr)))
        raise ValueError(f"{name} must contain only finite numbers; got {bad} NaN/inf entries")
    if np.any(arr < 0):
        raise ValueError(f"{name} must be non-negative; got minimum {arr.min():.6g}")
    total = arr.sum()
    if abs(total - 1.0) > atol:
        raise ValueError(f"{name} must sum to 1 (within {atol:g}); got sum {total:.10g}")
    return arr


def _pair(p, q) -> tuple[np.ndarray, np.ndarray]:
    p, q = check_pmf(p, "p"), check_pmf(q, "q")
    if p.shape != q.shape:
        raise ValueError(f"p and q must have the same shape; got {p.shape} and {q.shape}")
    return p, q


def entropy(p) -> float:
    """Shannon entropy H(p) = −Σ pᵢ log pᵢ in nats (0 log 0 = 0); 0 ≤ H(p) ≤ log n."""
    p = check_pmf(p)
    nz = p > 0
    return float(-np.sum(p[nz] * np.log(p[nz])))


def cross_entropy(p, q) -> float:
    """Cross-entropy H(p, q) = −Σ pᵢ log qᵢ in nats; +∞ if some qᵢ = 0 < pᵢ."""
    p, q = _pair(p, q)
    nz = p > 0
    if np.any(q[nz] == 0):
        return float("inf")
    return float(-np.sum(p[nz] * np.log(q[nz])))


def kl_divergence(p, q) -> float:
    """KL(p ‖ q) = Σ pᵢ log(pᵢ / qᵢ) in nats; +∞ if some qᵢ = 0 < pᵢ; terms with pᵢ = 0 are 0."""
    p, q = _pair(p, q)
    nz = p > 0
    if np.any(q[nz] == 0):
        return float("inf")
    # log p - log q rather than log(p / q): no underflow of the ratio for tiny q
    return float(np.sum(p[nz] * (np.log(p[nz]) - np.log(q[nz]))))
