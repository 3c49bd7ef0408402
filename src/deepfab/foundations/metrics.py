"""Classification scores that stay honest under class imbalance (lecture 0, SECOM is ~7 % fail).

With 93 % pass, "always pass" scores 93 % accuracy and is useless. ``binary_report`` puts
accuracy beside balanced accuracy, macro-F1 and the recall of each class, and ROC AUC when
scores are given.

    from deepfab.theory.metrics import binary_report
    binary_report(y_true, y_pred, scores=p_fail, labels=(-1, 1), names=("pass", "fail"))

References:
    scikit-learn user guide, "Metrics and scoring: quantifying the quality of predictions".
"""
from __future__ import annotations

import numpy as np


def binary_report(y_true, y_pred, scores=None, labels=(-1, 1), names=("pass", "fail")) -> dict:
    """Accuracy, balanced accuracy, macro-F1, per-class recall (and ROC AUC if ``scores``)."""
    from sklearn import metrics

    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred must have the same shape; got {y_true.shape} and {y_pred.shape}")
    bad = set(np.unique(np.concatenate([y_true, y_pred]))) - set(labels)
    if bad:
        raise ValueError(f"labels must be in {labels}; got also {sorted(bad)}")
    recall = metrics.recall_score(y_true, y_pred, labels=list(labels), average=None, zero_division=0)
    out = {"accuracy": metrics.accuracy_score(y_true, y_pred),
           "balanced_accuracy": float(np.mean(recall)),
           "macro_f1": metrics.f1_score(y_true, y_pred, labels=list(labels), average="macro", zero_division=0)}
    out.update({f"recall_{n}": float(r) for n, r in zip(names, recall)})
    if scores is not None:
        out["roc_auc"] = metrics.roc_auc_score(y_true == labels[1], np.asarray(scores))
    return {k: float(v) for k, v in out.items()}
