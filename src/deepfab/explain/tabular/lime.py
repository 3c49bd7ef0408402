"""LIME for tabular data: a weighted linear surrogate of the model fitted around one row.

LIME (Ribeiro, Singh, Guestrin 2016) explains f at x by the simple model g that solves

    g = argmin_{g in G} L(f, g, pi_x) + Omega(g),   L = sum_z pi_x(z) (f(z) - g(z))^2

over perturbed samples z, with a proximity kernel pi_x and a complexity penalty Omega. For
tabular data with continuous features (the ``lime`` package, ``discretize_continuous=False``):

    1. standardize with the training mean m and standard deviation s (constant columns: s = 1);
    2. draw z' ~ N(0, I) in standardized units, around the training mean (lime's default) or
       around x (``around_instance``); the first sample is x itself;
    3. weigh each sample by pi(z) = sqrt(exp(-d^2 / w^2)), d the Euclidean distance to x in
       standardized units, kernel width w = 0.75 sqrt(D);
    4. fit a ridge regression (penalty alpha = 1, intercept not penalized) of f(z) on the
       standardized z with weights pi: its coefficients are the explanation (output change per
       standard deviation of each feature); with ``num_features`` only the K features with the
       largest |coef_j * z'_j(x)| of a first fit (alpha = 0.01) are kept ("highest_weights").

The weighted R^2 of the fit says how linear f is around x: a low value means the explanation
describes a poor local approximation.

    res = lime_tabular(predict, x, X_train, n_samples=5000, seed=0)     # predict: (M, D) -> (M,)
    res.coef, res.intercept, res.r2, res.local_pred, res.top(5)

Checked against ``lime.lime_tabular.LimeTabularExplainer`` in
``tests/explain/test_tabular_lime.py``: the same samples give the same coefficients (to 1e-10),
and with independent samples the top features and their signs agree.

Introduced in lecture 15 (data interpretation, XAI).

References: M. T. Ribeiro, S. Singh, C. Guestrin, "'Why Should I Trust You?': Explaining the
Predictions of Any Classifier", KDD 2016; D. Alvarez-Melis, T. S. Jaakkola, "On the Robustness
of Interpretability Methods", ICML Workshop on Human Interpretability in ML, 2018.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...errors import DataError, UsageError


@dataclass
class LimeResult:
    coef: np.ndarray        # (D,) surrogate slope per standard deviation; 0 for features not kept
    intercept: float
    r2: float               # weighted R^2 of the surrogate on the samples
    local_pred: float       # the surrogate's value at x
    features: np.ndarray    # (K,) the columns the surrogate uses

    def top(self, k: int) -> np.ndarray:
        """The ``k`` columns with the largest |coef|, largest first."""
        return np.argsort(-np.abs(self.coef), kind="stable")[:k]


def training_stats(X_train) -> tuple[np.ndarray, np.ndarray]:
    """(mean (D,), std (D,)) of the training table, std 1 where a column is constant (as lime does)."""
    X = np.asarray(X_train, dtype=np.float64)
    if X.ndim != 2 or len(X) < 2 or not np.isfinite(X).all():
        raise DataError(f"LIME needs a finite training table (N >= 2, D) for its scales; got shape {X.shape}"
                        + ("" if X.ndim != 2 or np.isfinite(X).all() else " with NaN or inf (impute first)"))
    std = X.std(axis=0)
    return X.mean(axis=0), np.where(std == 0, 1.0, std)


def lime_samples(x, mean, scale, n: int, seed: int = 0, around_instance: bool = False) -> np.ndarray:
    """(n, D) perturbed rows in the original units, row 0 = x."""
    x = np.asarray(x, dtype=np.float64)
    z = np.random.default_rng(seed).standard_normal((n, x.shape[0]))                 # (n, D) standardized
    data = z * scale + (x if around_instance else mean)
    data[0] = x
    return data


def weighted_ridge(Z, y, w, alpha: float) -> tuple[np.ndarray, float]:
    """(coef (K,), intercept) minimizing sum_i w_i (y_i - b - z_i . c)^2 + alpha |c|^2 (b not penalized)."""
    wn = w / w.sum()
    zm, ym = wn @ Z, wn @ y                                                          # weighted means
    Zc, yc = Z - zm, y - ym
    A = Zc.T @ (Zc * w[:, None]) + alpha * np.eye(Z.shape[1])                         # (K, K)
    coef = np.linalg.solve(A, Zc.T @ (w * yc))
    return coef, float(ym - zm @ coef)


def local_surrogate(predict, data, mean, scale, kernel_width: float | None = None, alpha: float = 1.0,
                    num_features: int | None = None) -> LimeResult:
    """LIME's weighted ridge on given samples ``data`` (n, D) whose row 0 is the explained x (steps 3-4)."""
    data = np.asarray(data, dtype=np.float64)
    Z = (data - mean) / scale                                                         # (n, D) standardized
    d = np.linalg.norm(Z - Z[0], axis=1)
    width = 0.75 * np.sqrt(Z.shape[1]) if kernel_width is None else float(kernel_width)
    w = np.sqrt(np.exp(-d ** 2 / width ** 2))                                         # (n,) proximity
    y = np.asarray(predict(data), dtype=np.float64)
    if y.shape != (len(data),):
        raise DataError(f"predict must map (M, D) rows to (M,) outputs; got shape {y.shape} for M = {len(data)}")
    feats = np.arange(Z.shape[1])
    if num_features is not None:
        if not isinstance(num_features, int) or not 1 <= num_features <= Z.shape[1]:
            raise UsageError(f"num_features must be an int in 1..{Z.shape[1]}; got {num_features!r}")
        first, _ = weighted_ridge(Z, y, w, 0.01)
        feats = np.argsort(-np.abs(first * Z[0]), kind="stable")[:num_features]
    c, b = weighted_ridge(Z[:, feats], y, w, alpha)
    fit = Z[:, feats] @ c + b
    ybar = np.average(y, weights=w)
    r2 = 1.0 - np.sum(w * (y - fit) ** 2) / max(np.sum(w * (y - ybar) ** 2), 1e-300)
    coef = np.zeros(Z.shape[1])
    coef[feats] = c
    return LimeResult(coef=coef, intercept=b, r2=float(r2), local_pred=float(fit[0]), features=feats)


def lime_tabular(predict, x, X_train, n_samples: int = 5000, seed: int = 0, kernel_width: float | None = None,
                 alpha: float = 1.0, num_features: int | None = None, around_instance: bool = False) -> LimeResult:
    """Explain ``predict`` at the row ``x`` (D,) with scales from ``X_train`` (N, D): steps 1-4 above."""
    mean, scale = training_stats(X_train)
    x = np.asarray(x, dtype=np.float64).ravel()
    if x.shape != mean.shape or not np.isfinite(x).all():
        raise DataError(f"x must be one finite row of {mean.shape[0]} features; got shape {x.shape}")
    if not isinstance(n_samples, int) or n_samples < 10:
        raise UsageError(f"n_samples must be an int >= 10; got {n_samples!r}")
    data = lime_samples(x, mean, scale, n_samples, seed, around_instance)
    return local_surrogate(predict, data, mean, scale, kernel_width, alpha, num_features)
