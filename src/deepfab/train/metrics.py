"""Classification metrics for imbalanced fab data: accuracy beside macro-F1 and per-class recall.

Every classifier in the course reports through ``classification_metrics`` (introduced in
lecture 1) so that a rare defect class that is never found shows up as a zero recall instead of
hiding behind a high accuracy. Lecture 0's pass/fail models on SECOM (about 7 % fail, so "always
pass" scores 93 % accuracy) report through ``binary_report``, the same counts for labels -1/+1
with the ROC AUC of a score beside them (``roc_auc``, threshold-free).

    from deepfab.train import classification_metrics
    m = classification_metrics(y_true, y_pred, ["none", "edge-ring", "scratch"])
    m["macro_f1"], m["per_class_recall"]["scratch"], m["confusion"]
    from deepfab.train.metrics import binary_report
    binary_report(y_true, y_pred, scores=p_fail)     # labels -1 (pass) / +1 (fail)

Conventions follow scikit-learn (checked against it in ``tests/train/test_metrics.py``):
``macro_f1`` averages F1 over the classes that occur in ``y_true`` or ``y_pred``;
``balanced_accuracy`` averages recall over the classes that occur in ``y_true``; a per-class
score whose denominator is zero is 0.0 (``zero_division=0``). ``support`` tells those apart.

References:
    scikit-learn, sklearn.metrics.f1_score / balanced_accuracy_score / confusion_matrix / roc_auc_score.
    H. B. Mann and D. R. Whitney, "On a test of whether one of two random variables is
    stochastically larger than the other", Ann. Math. Statist. 18 (1947) (AUC as a rank statistic).
    Sokolova & Lapalme, "A systematic analysis of performance measures for classification
    tasks", Information Processing & Management 45 (2009).
"""
from __future__ import annotations

import numpy as np

from ..errors import DataError


def _as_labels(y, name: str) -> np.ndarray:
    if hasattr(y, "detach"):
        y = y.detach().cpu().numpy()
    y = np.asarray(y)
    if y.ndim != 1:
        raise DataError(f"{name} must be a 1-D array of class indices; got shape {y.shape}")
    if y.size and not np.issubdtype(y.dtype, np.integer):
        if not np.all(np.equal(np.mod(y, 1), 0)):
            raise DataError(f"{name} must hold integer class indices; got dtype {y.dtype}")
        y = y.astype(np.int64)
    y = y.astype(np.int64, copy=False)
    if y.size and y.min() < 0:
        raise DataError(f"{name} must hold class indices >= 0; got min {int(y.min())}")
    return y


def label_names_for(n_classes: int, label_names=None) -> list[str]:
    """``label_names`` as a list of strings, or ``["0", "1", ...]``; checks the length."""
    if label_names is None:
        return [str(i) for i in range(n_classes)]
    names = [str(n) for n in label_names]
    if len(names) < n_classes:
        raise DataError(f"label_names must name every class (at least {n_classes}); got {len(names)}: {names}")
    return names


def confusion_matrix(y_true, y_pred, n_classes: int) -> np.ndarray:
    """``C[i, j]`` = number of samples of true class i predicted as j; shape (n_classes, n_classes)."""
    idx = y_true * n_classes + y_pred
    return np.bincount(idx, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def classification_metrics(y_true, y_pred, label_names=None) -> dict:
    """Accuracy, macro-F1, balanced accuracy, per-class precision/recall/F1/support, confusion.

    ``y_true``, ``y_pred``: 1-D integer class indices (numpy, list or torch). The number of classes
    is ``len(label_names)`` when given, else ``max(y_true, y_pred) + 1``.
    """
    yt, yp = _as_labels(y_true, "y_true"), _as_labels(y_pred, "y_pred")
    if yt.shape != yp.shape:
        raise DataError(f"y_true and y_pred must have the same length; got {yt.size} and {yp.size}")
    if yt.size == 0:
        raise DataError("classification_metrics needs at least one sample; got 0")
    seen = int(max(yt.max(), yp.max())) + 1
    n_classes = len(label_names) if label_names is not None else seen
    names = label_names_for(max(n_classes, seen), label_names)  # raises when a label is unnamed
    cm = confusion_matrix(yt, yp, n_classes)
    tp = np.diag(cm).astype(np.float64)
    support = cm.sum(axis=1).astype(np.float64)    # true count per class
    predicted = cm.sum(axis=0).astype(np.float64)  # predicted count per class
    recall = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    present = (support > 0) | (predicted > 0)
    return {
        "accuracy": float(tp.sum() / yt.size),
        "macro_f1": float(f1[present].mean()),
        "balanced_accuracy": float(recall[support > 0].mean()),
        "per_class_recall": {names[c]: float(recall[c]) for c in range(n_classes)},
        "per_class_precision": {names[c]: float(precision[c]) for c in range(n_classes)},
        "per_class_f1": {names[c]: float(f1[c]) for c in range(n_classes)},
        "support": {names[c]: int(support[c]) for c in range(n_classes)},
        "confusion": cm.astype(int).tolist(),
        "n": int(yt.size),
    }


def roc_auc(y_true, scores) -> float:
    """Area under the ROC curve: the chance that a random positive outscores a random negative.

    ``y_true`` (N,) is True / 1 for the positive class; ``scores`` (N,) any real scores. Ties count
    one half, which makes it the Mann-Whitney U statistic over n_pos * n_neg (average ranks).
    """
    from scipy.stats import rankdata

    y, s = np.asarray(y_true).astype(bool), np.asarray(scores, dtype=np.float64)
    if y.ndim != 1 or s.shape != y.shape:
        raise DataError(f"roc_auc needs y_true (N,) and scores (N,); got {y.shape} and {s.shape}")
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        raise DataError(f"roc_auc needs both classes in y_true; got {n_pos} positive and {n_neg} negative")
    ranks = rankdata(s)                               # (N,) 1..N, ties share their average rank
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def binary_report(y_true, y_pred, scores=None, labels=(-1, 1), names=("pass", "fail")) -> dict:
    """Accuracy, balanced accuracy, macro-F1, the recall of each class (and ROC AUC if ``scores``).

    ``labels`` = (negative, positive) as they appear in ``y_true`` and ``y_pred``; ``names`` name
    them in the keys (``recall_pass``, ``recall_fail``). Balanced accuracy and macro-F1 average
    over both classes, whether or not each occurs; ``scores`` rank the positive class.
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape:
        raise DataError(f"y_true and y_pred must have the same shape; got {y_true.shape} and {y_pred.shape}")
    bad = set(np.unique(np.concatenate([y_true, y_pred]))) - set(labels)
    if bad:
        raise DataError(f"labels must be in {labels}; got also {sorted(bad)}")
    pos = labels[1]
    m = classification_metrics((y_true == pos).astype(np.int64), (y_pred == pos).astype(np.int64), list(names))
    recall = [m["per_class_recall"][n] for n in names]
    out = {"accuracy": m["accuracy"], "balanced_accuracy": float(np.mean(recall)),
           "macro_f1": float(np.mean([m["per_class_f1"][n] for n in names]))}
    out.update({f"recall_{n}": r for n, r in zip(names, recall)})
    if scores is not None:
        out["roc_auc"] = roc_auc(y_true == pos, scores)
    return out
