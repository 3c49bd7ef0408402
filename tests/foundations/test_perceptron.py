"""deepfab.foundations.perceptron: update counts stay under Novikoff's bound."""
import numpy as np

from deepfab.foundations.perceptron import update_counts
from deepfab.scratch.linear import novikoff_bound


def test_updates_stay_under_the_bound_and_grow_as_the_margin_shrinks():
    rows = update_counts([0.4, 0.05], repeats=3, rng=np.random.default_rng(0), n=100)
    assert [(r["margin"], r["rep"]) for r in rows] == [(0.4, 0), (0.4, 1), (0.4, 2), (0.05, 0), (0.05, 1), (0.05, 2)]
    assert all(0 < r["updates"] <= r["bound (R/gamma)^2"] for r in rows)
    wide = np.mean([r["bound (R/gamma)^2"] for r in rows[:3]])
    assert np.mean([r["bound (R/gamma)^2"] for r in rows[3:]]) > wide


def test_the_bound_is_computed_with_the_true_line():
    # the same draws as update_counts makes: the bound of its first row
    from deepfab.data import separable_2d

    X, y, (a, b) = separable_2d(50, 0.3, np.random.default_rng(1))
    row = update_counts([0.3], repeats=1, rng=np.random.default_rng(1), n=50)[0]
    assert row["bound (R/gamma)^2"] == novikoff_bound(X, y, a, b)
