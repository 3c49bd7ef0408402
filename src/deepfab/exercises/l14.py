"""Worked solutions to the exercises of lecture 14 (transfer learning, online learning, AutoML).

    deepfab exercise L14 1 --smoke
"""
from __future__ import annotations

from functools import partial

import numpy as np


def exercise_1(smoke: bool = False, seed: int = 0) -> dict:
    """Page-Hinkley's threshold trades delay for false alarms: sweep it on the SECOM sensor.

    Section 6 ran Page-Hinkley with lambda = 15. Run lambda = 5, 15 and 50 (delta 0.5) on the same
    SECOM sensor with the same injected 2-sd shifts (deepfab.adapt.drift.drift_trials) and report the
    detection rate, the median delay and the false alarms per 1,000 wafers before the shift."""
    from ..adapt import drift as drifts
    from ..data import load_secom

    secom = load_secom()
    _, values = drifts.steadiest_sensor(secom.X, secom.feature_names)
    lambdas = (5.0, 15.0, 50.0)
    make = {f"lambda {lam:g}": partial(drifts.PageHinkley, threshold=lam, delta=0.5) for lam in lambdas}
    seeds = range(seed, seed + (4 if smoke else 20))
    rows = drifts.drift_trials(values, make, seeds=seeds, length=400 if smoke else 600, size=2.0, horizon=300)
    summary = drifts.summarize_trials(rows)
    for name, s in summary.items():
        print(f"{name:>10}: detected {s['detection_rate']:.0%}, median delay {s['median_delay']:.0f} wafers, "
              f"{s['false_alarms_per_1000']:.1f} false alarms per 1,000 wafers")
    alarms = [summary[f"lambda {lam:g}"]["false_alarms_per_1000"] for lam in lambdas]
    fewer = all(a >= b for a, b in zip(alarms, alarms[1:]))
    print(f"a larger threshold {'never raised more' if fewer else 'did not always raise fewer'} false alarms "
          f"over {len(seeds)} trials")
    return {name: {k: v for k, v in s.items() if np.isfinite(v)} for name, s in summary.items()}


def exercise_2(smoke: bool = False, seed: int = 0) -> dict:
    """A later drift, a faster learner: move the injected drift and compare river's models prequentially.

    Section 5 delays every UCR Wafer trace from sample 4,120 on. Inject the same drift at two other
    places (a quarter and three quarters into the stream) and score river's logistic regression and
    its Hoeffding adaptive tree prequentially: macro-F1 over the 500 samples after the drift."""
    from river import linear_model, preprocessing, tree

    from ..adapt import online
    from ..data import load_ucr_wafer

    ucr = load_ucr_wafer()
    traces = np.concatenate([ucr.X_train, ucr.X_test])
    labels = np.concatenate([ucr.y_train, ucr.y_test])
    n = 1500 if smoke else len(traces)
    traces, labels = traces[:n], labels[:n]
    models = {"logistic": lambda: preprocessing.StandardScaler() | linear_model.LogisticRegression(),
              "Hoeffding adaptive tree": lambda: tree.HoeffdingAdaptiveTreeClassifier(seed=seed)}
    after = 200 if smoke else 500
    out = {}
    for share in (0.25, 0.75):
        t0 = int(share * n)
        drifted = np.concatenate([traces[:t0], online.delay_traces(traces[t0:], 10, 1.5)])
        stream = online.as_stream(online.trace_features(drifted), labels)
        for name, make in models.items():
            res = online.prequential(make(), stream)
            f1 = res.metrics(start=t0, stop=t0 + after)["macro_f1"]
            out[f"{name}/drift_at_{share:g}"] = f1
            print(f"drift at {share:.0%} of the stream: {name} macro-F1 {f1:.3f} on the {after} samples after it")
    return out
