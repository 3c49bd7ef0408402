"""Time-series classification of UCR Wafer: 1-NN with Euclidean and DTW distance, a 1-D CNN, and MiniRocket.

Lecture 16 (AIOps) classifies inline sensor traces (UCR Wafer, 152 steps, normal or abnormal) four ways
and sets the error rates beside the UCR archive's (``ucr_study``): 1-NN under the Euclidean distance and
under DTW, a 1-D CNN trained by the engine, and MiniRocket features with a ridge classifier.

Dynamic time warping (Sakoe and Chiba 1978) with a window of r steps aligns a_i with b_j, |i - j| <= r:

    D(i, j) = (a_i - b_j)^2 + min(D(i-1, j-1), D(i-1, j), D(i, j-1)),   DTW(a, b) = sqrt(D(T-1, T-1)).

``dtw`` fills D one row at a time for many pairs at once, in band coordinates k = j - i + r: the two
terms from the row above are an elementwise minimum, and the term from the left is a running
minimum (``np.minimum.accumulate``) after subtracting the row's cumulative cost, so a row is a few
numpy calls for P pairs and (2 r + 1) cells; r = 0 gives the Euclidean distance. ``nearest_dtw``
finds each query's nearest training series without computing most distances: LB_Keogh (Keogh and
Ratanamahatana 2005), the distance of the query to the envelope [min, max] of a candidate over
+-r steps, is a lower bound of DTW; candidates are visited in order of their bound, starting from the
Euclidean nearest neighbour's DTW, and a query stops when its next bound exceeds its best distance.

    labels, info = nearest_dtw(X_train, y_train, X_test, window=8)    # info["dtw_share"]: pairs computed
    err = (labels != y_test).mean()
    result = ucr_study(smoke=True)                                    # the table of lecture 16, seconds

References:
    H. Sakoe, S. Chiba, "Dynamic programming algorithm optimization for spoken word recognition",
    IEEE Trans. ASSP 26(1), 1978.
    E. Keogh, C. A. Ratanamahatana, "Exact indexing of dynamic time warping", Knowledge and
    Information Systems 7(3), 2005.
    Z. Wang, W. Yan, T. Oates, "Time series classification from scratch with deep neural networks: a
    strong baseline", IJCNN 2017 (the fully convolutional network the 1-D CNN follows).
    H. A. Dau, A. Bagnall, K. Kamgar, C.-C. M. Yeh, Y. Zhu, S. Gharghabi, C. A. Ratanamahatana,
    E. Keogh, "The UCR time series archive", IEEE/CAA J. Automatica Sinica 6(6), 2019.
"""
from __future__ import annotations

import itertools

import numpy as np
import torch
from torch import nn

from ..errors import DataError, UsageError

# Error rates of Wafer in the UCR archive's table of baselines (Dau et al. 2019 and the archive's web page).
PUBLISHED = {"1-NN Euclidean": 0.0045, "1-NN DTW, learned window": 0.0045, "1-NN DTW, full": 0.0201}


def _pairs(A, B) -> tuple[np.ndarray, np.ndarray]:
    A, B = np.asarray(A, np.float64), np.asarray(B, np.float64)
    if A.ndim == 1:
        A, B = A[None], B[None]
    if A.ndim != 2 or A.shape != B.shape or A.shape[1] < 1:
        raise DataError(f"dtw needs two series of one length, or (P, T) arrays of pairs; got {A.shape} and {B.shape}")
    return A, B


def window_steps(window, length: int) -> int:
    """A Sakoe-Chiba window as a number of steps: an int as given, a float in [0, 1] as a share of ``length``."""
    if isinstance(window, bool) or not isinstance(window, (int, float, np.integer, np.floating)) or window < 0:
        raise UsageError(f"window must be a number of steps (int >= 0) or a share of the length in [0, 1]; "
                         f"got {window!r}")
    if isinstance(window, (float, np.floating)):
        if window > 1:
            raise UsageError(f"a window given as a share of the length must be in [0, 1]; got {window}")
        return int(round(window * length))
    return int(min(window, length - 1))


