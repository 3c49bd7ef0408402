"""deepfab.train.metrics against scikit-learn: accuracy, macro-F1, balanced accuracy, recall, confusion."""
import numpy as np
import pytest
from sklearn import metrics as skm

from deepfab.train import classification_metrics


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
