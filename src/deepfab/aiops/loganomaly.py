"""The log anomaly study of lecture 16: PCA, count rules and DeepLog on a Loghub log, split in time
order, with anomalies of known kinds injected where the log has no labels.

``inject`` puts anomalies of the kinds in ``INJECTIONS`` (an unseen event, a burst, a reversed
order, a missing line) into an event-code sequence and labels the lines they touch;
``log_anomaly_study`` parses the log (``deepfab.aiops.drain``), cuts it into train / validation /
test parts, fits the count detectors (``deepfab.aiops.logwindows``) and DeepLog
(``deepfab.aiops.deeplog``) on the training part's normal windows, chooses each method's window
size (and DeepLog's k) by validation F1, and scores the test part once.

    from deepfab.aiops.loganomaly import INJECTIONS, log_anomaly_study
    bgl = log_anomaly_study("BGL", sizes=(10, 20), ks=(1, 2, 3, 5, 9), epochs=30, seed=0)
    bgl["rows"]                                  # per method: window, k, test precision, recall, F1, ...
    tb = log_anomaly_study("Thunderbird", per_kind={"unseen": 2, "burst": 2, "order": 2}, seed=0)
    tb["kind_recall"]                            # method -> kind -> recall on the test part

Introduced in lecture 16 (AIOps); ``deepfab.aiops.log_plots`` draws what the study returns.

References: S. He, J. Zhu, P. He, M. R. Lyu, "Experience Report: System Log Analysis for Anomaly
Detection", ISSRE 2016 (windows, the PCA and invariant baselines on BGL); M. Du, F. Li, G. Zheng,
V. Srikumar, "DeepLog: Anomaly Detection and Diagnosis from System Logs through Deep Learning", CCS 2017;
W. Xu, L. Huang, A. Fox, D. Patterson, M. I. Jordan, "Detecting Large-Scale System Problems by Mining
Console Logs", SOSP 2009.
"""
from __future__ import annotations

import numpy as np

from ..errors import DataError, UsageError
from .deeplog import DeepLog
from .logwindows import (
    UNSEEN,
    CountRules,
    PCADetector,
    count_matrix,
    encode_events,
    line_windows,
    window_labels,
    window_prf,
)

INJECTIONS = {"unseen": "a line of an event the training part never showed is inserted",
              "burst": "one line is repeated five more times",
              "order": "six consecutive lines (not all the same event) are put in reverse order",
              "missing": "one line is deleted (the line after the gap is labelled)"}


