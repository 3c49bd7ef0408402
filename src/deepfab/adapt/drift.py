"""Drift detectors on a stream: Page-Hinkley from scratch, ADWIN from river, and how to score them.

Lecture 14 injects a change of known size at a known time into a real sensor stream (one SECOM
sensor in time order, or the error stream of an online model) and measures, over several seeds,
how late each detector raises its alarm (**detection delay**) and how often it cries wolf before the
change (**false alarms**).

**Page-Hinkley** (Page 1954, the CUSUM form of river's ``drift.PageHinkley``): with the running
(fading) mean of the stream, an allowance ``delta`` and a threshold ``lambda``,

    m_T = alpha m_{T-1} + (x_T - mean_T - delta)       M_T = min_{t <= T} m_t       alarm when m_T - M_T > lambda

for an increase (and the mirror image for a decrease: ``n_T = alpha n_{T-1} + (x_T - mean_T + delta)``,
alarm when ``max_t n_t - n_T > lambda``). After an alarm everything restarts with the next value.
``PageHinkley`` follows river's conventions exactly (the mean is updated before the deviation, no
test before ``min_instances`` values, and the running maximum of the decrease sums starts at -1),
so that the two raise alarms at the same positions (``tests/adapt/test_drift.py``).

**ADWIN** (Bifet & Gavalda 2007) keeps a window of recent values and drops its older part whenever
the means of two sub-windows differ by more than a Hoeffding-style bound at confidence ``delta``:
no threshold in the units of the data, and the window length adapts. It is used from river.

    det = PageHinkley(threshold=20)
    x = inject_shift(z, t0=600, size=1.0)                # (T,) stream, +1 sd from t0 on
    alarm_positions(det, x)                              # [612, ...]
    score_alarms(alarm_positions(det, x), t0=600)        # {"delay": 12, "false_alarms": 0, "detected": True}
    rows = drift_trials(z, {"PH": lambda: PageHinkley(threshold=20), "ADWIN": river.drift.ADWIN},
                        seeds=range(10), length=800, size=1.0)

References:
    E. S. Page, "Continuous Inspection Schemes", Biometrika 41(1/2), 1954.
    A. Bifet, R. Gavalda, "Learning from Time-Changing Data with Adaptive Windowing", SIAM SDM 2007.
    J. Gama, I. Zliobaite, A. Bifet, M. Pechenizkiy, A. Bouchachia, "A Survey on Concept Drift
    Adaptation", ACM Computing Surveys 46(4), 2014.
    J. Montiel et al., "River: machine learning for streaming data in Python", JMLR 22, 2021.
"""
from __future__ import annotations

import numpy as np

from ..errors import DataError, UsageError

MODES = ("up", "down", "both")


class PageHinkley:
    """Page-Hinkley change detector (see the module docstring); ``update(x)`` returns ``drift_detected``."""

    def __init__(self, min_instances: int = 30, delta: float = 0.005, threshold: float = 50.0,
                 alpha: float = 1 - 0.0001, mode: str = "both"):
        if mode not in MODES:
            raise UsageError(f"mode must be one of {MODES}; got {mode!r}")
        if not threshold > 0 or not 0 < alpha <= 1 or min_instances < 1:
            raise UsageError(f"PageHinkley needs threshold > 0, alpha in (0, 1], min_instances >= 1; got "
                             f"{threshold!r}, {alpha!r}, {min_instances!r}")
        self.min_instances, self.delta, self.threshold, self.alpha, self.mode = (
            int(min_instances), float(delta), float(threshold), float(alpha), mode)
        self._restart()

    def _restart(self) -> None:
        self.n, self.mean = 0, 0.0
        self.up, self.down = 0.0, 0.0               # m_T and n_T
        self.up_min, self.down_max = float("inf"), -1.0
        self.drift_detected = False

    def update(self, x: float) -> bool:
        if self.drift_detected:
            self._restart()
        self.n += 1
        self.mean += (x - self.mean) / self.n       # the running mean, updated before the deviation
        dev = x - self.mean
        self.up = self.alpha * self.up + dev - self.delta
        self.down = self.alpha * self.down + dev + self.delta
        self.up_min = min(self.up_min, self.up)
        self.down_max = max(self.down_max, self.down)
        if self.n >= self.min_instances:
            rise, fall = self.up - self.up_min, self.down_max - self.down
            self.drift_detected = ((self.mode != "down" and rise > self.threshold)
                                   or (self.mode != "up" and fall > self.threshold))
        return self.drift_detected


def alarm_positions(detector, stream) -> list[int]:
    """Indices of ``stream`` at which ``detector`` (anything with ``update(x)`` and ``drift_detected``,
    ours or river's) raises an alarm."""
    out = []
    for i, x in enumerate(np.asarray(stream, dtype=float)):
        detector.update(float(x))
        if detector.drift_detected:
            out.append(i)
    return out


