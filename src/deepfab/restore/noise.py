"""Noise models and training patches for restoration: Gaussian, Poisson-Gaussian (SEM), blind over a range.

Introduced in lecture 10 (denoising). A ``NoiseModel`` turns clean images into (noisy, target)
pairs; "blind" training draws a new level for every image from a range, so one network covers
them all without being told the level. Intensities are in [0, 1]: Gaussian sigma 25/255 is the
usual "sigma 25" of the denoising literature.

    from deepfab.restore.noise import NoiseModel, training_images, sample_patches
    noise = NoiseModel("gaussian", sigma=(0, 55 / 255))          # blind over sigma in [0, 55]/255
    sem = NoiseModel("sem", dose=(5, 80), read_sigma=0.02)        # shot noise at 5-80 electrons per unit
    noisy, target = noise.pair(clean, rng)                        # (..., H, W) float32 each
    images = training_images(n_sem=24, size=96, seed=0)           # clean SEM-like + scikit-image images
    patches = sample_patches(images, n=2000, patch=40, rng=0)     # (2000, 40, 40) float32, flips/rotations

Gaussian: y = x + N(0, sigma^2), target x. SEM: y = Poisson(dose * k*x) / dose + N(0, read^2)
(``deepfab.data.sem.add_sem_noise``), target k*x, the beam-blurred image the microscope would
record without noise (``blur`` px; 0 for pure denoising): a denoiser removes noise, it is not
asked to undo the beam. A mixed model draws one of its parts per image.

References:
    K. Zhang et al., "Beyond a Gaussian Denoiser", IEEE TIP 26(7), 2017 (blind training over a sigma range).
    A. Foi et al., "Practical Poissonian-Gaussian noise modeling and fitting for single-image raw data",
    IEEE TIP 17(10), 2008.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ..data.sem import SAMPLE_IMAGES, add_sem_noise, make_sem_dataset, sample_image
from ..errors import DataError, UsageError

# scikit-image images the training sets may use; TEST_SAMPLES are kept out of training for evaluation
TEST_SAMPLES = ("camera", "coins", "moon")
TRAIN_SAMPLES = tuple(n for n in SAMPLE_IMAGES if n not in TEST_SAMPLES)


def _range(name, v, lo_ok=0.0):
    lo, hi = (float(v), float(v)) if np.isscalar(v) else (float(v[0]), float(v[1]))
    if not (lo_ok <= lo <= hi) or not np.isfinite(hi):
        raise UsageError(f"NoiseModel.{name} must be a number or a (low, high) range with {lo_ok} <= low <= high; "
                         f"got {v!r}")
    return lo, hi


@dataclass
class NoiseModel:
    """``kind`` 'gaussian' (``sigma`` level or range) or 'sem' (``dose`` level or range, ``read_sigma``, ``blur``)."""

    kind: str = "gaussian"
    sigma: float | tuple = 25 / 255
    dose: float | tuple = 20.0
    read_sigma: float = 0.02
    blur: float = 0.0

    def __post_init__(self):
        if self.kind not in ("gaussian", "sem"):
            raise UsageError(f"NoiseModel.kind must be 'gaussian' or 'sem'; got {self.kind!r}")
        self.sigma_range = _range("sigma", self.sigma)
        self.dose_range = _range("dose", self.dose, lo_ok=1e-6)
        if self.read_sigma < 0 or self.blur < 0:
            raise UsageError(f"NoiseModel read_sigma and blur must be >= 0; got {self.read_sigma}, {self.blur}")

    @property
    def blind(self) -> bool:
        lo, hi = self.sigma_range if self.kind == "gaussian" else self.dose_range
        return hi > lo

    def level(self, rng) -> float:
        """One noise level: sigma (Gaussian) or dose (SEM), uniform in the range (doses uniform in log)."""
        if self.kind == "gaussian":
            return float(rng.uniform(*self.sigma_range))
        lo, hi = np.log(self.dose_range)
        return float(np.exp(rng.uniform(lo, hi)))

    def target(self, clean: np.ndarray) -> np.ndarray:
        """The noise-free image a perfect denoiser returns (the beam-blurred image for SEM noise)."""
        clean = np.asarray(clean, np.float32)
        if self.kind == "sem" and self.blur > 0:
            return ndimage.gaussian_filter(clean, (0,) * (clean.ndim - 2) + (self.blur, self.blur)).astype(np.float32)
        return clean

    def apply(self, clean: np.ndarray, level: float, rng) -> np.ndarray:
        """One (H, W) clean image at one noise level -> noisy, float32."""
        if self.kind == "gaussian":
            return (clean + rng.normal(0, level, clean.shape)).astype(np.float32)
        return add_sem_noise(clean, dose=level, read_sigma=self.read_sigma, blur=self.blur, rng=rng)

    def pair(self, clean: np.ndarray, rng=None) -> tuple[np.ndarray, np.ndarray]:
        """(noisy, target) for an (H, W) image or an (..., H, W) stack, one level per image."""
        rng = np.random.default_rng(rng)
        clean = np.asarray(clean, np.float32)
        if clean.ndim < 2:
            raise DataError(f"clean images must be (H, W) or (..., H, W); got shape {clean.shape}")
        flat = clean.reshape(-1, *clean.shape[-2:])
        noisy = np.stack([self.apply(im, self.level(rng), rng) for im in flat]).reshape(clean.shape)
        return noisy, self.target(clean)


@dataclass
class MixedNoise:
    """Each image gets one of ``models`` (chosen with ``weights``): e.g. Gaussian and SEM noise in one training set."""

    models: tuple
    weights: tuple | None = None

    def pair(self, clean: np.ndarray, rng=None) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(rng)
        clean = np.asarray(clean, np.float32)
        flat = clean.reshape(-1, *clean.shape[-2:])
        p = None if self.weights is None else np.asarray(self.weights, float) / np.sum(self.weights)
        pick = rng.choice(len(self.models), size=len(flat), p=p)
        out = [self.models[k].pair(im, rng) for k, im in zip(pick, flat)]
        return (np.stack([o[0] for o in out]).reshape(clean.shape),
                np.stack([o[1] for o in out]).reshape(clean.shape))


def training_images(n_sem: int = 24, size: int = 96, seed: int = 0, samples=TRAIN_SAMPLES,
                    sample_crop: int = 256) -> list[np.ndarray]:
    """Clean training images: ``n_sem`` SEM-like images of each kind (lines, holes; pitch, duty and
    defects vary) and the scikit-image images in ``samples`` (each cut to at most ``sample_crop`` px
    square from its centre). A list of (H, W) float32 arrays in [0, 1]."""
    out = []
    for k, kind in enumerate(("lines", "holes")):
        if n_sem > 0:
            _, clean, _ = make_sem_dataset(n_sem, kind, size=size, seed=seed * 2 + k, defect_rate=0.3)
            out += list(clean)
    for name in samples:
        img = sample_image(name)
        h, w = img.shape
        c = min(sample_crop, h, w)
        out.append(img[(h - c) // 2:(h - c) // 2 + c, (w - c) // 2:(w - c) // 2 + c])
    if not out:
        raise DataError("training_images: no images (n_sem=0 and no samples)")
    return out


def sample_patches(images, n: int, patch: int = 40, rng=None, augment: bool = True) -> np.ndarray:
    """(n, patch, patch) float32 crops at random places of random images (each image as likely),
    with a random flip and quarter-turn when ``augment`` (the eight symmetries of the square)."""
    rng = np.random.default_rng(rng)
    small = [im.shape for im in images if min(im.shape) < patch]
    if small:
        raise DataError(f"every image must be at least {patch} px on each side for {patch}-px patches; got {small[0]}")
    out = np.empty((n, patch, patch), np.float32)
    for i in range(n):
        im = images[rng.integers(len(images))]
        y, x = rng.integers(im.shape[0] - patch + 1), rng.integers(im.shape[1] - patch + 1)
        p = im[y:y + patch, x:x + patch]
        if augment:
            p = np.rot90(p[:, ::-1] if rng.random() < 0.5 else p, k=int(rng.integers(4)))
        out[i] = p
    return out


__all__ = ["NoiseModel", "MixedNoise", "training_images", "sample_patches", "TEST_SAMPLES", "TRAIN_SAMPLES"]
