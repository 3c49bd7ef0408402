"""deepfab.robust.sanity: the gradient-masking checks pass on a small trained model, and fail where they should:
on a model whose gradients are zero (inputs rounded before the network) and on a deliberately broken attack.

    .venv/bin/python -m pytest -q -p no:cacheprovider tests/robust/test_sanity.py
"""
from __future__ import annotations

from functools import partial

import pytest
import torch
from torch import nn

from deepfab.errors import UsageError
from deepfab.robust import budget_check, check_table, large_budget_check, masking_checks, pgd, transfer_check


class Rounded(nn.Module):
    """A model that rounds its input first: the same calls on binary maps, but zero input gradients
    everywhere (shattered gradients, Athalye et al. 2018), so gradient attacks learn nothing."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net(torch.round(x))


@pytest.fixture(scope="module")
def data(wm16):
    x, y = wm16["test"]
    return x[::2], y[::2]                                             # 82 maps, every class


def test_checks_pass_on_a_trained_model(models16, data):
    model, surrogate = models16
    x, y = data
    checks = masking_checks(model, x, y, eps=0.1, surrogate=surrogate, steps=10)
    rows = {r["check"]: r for r in check_table(checks)}
    print({k: {n: v for n, v in r.items() if n not in ("rule", "check")} for k, r in rows.items()})
    assert list(rows) == ["budget", "steps", "restarts", "transfer", "large budget"]
    assert all(r["passed"] for r in rows.values())
    acc = rows["budget"]["accuracy"]
    assert acc[0] > 0.35 and acc[-1] < acc[0] - 0.2                   # clean well above chance, attacks bite
    assert rows["steps"]["accuracy"][-1] <= rows["steps"]["fgsm_accuracy"]
    t = rows["transfer"]
    assert t["white_box_accuracy"] < t["transfer_accuracy"] < t["clean_accuracy"]   # transfer works, less well
    assert rows["large budget"]["accuracy"] <= 0.05


def test_checks_flag_zero_gradients(models16, data):
    model, surrogate = models16
    masked = Rounded(model).eval()
    x, y = data
    assert torch.equal(masked(x).argmax(1), model(x).argmax(1))      # the same classifier on real maps
    attack = partial(pgd, steps=20, random_start=False)
    big = large_budget_check(masked, x, y, attack, eps=1.0)
    assert not big.passed and big.numbers["accuracy"] > 0.3          # the attack never moves
    tr = transfer_check(masked, surrogate, x, y, 1.0, attack)
    assert not tr.passed
    assert tr.numbers["transfer_accuracy"] < tr.numbers["white_box_accuracy"] - 0.2   # black box beats white box


def test_budget_check_flags_an_attack_that_weakens_with_budget(models16, data):
    model = models16[0]
    x, y = data

    def broken(m, xb, yb, eps):                                        # gives up above eps 0.05
        return pgd(m, xb, yb, eps, steps=10) if eps <= 0.05 else xb

    check = budget_check(model, x, y, broken, [0.0, 0.05, 0.1])
    assert not check.passed and check.numbers["accuracy"][2] > check.numbers["accuracy"][1]
    assert budget_check(model, x, y, partial(pgd, steps=10), [0.1, 0.0, 0.05]).numbers["eps"] == [0.0, 0.05, 0.1]


def test_transfer_check_refuses_the_model_as_its_own_surrogate(models16, data):
    with pytest.raises(UsageError, match="surrogate"):
        transfer_check(models16[0], models16[0], *data, 0.1)
