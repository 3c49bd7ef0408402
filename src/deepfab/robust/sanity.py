"""Sanity checks that expose gradient masking: is an attack as strong as it should be?

Introduced in lecture 5. A model can look robust because its gradients are useless to the
attacker (flat, noisy or shattered), not because good adversarial examples do not exist
(Athalye et al. 2018). A correct evaluation passes the checks below; each returns the measured
numbers and a pass/fail, so a lecture or report can print them as a table.

* ``budget_check``      robust accuracy never rises with the budget (a larger ball holds the smaller one).
* ``steps_check``       more PGD steps never help the model; nor does PGD lose to one FGSM step.
* ``restarts_check``    more random restarts never help the model.
* ``transfer_check``    a black-box attack (crafted on an independently trained surrogate, applied to
                        the target) is weaker than the white-box one on the target itself.
* ``large_budget_check`` at a budget that lets the attacker write any fail pattern, accuracy goes
                        to (near) zero; if not, the gradients do not lead anywhere.

``tol`` is the slack in accuracy (a share of the maps) allowed for the randomness of the attack.

    from deepfab.robust import masking_checks, check_table
    checks = masking_checks(model, x, y, eps=0.1, surrogate=other_model)
    for row in check_table(checks): print(row)    # name, passed, rule, the numbers

References:
    A. Athalye, N. Carlini, D. Wagner, "Obfuscated Gradients Give a False Sense of Security", ICML 2018.
    N. Carlini et al., "On Evaluating Adversarial Robustness", arXiv:1902.06705, 2019 (the checklist).
    F. Tramer et al., "On Adaptive Attacks to Adversarial Example Defenses", NeurIPS 2020.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

import torch

from ..errors import UsageError
from .attacks import DEFAULT_THREAT, fgsm, pgd, predict_labels, robust_accuracy


@dataclass
class Check:
    """One sanity check: its name, whether it passed, the rule it tests and the numbers measured."""

    name: str
    passed: bool
    rule: str
    numbers: dict = field(default_factory=dict)

    def as_row(self) -> dict:
        return {"check": self.name, "passed": self.passed, "rule": self.rule, **self.numbers}


def _acc(model, x_adv, y) -> float:
    return int((predict_labels(model, x_adv).cpu() == torch.as_tensor(y).cpu()).sum()) / len(y)


def _non_increasing(values, tol: float) -> bool:
    return all(b <= a + tol for a, b in zip(values, values[1:]))


def budget_check(model, x, y, attack, budgets, tol: float = 0.01) -> Check:
    """Robust accuracy under ``attack`` at increasing ``budgets`` is non-increasing (within ``tol``)."""
    budgets = sorted(budgets)
    curve = robust_accuracy(model, x, y, attack, budgets)
    return Check("budget", _non_increasing(curve["accuracy"], tol),
                 "robust accuracy never rises with the budget", {"eps": budgets, "accuracy": curve["accuracy"]})


def steps_check(model, x, y, eps: float, steps=(1, 10, 50), tol: float = 0.01, **pgd_kw) -> Check:
    """PGD with more ``steps`` (step size 2.5 eps / steps) is never weaker, and PGD is never weaker than FGSM."""
    steps = sorted(steps)
    accs = [_acc(model, pgd(model, x, y, eps, steps=s, **pgd_kw), y) for s in steps]
    threat = pgd_kw.get("threat", DEFAULT_THREAT)
    single = _acc(model, fgsm(model, x, y, eps, threat=threat), y) if pgd_kw.get("norm", "linf") == "linf" else None
    ok = _non_increasing(accs, tol) and (single is None or accs[-1] <= single + tol)
    return Check("steps", ok, "more PGD steps never help the model; PGD is at least as strong as FGSM",
                 {"eps": eps, "steps": steps, "accuracy": accs, "fgsm_accuracy": single})


def restarts_check(model, x, y, eps: float, restarts=(1, 5), tol: float = 0.01, **pgd_kw) -> Check:
    """PGD with more random ``restarts`` (worst case kept per map) is never weaker."""
    restarts = sorted(restarts)
    accs = [_acc(model, pgd(model, x, y, eps, restarts=r, **pgd_kw), y) for r in restarts]
    return Check("restarts", _non_increasing(accs, tol), "more random restarts never help the model",
                 {"eps": eps, "restarts": restarts, "accuracy": accs})


def transfer_check(model, surrogate, x, y, eps: float, attack=None, tol: float = 0.01) -> Check:
    """Adversarial maps crafted on ``surrogate`` and applied to ``model`` (black box) fool it no more than
    maps crafted on ``model`` itself (white box). ``attack`` defaults to PGD with 20 steps."""
    if surrogate is model:
        raise UsageError("transfer_check needs a surrogate trained independently of the model; got the model itself")
    attack = attack if attack is not None else partial(pgd, steps=20)
    white = _acc(model, attack(model, x, y, eps), y)
    x_transfer = attack(surrogate, x, y, eps).to(x.device)
    black, surrogate_own = _acc(model, x_transfer, y), _acc(surrogate, x_transfer, y)
    return Check("transfer", white <= black + tol, "a black-box transfer attack is weaker than the white-box one",
                 {"eps": eps, "white_box_accuracy": white, "transfer_accuracy": black,
                  "surrogate_accuracy": surrogate_own, "clean_accuracy": _acc(model, x, y)})


def large_budget_check(model, x, y, attack=None, eps: float = 1.0, max_accuracy: float = 0.05) -> Check:
    """At budget ``eps`` (1.0 in L-inf: any fail pattern on the wafer) robust accuracy is at most ``max_accuracy``."""
    attack = attack if attack is not None else partial(pgd, steps=50)
    acc = _acc(model, attack(model, x, y, eps), y)
    return Check("large budget", acc <= max_accuracy, f"accuracy at eps={eps:g} is at most {max_accuracy:g}",
                 {"eps": eps, "accuracy": acc})


def masking_checks(model, x, y, eps: float, surrogate=None, budgets=None, steps: int = 20,
                   large_eps: float = 1.0, max_accuracy: float = 0.05, tol: float = 0.01, seed: int = 0,
                   **pgd_kw) -> list[Check]:
    """All the checks at budget ``eps`` with PGD of ``steps`` steps (and ``pgd_kw``: norm, threat, alpha);
    ``transfer`` only with a ``surrogate``. ``budgets`` defaults to 0, eps/4, eps/2, eps, 2 eps."""
    clash = sorted(set(pgd_kw) & {"restarts", "target", "random_start"})
    if clash:
        raise UsageError(f"masking_checks sets {clash} itself; got them in pgd_kw")
    attack = partial(pgd, steps=steps, seed=seed, **pgd_kw)
    budgets = budgets if budgets is not None else [0.0, eps / 4, eps / 2, eps, 2 * eps]
    checks = [budget_check(model, x, y, attack, budgets, tol),
              steps_check(model, x, y, eps, steps=(1, steps, 5 * steps), tol=tol, seed=seed, **pgd_kw),
              restarts_check(model, x, y, eps, tol=tol, seed=seed, steps=steps, **pgd_kw)]
    if surrogate is not None:
        checks.append(transfer_check(model, surrogate, x, y, eps, attack, tol))
    checks.append(large_budget_check(model, x, y, partial(pgd, steps=5 * steps, seed=seed, **pgd_kw), large_eps,
                                     max_accuracy))
    return checks


def check_table(checks) -> list[dict]:
    """The checks as rows: check, passed, rule and each measured number."""
    return [c.as_row() for c in checks]
