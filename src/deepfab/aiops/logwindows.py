"""Windows of a parsed log and two detectors that read their event counts: PCA (SPE) and count rules.

A parsed log is a sequence of event ids, one per line (``deepfab.aiops.drain``). Detection works on
**windows** of consecutive lines: fixed (``step == size``) or sliding (``step < size``), by line count
(``line_windows``) or by time (``time_windows``); a window is anomalous when it holds an anomalous line
(``window_labels``), and ``window_prf`` scores flagged windows against the truth.

- **codes**: ``encode_events`` maps event ids to integers; 0 pads a short history, 1 (``UNSEEN``)
  stands for every event the training windows never showed, known events count from 2.
- **PCA** (Xu et al. 2009): each window as its vector of event counts, TF-IDF weighted; the normal
  subspace spans the principal components that explain ``variance`` of the training windows; the
  squared prediction error SPE = ||(I - P P^T) (y - mean)||^2 is tested against the Q-statistic limit
  of Jackson and Mudholkar (``deepfab.aiops.fdc.spe_limit``, the one the tool sensors use) at
  false-alarm rate ``alpha``.
- **count rules** (``CountRules``): a window breaks a rule when an event occurs more often than in any
  training window (an unseen event: at all), or when two events that occurred equally often in every
  training window (invariants in the sense of Lou et al. 2010, here only c_a = c_b) do not.

    from deepfab.aiops.logwindows import PCADetector, count_matrix, encode_events, line_windows, window_prf
    codes, vocab = encode_events(event_ids[:1200])           # vocabulary from the training part
    codes_all, _ = encode_events(event_ids, vocab)           # later events not in it -> UNSEEN
    win = line_windows(len(codes_all), size=20, step=5)      # (W, 2) [start, stop) line ranges
    counts = count_matrix(codes_all, win, len(vocab) + 2)    # (W, n_codes)
    pca = PCADetector().fit(counts[normal_train])
    window_prf(truth[test], pca.predict(counts[test]))       # precision, recall, f1, tp, fp, fn, tn

Introduced in lecture 16 (AIOps); DeepLog (``deepfab.aiops.deeplog``) scores the same windows, and
``deepfab.aiops.loganomaly.log_anomaly_study`` compares the three.

References: W. Xu, L. Huang, A. Fox, D. Patterson, M. I. Jordan, "Detecting Large-Scale System Problems
by Mining Console Logs", SOSP 2009; J. E. Jackson, G. S. Mudholkar, "Control Procedures for Residuals
Associated with Principal Component Analysis", Technometrics 21(3), 1979; J.-G. Lou, Q. Fu, S. Yang,
Y. Xu, J. Li, "Mining Invariants from Console Logs for System Problem Detection", USENIX ATC 2010;
S. He, J. Zhu, P. He, M. R. Lyu, "Experience Report: System Log Analysis for Anomaly Detection",
ISSRE 2016 (windows, the PCA and invariant baselines on BGL).
"""
from __future__ import annotations

import numpy as np

from ..errors import DataError, UsageError
from .fdc import spe_limit

PAD, UNSEEN = 0, 1


def encode_events(event_ids, vocab: dict | None = None) -> tuple[np.ndarray, dict]:
    """(codes (N,) int64, vocab {event: code}): with ``vocab`` None it is built from ``event_ids``
    (codes from 2 in order of first appearance); with a given vocab, unknown events get ``UNSEEN``."""
    if vocab is None:
        vocab = {}
        for e in event_ids:
            vocab.setdefault(e, len(vocab) + 2)
    return np.array([vocab.get(e, UNSEEN) for e in event_ids], dtype=np.int64), vocab


def line_windows(n_lines: int, size: int, step: int | None = None) -> np.ndarray:
    """(W, 2) [start, stop) line ranges of ``size`` lines every ``step`` (default ``size``: fixed
    windows); a last window ends at the last line so that every line is in one; a log shorter than
    ``size`` is one window."""
    step = size if step is None else step
    if size < 1 or step < 1:
        raise UsageError(f"window size and step must be at least 1 line; got size {size}, step {step}")
    if n_lines < 1:
        raise DataError("no lines to cut into windows; expected at least one log line")
    starts = list(range(0, max(n_lines - size, 0) + 1, step))
    if starts[-1] + size < n_lines:
        starts.append(n_lines - size)
    return np.array([(s, min(s + size, n_lines)) for s in starts], dtype=np.int64)