def inject(codes, per_kind: dict, gap: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Anomalies of known kinds (``INJECTIONS``: kind -> how many) put into an event-code sequence, at
    least ``gap`` lines apart: (codes, labels (1 = an injected or displaced line), kind of each line ('' if none))."""
    codes = np.asarray(codes, dtype=np.int64)
    kinds = [k for k, n in per_kind.items() for _ in range(n)]
    if set(kinds) - set(INJECTIONS):
        raise UsageError(f"injection kinds are {', '.join(INJECTIONS)}; got {sorted(set(kinds) - set(INJECTIONS))}")
    slots = (len(codes) - 8) // gap
    if len(kinds) > slots:
        raise DataError(f"{len(kinds)} injections {gap} lines apart need {gap * len(kinds) + 8} lines; "
                        f"got {len(codes)}")
    rng.shuffle(kinds)
    at = {}
    for slot, kind in zip(np.sort(rng.choice(slots, len(kinds), replace=False)), kinds):
        tries = slot * gap + rng.permutation(max(gap - 7, 1))
        if kind == "order":                                    # a reversal must change something
            tries = [p for p in tries if not np.array_equal(codes[p:p + 6], codes[p:p + 6][::-1])] or tries
        at[int(tries[0])] = kind
    out, lab, kind_of, i = [], [], [], 0
    while i < len(codes):
        kind = at.get(i)
        piece, mark = {None: ([codes[i]], [0]), "unseen": ([UNSEEN, codes[i]], [1, 0]),
                       "burst": ([codes[i]] * 6, [0] + [1] * 5), "order": (list(codes[i:i + 6][::-1]), [1] * 6),
                       "missing": ([codes[i + 1]], [1]) if i + 1 < len(codes) else ([], [])}[kind]
        out += piece
        lab += mark
        kind_of += [kind if m else "" for m in mark]
        i += 6 if kind == "order" else 2 if kind == "missing" else 1
    return np.array(out, np.int64), np.array(lab, np.int64), np.array(kind_of, dtype=object)


def _pick(results: list[dict]) -> dict:
    """The setting with the best validation F1 (ties: the larger k, then the smaller window)."""
    return max(results, key=lambda r: (round(r["val"]["f1"], 9), r["k"], -r["window"]))


def log_anomaly_study(system: str = "BGL", sizes=(10, 20), ks=(1, 2, 3, 5, 9), step: int = 5, split=(0.6, 0.8),
                      per_kind: dict | None = None, history: int = 10, epochs: int = 30, seed: int = 0,
                      device="cpu") -> dict:
    """PCA, count rules and DeepLog on a Loghub 2k log (lecture 16): the log parsed with
    ``deepfab.aiops.drain``, cut in time order into train / validation / test parts at ``split``
    (shares of the lines), each part cut into windows of ``sizes`` lines every ``step``. The vocabulary
    and every model come from the training part's normal lines and windows; the window size (and
    DeepLog's k) is chosen per method by validation F1; the test part is scored once. ``per_kind``
    (kind -> count) injects anomalies (``inject``) into the validation and test parts, ``gap`` 25 lines.
    Returns the chosen rows (test precision, recall, F1, false-alarm rate), the validation grid, the
    unseen-event share per part, per-kind recall and the test traces for ``log_plots``."""
    import time

    from ..data import load_loghub
    from .drain import parse_lines
    from .logformat import LOGHUB_FORMATS

    t0 = time.perf_counter()
    lg = load_loghub(system)
    events = parse_lines(lg.raw, LOGHUB_FORMATS[system]).EventId.to_numpy()
    truth = lg.labels
    n = len(events)
    cut = [0, int(split[0] * n), int(split[1] * n), n]
    _, vocab = encode_events(events[: cut[1]][truth[: cut[1]] == 0])
    rng = np.random.default_rng(seed)
    parts = {}
    for name, a, b in zip(("train", "val", "test"), cut[:-1], cut[1:]):
        codes, _ = encode_events(events[a:b], vocab)
        lab, kind = truth[a:b], np.full(b - a, "", dtype=object)
        if per_kind and name != "train":
            if lab.any():
                raise UsageError(f"inject anomalies only where none are labelled; the {name} part of {system} "
                                 f"has {int(lab.sum())} anomalous lines")
            codes, lab, kind = inject(codes, per_kind, 25, rng)
        parts[name] = {"codes": codes, "labels": lab, "kinds": kind}
    n_codes = len(vocab) + 2
    grid, kept = [], {}
    for size in sizes:
        win = {p: line_windows(len(d["codes"]), size, step) for p, d in parts.items()}
        wy = {p: window_labels(parts[p]["labels"], win[p]) for p in parts}
        counts = {p: count_matrix(parts[p]["codes"], win[p], n_codes) for p in parts}
        normal = wy["train"] == 0
        pca = PCADetector().fit(counts["train"][normal])
        rules = CountRules().fit(counts["train"][normal])
        dl = DeepLog(history=history, epochs=epochs, seed=seed, device=device).fit(
            parts["train"]["codes"], win["train"][normal], n_codes)
        score = {"PCA (SPE)": {p: pca.spe(counts[p]) / pca.limit_ for p in ("val", "test")},
                 "count rules": {p: rules.score(counts[p]).astype(float) for p in ("val", "test")},
                 "DeepLog": {p: dl.score(parts[p]["codes"], win[p]).astype(float) for p in ("val", "test")}}
        for method, s in score.items():
            for k in (ks if method == "DeepLog" else (1 if method == "PCA (SPE)" else 0,)):
                r = {"method": method, "window": size, "k": k,
                     **{p: window_prf(wy[p], s[p] > k) for p in ("val", "test")}}
                grid.append(r)
                kept[(method, size, k)] = (s["test"], win["test"], wy["test"])
        kept[("losses", size)] = dl.losses_
    rows, kind_recall, traces = [], {}, {}
    for method in ("PCA (SPE)", "count rules", "DeepLog"):
        best = _pick([r for r in grid if r["method"] == method])
        s, win, wy = kept[(method, best["window"], best["k"])]
        t = best["test"]
        rows.append({"method": method, "window": best["window"], "k": best["k"] if method == "DeepLog" else "-",
                     "val_f1": best["val"]["f1"],
                     "precision": t["precision"], "recall": t["recall"], "f1": t["f1"],
                     "false_alarm_rate": t["fp"] / max(t["fp"] + t["tn"], 1), "tp": t["tp"], "fp": t["fp"],
                     "fn": t["fn"], "tn": t["tn"]})
        traces[method] = {"score": s, "threshold": best["k"], "start": win[:, 0], "truth": wy}
        if per_kind:
            kinds = parts["test"]["kinds"]
            kind_recall[method] = {}
            for kind in per_kind:
                hit = np.array([kind in set(kinds[a:b]) for a, b in win])
                kind_recall[method][kind] = float((s[hit] > best["k"]).mean()) if hit.any() else float("nan")
    chosen_dl = next(r for r in rows if r["method"] == "DeepLog")
    return {"system": system, "rows": rows, "grid": grid, "kind_recall": kind_recall, "traces": traces,
            "losses": kept[("losses", chosen_dl["window"])], "n_known": len(vocab),
            "lines": {p: len(d["codes"]) for p, d in parts.items()},
            "unseen_share": {p: float(np.mean(d["codes"] == UNSEEN)) for p, d in parts.items()},
            "anomalous_lines": {p: int(d["labels"].sum()) for p, d in parts.items()},
            "seconds": time.perf_counter() - t0}
