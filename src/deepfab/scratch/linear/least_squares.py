"""Least-squares linear regression by the normal equations, falling back to the pseudo-inverse.

Lecture 0 fits y ≈ Xw + b by minimising ‖Aθ − y‖² with A = [X, 1] and θ = (w, b). When AᵀA is
invertible the minimiser solves the normal equations AᵀA θ = Aᵀy. When it is singular (duplicated
or collinear columns, fewer samples than features) or so ill-conditioned that solving it loses
most digits (cond(AᵀA) = cond(A)² ≥ ``MAX_COND``), the estimator uses θ = A⁺y, the least-squares
solution of minimum norm ‖θ‖ (the intercept included), computed from the SVD. ``solver_`` says which.

    >>> LeastSquares().fit(X, y).solver_   # "normal" or "pinv"

References: Golub & Van Loan, "Matrix Computations", 4th ed., §5.3 (normal equations) and §5.5
(rank-deficient least squares); numpy.linalg.lstsq / pinv (the oracles in the tests).
"""
from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

MAX_COND = 1e10  # solving AᵀA keeps ~16 - log10(cond) correct digits: below 1e10 at least 6 remain


class LeastSquares(RegressorMixin, BaseEstimator):
    """Ordinary least squares. Fitted: ``coef_`` (n_features,), ``intercept_`` (float),
    ``solver_`` ("normal" | "pinv"), ``cond_`` (condition number of AᵀA)."""

    def __init__(self, fit_intercept: bool = True):
        self.fit_intercept = fit_intercept

    def fit(self, X, y):
        X, y = validate_data(self, X, y, y_numeric=True, dtype=np.float64)
        A = np.hstack([X, np.ones((X.shape[0], 1))]) if self.fit_intercept else X  # (n, p+1) or (n, p)
        gram = A.T @ A
        self.cond_ = float(np.linalg.cond(gram))
        if self.cond_ < MAX_COND:
            theta, self.solver_ = np.linalg.solve(gram, A.T @ y), "normal"
        else:
            theta, self.solver_ = np.linalg.pinv(A) @ y, "pinv"
        p = X.shape[1]
        self.coef_ = theta[:p]
        self.intercept_ = float(theta[p]) if self.fit_intercept else 0.0
        return self

    def predict(self, X) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return X @ self.coef_ + self.intercept_
