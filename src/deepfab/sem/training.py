"""``deepfab sem train``: a blind denoiser or a super-resolver for SEM images, into a model folder.

The data are generated, never downloaded: SEM-like line/space and contact-hole scenes
(``deepfab.data.sem``) and the scikit-image photographs that ship in its wheel
(``deepfab.restore.noise.training_images``; camera, coins and moon are kept out for testing), plus
line/space scenes at random angles (the generator's datasets run along the axes only).
A denoiser sees fresh noise every batch, a mixture of Gaussian noise with a standard deviation
drawn from [sigma_min, sigma_max] and SEM shot-plus-read noise at a dose drawn (uniform in log)
from [dose_min, dose_max], so one network covers them all without being told the level (blind).
A super-resolver learns to undo ``s x s`` block averaging. Both train on ``deepfab.train.fit``
through ``deepfab.restore.train``, so ``--resume`` continues a killed run from
``DIR/checkpoints`` and the same seed and thread count give the same weights.

    opts = SemTrainOptions(task="denoise", epochs=6, out="runs/sem-denoise")
    info = train_sem(opts)          # writes model.pt, config.json, metrics.json, README.md

Introduced with the ``deepfab sem`` tool; lecture 10 teaches the training.

References: K. Zhang et al., "Beyond a Gaussian Denoiser", IEEE TIP 26(7), 2017 (blind residual
training); W. Shi et al., CVPR 2016 (ESPCN).
"""
from __future__ import annotations

import os
import platform
import resource
import time
from pathlib import Path

import torch

from ..errors import UsageError
from .model_io import save_model
from .options import SemTrainOptions