def inject_shift(x, t0: int, size: float, width: int = 0) -> np.ndarray:
    """A copy of ``x`` (T,) with ``size`` added from index ``t0`` on: a step, or a linear ramp over
    ``width`` samples (a gradual drift) reaching ``size`` at ``t0 + width``."""
    x = np.asarray(x, dtype=float).copy()
    if x.ndim != 1 or not 0 <= t0 < len(x) or width < 0:
        raise DataError(f"inject_shift needs a 1-D stream and 0 <= t0 < T, width >= 0; got shape {x.shape}, "
                        f"t0={t0}, width={width}")
    ramp = np.minimum(1.0, (np.arange(len(x) - t0) + 1) / width) if width else np.ones(len(x) - t0)
    x[t0:] += size * ramp
    return x


def standardize(x, n_ref: int) -> np.ndarray:
    """(x - median) / (1.4826 MAD) of the first ``n_ref`` values (a reference period): the stream in
    robust standard deviations, so that one threshold means the same on every sensor."""
    x = np.asarray(x, dtype=float)
    ref = x[:n_ref]
    med = np.median(ref)
    mad = 1.4826 * np.median(np.abs(ref - med))
    if not n_ref >= 2 or not mad > 0:
        raise DataError(f"standardize needs a reference of >= 2 values that are not all equal; got n_ref={n_ref}, "
                        f"MAD {mad}")
    return (x - med) / mad


def steadiest_sensor(X, names, min_distinct: int = 500) -> tuple[str, np.ndarray]:
    """The column of a sensor table ``X`` (N, F), rows in time order, that suits a mean-shift test: no
    missing value, at least ``min_distinct`` distinct readings (not a counter or a setting), and the
    kurtosis closest to 3 (the Gaussian's; heavy tails make isolated spikes look like changes).
    Returns its name and values (N,)."""
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != len(names):
        raise DataError(f"steadiest_sensor needs X (N, F) and F names; got {X.shape} and {len(names)} names")
    best, pick = np.inf, None
    for j in range(X.shape[1]):
        c = X[:, j]
        if np.isnan(c).any() or len(np.unique(c)) < min_distinct:
            continue
        z = (c - c.mean()) / c.std()
        if abs((z ** 4).mean() - 3) < best:
            best, pick = abs((z ** 4).mean() - 3), j
    if pick is None:
        raise DataError(f"no complete column with >= {min_distinct} distinct values")
    return str(names[pick]), X[:, pick].copy()


def score_alarms(alarms, t0: int, horizon: int | None = None) -> dict:
    """``delay``: first alarm at or after ``t0`` (and before ``t0 + horizon``, if given) minus ``t0``, NaN
    when none (a missed drift: an alarm long after the change says little about it); ``false_alarms``:
    alarms before ``t0``; ``detected``: whether such a first alarm exists."""
    alarms = np.asarray(alarms, dtype=np.int64)
    after = alarms[(alarms >= t0) & (alarms < (t0 + horizon if horizon is not None else np.inf))]
    return {"delay": float(after[0] - t0) if after.size else float("nan"),
            "false_alarms": int((alarms < t0).sum()), "detected": bool(after.size)}


def drift_trials(stream, detectors: dict, seeds, length: int, size: float, width: int = 0,
                 n_ref: int = 100, horizon: int | None = None) -> list[dict]:
    """For each seed: a window of ``length`` consecutive values of the real ``stream`` at a random
    start, standardised on its first ``n_ref`` values, a shift of ``size`` (robust sd) injected at a
    random ``t0`` in the middle third of the window; every detector (name -> factory of a fresh one)
    runs on the same window. One row per (seed, detector): t0, delay, false alarms, detected (within
    ``horizon`` samples of ``t0``, see ``score_alarms``)."""
    x = np.asarray(stream, dtype=float)
    if x.ndim != 1 or not 3 * n_ref <= length <= len(x) or not np.isfinite(x).all():
        raise DataError(f"drift_trials needs a finite 1-D stream of at least length >= 3 n_ref values; got "
                        f"{x.shape}, length={length}, n_ref={n_ref}")
    rows = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        start = int(rng.integers(0, len(x) - length + 1))
        t0 = int(rng.integers(max(n_ref, length // 3), 2 * length // 3))
        window = inject_shift(standardize(x[start:start + length], n_ref), t0, size, width)
        for name, make in detectors.items():
            rows.append({"seed": int(seed), "detector": name, "start": start, "t0": t0,
                         **score_alarms(alarm_positions(make(), window), t0, horizon)})
    return rows


def summarize_trials(rows: list[dict]) -> dict:
    """Per detector: detection rate, mean and median delay of the detected drifts, false alarms per
    1,000 pre-drift values (over all trials), and the number of trials."""
    out = {}
    for name in dict.fromkeys(r["detector"] for r in rows):
        mine = [r for r in rows if r["detector"] == name]
        delays = np.array([r["delay"] for r in mine if r["detected"]])
        pre = sum(r["t0"] for r in mine)
        out[name] = {"detection_rate": float(np.mean([r["detected"] for r in mine])),
                     "mean_delay": float(delays.mean()) if delays.size else float("nan"),
                     "median_delay": float(np.median(delays)) if delays.size else float("nan"),
                     "false_alarms_per_1000": 1000.0 * sum(r["false_alarms"] for r in mine) / max(pre, 1),
                     "trials": len(mine)}
    return out
