"""What a training run prints: a progress bar per epoch and one greppable line per epoch.

Introduced in lecture 1 with the engine. The epoch line has fixed columns, so a log can be
searched and parsed with ``grep '^epoch'``:

    epoch 3/10: train_loss 0.4132, train_acc 0.8571, val_loss 0.4410, val_acc 0.9012,
                val_macro_f1 0.8123, lr 1.0e-03, 12.3s                 (one line in the log)

The bar (tqdm, on stderr) shows only in a terminal (cleared at the end of the epoch, when the
epoch line takes its place) or in an interactive Jupyter kernel (kept, one finished bar per
epoch). It never goes to a log file or into a lecture executed by ``deepfab run``, whose record is
the epoch lines; ``DEEPFAB_PROGRESS=0`` turns it off everywhere.

References:
    tqdm documentation (https://tqdm.github.io).
"""
from __future__ import annotations

import os
import sys

from tqdm import tqdm


def _in_kernel() -> bool:
    if "ipykernel" not in sys.modules:
        return False
    try:
        from IPython import get_ipython

        return get_ipython() is not None
    except ImportError:
        return False


def progress_enabled(requested: bool, is_main: bool) -> bool:
    """True when a bar is wanted, this is rank 0, and stderr is a terminal or an interactive notebook."""
    if not requested or not is_main or os.environ.get("DEEPFAB_PROGRESS", "1").strip() in ("0", "false", "no", "off"):
        return False
    try:
        tty = sys.stderr.isatty()
    except (AttributeError, ValueError):
        tty = False
    # a kernel started by `deepfab run` (it sets DEEPFAB_LECTURE) renders to HTML: bars would be noise there
    return tty or (_in_kernel() and "DEEPFAB_LECTURE" not in os.environ)


def bar(total: int, desc: str, enabled: bool, unit: str = "it"):
    """A per-epoch bar counting ``unit`` (its rate reads "unit/s"); in a notebook the finished bar stays
    (a cleared one leaves a blank stderr box)."""
    return tqdm(total=total, desc=desc, disable=not enabled, file=sys.stderr, leave=_in_kernel(),
                mininterval=0.5, dynamic_ncols=True, unit=unit)


def epoch_line(record: dict, epochs: int, seconds: float) -> str:
    """The per-epoch log line; validation columns appear when the run has validation data."""
    parts = [f"train_loss {record['train_loss']:.4f}"]
    if "train_accuracy" in record:
        parts.append(f"train_acc {record['train_accuracy']:.4f}")
    if "val_accuracy" in record:
        parts += [f"val_loss {record['val_loss']:.4f}", f"val_acc {record['val_accuracy']:.4f}",
                  f"val_macro_f1 {record['val_macro_f1']:.4f}"]
    elif "val_loss" in record:                       # a custom-loss fit: its own validation metrics
        parts += [f"{k} {v:.4f}" for k, v in record.items() if k.startswith("val_")]
    parts += [f"lr {record['lr']:.1e}", f"{seconds:.1f}s"]
    return f"epoch {record['epoch']}/{epochs}: " + ", ".join(parts)


def summary_line(best_epoch, best_metrics: dict, epochs_run: int, seconds: float, stopped_early: bool) -> str:
    """One closing line: how long it ran, where the best epoch was and what it scored on validation."""
    head = f"done: {epochs_run} epochs in {seconds:.1f}s" + (" (stopped early)" if stopped_early else "")
    if not best_metrics:
        return head
    if "accuracy" not in best_metrics:               # a custom-loss fit
        return f"{head}; best epoch {best_epoch}: " + ", ".join(f"val_{k} {v:.4f}" for k, v in best_metrics.items())
    return (f"{head}; best epoch {best_epoch}: val_loss {best_metrics['loss']:.4f}, "
            f"val_acc {best_metrics['accuracy']:.4f}, val_macro_f1 {best_metrics['macro_f1']:.4f}")
