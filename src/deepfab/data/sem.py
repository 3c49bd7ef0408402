"""SEM-like images: line/space gratings and contact holes, bridge/break defects, Poisson-Gaussian noise.

Lectures 10 and 11 denoise and super-resolve them: a scanning electron microscope counts
secondary electrons, so a low-dose image is shot noise (Poisson in the dose) plus detector
read noise (Gaussian), seen through the beam's blur. A generator gives what a real SEM never
does -- the clean image -- so PSNR/SSIM can be measured; Noise2Noise/Noise2Void then learn
without it. Edges are bright (the SEM edge effect: more secondary electrons escape from a
sidewall), lines carry line-edge roughness (LER).

    from deepfab.data.sem import make_sem_image, add_sem_noise, sample_image
    s = make_sem_image("lines", size=128, defect="bridge", dose=20, read_sigma=0.02, blur=1.0, rng=0)
    s.noisy, s.clean, s.defect_mask         # (128, 128) float32, float32 in [0, 1], bool
    y = add_sem_noise(s.clean, dose=5, rng=1) # a second, independent noisy shot of the same scene
    img = sample_image("camera")             # scikit-image's bundled images, float32 in [0, 1]

References: L. Reimer, "Scanning Electron Microscopy", Springer 1998 (edge effect, shot noise);
A. Foi et al., "Practical Poissonian-Gaussian noise modeling and fitting for single-image raw
data", IEEE TIP 17(10), 2008; C. A. Mack, "Field Guide to Optical Lithography", SPIE 2006 (LER).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from .base import DataError

SEM_KINDS = ("lines", "holes")
SEM_DEFECTS = {"lines": ("bridge", "break"), "holes": ("missing", "merged")}
# scikit-image images that ship inside its wheel (others are downloaded on demand: never used here)
SAMPLE_IMAGES = ("camera", "moon", "coins", "text", "page", "brick", "grass", "gravel", "cell", "clock",
                 "microaneurysms", "shepp_logan_phantom", "astronaut", "chelsea", "coffee", "hubble_deep_field")


@dataclass
class SemImage:
    noisy: np.ndarray        # (H, W) float32, what the microscope records
    clean: np.ndarray        # (H, W) float32 in [0, 1], the scene before blur and noise
    defect_mask: np.ndarray  # (H, W) bool, pixels of the defect (all False when there is none)


def _rough_edge(n: int, sigma: float, corr: float, rng) -> np.ndarray:
    """(n,) edge displacement in pixels: Gaussian noise smoothed over ``corr`` pixels, std ``sigma``."""
    if sigma <= 0:
        return np.zeros(n)
    e = ndimage.gaussian_filter1d(rng.normal(size=n + 8 * int(corr + 1)), corr, mode="wrap")[: n]
    return e / (e.std() + 1e-12) * sigma


def render(inside: np.ndarray, edge_width: float, levels=(0.15, 0.45, 0.95)) -> np.ndarray:
    """Material (``inside``) at level 1, background at level 0, bright band along every boundary."""
    space, top, edge = levels
    d_in = ndimage.distance_transform_edt(inside)
    d_out = ndimage.distance_transform_edt(~inside)
    d = np.where(inside, d_in, d_out) - 0.5                     # pixels to the nearest boundary
    img = np.where(inside, top, space) + (edge - np.where(inside, top, space)) * np.exp(-(d / edge_width) ** 2)
    return np.clip(img, 0, 1).astype(np.float32)


def _lines(size, rng, pitch, duty, ler, angle, defect):
    h = w = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    c, s = np.cos(angle), np.sin(angle)
    across = (xx - w / 2) * c + (yy - h / 2) * s + w / 2         # coordinate across the lines
    along = -(xx - w / 2) * s + (yy - h / 2) * c + h / 2
    k = np.floor(across / pitch)                                  # line index
    rows = np.clip(np.round(along).astype(int), 0, h - 1)
    n_lines = int(np.ceil(1.5 * size / pitch)) + 4
    left = np.stack([_rough_edge(h, ler, 3.0, rng) for _ in range(n_lines)])   # (lines, H)
    right = np.stack([_rough_edge(h, ler, 3.0, rng) for _ in range(n_lines)])
    ki = (k.astype(int) % n_lines)
    pos = across - k * pitch                                      # position inside one period
    inside = (pos > left[ki, rows]) & (pos < duty * pitch + right[ki, rows])
    mask = np.zeros_like(inside)
    if defect:
        k0 = np.floor(rng.uniform(0.3, 0.7) * size / pitch)       # a line near the middle
        y0, length = rng.uniform(0.3, 0.7) * h, rng.uniform(0.6, 1.2) * pitch
        near = np.abs(along - y0) < length / 2
        if defect == "bridge":                                    # material across the space after line k0
            mask = near & (k == k0) & (pos >= duty * pitch) & ~inside
            inside = inside | mask
        else:                                                     # "break": line k0 missing over a stretch
            mask = near & (k == k0) & inside
            inside = inside & ~mask
    return inside, mask


def _holes(size, rng, pitch, duty, ler, defect):
    h = w = size
    n = int(np.ceil(size / pitch)) + 1
    cy, cx = np.meshgrid((np.arange(n) + 0.5) * pitch, (np.arange(n) + 0.5) * pitch, indexing="ij")
    cy, cx = cy + rng.normal(0, ler, cy.shape), cx + rng.normal(0, ler, cx.shape)   # placement error
    radius = duty * pitch / 2 * (1 + rng.normal(0, 0.05, cy.shape))                # CD variation
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    holes = np.zeros((h, w), bool)
    per_hole = []
    for i in range(n):
        for j in range(n):
            disk = (yy - cy[i, j]) ** 2 + (xx - cx[i, j]) ** 2 < radius[i, j] ** 2
            per_hole.append(disk)
            holes |= disk
    mask = np.zeros((h, w), bool)
    if defect:
        i, j = (int(v) for v in rng.integers(1, max(2, n - 2), size=2))
        if defect == "missing":                                   # an unopened contact
            mask = per_hole[i * n + j]
            holes &= ~mask
        else:                                                     # "merged": two neighbours joined
            a, b = (cy[i, j], cx[i, j]), (cy[i, j + 1], cx[i, j + 1])
            t = np.clip(((yy - a[0]) * (b[0] - a[0]) + (xx - a[1]) * (b[1] - a[1]))
                        / ((b[0] - a[0]) ** 2 + (b[1] - a[1]) ** 2), 0, 1)
            dist2 = (yy - a[0] - t * (b[0] - a[0])) ** 2 + (xx - a[1] - t * (b[1] - a[1])) ** 2
            bar = dist2 < (0.6 * radius[i, j]) ** 2
            mask = bar & ~holes
            holes |= bar
    return ~holes, mask                                           # material is everything but the holes


def add_sem_noise(clean: np.ndarray, dose: float = 20.0, read_sigma: float = 0.02, blur: float = 1.0,
                  rng=None) -> np.ndarray:
    """Blur by the beam (Gaussian, ``blur`` px), shot noise at ``dose`` electrons per unit intensity,
    plus Gaussian read noise: y = Poisson(dose * (k * x)) / dose + N(0, read_sigma^2)."""
    if dose <= 0 or read_sigma < 0 or blur < 0:
        raise DataError(f"need dose > 0, read_sigma >= 0, blur >= 0; got {dose}, {read_sigma}, {blur}")
    rng = np.random.default_rng(rng)
    x = ndimage.gaussian_filter(np.asarray(clean, np.float64), blur) if blur > 0 else np.asarray(clean, np.float64)
    y = rng.poisson(dose * np.clip(x, 0, None)) / dose + rng.normal(0, read_sigma, x.shape)
    return y.astype(np.float32)


def make_sem_image(kind: str = "lines", size: int = 128, defect: str | None = None, pitch: float = 16.0,
                   duty: float = 0.5, ler: float = 1.0, angle: float = 0.0, edge_width: float = 1.5,
                   dose: float = 20.0, read_sigma: float = 0.02, blur: float = 1.0, rng=None) -> SemImage:
    """One synthetic SEM image of ``kind`` 'lines' (line/space grating) or 'holes' (contact array).

    ``pitch`` px per period, ``duty`` line width (or hole diameter) / pitch, ``ler`` edge roughness
    (or hole placement error) std in px, ``angle`` of the lines in radians; ``defect`` is None,
    'bridge'/'break' (lines) or 'missing'/'merged' (holes). Noise as in ``add_sem_noise``.
    """
    if kind not in SEM_KINDS:
        raise DataError(f"unknown SEM kind {kind!r}; expected one of {', '.join(SEM_KINDS)}")
    if defect is not None and defect not in SEM_DEFECTS[kind]:
        raise DataError(f"unknown {kind} defect {defect!r}; expected None or one of {', '.join(SEM_DEFECTS[kind])}")
    if size < 16 or pitch < 4 or not 0.1 <= duty <= 0.9:
        raise DataError(f"need size >= 16, pitch >= 4, duty in [0.1, 0.9]; got {size}, {pitch}, {duty}")
    rng = np.random.default_rng(rng)
    if kind == "lines":
        inside, mask = _lines(size, rng, pitch, duty, ler, angle, defect)
    else:
        inside, mask = _holes(size, rng, pitch, duty, ler, defect)
    clean = render(inside, edge_width)
    return SemImage(add_sem_noise(clean, dose, read_sigma, blur, rng), clean, mask)


def make_sem_dataset(n: int, kind: str = "lines", size: int = 64, seed: int = 0, defect_rate: float = 0.5,
                     **params):
    """(noisy (n, S, S) float32, clean (n, S, S) float32, masks (n, S, S) bool); pitch and duty vary."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        p = dict(pitch=rng.uniform(8, 20), duty=rng.uniform(0.35, 0.6), angle=rng.choice([0.0, np.pi / 2]))
        p.update(params)
        if kind == "holes":
            p.pop("angle")
        defect = rng.choice(SEM_DEFECTS[kind]) if rng.random() < defect_rate else None
        out.append(make_sem_image(kind, size, defect=defect, rng=rng, **p))
    return (np.stack([s.noisy for s in out]), np.stack([s.clean for s in out]),
            np.stack([s.defect_mask for s in out]))


def sample_image(name: str = "camera") -> np.ndarray:
    """A sample image bundled with scikit-image, as (H, W) float32 grayscale in [0, 1]."""
    if name not in SAMPLE_IMAGES:
        raise DataError(f"unknown sample image {name!r}; bundled ones are {', '.join(SAMPLE_IMAGES)}")
    try:
        import skimage.data
    except ImportError:
        raise DataError("sample images need scikit-image (pip install scikit-image)") from None
    img = np.asarray(getattr(skimage.data, name)(), dtype=np.float64)
    if img.ndim == 3:                                              # RGB(A) -> luminance (ITU-R BT.601)
        img = img[..., :3] @ np.array([0.299, 0.587, 0.114])
    if img.max() > 1.0:
        img = img / 255.0
    return img.astype(np.float32)
