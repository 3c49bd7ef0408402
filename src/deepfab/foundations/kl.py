"""The properties of the KL divergence, checked numerically (lecture 0).

For probability mass functions p, q on n outcomes (Cover & Thomas, ch. 2):

    1. D_KL(p || q) != D_KL(q || p) in general (it is not a distance: not symmetric);
    2. D_KL(p || q) >= 0, with equality iff p = q (Gibbs' inequality, from Jensen's inequality
       applied to the concave log: -D_KL = sum p log(q/p) <= log sum q = 0);
    3. D_KL(p || q) = inf is possible: whenever q_i = 0 < p_i;
    4. D_KL(p || q) = H(p, q) - H(p).

``property_checks`` samples random pairs from a Dirichlet distribution and measures each claim
with the scratch ``deepfab.scratch.info`` functions, using ``scipy.stats.entropy`` as the oracle.

    from deepfab.foundations import kl
    checks = kl.property_checks(rng, n_pairs=2000, k=5)
    checks["min_kl"], checks["kl_to_zero_mass"]          # >= 0, inf
    pq, qp = kl.bernoulli_curves(0.3, np.linspace(0.01, 0.99, 99))

References:
    T. M. Cover and J. A. Thomas, "Elements of Information Theory", 2nd ed., §2.3, §2.6.
    S. Kullback and R. A. Leibler, "On information and sufficiency", Ann. Math. Statist. 22 (1951).
"""
from __future__ import annotations

import numpy as np

from ..errors import UsageError


def property_checks(rng: np.random.Generator, n_pairs: int = 2000, k: int = 5) -> dict:
    """Measure properties 1-4 over ``n_pairs`` random pmf pairs on ``k`` outcomes."""
    from scipy.stats import entropy as scipy_entropy

    from deepfab.scratch.info import cross_entropy, entropy, kl_divergence

    if n_pairs < 1 or k < 2:
        raise UsageError(f"need n_pairs >= 1 and k >= 2; got n_pairs={n_pairs}, k={k}")
    P = rng.dirichlet(np.ones(k), size=n_pairs)              # (n_pairs, k)
    Q = rng.dirichlet(np.ones(k), size=n_pairs)
    kl_pq = np.array([kl_divergence(p, q) for p, q in zip(P, Q)])
    kl_qp = np.array([kl_divergence(q, p) for p, q in zip(P, Q)])
    decomposition = np.array([cross_entropy(p, q) - entropy(p) for p, q in zip(P, Q)])
    oracle = scipy_entropy(P, Q, axis=1)                       # sum p log(p/q), in nats
    self_kl = np.array([kl_divergence(p, p) for p in P])
    p0 = np.r_[0.5, 0.5, np.zeros(k - 2)]
    q0 = np.r_[1.0, np.zeros(k - 1)]                           # q puts 0 where p puts 1/2
    return {
        "n_pairs": n_pairs,
        "min_kl": float(kl_pq.min()),                          # property 2: >= 0
        "n_negative": int(np.sum(kl_pq < 0)),
        "max_self_kl": float(np.max(np.abs(self_kl))),        # property 2: = 0 at p = q
        "median_asymmetry": float(np.median(np.abs(kl_pq - kl_qp))),   # property 1
        "frac_asymmetric": float(np.mean(np.abs(kl_pq - kl_qp) > 1e-9)),
        "kl_to_zero_mass": kl_divergence(p0, q0),              # property 3: inf
        "kl_from_zero_mass": kl_divergence(q0, p0),            # ... but the other way is finite
        "max_decomposition_gap": float(np.max(np.abs(kl_pq - decomposition))),   # property 4
        "max_scipy_gap": float(np.max(np.abs(kl_pq - oracle))),
    }


def bernoulli_curves(p: float, ts) -> tuple[np.ndarray, np.ndarray]:
    """D_KL(Bern(p) || Bern(t)) and D_KL(Bern(t) || Bern(p)) for each t in ``ts``."""
    from deepfab.scratch.info import kl_divergence

    if not 0.0 < p < 1.0:
        raise UsageError(f"p must be in (0, 1); got {p}")
    pq = np.array([kl_divergence([1 - p, p], [1 - t, t]) for t in ts])
    qp = np.array([kl_divergence([1 - t, t], [1 - p, p]) for t in ts])
    return pq, qp
