"""deepfab.robust.attacks against torchattacks (FGSM, PGD, PGDL2, targeted) on the same model and maps;
the budget and the threat model respected; restarts, determinism, robust accuracy, bad input.

With ``ThreatModel(channels="all", on_wafer=False)`` our attacks are torchattacks' threat model;
the random start is the same when torchattacks runs after ``torch.manual_seed(seed)``. L-inf
attacks agree to 1e-12. L2 ones to about 1e-8: torchattacks averages the loss over the batch
(we sum, so a map's gradient does not depend on its batch), which scales the gradient by 1/N
and so weighs its 1e-10 guard in g / (||g|| + 1e-10) N times more.

    .venv/bin/python -m pytest -q -p no:cacheprovider tests/robust/test_attacks.py
"""
from __future__ import annotations

import copy
from functools import partial

import pytest
import torch
import torch.nn.functional as F
import torchattacks

from deepfab.errors import DataError, UsageError
from deepfab.robust import ThreatModel, attack_success, fgsm, margin, pgd, predict_labels, robust_accuracy

IMAGE = ThreatModel(channels="all", on_wafer=False)


@pytest.fixture(scope="module")
def case(models16, wm16):
    """The trained model in float64 (so gradient signs agree to the last bit) and 48 real test maps."""
    net = copy.deepcopy(models16[0]).double().eval()
    x, y = wm16["test"]
    idx = torch.arange(0, len(y), 3)[:48]
    return net, x[idx].double(), y[idx]


def _ta(attack, *args, seed=None, targeted=False, **kw):
    atk = attack(*args, **kw)
    if targeted:
        atk.set_mode_targeted_by_label(quiet=True)
    if seed is not None:
        torch.manual_seed(seed)
    return atk


def test_fgsm_matches_torchattacks(case):
    net, x, y = case
    for eps in (0.05, 0.3):
        ours = fgsm(net, x, y, eps, threat=IMAGE)
        theirs = _ta(torchattacks.FGSM, net, eps=eps)(x, y)
        assert torch.allclose(ours, theirs, atol=1e-12, rtol=0)
        assert (ours != x).float().mean() > 0.3                      # it moved most values
    target = torch.full_like(y, 8)
    ours = fgsm(net, x, y, 0.3, target=target, threat=IMAGE)
    theirs = _ta(torchattacks.FGSM, net, eps=0.3, targeted=True)(x, target)
    assert torch.allclose(ours, theirs, atol=1e-12, rtol=0)


@pytest.mark.parametrize("random_start", [False, True])
def test_pgd_linf_matches_torchattacks(case, random_start):
    net, x, y = case
    ours = pgd(net, x, y, 0.1, alpha=0.02, steps=10, random_start=random_start, threat=IMAGE, seed=7)
    theirs = _ta(torchattacks.PGD, net, eps=0.1, alpha=0.02, steps=10, random_start=random_start, seed=7)(x, y)
    assert torch.allclose(ours, theirs, atol=1e-12, rtol=0)
    acc_ours = float((predict_labels(net, ours) == y).float().mean())
    acc_theirs = float((predict_labels(net, theirs) == y).float().mean())
    assert acc_ours == acc_theirs < float((predict_labels(net, x) == y).float().mean())


@pytest.mark.parametrize("random_start", [False, True])
def test_pgd_l2_matches_torchattacks(case, random_start):
    net, x, y = case
    ours = pgd(net, x, y, 1.5, norm="l2", alpha=0.3, steps=10, random_start=random_start, threat=IMAGE, seed=3)
    theirs = _ta(torchattacks.PGDL2, net, eps=1.5, alpha=0.3, steps=10, random_start=random_start, seed=3)(x, y)
    assert torch.allclose(ours, theirs, atol=1e-6, rtol=0)
    assert torch.equal(predict_labels(net, ours), predict_labels(net, theirs))
    size = (ours - x).flatten(1).norm(dim=1)
    assert float(size.max()) <= 1.5 * (1 + 1e-9) and float(size.max()) > 1.0    # the box clamp shrinks some


@pytest.mark.parametrize("norm,attack,eps,alpha", [("linf", torchattacks.PGD, 0.2, 0.04),
                                                   ("l2", torchattacks.PGDL2, 2.0, 0.4)])
def test_targeted_pgd_matches_torchattacks(case, norm, attack, eps, alpha):
    net, x, y = case
    target = (y + 1) % 9
    ours = pgd(net, x, y, eps, norm=norm, alpha=alpha, steps=10, target=target, threat=IMAGE, seed=1)
    theirs = _ta(attack, net, eps=eps, alpha=alpha, steps=10, targeted=True, seed=1)(x, target)
    assert torch.allclose(ours, theirs, atol=1e-12 if norm == "linf" else 1e-6, rtol=0)
    hit = attack_success(net, ours, y, target=target)
    assert hit == float((predict_labels(net, theirs) == target).float().mean())
    assert hit > float((predict_labels(net, x) == target).float().mean())        # it moved maps to the target


