"""Model-wise and epoch-wise double descent of small CNNs on wafer maps with noisy labels (lecture 9).

Nakkiran et al. (2020) train the same architecture at growing widths on CIFAR with a share of the
training labels replaced by wrong ones. Test error first falls with width, then rises while the
network becomes just able to fit the noisy training set (train error -> 0, the *interpolation
threshold*: the network has to bend around every flipped label), and falls again for wider
networks, which fit the same labels with a smoother function. The same peak shows over training
time at a fixed width (epoch-wise double descent). ``width_sweep`` repeats the experiment with
``SmallCNN`` on encoded WM-811K maps: ``flip_labels`` flips an exact share of the training labels
to a uniformly drawn *other* class, every width trains from the same seed with
``train_recorded``, and every epoch's train and test error is kept, so both curves come from the
same trainings.

    from deepfab.generalization.double_descent import flip_labels, largest_bump, sweep_summary, width_sweep
    y_noisy, flipped = flip_labels(y, 0.2, num_classes=9, seed=0)
    rows = width_sweep((X, y_noisy), (Xt, yt), widths=(1, 2, 4, 8, 16, 32), config=cfg, seeds=(0,))
    summary = sweep_summary(rows, last=5)    # one row per width: train and test error (mean of the last 5 epochs)
    b = largest_bump([s["width"] for s in summary], [s["test_error"] for s in summary])

References:
    P. Nakkiran, G. Kaplun, Y. Bansal, T. Yang, B. Barak, I. Sutskever, "Deep Double Descent: Where Bigger
    Models and More Data Hurt", ICLR 2020.
    M. Belkin, D. Hsu, S. Ma, S. Mandal, "Reconciling modern machine-learning practice and the classical
    bias-variance trade-off", PNAS 116(32), 2019.
    S. Spigler, M. Geiger, S. d'Ascoli, L. Sagun, G. Biroli, M. Wyart, "A jamming transition from under- to
    over-parametrization affects generalization in deep learning", Journal of Physics A 52(47), 2019.
"""
from __future__ import annotations

import numpy as np

from ..errors import UsageError
from ..models.small import SmallCNN
from .interpolate import train_recorded


