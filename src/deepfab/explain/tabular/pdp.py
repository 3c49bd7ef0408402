"""Partial dependence and ICE curves: the model's output as one feature is swept over a grid.

For a feature j and a grid value t, the individual conditional expectation (ICE) curve of row i
sets x_ij = t and keeps the rest of the row (Goldstein et al. 2015); the partial dependence (PD)
is their mean (Friedman 2001):

    ICE_i(t) = f(x_i with x_ij = t)                    (N, G)
    PD(t)    = (1/N) sum_i ICE_i(t)                    (G,)

PD is what the model does "on average" when only j moves; if the curves cross or fan out, j
interacts with other features and the average hides it, which ICE shows. Like permutation
importance, both put j's values into rows where the process never produced them when j is
correlated with other sensors (extrapolation). Centred ICE subtracts each curve's value at the
first grid point so that differences in shape stand out.

    grid = feature_grid(X[:, j], n=20)                  # quantiles 5 %..95 % of the column, NaN ignored
    pd = partial_dependence(predict, X, j, grid)        # pd.ice (N, G), pd.average (G,), pd.grid (G,)
    pd.centred()                                        # (N, G): ICE_i(t) - ICE_i(t_0)

``predict`` maps an (M, D) array to (M,) outputs. Checked against
``sklearn.inspection.partial_dependence(method="brute", kind="both")`` on the same grid in
``tests/explain/test_tabular_pdp.py``.

Introduced in lecture 15 (data interpretation, XAI).

References: J. H. Friedman, "Greedy Function Approximation: A Gradient Boosting Machine", Annals
of Statistics 29(5), 2001; A. Goldstein, A. Kapelner, J. Bleich, E. Pitkin, "Peeking Inside the
Black Box: Visualizing Statistical Learning With Plots of Individual Conditional Expectation",
Journal of Computational and Graphical Statistics 24(1), 2015.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...errors import DataError, UsageError


@dataclass
class PartialDependence:
    feature: int
    grid: np.ndarray      # (G,) values of the feature
    ice: np.ndarray       # (N, G) one curve per row

    @property
    def average(self) -> np.ndarray:
        """(G,) the partial dependence: the mean ICE curve."""
        return self.ice.mean(axis=0)

    def centred(self) -> np.ndarray:
        """(N, G) each ICE curve minus its value at the first grid point (c-ICE)."""
        return self.ice - self.ice[:, :1]

    def spread(self) -> float:
        """Mean over the grid of the standard deviation of the centred curves: 0 when all are parallel
        (no interaction with other features), large when they fan out."""
        return float(self.centred().std(axis=0).mean())


def feature_grid(column, n: int = 20, percentiles=(0.05, 0.95)) -> np.ndarray:
    """(G,) grid of ``n`` evenly spaced values between two quantiles of ``column`` (NaN ignored),
    or its sorted distinct values when there are no more than ``n`` of them."""
    col = np.asarray(column, dtype=np.float64).ravel()
    col = col[np.isfinite(col)]
    if col.size == 0:
        raise DataError("feature_grid needs a column with at least one finite value; got none")
    if not isinstance(n, int) or n < 2:
        raise UsageError(f"a grid needs n >= 2 points; got {n!r}")
    lo, hi = percentiles
    if not 0 <= lo < hi <= 1:
        raise UsageError(f"percentiles must be (low, high) with 0 <= low < high <= 1; got {percentiles}")
    distinct = np.unique(col)
    if len(distinct) <= n:
        return distinct
    a, b = np.quantile(col, [lo, hi])
    return np.linspace(a, b, n) if b > a else distinct[:1]


def partial_dependence(predict, X, feature: int, grid) -> PartialDependence:
    """ICE curves of every row of ``X`` (N, D) for column ``feature`` over ``grid`` (G,)."""
    X = np.asarray(X, dtype=np.float64)
    grid = np.asarray(grid, dtype=np.float64).ravel()
    if X.ndim != 2 or len(X) == 0:
        raise DataError(f"expected a table X (N, D) with N >= 1; got shape {X.shape}")
    if not isinstance(feature, (int, np.integer)) or not 0 <= feature < X.shape[1]:
        raise UsageError(f"feature must be a column index in 0..{X.shape[1] - 1}; got {feature!r}")
    if grid.size == 0 or not np.isfinite(grid).all():
        raise UsageError(f"grid must be finite values of the feature; got {grid.tolist()}")
    n, g = len(X), len(grid)
    rows = np.repeat(X[None], g, axis=0)                     # (G, N, D)
    rows[:, :, feature] = grid[:, None]
    y = np.asarray(predict(rows.reshape(g * n, -1)), dtype=np.float64)
    if y.shape != (g * n,):
        raise DataError(f"predict must map (M, D) rows to (M,) outputs; got shape {y.shape} for M = {g * n}")
    return PartialDependence(feature=int(feature), grid=grid, ice=y.reshape(g, n).T)