def dtw(A, B, window=None, abandon=None) -> np.ndarray:
    """DTW distances of the pairs (A[p], B[p]): A, B (P, T) or two (T,) series; ``window`` in steps
    (or a share of T; None: no window). Returns (P,) (a float for two series). ``abandon`` (P,): a pair
    whose distance is sure to exceed it (the cheapest cell of a row already does) stops early, as inf."""
    single = np.ndim(A) == 1
    A, B = _pairs(A, B)
    P, T = A.shape
    r = T - 1 if window is None else window_steps(window, T)
    k = np.arange(2 * r + 1)                                            # band index k = j - i + r
    Bp = np.pad(B, ((0, 0), (r, r)))                                    # (P, T + 2r): B[:, j] at column j + r
    inside = (np.arange(T)[:, None] + k - r >= 0) & (np.arange(T)[:, None] + k - r < T)          # (T, 2r+1)
    edge = ~inside.all(1)                                               # rows that touch the matrix border
    prev = np.full((P, 2 * r + 2), np.inf)                              # row i-1, plus an inf column k = 2r+1
    prev[:, r] = 0.0                                                    # D(-1, -1) = 0 starts the path
    out, alive = np.full(P, np.inf), np.arange(P)
    limit = None if abandon is None else np.asarray(abandon, np.float64) ** 2
    for i in range(T):
        if limit is not None and i % 8 == 7:                            # every path crosses row i-1
            keep = prev[:, :-1].min(1) <= limit[alive]
            if not keep.all():
                alive, A, Bp, prev = alive[keep], A[keep], Bp[keep], prev[keep]
        cost = (A[:, i, None] - Bp[:, i:i + 2 * r + 1]) ** 2           # (P, 2r+1) cells (i, i-r .. i+r)
        if edge[i]:
            cost[:, ~inside[i]] = 0.0
        S = np.cumsum(cost, 1)
        up = np.minimum(prev[:, :-1], prev[:, 1:])                      # from (i-1, j-1) and (i-1, j)
        up += cost
        if edge[i]:
            up[:, ~inside[i]] = np.inf
        row = prev[:, :-1]                                              # D(i, k) = S_k + min_{m<=k}(up_m - S_m)
        up -= S
        np.minimum.accumulate(up, 1, out=row)
        row += S
        if edge[i]:
            row[:, ~inside[i]] = np.inf
    out[alive] = np.sqrt(np.maximum(prev[:, r], 0.0))
    return float(out[0]) if single else out


