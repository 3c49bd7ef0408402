"""Wafer-aware data augmentation and the tools of the lecture-2 regularization ablations.

    from deepfab.augment import Compose, RandomDihedral, RandomRotation, DieNoise
    aug = Compose([RandomDihedral(), RandomRotation(10.0), DieNoise(drop=0.1)])
    x_aug = aug(x, torch.Generator().manual_seed(0))     # x: (N, 2, S, S) from encode_maps

Modules: ``dihedral`` (the group D4 on square maps), ``transforms`` (random, seeded, composable
augmentations), ``dedup`` (content-hash de-duplication of test sets), ``ablation`` (train the same
model under several regularization settings and seeds, summarise mean and sd), ``plots``
(figures; drawing only). Introduced in lecture 2 (``deepfab run L02``).

References: see each module.
"""
from .dedup import dedup_indices, map_hash
from .dihedral import D4_NAMES, D4_ORDER, dihedral, dihedral_batch, dihedral_compose, dihedral_inverse, orbit
from .transforms import (
    Compose,
    DieDropout,
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
    "D4_NAMES", "D4_ORDER", "Compose", "DieDropout", "DieNoise", "GaussianNoise", "RandomApply",
    "RandomDihedral", "RandomRotation", "SaltPepper", "check_maps", "dedup_indices", "dihedral",
    "dihedral_batch", "dihedral_compose", "dihedral_inverse", "map_hash", "orbit", "wafer_augment",
]
