"""What ``fit`` minimises and how it scores validation: the ``Loss`` object, the engine's one extension point.

Introduced in lecture 1 (``ClassificationLoss``, the default) and lecture 4 (``DenseLoss``, for
segmentation). The training loop knows nothing about classes or masks; per batch it asks the loss

    x, t = loss.targets(x, y, rng)          # inputs and what the outputs are compared with
    num, den = loss(net(x), t)              # sum of per-sample losses, and their total weight
    loss.counts(outputs, y)                 # per-batch sums of training scores ({} for none)

and after each epoch ``loss.metrics(outputs, targets)`` on the whole validation set, of which
``loss.record(m)`` gives the ``val_*`` columns of the epoch record. Returning ``(sum, weight)``
instead of a mean lets data-parallel ranks share one global denominator.

    fit(model, (X, y), (Xv, yv), cfg)                                  # ClassificationLoss from cfg
    fit(net, (X, Y), (Xv, Yv), cfg, loss_fn=bce_dice, metrics_fn=iou)  # DenseLoss(bce_dice, iou)
    fit(net, (X, T), (Xv, Tv), cfg, loss_fn=MSE())                     # any Loss subclass (tests/train)

A new objective subclasses ``Loss`` (``LabelLoss`` when it trains a classifier on labels: it gets the
classification record) and overrides what differs from the defaults. Its parameters
are not part of ``TrainConfig``, so a resumed run cannot check that they are unchanged.

References:
    Zhang et al., "mixup", ICLR 2018; Yun et al., "CutMix", ICCV 2019 (the soft targets).
    Lin et al., "Focal Loss for Dense Object Detection", ICCV 2017.
"""
from __future__ import annotations

import numpy as np
import torch

from ..errors import DataError, ModelError, UsageError
from ..models import eval_mode
from .data import DatasetData, TensorData
from .evaluate import metrics_from_logits
from .losses import resolve_class_weights, soft_target_loss
from .mixing import mix_batch


class Loss:
    """The objective of a ``fit``; subclasses override ``__call__`` and ``metrics``, the rest has defaults.

    ``dense``: targets are arrays (N, ...) of any shape (True) or class labels (N,) (False).
    """

    dense = True

    def check(self, cfg, has_val: bool) -> None:
        """Refuse config options this loss cannot honour (before any data is touched)."""
        if has_val and cfg.monitor != "val_loss":
            raise UsageError(f"with loss_fn, TrainConfig.monitor must be 'val_loss'; got {cfg.monitor!r}")

    def start(self, model: torch.nn.Module, train, device: torch.device) -> np.ndarray | None:
        """Bind to a run; return per-sample class labels to draw balanced epochs from, or None."""
        return None

    def targets(self, x: torch.Tensor, y: torch.Tensor, rng: np.random.Generator):
        """One batch's (inputs, targets); ``rng`` is the engine's checkpointed numpy generator."""
        return x, y

    def __call__(self, outputs: torch.Tensor, targets) -> tuple[torch.Tensor, torch.Tensor]:
        """(sum of per-sample losses, their total weight) for one batch."""
        raise NotImplementedError

    def counts(self, outputs: torch.Tensor, y: torch.Tensor) -> dict:
        """Per-batch sums of per-sample training scores; the epoch record gets their mean, ``train_<k>``."""
        return {}

    def metrics(self, outputs: torch.Tensor, targets: torch.Tensor) -> dict:
        """Validation metrics of the whole set (CPU tensors), including ``loss``; the best epoch's are kept."""
        raise NotImplementedError

    def record(self, m: dict) -> dict:
        """The ``val_*`` columns of the epoch record."""
        return {f"val_{k}": v for k, v in m.items()}


class LabelLoss(Loss):
    """A loss on class labels (N,) and logits (N, C): training accuracy per batch; validation loss,
    accuracy, macro-F1, balanced accuracy, and (in the best epoch's metrics) per-class scores and the
    confusion matrix. Subclasses set ``label_names`` and give ``__call__``."""

    dense = False
    label_names = None

    def counts(self, outputs, y):
        return {"train_accuracy": (outputs.argmax(1) == y.long()).sum()}

    def metrics(self, outputs, targets):
        return metrics_from_logits(outputs, targets, self.label_names)

    def record(self, m):
        return {"val_loss": m["loss"], "val_accuracy": m["accuracy"], "val_macro_f1": m["macro_f1"],
                "val_balanced_accuracy": m["balanced_accuracy"]}