def envelope(X, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Upper and lower envelopes (N, T) of series X (N, T): max and min over steps t-r .. t+r."""
    X = np.asarray(X, np.float64)
    N, T = X.shape
    padded_hi = np.pad(X, ((0, 0), (window, window)), constant_values=-np.inf)
    padded_lo = np.pad(X, ((0, 0), (window, window)), constant_values=np.inf)
    shifts = [slice(s, s + T) for s in range(2 * window + 1)]
    return (np.max([padded_hi[:, s] for s in shifts], 0), np.min([padded_lo[:, s] for s in shifts], 0))


def lb_keogh(Q, upper, lower, chunk: int = 32) -> np.ndarray:
    """LB_Keogh (Nq, Nc) of queries Q (Nq, T) against candidates with envelopes ``upper``, ``lower`` (Nc, T)."""
    Q = np.asarray(Q, np.float32)
    U, L = np.asarray(upper, np.float32)[None], np.asarray(lower, np.float32)[None]   # (1, Nc, T)
    out = np.empty((len(Q), U.shape[1]))
    for s in range(0, len(Q), chunk):
        q = Q[s:s + chunk, None]                                        # (c, 1, T)
        gap = np.maximum(q - U, L - q)                                  # (c, Nc, T): > 0 outside the envelope
        np.maximum(gap, 0, out=gap)
        out[s:s + chunk] = np.sqrt(np.einsum("cnt,cnt->cn", gap, gap))
    return out


def nearest_dtw(X_train, y_train, X, window, batch: int = 4) -> tuple[np.ndarray, dict]:
    """1-NN labels (N,) of the rows of X under DTW with ``window``, exact, with LB_Keogh pruning (module
    docstring); ``info``: distances (N,), index of the neighbour (N,), and the share of pairs computed."""
    A, B = np.asarray(X_train, np.float64), np.asarray(X, np.float64)
    if A.ndim != 2 or B.ndim != 2 or A.shape[1] != B.shape[1] or len(A) != len(y_train) or not len(A):
        raise DataError(f"nearest_dtw needs X_train (N, T), y_train (N,) and X (M, T); "
                        f"got {A.shape}, {np.shape(y_train)}, {B.shape}")
    r = window_steps(window, A.shape[1])
    N = len(A)
    lb = lb_keogh(B, *envelope(A, r)) * (1 - 1e-6)                      # (M, N) lower bounds (float32 margin)
    start = np.argmin((A ** 2).sum(1)[None] - 2 * B @ A.T, 1)           # the Euclidean nearest neighbour
    best, idx = dtw(B, A[start], r), start.copy()                       # (M,) upper bounds to beat
    order = np.argsort(lb, 1, kind="stable")                            # candidates, most promising first
    pos, computed, live = np.zeros(len(B), int), len(B), np.arange(len(B))
    while len(live):
        cols = pos[live, None] + np.arange(batch)                       # (Q, batch) next places in the order
        cand = order[live[:, None], np.minimum(cols, N - 1)]
        ok = (cols < N) & (lb[live[:, None], cand] < best[live, None]) & (cand != idx[live, None])
        qq, cc = live[np.nonzero(ok)[0]], cand[ok]
        if len(qq):
            dd = dtw(B[qq], A[cc], r, abandon=best[qq])
            computed += len(qq)
            o = np.lexsort((dd, qq))                                    # by query, then distance
            first = o[np.r_[True, qq[o][1:] != qq[o][:-1]]]             # each query's closest of this round
            better = first[dd[first] < best[qq[first]]]
            best[qq[better]], idx[qq[better]] = dd[better], cc[better]
        pos[live] += batch
        live = live[pos[live] < N]
        live = live[lb[live, order[live, pos[live]]] < best[live]]     # sorted: nothing left can win
    info = {"distance": best, "index": idx, "dtw_share": computed / (len(A) * len(B)), "window": r}
    return np.asarray(y_train)[idx], info


# ---- the 1-D CNN -----------------------------------------------------------------------------------------

class TraceCNN(nn.Module):
    """Fully convolutional 1-D network (Wang et al. 2017, narrower): three conv-BN-ReLU blocks, global max
    pooling (FCN averages; an abnormal stretch of a wafer trace is short, and with a budget of a few
    epochs the averaged network stayed at the majority class), a linear head. (N, 1, T) -> (N, C) logits;
    ``config`` rebuilds it."""

    def __init__(self, num_classes: int = 2, width: int = 32):
        super().__init__()
        self.config = {"num_classes": num_classes, "width": width}
        w = width

        def block(i, o, k):
            return [nn.Conv1d(i, o, k, padding=k // 2), nn.BatchNorm1d(o), nn.ReLU()]

        self.body = nn.Sequential(*block(1, w, 7), *block(w, 2 * w, 5), *block(2 * w, w, 3))   # (N, w, T)
        self.head = nn.Linear(w, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x).amax(2))                          # (N, w) -> (N, C)


def train_trace_cnn(X, y, epochs: int = 20, width: int = 32, seed: int = 0, device: str = "auto"):
    """A ``TraceCNN`` trained on series X (N, T) with labels y by ``deepfab.train.fit`` (no validation
    split: the last epoch's weights); returns the ``FitResult``."""
    from ..train import TrainConfig, fit

    torch.manual_seed(seed)
    net = TraceCNN(int(np.max(y)) + 1, width)
    cfg = TrainConfig(epochs=epochs, batch_size=64, lr=3e-3, weight_decay=1e-4, scheduler="onecycle", seed=seed,
                      device=device, progress=False)
    X = torch.as_tensor(np.asarray(X, np.float32)[:, None])             # (N, 1, T)
    return fit(net, (X, torch.as_tensor(np.asarray(y))), None, cfg)


# ---- MiniRocket ------------------------------------------------------------------------------------------

KERNELS = np.array(list(itertools.combinations(range(9), 3)))            # (84, 3): where a kernel's weight is 2


def minirocket_dilations(length: int, num_features: int = 10_000, max_dilations: int = 32):
    """MiniRocket's dilations for series of ``length`` and the number of features (biases) each gets,
    per kernel: about ``num_features // 84`` per kernel, on dilations spaced exponentially up to
    (length - 1) / 8 (the kernel's receptive field then spans the series)."""
    if length < 9 or num_features < 84:
        raise UsageError(f"MiniRocket needs series of at least 9 steps and num_features >= 84; "
                         f"got length {length}, num_features {num_features}")
    per_kernel = num_features // 84
    m = min(per_kernel, max_dilations)
    d, counts = np.unique(np.logspace(0, np.log2((length - 1) / 8), m, base=2).astype(np.int64), return_counts=True)
    counts = (counts * per_kernel / m).astype(np.int64)
    for i in range(per_kernel - counts.sum()):                          # hand out the remainder in turn
        counts[i % len(counts)] += 1
    return d, counts


def _conv(X: torch.Tensor, dilation: int) -> torch.Tensor:
    """The 84 kernels (weights -1, and 2 at three of nine places) at one dilation, zero padded: (N, T) -> (N, 84, T)."""
    w = -torch.ones(84, 1, 9, dtype=X.dtype)
    w[np.arange(84)[:, None], 0, KERNELS] = 2.0
    return torch.nn.functional.conv1d(X[:, None], w, padding=4 * dilation, dilation=dilation)


class MiniRocket:
    """MiniRocket (Dempster, Schmidt, Webb, KDD 2021): per dilation and kernel, the proportion of positive
    values (PPV) of the convolution output above biases taken at low-discrepancy quantiles of the output
    on a random training series; every other (kernel, dilation) pair drops the padded ends."""

    def __init__(self, num_features: int = 10_000, max_dilations: int = 32, seed: int = 0):
        self.num_features, self.max_dilations, self.seed = num_features, max_dilations, seed

    def fit(self, X) -> MiniRocket:
        X = torch.as_tensor(np.asarray(X, np.float32))
        if X.ndim != 2 or len(X) < 1:
            raise DataError(f"MiniRocket needs series X (N, T); got shape {tuple(X.shape)}")
        self.dilations_, self.counts_ = minirocket_dilations(X.shape[1], self.num_features, self.max_dilations)
        q = (np.arange(1, 84 * self.counts_.sum() + 1) * (np.sqrt(5) + 1) / 2) % 1    # golden-ratio quantiles
        rng = np.random.default_rng(self.seed)
        biases, at = [], 0
        for d, c in zip(self.dilations_, self.counts_):
            C = _conv(X[rng.integers(len(X), size=84)], int(d))        # (84, 84, T): kernel k on its own series
            for k in range(84):
                biases.append(np.quantile(C[k, k].numpy(), q[at:at + c]))
                at += c
        self.biases_ = np.concatenate(biases).astype(np.float32)         # (84 * sum(counts),)
        return self

    def transform(self, X, chunk: int = 512) -> np.ndarray:
        """PPV features (N, 84 * sum(counts)) float32, ordered by dilation, kernel, bias."""
        if not hasattr(self, "biases_"):
            raise UsageError("this MiniRocket is not fitted yet; call fit(X_train) first")
        X = torch.as_tensor(np.asarray(X, np.float32))
        out = []
        for s in range(0, len(X), chunk):
            feats, at = [], 0
            for i, (d, c) in enumerate(zip(self.dilations_, self.counts_)):
                C = _conv(X[s:s + chunk], int(d))                       # (n, 84, T)
                b = torch.as_tensor(self.biases_[at:at + 84 * c]).view(84, c)
                at += 84 * c
                ppv = torch.empty(len(C), 84, c)
                pad = 4 * int(d)
                for trim in (0, 1):                                     # kernels with (i + k) odd drop the padding
                    ks = slice((trim + i) % 2, 84, 2)                   # the k with (i + k) % 2 == trim
                    Ck = C[:, ks, pad:C.shape[2] - pad] if trim and C.shape[2] > 2 * pad else C[:, ks]
                    srt = torch.from_numpy(np.sort(Ck.numpy(), 2))      # (n, 42, T'); numpy sorts short rows fast
                    above = srt.shape[2] - torch.searchsorted(srt, b[ks].expand(len(C), -1, -1).contiguous(),
                                                              right=True)
                    ppv[:, ks] = above.float() / srt.shape[2]
                feats.append(ppv.reshape(len(C), -1))
            out.append(torch.cat(feats, 1))
        return torch.cat(out).numpy()


ALPHAS = tuple(np.logspace(-3, 3, 10))   # the ridge penalties MiniRocket's authors search


class RidgeClassifierCV:
    """Ridge regression on +-1 class codes with an unpenalised intercept, alpha chosen from ``alphas`` by
    exact leave-one-out squared error: with the centred features' Gram matrix K = U diag(s) U^T
    (or covariance when features are fewer than samples), the hat matrix is 1 1^T / n + U diag(s / (s +
    alpha)) U^T and the left-out residual is (y_i - yhat_i) / (1 - H_ii) (Rifkin and Lippert 2007, as
    scikit-learn's RidgeClassifierCV). The features are standardised first."""

    def __init__(self, alphas=ALPHAS):
        self.alphas = alphas

    def fit(self, X, y) -> RidgeClassifierCV:
        X, y = np.asarray(X, np.float64), np.asarray(y)
        self.classes_ = np.unique(y)
        if X.ndim != 2 or len(X) != len(y) or len(self.classes_) < 2:
            raise DataError(f"RidgeClassifierCV needs X (N, F) and y (N,) with two classes or more; "
                            f"got {X.shape}, {y.shape}, classes {self.classes_.tolist()}")
        Y = np.where(y[:, None] == self.classes_[None], 1.0, -1.0)      # (N, C) codes
        Y = Y[:, 1:] if len(self.classes_) == 2 else Y                  # binary: one column, like scikit-learn
        self.mean_, self.scale_ = X.mean(0), np.where(X.std(0) > 0, X.std(0), 1.0)
        Xc = (X - self.mean_) / self.scale_
        n, ym = len(X), Y.mean(0)
        if n <= Xc.shape[1]:
            s, U = np.linalg.eigh(Xc @ Xc.T)                              # (n,), (n, n)
            proj = U
        else:
            s, V = np.linalg.eigh(Xc.T @ Xc)
            proj = Xc @ V / np.sqrt(np.maximum(s, 1e-300))               # (n, F): U for the non-null directions
        s = np.maximum(s, 0.0)
        UtY = proj.T @ (Y - ym)                                          # (r, C)
        errors = []
        for a in self.alphas:
            shrink = s / (s + a)
            fitted = proj @ (shrink[:, None] * UtY) + ym                 # (n, C)
            h = 1 / n + (proj ** 2) @ shrink                             # (n,) diagonal of the hat matrix
            errors.append((((Y - fitted) / (1 - h)[:, None]) ** 2).mean())
        self.cv_errors_ = np.array(errors)
        self.alpha_ = float(self.alphas[int(np.argmin(errors))])
        self.coef_ = np.linalg.solve(Xc.T @ Xc + self.alpha_ * np.eye(Xc.shape[1]), Xc.T @ (Y - ym)) \
            if n > Xc.shape[1] else Xc.T @ (proj @ (UtY / (s + self.alpha_)[:, None]))
        self.intercept_ = ym
        return self

    def decision_function(self, X) -> np.ndarray:
        Z = (np.asarray(X, np.float64) - self.mean_) / self.scale_
        return Z @ self.coef_ + self.intercept_                          # (N, C) or (N, 1)

    def predict(self, X) -> np.ndarray:
        f = self.decision_function(X)
        return self.classes_[(f[:, 0] > 0).astype(int)] if f.shape[1] == 1 else self.classes_[f.argmax(1)]


# ---- the UCR Wafer study ---------------------------------------------------------------------------------

def ucr_study(smoke: bool = False, seed: int = 0, window: float = 0.05, device: str = "cpu") -> dict:
    """Test error rates on UCR Wafer of 1-NN Euclidean, 1-NN DTW (Sakoe-Chiba window, a share of the length,
    fixed, not learned), the 1-D CNN and MiniRocket with its ridge classifier, beside ``PUBLISHED``.

    Real mode: the archive's split (1,000 train, 6,164 test), 41 s single-threaded on a near-quiet
    2-core machine (DTW 10 s, CNN 7 s, MiniRocket 24 s; 75 s at load 5). Smoke mode,
    ``ucr_study(smoke=True)``: the first 150 training and 300 test series, 2 CNN epochs, 840 MiniRocket
    features (a few seconds). Returns ``rows`` (method, error, errors, published, seconds), the DTW
    pruning share and the sizes.
    """
    import time

    from ..data import load_ucr_wafer
    from ..generative.vae import nearest_neighbour_labels
    from ..train import predict

    Xtr, ytr, Xte, yte = load_ucr_wafer()
    if smoke:
        Xtr, ytr, Xte, yte = Xtr[:150], ytr[:150], Xte[:300], yte[:300]
    rows, clock = [], time.perf_counter

    def row(method, pred, t0, published=None, note=""):
        wrong = int((np.asarray(pred) != yte).sum())
        rows.append({"method": method, "error": wrong / len(yte), "errors": wrong, "published": published,
                     "published_note": note, "seconds": clock() - t0})

    t0 = clock()
    row("1-NN Euclidean", nearest_neighbour_labels(Xtr, ytr, Xte), t0, PUBLISHED["1-NN Euclidean"])
    t0 = clock()
    pred, info = nearest_dtw(Xtr, ytr, Xte, window)
    row(f"1-NN DTW, window {window:.0%}", pred, t0, PUBLISHED["1-NN DTW, learned window"],
        f"archive: learned window {PUBLISHED['1-NN DTW, learned window']}, full DTW {PUBLISHED['1-NN DTW, full']}")
    t0 = clock()
    fit = train_trace_cnn(Xtr, ytr, epochs=2 if smoke else 20, width=16, seed=seed, device=device)
    row("1-D CNN", predict(fit.model, torch.as_tensor(Xte[:, None]), device=device).argmax(1), t0)
    t0 = clock()
    rocket = MiniRocket(num_features=840 if smoke else 10_000, seed=seed).fit(Xtr)
    ridge = RidgeClassifierCV().fit(rocket.transform(Xtr), ytr)
    row("MiniRocket + ridge", ridge.predict(rocket.transform(Xte)), t0)
    return {"rows": rows, "dtw_window_steps": info["window"], "dtw_share": info["dtw_share"],
            "ridge_alpha": ridge.alpha_, "minirocket_features": len(rocket.biases_), "n_train": len(Xtr),
            "n_test": len(Xte), "smoke": smoke, "cnn_history": fit.history}
