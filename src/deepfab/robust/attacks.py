"""White-box evasion attacks on wafer-map classifiers: FGSM, PGD (L-inf and L2), targeted, robust accuracy.

Introduced in lecture 5 (adversarial attacks). Each attack takes a model, encoded maps ``x``
(N, C, S, S) in [0, 1], their labels ``y`` (N,) and a budget ``eps``, and returns adversarial maps
of the same shape inside the ``ThreatModel`` (by default: only the fail channel(s), only on wafer
cells, see ``deepfab.robust.threat``). The model runs in eval mode; only input gradients are taken.

FGSM (Goodfellow et al. 2015), one step to the corner of the L-inf ball:

    x' = clip(x + eps * sign(grad_x CE(f(x), y)))

PGD (Madry et al. 2018), projected gradient ascent from a random point of the ball:

    x_0 = x + uniform noise in the ball,  x_{t+1} = P(x_t + alpha * s_t)
    s_t = sign(g_t) (L-inf)  or  g_t / ||g_t||_2 (L2),  g_t = grad_x CE(f(x_t), y)

where P projects onto the allowed cells, the eps-ball and the box. ``restarts`` runs PGD from
several random starts and keeps, per sample, the worst case (a success first, else the highest
loss). A targeted attack (``target=t``) descends CE(f(x), t) instead: success is f(x') = t.
With ``ThreatModel(channels="all", on_wafer=False)`` and the same seed these are exactly
``torchattacks.FGSM``/``PGD``/``PGDL2`` (``tests/robust/test_attacks.py`` compares them).

    from functools import partial
    from deepfab.robust import fgsm, pgd, robust_accuracy
    x_adv = pgd(model, x, y, eps=0.3, steps=20, restarts=3, seed=0)
    x_t = pgd(model, x, y, eps=1.0, norm="l2", target=torch.full_like(y, 8))    # push every map to `none`
    curve = robust_accuracy(model, x, y, partial(pgd, steps=20), budgets=[0, 0.05, 0.1, 0.2])
    curve["accuracy"]                                     # one robust accuracy per budget

References:
    I. Goodfellow, J. Shlens, C. Szegedy, "Explaining and Harnessing Adversarial Examples", ICLR 2015.
    A. Madry et al., "Towards Deep Learning Models Resistant to Adversarial Attacks", ICLR 2018.
    A. Kurakin, I. Goodfellow, S. Bengio, "Adversarial Examples in the Physical World", 2017 (targeted).
    H. Kim, "Torchattacks: A PyTorch Repository for Adversarial Attacks", arXiv:2010.01950, 2020.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ..errors import DataError, UsageError
from ..models import eval_mode
from .threat import NORMS, ThreatModel, check_eps

DEFAULT_THREAT = ThreatModel()


def model_device(model: torch.nn.Module) -> torch.device:
    """The device of the model's first parameter (the CPU for a parameter-free model)."""
    p = next(model.parameters(), None)
    return p.device if p is not None else torch.device("cpu")


