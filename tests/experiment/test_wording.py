"""deepfab.experiment.wording: the verb of a sentence follows the sign of the measured change."""
from __future__ import annotations

from deepfab.experiment.wording import change, compare, trend


def test_change_follows_the_sign_and_the_tolerance():
    assert change(0.443, 0.433) == "lowers" and change(0.433, 0.443) == "raises"
    assert change(0.5, 0.503, tol=0.005) == "leaves unchanged" and change(0.5, 0.506, tol=0.005) == "raises"
    assert change(1, 2, words=("fell", "held", "rose")) == "rose"


def test_compare_states_where_a_value_stands():
    assert compare(0.0, 0.21) == "below" and compare(0.3, 0.21) == "above" and compare(0.21, 0.21) == "level with"


def test_trend_names_the_lowest_point_and_the_rise_after_it():
    assert trend([0.4695, 0.258, 0.2543, 0.2664], [1, 20, 40, 60]) == \
        "fell from 0.4695 at 1 to 0.2543 at 40, then rose to 0.2664 at 60"
    assert trend([3, 2, 1], [0, 1, 2], ".0f") == "fell from 3 at 0 to 1 at 2"
    assert trend([1, 2, 3], [0, 1, 2], ".0f") == "rose from 1 at 0 to 3 at 2"
    assert trend([2, 2], [0, 1], ".0f") == "stayed at 2 from 0 to 1"
    assert trend([3, 1, 2], [1, 2, 3], ".0f", at="epoch ") == \
        "fell from 3 at epoch 1 to 1 at epoch 2, then rose to 2 at epoch 3"


def test_describe_difference_states_what_the_paired_test_says():
    from deepfab.experiment import paired_differences
    from deepfab.experiment.wording import describe_difference

    def rows(diffs):
        return ([{"variant": "none", "seed": s, "macro_f1": 0.5} for s in range(len(diffs))]
                + [{"variant": "aug", "seed": s, "macro_f1": 0.5 + d} for s, d in enumerate(diffs)])

    up = describe_difference(paired_differences(rows([0.10, 0.11, 0.12]), "none")[0])
    down = describe_difference(paired_differences(rows([-0.10, -0.11, -0.12]), "none")[0])
    flat = describe_difference(paired_differences(rows([0.05, -0.04, 0.01]), "none")[0])
    one = describe_difference(paired_differences(rows([0.05]), "none")[0])
    assert up.startswith("aug: +0.110 macro-F1 over 3 seeds, paired t-test p = 0.00") and up.endswith("it helped")
    assert down.endswith("it hurt") and "no difference these seeds can resolve" in flat
    assert "too few seeds" in one
