"""How far to trust an explanation: sanity checks, faithfulness curves, stability, correlated sensors.

Four questions, each answered with a number:

* **Does it depend on the model?** (Adebayo et al. 2018.) *Model randomization*: replace the
  learned coefficients by random ones and explain again; *label randomization*: refit on shuffled
  labels and explain again. An importance ranking that barely changes (high Spearman correlation
  with the original) describes the data or the method, not what the model learned.
* **Is it faithful?** (Petsiuk, Das, Saenko 2018.) *Deletion*: remove the features (pixels)
  in order of importance, replacing them by a baseline, and record the model's output after
  each step: a faithful ranking makes it fall fast (small area under the curve). *Insertion*:
  start from the baseline and put them back: it should rise fast (large area). A random order is
  the reference.
* **Is it stable?** Refit on bootstrap resamples (or with other seeds) and compare the rankings:
  mean pairwise Spearman correlation and top-k overlap.
* **What do correlated sensors do?** ``with_duplicate`` appends a copy of a sensor; refit and
  the importance the sensor had is split between the two copies (or moved to one of them).

    res = label_randomization(make, importance, X, y, seed=0, n=3)    # make() -> fresh estimator
    res = model_randomization(model, importance, seed=0, n=3)         # linear models: random coef_
    curve = deletion_curve(predict, x, baseline, scores, steps=20)     # (N, steps + 1); insertion_curve
    rho, overlap = stability(importances, k=10)                        # importances (R, F)
    X2 = with_duplicate(X, j, noise=0.0)                               # (N, F + 1)
    curve = wafer_curves(model, x, target, maps, steps=20, valid=wafer)  # wafer maps: cells set to "pass"

``deletion_curve`` takes tables (x (N, F), scores (N, F)) and images (x (N, C, H, W), scores
(N, H, W): every channel of a cell moves together), with ``valid`` (N, ...) cells that may move.

Introduced in lecture 15 (data interpretation, XAI); ``deepfab.explain.sanity`` (lecture 3) has
the model-randomization test for saliency maps.

References: J. Adebayo, J. Gilmer, M. Muelly, I. Goodfellow, M. Hardt, B. Kim, "Sanity Checks for
Saliency Maps", NeurIPS 2018; V. Petsiuk, A. Das, K. Saenko, "RISE: Randomized Input Sampling for
Explanation of Black-box Models", BMVC 2018; S. Hooker, D. Erhan, P.-J. Kindermans, B. Kim,
"A Benchmark for Interpretability Methods in Deep Neural Networks", NeurIPS 2019.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
from scipy.stats import spearmanr

from ...errors import DataError, UsageError


def rank_agreement(a, b) -> float:
    """Spearman rank correlation of two importance vectors (F,); NaN when either is constant."""
    a, b = np.asarray(a, dtype=np.float64).ravel(), np.asarray(b, dtype=np.float64).ravel()
    if a.shape != b.shape or a.size < 2:
        raise DataError(f"need two importance vectors of one length >= 2; got {a.shape} and {b.shape}")
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(spearmanr(a, b).statistic)


def top_k_overlap(a, b, k: int) -> float:
    """Share of the k largest entries of ``a`` that are also among the k largest of ``b``."""
    a, b = np.asarray(a).ravel(), np.asarray(b).ravel()
    if not isinstance(k, int) or not 1 <= k <= a.size:
        raise UsageError(f"k must be an int in 1..{a.size}; got {k!r}")
    ta, tb = np.argsort(-a, kind="stable")[:k], np.argsort(-b, kind="stable")[:k]
    return len(set(ta.tolist()) & set(tb.tolist())) / k


@dataclass
class SanityResult:
    trained: np.ndarray      # (F,) importances of the model as trained
    random: np.ndarray       # (n, F) importances of the randomized models
    rho: np.ndarray          # (n,) Spearman(trained, random[i]): near 1 fails the check


def randomize_coefficients(model, seed: int = 0):
    """A copy of a fitted linear model (or a Pipeline ending in one) with ``coef_`` drawn at random:
    Gaussian entries with the learned coefficients' root mean square, the intercept kept."""
    rand = copy.deepcopy(model)
    last = rand.steps[-1][1] if hasattr(rand, "steps") else rand
    if not hasattr(last, "coef_"):
        raise UsageError(f"model randomization replaces coef_; {type(last).__name__} has none "
                         "(use label_randomization for tree models)")
    coef = np.asarray(last.coef_, dtype=np.float64)
    rms = float(np.sqrt(np.mean(coef ** 2))) or 1.0
    last.coef_ = np.random.default_rng(seed).normal(0.0, rms, coef.shape)
    return rand


