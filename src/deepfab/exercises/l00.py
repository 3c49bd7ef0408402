"""Worked solutions to the exercises of lecture 0 (supervised learning foundation).

    deepfab exercise L00 1 --smoke
"""
from __future__ import annotations

import numpy as np


def exercise_1(smoke: bool = False, seed: int = 0) -> dict:
    """Ridge instead of plain least squares on SECOM: does a penalty help the fail-class ranking?

    Section 2 fits least squares to 432 nearly collinear sensors. Add the penalty
    lambda * ||w||^2 (not on the intercept), solve (A^T A + lambda D) theta = A^T y, pick lambda on a
    validation split of the training wafers (never on the test wafers), and compare the test ROC AUC
    with lambda = 0; check the solution against scikit-learn's Ridge."""
    from sklearn.linear_model import Ridge
    from sklearn.metrics import roc_auc_score

    from ..data import load_secom
    from ..foundations import lsq
    from ..foundations.tabular import prepare, stratified_split

    secom = load_secom()
    data = prepare(secom.X, secom.y, test_size=0.3, seed=seed, columns=secom.feature_names)
    fit_rows, val_rows = stratified_split(data.y_train, 0.3, np.random.default_rng(seed))
    lambdas = (0.0, 10.0, 1000.0) if smoke else (0.0, 1.0, 10.0, 100.0, 1000.0, 10000.0)

    def solve(X, y, lam):            # (n, p), (n,) -> theta (p + 1,), intercept last
        A = lsq.add_intercept(X)
        D = np.eye(A.shape[1])
        D[-1, -1] = 0.0              # the intercept is not penalized
        return np.linalg.lstsq(A.T @ A + lam * D, A.T @ y, rcond=None)[0]

    def auc(theta, X, y):
        return float(roc_auc_score(y == 1, lsq.add_intercept(X) @ theta))

    y_train = data.y_train.astype(float)
    val_auc = {lam: auc(solve(data.X_train[fit_rows], y_train[fit_rows], lam), data.X_train[val_rows],
                        data.y_train[val_rows]) for lam in lambdas}
    chosen = max(val_auc, key=val_auc.get)
    test_auc = {lam: auc(solve(data.X_train, y_train, lam), data.X_test, data.y_test) for lam in {0.0, chosen}}
    lam_check = max(lambdas)
    ref = Ridge(alpha=lam_check, solver="svd").fit(data.X_train, y_train)
    max_diff = float(np.max(np.abs(solve(data.X_train, y_train, lam_check)[:-1] - ref.coef_)))
    print("validation ROC AUC by lambda: " + ", ".join(f"{lam:g}: {a:.3f}" for lam, a in val_auc.items()))
    print(f"chosen lambda {chosen:g}: test ROC AUC {test_auc[chosen]:.3f} against {test_auc[0.0]:.3f} without a "
          f"penalty; largest difference from sklearn's Ridge: {max_diff:.1e}")
    return {"val_auc_by_lambda": {f"{lam:g}": a for lam, a in val_auc.items()}, "chosen_lambda": chosen,
            "test_auc_chosen": test_auc[chosen], "test_auc_no_penalty": test_auc[0.0],
            "max_diff_vs_sklearn": max_diff}


def exercise_2(smoke: bool = False, seed: int = 0) -> dict:
    """Smaller margins: does the perceptron's update count follow (R / gamma)^2 as gamma shrinks?

    Section 3 ran margins 0.4 to 0.05. Run 0.05, 0.02 and 0.01 and fit log(updates) against
    log(1 / gamma): the bound predicts a slope of at most 2."""
    from ..foundations.perceptron import update_counts

    margins = (0.05, 0.02) if smoke else (0.05, 0.02, 0.01)
    rows = update_counts(margins, repeats=1 if smoke else 5, rng=np.random.default_rng(seed))
    med = {m: float(np.median([r["updates"] for r in rows if r["margin"] == m])) for m in margins}
    slope = float(np.polyfit(np.log([1 / m for m in margins]), np.log([max(med[m], 1.0) for m in margins]), 1)[0])
    worst = max(r["updates"] / r["bound (R/gamma)^2"] for r in rows)
    print("median updates by margin: " + ", ".join(f"{m}: {u:.0f}" for m, u in med.items()))
    print(f"log-log slope {slope:.2f} (the bound's is 2); largest updates / bound {worst:.3f} "
          f"({'within' if worst <= 1 else 'ABOVE'} the bound)")
    return {"median_updates": {str(m): u for m, u in med.items()}, "slope": slope, "max_updates_over_bound": worst}
