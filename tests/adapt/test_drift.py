"""deepfab.adapt.drift: Page-Hinkley against river's on the same streams, and the trial scoring."""
import numpy as np
import pytest
from river import drift
from scipy.stats import kurtosis

from deepfab.adapt.drift import (
    PageHinkley,
    alarm_positions,
    drift_trials,
    inject_shift,
    score_alarms,
    standardize,
    steadiest_sensor,
    summarize_trials,
)
from deepfab.data import load_secom
from deepfab.errors import DataError, UsageError


def _sensor():
    s = load_secom()
    return steadiest_sensor(s.X, s.feature_names)


def _streams():
    rng = np.random.default_rng(0)
    yield rng.normal(size=3000)                                                   # no change
    yield np.concatenate([rng.normal(size=800), rng.normal(1.5, 1, 800), rng.normal(-1, 1, 800)])   # up, down
    yield (rng.random(2000) < np.r_[np.full(1000, 0.1), np.full(1000, 0.4)]).astype(float)         # error stream
    yield standardize(_sensor()[1], 200)                                          # a real sensor in time order


@pytest.mark.parametrize("kw", [dict(), dict(threshold=10, delta=0.2), dict(threshold=5, delta=0.05, mode="up"),
                                dict(threshold=8, mode="down", min_instances=10), dict(threshold=3, alpha=0.99)])
def test_page_hinkley_alarms_where_river_does(kw):
    total = 0
    for x in _streams():
        ours, theirs = alarm_positions(PageHinkley(**kw), x), alarm_positions(drift.PageHinkley(**kw), x)
        assert ours == theirs
        total += len(ours)
    assert total > 0                                        # the comparison saw alarms, not only silence


def test_page_hinkley_finds_a_step_and_rejects_bad_settings():
    x = inject_shift(np.random.default_rng(1).normal(size=1000), 500, 2.0)
    a = alarm_positions(PageHinkley(threshold=10, delta=0.5), x)
    assert a and 500 <= a[0] < 530 and score_alarms(a, 500)["false_alarms"] == 0
    with pytest.raises(UsageError, match="mode"):
        PageHinkley(mode="sideways")
    with pytest.raises(UsageError, match="threshold"):
        PageHinkley(threshold=0)


def test_inject_standardize_score():
    x = np.arange(10.0)
    np.testing.assert_allclose(inject_shift(x, 4, 2.0) - x, [0, 0, 0, 0, 2, 2, 2, 2, 2, 2])
    np.testing.assert_allclose(inject_shift(x, 4, 2.0, width=4) - x, [0, 0, 0, 0, .5, 1, 1.5, 2, 2, 2])
    z = standardize(np.r_[np.random.default_rng(2).normal(5, 3, 5000), 100.0], 5000)
    assert abs(np.median(z[:5000])) < 0.05 and abs(np.median(np.abs(z[:5000])) * 1.4826 - 1) < 0.05
    assert score_alarms([3, 7, 12, 20], 10) == {"delay": 2.0, "false_alarms": 2, "detected": True}
    late = score_alarms([3, 40], 10, horizon=20)                      # an alarm after the horizon is a miss
    assert np.isnan(late["delay"]) and late["false_alarms"] == 1 and not late["detected"]
    assert score_alarms([3, 29], 10, horizon=20)["delay"] == 19.0
    assert np.isnan(score_alarms([3], 10)["delay"]) and not score_alarms([], 10)["detected"]
    with pytest.raises(DataError):
        inject_shift(x, 10, 1.0)
    with pytest.raises(DataError, match="not all equal"):
        standardize(np.ones(10), 5)


def test_trials_are_seeded_and_summarised():
    name, x = _sensor()
    X, names = load_secom().X, load_secom().feature_names
    ok = [j for j in range(X.shape[1]) if not np.isnan(X[:, j]).any() and len(np.unique(X[:, j])) >= 500]
    j = ok[int(np.argmin([abs(kurtosis(X[:, j], fisher=False) - 3) for j in ok]))]              # scipy's kurtosis
    assert name == names[j] and np.array_equal(x, X[:, j]) and len(x) == 1567
    dets = {"PH": lambda: PageHinkley(threshold=15, delta=0.5), "ADWIN": drift.ADWIN}
    rows = drift_trials(x, dets, seeds=range(4), length=600, size=2.0)
    assert rows == drift_trials(x, dets, seeds=range(4), length=600, size=2.0)
    assert len(rows) == 8 and all(200 <= r["t0"] < 400 for r in rows)
    s = summarize_trials(rows)
    assert set(s) == {"PH", "ADWIN"} and s["PH"]["detection_rate"] == 1.0 and s["PH"]["trials"] == 4
    r = rows[0]                                             # one trial by hand
    rng = np.random.default_rng(0)
    start, t0 = int(rng.integers(0, len(x) - 600 + 1)), int(rng.integers(200, 400))
    w = inject_shift(standardize(x[start:start + 600], 100), t0, 2.0)
    assert (r["start"], r["t0"]) == (start, t0) and r == {"seed": 0, "detector": "PH", "start": start, "t0": t0,
                                                          **score_alarms(alarm_positions(dets["PH"](), w), t0)}
    with pytest.raises(DataError):
        drift_trials(x[:100], dets, seeds=[0], length=600, size=1.0)
