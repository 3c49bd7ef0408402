"""Adversarial training as objectives of the course engine: PGD-AT and fast FGSM with a random start.

Introduced in lecture 5. Adversarial training minimises the loss at the worst point of the
threat model around each training map (Madry et al. 2018), a min-max problem

    min_theta  E_(x, y) [ max_{||delta|| <= eps, x + delta valid}  CE(f_theta(x + delta), y) ]

whose inner maximum is approximated per batch by an attack. ``PGDTraining`` runs ``steps`` PGD
steps from a random start (PGD-AT); ``FastFGSMTraining`` one FGSM step of size 1.25 eps from a
uniform random start in the ball (Wong, Rice & Kolter 2020), about ``steps + 1`` times cheaper.
Both are ``deepfab.train`` ``Loss`` objects (classification, so every ``TrainConfig`` option holds):
the engine calls ``targets(x, y, rng)`` per batch, where the attack replaces the batch by its
adversarial version, so ``fit`` keeps checkpoints, resume, early stopping and its logs. The
random start is drawn from the engine's checkpointed generator, so a resumed run ends where the
uninterrupted one ends. The attack runs with the model in eval mode (batch-norm statistics are
used, not updated) and takes input gradients only. The attack parameters are not part of
``TrainConfig``: a resumed run cannot check that they are unchanged (``tradeoff`` writes them into
``config.extra`` so that ``config.json`` records them).

Each epoch record gets ``train_passes``: forward + backward passes per training map (attack steps
+ 1; clean training makes 1). ``tradeoff`` trains one model per objective and measures clean and
robust accuracy and the cost per epoch, the trade-off of the lecture.

    from deepfab.robust import PGDTraining, FastFGSMTraining, tradeoff
    result = fit(model, (X, y), (Xv, yv), TrainConfig(epochs=5, out_dir="runs/at", resume=True),
                 loss_fn=PGDTraining(eps=0.1, steps=7))
    rows, models = tradeoff(lambda: SmallCNN(2, 9), (X, y), (Xv, yv), (Xt, yt), cfg, eps=0.1,
                    objectives={"clean": None, "fast FGSM": FastFGSMTraining(0.1), "PGD-AT": PGDTraining(0.1)})

References:
    A. Madry et al., "Towards Deep Learning Models Resistant to Adversarial Attacks", ICLR 2018.
    E. Wong, L. Rice, J. Z. Kolter, "Fast is better than free: Revisiting adversarial training", ICLR 2020.
    D. Tsipras et al., "Robustness May Be at Odds with Accuracy", ICLR 2019 (the trade-off).
"""
from __future__ import annotations

from dataclasses import replace
from functools import partial

import numpy as np
import torch

from ..errors import UsageError
from ..models import eval_mode
from ..train import TrainConfig, fit
from ..train.objective import ClassificationLoss
from .attacks import DEFAULT_THREAT, _pgd_once, _random_start, pgd, robust_accuracy
from .threat import NORMS, ThreatModel, check_eps


