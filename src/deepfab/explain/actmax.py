"""Class-model visualization: the input that a classifier scores highest for a class.

Simonyan et al. (2014) find, by gradient ascent on the input, a regularized maximizer of a class
score $S_c$ (a logit, not the softmax, whose maximum can be reached by lowering the other classes):

    x* = argmax_x  S_c(x) - lambda_2 ||x||_2^2 - lambda_TV TV(x)
    TV(x) = sum_{c,i,j} (x_{c,i+1,j} - x_{c,i,j})^2 + (x_{c,i,j+1} - x_{c,i,j})^2

The L2 term keeps x small, total variation keeps it smooth (Mahendran & Vedaldi 2015), and a
random translation ("jitter") of the input at every step stops the ascent from exploiting
single-pixel patterns (Mordvintsev et al. 2015; Yosinski et al. 2015). For wafer maps the
wafer-area channel is held fixed (a real wafer outline) and only the fail-die channel is
optimized, inside the wafer and within [0, 1], so the result reads as a fail-die map.

    res = class_model(model, target=3, x0=x_start, free_channels=[1], support=wafer_area,
                      steps=200, lr=0.05, l2=1e-3, tv=3e-2, jitter=2, seed=0)
    res.x (C, H, W), res.history (steps,) objective, res.score / res.prob of the result

Introduced in lecture 3 (network visualization).

References: K. Simonyan, A. Vedaldi, A. Zisserman, ICLR workshop 2014; A. Mahendran, A. Vedaldi,
"Understanding Deep Image Representations by Inverting Them", CVPR 2015; J. Yosinski et al.,
"Understanding Neural Networks Through Deep Visualization", ICML workshop 2015.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..models import eval_mode
from .saliency import target_index


def total_variation(x: torch.Tensor) -> torch.Tensor:
    """Squared-difference total variation of (..., H, W): the sum of squared neighbour differences."""
    return ((x[..., 1:, :] - x[..., :-1, :]) ** 2).sum() + ((x[..., :, 1:] - x[..., :, :-1]) ** 2).sum()


@dataclass
class ClassModel:
    x: torch.Tensor          # (C, H, W) the optimized input
    history: np.ndarray      # (steps,) regularized objective per step
    score: float             # S_c(x) of the result (no jitter)
    prob: float              # softmax probability of the class at the result
    target: int


def class_model(model: torch.nn.Module, target: int, x0: torch.Tensor, steps: int = 200, lr: float = 0.05,
                l2: float = 1e-3, tv: float = 1e-2, jitter: int = 2, free_channels=None, support=None,
                clamp=(0.0, 1.0), seed: int = 0) -> ClassModel:
    """Regularized gradient ascent (Adam) on the input from ``x0`` (C, H, W); see the module docstring.

    ``free_channels``: the channels that change (default all); ``support`` (H, W) bool: where they
    may be non-zero; ``clamp``: the box the free values are projected to after every step (None
    for none). The regularizers act on the free channels only.
    """
    if not isinstance(x0, torch.Tensor) or x0.ndim != 3:
        raise ValueError(f"x0 must be one input (C, H, W); got {getattr(x0, 'shape', type(x0).__name__)}")
    for name, v in (("steps", steps), ("jitter", jitter)):
        if isinstance(v, bool) or not isinstance(v, int) or v < (1 if name == "steps" else 0):
            raise ValueError(f"class_model: {name} must be an int >= {1 if name == 'steps' else 0}; got {v!r}")
    if min(l2, tv) < 0 or not lr > 0:
        raise ValueError(f"class_model: need lr > 0, l2 >= 0, tv >= 0; got lr={lr}, l2={l2}, tv={tv}")
    c = x0.shape[0]
    free = list(range(c)) if free_channels is None else [int(i) for i in free_channels]
    if not free or min(free) < 0 or max(free) >= c:
        raise ValueError(f"free_channels must be channel indices in 0..{c - 1}; got {free_channels}")
    keep = torch.ones_like(x0, dtype=torch.bool)
    if support is not None:
        support = torch.as_tensor(support, dtype=torch.bool, device=x0.device)
        if support.shape != x0.shape[1:]:
            raise ValueError(f"support must be (H, W) = {tuple(x0.shape[1:])}; got {tuple(support.shape)}")
        keep = keep & support
    free_mask = torch.zeros_like(keep)
    free_mask[free] = True
    keep = keep | ~free_mask                            # fixed channels are kept as they are
    gen = torch.Generator().manual_seed(int(seed))
    x = (x0.detach().clone() * keep).requires_grad_(True)
    opt = torch.optim.Adam([x], lr=lr)
    history = []
    with eval_mode(model), torch.enable_grad():
        t = int(target_index(target, 1, model(x0[None].detach()).shape[1], x0.device)[0])
        for _ in range(steps):
            dy, dx = (torch.randint(-jitter, jitter + 1, (2,), generator=gen).tolist() if jitter else (0, 0))
            xin = torch.roll(x, shifts=(dy, dx), dims=(1, 2))[None]
            xf = x[free]
            objective = model(xin)[0, t] - l2 * (xf ** 2).sum() - tv * total_variation(xf)
            opt.zero_grad()
            (-objective).backward()
            x.grad[~free_mask] = 0.0                    # fixed channels do not move
            opt.step()
            with torch.no_grad():
                if clamp is not None:
                    x[free] = x[free].clamp(*clamp)
                x.mul_(keep)
            history.append(float(objective.detach()))
        with torch.no_grad():
            logits = model(x[None])[0]
    return ClassModel(x.detach(), np.array(history), float(logits[t]), float(torch.softmax(logits, 0)[t]), t)
