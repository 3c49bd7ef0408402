"""Binary logistic regression fitted by Newton's method on scikit-learn's objective (lecture 0).

With labels s ∈ {−1, +1} and score z = wᵀx + b, the model is P(s = +1 | x) = σ(z) and the
negative log-likelihood of one sample is log(1 + e^(−s z)) = softplus(−s z), the cross-entropy
between the label's one-hot pmf and the model's. The objective is scikit-learn's

    F(w, b) = C Σᵢ softplus(−sᵢ zᵢ) + ½ ‖w‖²         (C = None: no penalty, F = Σᵢ softplus(−sᵢ zᵢ))

with the intercept unpenalized. F is convex with gradient and Hessian (θ = (w, b), x̃ = (x, 1))

    ∇F = C Σᵢ −sᵢ σ(−sᵢ zᵢ) x̃ᵢ + (w, 0),      ∇²F = C Σᵢ σ(zᵢ) σ(−zᵢ) x̃ᵢ x̃ᵢᵀ + diag(1, …, 1, 0),

and Newton's method θ ← θ − t (∇²F)⁻¹ ∇F with a backtracking (Armijo) step t converges
quadratically near the minimiser. Without a penalty on separable data no minimiser exists (‖w‖ → ∞):
the iteration then stops at ``max_iter`` with a ``ConvergenceWarning``.

References: Hastie, Tibshirani & Friedman, "The Elements of Statistical Learning", §4.4 (IRLS);
Boyd & Vandenberghe, "Convex Optimization", §9.5 (Newton's method); scikit-learn
LogisticRegression user guide (the objective; the oracle in tests/scratch/test_linear.py).
"""
from __future__ import annotations

import warnings

import numpy as np
from scipy.special import expit
from sklearn.exceptions import ConvergenceWarning

from deepfab.scratch.linear._binary import BinaryLinearClassifier


class LogisticRegression(BinaryLinearClassifier):
    """L2-penalised binary logistic regression. Fitted: ``coef_`` (n_features,), ``intercept_``,
    ``classes_``, ``n_iter_`` (Newton steps). ``predict_proba`` gives P(classes_[k] | x)."""

    def __init__(self, C: float | None = 1.0, fit_intercept: bool = True, tol: float = 1e-10, max_iter: int = 100):
        self.C = C
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter

    def fit(self, X, y):
        if self.C is not None and not (np.isscalar(self.C) and np.isfinite(self.C) and self.C > 0):
            raise ValueError(f"C must be a positive finite float or None (no penalty); got {self.C!r}")
        if not isinstance(self.max_iter, (int, np.integer)) or self.max_iter < 1:
            raise ValueError(f"max_iter must be an int >= 1; got {self.max_iter!r}")
        if not (np.isscalar(self.tol) and self.tol >= 0):
            raise ValueError(f"tol must be a float >= 0; got {self.tol!r}")
        X, s = self._validate_binary(X, y)
        n, p = X.shape
        A = np.hstack([X, np.ones((n, 1))]) if self.fit_intercept else X  # x̃ rows
        c = 1.0 if self.C is None else float(self.C)
        reg = np.zeros(A.shape[1]) if self.C is None else np.r_[np.ones(p), np.zeros(A.shape[1] - p)]

        def objective(theta):
            return c * np.sum(np.logaddexp(0.0, -s * (A @ theta))) + 0.5 * np.sum(reg * theta ** 2)

        theta = np.zeros(A.shape[1])
        f = objective(theta)
        for it in range(1, self.max_iter + 1):  # noqa: B007 (n_iter_ is the last it)
            z = A @ theta
            grad = c * A.T @ (-s * expit(-s * z)) + reg * theta
            hess = c * (A.T * (expit(z) * expit(-z))) @ A + np.diag(reg)
            try:
                step = -np.linalg.solve(hess, grad)
            except np.linalg.LinAlgError:  # singular Hessian (no penalty, collinear columns)
                step = -np.linalg.lstsq(hess, grad, rcond=None)[0]
            t, slope = 1.0, grad @ step
            while (f_new := objective(theta + t * step)) > f + 1e-4 * t * slope and t > 1e-12:
                t *= 0.5  # Armijo backtracking
            theta, f = theta + t * step, f_new
            if np.max(np.abs(t * step)) <= self.tol * (1.0 + np.max(np.abs(theta))):
                break
        else:
            warnings.warn(f"Newton's method did not converge in max_iter={self.max_iter} steps "
                          "(without a penalty, separable data has no finite minimiser)",
                          ConvergenceWarning, stacklevel=2)
        self.n_iter_ = it
        self.coef_ = theta[:p]
        self.intercept_ = float(theta[p]) if self.fit_intercept else 0.0
        return self

    def predict_proba(self, X) -> np.ndarray:
        """(n_samples, 2): columns P(classes_[0] | x), P(classes_[1] | x) = σ(wᵀx + b)."""
        p1 = expit(self.decision_function(X))
        return np.column_stack([1.0 - p1, p1])

    def predict_log_proba(self, X) -> np.ndarray:
        z = self.decision_function(X)
        return np.column_stack([-np.logaddexp(0.0, z), -np.logaddexp(0.0, -z)])
