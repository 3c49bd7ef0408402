"""deepfab.explain.tabular.lime against the lime package's LimeTabularExplainer and sklearn's Ridge.

    .venv/bin/python -m pytest tests/explain/test_tabular_lime.py -q
"""
from __future__ import annotations

import warnings
from functools import partial

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression, Ridge

from deepfab.errors import DataError, UsageError
from deepfab.explain.tabular.lime import lime_tabular, local_surrogate, training_stats, weighted_ridge

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="IProgress not found")
    from lime.lime_tabular import LimeTabularExplainer


def fitted():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 6)) * [1, 2, 3, 1, 1, 5] + [0, 1, 0, 0, 4, 0]
    y = (X[:, 0] - 0.5 * X[:, 1] + rng.normal(size=300) > 0).astype(int)
    return LogisticRegression().fit(X, y), X


def proba(model, A):
    return model.predict_proba(A)[:, 1]


def lime_coef(exp, d):
    out = np.zeros(d)
    for j, c in exp.local_exp[1]:
        out[j] = c
    return out


@pytest.mark.parametrize("selection, k", [("none", 6), ("highest_weights", 3)])
def test_same_samples_give_lime_packages_numbers(selection, k):
    model, X = fitted()
    x = X[7]
    exp = LimeTabularExplainer(X, discretize_continuous=False, random_state=5, feature_selection=selection
                               ).explain_instance(x, model.predict_proba, labels=(1,), num_features=k, num_samples=800)
    mean, scale = training_stats(X)
    data = np.random.RandomState(5).normal(0, 1, 800 * 6).reshape(800, 6) * scale + mean   # lime's draw
    data[0] = x
    ours = local_surrogate(partial(proba, model), data, mean, scale, num_features=None if selection == "none" else k)
    assert np.allclose(ours.coef, lime_coef(exp, 6), atol=1e-10)
    assert ours.intercept == pytest.approx(exp.intercept[1], abs=1e-10)
    assert ours.r2 == pytest.approx(exp.score, abs=1e-10)
    assert ours.local_pred == pytest.approx(exp.local_pred[0], abs=1e-10)
    assert len(ours.features) == k


def test_independent_samples_agree_with_lime_on_the_top_features_and_signs():
    model, X = fitted()
    for i in (3, 11):
        ours = lime_tabular(partial(proba, model), X[i], X, n_samples=4000, seed=1)
        exp = LimeTabularExplainer(X, discretize_continuous=False, random_state=2, feature_selection="none"
                                   ).explain_instance(X[i], model.predict_proba, labels=(1,), num_features=6,
                                                      num_samples=4000)
        theirs = lime_coef(exp, 6)
        assert set(ours.top(2)) == set(np.argsort(-np.abs(theirs))[:2]) == {0, 1}
        assert np.array_equal(np.sign(ours.coef[:2]), np.sign(theirs[:2]))
        assert np.allclose(ours.coef[:2], theirs[:2], rtol=0.15)


def test_weighted_ridge_equals_sklearn_ridge_with_sample_weights():
    rng = np.random.default_rng(3)
    Z, y, w = rng.normal(size=(50, 4)), rng.normal(size=50), rng.random(50)
    coef, b = weighted_ridge(Z, y, w, alpha=0.7)
    ref = Ridge(alpha=0.7).fit(Z, y, sample_weight=w)
    assert np.allclose(coef, ref.coef_, atol=1e-10) and b == pytest.approx(ref.intercept_, abs=1e-10)


def test_same_seed_same_explanation_and_bad_input():
    model, X = fitted()
    a = lime_tabular(partial(proba, model), X[0], X, n_samples=200, seed=4)
    b = lime_tabular(partial(proba, model), X[0], X, n_samples=200, seed=4)
    assert np.array_equal(a.coef, b.coef)
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(DataError, match="impute first"):
        lime_tabular(partial(proba, model), X[0], bad)
    with pytest.raises(DataError, match="one finite row of 6 features"):
        lime_tabular(partial(proba, model), X[0, :3], X)
    with pytest.raises(UsageError, match="n_samples must be an int >= 10"):
        lime_tabular(partial(proba, model), X[0], X, n_samples=5)