class ClassificationLoss(LabelLoss):
    """Soft-target cross-entropy (or focal) with class weights, label smoothing and mixup/cutmix targets.

    Built from a ``TrainConfig`` by ``fit``; validated as every ``LabelLoss``.
    """

    def __init__(self, cfg, label_names=None):
        self.class_weights, self.sampler = cfg.class_weights, cfg.sampler
        self.label_smoothing = cfg.label_smoothing
        self.gamma = cfg.focal_gamma if cfg.loss == "focal" else 0.0
        self.mixup_alpha, self.cutmix_alpha = cfg.mixup_alpha, cfg.cutmix_alpha
        self.label_names = label_names

    def check(self, cfg, has_val: bool) -> None:
        """Every ``TrainConfig`` monitor is a column of the classification record."""

    def start(self, model, train, device):
        self.n_classes = output_width(model, train, device)
        self.check_batches = isinstance(train, DatasetData)       # a Dataset's labels are seen batch by batch
        need = self.sampler == "balanced" or self.class_weights == "balanced" or isinstance(train, TensorData)
        labels = train.labels() if need else None
        if labels is not None and labels.max() >= self.n_classes:
            raise DataError(f"train labels must be < n_classes={self.n_classes} (the model's output width); "
                            f"got {labels.max()}")
        w = resolve_class_weights(self.class_weights, labels, self.n_classes)
        self.weights = w.to(device) if w is not None else None
        return labels if self.sampler == "balanced" else None

    def targets(self, x, y, rng):
        y = y.long()
        if self.check_batches and int(y.max()) >= self.n_classes:
            raise DataError(f"train labels must be < n_classes={self.n_classes}; got {int(y.max())}")
        return mix_batch(x, y, self.n_classes, self.mixup_alpha, self.cutmix_alpha, rng)  # soft targets (B, C)

    def __call__(self, outputs, targets):
        return soft_target_loss(outputs, targets, self.weights, self.label_smoothing, self.gamma)



class DenseLoss(Loss):
    """``loss_fn(outputs, targets) -> batch mean`` on targets of any shape; ``metrics_fn -> {k: float}``.

    Validation records ``val_loss`` (``loss_fn`` on the whole set) and ``val_<k>`` for each key of
    ``metrics_fn``. The classification options of ``TrainConfig`` must stay at their defaults.
    """

    def __init__(self, loss_fn, metrics_fn=None):
        if not callable(loss_fn) or (metrics_fn is not None and not callable(metrics_fn)):
            raise UsageError(f"loss_fn and metrics_fn must be callable(outputs, targets); "
                             f"got {type(loss_fn).__name__} and {type(metrics_fn).__name__}")
        self.loss_fn, self.metrics_fn = loss_fn, metrics_fn

    def check(self, cfg, has_val):
        clash = {k: v for k, v in (("loss", cfg.loss if cfg.loss != "ce" else None),
                                   ("label_smoothing", cfg.label_smoothing or None),
                                   ("class_weights", cfg.class_weights), ("sampler", cfg.sampler),
                                   ("mixup_alpha", cfg.mixup_alpha or None),
                                   ("cutmix_alpha", cfg.cutmix_alpha or None))
                 if v is not None}
        if clash:
            raise UsageError(f"with loss_fn, the classification options must be left at their defaults; got {clash}")
        super().check(cfg, has_val)

    def __call__(self, outputs, targets):
        bsz = torch.tensor(float(targets.shape[0]), device=outputs.device)
        return self.loss_fn(outputs.float(), targets) * bsz, bsz           # batch mean -> (sum, weight)

    def metrics(self, outputs, targets):
        m = {"loss": float(self.loss_fn(outputs, targets))}
        extra = self.metrics_fn(outputs, targets) if self.metrics_fn is not None else {}
        if not isinstance(extra, dict) or "loss" in extra:
            raise UsageError(f"metrics_fn must return a dict of floats without a 'loss' key; got {extra!r}")
        m.update({str(k): float(v) for k, v in extra.items()})
        return m


def make_loss(loss_fn, metrics_fn, cfg, label_names=None) -> Loss:
    """``fit``'s loss: a ``Loss`` as given, a callable wrapped in ``DenseLoss``, or (None) classification."""
    if isinstance(loss_fn, Loss):
        if metrics_fn is not None:
            raise UsageError("metrics_fn goes with a plain loss_fn callable (a Loss scores validation itself); "
                             f"got a {type(loss_fn).__name__} and a metrics_fn")
        return loss_fn
    if loss_fn is not None:
        return DenseLoss(loss_fn, metrics_fn)
    if metrics_fn is not None:
        raise UsageError("metrics_fn needs loss_fn (it scores dense outputs); got loss_fn=None")
    return ClassificationLoss(cfg, label_names)


def output_width(model: torch.nn.Module, data, device) -> int:
    """The number of classes a classifier predicts: one forward pass of one sample in eval mode."""
    with eval_mode(model), torch.no_grad():
        out = model(data.head().to(device))
    if not isinstance(out, torch.Tensor) or out.ndim != 2:
        got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ModelError(f"model must return logits of shape (B, n_classes); got {got}")
    return int(out.shape[1])