def model_randomization(model, importance, seed: int = 0, n: int = 3) -> SanityResult:
    """``importance(model)`` against ``importance`` of ``n`` copies with random coefficients."""
    trained = np.asarray(importance(model), dtype=np.float64)
    rand = np.stack([np.asarray(importance(randomize_coefficients(model, seed + i)), dtype=np.float64)
                     for i in range(n)])
    return SanityResult(trained, rand, np.array([rank_agreement(trained, r) for r in rand]))


def label_randomization(make, importance, X, y, seed: int = 0, n: int = 3) -> SanityResult:
    """``importance(make().fit(X, y))`` against the same with y shuffled, for ``n`` shufflings.

    ``make()`` returns a fresh unfitted estimator (a scikit-learn pipeline)."""
    y = np.asarray(y)
    rng = np.random.default_rng(seed)
    trained = np.asarray(importance(make().fit(X, y)), dtype=np.float64)
    rand = np.stack([np.asarray(importance(make().fit(X, rng.permutation(y))), dtype=np.float64)
                     for _ in range(n)])
    return SanityResult(trained, rand, np.array([rank_agreement(trained, r) for r in rand]))


def _curve(predict, x, baseline, scores, steps: int, valid, insert: bool) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    scores = np.asarray(scores, dtype=np.float64)
    n = len(x)
    base = np.broadcast_to(np.asarray(baseline, dtype=np.float64), x.shape)
    if scores.shape != x.shape and scores.shape != (n,) + x.shape[2:]:
        raise DataError(f"scores must be (N, F) for a table or (N, H, W) for images (N, C, H, W) = {x.shape}; "
                        f"got {scores.shape}")
    if not isinstance(steps, int) or steps < 1:
        raise UsageError(f"steps must be an int >= 1; got {steps!r}")
    units = scores.reshape(n, -1)                                              # (N, U)
    ok = np.ones_like(units, bool) if valid is None else np.asarray(valid, bool).reshape(n, -1)
    if ok.shape != units.shape:
        raise DataError(f"valid must have the scores' shape {scores.shape}; got {np.shape(valid)}")
    order = np.argsort(-np.where(ok, units, -np.inf), axis=1, kind="stable")    # most important valid first
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(units.shape[1])[None].repeat(n, 0), axis=1)
    n_valid = ok.sum(1)                                                          # (N,)
    chan = x.reshape(n, -1, units.shape[1]) if x.shape != scores.shape else x.reshape(n, 1, -1)
    bchan = base.reshape(chan.shape)
    rows = []
    for s in range(steps + 1):
        moved = rank < np.round(s / steps * n_valid)[:, None]                   # (N, U) the first k_s units
        moved = moved[:, None, :]
        rows.append(np.where(moved, chan, bchan) if insert else np.where(moved, bchan, chan))
    y = np.asarray(predict(np.concatenate(rows).reshape((-1,) + x.shape[1:])), dtype=np.float64)
    if y.shape != ((steps + 1) * n,):
        raise DataError(f"predict must map (M, ...) inputs to (M,) outputs; got shape {y.shape}")
    return y.reshape(steps + 1, n).T