class PGDTraining(ClassificationLoss):
    """PGD adversarial training: each batch is replaced by PGD(``eps``, ``steps``, ``alpha``) from a random start.

    ``alpha`` defaults to 2.5 * eps / steps. The classification options (class weights, label
    smoothing, mixup, ...) come from the ``TrainConfig`` that ``fit`` is given.
    """

    def __init__(self, eps: float, steps: int = 7, alpha: float | None = None, norm: str = "linf",
                 threat: ThreatModel = DEFAULT_THREAT, label_names=None):
        self.eps = check_eps(eps)
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
            raise UsageError(f"steps must be an int >= 1; got {steps!r}")
        if norm not in NORMS or not isinstance(threat, ThreatModel):
            raise UsageError(f"norm must be one of {NORMS} and threat a ThreatModel; got {norm!r}, "
                             f"{type(threat).__name__}")
        self.steps, self.norm, self.threat = steps, norm, threat
        self.alpha = 2.5 * self.eps / steps if alpha is None else check_eps(alpha, "alpha")
        self.label_names = label_names
        self.model = None

    def describe(self) -> dict:
        """The attack parameters, as plain types (for ``config.extra``)."""
        return {"objective": type(self).__name__, "eps": self.eps, "steps": self.steps, "alpha": self.alpha,
                "norm": self.norm, "channels": self.threat.channels, "on_wafer": self.threat.on_wafer}

    def check(self, cfg, has_val):
        ClassificationLoss.__init__(self, cfg, self.label_names)   # the classification options of this fit

    def start(self, model, train, device):
        self.model = model
        return super().start(model, train, device)

    def targets(self, x, y, rng):
        if self.model is None:
            raise UsageError(f"{type(self).__name__} is bound to a model by fit; call fit(..., loss_fn=this)")
        return super().targets(self.perturb(x, y.long(), rng), y, rng)

    def perturb(self, x: torch.Tensor, y: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
        """The adversarial batch: a random start (a CPU generator seeded from ``rng``), then ``steps`` steps."""
        if self.eps == 0:
            return x
        gen = torch.Generator().manual_seed(int(rng.integers(2**62)))
        mask = self.threat.mask(x)
        with eval_mode(self.model), torch.enable_grad():
            start = _random_start(x, self.eps, self.norm, mask, gen)
            x_adv = _pgd_once(self.model, x, y, self.eps, self.norm, self.alpha, self.steps, start, None,
                              self.threat, mask)
        return x_adv.to(x.dtype)

    def counts(self, outputs, y):
        passes = torch.tensor(float(len(y) * (self.steps + 1)), device=outputs.device)
        return {**super().counts(outputs, y), "train_passes": passes}


class FastFGSMTraining(PGDTraining):
    """Fast adversarial training: one FGSM step of ``alpha`` = 1.25 eps from a uniform start in the L-inf ball."""

    def __init__(self, eps: float, alpha: float | None = None, threat: ThreatModel = DEFAULT_THREAT,
                 label_names=None):
        eps = check_eps(eps)
        super().__init__(eps, steps=1, alpha=1.25 * eps if alpha is None else alpha, norm="linf", threat=threat,
                         label_names=label_names)


def tradeoff(make_model, train, val, test, config: TrainConfig, eps: float, objectives: dict,
             attack=None, augment=None) -> tuple[list[dict], dict]:
    """Train a fresh ``make_model()`` per objective (name -> ``Loss``, or None for clean training) and
    measure it: (rows, models). One row each with clean and robust accuracy on ``test`` = (X, y)
    under ``attack`` (default PGD, 20 steps, 3 restarts) at ``eps``, seconds and forward + backward
    passes per epoch; ``models`` maps each name to its trained model. ``train`` is (X, y).

    Every model starts from the same weights (``torch.manual_seed(config.seed)`` before
    ``make_model()``); with ``config.out_dir`` each objective trains in its own sub-folder.
    """
    if not isinstance(objectives, dict) or not objectives:
        raise UsageError(f"objectives must be a non-empty dict name -> Loss or None; got {objectives!r}")
    attack = attack if attack is not None else partial(pgd, steps=20, restarts=3, seed=config.seed)
    x_test, y_test = (torch.as_tensor(a) for a in test)
    rows, models = [], {}
    for name, loss in objectives.items():
        torch.manual_seed(config.seed)
        model = make_model()
        extra = {**config.extra, "objective": loss.describe() if hasattr(loss, "describe") else "clean"}
        out = f"{config.out_dir}/{name.replace(' ', '_').replace('/', '_')}" if config.out_dir else None
        result = fit(model, train, val, replace(config, out_dir=out, extra=extra), augment=augment, loss_fn=loss)
        net = models[name] = result.model
        curve = robust_accuracy(net, x_test.float(), y_test, attack, [0.0, eps])
        passes = float(np.mean([h.get("train_passes", 1.0) for h in result.history]))
        rows.append({"objective": name, "eps": eps, "clean_accuracy": curve["accuracy"][0],
                     "robust_accuracy": curve["accuracy"][1], "epochs": result.epochs_run,
                     "seconds_per_epoch": float(np.mean(result.epoch_seconds)) if result.epoch_seconds else 0.0,
                     "passes_per_map": passes, "passes_per_epoch": passes * len(train[1])})
    return rows, models
