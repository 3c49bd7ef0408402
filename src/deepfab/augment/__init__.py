"""Wafer-aware data augmentation: the square symmetries, die-level noise, and measures of invariance.

    from deepfab.augment import Compose, RandomDihedral, RandomRotation, DieNoise
    aug = Compose([RandomDihedral(), RandomRotation(10.0), DieNoise(drop=0.1)])
    x_aug = aug(x, torch.Generator().manual_seed(0))     # x: (N, 2, S, S) from encode_maps

Modules: ``dihedral`` (the group D4 on square maps), ``transforms`` (random, seeded, composable
augmentations), ``invariance`` (D4 agreement of a trained model, test-time augmentation),
``regrid`` (a wafer map re-rendered at another product's die grid, fainter defects: the
product-shift augmentation of lecture 8 and ``deepfab wafer train --regrid``), ``plots``
(figures; drawing only). Lecture 2 (``deepfab run L02``) measures them with the
experiment harness ``deepfab.experiment``.

References: see each module.
"""
from .dihedral import D4_NAMES, D4_ORDER, dihedral, dihedral_batch, dihedral_compose, dihedral_inverse, orbit
from .invariance import d4_agreement, d4_logits, tta_predict
from .regrid import (
    PROBE_GRIDS,
    RegridMaps,
    fade_fails,
    fail_density,
    random_grid,
    regrid,
    regrid_maps,
    scatter_fails,
    wafer_disk,
)
from .transforms import (
    Compose,
    DieNoise,
    GaussianNoise,
    RandomApply,
    RandomDihedral,
    RandomRotation,
    SaltPepper,
    check_maps,
    wafer_augment,
)

__all__ = [
    "D4_NAMES", "D4_ORDER", "Compose", "DieNoise", "GaussianNoise", "RandomApply",
    "RandomDihedral", "RandomRotation", "SaltPepper", "check_maps", "dihedral",
    "dihedral_batch", "dihedral_compose", "dihedral_inverse", "orbit", "wafer_augment",
    "d4_logits", "d4_agreement", "tta_predict", "PROBE_GRIDS", "RegridMaps", "fade_fails", "fail_density",
    "random_grid", "regrid", "regrid_maps", "scatter_fails", "wafer_disk",
]
