"""deepfab.explain.tabular.permutation against sklearn.inspection.permutation_importance (same permutations).

    .venv/bin/python -m pytest tests/explain/test_tabular_permutation.py -q
"""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.impute import SimpleImputer
from sklearn.inspection import permutation_importance as sk_permutation_importance
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline

from deepfab.errors import DataError, UsageError
from deepfab.explain.tabular.permutation import permutation_importance, sklearn_permutations


def fitted(seed=0, nan=False):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(200, 5))
    y = (X[:, 0] + 0.5 * X[:, 1] + rng.normal(size=200) > 0).astype(int)
    if nan:
        X[rng.random(X.shape) < 0.05] = np.nan
    model = make_pipeline(SimpleImputer(), LogisticRegression()).fit(X, y)
    return model, X, y, lambda A, b: roc_auc_score(b, model.predict_proba(A)[:, 1])


@pytest.mark.parametrize("nan", [False, True])
def test_equals_sklearn_with_the_same_permutations(nan):
    model, X, y, score = fitted(nan=nan)
    ref = sk_permutation_importance(model, X, y, scoring="roc_auc", n_repeats=4, random_state=3)
    ours = permutation_importance(score, X, y, n_repeats=4, perms=sklearn_permutations(len(y), 4, 3))
    assert np.array_equal(ours.importances, ref.importances)
    assert np.allclose(ours.mean, ref.importances_mean) and np.allclose(ours.std, ref.importances_std)
    assert list(ours.ranking()[:2]) == [0, 1]


def test_same_seed_same_numbers_and_an_unused_column_scores_zero():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(150, 3))
    y = (X[:, 0] > 0).astype(int)
    score = lambda A, b: roc_auc_score(b, A[:, 0])                    # noqa: E731  (column 2 is never read)
    a = permutation_importance(score, X, y, n_repeats=3, seed=7)
    b = permutation_importance(score, X, y, n_repeats=3, seed=7)
    assert np.array_equal(a.importances, b.importances)
    assert a.mean[0] > 0.3 and np.all(a.importances[1:] == 0.0)
    assert a.baseline == pytest.approx(1.0)


def test_a_group_is_shuffled_with_one_permutation():
    rng = np.random.default_rng(5)
    x0 = rng.normal(size=300)
    X = np.column_stack([x0, x0])                                     # two copies of one sensor
    y = (x0 > 0).astype(int)
    score = lambda A, b: roc_auc_score(b, A[:, 0] + A[:, 1])          # noqa: E731
    res = permutation_importance(score, X, y, n_repeats=5, seed=0, groups=[[0], [1], [0, 1]],
                                 names=["a", "b", "a+b"])
    assert res.names == ["a", "b", "a+b"]
    assert res.mean[2] > res.mean[0] + 0.1 and res.mean[2] > res.mean[1] + 0.1   # together worth more


def test_bad_input_says_what_was_expected():
    _, X, y, score = fitted()
    with pytest.raises(DataError, match="expected X"):
        permutation_importance(score, X[:, 0], y)
    with pytest.raises(UsageError, match="n_repeats must be an int >= 1"):
        permutation_importance(score, X, y, n_repeats=0)
    with pytest.raises(UsageError, match="groups must list column indices in 0..4"):
        permutation_importance(score, X, y, groups=[[5]])
    with pytest.raises(UsageError, match=r"perms must be \(n_repeats, N\)"):
        permutation_importance(score, X, y, n_repeats=2, perms=np.zeros((3, 200), int))