def _check_out(opts: SemTrainOptions) -> Path:
    out = Path(opts.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file; expected a folder for the model")
    if (out / "model.pt").exists() and not (opts.force or opts.resume):
        raise UsageError(f"{out} already holds a trained model; pass --force to replace it or --resume to continue")
    return out


def noise_model(opts: SemTrainOptions):
    """The blind training noise of ``opts``: Gaussian and SEM parts, mixed per patch."""
    from ..restore.noise import MixedNoise, NoiseModel

    gauss = NoiseModel("gaussian", sigma=(opts.sigma_min / 255, opts.sigma_max / 255))
    sem = NoiseModel("sem", dose=(opts.dose_min, opts.dose_max), read_sigma=0.02, blur=1.0)
    return MixedNoise((gauss, sem), (1 - opts.sem_share, opts.sem_share))


def oblique_lines(opts: SemTrainOptions) -> list:
    """``n_oblique`` clean line/space scenes at angles uniform in [0, pi), pitch 8-20 px, duty 0.35-0.6,
    bright edge bands uniform in [edge_min, edge_max] px wide."""
    import numpy as np

    from ..data.sem import make_sem_image

    rng = np.random.default_rng([opts.seed, 7])
    return [make_sem_image("lines", opts.sem_size, pitch=rng.uniform(8, 20), duty=rng.uniform(0.35, 0.6),
                           angle=rng.uniform(0, np.pi), edge_width=_edge(opts, rng), rng=rng).clean
            for _ in range(opts.n_oblique)]


def _edge(opts: SemTrainOptions, rng) -> float:
    """An edge width in [edge_min, edge_max] (no draw when they are equal, so older recipes repeat exactly)."""
    return opts.edge_min if opts.edge_min == opts.edge_max else float(rng.uniform(opts.edge_min, opts.edge_max))


def build_net(opts: SemTrainOptions) -> torch.nn.Module:
    """A fresh network for ``opts`` (``deepfab.models.restore``; a DnCNN starts as the identity)."""
    from ..models.restore import DnCNN, build_restorer

    if opts.task == "denoise":
        return DnCNN(channels=1, depth=opts.depth, features=opts.features)
    return build_restorer(opts.arch, **({"scale": opts.scale} if opts.arch == "espcn" else {}))


def train_sem(opts: SemTrainOptions) -> dict:
    """Train the model ``opts`` describes and write its folder; returns what metrics.json holds."""
    from ..device import seed_everything
    from ..restore.noise import training_images
    from ..restore.train import train_denoiser, train_super_resolver
    from ..train import TrainConfig

    out = _check_out(opts)
    if opts.threads is not None:
        if opts.threads < 1:
            raise UsageError(f"--threads must be a positive int; got {opts.threads}")
        torch.set_num_threads(opts.threads)
    t0, cpu0, load0 = time.perf_counter(), time.process_time(), os.getloadavg()[0]
    seed_everything(opts.seed)
    images = training_images(n_sem=opts.n_sem, size=opts.sem_size, seed=opts.seed) + oblique_lines(opts)
    net = build_net(opts)
    cfg = TrainConfig(epochs=opts.epochs, batch_size=opts.batch_size, lr=opts.lr, optimizer="adam", weight_decay=0.0,
                      scheduler="cosine", monitor="val_loss", seed=opts.seed, device=opts.device,
                      out_dir=str(out / "checkpoints"), resume=opts.resume)
    if opts.task == "denoise":
        res = train_denoiser(net, images, noise_model(opts), cfg, n_patches=opts.patches, patch=opts.patch)
    else:
        res = train_super_resolver(net, images, opts.scale, cfg, n_patches=opts.patches, patch=opts.patch)
    best = res.best_metrics
    metrics = {"history": res.history, "best_epoch": res.best_epoch, "epochs_run": res.epochs_run,
               "val_loss": best.get("loss"), "val_psnr": best.get("psnr"),
               "train_seconds": res.train_seconds, "wall_seconds": time.perf_counter() - t0,
               "cpu_seconds": time.process_time() - cpu0, "threads": torch.get_num_threads(),
               "load_average": [load0, os.getloadavg()[0]], "machine": platform.processor() or platform.machine(),
               "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
               "n_training_images": len(images)}
    config = {"task": opts.task, "scale": opts.scale if opts.task == "upscale" else 1, "options": opts.to_dict(),
              "train_config": cfg.to_dict(), "seed": opts.seed, "command": opts.command(),
              "noise_units": "sigma in 8-bit grey levels (sigma / 255 of the full scale); dose in electrons per unit",
              "data": "deepfab.restore.noise.training_images(n_sem, sem_size, seed): SEM-like lines and holes "
                      "plus scikit-image's bundled images except camera, coins, moon; "
                      "deepfab.sem.training.oblique_lines(n_oblique): lines at random angles and edge widths"}
    save_model(res.model, out, config, metrics)
    (out / "README.md").write_text(readme(opts, metrics, res.model))
    return metrics


def readme(opts: SemTrainOptions, m: dict, net) -> str:
    """A short README.md for a trained folder: what it is, the command, the time, the validation score."""
    n_params = sum(p.numel() for p in net.parameters())
    what = (f"a blind DnCNN denoiser (depth {opts.depth}, {opts.features} features)" if opts.task == "denoise"
            else f"an {opts.arch.upper()} x{opts.scale} super-resolver")
    noise = (f"Gaussian noise sigma {opts.sigma_min:g}-{opts.sigma_max:g} (8-bit grey levels) and SEM noise at doses "
             f"{opts.dose_min:g}-{opts.dose_max:g} ({100 * opts.sem_share:.0f} % of patches)" if opts.task == "denoise"
             else f"{opts.scale} x {opts.scale} block averaging")
    return (f"# `deepfab sem` model: {what}\n\n{n_params:,} parameters, trained on {opts.patches} patches of "
            f"{opts.patch} px cut from {m['n_training_images']} clean images "
            f"({2 * opts.n_sem + opts.n_oblique} generated SEM-like scenes, the rest scikit-image's), "
            f"against {noise}.\n\nValidation (same kinds of images, held-out patches): PSNR {m['val_psnr']:.2f} dB "
            f"(epoch {m['best_epoch']} of {m['epochs_run']}).\n\nTraining took {m['wall_seconds']:.0f} s of wall "
            f"time ({m['cpu_seconds']:.0f} s of CPU time, torch threads {m['threads']}, load average "
            f"{m['load_average'][0]:.1f} at the start).\n\nReproduce it:\n\n```\n{opts.command()}\n```\n")


__all__ = ["train_sem", "noise_model", "build_net", "readme"]
