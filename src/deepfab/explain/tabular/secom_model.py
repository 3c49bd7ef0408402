"""A SECOM fail predictor worth explaining: every fitted step inside the cross-validation folds.

SECOM (1567 wafers, 104 fails, hundreds of sensors, many missing) is where a leaky protocol
looks best. Imputation, dropping constant columns, scaling and feature selection all learn from
data; done on the whole table before splitting, they see the test wafers' values (and, for
selection, their labels). Here they are steps of one scikit-learn ``Pipeline``, so
``cross_validate`` refits them on each training fold only:

    median imputation -> drop constant columns -> standardize -> SelectKBest(F-test, k) -> model

with the model a gradient-boosted tree ensemble (LightGBM) or an L2-regularized logistic
regression, both with class weights inversely proportional to class frequency. Scores per fold:
balanced accuracy at the 0.5 probability threshold, ROC AUC and PR AUC (average precision; the
no-skill level is the fail rate, about 0.066), summarized by the mean and a t-interval over folds
(optimistic: folds share training rows, so there is no unbiased variance estimate, Bengio and
Grandvalet 2004). ``leaky_cross_validate`` does the selection on all rows first, the common
mistake, to measure what the leak is worth.

    pipe = secom_pipeline("boost", k=40, seed=0)
    cv = cross_validate(lambda: secom_pipeline("boost", k=40, seed=0), X, y, n_splits=5, n_repeats=2)
    cv.summary()                       # {"roc_auc": (mean, low, high), ...}
    phi, names = tree_shap(pipe.fit(X, y), X, feature_names)   # TreeExplainer on the boosted model

Introduced in lecture 15 (data interpretation, XAI).

References: M. McCann, A. Johnston, "SECOM", UCI Machine Learning Repository, 2008; G. Ke et al.,
"LightGBM: A Highly Efficient Gradient Boosting Decision Tree", NeurIPS 2017; C. Ambroise,
G. J. McLachlan, "Selection bias in gene extraction on the basis of microarray gene-expression
data", PNAS 99(10), 2002 (selection outside the folds); Y. Bengio, Y. Grandvalet, "No Unbiased
Estimator of the Variance of K-Fold Cross-Validation", JMLR 5, 2004; S. M. Lundberg et al., "From
local explanations to global understanding with explainable AI for trees", Nature Machine
Intelligence 2, 2020 (TreeExplainer).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from ...errors import DataError, UsageError

METRICS = ("balanced_accuracy", "roc_auc", "pr_auc")
KINDS = ("boost", "logistic")


def secom_pipeline(kind: str = "boost", k=40, seed: int = 0, C: float = 0.05, n_estimators: int = 200):
    """The leakage-free pipeline (module docstring); ``k`` features kept (an int or ``"all"``)."""
    from sklearn.feature_selection import SelectKBest, VarianceThreshold, f_classif
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    if kind == "boost":
        import lightgbm as lgb

        # shallow, strongly regularized trees: with ~80 fails per training fold deeper ones memorize them
        model = lgb.LGBMClassifier(n_estimators=n_estimators, learning_rate=0.03, num_leaves=4, min_child_samples=30,
                                   subsample=0.8, subsample_freq=1, colsample_bytree=0.5, reg_lambda=10.0,
                                   class_weight="balanced", random_state=seed, n_jobs=1, deterministic=True,
                                   force_row_wise=True, verbose=-1)
    elif kind == "logistic":
        model = LogisticRegression(C=C, class_weight="balanced", max_iter=2000)
    else:
        raise UsageError(f"kind must be one of {list(KINDS)}; got {kind!r}")
    if not (k == "all" or (isinstance(k, int) and k >= 1)):
        raise UsageError(f"k must be an int >= 1 or 'all'; got {k!r}")
    return Pipeline([("impute", SimpleImputer(strategy="median")), ("const", VarianceThreshold(0.0)),
                     ("scale", StandardScaler()), ("select", SelectKBest(f_classif, k=k)), ("model", model)])


def fail_probability(pipe, X) -> np.ndarray:
    """(N,) predicted probability of class 1 (fail)."""
    return pipe.predict_proba(X)[:, 1]


def auc_scorer(pipe):
    """``score(X, y) -> ROC AUC`` of the fitted pipeline's fail probabilities (for permutation importance)."""
    from sklearn.metrics import roc_auc_score

    return lambda X, y: float(roc_auc_score(y, fail_probability(pipe, X)))


def permutation_means(pipe, X, y, n_repeats: int = 5, seed: int = 0) -> np.ndarray:
    """(F,) mean ROC AUC drop of each column of (X, y) shuffled ``n_repeats`` times (``permutation_importance``)."""
    from .permutation import permutation_importance

    return permutation_importance(auc_scorer(pipe), X, y, n_repeats=n_repeats, seed=seed).mean


def mean_abs_shap(pipe, X) -> np.ndarray:
    """(F,) mean |TreeSHAP value| of each column over the rows of X (path-dependent TreeExplainer)."""
    return np.abs(tree_shap(pipe, X)[0]).mean(axis=0)


def log_odds(pipe, X) -> np.ndarray:
    """(N,) the fitted pipeline's raw output: the log-odds of a fail (what TreeSHAP explains)."""
    Z = pipe[:-1].transform(np.asarray(X, dtype=np.float64))
    model = pipe.named_steps["model"]
    return model.predict(Z, raw_score=True) if hasattr(model, "booster_") else model.decision_function(Z)


