"""deepfab.explain.tabular.secom_model: the leakage-free pipeline, its CV, the leak, and TreeSHAP.

    .venv/bin/python -m pytest tests/explain/test_tabular_secom_model.py -q
"""
from __future__ import annotations

from functools import partial

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, balanced_accuracy_score, roc_auc_score

from deepfab.errors import DataError, UsageError
from deepfab.explain.tabular.secom_model import (
    cross_validate,
    fail_probability,
    kept_columns,
    leaky_cross_validate,
    log_odds,
    mean_abs_shap,
    scores,
    secom_pipeline,
    tree_shap,
)

pytestmark = pytest.mark.filterwarnings("ignore:Skipping features without any observed values")


def noise_table(seed=0, n=200, d=400):
    """Pure noise with SECOM's quirks: missing readings, an all-missing and a constant column."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    X[rng.random(X.shape) < 0.03] = np.nan
    X[:, 5] = np.nan
    X[:, 9] = 3.0
    y = (rng.random(n) < 0.2).astype(int)
    return X, y


def test_selection_inside_the_folds_finds_nothing_in_noise_and_the_leak_finds_skill():
    X, y = noise_table()
    clean = cross_validate(partial(secom_pipeline, "logistic", k=10), X, y, n_splits=4, seed=0).summary()
    leaky = leaky_cross_validate(partial(secom_pipeline, "logistic", k="all"), X, y, k=10, n_splits=4).summary()
    assert abs(clean["roc_auc"][0] - 0.5) < 0.12
    assert leaky["roc_auc"][0] > clean["roc_auc"][0] + 0.15
    assert clean["roc_auc"][1] <= clean["roc_auc"][0] <= clean["roc_auc"][2]


def test_kept_columns_reproduce_the_model_and_tree_shap_is_additive():
    rng = np.random.default_rng(1)
    X, _ = noise_table(1)
    y = ((np.nan_to_num(X[:, 7]) + np.nan_to_num(X[:, 30]) + 0.3 * rng.normal(size=len(X))) > 1.0).astype(int)
    pipe = secom_pipeline("boost", k=8, seed=0, n_estimators=30).fit(X, y)
    kept = kept_columns(pipe, X.shape[1])
    assert len(kept) == 8 and {7, 30} <= set(kept.tolist()) and 5 not in kept and 9 not in kept
    again = secom_pipeline("boost", k="all", seed=0, n_estimators=30).fit(X[:, kept], y)
    assert np.allclose(fail_probability(pipe, X), fail_probability(again, X[:, kept]), atol=1e-12)
    phi, names = tree_shap(pipe, X[:20], [f"s{j}" for j in range(X.shape[1])])
    assert phi.shape == (20, 8) and names == [f"s{j}" for j in kept]
    gap = log_odds(pipe, X[:20]) - phi.sum(1)                             # the expected value: one constant
    assert np.ptp(gap) < 1e-6
    assert np.argsort(-mean_abs_shap(pipe, X))[:2].tolist() in ([kept.tolist().index(7), kept.tolist().index(30)],
                                                                [kept.tolist().index(30), kept.tolist().index(7)])


def test_scores_are_sklearns_and_bad_input_is_refused():
    y = np.array([0, 0, 1, 1, 0, 1])
    p = np.array([0.1, 0.6, 0.7, 0.4, 0.2, 0.9])
    s = scores(y, p)
    assert s == {"balanced_accuracy": balanced_accuracy_score(y, p >= 0.5), "roc_auc": roc_auc_score(y, p),
                 "pr_auc": average_precision_score(y, p)}
    X, _ = noise_table()
    with pytest.raises(DataError, match="y must hold both classes as 0"):
        cross_validate(partial(secom_pipeline, "logistic"), X, np.where(np.arange(200) % 2, 1, -1))
    with pytest.raises(UsageError, match="kind must be one of"):
        secom_pipeline("forest")
    with pytest.raises(UsageError, match="k must be an int >= 1 or 'all'"):
        secom_pipeline("logistic", k=0)
    with pytest.raises(UsageError, match="tree_shap explains a fitted boosted pipeline"):
        tree_shap(secom_pipeline("logistic", k=5).fit(X, (np.arange(200) % 3 == 0).astype(int)), X)
