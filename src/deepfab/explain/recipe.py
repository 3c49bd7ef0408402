"""The wafer-map classifier that lecture 3 explains, trained with the course engine.

``SmallCNN`` (three conv-BN-ReLU-pool blocks of widths 16, 32, 64) on encoded maps (2, S, S),
fitted by ``deepfab.train.fit`` with the eight square symmetries as augmentation (lecture 2).
``head_pool`` picks the head: 4 keeps a 4 x 4 grid of where features fired, 1 is global average
pooling (for which Grad-CAM is exactly CAM).

    cfg = TrainConfig(epochs=15, batch_size=64, lr=3e-3, scheduler="onecycle", class_weights="balanced")
    result = train_wafer_cnn((x_train, y_train), (x_val, y_val), names, cfg, head_pool=4)
    model = result.model.cpu().eval()

Introduced in lecture 3 (network visualization).

References: B. Zhou et al., "Learning Deep Features for Discriminative Localization", CVPR 2016
(global average pooling heads and CAM).
"""
from __future__ import annotations

from ..augment import RandomDihedral
from ..models.small import SmallCNN
from ..train import FitResult, TrainConfig, fit


def train_wafer_cnn(train, val, label_names, config: TrainConfig, head_pool: int = 4, width: int = 16) -> FitResult:
    """``fit`` a fresh batch-norm ``SmallCNN`` on ``train`` = (X (N, C, S, S), y (N,)), validated on ``val``."""
    net = SmallCNN(train[0].shape[1], len(label_names), width=width, batchnorm=True, head_pool=head_pool)
    return fit(net, train, val, config, augment=RandomDihedral(), label_names=label_names)
