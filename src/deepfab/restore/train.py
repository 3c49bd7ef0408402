"""Training a denoiser (blind over a noise range) and a super-resolver on patches, with the course engine.

Introduced in lecture 10; ``deepfab sem`` trains its shipped model with it. Both go through
``deepfab.train.fit`` with a ``Loss`` of their own, so checkpoints, resume (``out_dir``,
``resume=True``), seeding and the per-epoch log are the engine's:

    from deepfab.models.restore import DnCNN, ESPCN
    from deepfab.restore.noise import NoiseModel, training_images
    from deepfab.restore.train import train_denoiser, train_super_resolver, denoise_image, super_resolve
    from deepfab.train import TrainConfig
    images = training_images(n_sem=24, size=96, seed=0)
    cfg = TrainConfig(epochs=6, batch_size=32, lr=1e-3, monitor="val_loss", weight_decay=0, seed=0)
    res = train_denoiser(DnCNN(depth=10, features=32), images, NoiseModel("gaussian", sigma=(0, 55 / 255)), cfg)
    res.model, res.history                               # the best-validation weights, one record per epoch
    x_hat = denoise_image(res.model, noisy)              # (H, W) numpy in, (H, W) out
    sr = train_super_resolver(ESPCN(2), images, scale=2, config=cfg).model
    hr = super_resolve(sr, low_res, scale=2)             # SRCNN gets the bicubic-upsampled image itself

Denoising (``ResidualMSE``): the training set is a fixed, seeded set of clean patches; every
batch draws fresh noise from the ``NoiseModel`` (a new level per patch when blind) with the
engine's checkpointed generator, so a killed run resumes exactly. The loss is Zhang et al.'s
residual loss: with x_hat = y - R(y), ||R(y) - (y - x)||^2 = ||x_hat - x||^2, per patch mean
over pixels. Validation: fixed noisy patches (seeded), scored by MSE and mean PSNR.

Super-resolution (``PatchMSE``): high-resolution patches, the low-resolution input made by
``classical.downscale`` (s x s block means); MSE against the high-resolution patch.

References:
    K. Zhang et al., "Beyond a Gaussian Denoiser: Residual Learning of Deep CNN for Image Denoising",
    IEEE TIP 26(7), 2017; C. Dong et al., IEEE TPAMI 38(2), 2016 (SRCNN); W. Shi et al., CVPR 2016 (ESPCN).
    D. P. Kingma, J. Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015.
"""
from __future__ import annotations

import numpy as np
import torch

from ..errors import UsageError
from ..models import eval_mode
from ..train import FitResult, Loss, TrainConfig, fit
from .classical import bicubic_upscale, downscale
from .noise import sample_patches


class PatchMSE(Loss):
    """Mean squared error per patch; validation reports ``loss`` (MSE) and ``psnr`` (mean over patches, dB)."""

    def __call__(self, outputs, targets):
        per = ((outputs.float() - targets) ** 2).flatten(1).mean(1)          # (B,)
        return per.sum(), torch.tensor(float(len(per)), device=outputs.device)

    def metrics(self, outputs, targets):
        per = ((outputs.float() - targets) ** 2).flatten(1).mean(1).double()
        return {"loss": float(per.mean()), "psnr": float((10 * torch.log10(1.0 / per.clamp_min(1e-12))).mean())}


class ResidualMSE(PatchMSE):
    """Zhang et al.'s residual loss for a network returning y - R(y); noise drawn per batch from ``noise``."""

    def __init__(self, noise):
        if not hasattr(noise, "pair"):
            raise UsageError(f"noise must be a NoiseModel or MixedNoise; got {type(noise).__name__}")
        self.noise = noise

    def targets(self, x, y, rng):
        noisy, target = self.noise.pair(x[:, 0].cpu().numpy(), rng)             # (B, P, P) each
        return (torch.from_numpy(noisy)[:, None].to(x.device), torch.from_numpy(target)[:, None].to(x.device))


def _config(config: TrainConfig | None) -> TrainConfig:
    return config if config is not None else TrainConfig(epochs=5, batch_size=32, lr=1e-3, weight_decay=0.0,
                                                         monitor="val_loss")


