"""deepfab.explain.tabular.shapley against shap (KernelExplainer, TreeExplainer), a closed form and the definition.

    .venv/bin/python -m pytest tests/explain/test_tabular_shapley.py -q
"""
from __future__ import annotations

import warnings
from functools import partial

import numpy as np
import pytest

from deepfab.errors import DataError, UsageError
from deepfab.explain.tabular.shapley import (
    brute_force_shapley,
    coalition_values,
    shapley_from_values,
    shapley_values,
)

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="IProgress not found")
    import lightgbm as lgb
    import shap


def boosted(seed=0, d=6):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(300, d))
    y = (X[:, 0] + X[:, 1] * X[:, 2] + 0.3 * rng.normal(size=300) > 0).astype(int)
    m = lgb.LGBMClassifier(n_estimators=30, num_leaves=7, n_jobs=1, verbose=-1, deterministic=True,
                           random_state=seed).fit(X, y)
    return m, X, partial(m.predict, raw_score=True)


def test_enumeration_equals_the_average_over_all_orderings():
    rng = np.random.default_rng(1)
    table = rng.normal(size=16)                                      # v of each of the 2^4 coalitions
    value = lambda s: table[sum(1 << i for i in s)]                  # noqa: E731
    assert np.allclose(shapley_from_values(table, 4), brute_force_shapley(value, 4), atol=1e-12)


def test_matches_shap_kernel_and_tree_explainers_and_is_efficient():
    m, X, f = boosted()
    bg, xs = X[:40], X[100:104]
    phi, base = shapley_values(f, xs, bg)
    kernel = shap.KernelExplainer(f, bg).shap_values(xs, nsamples=2 ** 6 + 10, silent=True)   # all coalitions: exact
    tree = shap.TreeExplainer(m, data=bg, feature_perturbation="interventional", model_output="raw").shap_values(xs)
    tree = tree[1] if isinstance(tree, list) else tree
    assert phi.shape == (4, 6) and np.abs(phi).max() > 0.05
    assert np.allclose(phi, kernel, atol=1e-10, rtol=0)
    assert np.allclose(phi, tree, atol=1e-6, rtol=0)
    assert np.allclose(phi.sum(1) + base, f(xs), atol=1e-10)          # efficiency
    assert np.allclose(base, f(bg).mean(), atol=1e-12)                # v(empty) = mean over the background


def test_linear_model_has_the_closed_form_and_a_subset_holds_the_rest_at_x():
    rng = np.random.default_rng(2)
    w = rng.normal(size=7)
    f = lambda A: A @ w + 0.5                                        # noqa: E731
    X, bg = rng.normal(size=(3, 7)), rng.normal(size=(25, 7))
    feats = [5, 1, 3]
    phi, base = shapley_values(f, X, bg, features=feats)
    assert np.allclose(phi, w[feats] * (X[:, feats] - bg[:, feats].mean(0)), atol=1e-12)
    assert np.allclose(phi.sum(1) + base, f(X), atol=1e-12)


def test_dummy_and_symmetry_axioms():
    f = lambda A: 2.0 * A[:, 0] + 2.0 * A[:, 1]                      # noqa: E731  (feature 2 is a dummy)
    rng = np.random.default_rng(3)
    bg = rng.normal(size=(10, 3))
    x = np.array([[1.0, 1.0, 5.0]])
    bg[:, 1] = bg[:, 0]                                              # 0 and 1 interchangeable
    phi, _ = shapley_values(f, x, bg)
    assert abs(phi[0, 2]) < 1e-12 and abs(phi[0, 0] - phi[0, 1]) < 1e-12


def test_chunked_evaluation_gives_the_same_values():
    _, X, f = boosted()
    feats = np.arange(6)
    assert np.allclose(coalition_values(f, X[0], X[:20], feats, max_rows=50),
                       coalition_values(f, X[0], X[:20], feats), atol=0)


def test_bad_input_says_what_was_expected():
    _, X, f = boosted()
    with pytest.raises(UsageError, match="K must be <= 12"):
        shapley_values(f, np.zeros((1, 13)), np.zeros((2, 13)))
    with pytest.raises(UsageError, match="distinct column indices"):
        shapley_values(f, X[:1], X[:5], features=[0, 0])
    with pytest.raises(DataError, match="background must have x's 6 columns"):
        shapley_values(f, X[:1], X[:5, :4])
    with pytest.raises(DataError, match=r"predict must map \(M, D\) rows to \(M,\) outputs"):
        shapley_values(lambda A: A, X[:1], X[:5])
