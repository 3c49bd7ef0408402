"""Online learning on a sensor stream, scored prequentially: test on each sample, then train on it.

Lecture 14 streams UCR Wafer traces (one wafer's sensor trace per step) past models that learn one
sample at a time (river's logistic regression, Hoeffding adaptive tree, adaptive random forest:
``learn_one``, an incremental update, never a refit) and past a scikit-learn model retrained from
scratch every ``period`` samples on the last ``window`` samples (``WindowRetrain``, the batch
baseline). A drift of known time is injected (``delay_traces``: from ``t0`` on the process trace
runs late, with another gain); ``DriftReset`` puts a drift detector on a model's own error stream and restarts the
model when it fires.

**Prequential evaluation** (Dawid 1984; Gama et al. 2013): for t = 1..T, predict y_t from x_t with
the model of time t-1, score the prediction, then learn (x_t, y_t). Every sample is a test sample
before it is a training sample, no sample is scored by a model that saw it, and the scores over time
show when a model degrades and recovers. ``prequential`` is that loop; it gives the same metric as
``river.evaluate.progressive_val_score`` on the same stream and model (``tests/adapt/test_online.py``);
predictions of ``None`` (a model that knows no class yet) are not scored, as in river.

    F = trace_features(X)                                         # (N, 23): segment means and 4 shape numbers
    stream = as_stream(F, y)                                      # [(dict, int)], river's sample format
    res = prequential(preprocessing.StandardScaler() | linear_model.LogisticRegression(), stream)
    res.metrics()["macro_f1"], rolling_accuracy(res.correct, 200)
    batch = WindowRetrain(HistGradientBoostingClassifier(random_state=0), window=1000, period=500)
    guarded = DriftReset(batch, lambda: drift.ADWIN())            # restart the window on an alarm
    prequential(guarded, stream); guarded.alarms

References:
    A. P. Dawid, "Present Position and Potential Developments: Some Personal Views. Statistical Theory:
    The Prequential Approach", J. Royal Statistical Society A 147(2), 1984.
    J. Gama, R. Sebastiao, P. P. Rodrigues, "On evaluating stream learning algorithms", Machine Learning
    90(3), 2013.
    J. Gama, I. Zliobaite, A. Bifet, M. Pechenizkiy, A. Bouchachia, "A Survey on Concept Drift
    Adaptation", ACM Computing Surveys 46(4), 2014.
    G. Hulten, L. Spencer, P. Domingos, "Mining Time-Changing Data Streams", KDD 2001 (Hoeffding trees
    under drift); A. Bifet, R. Gavalda, "Adaptive Learning from Evolving Data Streams", IDA 2009 (HAT);
    H. M. Gomes et al., "Adaptive random forests for evolving data stream classification", Machine
    Learning 106, 2017 (ARF).
    J. Montiel et al., "River: machine learning for streaming data in Python", JMLR 22, 2021.
    R. T. Olszewski, PhD thesis CMU-CS-01-108, 2001 (the Wafer traces).
"""
from __future__ import annotations

import time
from collections import Counter, deque
from dataclasses import dataclass

import numpy as np

from ..errors import DataError, UsageError
from ..train.metrics import classification_metrics


def trace_features(X, segment: int = 8) -> np.ndarray:
    """(N, T // segment + 4) features of traces ``X`` (N, T): the mean of each ``segment`` consecutive
    steps (piecewise aggregate approximation), then the trace's sd, mean |step-to-step change|, min, max."""
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] < segment or segment < 1:
        raise DataError(f"trace_features needs traces (N, T) with T >= segment >= 1; got {X.shape}, segment={segment}")
    k = X.shape[1] // segment
    paa = X[:, :k * segment].reshape(len(X), k, segment).mean(2)                      # (N, k)
    shape = np.stack([X.std(1), np.abs(np.diff(X, axis=1)).mean(1), X.min(1), X.max(1)], 1)   # (N, 4)
    return np.concatenate([paa, shape], 1)


def delay_traces(X, lag: int, gain: float = 1.0) -> np.ndarray:
    """Traces ``X`` (N, T) running ``lag`` steps late (each shifted right, the first value repeated in
    front: a recipe step that starts later after maintenance) and multiplied by ``gain`` (a sensor whose
    gain changed). The known drift of lecture 14."""
    X = np.asarray(X)
    if X.ndim != 2 or not 0 <= lag < X.shape[1]:
        raise DataError(f"delay_traces needs (N, T) traces and 0 <= lag < T; got {X.shape}, lag={lag}")
    late = np.concatenate([np.repeat(X[:, :1], lag, 1), X[:, :X.shape[1] - lag]], 1) if lag else X.copy()
    return late * gain


def as_stream(F, y, names=None) -> list[tuple[dict, int]]:
    """Rows of ``F`` (N, D) as river samples ``({name: value}, label)``; NaN features are left out of the
    dict (river's linear models and trees treat an absent key as missing)."""
    F, y = np.asarray(F, dtype=float), np.asarray(y)
    if F.ndim != 2 or len(F) != len(y):
        raise DataError(f"as_stream needs F (N, D) and y (N,); got {F.shape} and {y.shape}")
    names = [f"x{j}" for j in range(F.shape[1])] if names is None else [str(n) for n in names]
    return [({n: float(v) for n, v in zip(names, row) if v == v}, int(t)) for row, t in zip(F, y)]


