"""``TrainConfig``: every knob of the training engine as one validated dataclass.

Introduced in lecture 1 (CNN architectures) and used by every lecture that trains a network.
The config is data: ``to_dict()`` gives plain python types (it is written to
``out_dir/config.json`` and stored inside checkpoints), ``TrainConfig.from_dict`` reads it back.

    from deepfab.train import TrainConfig
    cfg = TrainConfig(epochs=10, lr=3e-3, scheduler="onecycle", loss="focal", sampler="balanced")

Bad values raise ``UsageError`` (a ``ValueError``) naming the field, the rule and the value that was got.

References:
    Loshchilov & Hutter, "Decoupled Weight Decay Regularization" (AdamW), ICLR 2019.
    Smith & Topin, "Super-Convergence" (one-cycle schedule), 2018.
    Lin et al., "Focal Loss for Dense Object Detection", ICCV 2017.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from ..errors import UsageError

OPTIMIZERS = ("sgd", "adam", "adamw")
SCHEDULERS = (None, "cosine", "onecycle", "step")
LOSSES = ("ce", "focal")
SAMPLERS = (None, "balanced")
MONITORS = {"val_macro_f1": "max", "val_accuracy": "max", "val_balanced_accuracy": "max", "val_loss": "min"}
AMP_MODES = ("auto", "off", "bf16", "fp16")

# Fields that may differ between a run and its resumption: they change logging, speed or the
# machine, never the arithmetic of the optimisation.
RESUME_FREE_FIELDS = ("device", "amp", "channels_last", "out_dir", "resume", "num_workers",
                      "progress", "log_every", "extra",
                      "restore_best")


def _bad(name: str, rule: str, got: Any) -> UsageError:
    return UsageError(f"TrainConfig.{name} must be {rule}; got {got!r}")


@dataclass
class TrainConfig:
    """Hyper-parameters and run options of :func:`deepfab.train.fit` (see module docstring)."""

    epochs: int = 10
    batch_size: int = 128
    lr: float = 1e-3
    optimizer: str = "adamw"          # "sgd" (momentum 0.9, nesterov) | "adam" | "adamw"
    weight_decay: float = 1e-4
    scheduler: str | None = "cosine"  # None | "cosine" | "onecycle" | "step" (x0.1 at 1/3, 2/3)
    loss: str = "ce"                  # "ce" | "focal"
    focal_gamma: float = 2.0
    label_smoothing: float = 0.0
    class_weights: Any = None         # None | "balanced" | sequence of floats, one per class
    sampler: str | None = None        # None | "balanced" (inverse-frequency sampling, with replacement)
    mixup_alpha: float = 0.0
    cutmix_alpha: float = 0.0
    early_stopping_patience: int | None = None
    monitor: str = "val_macro_f1"     # "val_macro_f1" | "val_accuracy" | "val_balanced_accuracy" | "val_loss"
    amp: str = "auto"                 # "auto" (CUDA: bf16, else fp16) | "off" | "bf16" (CUDA or CPU) | "fp16"
    channels_last: bool = False       # images (N, C, H, W) and conv weights in channels-last memory order
    seed: int = 0
    device: str = "auto"
    out_dir: str | None = None
    resume: bool = False
    num_workers: int = 0
    progress: bool = True
    log_every: int | None = None      # also print a line every N optimiser steps
    grad_clip: float | None = None    # max global gradient L2 norm
    restore_best: bool = True         # with val_data: return the best epoch's weights (else the last epoch's)
    extra: dict = field(default_factory=dict)  # free-form notes stored with the run (plain types)

    def __post_init__(self):
        self.validate()

    def validate(self) -> TrainConfig:
        def pos_int(name, allow_none=False):
            v = getattr(self, name)
            if v is None and allow_none:
                return
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise _bad(name, "a positive int" + (" or None" if allow_none else ""), v)

        def nonneg(name, upper=math.inf, allow_none=False):
            v = getattr(self, name)
            if v is None and allow_none:
                return
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not (0 <= v < upper) or math.isnan(v):
                rule = f"a number in [0, {upper})" if upper != math.inf else "a non-negative number"
                raise _bad(name, rule + (" or None" if allow_none else ""), v)

        def one_of(name, choices):
            v = getattr(self, name)
            if v not in choices:
                raise _bad(name, f"one of {choices}", v)

        pos_int("epochs")
        pos_int("batch_size")
        pos_int("early_stopping_patience", allow_none=True)
        pos_int("log_every", allow_none=True)
        if isinstance(self.lr, bool) or not isinstance(self.lr, (int, float)) or not (0 < self.lr < math.inf):
            raise _bad("lr", "a positive finite number", self.lr)
        nonneg("weight_decay")
        nonneg("focal_gamma")
        nonneg("label_smoothing", upper=1.0)
        nonneg("mixup_alpha")
        nonneg("cutmix_alpha")
        gc = self.grad_clip
        if gc is not None and (isinstance(gc, bool) or not isinstance(gc, (int, float)) or not (0 < gc < math.inf)):
            raise _bad("grad_clip", "a positive number or None", self.grad_clip)
        one_of("optimizer", OPTIMIZERS)
        one_of("scheduler", SCHEDULERS)
        one_of("loss", LOSSES)
        one_of("sampler", SAMPLERS)
        one_of("monitor", tuple(MONITORS))
        if self.amp is True or self.amp is False:
            self.amp = "auto" if self.amp else "off"
        one_of("amp", AMP_MODES)
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise _bad("seed", "a non-negative int", self.seed)
        if not isinstance(self.device, str) or not (self.device in ("auto", "cpu") or self.device.startswith("cuda")):
            raise _bad("device", "'auto', 'cpu' or 'cuda[:N]'", self.device)
        if isinstance(self.num_workers, bool) or not isinstance(self.num_workers, int) or self.num_workers < 0:
            raise _bad("num_workers", "a non-negative int", self.num_workers)
        if not isinstance(self.resume, bool):
            raise _bad("resume", "True or False", self.resume)
        if not isinstance(self.restore_best, bool):
            raise _bad("restore_best", "True or False", self.restore_best)
        if not isinstance(self.channels_last, bool):
            raise _bad("channels_last", "True or False", self.channels_last)
        if not isinstance(self.progress, bool):
            raise _bad("progress", "True or False", self.progress)
        if self.out_dir is not None:
            self.out_dir = str(self.out_dir)
        if self.resume and self.out_dir is None:
            raise _bad("resume", "False when out_dir is None (there is nowhere to resume from)", self.resume)
        self.class_weights = _check_class_weights(self.class_weights)
        if not isinstance(self.extra, dict):
            raise _bad("extra", "a dict", self.extra)
        return self

    def to_dict(self) -> dict:
        """Plain python types only (safe for JSON and ``torch.load(weights_only=True)``)."""
        d = dataclasses.asdict(self)
        if isinstance(d["class_weights"], tuple):
            d["class_weights"] = list(d["class_weights"])
        return d

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise UsageError(f"TrainConfig has no field(s) {unknown}; expected a subset of {sorted(names)}")
        return cls(**d)

    def math_dict(self) -> dict:
        """The fields that a resumed run must share with the run it continues."""
        return {k: v for k, v in self.to_dict().items() if k not in RESUME_FREE_FIELDS}


def _check_class_weights(cw):
    if cw is None or cw == "balanced":
        return cw
    if isinstance(cw, str):
        raise _bad("class_weights", "None, 'balanced' or a sequence of non-negative floats", cw)
    try:
        values = [float(v) for v in cw]
    except (TypeError, ValueError):
        raise _bad("class_weights", "None, 'balanced' or a sequence of non-negative floats", cw) from None
    if not values or any(not math.isfinite(v) or v < 0 for v in values) or sum(values) <= 0:
        raise _bad("class_weights", "a non-empty sequence of finite non-negative floats with a positive sum", cw)
    return values


def config_diff(saved: dict, current: dict) -> list[str]:
    """Human-readable differences between two ``math_dict()``s (empty when they agree)."""
    keys = sorted(set(saved) | set(current))
    return [f"{k}: checkpoint {saved.get(k)!r} vs now {current.get(k)!r}"
            for k in keys if saved.get(k) != current.get(k)]