def time_windows(times, size: float, step: float | None = None) -> np.ndarray:
    """(W, 2) [start, stop) line ranges of the non-empty time windows [t0 + i step, t0 + i step + size)
    over ``times`` (seconds, non-decreasing, e.g. a Unix timestamp per line); default step: ``size``."""
    t = np.asarray(times, dtype=np.float64)
    step = size if step is None else step
    if not (size > 0 and step > 0):
        raise UsageError(f"time window size and step must be positive; got size {size}, step {step}")
    if t.ndim != 1 or t.size == 0 or not np.all(np.isfinite(t)) or np.any(np.diff(t) < 0):
        raise DataError("time windows need one finite, non-decreasing time per line")
    lo = t[0] + step * np.arange(int((t[-1] - t[0]) // step) + 1)       # (W,) window start times
    start, stop = np.searchsorted(t, lo, "left"), np.searchsorted(t, lo + size, "left")
    keep = stop > start
    return np.stack([start[keep], stop[keep]], axis=1).astype(np.int64)


def count_matrix(codes, windows, n_codes: int) -> np.ndarray:
    """(W, n_codes) how often each event code occurs in each window."""
    codes = np.asarray(codes)
    out = np.zeros((len(windows), n_codes))
    for w, (a, b) in enumerate(windows):
        out[w] = np.bincount(codes[a:b], minlength=n_codes)[:n_codes]
    return out


def window_labels(line_labels, windows) -> np.ndarray:
    """(W,) 1 when any line of the window is labelled anomalous."""
    y = np.asarray(line_labels)
    return np.array([int(y[a:b].any()) for a, b in windows], dtype=np.int64)


def window_prf(truth, flags) -> dict:
    """Precision, recall and F1 of the anomalous windows, with the counts tp, fp, fn, tn."""
    from ..train.metrics import classification_metrics

    t, f = np.asarray(truth).astype(np.int64), np.asarray(flags).astype(np.int64)
    m = classification_metrics(t, f, ["normal", "anomalous"])
    (tn, fp), (fn, tp) = m["confusion"]
    return {"precision": m["per_class_precision"]["anomalous"], "recall": m["per_class_recall"]["anomalous"],
            "f1": m["per_class_f1"]["anomalous"], "tp": tp, "fp": fp, "fn": fn, "tn": tn}


class PCADetector:
    """Xu et al.'s PCA detector on window count vectors (module docstring): ``fit`` on normal windows,
    ``spe`` the squared distance to the normal subspace, ``predict`` SPE > ``limit_``."""

    def __init__(self, variance: float = 0.95, alpha: float = 0.001, tfidf: bool = True):
        self.variance, self.alpha, self.tfidf = variance, alpha, tfidf

    def _weigh(self, counts) -> np.ndarray:
        return np.asarray(counts, dtype=np.float64) * self.idf_          # (W, E)

    def fit(self, counts) -> PCADetector:
        X = np.asarray(counts, dtype=np.float64)
        if X.ndim != 2 or X.shape[0] < 2:
            raise DataError(f"PCA needs a (windows, events) count matrix with at least 2 windows; got {X.shape}")
        if not 0.0 < self.variance <= 1.0 or not 0.0 < self.alpha < 1.0:
            raise UsageError(f"variance must be in (0, 1] and alpha in (0, 1); got {self.variance}, {self.alpha}")
        df = (X > 0).sum(0)                                               # (E,) windows holding each event
        self.idf_ = np.log((1.0 + len(X)) / (1.0 + df)) if self.tfidf else np.ones(X.shape[1])
        Y = self._weigh(X)
        self.mean_ = Y.mean(0)
        _, s, vt = np.linalg.svd(Y - self.mean_, full_matrices=False)   # rows of vt: principal axes
        lam = s ** 2 / (len(Y) - 1)                                       # (min(W, E),) eigenvalues
        share = np.cumsum(lam) / max(lam.sum(), 1e-300)
        k = int(np.searchsorted(share, self.variance - 1e-12) + 1)
        self.n_components_, self.components_, self.eigenvalues_ = k, vt[:k], lam
        rest = lam[k:][lam[k:] > 1e-12 * lam[0]]                          # rounding-level eigenvalues are zeros
        # Jackson-Mudholkar (deepfab.aiops.fdc); when the model explains every direction any residual is new
        self.limit_ = spe_limit(rest, self.alpha) if rest.size else 1e-9 * float(lam.sum())
        return self

    def spe(self, counts) -> np.ndarray:
        """(W,) squared prediction error: the squared length of the part outside the normal subspace."""
        Y = self._weigh(counts) - self.mean_
        R = Y - (Y @ self.components_.T) @ self.components_
        return np.einsum("ij,ij->i", R, R)

    def predict(self, counts) -> np.ndarray:
        return self.spe(counts) > self.limit_


class CountRules:
    """Count thresholds and pairwise count invariants learnt from normal windows (module docstring).

    ``fit`` keeps ``max_`` (E,), the most of each event in one training window, and ``invariants_``
    (pairs a < b with c_a = c_b in every training window, both present in at least ``support``
    windows); ``score`` counts the rules a window breaks, ``predict`` score > 0."""

    def __init__(self, support: int = 3):
        self.support = support

    def fit(self, counts) -> CountRules:
        X = np.asarray(counts)
        if X.ndim != 2 or len(X) < 1:
            raise DataError(f"count rules need a (windows, events) count matrix; got shape {X.shape}")
        self.max_ = X.max(0)
        seen = np.flatnonzero((X > 0).sum(0) >= self.support)             # events frequent enough to pair
        pairs = [(a, b) for i, a in enumerate(seen) for b in seen[i + 1:] if np.array_equal(X[:, a], X[:, b])]
        self.invariants_ = np.array(pairs, dtype=np.int64).reshape(-1, 2)
        return self

    def score(self, counts) -> np.ndarray:
        X = np.asarray(counts)
        over = (X > self.max_).sum(1)                                      # (W,) events above their maximum
        a, b = self.invariants_.T
        return over + (X[:, a] != X[:, b]).sum(1)

    def predict(self, counts) -> np.ndarray:
        return self.score(counts) > 0
