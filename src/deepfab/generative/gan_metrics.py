"""How good is a generated set? Frechet distance, precision and recall, modes of a toy ring, class consistency.

Introduced in lecture 7 (generative adversarial networks), used again in lecture 8. Every measure
takes plain arrays: features of real and generated samples in some feature space (the caller
chooses it: lecture 7 uses the penultimate layer of the wafer classifier), or 2-D points.

    from deepfab.generative.gan_metrics import frechet_distance, precision_recall, ring_modes, sample_ring
    fd = frechet_distance(feat_real, feat_fake)           # (N, D), (M, D) -> float, 0 for equal Gaussians
    pr = precision_recall(feat_real, feat_fake, k=3)      # {"precision": ..., "recall": ...}
    pts = sample_ring(2000, seed=0)                       # (2000, 2): eight Gaussians on a circle
    ring_modes(generated_points)                          # {"modes": 8, "high_quality": 0.93, "reached": 8, ...}

**Frechet distance** (Heusel et al. 2017, "FID" when the features are Inception's): fit a Gaussian
to each feature set and take the 2-Wasserstein distance between the two Gaussians,

    FD = ||mu_r - mu_g||^2 + Tr(S_r + S_g - 2 (S_r S_g)^(1/2)).

The trace of the matrix square root is computed from the symmetric matrix S_r^(1/2) S_g S_r^(1/2),
which has the same eigenvalues as S_r S_g (no complex parts to discard, as ``scipy.linalg.sqrtm``
of the product has). FD has a positive bias that grows with D / N: compare numbers of one sample
size only, and beside the same number for two real sets (the floor).

**Precision and recall** (Kynkaanniemi et al. 2019): the real manifold is the union of balls
around each real feature whose radius is the distance to its k-th nearest real neighbour; precision
is the share of generated samples inside it (are the samples realistic?), recall the share of real
samples inside the generated manifold built the same way (is the variety covered?).

**Ring of eight Gaussians** (Metz et al. 2017): modes at radius 2, std 0.02. A sample is of high
quality when it lies within 3 std of its nearest mode; a mode is covered when at least
``min_share`` of the samples are high-quality samples of it, and reached when it is the nearest
mode of at least ``min_share`` of the samples (a blurred ring reaches every mode and covers none).

**Class consistency**: the share of maps generated for class c that a classifier calls c.

References:
    M. Heusel et al., "GANs Trained by a Two Time-Scale Update Rule Converge to a Local Nash
    Equilibrium" (FID), NeurIPS 2017.
    D. C. Dowson, B. V. Landau, "The Frechet distance between multivariate normal distributions",
    J. Multivariate Anal. 12, 1982.
    T. Kynkaanniemi et al., "Improved Precision and Recall Metric for Assessing Generative Models",
    NeurIPS 2019.
    L. Metz et al., "Unrolled Generative Adversarial Networks", ICLR 2017 (the ring, mode counts).
    A. Srivastava et al., "VEEGAN", NeurIPS 2017 (high-quality samples within 3 std).
"""
from __future__ import annotations

import numpy as np

from ..errors import DataError


def _features(a, name: str, min_rows: int = 2) -> np.ndarray:
    a = np.asarray(a.detach().cpu() if hasattr(a, "detach") else a, dtype=np.float64)
    if a.ndim != 2 or len(a) < min_rows or not np.isfinite(a).all():
        raise DataError(f"{name} must be finite features (N, D) with N >= {min_rows}; got shape {a.shape}")
    return a


def gaussian_stats(features) -> tuple[np.ndarray, np.ndarray]:
    """Mean (D,) and covariance (D, D) (unbiased, ddof = 1) of features (N, D)."""
    f = _features(features, "features")
    return f.mean(0), np.cov(f, rowvar=False).reshape(f.shape[1], f.shape[1])


def _psd_sqrt(s: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh((s + s.T) / 2)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def frechet_from_stats(mu1, s1, mu2, s2) -> float:
    """||mu1 - mu2||^2 + Tr(s1 + s2 - 2 (s1 s2)^(1/2)), via the eigenvalues of s1^(1/2) s2 s1^(1/2)."""
    r = _psd_sqrt(np.asarray(s1, np.float64))
    m = r @ np.asarray(s2, np.float64) @ r                                # (D, D) symmetric PSD, eig(m) = eig(s1 s2)
    tr_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh((m + m.T) / 2), 0, None)).sum()
    diff = np.asarray(mu1, np.float64) - np.asarray(mu2, np.float64)
    return float(max(0.0, diff @ diff + np.trace(s1) + np.trace(s2) - 2 * tr_sqrt))