def train_denoiser(model: torch.nn.Module, images, noise, config: TrainConfig | None = None, n_patches: int = 2000,
                   patch: int = 40, n_val: int = 256, val_images=None, on_epoch_end=None) -> FitResult:
    """Fit ``model`` (returns the clean estimate) on ``n_patches`` clean patches of ``images`` with fresh
    ``noise`` each batch; validation on ``n_val`` noisy patches of ``val_images`` (default: the same
    images, other places). Seeded by ``config.seed``; ``on_epoch_end(record)`` as in ``fit``."""
    cfg = _config(config)
    clean = sample_patches(images, n_patches, patch, rng=[cfg.seed, 1])[:, None]          # (N, 1, P, P)
    val_clean = sample_patches(val_images if val_images is not None else images, n_val, patch, rng=[cfg.seed, 2])
    val_noisy, val_target = noise.pair(val_clean, rng=[cfg.seed, 3])
    return fit(model, (clean, clean), (val_noisy[:, None], val_target[:, None]), cfg, loss_fn=ResidualMSE(noise),
               on_epoch_end=on_epoch_end)


def sr_input(model: torch.nn.Module, low_res: np.ndarray, scale: int) -> np.ndarray:
    """What ``model`` takes for a low-resolution (..., h, w) image: itself, or (SRCNN) its bicubic upsampling."""
    if getattr(model, "arch", None) != "srcnn":
        return low_res
    flat = low_res.reshape(-1, *low_res.shape[-2:])
    up = np.stack([bicubic_upscale(im, scale) for im in flat])
    return up.reshape(*low_res.shape[:-2], *up.shape[-2:])


def sr_pairs(images, n: int, patch: int, scale: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """(low-res (n, p/s, p/s), high-res (n, p, p)) patches; ``patch`` a multiple of ``scale``."""
    if patch % scale:
        raise UsageError(f"patch must be a multiple of scale; got patch {patch}, scale {scale}")
    hr = sample_patches(images, n, patch, rng=rng)
    return np.stack([downscale(p, scale) for p in hr]), hr


def train_super_resolver(model: torch.nn.Module, images, scale: int, config: TrainConfig | None = None,
                         n_patches: int = 2000, patch: int = 48, n_val: int = 256, val_images=None,
                         on_epoch_end=None) -> FitResult:
    """Fit an SRCNN (on bicubic-upsampled input) or ESPCN (on the low-resolution input) at ``scale``."""
    cfg = _config(config)
    if getattr(model, "scale", scale) != scale:
        raise UsageError(f"the model upsamples by {model.scale}; got scale={scale}")
    lr, hr = sr_pairs(images, n_patches, patch, scale, [cfg.seed, 1])
    vlr, vhr = sr_pairs(val_images if val_images is not None else images, n_val, patch, scale, [cfg.seed, 2])
    X, Xv = sr_input(model, lr, scale)[:, None], sr_input(model, vlr, scale)[:, None]
    return fit(model, (X, hr[:, None]), (Xv, vhr[:, None]), cfg, loss_fn=PatchMSE(),
               on_epoch_end=on_epoch_end)


def _run(model, x: np.ndarray) -> np.ndarray:
    dev = next(model.parameters()).device
    with eval_mode(model), torch.no_grad():
        return model(torch.as_tensor(np.asarray(x, np.float32), device=dev)[None, None])[0, 0].cpu().numpy()


def denoise_image(model: torch.nn.Module, image: np.ndarray) -> np.ndarray:
    """(H, W) noisy -> (H, W) denoised, float32, unclipped."""
    return _run(model, image)


def super_resolve(model: torch.nn.Module, low_res: np.ndarray, scale: int) -> np.ndarray:
    """(h, w) low-resolution -> (h s, w s), float32, unclipped."""
    return _run(model, sr_input(model, np.asarray(low_res, np.float32), scale))


__all__ = ["PatchMSE", "ResidualMSE", "train_denoiser", "train_super_resolver", "sr_input", "sr_pairs",
           "denoise_image", "super_resolve"]