def predict_labels(model: torch.nn.Module, x: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """Predicted classes (N,) on x's device, in eval mode without gradients, in batches."""
    dev = model_device(model)
    out = []
    with eval_mode(model), torch.no_grad():
        for i in range(0, len(x), batch_size):
            out.append(model(x[i:i + batch_size].to(dev)).argmax(1).to(x.device))
    return torch.cat(out) if out else torch.zeros(0, dtype=torch.long, device=x.device)


def _inputs(model, x, y, target, threat):
    """x, y, target on the model's device, checked."""
    if not isinstance(threat, ThreatModel):
        raise UsageError(f"threat must be a ThreatModel; got {type(threat).__name__}")
    threat.check(x)
    y = torch.as_tensor(y)
    if y.shape != (x.shape[0],):
        raise DataError(f"labels must be (N,) = ({x.shape[0]},); got {tuple(y.shape)}")
    dev = model_device(model)
    if target is not None:
        target = torch.as_tensor(target).to(dev).long()
        if target.shape != y.shape:
            raise DataError(f"target must be (N,) like the labels; got {tuple(target.shape)}")
    return x.detach().to(dev), y.to(dev).long(), target


def _grad(model, x_adv, y, target):
    """Gradient (N, C, S, S) of the attack objective, per sample (a sum, so a sample's gradient does not
    depend on its batch): CE(f(x), y) untargeted, -CE(f(x), target) targeted."""
    x_adv = x_adv.detach().requires_grad_(True)
    logits = model(x_adv)
    cost = -F.cross_entropy(logits, target, reduction="sum") if target is not None \
        else F.cross_entropy(logits, y, reduction="sum")
    (g,) = torch.autograd.grad(cost, x_adv)
    return g


def fgsm(model: torch.nn.Module, x: torch.Tensor, y, eps: float, *, target=None,
         threat: ThreatModel = DEFAULT_THREAT) -> torch.Tensor:
    """Fast gradient sign method: one L-inf step of size ``eps``; returns x' (N, C, S, S) on the model's device."""
    eps = check_eps(eps)
    x, y, target = _inputs(model, x, y, target, threat)
    with eval_mode(model), torch.enable_grad():
        g = _grad(model, x, y, target)
    return threat.project(x, x + eps * g.sign(), eps, "linf").detach()


def _random_start(x, eps, norm, mask, gen):
    """A uniform point of the L-inf ball, or a point of the L2 ball (Gaussian direction, radius eps * U),
    drawn on the CPU from ``gen`` in torchattacks' order, restricted to the allowed cells."""
    if norm == "linf":
        delta = torch.empty(x.shape, dtype=x.dtype).uniform_(-eps, eps, generator=gen).to(x.device)
        return x + delta * mask
    delta = torch.empty(x.shape, dtype=x.dtype).normal_(generator=gen).to(x.device) * mask
    n = delta.flatten(1).norm(dim=1).view(-1, 1, 1, 1)                            # (N, 1, 1, 1)
    r = torch.empty(n.shape, dtype=x.dtype).uniform_(0, 1, generator=gen).to(x.device)
    return x + delta * (r / n.clamp_min(1e-30) * eps)


def _pgd_once(model, x, y, eps, norm, alpha, steps, start, target, threat, mask):
    x_adv = threat.project(x, start, eps, norm, mask)
    for _ in range(steps):
        g = _grad(model, x_adv, y, target)
        if norm == "linf":
            step = g.sign()
        else:
            g = g * mask                                                           # ascend within the allowed cells
            step = g / (g.flatten(1).norm(dim=1).view(-1, 1, 1, 1) + 1e-10)
        x_adv = threat.project(x, x_adv + alpha * step, eps, norm, mask)
    return x_adv.detach()


def _objective(model, x_adv, y, target):
    """Per-sample (success (N,) bool, loss (N,)) of an attack: larger loss is a stronger attack."""
    with torch.no_grad():
        logits = model(x_adv)
    if target is not None:
        return logits.argmax(1) == target, -F.cross_entropy(logits, target, reduction="none")
    return logits.argmax(1) != y, F.cross_entropy(logits, y, reduction="none")


def pgd(model: torch.nn.Module, x: torch.Tensor, y, eps: float, *, norm: str = "linf", alpha: float | None = None,
        steps: int = 10, random_start: bool = True, restarts: int = 1, target=None,
        threat: ThreatModel = DEFAULT_THREAT, seed: int = 0) -> torch.Tensor:
    """Projected gradient descent in the ``norm`` ball of radius ``eps``; returns x' on the model's device.

    ``alpha`` is the step size (default 2.5 * eps / steps, Madry et al.). Restart r draws its random
    start from one CPU generator seeded with ``seed`` (restart 0 is torchattacks' start after
    ``torch.manual_seed(seed)``); the worst case of the restarts is kept per sample.
    """
    eps = check_eps(eps)
    if norm not in NORMS:
        raise UsageError(f"norm must be one of {NORMS}; got {norm!r}")
    for name, v in (("steps", steps), ("restarts", restarts)):
        if isinstance(v, bool) or not isinstance(v, int) or v < (0 if name == "steps" else 1):
            raise UsageError(f"{name} must be an int >= {0 if name == 'steps' else 1}; got {v!r}")
    if restarts > 1 and not random_start:
        raise UsageError("restarts > 1 needs random_start=True (every restart would start at x)")
    x, y, target = _inputs(model, x, y, target, threat)
    if eps == 0:
        return x.clone()
    alpha = 2.5 * eps / max(steps, 1) if alpha is None else check_eps(alpha, "alpha")
    mask = threat.mask(x)
    gen = torch.Generator().manual_seed(int(seed))
    best, best_ok, best_loss = None, None, None
    with eval_mode(model), torch.enable_grad():
        for _ in range(restarts):
            start = _random_start(x, eps, norm, mask, gen) if random_start else x
            x_adv = _pgd_once(model, x, y, eps, norm, alpha, steps, start, target, threat, mask)
            if restarts == 1:
                return x_adv
            ok, loss = _objective(model, x_adv, y, target)
            if best is None:
                best, best_ok, best_loss = x_adv, ok, loss
                continue
            better = (ok & ~best_ok) | ((ok == best_ok) & (loss > best_loss))     # (N,) worse for the model
            best = torch.where(better.view(-1, 1, 1, 1), x_adv, best)
            best_ok, best_loss = best_ok | ok, torch.where(better, loss, best_loss)
    return best


def robust_accuracy(model: torch.nn.Module, x: torch.Tensor, y, attack, budgets, batch_size: int = 256) -> dict:
    """Accuracy under ``attack(model, x, y, eps) -> x'`` at each budget: {"eps": [...], "accuracy": [...], "n"}.

    A map counts as robust when the attacked map is still called its true class; budget 0 gives the
    clean accuracy. Bind an attack's options with ``functools.partial(pgd, steps=20, norm="l2")``.
    The attack sees ``batch_size`` maps at a time (each batch with the attack's own seed).
    """
    if not callable(attack):
        raise UsageError(f"attack must be callable(model, x, y, eps); got {type(attack).__name__}")
    budgets = [check_eps(b, "budget") for b in budgets]
    y = torch.as_tensor(y).long()
    if len(y) == 0 or len(y) != len(x):
        raise DataError(f"robust_accuracy needs N >= 1 maps and N labels; got {len(x)} maps, {len(y)} labels")
    acc = []
    for eps in budgets:
        correct = 0
        for i in range(0, len(x), batch_size):
            xb, yb = x[i:i + batch_size], y[i:i + batch_size]
            xa = xb if eps == 0 else attack(model, xb, yb, eps)
            correct += int((predict_labels(model, xa, batch_size).cpu() == yb.cpu()).sum())
        acc.append(correct / len(y))
    return {"eps": budgets, "accuracy": acc, "n": int(len(y))}


def attack_success(model: torch.nn.Module, x_adv: torch.Tensor, y, target=None) -> float:
    """Share of maps the attack won: called anything but ``y`` (untargeted) or called ``target`` (targeted)."""
    pred = predict_labels(model, x_adv).cpu()
    hit = pred == torch.as_tensor(target).cpu() if target is not None else pred != torch.as_tensor(y).cpu()
    return float(hit.float().mean())
