"""The fab's questions about a restored SEM image: is the defect still there, and is anything there that is not?

Introduced in lecture 10. A denoiser that smooths a one-line bridge away, or draws a line where
the noise suggested one, is worse than no denoiser for inspection, however high its PSNR. Measured
on synthetic SEM images (``deepfab.data.sem``) whose defect-free twin is known: ``defect_cases``
draws each defective image together with the same layout without the defect (same seed; the
generator draws the defect after the layout), so the defect's own signature d = target - reference
is known exactly.

    from deepfab.restore.defects import defect_cases, defect_scores, hallucination_scores, flat_and_noise_response
    cases = defect_cases(8, size=96, dose=10, seed=0)          # noisy, target, reference, mask, clean_noisy
    s = defect_scores(restored, cases[0])                       # amplitude, detected, false alarms
    h = hallucination_scores(restored_clean_case, cases[0].reference)   # class flips away from edges
    flat_and_noise_response(fn, sigma=25 / 255)                 # output RMS for a flat and a pure-noise input

Measures:

- *amplitude*: the matched-filter estimate of how much of the defect survives,
  a = <r - ref, d> / <d, d> over the defect's neighbourhood (r the restored image, ref the
  noise-free defect-free image): 1 the defect kept at full contrast, 0 erased, noise averages out.
- *detection* by a simple golden-reference threshold detector: binarize r and ref at the material
  threshold (0.3, between the space level 0.15 and the line level 0.45 of the generator), keep
  8-connected regions of changed pixels (after a 4x4 opening) of at least ``min_area`` px; the
  defect is detected when one
  touches its mask; every other region is a false alarm.
- *hallucination* on defect-free images: the share of pixels, at least 2 px from any material
  boundary, that land on the other side of the threshold than in the noise-free image; the RMS
  error away from edges and on them; and the output for inputs with no structure at all (a flat
  image, and flat plus pure noise), where every bit of output texture is invented.

The golden-reference comparison is the principle of die-to-die and die-to-database wafer
inspection: a defect is where the image differs from what the layout says should be there.

References:
    D. O. North, "An analysis of the factors which determine signal/noise discrimination in pulsed
    carrier systems", RCA Technical Report PTR-6C, 1943 (the matched filter).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ..data.sem import SEM_DEFECTS, make_sem_image
from ..errors import DataError

THRESHOLD = 0.3   # material / space threshold between the generator's levels 0.15 and 0.45


@dataclass
class DefectCase:
    noisy: np.ndarray        # (H, W) the defective image as recorded
    target: np.ndarray       # (H, W) its noise-free version (beam-blurred)
    reference: np.ndarray    # (H, W) the same layout without the defect, noise-free
    mask: np.ndarray         # (H, W) bool, the defect
    clean_noisy: np.ndarray  # (H, W) the defect-free layout as recorded (its own noise draw)
    kind: str
    defect: str


def defect_cases(n: int, size: int = 96, dose: float = 10.0, read_sigma: float = 0.02, blur: float = 1.0,
                 seed: int = 0, pitch: float = 20.0, kinds=("lines",)) -> list[DefectCase]:
    """``n`` cases cycling through the defects of ``kinds`` (lines: bridge, break; holes: missing, merged), seeded.

    Lines only by default: at the generator's hole sizes the bright rim fills a contact hole, and
    the threshold detector cannot see a missing or merged hole even in the noise-free image. At
    ``pitch`` 20 px (spaces and lines about 10 px) it finds every line defect in the noise-free image;
    at 16 px some short bridges are thinner than its clean-up opening."""
    kinds = [(k, d) for k in kinds for d in SEM_DEFECTS[k]]
    out = []
    for i in range(n):
        kind, defect = kinds[i % len(kinds)]
        s = int(np.random.default_rng([seed, i]).integers(2 ** 31))
        kw = dict(size=size, pitch=pitch, dose=dose, read_sigma=read_sigma, blur=blur)
        a, b = make_sem_image(kind, defect=defect, rng=s, **kw), make_sem_image(kind, defect=None, rng=s, **kw)
        out.append(DefectCase(a.noisy, ndimage.gaussian_filter(a.clean, blur), ndimage.gaussian_filter(b.clean, blur),
                              a.defect_mask, b.noisy, kind, defect))
    return out


def _region(case: DefectCase, grow: int = 4) -> np.ndarray:
    return ndimage.binary_dilation(case.mask, iterations=grow) | (np.abs(case.target - case.reference) > 0.01)


def defect_amplitude(restored: np.ndarray, case: DefectCase) -> float:
    """<r - ref, d> / <d, d> over the defect's neighbourhood, d = target - reference."""
    reg = _region(case)
    d = (case.target - case.reference)[reg]
    if not np.any(d):
        raise DataError("the defect leaves no signature in the noise-free image")
    return float(np.dot(np.asarray(restored, np.float64)[reg] - case.reference[reg], d) / np.dot(d, d))


