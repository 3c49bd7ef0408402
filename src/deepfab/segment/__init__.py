"""deepfab.segment: segmenting defect dies on wafer maps (lecture 4, image segmentation).

    from deepfab.segment import make_segmentation_set, train_segmenter, predict_masks, score_by_group
    from deepfab.models.segmentation import FCN, UNet

Files: ``data`` (synthetic maps with masks at native die resolution, ``encode_native`` for real
maps, the fail-die baseline), ``metrics`` (IoU, Dice, per pattern), ``losses`` (BCE, soft Dice),
``transpose`` (transposed convolution from scratch), ``apply`` (train with the engine, predict,
score), ``plots``.

References:
    See each module.
"""
from .apply import predict_logits, predict_masks, score_by_group, train_segmenter
from .data import GROUPS, MIXED, SINGLE, SegSet, encode_native, fail_baseline, make_segmentation_set
from .losses import bce_dice_loss, mask_metrics, soft_dice_loss
from .metrics import dice, dice_from_iou, iou, overlap_counts, per_group_scores, summary

__all__ = ["GROUPS", "MIXED", "SINGLE", "SegSet", "encode_native", "fail_baseline", "make_segmentation_set",
           "bce_dice_loss", "mask_metrics", "soft_dice_loss", "dice", "dice_from_iou", "iou",
           "overlap_counts", "per_group_scores", "summary", "predict_logits", "predict_masks", "score_by_group",
           "train_segmenter"]
