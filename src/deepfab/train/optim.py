"""Optimiser, learning-rate schedule and mixed-precision choice from a ``TrainConfig``.

Introduced in lecture 0 (optimisers, from scratch) and lecture 1 (the engine uses torch's).
``optimizer_step`` is one update (scaled backward, clipping, step, schedule), shared by ``fit``
and by training loops of their own.
Schedules step once per optimiser step, so their shape does not depend on the epoch length:

    cosine    lr * (1 + cos(pi t / T)) / 2, from lr to 0 over all T steps
    onecycle  warm up to lr over the first 30 % of steps, then anneal (cosine) to lr / 1e4
    step      lr, then x0.1 after each third of the epochs

References:
    Loshchilov & Hutter, "SGDR: Stochastic Gradient Descent with Warm Restarts", ICLR 2017.
    Smith & Topin, "Super-Convergence", 2018.
    Sutskever et al., "On the importance of initialization and momentum" (Nesterov momentum), ICML 2013.
"""
from __future__ import annotations

import torch

from ..errors import UsageError


def make_optimizer(params, cfg) -> torch.optim.Optimizer:
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=0.9, nesterov=True, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    raise UsageError(f"optimizer must be one of ('sgd', 'adam', 'adamw'); got {cfg.optimizer!r}")


def make_scheduler(opt, cfg, steps_per_epoch: int):
    """A per-step scheduler (or None) covering ``cfg.epochs * steps_per_epoch`` steps."""
    total = cfg.epochs * steps_per_epoch
    if cfg.scheduler is None:
        return None
    if cfg.scheduler == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total)
    if cfg.scheduler == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=total)
    if cfg.scheduler == "step":
        every = max(1, cfg.epochs // 3) * steps_per_epoch
        return torch.optim.lr_scheduler.StepLR(opt, step_size=every, gamma=0.1)
    raise UsageError(f"scheduler must be one of (None, 'cosine', 'onecycle', 'step'); got {cfg.scheduler!r}")


def optimizer_step(loss: torch.Tensor, opt, scaler, params, grad_clip: float | None = None, sched=None) -> None:
    """Backward of ``loss`` through the grad scaler, clip the global L2 norm of ``params``, step, schedule."""
    opt.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    if grad_clip is not None:
        scaler.unscale_(opt)                          # clip the true gradients, not the scaled ones
        torch.nn.utils.clip_grad_norm_(params, grad_clip)
    scaler.step(opt)
    scaler.update()
    if sched is not None:
        sched.step()


def amp_dtype(amp: str, device: torch.device):
    """The autocast dtype, or None for full precision. On CUDA "auto" picks bf16 where supported,
    else fp16; on the CPU only an explicit "bf16" autocasts (fast where the CPU has bf16
    instructions, e.g. AVX512-BF16 or AMX; emulated and slow elsewhere)."""
    if amp == "off":
        return None
    if device.type != "cuda":
        return torch.bfloat16 if amp == "bf16" and device.type == "cpu" else None
    if amp == "bf16" or (amp == "auto" and torch.cuda.is_bf16_supported()):
        return torch.bfloat16
    return torch.float16