def changed_regions(restored: np.ndarray, reference: np.ndarray, threshold: float = THRESHOLD,
                    min_area: int = 10, opening: int = 4) -> tuple[np.ndarray, int]:
    """Labels (H, W) of the 8-connected regions of at least ``min_area`` px whose class differs, and their count.

    The changed-pixel map is first opened with an ``opening`` x ``opening`` square (the detector's
    own clean-up: single pixels, and strips narrower than ``opening`` along edges, where an edge
    moved by a pixel or two, are not defects; the smallest defect here is about 8 px across)."""
    changed = (np.asarray(restored) > threshold) != (np.asarray(reference) > threshold)
    changed = ndimage.binary_opening(changed, np.ones((opening, opening), bool))
    lab, n = ndimage.label(changed, structure=np.ones((3, 3)))
    area = np.bincount(lab.ravel(), minlength=n + 1)
    keep = np.flatnonzero(area >= min_area)
    keep = keep[keep > 0]
    lab = np.where(np.isin(lab, keep), lab, 0)
    return lab, len(keep)


def defect_scores(restored: np.ndarray, case: DefectCase, min_area: int = 10) -> dict:
    """{'amplitude', 'detected' (0/1), 'false_alarms' (regions away from the defect)} for one defective image."""
    lab, _ = changed_regions(restored, case.reference, min_area=min_area)
    near = ndimage.binary_dilation(case.mask, iterations=3)
    hit = set(np.unique(lab[case.mask])) - {0}
    touching = set(np.unique(lab[near])) - {0}
    false = set(np.unique(lab)) - {0} - touching
    return {"amplitude": defect_amplitude(restored, case), "detected": float(bool(hit)), "false_alarms": len(false)}


def hallucination_scores(restored: np.ndarray, target: np.ndarray, threshold: float = THRESHOLD,
                         edge: int = 2, min_area: int = 10) -> dict:
    """For a defect-free image: class flips away from edges, RMS error off/on edges, false-alarm regions."""
    r, t = np.asarray(restored, np.float64), np.asarray(target, np.float64)
    cls = t > threshold
    boundary = cls ^ ndimage.binary_erosion(cls, border_value=1) | ~cls ^ ndimage.binary_erosion(~cls, border_value=1)
    near_edge = ndimage.binary_dilation(boundary, iterations=edge)
    flips = (r > threshold) != cls
    _, n_regions = changed_regions(r, t, threshold, min_area)
    err = r - t
    return {"flip_rate": float(flips[~near_edge].mean()), "flat_rmse": float(np.sqrt(np.mean(err[~near_edge] ** 2))),
            "edge_rmse": float(np.sqrt(np.mean(err[near_edge] ** 2))), "false_alarms": n_regions}


def flat_and_noise_response(fn, sigma: float = 25 / 255, size: int = 96, level: float = 0.5, rng=0) -> dict:
    """What ``fn`` (image -> image) makes of inputs without structure: the output RMS around ``level`` for a
    flat image, and for the flat image plus N(0, sigma^2) noise (0 = nothing invented), with the input's RMS."""
    rng = np.random.default_rng(rng)
    flat = np.full((size, size), level, np.float32)
    noisy = (flat + rng.normal(0, sigma, flat.shape)).astype(np.float32)
    out_flat, out_noise = np.asarray(fn(flat), np.float64), np.asarray(fn(noisy), np.float64)
    c = slice(8, size - 8)                                  # away from the border's padding effects
    return {"flat_rms": float(np.sqrt(np.mean((out_flat[c, c] - level) ** 2))),
            "noise_rms": float(np.sqrt(np.mean((out_noise[c, c] - level) ** 2))),
            "noise_texture": float(out_noise[c, c].std()), "input_rms": float(np.sqrt(np.mean((noisy - level) ** 2)))}


def summarize(rows: list[dict]) -> dict:
    """Mean of each key over a list of per-image score dicts."""
    if not rows:
        raise DataError("nothing to summarize: no scores")
    return {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}


__all__ = ["THRESHOLD", "DefectCase", "defect_cases", "defect_amplitude", "changed_regions", "defect_scores",
           "hallucination_scores", "flat_and_noise_response", "summarize"]
