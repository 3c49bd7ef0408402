"""Denoising without clean images: Noise2Noise pairs and Noise2Void blind-spot masking, as ``fit`` losses.

Introduced in lecture 11 (a paper review with reproductions). An SEM never records the clean image
it is asked to restore, but it can scan the same field twice, and every scan has pixel-wise
independent noise. Two ways to train a denoiser from that alone:

**Noise2Noise** (Lehtinen et al. 2018). Train on pairs of independent noisy shots y1, y2 of one
scene: E[y2 | y1] = E[y2] = x when the noise has zero mean, so the minimiser of
E ||f(y1) - y2||^2 = E ||f(y1) - x||^2 + E ||y2 - x||^2 is the same network as with clean targets
(the second term does not depend on f). ``noisy_shots`` draws the shots (one noise level per scene,
``shots`` independent draws at it); ``Noise2NoiseLoss`` fits y1 -> y2, the roles swapped at random
per sample (both are valid inputs).

**Noise2Void** (Krull et al. 2019; Noise2Self, Batson & Royer 2019, gives the theory). With one
noisy image, predict each pixel from its neighbours only: a "blind-spot" function f, whose output
at pixel j does not depend on y_j (J-invariance), cannot learn the identity, and since the noise
at j is independent of its neighbours, E ||f(y)_j - y_j||^2 = E ||f(y)_j - x_j||^2 + var(n_j).
A plain CNN is made blind at a few pixels per patch: ``blind_spot_mask`` picks one pixel in each
cell of a grid (about ``fraction`` of them), ``blind_spot_input`` replaces each picked pixel by a
random other pixel of its (2r+1)^2 neighbourhood, and ``Noise2VoidLoss`` scores the output at the
picked pixels only, against the original noisy values.

    from deepfab.restore.selfsup import noisy_shots, Noise2NoiseLoss, Noise2VoidLoss
    y1, y2 = noisy_shots(clean, NoiseModel("sem", dose=(5, 40)), rng=0)      # (N, H, W) each: two scans
    fit(DnCNN(depth=8, features=32), (y1[:, None], y2[:, None]), None, cfg, loss_fn=Noise2NoiseLoss())
    fit(DnCNN(depth=8, features=32), (y1[:, None], y1[:, None]), None, cfg, loss_fn=Noise2VoidLoss(0.02))
    fit_method("noise2void", DnCNN(depth=8, features=32), np.stack([y1, y2]), clean, cfg)   # the same, by name

``fit_method`` trains by any of the three on the same noisy patches, so that the objectives are
compared at one budget: the supervised one is told the noise-free patches, Noise2Noise a second
shot of each, Noise2Void nothing more.

Shapes: patches (B, 1, P, P); masks (B, P, P) bool; ``Noise2VoidLoss.targets`` packs the noisy
values and the mask into (B, 2, P, P).

References:
    J. Lehtinen, J. Munkberg, J. Hasselgren, S. Laine, T. Karras, M. Aittala, T. Aila,
    "Noise2Noise: Learning Image Restoration without Clean Data", ICML 2018.
    A. Krull, T.-O. Buchholz, F. Jug, "Noise2Void - Learning Denoising from Single Noisy Images", CVPR 2019.
    J. Batson, L. Royer, "Noise2Self: Blind Denoising by Self-Supervision", ICML 2019.
"""
from __future__ import annotations

import numpy as np
import torch

from ..errors import DataError, UsageError
from ..train import Loss


def noisy_shots(clean, noise, shots: int = 2, rng=None) -> np.ndarray:
    """(shots, N, H, W) float32: ``shots`` independent noisy images of each of the (N, H, W) ``clean``
    scenes, all at one noise level per scene (``noise``: a ``deepfab.restore.noise.NoiseModel``)."""
    rng = np.random.default_rng(rng)
    clean = np.asarray(clean, np.float32)
    if clean.ndim != 3 or shots < 1:
        raise DataError(f"noisy_shots needs clean images (N, H, W) and shots >= 1; got {clean.shape}, {shots}")
    if not hasattr(noise, "level") or not hasattr(noise, "apply"):
        raise UsageError(f"noise must be a NoiseModel (one level per scene); got {type(noise).__name__}")
    out = np.empty((shots, *clean.shape), np.float32)
    for i, im in enumerate(clean):
        level = noise.level(rng)                           # the microscope's dose for this field
        for s in range(shots):
            out[s, i] = noise.apply(im, level, rng)
    return out


class _PerPatchMSE(Loss):
    """Mean squared error per patch against the target; validation reports it as ``loss``."""

    def __call__(self, outputs, targets):
        per = ((outputs.float() - targets) ** 2).flatten(1).mean(1)           # (B,)
        return per.sum(), torch.tensor(float(len(per)), device=outputs.device)

    def metrics(self, outputs, targets):
        return {"loss": float(((outputs.float() - targets) ** 2).flatten(1).mean(1).double().mean())}


class Noise2NoiseLoss(_PerPatchMSE):
    """Fit shot 1 -> shot 2 (inputs ``x``, targets ``y`` of ``fit``), each pair's roles swapped with
    probability 1/2 per batch. Validation ``loss``: MSE to the other shot (= MSE to the clean image
    plus the noise variance, in expectation)."""

    def targets(self, x, y, rng):
        swap = torch.as_tensor(rng.random(len(x)) < 0.5, device=x.device).view(-1, *[1] * (x.ndim - 1))
        return torch.where(swap, y, x), torch.where(swap, x, y)