def deletion_curve(predict, x, baseline, scores, steps: int = 20, valid=None) -> np.ndarray:
    """(N, steps + 1) model output as the top s/steps of the valid features are set to ``baseline``."""
    return _curve(predict, x, baseline, scores, steps, valid, insert=False)


def insertion_curve(predict, x, baseline, scores, steps: int = 20, valid=None) -> np.ndarray:
    """(N, steps + 1) model output as the top s/steps of the valid features are put back into ``baseline``."""
    return _curve(predict, x, baseline, scores, steps, valid, insert=True)


def wafer_curves(model, x, target, maps, steps: int = 20, valid=None, baseline="pass",
                 insert: bool = False) -> np.ndarray:
    """(N, steps + 1) softmax probability of ``target`` as wafer cells are deleted (set to ``baseline``:
    "pass", "no die" or a tensor) or inserted in the order of ``maps`` (N, H, W), largest first."""
    import torch

    from ..occlusion import wafer_baseline
    from ..saliency import check_batch, eval_mode, target_index

    x = check_batch(x).detach()
    base = wafer_baseline(x, baseline) if isinstance(baseline, str) else torch.as_tensor(baseline).to(x)
    n = len(x)
    with torch.no_grad(), eval_mode(model):
        t = target_index(target, n, model(x[:1]).shape[1], x.device)

        def predict(rows):                                 # (M, C, H, W) numpy, M = (steps + 1) * N, step-major
            xs = torch.as_tensor(rows, dtype=x.dtype, device=x.device)
            p = torch.cat([torch.softmax(model(c), 1) for c in xs.split(1024)])
            return p.gather(1, t.repeat(len(xs) // n)[:, None])[:, 0].double().cpu().numpy()

        m = maps.detach().cpu().numpy() if isinstance(maps, torch.Tensor) else maps
        return _curve(predict, x.cpu().numpy(), base.cpu().numpy(), m, steps, valid, insert)


def curve_area(curves) -> np.ndarray:
    """(N,) area under each curve over the fraction 0..1 moved (trapezoid rule)."""
    c = np.asarray(curves, dtype=np.float64)
    return ((c[:, 1:] + c[:, :-1]) / 2).mean(axis=1)


def stability(importances, k: int = 10) -> tuple[float, float]:
    """(mean pairwise Spearman, mean pairwise top-k overlap) of R importance vectors (R, F)."""
    imp = np.asarray(importances, dtype=np.float64)
    if imp.ndim != 2 or len(imp) < 2:
        raise DataError(f"stability compares at least two importance vectors (R >= 2, F); got shape {imp.shape}")
    pairs = [(i, j) for i in range(len(imp)) for j in range(i + 1, len(imp))]
    rho = [rank_agreement(imp[i], imp[j]) for i, j in pairs]
    over = [top_k_overlap(imp[i], imp[j], k) for i, j in pairs]
    return float(np.nanmean(rho)), float(np.mean(over))


def bootstrap_importances(make, importance, X, y, n: int = 5, seed: int = 0) -> np.ndarray:
    """(n, F) ``importance(make().fit(X_b, y_b))`` on ``n`` bootstrap resamples (rows drawn with replacement)."""
    X, y = np.asarray(X), np.asarray(y)
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        rows = rng.integers(0, len(X), len(X))
        out.append(np.asarray(importance(make().fit(X[rows], y[rows])), dtype=np.float64))
    return np.stack(out)


def with_duplicate(X, column: int, noise: float = 0.0, seed: int = 0) -> np.ndarray:
    """(N, F + 1) the table with a copy of ``column`` appended, plus Gaussian noise of ``noise`` times
    the column's standard deviation (NaN stay NaN)."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or not 0 <= column < X.shape[1]:
        raise UsageError(f"column must index a column of a table with {X.shape[-1]} columns; got {column!r}")
    col = X[:, column]
    sd = np.nanstd(col) if np.isfinite(col).any() else 0.0
    copy_col = col + noise * sd * np.random.default_rng(seed).standard_normal(len(col))
    return np.column_stack([X, copy_col])
