"""PSNR and SSIM from scratch (checked against ``skimage.metrics`` in the tests).

Introduced in lecture 10. Both compare an estimate with its reference *as given*: no clipping,
no rescaling, ``data_range`` = 1 for images in [0, 1]. A denoiser's output may leave [0, 1]
slightly; it is scored as it is (clipping would only help it, and hide a bias), and the
reference is the noise-free image the method is asked to recover.

    from deepfab.restore.metrics import psnr, ssim
    psnr(clean, estimate)                  # dB, 10 log10(range^2 / MSE)
    ssim(clean, estimate)                  # mean SSIM, Gaussian window sigma 1.5 (Wang et al. 2004)

PSNR = 10 log10(L^2 / MSE). SSIM(x, y) = (2 mu_x mu_y + C1)(2 s_xy + C2) / ((mu_x^2 + mu_y^2 + C1)(s_x^2 + s_y^2 + C2))
with local means, variances and covariance under an 11x11 Gaussian window (sigma 1.5), C1 =
(0.01 L)^2, C2 = (0.03 L)^2, averaged over the pixels whose window lies inside the image (the
border of 5 px is left out, as ``skimage.metrics.structural_similarity(..., gaussian_weights=True,
use_sample_covariance=False)`` does).

References:
    Z. Wang, A. C. Bovik, H. R. Sheikh, E. P. Simoncelli, "Image Quality Assessment: From Error
    Visibility to Structural Similarity", IEEE TIP 13(4), 2004.
    S. van der Walt et al., "scikit-image: image processing in Python", PeerJ 2014 (the oracle).
"""
from __future__ import annotations

import numpy as np

from ..errors import DataError


def _pair(reference, estimate) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(reference, np.float64), np.asarray(estimate, np.float64)
    if x.shape != y.shape or x.ndim != 2:
        raise DataError(f"reference and estimate must be (H, W) images of one shape; got {x.shape} and {y.shape}")
    return x, y


def psnr(reference, estimate, data_range: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB; inf when the two are equal."""
    x, y = _pair(reference, estimate)
    mse = np.mean((x - y) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(data_range ** 2 / mse))


def _gaussian_window(sigma: float = 1.5, truncate: float = 3.5) -> np.ndarray:
    r = int(truncate * sigma + 0.5)                         # 5 for sigma 1.5: an 11-tap window
    g = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    return g / g.sum()


def _smooth(img: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Separable filtering with the window ``g``, borders mirrored (d c b | a b c d | c b a)."""
    r = len(g) // 2
    p = np.pad(img, r, mode="symmetric")                    # (H + 2r, W + 2r)
    rows = sum(g[k] * p[k:k + img.shape[0], :] for k in range(len(g)))          # (H, W + 2r)
    return sum(g[k] * rows[:, k:k + img.shape[1]] for k in range(len(g)))       # (H, W)


def ssim_map(reference, estimate, data_range: float = 1.0, sigma: float = 1.5) -> np.ndarray:
    """Per-pixel SSIM (H, W) under a Gaussian window (see the module docstring)."""
    x, y = _pair(reference, estimate)
    g = _gaussian_window(sigma)
    mx, my = _smooth(x, g), _smooth(y, g)
    sxx = _smooth(x * x, g) - mx * mx                       # local variances and covariance
    syy = _smooth(y * y, g) - my * my
    sxy = _smooth(x * y, g) - mx * my
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    return ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx ** 2 + my ** 2 + c1) * (sxx + syy + c2))


def ssim(reference, estimate, data_range: float = 1.0, sigma: float = 1.5) -> float:
    """Mean SSIM over the pixels at least the window radius away from the border."""
    m = ssim_map(reference, estimate, data_range, sigma)
    r = len(_gaussian_window(sigma)) // 2
    if min(m.shape) <= 2 * r:
        raise DataError(f"SSIM needs images larger than {2 * r + 1} px on each side; got {m.shape}")
    return float(m[r:-r, r:-r].mean())


def scores(reference, estimate, data_range: float = 1.0) -> dict:
    """{'psnr': dB, 'ssim': mean SSIM} of one estimate."""
    return {"psnr": psnr(reference, estimate, data_range), "ssim": ssim(reference, estimate, data_range)}


__all__ = ["psnr", "ssim", "ssim_map", "scores"]
