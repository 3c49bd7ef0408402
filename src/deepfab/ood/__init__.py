"""deepfab.ood: does a wafer map look like anything the classifier was trained on?

    from deepfab.ood import MaxSoftmax, ODIN, Energy, Mahalanobis, KNN, MapTexture, Combined
    from deepfab.ood import ood_table, calibrate, ood_state, save_ood, load_ood
    score = Combined([MapTexture(bank=5000), Mahalanobis(model, views=8)]).fit(train_maps, y_train)
    t = calibrate(score(val_maps), share=0.05)          # flags at most 5 % of ordinary maps
    rows = ood_table({"MSP": MaxSoftmax(model), "combined": score}, test_maps, {"novel": novel_maps})

Every score is higher for a more unusual map and takes wafer maps (lists of (H, W) arrays in
0/1/2) or encoded maps (N, C, S, S). Modules: ``scores`` (MSP, energy, ODIN from the logits),
``distance`` (Mahalanobis, multi-layer Mahalanobis, kNN on features), ``texture`` (the map's own
fail autocorrelation, no model), ``likelihood`` (a VAE's -log p(x) of the map, no classifier),
``combine`` (standardised sums), ``features`` (logits and features in one pass), ``metrics``
(AUROC, FPR@95, the calibrated threshold), ``state`` (a fitted score as a weights-only file),
``corrupt`` and ``testsets`` (the unusual sets (a)-(c); (d) is ``deepfab.data.novel``),
``evaluate`` (the table). ``wafer_score(model)`` is the score ``deepfab wafer`` ships. Each score
is checked against pytorch-ood, each metric against scikit-learn, in ``tests/ood/``.

Introduced in lecture 5 (adversarial attacks and out-of-distribution samples).

References: see each module.
"""
from .combine import Combined, wafer_score
from .corrupt import CORRUPTIONS, corrupt
from .distance import KNN, Mahalanobis, MultiLayerMahalanobis
from .evaluate import format_table, ood_table
from .features import Outputs, extract, stage_names
from .likelihood import MapLikelihood
from .metrics import calibrate, flagged_share, fpr_at_tpr, ood_auroc
from .scores import ODIN, Energy, MaxSoftmax, Score
from .state import build_score, load_ood, ood_state, save_ood, score_state, state_bytes
from .testsets import HoldoutSplits, holdout_classes, mixed_maps, novel_maps
from .texture import MapTexture, autocorrelation_features, polar_features

__all__ = ["Combined", "CORRUPTIONS", "corrupt", "KNN", "Mahalanobis", "MultiLayerMahalanobis", "format_table",
           "ood_table", "Outputs", "extract", "stage_names", "calibrate", "flagged_share", "fpr_at_tpr", "ood_auroc",
           "ODIN", "Energy", "MaxSoftmax", "Score", "build_score", "load_ood", "ood_state", "save_ood", "score_state",
           "state_bytes", "HoldoutSplits", "holdout_classes", "mixed_maps", "novel_maps", "MapTexture",
           "MapLikelihood", "autocorrelation_features", "polar_features", "wafer_score"]
