"""Log anomaly detection on windows of events: PCA (SPE), count rules, and DeepLog's next-event LSTM.

A parsed log is a sequence of event ids, one per line (``deepfab.aiops.drain``). Detection works on
**windows** of consecutive lines: fixed (``step == size``) or sliding (``step < size``), by line count
(``line_windows``) or by time (``time_windows``); a window is anomalous when it holds an anomalous line.

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
- **DeepLog** (Du et al. 2017): an LSTM reads the ``history`` events before each line (padded at
  the start of the log) and predicts a distribution over the known events; the line's
  **rank** is the place of the event that did occur in that prediction (1 = the most likely; an
  unseen event ranks last, ``n_known + 1``). A window's score is its worst rank; it is anomalous when
  an event is not among the ``top_k`` predictions, score > k. Trained on normal windows only.

    from deepfab.aiops.loganomaly import line_windows, encode_events, DeepLog, PCADetector, window_prf
    codes, vocab = encode_events(event_ids[:1200])           # vocabulary from the training part
    codes_all, _ = encode_events(event_ids, vocab)           # later events not in it -> UNSEEN
    win = line_windows(len(codes_all), size=20, step=5)      # (W, 2) [start, stop) line ranges
    dl = DeepLog(history=10, top_k=9, seed=0).fit(codes_all, win[normal_train], n_codes=len(vocab) + 2)
    flags = dl.score(codes_all, win[test]) > dl.top_k
    window_prf(truth[test], flags)                           # precision, recall, f1, tp, fp, fn

Introduced in lecture 16 (AIOps); ``deepfab logs detect`` wraps DeepLog for a user's files
(``deepfab.aiops.logmodel``); ``log_anomaly_study`` compares the three on a Loghub log, temporally
split, with anomalies of known kinds injected where the log has no labels (``inject``).

References: W. Xu, L. Huang, A. Fox, D. Patterson, M. I. Jordan, "Detecting Large-Scale System Problems
by Mining Console Logs", SOSP 2009; J. E. Jackson, G. S. Mudholkar, "Control Procedures for Residuals
Associated with Principal Component Analysis", Technometrics 21(3), 1979; J.-G. Lou, Q. Fu, S. Yang,
Y. Xu, J. Li, "Mining Invariants from Console Logs for System Problem Detection", USENIX ATC 2010;
M. Du, F. Li, G. Zheng, V. Srikumar, "DeepLog: Anomaly Detection and Diagnosis from System Logs through
Deep Learning", CCS 2017; S. He, J. Zhu, P. He, M. R. Lyu, "Experience Report: System Log Analysis for
Anomaly Detection", ISSRE 2016 (windows, the PCA and invariant baselines on BGL).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

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


class DeepLogNet(nn.Module):
    """Embedding -> LSTM -> linear: (B, history) event codes -> (B, n_known) logits over the known events."""

    def __init__(self, n_codes: int, hidden: int = 64, layers: int = 2, embed: int = 16):
        super().__init__()
        if n_codes < 3:
            raise UsageError(f"DeepLog needs at least one known event (n_codes >= 3); got n_codes {n_codes}")
        self.config = {"n_codes": n_codes, "hidden": hidden, "layers": layers, "embed": embed}
        self.embed = nn.Embedding(n_codes, embed, padding_idx=PAD)
        self.lstm = nn.LSTM(embed, hidden, num_layers=layers, batch_first=True)
        self.head = nn.Linear(hidden, n_codes - 2)                         # known events: codes 2.. -> 0..

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, _ = self.lstm(self.embed(x))                                    # (B, history, hidden)
        return self.head(h[:, -1])                                         # (B, n_known)


def history_pairs(codes, history: int) -> tuple[np.ndarray, np.ndarray]:
    """For every line of the log: (X (N, history) the events of the ``history`` lines before it, PAD
    before the first line; y (N,) its own event)."""
    codes = np.asarray(codes, dtype=np.int64)
    padded = np.concatenate([np.full(history, PAD, np.int64), codes])
    return np.lib.stride_tricks.sliding_window_view(padded, history)[: len(codes)].copy(), codes


def ranks(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """(P,) the place of code ``y`` in each row of ``logits`` (P, n_known): 1 + the number of known
    events scored higher; an ``UNSEEN`` (or PAD) code ranks ``n_known + 1``."""
    known = y >= 2
    idx = (y - 2).clamp(min=0)
    own = logits.gather(1, idx[:, None])                                   # (P, 1)
    r = 1 + (logits > own).sum(1)
    return torch.where(known, r, torch.full_like(r, logits.shape[1] + 1))


class DeepLog:
    """DeepLog's execution-path model (module docstring): ``fit`` on normal windows, ``score`` a
    window's worst rank, ``predict`` score > ``top_k``."""

    def __init__(self, history: int = 10, top_k: int = 9, hidden: int = 64, layers: int = 2, embed: int = 16,
                 epochs: int = 30, batch_size: int = 64, lr: float = 1e-2, seed: int = 0, device="cpu"):
        if history < 1 or top_k < 1 or epochs < 1:
            raise UsageError(f"history, top_k and epochs must be at least 1; got {history}, {top_k}, {epochs}")
        self.history, self.top_k, self.hidden, self.layers, self.embed = history, top_k, hidden, layers, embed
        self.epochs, self.batch_size, self.lr, self.seed, self.device = epochs, batch_size, lr, seed, device

    def fit(self, codes, windows, n_codes: int) -> DeepLog:
        """Train on every line inside ``windows`` (normal ones), each once, to predict its event from
        the ones before it in the log; a line whose own event is unseen (``UNSEEN``) is no target."""
        from ..device import resolve_device

        X, y = history_pairs(codes, self.history)
        inside = np.zeros(len(y), bool)
        for a, b in windows:
            inside[a:b] = True
        keep = inside & (y >= 2)
        if not keep.any():
            raise DataError("no known events in the training windows; expected normal windows of parsed lines")
        device = resolve_device(str(self.device))
        torch.manual_seed(self.seed)
        self.net_ = DeepLogNet(n_codes, self.hidden, self.layers, self.embed).to(device)
        X, y = torch.as_tensor(X[keep], device=device), torch.as_tensor(y[keep] - 2, device=device)
        opt = torch.optim.Adam(self.net_.parameters(), lr=self.lr)
        gen = torch.Generator().manual_seed(self.seed)
        self.losses_ = []
        self.net_.train()
        for _ in range(self.epochs):
            order, total = torch.randperm(len(y), generator=gen).to(device), 0.0
            for i in range(0, len(y), self.batch_size):
                b = order[i:i + self.batch_size]
                loss = nn.functional.cross_entropy(self.net_(X[b]), y[b])
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += float(loss.detach()) * len(b)
            self.losses_.append(total / len(y))                             # mean training loss per epoch
        self.net_.eval()
        return self

    @torch.no_grad()
    def line_ranks(self, codes, batch: int = 8192) -> np.ndarray:
        """(N,) the rank of every line's event among the predictions from the lines before it."""
        X, y = history_pairs(codes, self.history)
        dev = next(self.net_.parameters()).device
        out = [ranks(self.net_(torch.as_tensor(X[i:i + batch], device=dev)),
                     torch.as_tensor(y[i:i + batch], device=dev)).cpu() for i in range(0, len(y), batch)]
        return torch.cat(out).numpy()

    def score(self, codes, windows) -> np.ndarray:
        """(W,) each window's worst rank (an unseen event: ``n_known + 1``)."""
        r = self.line_ranks(codes)
        return np.array([r[a:b].max() for a, b in windows], dtype=np.int64)

    def predict(self, codes, windows, top_k: int | None = None) -> np.ndarray:
        return self.score(codes, windows) > (self.top_k if top_k is None else top_k)


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
