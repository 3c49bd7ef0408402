"""deepfab.train: the one training engine of the course.

Introduced in lecture 1; every lecture that trains a network, and ``deepfab wafer train``, uses it.

    from deepfab.train import TrainConfig, fit, evaluate, predict, classification_metrics
    cfg = TrainConfig(epochs=10, batch_size=128, lr=1e-3, out_dir="runs/cnn", resume=True)
    result = fit(model, (X_train, y_train), (X_val, y_val), cfg, label_names=names)
    evaluate(result.model, (X_test, y_test), label_names=names)["macro_f1"]

Files: ``config`` (TrainConfig), ``engine`` (fit), ``objective`` (the Loss objects fit trains
with: classification, dense), ``state`` (TrainState), ``evaluate`` (evaluate, predict), ``metrics``,
``losses`` (soft-target CE / focal), ``mixing`` (mixup, cutmix), ``data`` (seeded batching and
sharding), ``checkpoint`` (atomic, RNG-complete), ``distributed`` (torchrun), ``optim``
(optimiser, schedule, one update step), ``progress`` (bar and epoch line), ``ddp_check`` (a
torchrun demonstration).

References:
    See each module.
"""
from .checkpoint import load_weights
from .config import TrainConfig
from .engine import FitResult, fit
from .evaluate import evaluate, predict
from .losses import balanced_class_weights, soft_target_loss
from .metrics import classification_metrics
from .mixing import cutmix, mix_batch, mixup
from .objective import ClassificationLoss, DenseLoss, Loss
from .state import TrainState

__all__ = ["TrainConfig", "FitResult", "fit", "evaluate", "predict", "classification_metrics", "load_weights",
           "balanced_class_weights", "soft_target_loss", "mix_batch", "mixup", "cutmix", "Loss",
           "ClassificationLoss", "DenseLoss", "TrainState"]