def frechet_distance(features_a, features_b) -> float:
    """Frechet distance between Gaussians fitted to two feature sets (N, D) and (M, D)."""
    a, b = _features(features_a, "features_a"), _features(features_b, "features_b")
    if a.shape[1] != b.shape[1]:
        raise DataError(f"feature sets must have the same width D; got {a.shape[1]} and {b.shape[1]}")
    return frechet_from_stats(*gaussian_stats(a), *gaussian_stats(b))


def _sq_dists(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T   # (N, M)
    return np.clip(d, 0, None)


def knn_radii(features, k: int = 3) -> np.ndarray:
    """(N,) distance of each point to its k-th nearest other point of the same set."""
    f = _features(features, "features", k + 1)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise DataError(f"k must be a positive int; got {k!r}")
    out = np.empty(len(f))
    for s in range(0, len(f), 1024):
        d = _sq_dists(f[s:s + 1024], f)                                   # (B, N)
        d[np.arange(len(d)), np.arange(s, s + len(d))] = np.inf           # leave the point itself out
        out[s:s + len(d)] = np.sqrt(np.partition(d, k - 1, axis=1)[:, k - 1])
    return out


def manifold_share(queries, support, k: int = 3) -> float:
    """Share of ``queries`` (M, D) inside the k-NN manifold of ``support`` (N, D): some support point j
    with ||q - s_j|| <= radius_j."""
    q, s = _features(queries, "queries", 1), _features(support, "support", k + 1)
    radii2 = knn_radii(s, k) ** 2                                          # (N,)
    inside = np.zeros(len(q), bool)
    for a in range(0, len(q), 1024):
        inside[a:a + 1024] = (_sq_dists(q[a:a + 1024], s) <= radii2[None, :]).any(1)
    return float(inside.mean())


def precision_recall(real_features, fake_features, k: int = 3) -> dict:
    """Improved precision (fakes inside the real manifold) and recall (reals inside the fake manifold)."""
    return {"precision": manifold_share(fake_features, real_features, k),
            "recall": manifold_share(real_features, fake_features, k)}


def ring_centers(modes: int = 8, radius: float = 2.0) -> np.ndarray:
    """(modes, 2) points evenly spaced on a circle."""
    t = 2 * np.pi * np.arange(modes) / modes
    return radius * np.stack([np.cos(t), np.sin(t)], 1)


def sample_ring(n: int, modes: int = 8, radius: float = 2.0, std: float = 0.02, seed: int = 0) -> np.ndarray:
    """(n, 2) float32 draws from an equal mixture of isotropic Gaussians (std ``std``) at ``ring_centers``."""
    rng = np.random.default_rng(seed)
    c = ring_centers(modes, radius)[rng.integers(modes, size=n)]
    return (c + std * rng.standard_normal((n, 2))).astype(np.float32)


def ring_modes(points, modes: int = 8, radius: float = 2.0, std: float = 0.02, sigmas: float = 3.0,
               min_share: float = 0.01) -> dict:
    """Mode coverage of 2-D samples: ``modes`` covered (int), ``high_quality`` (share of samples within
    ``sigmas`` std of their nearest mode), ``reached`` (modes that are the nearest mode of at least
    ``min_share`` of the samples, however far), ``counts`` (high-quality samples per mode)."""
    p = _features(points, "points", 1)
    if p.shape[1] != 2:
        raise DataError(f"points must be (N, 2); got shape {p.shape}")
    d = np.sqrt(_sq_dists(p, ring_centers(modes, radius)))                # (N, modes)
    near, good = d.argmin(1), d.min(1) <= sigmas * std
    counts = np.bincount(near[good], minlength=modes)
    nearest = np.bincount(near, minlength=modes)                            # every sample, sharp or not
    return {"modes": int((counts >= min_share * len(p)).sum()), "high_quality": float(good.mean()),
            "reached": int((nearest >= min_share * len(p)).sum()), "counts": counts.tolist()}


def class_consistency(predicted, conditioned, label_names) -> dict:
    """Per class name: the share of maps generated for it (``conditioned`` (N,)) that the classifier
    calls it (``predicted`` (N,)); NaN for a class with no maps. ``"mean"``: the mean over classes with maps."""
    p, c = np.asarray(predicted), np.asarray(conditioned)
    if p.shape != c.shape or p.ndim != 1:
        raise DataError(f"predicted and conditioned must be (N,) of one length; got {p.shape} and {c.shape}")
    out = {name: float((p[c == k] == k).mean()) if (c == k).any() else float("nan")
           for k, name in enumerate(label_names)}
    have = [v for v in out.values() if not np.isnan(v)]
    out["mean"] = float(np.mean(have)) if have else float("nan")
    return out
