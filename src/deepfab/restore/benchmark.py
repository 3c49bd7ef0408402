"""Run several restoration methods over the same noisy images and score them: the tables of lecture 10.

Introduced in lecture 10. A *method* is a function ``image -> image``; ``classical_methods`` builds
the classical ones for one noise setting, each with its parameter tuned on validation pairs (see
``deepfab.restore.classical`` for the settings), and ``score_methods`` runs every method on every
(noisy, target) pair and keeps mean PSNR and SSIM (``deepfab.restore.metrics``: as given, unclipped,
data range 1).

    from deepfab.restore.benchmark import classical_methods, score_methods, best_method
    methods = classical_methods("gaussian", 25 / 255, val_pairs, names=("gaussian", "tv", "nlm", "bm3d"))
    methods["DnCNN"] = lambda y: denoise_image(net, y)
    table = score_methods(methods, test_pairs)        # name -> {"psnr", "ssim", "psnr_each", "outputs"}
    best_method(table, "psnr")                        # the name with the highest mean PSNR

References:
    See ``deepfab.restore.classical`` and ``deepfab.restore.metrics``.
"""
from __future__ import annotations

import time

import numpy as np

from ..errors import UsageError
from .classical import DENOISERS, denoise, denoise_sem, tune
from .metrics import psnr, ssim


def classical_methods(kind: str, level: float, val_pairs, names=tuple(DENOISERS), read_sigma: float = 0.02) -> dict:
    """name -> ``image -> image`` for Gaussian noise (``kind`` 'gaussian', ``level`` = sigma) or SEM noise
    ('sem', ``level`` = dose; through the Anscombe transform), parameters tuned on ``val_pairs``."""
    if kind not in ("gaussian", "sem"):
        raise UsageError(f"kind must be 'gaussian' or 'sem'; got {kind!r}")
    noisy, targets = [p[0] for p in val_pairs], [p[1] for p in val_pairs]
    out = {}
    for name in names:
        if kind == "gaussian":
            p = tune(name, noisy, targets, sigma=level)
            out[name] = (lambda y, n=name, p=p: denoise(n, y, level, p))
        else:
            p = tune(name, noisy, targets, dose=level, read_sigma=read_sigma)
            out[name] = (lambda y, n=name, p=p: denoise_sem(n, y, level, read_sigma, p))
        out[name].param = p                               # the tuned setting, for the lecture's table
    return out


def score_methods(methods: dict, pairs, keep_outputs: bool = True) -> dict:
    """name -> {'psnr', 'ssim' (means), 'psnr_each', 'ssim_each', 'seconds', 'outputs'} over (noisy, target) pairs."""
    table = {}
    for name, fn in methods.items():
        t0 = time.perf_counter()
        outs = [np.asarray(fn(y), np.float32) for y, _ in pairs]
        ps = [psnr(t, o) for (_, t), o in zip(pairs, outs)]
        ss = [ssim(t, o) for (_, t), o in zip(pairs, outs)]
        table[name] = {"psnr": float(np.mean(ps)), "ssim": float(np.mean(ss)), "psnr_each": ps, "ssim_each": ss,
                       "seconds": time.perf_counter() - t0, "outputs": outs if keep_outputs else None}
    return table


def best_method(table: dict, key: str = "psnr", among=None) -> str:
    """The name with the highest ``key`` (among ``among``, default all)."""
    names = list(among) if among is not None else list(table)
    return max(names, key=lambda n: table[n][key])


__all__ = ["classical_methods", "score_methods", "best_method"]
