"""DeepLog (Du et al. 2017): an LSTM that predicts each log line's event from the lines before it, and
flags a window whose events it did not expect.

The LSTM (``DeepLogNet``) reads the ``history`` event codes before each line (padded at the start of
the log, ``history_pairs``) and predicts a distribution over the known events; the line's **rank**
(``ranks``) is the place of the event that did occur in that prediction (1 = the most likely; an
unseen event ranks last, ``n_known + 1``). A window's score is its worst rank; it is anomalous when
an event is not among the ``top_k`` predictions, score > k. Trained on normal windows only. The
codes and windows come from ``deepfab.aiops.logwindows``.

    from deepfab.aiops.deeplog import DeepLog
    from deepfab.aiops.logwindows import encode_events, line_windows, window_prf
    codes_all, vocab = encode_events(event_ids)              # (N,) codes; vocab {event: code}
    win = line_windows(len(codes_all), size=20, step=5)      # (W, 2) [start, stop) line ranges
    dl = DeepLog(history=10, top_k=9, seed=0).fit(codes_all, win[normal_train], n_codes=len(vocab) + 2)
    flags = dl.score(codes_all, win[test]) > dl.top_k
    window_prf(truth[test], flags)                           # precision, recall, f1, tp, fp, fn, tn

Introduced in lecture 16 (AIOps); ``deepfab logs detect`` wraps it for a user's files
(``deepfab.aiops.logmodel``).

References: M. Du, F. Li, G. Zheng, V. Srikumar, "DeepLog: Anomaly Detection and Diagnosis from System
Logs through Deep Learning", CCS 2017.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..errors import DataError, UsageError
from .logwindows import PAD


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
