"""Evaluation and prediction: batched forward passes in eval mode, metrics for imbalanced classes.

Introduced in lecture 1 with the engine; ``fit`` validates through ``forward_logits`` and (for
classification) ``metrics_from_logits``, the two halves of ``evaluate``.

    from deepfab.train import evaluate, predict
    m = evaluate(model, (X_test, y_test), label_names=names)   # loss, accuracy, macro_f1, per-class recall, confusion
    probs = predict(model, X_test)                              # (N, C) numpy softmax probabilities

Under ``torchrun`` each rank scores a strided shard and the logits are gathered, so every rank
returns the metrics of the whole set.

References:
    scikit-learn, sklearn.metrics (the conventions of ``classification_metrics``).
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..device import resolve_device
from ..errors import DataError, ModelError, UsageError
from ..models import eval_mode
from .data import TensorData, as_data
from .distributed import DistInfo, gather_objects
from .metrics import classification_metrics, label_names_for


def unwrap(model: torch.nn.Module) -> torch.nn.Module:
    """The module inside a DistributedDataParallel/DataParallel wrapper (or the model itself)."""
    return getattr(model, "module", model)


def _as_eval_data(data, name: str):
    if isinstance(data, (np.ndarray, torch.Tensor)):           # bare X: labels are not needed
        return TensorData(data, torch.zeros(len(data), dtype=torch.long))
    return as_data(data, 0, name)


def forward_logits(model, data, device, batch_size: int = 512, info: DistInfo | None = None, dense: bool = False):
    """Logits (N, C) float32 and labels (N,) on the CPU, in data order; eval mode, no grad.

    ``dense=True``: outputs and targets of any shape (N, ...) (e.g. per-pixel logits and masks).
    """
    info = info or DistInfo()
    model = unwrap(model)
    n = len(data)
    mine = torch.arange(info.rank, n, info.world_size)            # this rank's strided shard
    chunks = [mine[i:i + batch_size] for i in range(0, len(mine), batch_size)]
    outs, ys = [], []
    with eval_mode(model), torch.no_grad():
        for xb, yb in data.iterate(chunks, seed=0):
            out = model(xb.to(device, non_blocking=True))
            if not isinstance(out, torch.Tensor) or (out.ndim != 2 and not dense):
                got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
                raise ModelError(f"model must return logits of shape (B, n_classes); got {got}")
            outs.append(out.float().cpu())
            yb = torch.as_tensor(yb)
            ys.append(yb.cpu() if dense else yb.long().cpu())
    logits = torch.cat(outs) if outs else torch.zeros(0, 0)
    y = torch.cat(ys) if ys else torch.zeros(0, dtype=torch.long)
    if info.enabled:
        parts = gather_objects((mine.numpy(), logits.numpy(), y.numpy()), info)
        full = [p for p in parts if p[1].size]
        tail = full[0][1].shape[1:] if full else (0,)
        logits_all = torch.zeros((n, *tail))
        y_all = torch.zeros((n, *full[0][2].shape[1:]), dtype=torch.from_numpy(full[0][2]).dtype) if full \
            else torch.zeros(n, dtype=torch.long)
        for idx, lg, yy in parts:
            if len(idx):
                logits_all[torch.from_numpy(idx)] = torch.from_numpy(lg)
                y_all[torch.from_numpy(idx)] = torch.from_numpy(yy)
        logits, y = logits_all, y_all
    return logits, y


def metrics_from_logits(logits: torch.Tensor, y: torch.Tensor, label_names=None) -> dict:
    """``classification_metrics`` of the argmax, plus the mean cross-entropy ``loss``."""
    n_classes = logits.shape[1]
    if len(y) and int(y.max()) >= n_classes:
        raise DataError(f"labels must be < n_classes={n_classes} (the model's output width); got {int(y.max())}")
    names = label_names_for(n_classes, label_names)
    m = classification_metrics(y.numpy(), logits.argmax(1).numpy(), names)
    loss = F.cross_entropy(logits.double(), y).item()
    return {"loss": float(loss), **m}


def evaluate(model, data, label_names=None, device="auto", batch_size: int = 512) -> dict:
    """Loss, accuracy, macro-F1, balanced accuracy, per-class recall/precision/F1/support, confusion, n.

    ``data``: ``(X, y)`` or a Dataset of (x, y). The model is moved to ``device`` and left in the
    mode it was in.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise UsageError(f"batch_size must be a positive int; got {batch_size!r}")
    dev = resolve_device(device) if isinstance(device, str) or device is None else torch.device(device)
    unwrap(model).to(dev)
    logits, y = forward_logits(model, _as_eval_data(data, "data"), dev, batch_size)
    return metrics_from_logits(logits, y, label_names)


def predict(model, data, device="auto", batch_size: int = 512) -> np.ndarray:
    """Softmax probabilities (N, C) as a float32 numpy array; ``data`` is X, ``(X, y)`` or a Dataset."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise UsageError(f"batch_size must be a positive int; got {batch_size!r}")
    dev = resolve_device(device) if isinstance(device, str) or device is None else torch.device(device)
    unwrap(model).to(dev)
    logits, _ = forward_logits(model, _as_eval_data(data, "data"), dev, batch_size)
    return torch.softmax(logits, dim=1).numpy().astype(np.float32)
