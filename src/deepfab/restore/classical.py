"""Classical baselines: Gaussian, median, total variation, non-local means, BM3D; Anscombe for SEM noise; bicubic.

Introduced in lecture 10, where each is run against DnCNN and SRCNN/ESPCN. Every denoiser is a
function ``image -> image`` of an (H, W) float image in [0, 1] with its noise level ``sigma``
(same units) and, where it has one, its own smoothing parameter ``param``:

    from deepfab.restore.classical import denoise, denoise_sem, tune, DENOISERS, bicubic_upscale, downscale
    x_nlm = denoise("nlm", noisy, sigma=25 / 255)                       # sigma given, h = 0.8 sigma
    best = tune("tv", val_noisy, val_clean, sigma=25 / 255)             # TV weight with the best PSNR
    x_tv = denoise("tv", noisy, sigma=25 / 255, param=best)
    x_sem = denoise_sem("bm3d", sem_noisy, dose=20, read_sigma=0.02)    # through the Anscombe transform
    up = bicubic_upscale(downscale(img, 2), 2)                          # the super-resolution baseline

Settings. ``gaussian`` (filter width, px), ``median`` (window size) and ``tv`` (Chambolle weight)
have no rule linking them to sigma, so ``tune`` picks their parameter on validation images with
the clean reference (an oracle choice: an advantage the blind network does not get). ``nlm`` is
scikit-image's ``denoise_nl_means`` with the settings of its documentation (5x5 patches, search
distance 6, ``fast_mode``, ``h = 0.8 sigma``, ``sigma`` given); ``bm3d`` is the ``bm3d`` package
(Makinen, Azzari, Foi) at its defaults with ``sigma_psd = sigma``. Both get the true noise level.

Poisson-Gaussian (SEM) noise has a variance that grows with the signal, which these Gaussian
denoisers do not model. ``denoise_sem`` applies the generalized Anscombe transform (GAT) to the
counts z = dose * y, f(z) = 2 sqrt(z + 3/8 + s^2) with s = dose * read_sigma, which makes the noise
approximately unit-variance Gaussian; denoises there (rescaled to about [0, 1], sigma = 1 / scale);
and maps back with the closed-form approximation of the exact unbiased inverse (Makitalo & Foi 2013)
rather than the algebraic inverse, which is biased at low counts.

Bicubic: cubic convolution (Keys 1981, a = -0.75, as ``torch.nn.functional.interpolate``), pixel
centres aligned (``align_corners=False``); ``downscale`` averages s x s blocks (a detector with
pixels s times larger), the degradation the super-resolvers learn to undo.

References:
    L. I. Rudin, S. Osher, E. Fatemi, "Nonlinear total variation based noise removal algorithms",
    Physica D 60, 1992; A. Chambolle, "An algorithm for total variation minimization and
    applications", J. Math. Imaging Vis. 20, 2004.
    A. Buades, B. Coll, J.-M. Morel, "A non-local algorithm for image denoising", CVPR 2005.
    K. Dabov, A. Foi, V. Katkovnik, K. Egiazarian, "Image Denoising by Sparse 3-D Transform-Domain
    Collaborative Filtering", IEEE TIP 16(8), 2007; Y. Makinen, L. Azzari, A. Foi, "Collaborative
    Filtering of Correlated Noise: Exact Transform-Domain Variance for Improved Shrinkage and
    Patch Matching", IEEE TIP 29, 2020 (the ``bm3d`` package).
    M. Makitalo, A. Foi, "Optimal Inversion of the Generalized Anscombe Transformation for
    Poisson-Gaussian Noise", IEEE TIP 22(1), 2013.
    R. Keys, "Cubic convolution interpolation for digital image processing", IEEE TASSP 29(6), 1981.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage

from ..errors import DataError, UsageError

# parameter grids that ``tune`` searches (validation PSNR); None: the method takes sigma and no parameter
GRIDS = {"gaussian": (0.5, 0.7, 1.0, 1.4, 2.0, 2.8), "median": (3, 5, 7),
         "tv": (0.02, 0.03, 0.05, 0.07, 0.1, 0.14, 0.2, 0.3), "nlm": None, "bm3d": None}


def _gaussian(img, sigma, param):
    return ndimage.gaussian_filter(img, param)


def _median(img, sigma, param):
    return ndimage.median_filter(img, size=int(param), mode="reflect")


def _tv(img, sigma, param):
    from skimage.restoration import denoise_tv_chambolle
    return denoise_tv_chambolle(img, weight=param)


def _nlm(img, sigma, param):
    from skimage.restoration import denoise_nl_means
    return denoise_nl_means(img, h=0.8 * sigma, sigma=sigma, fast_mode=True, patch_size=5, patch_distance=6)


def _bm3d(img, sigma, param):
    import bm3d

    profile = bm3d.BM3DProfile()
    profile.num_threads = 1    # the library's own threads sum in a varying order: one thread repeats exactly
    return bm3d.bm3d(img, sigma_psd=max(float(sigma), 1e-6), profile=profile)


DENOISERS = {"gaussian": _gaussian, "median": _median, "tv": _tv, "nlm": _nlm, "bm3d": _bm3d}


def _image(img) -> np.ndarray:
    img = np.asarray(img, np.float64)
    if img.ndim != 2 or not np.isfinite(img).all():
        raise DataError(f"expected a finite (H, W) grayscale image; got shape {img.shape}")
    return img


def denoise(name: str, image, sigma: float, param=None) -> np.ndarray:
    """Classical denoiser ``name`` (a key of ``DENOISERS``) at noise std ``sigma``; ``param`` for the tuned ones."""
    if name not in DENOISERS:
        raise UsageError(f"unknown denoiser {name!r}; expected one of {', '.join(DENOISERS)}")
    if GRIDS[name] is not None and param is None:
        raise UsageError(f"denoiser {name!r} needs param (one of the grid {GRIDS[name]} or tune(...)'s choice)")
    return DENOISERS[name](_image(image), float(sigma), param).astype(np.float32)


def gat(z: np.ndarray, s: float) -> np.ndarray:
    """Generalized Anscombe transform of counts ``z`` = Poisson + N(0, s^2): 2 sqrt(z + 3/8 + s^2) (0 below)."""
    return 2.0 * np.sqrt(np.maximum(z + 3.0 / 8.0 + s * s, 0.0))


def gat_inverse(d: np.ndarray, s: float) -> np.ndarray:
    """Closed-form approximation of the exact unbiased inverse of ``gat`` (Makitalo & Foi 2013), >= 0."""
    d = np.maximum(d, 1.0)                                 # below 1 the series is not valid; counts ~ 0 there
    c = np.sqrt(1.5)
    z = d ** 2 / 4 + c / 4 / d - 11 / 8 / d ** 2 + 5 / 8 * c / d ** 3 - 1 / 8 - s * s
    return np.maximum(z, 0.0)


def denoise_sem(name: str, image, dose: float, read_sigma: float = 0.02, param=None) -> np.ndarray:
    """Denoise Poisson-Gaussian noise (``deepfab.data.sem.add_sem_noise`` at ``dose``, ``read_sigma``)
    with a Gaussian denoiser in the Anscombe domain; returns the image in the input's units."""
    y = _image(image)
    s = dose * read_sigma                                  # read noise in counts
    t = gat(dose * y, s)                                   # noise ~ N(0, 1) in this domain
    lo, hi = gat(0.0, s), gat(float(dose), s)              # the transform of intensities 0 and 1
    u = (t - lo) / (hi - lo)                               # about [0, 1]; noise std 1 / (hi - lo)
    u_hat = denoise(name, u, 1.0 / (hi - lo), param).astype(np.float64)
    return (gat_inverse(u_hat * (hi - lo) + lo, s) / dose).astype(np.float32)


