"""Permutation importance: how much a model's score drops when one feature's column is shuffled.

Breiman (2001) measured a random forest's reliance on a feature by permuting that feature's
values among the rows and re-scoring; Fisher, Rudin and Dominici (2019) call the model-agnostic
form *model reliance*. With a score s (higher is better: ROC AUC, balanced accuracy) on a table
(X, y) and a permutation pi of the rows,

    I_j = s(X, y) - (1/R) sum_{r=1..R} s(X with column j replaced by X[pi_r, j], y)

Shuffling breaks the feature's link to y *and to the other features*: for two correlated
sensors the shuffled rows are combinations the process never produces, so the model is scored
off the data it was fitted on (Hooker, Mentch and Zhou 2021), and each of two copies of a
sensor looks unimportant because the other still carries the information. ``groups`` shuffles
several columns with one permutation (the rows of the group stay together), which measures the
group's joint importance.

    res = permutation_importance(score, X, y, n_repeats=10, seed=0)    # score(X, y) -> float
    res.mean, res.std, res.importances        # (F,), (F,), (F, R): one entry per group/column
    res = permutation_importance(score, X, y, groups=[[0], [1, 2]])     # 1 and 2 shuffled together

``perms`` (R, N) fixes the row permutations (the same for every column, as scikit-learn does);
by default they come from ``np.random.default_rng(seed)``. Checked against
``sklearn.inspection.permutation_importance`` with the same permutations in
``tests/explain/test_tabular_permutation.py``.

Introduced in lecture 15 (data interpretation, XAI).

References: L. Breiman, "Random Forests", Machine Learning 45, 2001; A. Fisher, C. Rudin,
F. Dominici, "All Models are Wrong, but Many are Useful", JMLR 20, 2019; G. Hooker, L. Mentch,
S. Zhou, "Unrestricted permutation forces extrapolation", Statistics and Computing 31, 2021.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...errors import DataError, UsageError


@dataclass
class Importance:
    """Importances of F columns or groups: the score drop under each of R permutations."""

    importances: np.ndarray   # (F, R) baseline score minus permuted score
    baseline: float           # the score on the unpermuted table
    names: list               # F labels (column indices or group labels)

    @property
    def mean(self) -> np.ndarray:
        return self.importances.mean(axis=1)

    @property
    def std(self) -> np.ndarray:
        return self.importances.std(axis=1)

    def ranking(self) -> np.ndarray:
        """Column/group positions, most important first (ties: lower position first)."""
        return np.argsort(-self.mean, kind="stable")


def row_permutations(n: int, n_repeats: int, seed: int = 0) -> np.ndarray:
    """(R, N) independent random permutations of the rows 0..N-1."""
    rng = np.random.default_rng(seed)
    return np.stack([rng.permutation(n) for _ in range(n_repeats)])


def permutation_importance(score, X, y, n_repeats: int = 5, seed: int = 0, groups=None, perms=None,
                           names=None) -> Importance:
    """The score drop of each column (or each group of columns) shuffled by ``n_repeats`` permutations.

    ``score(X, y) -> float`` scores the fitted model (higher is better). ``groups``: lists of
    column indices shuffled together (default: every column alone).
    """
    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim != 2 or y.shape[:1] != X.shape[:1] or len(X) < 2:
        raise DataError(f"expected X (N, F) with N >= 2 and y (N,); got X {X.shape} and y {y.shape}")
    if not isinstance(n_repeats, int) or n_repeats < 1:
        raise UsageError(f"n_repeats must be an int >= 1; got {n_repeats!r}")
    groups = [[j] for j in range(X.shape[1])] if groups is None else [list(np.atleast_1d(g)) for g in groups]
    flat = [j for g in groups for j in g]
    if not groups or not flat or min(flat) < 0 or max(flat) >= X.shape[1]:
        raise UsageError(f"groups must list column indices in 0..{X.shape[1] - 1}; got {groups}")
    perms = row_permutations(len(X), n_repeats, seed) if perms is None else np.asarray(perms)
    if perms.shape != (n_repeats, len(X)):
        raise UsageError(f"perms must be (n_repeats, N) = ({n_repeats}, {len(X)}); got {perms.shape}")
    base = float(score(X, y))
    out = np.zeros((len(groups), n_repeats))
    for g, cols in enumerate(groups):
        Xp = X.copy()
        for r, p in enumerate(perms):
            Xp[:, cols] = X[p][:, cols]                    # the group's rows move together
            out[g, r] = base - float(score(Xp, y))
    labels = list(names) if names is not None else [g[0] if len(g) == 1 else tuple(g) for g in groups]
    if len(labels) != len(groups):
        raise UsageError(f"names must give one label per group ({len(groups)}); got {len(labels)}")
    return Importance(importances=out, baseline=base, names=labels)


def sklearn_permutations(n: int, n_repeats: int, random_state: int) -> np.ndarray:
    """(R, N) the row permutations ``sklearn.inspection.permutation_importance`` draws for every column.

    scikit-learn draws one seed from ``RandomState(random_state)``; for each column it shuffles one
    index array s in place ``n_repeats`` times with ``RandomState(that seed)`` and re-indexes the
    already permuted column by it, so repeat r sees the rows p_r = p_{r-1}[s_r] (p_0 = identity).
    Used to compare numbers with it exactly.
    """
    seed = np.random.RandomState(random_state).randint(np.iinfo(np.int32).max + 1)
    rs = np.random.RandomState(seed)
    idx, p = np.arange(n), np.arange(n)
    out = []
    for _ in range(n_repeats):
        rs.shuffle(idx)
        p = p[idx]
        out.append(p.copy())
    return np.stack(out)
