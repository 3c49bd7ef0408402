"""deepfab.explain.tabular.pdp against sklearn.inspection.partial_dependence on the same grid.

    .venv/bin/python -m pytest tests/explain/test_tabular_pdp.py -q
"""
from __future__ import annotations

from functools import partial

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.inspection import partial_dependence as sk_partial_dependence

from deepfab.errors import DataError, UsageError
from deepfab.explain.tabular.pdp import feature_grid, partial_dependence


def proba(model, A):
    return model.predict_proba(A)[:, 1]


def test_equals_sklearn_brute_force_ice_and_average():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 4))
    y = (X[:, 0] * X[:, 1] + X[:, 2] > 0).astype(int)
    model = HistGradientBoostingClassifier(max_iter=30, random_state=0).fit(X, y)
    for j in (0, 2):
        grid = feature_grid(X[:, j], n=9)
        ours = partial_dependence(partial(proba, model), X, j, grid)
        ref = sk_partial_dependence(model, X, [j], custom_values={j: grid}, method="brute", kind="both")
        assert ours.ice.shape == (120, 9)
        assert np.allclose(ours.ice, ref["individual"][0], atol=1e-12)
        assert np.allclose(ours.average, ref["average"][0], atol=1e-12)
        assert np.ptp(ours.ice, axis=1).max() > 0.05                  # the curves are not flat


def test_an_additive_model_has_parallel_ice_curves_and_an_interaction_does_not():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(50, 3))
    grid = np.linspace(-1, 1, 5)
    additive = partial_dependence(lambda A: np.sin(A[:, 0]) + A[:, 1] ** 2, X, 0, grid)
    assert additive.spread() < 1e-12
    assert np.allclose(additive.average - additive.average[0], np.sin(grid) - np.sin(grid[0]))
    assert partial_dependence(lambda A: A[:, 0] * A[:, 1], X, 0, grid).spread() > 0.1


def test_feature_grid_uses_quantiles_or_the_distinct_values():
    col = np.r_[np.arange(100.0), np.nan]
    grid = feature_grid(col, n=5, percentiles=(0.1, 0.9))
    assert np.allclose(grid, np.linspace(np.quantile(np.arange(100.0), 0.1), np.quantile(np.arange(100.0), 0.9), 5))
    assert np.array_equal(feature_grid([3.0, 1.0, 3.0, np.nan], n=5), [1.0, 3.0])


def test_bad_input_says_what_was_expected():
    X = np.zeros((4, 2))
    with pytest.raises(UsageError, match="feature must be a column index in 0..1"):
        partial_dependence(lambda A: A[:, 0], X, 2, [0.0, 1.0])
    with pytest.raises(UsageError, match="grid must be finite"):
        partial_dependence(lambda A: A[:, 0], X, 0, [np.nan])
    with pytest.raises(DataError, match="at least one finite value"):
        feature_grid([np.nan, np.nan])
    with pytest.raises(DataError, match=r"predict must map \(M, D\) rows"):
        partial_dependence(lambda A: A, X, 0, [0.0, 1.0])
