"""The perceptron algorithm of the seed (Rosenblatt, 1958) and Novikoff's mistake bound (lecture 0).

Labels y ∈ {−1, +1}, prediction f(x) = +1 if aᵀx + b > 0 else −1. Starting from a = 0, b = 0:

    while some (xᵢ, yᵢ) is misclassified:       # here: the first one in the data's order
        a ← a + yᵢ xᵢ,   b ← b + yᵢ

Novikoff (1962): if some unit vector θ* = (a*, b*) / ‖(a*, b*)‖ separates the data with margin
γ = minᵢ yᵢ (a*ᵀxᵢ + b*) / ‖(a*, b*)‖ > 0 and R = maxᵢ ‖(xᵢ, 1)‖, the loop makes at most (R/γ)²
updates. Proof sketch with θ = (a, b), x̃ = (x, 1): each update raises θ·θ* by at least γ and
raises ‖θ‖² by at most R² (an update happens only when y θ·x̃ ≤ 0), so after k updates
kγ ≤ θ·θ* ≤ ‖θ‖ ≤ √k R. ``novikoff_bound`` computes (R/γ)² for a given hyperplane.

    >>> clf = Perceptron(max_iter=10_000).fit(X, y); clf.n_updates_ <= novikoff_bound(X, y, a, b)

References: F. Rosenblatt, Psychological Review 65(6), 1958; A. Novikoff, "On convergence proofs
for perceptrons", 1962; scikit-learn's tests/test_perceptron.py (a naive reference in the test).
"""
from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from deepfab.scratch.linear._binary import BinaryLinearClassifier


class Perceptron(BinaryLinearClassifier):
    """The seed's perceptron. ``max_iter`` caps the number of updates; reaching it without a
    separating hyperplane (e.g. on non-separable data) emits a ``ConvergenceWarning``.
    Fitted: ``coef_`` (a), ``intercept_`` (b), ``n_updates_`` (= ``n_iter_``), ``converged_``, ``classes_``."""

    def __init__(self, max_iter: int = 1000):
        self.max_iter = max_iter

    def fit(self, X, y):
        if not isinstance(self.max_iter, (int, np.integer)) or self.max_iter < 1:
            raise ValueError(f"max_iter must be an int >= 1; got {self.max_iter!r}")
        X, s = self._validate_binary(X, y)  # s: labels as ±1
        Xa = np.hstack([X, np.ones((X.shape[0], 1))])  # x̃ = (x, 1): θ = (a, b) in one vector
        theta = np.zeros(Xa.shape[1])
        self.n_updates_, self.converged_ = 0, False
        while True:
            pred = np.where(Xa @ theta > 0, 1.0, -1.0)
            wrong = np.flatnonzero(pred != s)
            if wrong.size == 0:
                self.converged_ = True
                break
            if self.n_updates_ >= self.max_iter:
                warnings.warn(f"Perceptron stopped after max_iter={self.max_iter} updates with "
                              f"{wrong.size} of {len(s)} points misclassified; the data may not be "
                              "linearly separable", ConvergenceWarning, stacklevel=2)
                break
            i = wrong[0]
            theta += s[i] * Xa[i]  # a ← a + y x, b ← b + y
            self.n_updates_ += 1
        self.coef_, self.intercept_ = theta[:-1], float(theta[-1])
        self.n_iter_ = self.n_updates_  # scikit-learn's name for the iteration count
        return self


def novikoff_bound(X, y, a, b) -> float:
    """Perceptron mistake bound (R/γ)² for the hyperplane aᵀx + b = 0 separating (X, y).

    R = maxᵢ ‖(xᵢ, 1)‖ and γ = minᵢ yᵢ (aᵀxᵢ + b) / ‖(a, b)‖ (both in the augmented space the
    algorithm works in). ``y`` holds two labels; the larger one plays +1. Raises ``ValueError``
    if the hyperplane does not strictly separate the data (γ ≤ 0).
    """
    X, a = np.asarray(X, dtype=np.float64), np.asarray(a, dtype=np.float64).ravel()
    y = np.asarray(y)
    if X.ndim != 2 or X.shape[1] != a.size or len(y) != len(X):
        raise ValueError(f"expected X (n, p), y (n,), a (p,); got X {X.shape}, y {y.shape}, a {a.shape}")
    classes = np.unique(y)
    if len(classes) != 2:
        raise ValueError(f"y must hold exactly two labels; got {len(classes)}: {classes!r}")
    s = np.where(y == classes[1], 1.0, -1.0)
    norm = np.sqrt(a @ a + float(b) ** 2)
    gamma = float(np.min(s * (X @ a + b)) / norm)
    if gamma <= 0:
        raise ValueError(f"the hyperplane (a, b) must separate the data with a positive margin; got margin {gamma:.6g}")
    R2 = float(np.max(np.sum(X * X, axis=1) + 1.0))
    return R2 / gamma ** 2
