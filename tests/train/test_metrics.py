"""deepfab.train.metrics against scikit-learn: accuracy, macro-F1, balanced accuracy, recall, confusion, ROC AUC."""
import numpy as np
import pytest
from sklearn import metrics as skm

from deepfab.errors import DataError
from deepfab.train import classification_metrics
from deepfab.train.metrics import binary_report, roc_auc


@pytest.mark.parametrize("seed", range(6))
def test_matches_sklearn_on_random_imbalanced_labels(seed):
    rng = np.random.default_rng(seed)
    n_classes = 5
    y_true = rng.choice(n_classes, size=200, p=[0.6, 0.2, 0.1, 0.07, 0.03])
    y_pred = np.where(rng.random(200) < 0.7, y_true, rng.integers(0, n_classes, 200))
    names = ["none", "center", "edge", "scratch", "donut"]
    m = classification_metrics(y_true, y_pred, names)
    labels = list(range(n_classes))
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(y_true, y_pred), abs=1e-12)
    assert m["macro_f1"] == pytest.approx(skm.f1_score(y_true, y_pred, average="macro"), abs=1e-12)
    assert m["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y_true, y_pred), abs=1e-12)
    rec = skm.recall_score(y_true, y_pred, labels=labels, average=None, zero_division=0)
    prec = skm.precision_score(y_true, y_pred, labels=labels, average=None, zero_division=0)
    f1 = skm.f1_score(y_true, y_pred, labels=labels, average=None, zero_division=0)
    np.testing.assert_allclose([m["per_class_recall"][k] for k in names], rec, atol=1e-12)
    np.testing.assert_allclose([m["per_class_precision"][k] for k in names], prec, atol=1e-12)
    np.testing.assert_allclose([m["per_class_f1"][k] for k in names], f1, atol=1e-12)
    np.testing.assert_array_equal(m["confusion"], skm.confusion_matrix(y_true, y_pred, labels=labels))
    assert m["n"] == 200 and sum(m["support"].values()) == 200


@pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true")
def test_absent_classes_follow_sklearn_conventions():
    # class 3 never occurs; class 2 is predicted but never true
    y_true = np.array([0, 0, 1, 1, 1, 0])
    y_pred = np.array([0, 2, 1, 1, 0, 0])
    m = classification_metrics(y_true, y_pred, ["a", "b", "c", "d"])
    assert m["macro_f1"] == pytest.approx(skm.f1_score(y_true, y_pred, average="macro"))
    assert m["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y_true, y_pred))
    assert m["per_class_recall"]["d"] == 0.0 and m["support"]["d"] == 0
    assert np.array(m["confusion"]).shape == (4, 4)


def test_accepts_torch_and_lists_and_default_names():
    import torch

    m = classification_metrics(torch.tensor([0, 1, 1]), [0, 1, 0])
    assert list(m["per_class_recall"]) == ["0", "1"]
    assert m["per_class_recall"]["1"] == 0.5


@pytest.mark.parametrize("y_true, y_pred, names, match", [
    ([0, 1], [0], None, "same length"),
    ([], [], None, "at least one"),
    ([0, 3], [0, 1], ["a", "b"], "name every class"),
    ([[0, 1]], [[0, 1]], None, "1-D"),
    ([0, -1], [0, 1], None, ">= 0"),
    ([0.5, 1.0], [0, 1], None, "integer"),
])
def test_bad_input_raises_clear_errors(y_true, y_pred, names, match):
    with pytest.raises(ValueError, match=match):
        classification_metrics(np.array(y_true), np.array(y_pred), names)


def test_binary_report_against_hand_counts():
    y = np.array([-1, -1, -1, -1, 1, 1])
    p = np.array([-1, -1, -1, 1, 1, -1])
    r = binary_report(y, p, scores=[0.1, 0.2, 0.3, 0.6, 0.9, 0.4])
    assert r["recall_pass"] == 0.75 and r["recall_fail"] == 0.5
    assert np.isclose(r["balanced_accuracy"], 0.625) and np.isclose(r["accuracy"], 4 / 6)
    f1_pass, f1_fail = 2 * 0.75 * 0.75 / 1.5, 2 * 0.5 * 0.5 / 1.0
    assert np.isclose(r["macro_f1"], (f1_pass + f1_fail) / 2)
    assert np.isclose(r["roc_auc"], 7 / 8)
    with pytest.raises(ValueError, match="labels must be in"):
        binary_report([0, 1], [0, 1])


@pytest.mark.parametrize("seed", range(4))
def test_binary_report_and_roc_auc_match_sklearn(seed):
    rng = np.random.default_rng(seed)
    y = np.where(rng.random(300) < 0.1, 1, -1)                      # ~10 % positives, like SECOM's fails
    scores = np.round(0.8 * (y > 0) + rng.standard_normal(300), 1)  # rounded: many ties
    pred = np.where(scores > 0.5, 1, -1)
    r = binary_report(y, pred, scores=scores)
    assert r["accuracy"] == pytest.approx(skm.accuracy_score(y, pred), abs=1e-12)
    assert r["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y, pred), abs=1e-12)
    assert r["macro_f1"] == pytest.approx(skm.f1_score(y, pred, average="macro"), abs=1e-12)
    rec = skm.recall_score(y, pred, labels=[-1, 1], average=None)
    assert [r["recall_pass"], r["recall_fail"]] == pytest.approx(rec, abs=1e-12)
    assert r["roc_auc"] == pytest.approx(skm.roc_auc_score(y == 1, scores), abs=1e-12)
    assert roc_auc(y == 1, scores) == r["roc_auc"]


def test_binary_report_averages_over_both_classes_even_when_one_is_absent():
    r = binary_report([-1, -1, -1], [-1, 1, -1])
    assert r["recall_pass"] == pytest.approx(2 / 3) and r["recall_fail"] == 0.0
    assert r["balanced_accuracy"] == pytest.approx(1 / 3) and "roc_auc" not in r


@pytest.mark.parametrize("y, s, match", [([1, 1], [0.2, 0.3], "both classes"), ([0, 1], [0.5], "scores")])
def test_roc_auc_bad_input(y, s, match):
    with pytest.raises(DataError, match=match):
        roc_auc(np.array(y), np.array(s))