def test_attacks_respect_the_budget_and_the_threat_model(wm16, models16):
    net = models16[0]
    wm = wm16["wm"]
    x3, y3 = wm.encode("train_1", wm.rows("train_1", per_class=4, seed=1), size=16, density=True, tensors=True)
    net3 = torch.nn.Sequential(torch.nn.Conv2d(3, 2, 1), net)   # a 3-channel front for the density encoding
    for xs, ys, model in ((wm16["test"][0][:40], wm16["test"][1][:40], net), (x3, y3, net3)):
        tm = ThreatModel()
        allowed = tm.mask(xs).bool()
        assert allowed[:, 0].sum() == 0 and allowed[:, 1:].any()
        assert not allowed[:, 1:][(xs[:, :1] == 0).expand_as(xs[:, 1:])].any()          # off-wafer cells fixed
        runs = {"fgsm": (fgsm(model, xs, ys, 0.2), "linf", 0.2),
                "pgd linf": (pgd(model, xs, ys, 0.2, restarts=2, seed=0), "linf", 0.2),
                "pgd l2": (pgd(model, xs, ys, 1.0, norm="l2", restarts=2, seed=0), "l2", 1.0),
                "targeted": (pgd(model, xs, ys, 0.2, target=torch.zeros_like(ys)), "linf", 0.2)}
        for name, (xa, norm, eps) in runs.items():
            d = xa - xs
            size = d.abs().flatten(1).amax(1) if norm == "linf" else d.flatten(1).norm(dim=1)
            assert float(size.max()) <= eps * (1 + 1e-6), name
            assert float(xa.min()) >= 0.0 and float(xa.max()) <= 1.0, name
            assert float(d[~allowed].abs().max()) == 0.0, name
            assert float(d.abs().max()) > 0, name


def test_restarts_keep_the_worst_case_per_map(case):
    net, x, y = case
    one = pgd(net, x, y, 0.03, steps=5, restarts=1, seed=4)
    five = pgd(net, x, y, 0.03, steps=5, restarts=5, seed=4)      # restart 0 is the single run
    with torch.no_grad():
        l1, l5 = net(one), net(five)
    won1, won5 = l1.argmax(1) != y, l5.argmax(1) != y
    assert bool((won5 | ~won1).all())                               # a win of restart 0 is never lost
    both_lost = ~won1 & ~won5
    ce1, ce5 = (F.cross_entropy(lg, y, reduction="none") for lg in (l1, l5))
    assert bool((ce5[both_lost] >= ce1[both_lost] - 1e-12).all())
    assert float(ce5.sum()) > float(ce1.sum())


def test_same_seed_same_attack(case):
    net, x, y = case
    a = pgd(net, x, y, 0.1, restarts=2, seed=11)
    b = pgd(net, x, y, 0.1, restarts=2, seed=11)
    c = pgd(net, x, y, 0.1, restarts=2, seed=12)
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_robust_accuracy_curve(case):
    net, x, y = case
    curve = robust_accuracy(net, x, y, partial(pgd, steps=10, threat=IMAGE), [0, 0.02, 0.1], batch_size=20)
    clean = float((predict_labels(net, x) == y).float().mean())
    assert curve["eps"] == [0.0, 0.02, 0.1] and curve["n"] == len(y)
    assert curve["accuracy"][0] == pytest.approx(clean)
    theirs = _ta(torchattacks.PGD, net, eps=0.1, alpha=0.025, steps=10, seed=0)(x, y)
    assert curve["accuracy"][2] == pytest.approx(float((predict_labels(net, theirs) == y).float().mean()))
    assert curve["accuracy"][0] > curve["accuracy"][1] > curve["accuracy"][2]


def test_margin_is_negative_exactly_when_the_class_is_not_called():
    logits = torch.randn(200, 5, generator=torch.Generator().manual_seed(0))
    y = torch.randint(0, 5, (200,), generator=torch.Generator().manual_seed(1))
    m = margin(logits, y)
    by_hand = torch.tensor([float(lg[c] - max(v for k, v in enumerate(lg) if k != c)) for lg, c in zip(logits, y)])
    assert torch.allclose(m, by_hand)
    assert torch.equal(m < 0, logits.argmax(1) != y)


def test_bad_input_raises_the_right_error(case):
    net, x, y = case
    with pytest.raises(DataError, match="box"):
        fgsm(net, x * 2, y, 0.1)
    with pytest.raises(DataError, match="labels"):
        pgd(net, x, y[:3], 0.1)
    with pytest.raises(UsageError, match="norm"):
        pgd(net, x, y, 0.1, norm="l1")
    with pytest.raises(UsageError, match="eps"):
        pgd(net, x, y, -0.1)
    with pytest.raises(UsageError, match="random_start"):
        pgd(net, x, y, 0.1, restarts=3, random_start=False)
    with pytest.raises(UsageError, match="channels"):
        fgsm(net, x, y, 0.1, threat=ThreatModel(channels=(5,)))
    assert torch.equal(pgd(net, x, y, 0.0), x)