@dataclass
class Prequential:
    """What ``prequential`` returns: per sample the label, the prediction (-1 = none) and whether it was scored."""

    y_true: np.ndarray        # (T,) int
    y_pred: np.ndarray        # (T,) int, -1 where the model made no prediction
    scored: np.ndarray        # (T,) bool
    seconds: float

    @property
    def correct(self) -> np.ndarray:
        """(T,) float: 1 right, 0 wrong, NaN not scored."""
        return np.where(self.scored, (self.y_true == self.y_pred).astype(float), np.nan)

    def metrics(self, label_names=None, start: int = 0, stop: int | None = None) -> dict:
        """``classification_metrics`` (accuracy, macro-F1, per-class recall, ...) of the scored samples in
        ``[start, stop)``."""
        keep = self.scored.copy()
        keep[:start] = False
        if stop is not None:
            keep[stop:] = False
        if not keep.any():
            raise DataError(f"no scored predictions in [{start}, {stop})")
        return classification_metrics(self.y_true[keep], self.y_pred[keep], label_names)


def prequential(model, stream) -> Prequential:
    """Test-then-train over ``stream`` (pairs ``(x, y)``): ``model.predict_one(x)`` is scored, then
    ``model.learn_one(x, y)``; ``model`` is updated in place."""
    if not (hasattr(model, "predict_one") and hasattr(model, "learn_one")):
        raise UsageError(f"model must have predict_one and learn_one (river's interface); got {type(model).__name__}")
    ys, preds, scored = [], [], []
    t = time.perf_counter()
    for x, y in stream:
        p = model.predict_one(x)
        scored.append(p is not None)
        preds.append(int(p) if p is not None else -1)
        ys.append(int(y))
        model.learn_one(x, y)
    return Prequential(np.array(ys, dtype=np.int64), np.array(preds, dtype=np.int64), np.array(scored, bool),
                       time.perf_counter() - t)


def rolling_accuracy(correct, window: int) -> np.ndarray:
    """(T,) mean of the last ``window`` scored values of ``correct`` (NaN ignored; NaN until one is seen)."""
    c = np.asarray(correct, dtype=float)
    ok, seen = np.nan_to_num(c), (~np.isnan(c)).astype(float)
    cs_ok, cs_n = np.cumsum(ok), np.cumsum(seen)
    lag = lambda a: np.concatenate([np.zeros(window), a[:-window]]) if window < len(a) else np.zeros(len(a))  # noqa: E731
    n = cs_n - lag(cs_n)
    return np.divide(cs_ok - lag(cs_ok), n, out=np.full(len(c), np.nan), where=n > 0)


class WindowRetrain:
    """Periodic batch retraining: a scikit-learn ``estimator`` refitted from scratch on the last ``window``
    samples every ``period`` samples (first when ``min_fit`` samples are in). Until the first fit it
    predicts the most frequent label seen. ``restart()`` empties the window (the current model keeps
    predicting until ``min_fit`` new samples refit it). ``fits`` counts the refits."""

    def __init__(self, estimator, window: int = 1000, period: int = 500, min_fit: int = 100):
        if not 1 <= min_fit <= window or period < 1:
            raise UsageError(f"WindowRetrain needs 1 <= min_fit <= window and period >= 1; got min_fit={min_fit}, "
                             f"window={window}, period={period}")
        self.estimator, self.window, self.period, self.min_fit = estimator, int(window), int(period), int(min_fit)
        self.keys, self.model_, self.fits = None, None, 0
        self.counts = Counter()
        self.restart()

    def restart(self) -> None:
        self.X, self.y = deque(maxlen=self.window), deque(maxlen=self.window)   # rows (D,) and labels
        self.since, self.waiting = 0, True        # samples since the last fit; no fit since the (re)start yet

    def clone(self) -> WindowRetrain:
        """An untrained copy with the same settings (river's convention)."""
        return WindowRetrain(self.estimator, self.window, self.period, self.min_fit)

    def _row(self, x: dict) -> list:
        if self.keys is None:
            self.keys = sorted(x)
        return [x.get(k, np.nan) for k in self.keys]

    def predict_one(self, x: dict):
        if self.model_ is None:
            return self.counts.most_common(1)[0][0] if self.counts else None
        return int(self.model_.predict(np.array([self._row(x)]))[0])

    def learn_one(self, x: dict, y) -> None:
        self.X.append(self._row(x))
        self.y.append(y)
        self.counts[y] += 1
        self.since += 1
        due = len(self.y) >= self.min_fit if self.waiting else self.since >= self.period
        if due and len(set(self.y)) > 1:
            from sklearn.base import clone

            self.model_ = clone(self.estimator).fit(np.array(self.X), np.array(self.y))
            self.fits += 1
            self.since, self.waiting = 0, False


class DriftReset:
    """``model`` (river-style) guarded by a drift detector on its own 0/1 error stream: each ``learn_one``
    first feeds the detector whether the model's prediction of ``x`` was wrong; on an alarm the model
    restarts (``model.restart()`` if it has one, else a fresh ``model.clone()``, river's untrained copy)
    and the detector is replaced by a new one. ``alarms`` lists the sample indices of the alarms."""

    def __init__(self, model, make_detector):
        if not callable(make_detector):
            raise UsageError(f"make_detector must be a callable returning a fresh detector; got {make_detector!r}")
        self.model, self.make_detector = model, make_detector
        self.detector, self.alarms, self.t = make_detector(), [], 0
        self._last = (None, None)                 # (x, prediction): prequential asks once, learn_one reuses it

    def predict_one(self, x):
        self._last = (x, self.model.predict_one(x))
        return self._last[1]

    def learn_one(self, x, y) -> None:
        p = self._last[1] if self._last[0] is x else self.model.predict_one(x)
        self.detector.update(float(p is None or p != y))
        if self.detector.drift_detected:
            self.alarms.append(self.t)
            if hasattr(self.model, "restart"):
                self.model.restart()
            else:
                self.model = self.model.clone()
            self.detector = self.make_detector()
        self.model.learn_one(x, y)
        self.t += 1