def scores(y, p) -> dict:
    """Balanced accuracy at p >= 0.5, ROC AUC and PR AUC (average precision) of fail probabilities p."""
    from sklearn.metrics import average_precision_score, balanced_accuracy_score, roc_auc_score

    return {"balanced_accuracy": float(balanced_accuracy_score(y, p >= 0.5)),
            "roc_auc": float(roc_auc_score(y, p)), "pr_auc": float(average_precision_score(y, p))}


def check_binary(X, y) -> tuple[np.ndarray, np.ndarray]:
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y)
    if X.ndim != 2 or y.shape != (len(X),):
        raise DataError(f"expected X (N, F) and y (N,); got X {X.shape} and y {y.shape}")
    if not np.isin(y, (0, 1)).all() or len(np.unique(y)) != 2:
        raise DataError(f"y must hold both classes as 0 (pass) and 1 (fail); got values {sorted(set(y.tolist()))[:5]}")
    return X, y.astype(np.int64)


@dataclass
class CVResult:
    folds: dict = field(default_factory=dict)     # metric -> (n_folds,) scores
    oof: np.ndarray | None = None                 # (n_repeats, N) out-of-fold fail probabilities

    def summary(self, level: float = 0.95) -> dict:
        """metric -> (mean, low, high): a t-interval over the folds."""
        from scipy.stats import t

        out = {}
        for m, v in self.folds.items():
            v = np.asarray(v)
            half = t.ppf(0.5 + level / 2, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v)) if len(v) > 1 else 0.0
            out[m] = (float(v.mean()), float(v.mean() - half), float(v.mean() + half))
        return out


def cross_validate(make, X, y, n_splits: int = 5, n_repeats: int = 1, seed: int = 0, columns=None) -> CVResult:
    """Repeated stratified K-fold CV of the pipelines ``make()`` builds (one fresh pipeline per fold).

    ``columns``: restrict X to these columns first (``leaky_cross_validate`` passes its selection).
    """
    from sklearn.model_selection import RepeatedStratifiedKFold

    X, y = check_binary(X, y)
    X = X if columns is None else X[:, columns]
    cv = RepeatedStratifiedKFold(n_splits=n_splits, n_repeats=n_repeats, random_state=seed)
    res = CVResult(folds={m: [] for m in METRICS}, oof=np.full((n_repeats, len(y)), np.nan))
    for i, (tr, te) in enumerate(cv.split(X, y)):
        p = fail_probability(make().fit(X[tr], y[tr]), X[te])
        res.oof[i // n_splits, te] = p
        for m, v in scores(y[te], p).items():
            res.folds[m].append(v)
    res.folds = {m: np.asarray(v) for m, v in res.folds.items()}
    return res


def leaky_cross_validate(make, X, y, k: int, n_splits: int = 5, n_repeats: int = 1, seed: int = 0) -> CVResult:
    """The mistake: impute, scale and pick the ``k`` best columns on ALL rows (labels included), then
    cross-validate ``make()`` (built with ``k="all"``) on those columns only."""
    X, y = check_binary(X, y)
    chosen = secom_pipeline("logistic", k=k)[:-1].fit(X, y)
    keep = kept_columns(chosen, X.shape[1])
    return cross_validate(make, X, y, n_splits, n_repeats, seed, columns=keep)


def kept_columns(pipe, n_features: int) -> np.ndarray:
    """Indices into the raw table of the columns that reach a fitted pipeline's model, in its order."""
    cols = np.arange(n_features)
    cols = cols[~np.isnan(pipe.named_steps["impute"].statistics_)]   # SimpleImputer drops all-NaN columns
    cols = cols[pipe.named_steps["const"].get_support()]
    return cols[pipe.named_steps["select"].get_support()]


def tree_shap(pipe, X, feature_names=None, background=None) -> tuple[np.ndarray, list]:
    """SHAP values (N, k) of the boosted model inside a fitted pipeline, in its raw (log-odds) output,
    with the names of the k columns it sees. ``background`` (B, F) raw rows: interventional SHAP;
    None: TreeExplainer's path-dependent algorithm (faster, the trees' own cover as background)."""
    import shap

    model = pipe.named_steps["model"]
    if not hasattr(model, "booster_"):
        raise UsageError(f"tree_shap explains a fitted boosted pipeline; got {type(model).__name__}")
    X = np.asarray(X, dtype=np.float64)
    Z = pipe[:-1].transform(X)                                                  # (N, k) what the trees see
    if background is None:
        ex = shap.TreeExplainer(model, feature_perturbation="tree_path_dependent")
    else:
        ex = shap.TreeExplainer(model, data=pipe[:-1].transform(np.asarray(background, dtype=np.float64)),
                                feature_perturbation="interventional", model_output="raw")
    with warnings.catch_warnings():   # shap notes that its LightGBM output format changed once
        warnings.filterwarnings("ignore", message="LightGBM binary classifier")
        phi = ex.shap_values(Z)
    phi = np.asarray(phi[1] if isinstance(phi, list) else phi)
    cols = kept_columns(pipe, X.shape[1])
    names = [feature_names[c] for c in cols] if feature_names is not None else [int(c) for c in cols]
    return phi, names
