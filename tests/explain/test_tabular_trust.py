"""deepfab.explain.tabular.trust: sanity checks, deletion/insertion curves, stability, duplicated sensors.

Curves are checked against hand computations on linear models, rank statistics against scipy.

    .venv/bin/python -m pytest tests/explain/test_tabular_trust.py -q
"""
from __future__ import annotations

from functools import partial

import numpy as np
import pytest
import torch
from scipy.stats import spearmanr
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from deepfab.errors import DataError, UsageError
from deepfab.explain.tabular.permutation import permutation_importance
from deepfab.explain.tabular.trust import (
    bootstrap_importances,
    curve_area,
    deletion_curve,
    insertion_curve,
    label_randomization,
    model_randomization,
    randomize_coefficients,
    rank_agreement,
    stability,
    top_k_overlap,
    wafer_curves,
    with_duplicate,
)
from deepfab.models.small import SmallCNN


def signal(seed=0, n=400, d=8):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = (X @ np.linspace(2, 0, d) + 0.5 * rng.normal(size=n) > 0).astype(int)
    return X, y


def make_logistic():
    return make_pipeline(StandardScaler(), LogisticRegression())


def perm_means(model, X, y):
    return permutation_importance(lambda A, b: roc_auc_score(b, model.predict_proba(A)[:, 1]), X, y, 2, 0).mean


def test_deletion_and_insertion_of_a_linear_model_by_hand():
    w = np.array([3.0, -1.0, 2.0, 0.0])
    f = lambda A: A @ w                                                  # noqa: E731
    x = np.array([[1.0, 1.0, 1.0, 1.0]])
    scores = np.array([[3.0, -1.0, 2.0, 0.0]])                          # order: 0, 2, 3, 1
    dele = deletion_curve(f, x, 0.0, scores, steps=4)
    ins = insertion_curve(f, x, 0.0, scores, steps=4)
    assert np.allclose(dele, [[4.0, 1.0, -1.0, -1.0, 0.0]])
    assert np.allclose(ins, [[0.0, 3.0, 5.0, 5.0, 4.0]])
    assert np.allclose(curve_area(dele), [np.mean([2.5, 0.0, -1.0, -0.5])])


def test_valid_cells_only_and_images_move_all_channels_of_a_cell():
    x = np.ones((1, 2, 2, 2))                                            # (N, C, H, W)
    f = lambda A: A.reshape(len(A), -1).sum(1)                           # noqa: E731
    scores = np.array([[[4.0, 3.0], [2.0, 1.0]]])
    valid = np.array([[[True, False], [True, True]]])
    c = deletion_curve(f, x, 0.0, scores, steps=3, valid=valid)
    assert np.allclose(c, [[8.0, 6.0, 4.0, 2.0]])                       # cell (0, 1) is never deleted
    with pytest.raises(DataError, match="valid must have the scores' shape"):
        deletion_curve(f, x, 0.0, scores, valid=np.ones((1, 3), bool))


def test_wafer_curves_start_at_the_map_and_end_at_the_baseline():
    torch.manual_seed(0)
    net = SmallCNN(2, 4, width=4, batchnorm=False, head_pool=2).double().eval()
    x = (torch.rand(3, 2, 8, 8) > 0.5).double()
    x[:, 0] = 1
    t = torch.tensor([0, 1, 3])
    c = wafer_curves(net, x, t, torch.rand(3, 8, 8), steps=4)
    with torch.no_grad():
        p = torch.softmax(net(x), 1).gather(1, t[:, None])[:, 0].numpy()
        base = x.clone()
        base[:, 1] = 0
        q = torch.softmax(net(base), 1).gather(1, t[:, None])[:, 0].numpy()
    assert c.shape == (3, 5)
    assert np.allclose(c[:, 0], p) and np.allclose(c[:, -1], q)
    ins = wafer_curves(net, x, t, torch.rand(3, 8, 8), steps=4, insert=True)
    assert np.allclose(ins[:, 0], q) and np.allclose(ins[:, -1], p)


def test_label_randomization_breaks_permutation_importance():
    X, y = signal(n=1500)
    res = label_randomization(make_logistic, partial(perm_means, X=X, y=y), X, y, seed=0, n=2)
    assert res.trained.shape == (8,) and res.random.shape == (2, 8)
    assert set(np.argsort(-res.trained)[:2]) == {0, 1}                    # the real model ranks the real signal
    # a model of shuffled labels has a random direction: its AUC drops are random too, their ranking unrelated
    assert res.rho.shape == (2,) and res.rho.mean() < 0.3
    assert np.array_equal(res.rho, label_randomization(make_logistic, partial(perm_means, X=X, y=y), X, y, 0, 2).rho)


def test_model_randomization_replaces_coefficients_and_refuses_trees():
    X, y = signal()
    model = make_logistic().fit(X, y)
    rand = randomize_coefficients(model, seed=1)
    assert not np.allclose(rand[-1].coef_, model[-1].coef_)
    assert np.sqrt(np.mean(rand[-1].coef_ ** 2)) == pytest.approx(np.sqrt(np.mean(model[-1].coef_ ** 2)), rel=0.8)
    res = model_randomization(model, lambda m: np.abs(m[-1].coef_[0]), seed=0, n=2)
    assert np.all(res.rho < 0.9)
    with pytest.raises(UsageError, match="use label_randomization for tree models"):
        randomize_coefficients(DecisionTreeClassifier().fit(X, y))


def test_rank_statistics_and_stability():
    a, b = np.array([1.0, 3.0, 2.0, 5.0]), np.array([2.0, 1.0, 3.0, 4.0])
    assert rank_agreement(a, b) == pytest.approx(spearmanr(a, b).statistic)
    assert np.isnan(rank_agreement(a, np.ones(4)))
    assert top_k_overlap(a, b, 2) == 0.5
    assert stability(np.stack([a, a, a]), k=2) == (1.0, 1.0)
    X, y = signal()
    boot = bootstrap_importances(make_logistic, lambda m: np.abs(m[-1].coef_[0]), X, y, n=3, seed=0)
    again = bootstrap_importances(make_logistic, lambda m: np.abs(m[-1].coef_[0]), X, y, n=3, seed=0)
    assert boot.shape == (3, 8) and np.array_equal(boot, again)
    assert stability(boot, k=3)[0] > 0.8


def test_a_duplicated_sensor_splits_its_importance():
    X, y = signal()
    X2 = with_duplicate(X, 0)
    assert X2.shape == (400, 9) and np.array_equal(X2[:, -1], X[:, 0])
    noisy = with_duplicate(X, 0, noise=0.5, seed=1)
    assert 0.3 < np.std(noisy[:, -1] - X[:, 0]) < 0.7
    alone = np.abs(make_logistic().fit(X, y)[-1].coef_[0])
    both = np.abs(make_logistic().fit(X2, y)[-1].coef_[0])
    assert both[0] == pytest.approx(both[-1], rel=1e-3) and both[0] < 0.6 * alone[0]   # split in two halves
    with pytest.raises(UsageError, match="column must index a column"):
        with_duplicate(X, 8)
