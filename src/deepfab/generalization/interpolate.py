"""Train a classifier towards zero training error and record both errors after every epoch (lecture 9).

The measurement loop of the overparameterization experiments: the width sweep of model-wise double
descent, the epoch-wise curve, and the memorization runs (true labels, random labels, random
inputs). Unlike ``deepfab.train.fit`` it scores the *whole* training set in eval mode after every
epoch (the training error of the weights, not a running mean over the epoch's batches), scores a
test set beside it, and can stop at the first epoch that fits the training labels. It is a short
loop on the engine's helpers (``make_optimizer``, ``make_scheduler``, ``optimizer_step``,
``sample_order``, ``forward_logits``), configured by a ``TrainConfig``.

    from deepfab.generalization.interpolate import train_recorded
    cfg = TrainConfig(epochs=200, batch_size=64, lr=2e-3, optimizer="adam", weight_decay=0.0, scheduler=None)
    rec = train_recorded(SmallCNN(3, 9, width=16, head_pool=2), (X, y), (Xt, yt), cfg, stop_at_fit=True)
    rec["epochs_to_fit"], rec["train_error"][-1], rec["test_error"][-1]

References:
    C. Zhang, S. Bengio, M. Hardt, B. Recht, O. Vinyals, "Understanding deep learning requires rethinking
    generalization", ICLR 2017.
    P. Nakkiran, G. Kaplun, Y. Bansal, T. Yang, B. Barak, I. Sutskever, "Deep Double Descent: Where Bigger
    Models and More Data Hurt", ICLR 2020.
"""
from __future__ import annotations

import time

import numpy as np
import torch
import torch.nn.functional as F

from ..device import resolve_device
from ..errors import UsageError
from ..train import TrainConfig
from ..train.data import TensorData, epoch_batches, sample_order
from ..train.evaluate import forward_logits
from ..train.optim import make_optimizer, make_scheduler, optimizer_step


def _pair(name, data):
    if not (isinstance(data, (tuple, list)) and len(data) == 2 and len(data[0]) == len(data[1]) and len(data[0])):
        raise UsageError(f"{name} must be a non-empty pair (X, y) of equal length; got {type(data).__name__}")
    return TensorData(torch.as_tensor(data[0]), torch.as_tensor(data[1]))


def _error(model, data, device) -> tuple[float, float]:
    logits, y = forward_logits(model, data, device)                  # (N, C), (N,) on the CPU, eval mode
    return float((logits.argmax(1) != y).double().mean()), float(F.cross_entropy(logits.double(), y))


def train_recorded(model: torch.nn.Module, train, test=None, config: TrainConfig | None = None,
                   stop_at_fit: bool = False, fit_error: float = 0.0) -> dict:
    """Train ``model`` with cross-entropy on ``train`` = (X, y); after every epoch score the whole
    training set (and ``test``) in eval mode.

    ``config``: a ``TrainConfig`` (epochs, batch_size, lr, optimizer, weight_decay, scheduler,
    grad_clip, seed, device are used; augmentation, mixup and validation are not). ``stop_at_fit``:
    stop after the first epoch whose training error is at most ``fit_error``. Returns ``epoch``
    (1..E), ``train_error``, ``train_loss``, ``test_error``, ``test_loss`` (lists, nan without
    test), ``epochs_to_fit`` (first epoch with training error <= ``fit_error``, else None),
    ``params``, ``cpu_seconds`` and ``model`` (the last epoch's weights).
    """
    cfg = config if config is not None else TrainConfig(optimizer="adam", weight_decay=0.0, scheduler=None)
    if not isinstance(cfg, TrainConfig):
        raise UsageError(f"config must be a TrainConfig; got {type(cfg).__name__}")
    if not isinstance(model, torch.nn.Module):
        raise UsageError(f"model must be a torch.nn.Module; got {type(model).__name__}")
    if not 0.0 <= fit_error < 1.0:
        raise UsageError(f"fit_error must be in [0, 1); got {fit_error!r}")
    tr = _pair("train", train)
    te = _pair("test", test) if test is not None else None
    device = resolve_device(cfg.device)
    model.to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = make_optimizer(params, cfg)
    n_batches = len(epoch_batches(torch.arange(len(tr)), cfg.batch_size))
    sched = make_scheduler(opt, cfg, n_batches)
    scaler = torch.amp.GradScaler(device.type, enabled=False)        # full precision: errors are compared to 0
    gen = torch.Generator().manual_seed(cfg.seed)
    rec = {k: [] for k in ("epoch", "train_error", "train_loss", "test_error", "test_loss")}
    rec["epochs_to_fit"] = None
    t0 = time.process_time()
    for epoch in range(1, cfg.epochs + 1):
        model.train()
        for xb, yb in tr.iterate(epoch_batches(sample_order(len(tr), gen), cfg.batch_size), seed=0):
            xb, yb = xb.to(device), yb.to(device)
            optimizer_step(F.cross_entropy(model(xb), yb), opt, scaler, params, cfg.grad_clip, sched)
        err, loss = _error(model, tr, device)
        t_err, t_loss = _error(model, te, device) if te is not None else (np.nan, np.nan)
        for k, v in zip(("epoch", "train_error", "train_loss", "test_error", "test_loss"),
                        (epoch, err, loss, t_err, t_loss)):
            rec[k].append(v)
        if rec["epochs_to_fit"] is None and err <= fit_error:
            rec["epochs_to_fit"] = epoch
            if stop_at_fit:
                break
    rec.update(params=sum(p.numel() for p in params), cpu_seconds=time.process_time() - t0, model=model)
    return rec
