"""deepfab.robust: adversarial attacks on wafer-map classifiers, their sanity checks, and adversarial training.

    from functools import partial
    from deepfab.robust import ThreatModel, fgsm, pgd, robust_accuracy, masking_checks, min_die_flips
    x_adv = pgd(model, x, y, eps=0.1, steps=20, restarts=3)          # fail channel, wafer cells, box [0, 1]
    curve = robust_accuracy(model, x, y, partial(pgd, steps=20), [0, 0.05, 0.1, 0.2])
    checks = masking_checks(model, x, y, eps=0.1, surrogate=other)   # gradient-masking checklist
    r = min_die_flips(model, raw_map, partial(encode_maps, size=32))  # robustness in dies
    fit(model, train, val, cfg, loss_fn=PGDTraining(eps=0.1))         # adversarial training

Modules: ``threat`` (what an attacker may change: ``ThreatModel``, the valid box, the margin),
``attacks`` (FGSM, PGD in L-inf and L2 with random starts and restarts, targeted; robust
accuracy), ``sanity`` (checks that expose gradient masking), ``dieflip`` (the fewest die flips
that change the call: greedy and brute force), ``training`` (PGD-AT and fast FGSM as ``Loss``
objects of the engine, and the clean-versus-robust trade-off), ``plots`` (figures). Checked against
torchattacks and brute force in ``tests/robust/``.

Introduced in lecture 5 (adversarial attacks and out-of-distribution samples).

References: see each module.
"""
from .attacks import attack_success, fgsm, pgd, predict_labels, robust_accuracy
from .dieflip import DieFlips, min_die_flips, min_die_flips_brute
from .sanity import (
    Check,
    budget_check,
    check_table,
    large_budget_check,
    masking_checks,
    restarts_check,
    steps_check,
    transfer_check,
)
from .threat import ThreatModel, margin
from .training import FastFGSMTraining, PGDTraining, tradeoff

__all__ = ["ThreatModel", "margin", "fgsm", "pgd", "robust_accuracy", "attack_success", "predict_labels", "Check",
           "budget_check", "steps_check", "restarts_check", "transfer_check", "large_budget_check", "masking_checks",
           "check_table", "DieFlips", "min_die_flips", "min_die_flips_brute", "PGDTraining", "FastFGSMTraining",
           "tradeoff"]
