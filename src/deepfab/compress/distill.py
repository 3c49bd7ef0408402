"""Knowledge distillation: a small student learns from a trained teacher's softened outputs.

A ``deepfab.train`` objective (a ``Loss`` subclass), so the one training engine trains the student:

    from deepfab.compress import DistillLoss
    fit(student, (X, y), (Xv, yv), cfg, loss_fn=DistillLoss(teacher, temperature=4.0, alpha=0.9))

Per sample, with student logits s, teacher logits t, label y and temperature T
(Hinton, Vinyals & Dean 2015):

    p_T = softmax(t / T),  q_T = softmax(s / T)
    loss = alpha * T^2 * KL(p_T || q_T)  +  (1 - alpha) * CE(softmax(s), y)

The soft targets p_T carry the teacher's "dark knowledge": how much a Donut map looks like a
Center map. The gradient of the first term in s is alpha * T * (q_T - p_T): it shrinks as 1/T, and
the T^2 factor keeps its size comparable to the hard-label term when T changes. ``alpha = 0`` is
plain cross-entropy (the tests check both, and the gradient against its closed form).

The teacher runs in eval mode without gradients on the same (augmented) batch the student sees;
it is moved to the training device but never trained. Validation scores the student as the
classification loss does (cross-entropy, accuracy, macro-F1), so every ``TrainConfig.monitor`` works.

Introduced in lecture 12 (pruning and compression).

References:
    G. Hinton, O. Vinyals, J. Dean, "Distilling the Knowledge in a Neural Network", NIPS Deep Learning
    Workshop 2014, arXiv:1503.02531 (2015).
    C. Bucilua, R. Caruana, A. Niculescu-Mizil, "Model Compression", KDD 2006.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ..errors import ModelError, UsageError
from ..models import eval_mode
from ..train.objective import LabelLoss, output_width


def distill_terms(student: torch.Tensor, teacher: torch.Tensor, y: torch.Tensor, temperature: float):
    """Per-sample (soft, hard) terms (B,), (B,): T^2 KL(p_T || q_T) and the cross-entropy with y."""
    log_q = F.log_softmax(student.float() / temperature, dim=1)                # (B, C)
    log_p = F.log_softmax(teacher.float() / temperature, dim=1)                # (B, C)
    soft = (log_p.exp() * (log_p - log_q)).sum(1) * temperature ** 2           # (B,)
    hard = F.cross_entropy(student.float(), y, reduction="none")               # (B,)
    return soft, hard


class DistillLoss(LabelLoss):
    """``alpha * T^2 * KL(teacher_T || student_T) + (1 - alpha) * CE`` (module docstring); ``teacher`` is frozen."""

    def __init__(self, teacher: torch.nn.Module, temperature: float = 4.0, alpha: float = 0.9, label_names=None):
        if not isinstance(teacher, torch.nn.Module):
            raise UsageError(f"DistillLoss: teacher must be a torch.nn.Module; got {type(teacher).__name__}")
        if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not temperature > 0:
            raise UsageError(f"DistillLoss: temperature must be a positive number; got {temperature!r}")
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0.0 <= alpha <= 1.0:
            raise UsageError(f"DistillLoss: alpha must be in [0, 1]; got {alpha!r}")
        self.teacher, self.temperature, self.alpha = teacher, float(temperature), float(alpha)
        self.label_names = label_names

    def check(self, cfg, has_val: bool) -> None:
        """Every monitor is a column of the record; ``sampler="balanced"`` is honoured, the options that
        change the targets (class weights, smoothing, mixing, focal) are refused."""
        self.sampler = cfg.sampler
        unused = {k: v for k, v in (("class_weights", cfg.class_weights), ("mixup_alpha", cfg.mixup_alpha or None),
                                    ("cutmix_alpha", cfg.cutmix_alpha or None),
                                    ("label_smoothing", cfg.label_smoothing or None),
                                    ("loss", cfg.loss if cfg.loss != "ce" else None)) if v is not None}
        if unused:
            raise UsageError(f"DistillLoss does not use these TrainConfig options; leave them at their defaults: "
                             f"{unused}")

    def start(self, model, train, device):
        self.teacher.to(device)
        self.n_classes = output_width(model, train, device)
        t_classes = output_width(self.teacher, train, device)
        if t_classes != self.n_classes:
            raise ModelError(f"DistillLoss: the teacher predicts {t_classes} classes, the student {self.n_classes}")
        return train.labels() if getattr(self, "sampler", None) == "balanced" else None

    def targets(self, x, y, rng):
        with eval_mode(self.teacher), torch.no_grad():
            t = self.teacher(x).float()                                        # (B, C) teacher logits
        return x, (y.long(), t)

    def __call__(self, outputs, targets):
        y, t = targets
        soft, hard = distill_terms(outputs, t, y, self.temperature)
        total = self.alpha * soft + (1.0 - self.alpha) * hard                 # (B,)
        return total.sum(), torch.tensor(float(len(y)), device=outputs.device)
