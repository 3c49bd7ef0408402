"""``deepfab.aiops.parse_metrics``: grouping accuracy against a brute-force reading of its definition,
hand-made cases, parsing accuracy and template F1.

Run: .venv/bin/python -m pytest tests/aiops/test_parse_metrics.py -q -p no:cacheprovider
"""
from __future__ import annotations

import numpy as np
import pytest

from deepfab.aiops.parse_metrics import grouping_accuracy, normalize_template, parsing_accuracy, template_f1
from deepfab.errors import DataError


def brute_force_ga(truth, pred) -> float:
    """Zhu et al. 2019, word for word: a line is right when the lines sharing its predicted group are
    exactly the lines sharing its true group."""
    n = len(truth)
    right = 0
    for i in range(n):
        same_pred = {j for j in range(n) if pred[j] == pred[i]}
        same_true = {j for j in range(n) if truth[j] == truth[i]}
        right += same_pred == same_true
    return right / n


def test_hand_made_cases():
    assert grouping_accuracy(list("aabbc"), [1, 1, 2, 2, 3]) == 1.0         # names of groups do not matter
    assert grouping_accuracy(list("aabbc"), [1, 1, 1, 1, 3]) == pytest.approx(1 / 5)   # a and b merged
    assert grouping_accuracy(list("aaaab"), [1, 1, 2, 2, 3]) == pytest.approx(1 / 5)   # a split in two
    assert grouping_accuracy(list("ab"), [1, 1]) == 0.0
    assert grouping_accuracy(["x"] * 4, ["y"] * 4) == 1.0


@pytest.mark.parametrize("seed", range(8))
def test_grouping_accuracy_equals_the_brute_force_definition(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 60))
    truth = rng.integers(0, int(rng.integers(1, 8)), n).tolist()
    pred = [t if rng.random() < 0.7 else int(rng.integers(0, 10)) + 100 for t in truth]   # partly right
    assert grouping_accuracy(truth, pred) == pytest.approx(brute_force_ga(truth, pred))
    assert grouping_accuracy(truth, truth) == 1.0


def test_template_f1_counts_exact_groups():
    f = template_f1(list("aabbcc"), [1, 1, 2, 2, 2, 2])    # a exact; b and c merged
    assert f["precision"] == pytest.approx(1 / 2) and f["recall"] == pytest.approx(1 / 3)
    assert f["f1"] == pytest.approx(2 * (1 / 2) * (1 / 3) / (1 / 2 + 1 / 3))


def test_parsing_accuracy_compares_template_texts():
    assert normalize_template("a <*> <*>  b <*>") == "a <*> b <*>"
    truth = ["open <*> now", "close <*>", "x"]
    assert parsing_accuracy(truth, ["open <*> <*> now", "close 5", "x"]) == pytest.approx(2 / 3)


def test_mismatched_lengths_and_empty_input_are_data_errors():
    with pytest.raises(DataError, match="same lines; got 2 and 3"):
        grouping_accuracy([1, 2], [1, 2, 3])
    with pytest.raises(DataError, match="no lines"):
        grouping_accuracy([], [])