def blind_spot_mask(shape, fraction: float, rng) -> np.ndarray:
    """(B, H, W) bool with one pixel chosen at random in each g x g cell, g = round(1 / sqrt(fraction)):
    about ``fraction`` of the pixels, spread evenly (stratified, as Krull et al.)."""
    if not 0 < fraction <= 0.25:
        raise UsageError(f"fraction of blind-spot pixels must be in (0, 0.25]; got {fraction}")
    b, h, w = shape
    g = max(2, int(round(1 / np.sqrt(fraction))))
    cy, cx = np.arange(0, h, g), np.arange(0, w, g)
    yy = cy[None, :, None] + rng.integers(0, g, (b, len(cy), len(cx)))       # (B, cells_y, cells_x)
    xx = cx[None, None, :] + rng.integers(0, g, (b, len(cy), len(cx)))
    keep = (yy < h) & (xx < w)                                                # cells cut by the border
    mask = np.zeros(shape, bool)
    bi = np.broadcast_to(np.arange(b)[:, None, None], yy.shape)
    mask[bi[keep], yy[keep], xx[keep]] = True
    return mask


def blind_spot_input(noisy, mask, radius: int, rng) -> np.ndarray:
    """A copy of (B, H, W) ``noisy`` in which every ``mask`` pixel holds the value of a random other
    pixel within ``radius`` of it (offsets uniform over the (2r+1)^2 - 1 neighbours; clamped inside
    the image, where a clamped offset of 0 is moved to the opposite side)."""
    if radius < 1:
        raise UsageError(f"radius must be >= 1; got {radius}")
    noisy = np.asarray(noisy)
    b, h, w = noisy.shape
    bi, yi, xi = np.nonzero(mask)
    offsets = np.array([(dy, dx) for dy in range(-radius, radius + 1) for dx in range(-radius, radius + 1)
                        if (dy, dx) != (0, 0)])                               # ((2r+1)^2 - 1, 2)
    d = offsets[rng.integers(0, len(offsets), len(bi))]
    ny, nx = yi + d[:, 0], xi + d[:, 1]
    ny = np.where((ny < 0) | (ny >= h), yi - d[:, 0], ny)                     # mirror a step off the edge
    nx = np.where((nx < 0) | (nx >= w), xi - d[:, 1], nx)
    out = noisy.copy()
    out[bi, yi, xi] = noisy[bi, ny, nx]
    return out


class Noise2VoidLoss(Loss):
    """Blind-spot training on single noisy patches (inputs ``x``; ``y`` is ignored): ``fraction`` of
    each patch's pixels masked, replaced from a (2 ``radius`` + 1)^2 neighbourhood, and the squared
    error to their original noisy values averaged over those pixels only."""

    def __init__(self, fraction: float = 1 / 64, radius: int = 2):
        blind_spot_mask((1, 1, 1), fraction, np.random.default_rng(0))      # validate here, not mid-fit
        if radius < 1:
            raise UsageError(f"radius must be >= 1; got {radius}")
        self.fraction, self.radius = fraction, radius

    def targets(self, x, y, rng):
        noisy = x[:, 0].cpu().numpy()                                         # (B, P, P)
        mask = blind_spot_mask(noisy.shape, self.fraction, rng)
        xin = torch.from_numpy(blind_spot_input(noisy, mask, self.radius, rng))[:, None].to(x.device)
        t = torch.stack([x[:, 0], torch.from_numpy(mask).to(x.device, x.dtype)], 1)   # (B, 2, P, P)
        return xin, t

    def __call__(self, outputs, targets):
        noisy, mask = targets[:, :1], targets[:, 1:]                           # (B, 1, P, P) each
        se = ((outputs.float() - noisy) ** 2 * mask).flatten(1).sum(1)       # (B,) over the blind spots
        per = se / mask.flatten(1).sum(1).clamp_min(1.0)
        return per.sum(), torch.tensor(float(len(per)), device=outputs.device)

    def metrics(self, outputs, targets):
        raise UsageError("Noise2VoidLoss has no validation score (an unmasked output sees its own noise); "
                         "fit it with val_data=None")


METHODS = ("supervised", "noise2noise", "noise2void")


def fit_method(method: str, model: torch.nn.Module, shots: np.ndarray, targets: np.ndarray, config,
               fraction: float = 1 / 64, radius: int = 2):
    """Train ``model`` on the same noisy patches by one of ``METHODS``, at the same budget (``config``):
    supervised: shot 1 -> ``targets`` (the noise-free patches); noise2noise: shot 1 <-> shot 2;
    noise2void: shot 1 alone, blind-spot masked. ``shots`` (2, N, P, P), ``targets`` (N, P, P).
    No validation set (a clean one would be information the self-supervised methods do not have):
    the last epoch's weights are returned, as a ``FitResult``."""
    from ..train import fit

    if method not in METHODS:
        raise UsageError(f"unknown training method {method!r}; expected one of {', '.join(METHODS)}")
    y1, y2 = shots[0][:, None], shots[1][:, None]                           # (N, 1, P, P) each
    if method == "supervised":
        return fit(model, (y1, np.asarray(targets, np.float32)[:, None]), None, config, loss_fn=_PerPatchMSE())
    if method == "noise2noise":
        return fit(model, (y1, y2), None, config, loss_fn=Noise2NoiseLoss())
    return fit(model, (y1, y1), None, config, loss_fn=Noise2VoidLoss(fraction, radius))


__all__ = ["noisy_shots", "Noise2NoiseLoss", "blind_spot_mask", "blind_spot_input", "Noise2VoidLoss", "METHODS",
           "fit_method"]
