"""Oracle tests of deepfab.scratch.linear: numpy.linalg, a naive perceptron, scikit-learn, check_estimator.

Run: .venv/bin/python -m pytest tests/scratch/test_linear.py -q
"""
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression as SkLogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from deepfab.scratch.linear import LeastSquares, LogisticRegression, Perceptron, novikoff_bound

RNG = np.random.default_rng(0)


@parametrize_with_checks([LeastSquares(), Perceptron(), LogisticRegression()])
def test_sklearn_compatible(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # perceptron on non-separable check data
        check(estimator)


# -- least squares --
def _augment(X):
    return np.hstack([X, np.ones((len(X), 1))])


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_least_squares_normal_equations_match_lstsq(fit_intercept):
    X = RNG.normal(size=(50, 4))
    y = X @ np.array([1.0, -2.0, 0.5, 3.0]) + 0.7 + 0.1 * RNG.normal(size=50)
    model = LeastSquares(fit_intercept=fit_intercept).fit(X, y)
    A = _augment(X) if fit_intercept else X
    theta = np.linalg.lstsq(A, y, rcond=None)[0]
    assert model.solver_ == "normal"
    np.testing.assert_allclose(model.coef_, theta[:4], rtol=1e-10)
    assert model.intercept_ == pytest.approx(theta[4] if fit_intercept else 0.0, abs=1e-10)
    np.testing.assert_allclose(model.predict(X), A @ theta, rtol=1e-10)


@pytest.mark.parametrize("case", ["duplicate_column", "wide", "near_collinear"])
def test_least_squares_singular_uses_pinv_min_norm(case):
    X = RNG.normal(size=(30, 3))
    if case == "duplicate_column":
        X = np.hstack([X, X[:, :1]])  # rank 3 of 4 columns: infinitely many minimisers
    elif case == "wide":
        X = RNG.normal(size=(5, 8))  # fewer samples than features
    else:
        X = np.hstack([X, X[:, :1] + 1e-7 * RNG.normal(size=(30, 1))])  # cond(AᵀA) ~ 1e14
    y = RNG.normal(size=len(X))
    model = LeastSquares().fit(X, y)
    A = _augment(X)
    assert model.solver_ == "pinv" and model.cond_ > 1e10
    theta = np.linalg.pinv(A) @ y
    np.testing.assert_allclose(np.r_[model.coef_, model.intercept_], theta, rtol=1e-8, atol=1e-10)
    lst = np.linalg.lstsq(A, y, rcond=None)[0]  # lstsq also returns the minimum-norm solution
    np.testing.assert_allclose(np.r_[model.coef_, model.intercept_], lst, rtol=1e-6, atol=1e-8)
    if case == "duplicate_column":  # minimum norm splits the weight equally between the twins
        assert model.coef_[0] == pytest.approx(model.coef_[3], rel=1e-8)


# -- perceptron --
def naive_perceptron(X, y, max_updates=100_000):
    """The seed's loop, written with Python scalars: returns a, b, number of updates."""
    a, b, k = [0.0] * X.shape[1], 0.0, 0
    while k < max_updates:
        for xi, yi in zip(X.tolist(), y.tolist()):
            score = sum(ai * xj for ai, xj in zip(a, xi)) + b
            if (1 if score > 0 else -1) != yi:
                a = [ai + yi * xj for ai, xj in zip(a, xi)]
                b += yi
                k += 1
                break
        else:
            return np.array(a), b, k
    raise AssertionError("naive perceptron did not converge")


def _separable(n, p, margin, seed):
    rng = np.random.default_rng(seed)
    a_true, b_true = rng.normal(size=p), 0.5
    X = rng.normal(size=(4 * n, p))
    score = (X @ a_true + b_true) / np.linalg.norm(np.r_[a_true, b_true])
    keep = np.abs(score) > margin
    X = X[keep][:n]
    return X, np.where(X @ a_true + b_true > 0, 1, -1), a_true, b_true


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_perceptron_matches_naive_and_novikoff(seed):
    X, y, a_true, b_true = _separable(60, 3, margin=0.1, seed=seed)
    clf = Perceptron(max_iter=100_000).fit(X, y)
    a, b, k = naive_perceptron(X, y)
    assert clf.converged_ and clf.n_updates_ == k
    np.testing.assert_allclose(clf.coef_, a, rtol=1e-12)
    assert clf.intercept_ == pytest.approx(b)
    np.testing.assert_array_equal(clf.predict(X), y)  # zero training error: the loop's stopping rule
    bound = novikoff_bound(X, y, a_true, b_true)
    assert 1 <= clf.n_updates_ <= bound


def test_perceptron_labels_and_nonseparable():
    X, y, *_ = _separable(40, 2, margin=0.2, seed=3)
    labels = np.where(y > 0, "pass", "fail")  # classes_ = ["fail", "pass"]: "pass" plays +1
    clf = Perceptron().fit(X, labels)
    np.testing.assert_array_equal(clf.predict(X), labels)
    assert list(clf.classes_) == ["fail", "pass"]
    X_xor = np.array([[0, 0], [1, 1], [0, 1], [1, 0]], dtype=float)
    with pytest.warns(ConvergenceWarning, match="max_iter=50"):
        xor = Perceptron(max_iter=50).fit(X_xor, [0, 0, 1, 1])
    assert xor.n_updates_ == 50 and not xor.converged_
    with pytest.raises(ValueError, match="Only binary"):
        Perceptron().fit(RNG.normal(size=(9, 2)), np.arange(9) % 3)
    with pytest.raises(ValueError, match="max_iter"):
        Perceptron(max_iter=0).fit(X, y)


def test_novikoff_bound_errors():
    X = np.array([[1.0], [-1.0]])
    # R² = max ‖(x, 1)‖² = 2, γ = 1 for the hyperplane x = 0: bound 2
    assert novikoff_bound(X, [1, -1], [1.0], 0.0) == pytest.approx(2.0)
    assert novikoff_bound(X, [1, -1], [2.0], 1.0) == pytest.approx(2.0 / (1.0 / np.sqrt(5.0)) ** 2)
    with pytest.raises(ValueError, match="positive margin"):
        novikoff_bound(X, [1, -1], [-1.0], 0.0)
    with pytest.raises(ValueError, match="two labels"):
        novikoff_bound(X, [1, 1], [1.0], 0.0)


# -- logistic regression --
def _cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _overlapping(n=300, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=n)
    return rng.normal(size=(n, 3)) + 0.8 * y[:, None], np.where(y == 1, 1, -1)


@pytest.mark.parametrize("C", [1.0, 0.01, None])
def test_logistic_matches_sklearn(C):
    X, y = _overlapping() if C is None else _cancer()  # no penalty needs non-separable data
    ours = LogisticRegression(C=C).fit(X, y)
    kw = dict(C=np.inf) if C is None else dict(C=C)  # sklearn 1.8+: C=inf means no penalty
    ref = SkLogisticRegression(tol=1e-12, max_iter=10_000, **kw).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_.ravel(), atol=1e-4)
    assert ours.intercept_ == pytest.approx(ref.intercept_[0], abs=1e-4)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-5)
    np.testing.assert_allclose(ours.predict_log_proba(X[:20]), np.log(ours.predict_proba(X[:20])),
                               rtol=1e-6, atol=1e-12)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    assert ours.n_iter_ < 30  # Newton converges in a handful of steps


def test_logistic_labels_and_errors():
    X, y = _overlapping(seed=1)
    strings = np.where(y > 0, "defect", "clean")
    clf = LogisticRegression().fit(X, strings)
    assert set(clf.predict(X)) <= {"clean", "defect"}
    np.testing.assert_allclose(clf.coef_, LogisticRegression().fit(X, y).coef_, rtol=1e-12)
    with pytest.raises(ValueError, match="C must be"):
        LogisticRegression(C=-1.0).fit(X, y)
    with pytest.raises(ValueError, match="max_iter"):
        LogisticRegression(max_iter=0).fit(X, y)
    with pytest.raises(ValueError, match="Only binary"):
        LogisticRegression().fit(X, np.arange(len(X)) % 3)
    Xs = np.r_[X[y > 0] + 20, X[y < 0] - 20]
    with pytest.warns(ConvergenceWarning, match="finite minimiser"):
        LogisticRegression(C=None, max_iter=10).fit(Xs, np.r_[y[y > 0], y[y < 0]])