def flip_labels(y, fraction: float, num_classes: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Flip exactly round(fraction * n) labels of ``y`` (N,), chosen at random, each to a uniformly drawn
    class other than its own; returns the noisy labels and the boolean mask of the flipped ones."""
    y = np.asarray(y)
    if y.ndim != 1 or y.size == 0 or y.min() < 0 or y.max() >= num_classes:
        raise UsageError(f"y must be a non-empty 1-D array of labels in [0, {num_classes}); got shape {y.shape}")
    if not 0.0 <= fraction <= 1.0 or num_classes < 2:
        raise UsageError(f"fraction must be in [0, 1] and num_classes >= 2; got {fraction!r}, {num_classes!r}")
    rng = np.random.default_rng(seed)
    k = int(round(fraction * y.size))
    idx = rng.choice(y.size, size=k, replace=False)
    out = y.copy()
    out[idx] = (y[idx] + rng.integers(1, num_classes, size=k)) % num_classes   # a shift of 1..C-1: never itself
    mask = np.zeros(y.size, dtype=bool)
    mask[idx] = True
    return out, mask


def width_sweep(train, test, widths, config, seeds=(0,), in_channels: int | None = None, num_classes: int = 9,
                head_pool: int = 2, log=print) -> list[dict]:
    """Train ``SmallCNN(width=w)`` for each width and seed with ``train_recorded`` (no early stop);
    one row per run: width, seed, params, the per-epoch ``train_error``/``test_error`` lists and
    their last values, ``epochs_to_fit`` and ``cpu_seconds``. Each run is seeded with its seed
    before the model is built, and ``config.seed`` is set to it (same data order for every width)."""
    import dataclasses

    import torch

    from ..device import seed_everything

    widths = [int(w) for w in widths]
    if not widths or min(widths) < 1:
        raise UsageError(f"widths must be positive ints; got {widths}")
    C = int(in_channels if in_channels is not None else np.asarray(train[0]).shape[1])
    rows = []
    for w in widths:
        for seed in seeds:
            seed_everything(int(seed))
            model = SmallCNN(C, num_classes, width=w, head_pool=head_pool)
            rec = train_recorded(model, train, test, dataclasses.replace(config, seed=int(seed)))
            rows.append({"width": w, "seed": int(seed), "params": rec["params"],
                         "train_error": rec["train_error"], "test_error": rec["test_error"],
                         "final_train_error": rec["train_error"][-1], "final_test_error": rec["test_error"][-1],
                         "epochs_to_fit": rec["epochs_to_fit"], "cpu_seconds": rec["cpu_seconds"]})
            if log:
                log(f"width {w:3d} seed {seed}: {rec['params']:7,d} parameters, train error "
                    f"{rec['train_error'][-1]:.3f}, test error {rec['test_error'][-1]:.3f}, "
                    f"{rec['cpu_seconds']:.1f} s CPU")
            del model, rec
            torch.cuda.empty_cache() if torch.cuda.is_available() else None
    return rows


def sweep_summary(rows: list[dict], last: int = 1) -> list[dict]:
    """One row per width, in width order: params and the mean over seeds of the train and test error
    (each the mean of the run's ``last`` epochs, to damp epoch-to-epoch jitter)."""
    if not rows:
        raise UsageError("sweep_summary needs at least one row of width_sweep")
    out = []
    for w in sorted({r["width"] for r in rows}):
        rs = [r for r in rows if r["width"] == w]
        out.append({"width": w, "params": rs[0]["params"],
                    "train_error": float(np.mean([np.mean(r["train_error"][-last:]) for r in rs])),
                    "test_error": float(np.mean([np.mean(r["test_error"][-last:]) for r in rs])),
                    "test_error_sd": float(np.std([np.mean(r["test_error"][-last:]) for r in rs])),
                    "seeds": len(rs)})
    return out


def largest_bump(x, y) -> dict:
    """The largest bump of a measured curve y(x): the point j that maximizes
    min(y_j - min(y before j), y_j - min(y after j)), i.e. a peak with lower values on *both* sides.
    Returns ``x`` and ``y`` of the bump, ``left_x``/``left`` (the minimum before it), ``right_x``/``right``
    (the minimum after it), ``rise`` = y - left, ``fall`` = y - right and ``height`` = min(rise, fall)
    (0 for a monotone curve: no bump, and the other fields describe the first point)."""
    x, y = np.asarray(x), np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or y.ndim != 1 or y.size == 0:
        raise UsageError(f"x and y must be 1-D of the same non-zero length; got {x.shape}, {y.shape}")
    best, out = -np.inf, None
    for j in range(y.size):
        i = int(np.argmin(y[:j])) if j > 0 else j                      # lowest point before j (j itself if none)
        k = j + 1 + int(np.argmin(y[j + 1:])) if j < y.size - 1 else j
        height = min(y[j] - y[i], y[j] - y[k])
        if height > best:
            best = height
            out = {"x": x[j].item(), "y": float(y[j]), "left_x": x[i].item(), "left": float(y[i]),
                   "right_x": x[k].item(), "right": float(y[k]), "rise": float(y[j] - y[i]),
                   "fall": float(y[j] - y[k]), "height": float(max(height, 0.0))}
    return out


def smooth(y, window: int = 5) -> np.ndarray:
    """Centred moving average of ``y`` (edges average over the part of the window that exists)."""
    y = np.asarray(y, dtype=np.float64)
    if window < 1 or y.ndim != 1:
        raise UsageError(f"window must be >= 1 and y 1-D; got window={window}, y of shape {y.shape}")
    h = window // 2
    return np.array([y[max(0, i - h):i + h + 1].mean() for i in range(y.size)])


def describe_bump(b: dict, jitter: float, what: str, unit: str) -> str:
    """One sentence for a ``largest_bump`` result: a double descent when both its rise and its fall
    exceed twice the measurement ``jitter``, otherwise "not resolved"."""
    if b["height"] > 2 * jitter:
        return (f"{what}: test error fell to {b['left']:.3f} at {unit} {b['left_x']}, rose to {b['y']:.3f} at "
                f"{unit} {b['x']} and fell again to {b['right']:.3f} at {unit} {b['right_x']} — a double descent "
                f"(rise {b['rise']:.3f}, fall {b['fall']:.3f}, both above twice the jitter {jitter:.3f}).")
    return (f"{what}: no double descent resolved — the largest bump (at {unit} {b['x']}, rise {b['rise']:.3f}, "
            f"fall {b['fall']:.3f}) is not above twice the jitter {jitter:.3f}.")
