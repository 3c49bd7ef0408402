"""Exact Shapley values of a model's prediction, by enumerating every coalition of a few features.

A prediction $f(x)$ is shared among features $1..K$ as in a cooperative game (Shapley 1953): the
value of a coalition $S$ is the model's mean output when the features in $S$ take $x$'s values
and the others are drawn from a background sample $b_1..b_B$ (the *interventional* value function
of Janzing et al. 2020; ``shap``'s ``Independent`` masker):

    v(S)   = (1/B) sum_b f(x_S, b_{not S})
    phi_i  = sum_{S not containing i} |S|! (K - |S| - 1)! / K! * (v(S + i) - v(S))

The weight is the share of the K! orderings of the features in which exactly the members of $S$
come before $i$. The values add up to the prediction's distance from the background mean
(efficiency): sum_i phi_i = v(all) - v(empty) = f(x) - mean_b f(b). Enumerating costs 2^K * B
model evaluations per row, so K is limited to ``MAX_FEATURES``; the other columns of x are held at
x's values (the explanation is then of the K features given the rest of the row).

    phi, base = shapley_values(predict, x, background, features=[3, 17, 42])   # (N, 3), (N,)
    np.allclose(phi.sum(1), predict(x) - base)      # efficiency; base = v(empty)

``predict`` maps an (M, D) array to (M,) outputs (a probability, a log-odds). Checked against
``shap.ExactExplainer`` and ``shap.KernelExplainer`` with the same background, and against
``shap.TreeExplainer(feature_perturbation="interventional")`` on a boosted model, in
``tests/explain/test_tabular_shapley.py``.

Introduced in lecture 15 (data interpretation, XAI).

References: L. S. Shapley, "A Value for n-Person Games", Contributions to the Theory of Games II,
1953; S. M. Lundberg, S.-I. Lee, "A Unified Approach to Interpreting Model Predictions", NeurIPS
2017; D. Janzing, L. Minorics, P. Bloebaum, "Feature relevance quantification in explainable AI:
A causal problem", AISTATS 2020.
"""
from __future__ import annotations

from math import factorial

import numpy as np

from ...errors import DataError, UsageError

MAX_FEATURES = 12   # 2^12 coalitions x the background rows: the most an exact enumeration should try


def coalition_weights(k: int) -> np.ndarray:
    """(k,) Shapley weight |S|! (k - |S| - 1)! / k! for a coalition of size |S| = 0..k-1 without i."""
    return np.array([factorial(s) * factorial(k - s - 1) / factorial(k) for s in range(k)])


def _as_rows(x, name: str) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim == 1:
        a = a[None]
    if a.ndim != 2 or a.shape[0] == 0:
        raise DataError(f"{name} must be a non-empty table (rows, features); got shape {np.shape(x)}")
    return a


def _check_features(features, d: int) -> np.ndarray:
    feats = np.arange(d) if features is None else np.asarray(features, dtype=np.int64).ravel()
    if len(feats) == 0 or len(set(feats.tolist())) != len(feats) or feats.min() < 0 or feats.max() >= d:
        raise UsageError(f"features must be distinct column indices in 0..{d - 1}; got {np.asarray(features).tolist()}")
    if len(feats) > MAX_FEATURES:
        raise UsageError(f"exact Shapley values enumerate 2^K coalitions: K must be <= {MAX_FEATURES}; "
                         f"got {len(feats)} features")
    return feats


def coalition_values(predict, x_row: np.ndarray, background: np.ndarray, features: np.ndarray,
                     max_rows: int = 200_000) -> np.ndarray:
    """(2^K,) v(S) for every coalition S, S encoded as the bits of its index (bit j: feature j in S).

    The 2^K * B rows go to ``predict`` in chunks of about ``max_rows`` (memory stays bounded).
    """
    k, b = len(features), len(background)
    masks = ((np.arange(2 ** k)[:, None] >> np.arange(k)) & 1).astype(bool)    # (2^K, K): feature j in S
    per = max(1, max_rows // b)                                                 # coalitions per chunk
    v = np.empty(2 ** k)
    for start in range(0, 2 ** k, per):
        m = masks[start:start + per]                                            # (c, K)
        rows = np.repeat(background[None], len(m), axis=0)                      # (c, B, D): background rows
        inside = np.where(m[:, None, :], x_row[features], background[None, :, features])   # (c, B, K)
        rows[:, :, features] = inside
        keep = np.setdiff1d(np.arange(x_row.shape[0]), features)                 # columns not explained: x's
        rows[:, :, keep] = x_row[keep]
        y = np.asarray(predict(rows.reshape(len(m) * b, -1)), dtype=np.float64)
        if y.shape != (len(m) * b,):
            raise DataError(f"predict must map (M, D) rows to (M,) outputs; got shape {y.shape} for M = {len(m) * b}")
        v[start:start + len(m)] = y.reshape(len(m), b).mean(axis=1)
    return v


def shapley_from_values(v: np.ndarray, k: int) -> np.ndarray:
    """(K,) Shapley values from the (2^K,) coalition values (the formula in the module docstring)."""
    w = coalition_weights(k)
    size = np.array([bin(s).count("1") for s in range(2 ** k)])                 # |S| of each coalition
    phi = np.zeros(k)
    for i in range(k):
        without = np.flatnonzero(((np.arange(2 ** k) >> i) & 1) == 0)           # coalitions S not containing i
        phi[i] = np.sum(w[size[without]] * (v[without | (1 << i)] - v[without]))
    return phi


def shapley_values(predict, x, background, features=None) -> tuple[np.ndarray, np.ndarray]:
    """Exact interventional Shapley values of ``features`` for each row of ``x``.

    ``x`` (N, D) or (D,), ``background`` (B, D). Returns ``(phi (N, K), base (N,))`` with
    base = v(empty), so ``phi.sum(1) + base`` is the model's output on each row.
    """
    x = _as_rows(x, "x")
    background = _as_rows(background, "background")
    if background.shape[1] != x.shape[1]:
        raise DataError(f"background must have x's {x.shape[1]} columns; got {background.shape[1]}")
    feats = _check_features(features, x.shape[1])
    phi, base = np.zeros((len(x), len(feats))), np.zeros(len(x))
    for n, row in enumerate(x):
        v = coalition_values(predict, row, background, feats)
        phi[n], base[n] = shapley_from_values(v, len(feats)), v[0]
    return phi, base


def brute_force_shapley(value, k: int) -> np.ndarray:
    """(K,) Shapley values of a set function ``value(frozenset) -> float`` by averaging over all K! orderings.

    The definition itself (the marginal contribution of i when the features join one by one in
    a random order), for checking ``shapley_from_values`` on small K.
    """
    from itertools import permutations

    phi = np.zeros(k)
    orders = list(permutations(range(k)))
    for order in orders:
        seen: set = set()
        for i in order:
            phi[i] += value(frozenset(seen | {i})) - value(frozenset(seen))
            seen.add(i)
    return phi / len(orders)
