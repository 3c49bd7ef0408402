"""Train a segmentation network with the course engine, predict masks, and score them per pattern.

Introduced in lecture 4 (image segmentation); the same calls work on a fab's own maps once
they are encoded with ``encode_native`` (and, for training, given masks).

    from deepfab.segment import make_segmentation_set, train_segmenter, predict_masks, score_by_group
    train, val = make_segmentation_set(60, seed=0), make_segmentation_set(10, seed=1)
    result = train_segmenter(UNet(width=8), train, val, TrainConfig(epochs=8, lr=3e-3, monitor="val_loss"))
    masks = predict_masks(result.model, val.X)                 # (N, 1, S, S) bool, inside the wafer only
    rows = score_by_group(masks, val.Y > 0.5, val.groups)      # per pattern: n, iou, dice, micro_iou, ...

References:
    Long, Shelhamer & Darrell, CVPR 2015; Ronneberger, Fischer & Brox, MICCAI 2015.
"""
from __future__ import annotations

import numpy as np
import torch

from ..device import resolve_device
from ..models import eval_mode
from ..train import TrainConfig, fit
from ..train.evaluate import unwrap
from .data import GROUPS, SegSet
from .losses import bce_dice_loss, mask_metrics
from .metrics import per_group_scores


def train_segmenter(model: torch.nn.Module, train: SegSet, val: SegSet | None = None,
                    config: TrainConfig | None = None, loss_fn=bce_dice_loss):
    """``deepfab.train.fit`` on (X, Y) with ``loss_fn`` (BCE + soft Dice) and IoU/Dice validation metrics.

    ``config.monitor`` must be ``"val_loss"`` (the engine's rule for a custom loss); the default
    config trains 10 epochs of AdamW at lr 3e-3, batch 32, cosine schedule.
    """
    if not isinstance(train, SegSet) or (val is not None and not isinstance(val, SegSet)):
        raise ValueError(f"train and val must be SegSet (see make_segmentation_set); got {type(train).__name__} "
                         f"and {type(val).__name__}")
    cfg = config if config is not None else TrainConfig(epochs=10, batch_size=32, lr=3e-3, monitor="val_loss")
    return fit(model, (train.X, train.Y), (val.X, val.Y) if val is not None else None, cfg,
               loss_fn=loss_fn, metrics_fn=mask_metrics)


def predict_logits(model: torch.nn.Module, X, device="auto", batch_size: int = 64) -> np.ndarray:
    """Per-die logits (N, K, H, W) float32 of ``model`` on inputs X (N, C, H, W); eval mode, no grad."""
    X = torch.as_tensor(np.asarray(X, np.float32))
    if X.ndim != 4:
        raise ValueError(f"X must be (N, C, H, W); got shape {tuple(X.shape)}")
    dev = resolve_device(device) if isinstance(device, str) else torch.device(device)
    net = unwrap(model).to(dev)
    with eval_mode(net), torch.no_grad():
        outs = [net(X[i:i + batch_size].to(dev)).float().cpu() for i in range(0, len(X), batch_size)]
    return torch.cat(outs).numpy() if outs else np.zeros((0,) + tuple(X.shape[1:]), np.float32)


def predict_masks(model: torch.nn.Module, X, threshold: float = 0.5, device="auto", batch_size: int = 64) -> np.ndarray:
    """Masks (N, 1, H, W) bool: sigmoid(logit) > ``threshold``, and only on dies of the wafer (channel 0)."""
    if not 0 < threshold < 1:
        raise ValueError(f"threshold must be a probability in (0, 1); got {threshold}")
    logits = predict_logits(model, X, device, batch_size)
    wafer = np.asarray(X)[:, :1] > 0.5                              # (N, 1, H, W): dies that exist
    return (logits > np.log(threshold / (1 - threshold))) & wafer


def score_by_group(pred, true, groups, order=GROUPS) -> list[dict]:
    """``per_group_scores`` in the lecture's pattern order (groups absent from ``groups`` are skipped)."""
    groups = np.asarray(groups)
    return per_group_scores(np.asarray(pred)[:, 0], np.asarray(true)[:, 0], groups,
                            order=[g for g in order if g in set(groups.tolist())])
