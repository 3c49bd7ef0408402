"""Toy 2-D classification data (lecture 0): separable points with a known margin, and rings.

``separable_2d`` draws points from a box, labels them with a true line a^T x + b = 0 and discards
those closer than ``margin`` to it, so the perceptron's Novikoff bound (R / gamma)^2 is finite
and known. ``rings`` is a two-class problem no linear classifier can solve (an inner disc and an
outer annulus), where depth is needed. Labels are -1 / +1, as in the lecture's linear models.

    from deepfab.data import rings, separable_2d
    X, y, (a, b) = separable_2d(100, margin=0.1, rng=rng)    # X (100, 2), y (100,) in {-1, +1}
    X, y = rings(600, rng)                                    # X (600, 2), y (600,)

References:
    F. Rosenblatt, "The perceptron", Psychological Review 65 (1958);
    A. B. J. Novikoff, "On convergence proofs for perceptrons" (1962).
"""
from __future__ import annotations

import numpy as np

from ..errors import DataError


def separable_2d(n: int, margin: float, rng: np.random.Generator, box: float = 2.0):
    """``n`` points in [-box, box]^2 at distance >= ``margin`` from a random line; labels +-1.

    Returns ``X`` (n, 2), ``y`` (n,) and the true line ``(a, b)`` with ``a`` a unit normal (2,).
    """
    if n < 2 or margin < 0 or margin >= box:
        raise DataError(f"separable_2d needs n >= 2 and 0 <= margin < box; got n={n}, margin={margin}, box={box}")
    angle = rng.uniform(0, 2 * np.pi)
    a = np.array([np.cos(angle), np.sin(angle)])            # unit normal of the true line
    b = rng.uniform(-0.5, 0.5)
    X = np.empty((0, 2))
    while len(X) < n:                                        # rejection sampling
        cand = rng.uniform(-box, box, size=(4 * n, 2))
        X = np.vstack([X, cand[np.abs(cand @ a + b) >= margin]])
    X = X[:n]
    y = np.where(X @ a + b > 0, 1, -1)
    if len(np.unique(y)) < 2:                                # all on one side: draw again
        return separable_2d(n, margin, rng, box)
    return X, y, (a, b)


def rings(n: int, rng: np.random.Generator, noise: float = 0.15):
    """``n`` points: class -1 a disc of radius ~1, class +1 an annulus of radius ~2; (n, 2), (n,)."""
    if n < 2:
        raise DataError(f"rings needs n >= 2 points; got {n}")
    y = np.where(rng.random(n) < 0.5, -1, 1)
    r = np.where(y < 0, rng.uniform(0, 1.0, n), rng.uniform(1.5, 2.5, n)) + noise * rng.standard_normal(n)
    t = rng.uniform(0, 2 * np.pi, n)
    return np.stack([r * np.cos(t), r * np.sin(t)], axis=1), y
