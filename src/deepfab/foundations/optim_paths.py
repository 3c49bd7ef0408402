"""Optimizer trajectories on 2-D loss surfaces (lecture 0: "Training with SGD" and its variants).

Each test function is written once with plain arithmetic, so the same expression runs on numpy
arrays (for contour plots) and torch tensors (for torch.optim); its gradient is written out by
hand for the numpy teaching optimizers. ``torch_path`` and ``scratch_path`` run one optimizer
from one start point and return the path, so the scratch optimizers can be compared with
torch.optim step for step.

``family_runs`` tunes each optimizer's learning rate, runs both implementations and measures
how far torch's own path moves when its start moves by 1e-12 (how chaotic the run is).

    from deepfab.foundations.optim_paths import FUNCTIONS, FAMILY, family_runs, torch_path
    p = torch_path(FUNCTIONS["ravine"], (-4.0, 1.5), "adam", steps=100, lr=0.3)
    p.points   # (101, 2) parameters after 0..100 steps
    p.losses   # (101,) loss at each of them
    paths, rows = family_runs(FUNCTIONS["ravine"], (-4.5, 1.5), steps=100)

References:
    H. H. Rosenbrock, "An automatic method for finding the greatest or least value of a
    function", The Computer Journal 3 (1960).
    B. T. Polyak (1964) momentum; Y. Nesterov (1983) accelerated gradient; T. Tieleman and
    G. Hinton (2012) RMSprop; D. P. Kingma and J. Ba (2015) Adam; I. Loshchilov and F. Hutter
    (2019) AdamW. PyTorch torch.optim documentation for the exact update conventions.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import UsageError


@dataclass(frozen=True)
class TestFunction:
    name: str
    value: Callable          # value(x, y) with numpy arrays or torch tensors
    grad: Callable           # grad(x, y) -> (dx, dy), numpy
    minimum: tuple           # the global minimizer (x*, y*)
    box: tuple               # (xmin, xmax, ymin, ymax) for contour plots


def _ravine(x, y):
    # an ill-conditioned quadratic bowl: curvature 0.1 along x, 2 along y (condition number 20)
    return 0.05 * x ** 2 + y ** 2


def _ravine_grad(x, y):
    return 0.1 * x, 2.0 * y


def _rosenbrock(x, y):
    # a curved banana valley; minimum 0 at (1, 1)
    return (1 - x) ** 2 + 100 * (y - x ** 2) ** 2


def _rosenbrock_grad(x, y):
    return -2 * (1 - x) - 400 * x * (y - x ** 2), 200 * (y - x ** 2)


FUNCTIONS = {
    "ravine": TestFunction("ravine", _ravine, _ravine_grad, (0.0, 0.0), (-5.0, 5.0, -2.0, 2.0)),
    "rosenbrock": TestFunction("rosenbrock", _rosenbrock, _rosenbrock_grad, (1.0, 1.0), (-2.0, 2.0, -1.0, 3.0)),
}

# The optimizer family of the lecture: name -> (torch.optim class name, fixed keyword arguments).
FAMILY = {
    "sgd": ("SGD", {}),
    "momentum": ("SGD", {"momentum": 0.9}),
    "nesterov": ("SGD", {"momentum": 0.9, "nesterov": True}),
    "rmsprop": ("RMSprop", {}),
    "adam": ("Adam", {}),
    "adamw": ("AdamW", {"weight_decay": 0.01}),
}


@dataclass
class Path:
    optimizer: str
    points: np.ndarray   # (steps + 1, 2)
    losses: np.ndarray   # (steps + 1,)


def _check(fn, start, optimizer, steps):
    if not isinstance(fn, TestFunction):
        raise TypeError(f"fn must be a TestFunction (see FUNCTIONS); got {type(fn).__name__}")
    if optimizer not in FAMILY:
        raise UsageError(f"optimizer must be one of {sorted(FAMILY)}; got {optimizer!r}")
    start = np.asarray(start, dtype=np.float64)
    if start.shape != (2,):
        raise UsageError(f"start must be a point (x, y); got shape {start.shape}")
    if not isinstance(steps, (int, np.integer)) or steps < 0:
        raise UsageError(f"steps must be a non-negative int; got {steps!r}")
    return start


def torch_path(fn: TestFunction, start, optimizer: str, steps: int, **hparams) -> Path:
    """Run ``torch.optim`` (``FAMILY[optimizer]`` plus ``hparams``, e.g. ``lr``) for ``steps`` steps."""
    import torch

    start = _check(fn, start, optimizer, steps)
    cls_name, fixed = FAMILY[optimizer]
    theta = torch.tensor(start, dtype=torch.float64, requires_grad=True)   # (2,)
    opt = getattr(torch.optim, cls_name)([theta], **{**fixed, **hparams})
    points, losses = [start.copy()], []
    for _ in range(steps):
        opt.zero_grad()
        loss = fn.value(theta[0], theta[1])
        loss.backward()
        losses.append(float(loss.detach()))
        opt.step()
        points.append(theta.detach().numpy().copy())
    losses.append(float(fn.value(*points[-1])))
    return Path(optimizer, np.array(points), np.array(losses))


def scratch_path(fn: TestFunction, start, optimizer: str, steps: int, **hparams) -> Path:
    """The same run with ``deepfab.scratch.optim`` and the hand-written numpy gradient."""
    from deepfab.scratch import optim as scratch_optim
    from deepfab.scratch.tensor import Tensor

    start = _check(fn, start, optimizer, steps)
    cls_name, fixed = FAMILY[optimizer]
    theta = Tensor(start.copy())                                            # (2,)
    opt = getattr(scratch_optim, cls_name)([theta], **{**fixed, **hparams})
    points, losses = [start.copy()], []
    for _ in range(steps):
        opt.zero_grad()
        x, y = theta.data
        losses.append(float(fn.value(x, y)))
        theta.grad = np.array(fn.grad(x, y), dtype=np.float64)              # (2,)
        opt.step()
        points.append(np.array(theta.data, dtype=np.float64))
    losses.append(float(fn.value(*points[-1])))
    return Path(optimizer, np.array(points), np.array(losses))


def surface(fn: TestFunction, n: int = 200):
    """Grid (X, Y, Z) of ``fn`` over its box, each (n, n), for contour plots."""
    x0, x1, y0, y1 = fn.box
    X, Y = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
    return X, Y, fn.value(X, Y)


LR_GRID = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0)


def tune_lr(fn: TestFunction, start, optimizer: str, steps: int, grid=LR_GRID) -> float:
    """The learning rate from ``grid`` with the lowest final loss after ``steps`` torch.optim steps,
    among those whose loss never rises above its starting value.

    Every optimizer gets the same budget and the same grid, so the comparison is not decided by
    one hand-picked step size; runs that first blow up and then land low by luck are excluded.
    """
    import warnings

    best, best_lr = np.inf, None
    for lr in grid:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)          # overflow in a diverging run
            losses = torch_path(fn, start, optimizer, steps, lr=lr).losses
        if np.all(np.isfinite(losses)) and losses.max() <= losses[0] and losses[-1] < best:
            best, best_lr = losses[-1], lr
    if best_lr is None:
        raise RuntimeError(f"{optimizer} raised the loss on {fn.name} for every lr in {grid}")
    return float(best_lr)


def start_sensitivity(fn: TestFunction, start, optimizer: str, steps: int, delta: float = 1e-12, **hparams) -> float:
    """max_k |theta_k - theta'_k| for torch.optim runs from ``start`` and from ``start + delta``.

    Some runs are chaotic (an adaptive method zig-zagging across a narrow valley): any rounding
    difference, e.g. between two correct implementations, then grows exponentially. This measures
    how much of a scratch/torch path gap such amplification alone explains.
    """
    a = torch_path(fn, start, optimizer, steps, **hparams).points
    b = torch_path(fn, np.asarray(start, dtype=np.float64) + delta, optimizer, steps, **hparams).points
    return float(np.max(np.abs(a - b)))


def family_runs(fn: TestFunction, start, steps: int, grid=LR_GRID, delta: float = 1e-12) -> tuple[list, list]:
    """Every optimizer of ``FAMILY`` on ``fn`` from ``start``, at its own learning rate from ``grid``.

    Returns the torch.optim paths and one row per optimizer: the tuned lr, the final loss, the
    largest scratch/torch coordinate gap along the path, and ``start_sensitivity`` for ``delta``.
    """
    paths, rows = [], []
    for name in FAMILY:
        lr = tune_lr(fn, start, name, steps, grid=grid)
        p_t = torch_path(fn, start, name, steps, lr=lr)
        p_s = scratch_path(fn, start, name, steps, lr=lr)
        paths.append(p_t)
        gap = float(np.max(np.abs(p_t.points - p_s.points)))
        rows.append({"function": fn.name, "optimizer": name, "lr": lr, "steps": steps,
                     "final loss": p_t.losses[-1], "max |scratch - torch|": gap,
                     f"torch: start moved {delta:.0e}": start_sensitivity(fn, start, name, steps, delta=delta, lr=lr)})
    return paths, rows