def tune(name: str, noisy, targets, sigma: float | None = None, dose: float | None = None,
         read_sigma: float = 0.02, grid=None):
    """The parameter of ``name`` from ``grid`` (default ``GRIDS[name]``) with the best mean PSNR on the
    validation pairs (``noisy``, ``targets``); Gaussian noise at ``sigma`` or SEM noise at ``dose``."""
    from .metrics import psnr

    grid = GRIDS.get(name) if grid is None else grid
    if grid is None:
        return None
    if (sigma is None) == (dose is None):
        raise UsageError("tune needs exactly one of sigma (Gaussian noise) or dose (SEM noise)")

    def run(y, p):
        return denoise(name, y, sigma, p) if dose is None else denoise_sem(name, y, dose, read_sigma, p)

    score = [np.mean([psnr(t, run(y, p)) for y, t in zip(noisy, targets)]) for p in grid]
    return grid[int(np.argmax(score))]


def downscale(image, scale: int) -> np.ndarray:
    """(H, W) -> (H // s, W // s): the mean of each s x s block (the image cropped to a multiple of s)."""
    img = _image(image)
    h, w = img.shape[0] // scale * scale, img.shape[1] // scale * scale
    return img[:h, :w].reshape(h // scale, scale, w // scale, scale).mean((1, 3)).astype(np.float32)


def bicubic_upscale(image, scale: int) -> np.ndarray:
    """(H, W) -> (H s, W s) by cubic convolution (torch ``interpolate``, bicubic, pixel centres aligned)."""
    x = torch.as_tensor(_image(image), dtype=torch.float32)[None, None]
    return F.interpolate(x, scale_factor=scale, mode="bicubic", align_corners=False)[0, 0].numpy()


__all__ = ["DENOISERS", "GRIDS", "denoise", "denoise_sem", "gat", "gat_inverse", "tune", "downscale",
           "bicubic_upscale"]
