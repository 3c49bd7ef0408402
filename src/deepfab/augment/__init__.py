"""Wafer-aware data augmentation and the tools of the lecture-2 regularization ablations.

    from deepfab.augment import Compose, RandomDihedral, RandomRotation, DieNoise
    aug = Compose([RandomDihedral(), RandomRotation(10.0), DieNoise(drop=0.1)])
    x_aug = aug(x, torch.Generator().manual_seed(0))     # x: (N, 2, S, S) from encode_maps

Modules: ``dihedral`` (the group D4 on square maps), ``transforms`` (random, seeded, composable
augmentations), ``invariance`` (D4 agreement of a trained model, test-time augmentation),
``ablation`` (train the same model under several regularization settings and seeds, summarise
mean and sd), ``plots`` (figures; drawing only). Test sets are de-duplicated against training
with ``deepfab.data.dedup``. Introduced in lecture 2 (``deepfab run L02``).

References: see each module.
"""
from .ablation import Variant, paired_differences, recall_table, run_ablation, stratified_subset, summarize
from .dihedral import D4_NAMES, D4_ORDER, dihedral, dihedral_batch, dihedral_compose, dihedral_inverse, orbit
from .invariance import d4_agreement, d4_logits, tta_predict
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
    "RandomDihedral", "RandomRotation", "SaltPepper", "check_maps", "dihedral",
    "dihedral_batch", "dihedral_compose", "dihedral_inverse", "orbit", "wafer_augment",
    "Variant", "run_ablation", "summarize", "paired_differences", "recall_table", "stratified_subset", "d4_logits", "d4_agreement",
    "tta_predict",
]
