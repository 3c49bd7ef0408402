"""deepfab.adapt.online: the prequential loop against river's progressive_val_score; the batch baseline."""
import numpy as np
import pytest
from river import drift, evaluate, linear_model, metrics, preprocessing, tree
from sklearn.linear_model import LogisticRegression

from deepfab.adapt.online import (
    DriftReset,
    WindowRetrain,
    as_stream,
    delay_traces,
    prequential,
    rolling_accuracy,
    trace_features,
)
from deepfab.data import load_ucr_wafer
from deepfab.errors import DataError, UsageError


@pytest.fixture(scope="module")
def wafer_stream():
    w = load_ucr_wafer()
    return as_stream(trace_features(w.X_test[:600]), w.y_test[:600])


@pytest.mark.parametrize("make", [lambda: preprocessing.StandardScaler() | linear_model.LogisticRegression(),
                                  lambda: tree.HoeffdingAdaptiveTreeClassifier(grace_period=50, seed=0)])
def test_prequential_matches_river(wafer_stream, make):
    res = prequential(make(), wafer_stream)
    for ours, theirs in (("macro_f1", metrics.MacroF1()), ("accuracy", metrics.Accuracy())):
        ref = evaluate.progressive_val_score(wafer_stream, make(), theirs).get()
        assert res.metrics()[ours] == pytest.approx(ref, abs=1e-12)
    assert res.scored.sum() >= len(wafer_stream) - 1


def test_prequential_tests_before_it_trains():
    class Memo:                                            # predicts the last label it learnt
        def __init__(self):
            self.last = None

        def predict_one(self, x):
            return self.last

        def learn_one(self, x, y):
            self.last = y

    stream = [({"a": 0.0}, y) for y in (1, 1, 0, 0, 1)]
    res = prequential(Memo(), stream)
    assert res.y_pred.tolist() == [-1, 1, 1, 0, 0] and res.scored.tolist() == [False, True, True, True, True]
    np.testing.assert_allclose(res.correct[1:], [1, 0, 1, 0])
    assert res.metrics(start=2)["accuracy"] == pytest.approx(1 / 3)
    with pytest.raises(UsageError, match="predict_one"):
        prequential(object(), stream)


def test_rolling_accuracy_is_a_windowed_mean():
    c = np.array([np.nan, 1, 0, 1, 1, 0, np.nan, 1])
    r = rolling_accuracy(c, 3)
    brute = [np.nanmean(c[max(0, i - 2):i + 1]) if np.isfinite(c[max(0, i - 2):i + 1]).any() else np.nan
             for i in range(len(c))]
    np.testing.assert_allclose(r, brute)


def test_window_retrain_refits_periodically_on_the_window():
    rng = np.random.default_rng(0)
    F = rng.normal(size=(700, 3))
    y = (F[:, 0] > 0).astype(int)
    stream = as_stream(F, y)
    m = WindowRetrain(LogisticRegression(), window=200, period=150, min_fit=50)
    res = prequential(m, stream)
    assert m.fits == 1 + (700 - 50) // 150                 # at 50 samples, then every 150
    last_fit = 50 + 150 * (m.fits - 1)
    ref = LogisticRegression().fit(F[last_fit - 200:last_fit], y[last_fit - 200:last_fit])
    np.testing.assert_allclose(m.model_.coef_, ref.coef_)
    assert res.metrics(start=100)["accuracy"] > 0.9
    with pytest.raises(UsageError):
        WindowRetrain(LogisticRegression(), window=10, min_fit=20)


def test_drift_reset_restarts_on_alarm_after_an_injected_drift():
    rng = np.random.default_rng(1)
    F = rng.normal(size=(1600, 2))
    y = (F[:, 0] > 0).astype(int)
    y[800:] = 1 - y[800:]                                  # the concept flips at 800
    stream = as_stream(F, y)
    guarded = DriftReset(preprocessing.StandardScaler() | linear_model.LogisticRegression(), drift.ADWIN)
    res_g = prequential(guarded, stream)
    plain = prequential(preprocessing.StandardScaler() | linear_model.LogisticRegression(), stream)
    assert guarded.alarms and 800 <= guarded.alarms[0] < 900
    assert res_g.metrics(start=900)["accuracy"] > plain.metrics(start=900)["accuracy"] + 0.1
    errs = [float(p != t) for p, t in zip(res_g.y_pred, res_g.y_true)]   # the detector saw exactly these
    det, first = drift.ADWIN(), None
    for i, e in enumerate(errs):
        det.update(e)
        if det.drift_detected:
            first = i
            break
    assert first == guarded.alarms[0]


def test_features_and_delay():
    X = np.arange(24, dtype=float).reshape(2, 12)
    F = trace_features(X, segment=4)
    np.testing.assert_allclose(F[0, :3], [1.5, 5.5, 9.5])
    np.testing.assert_allclose(F[0, 3:], [X[0].std(), 1.0, 0.0, 11.0])
    np.testing.assert_allclose(delay_traces(X, 2)[0], [0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    np.testing.assert_allclose(delay_traces(X, 0, gain=2.0), 2 * X)
    s = as_stream(np.array([[1.0, np.nan]]), [1], names=["a", "b"])
    assert s == [({"a": 1.0}, 1)]
    with pytest.raises(DataError):
        delay_traces(X, 12)
