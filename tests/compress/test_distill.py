"""Knowledge distillation (lecture 12): the loss against kl_div, its closed-form gradient, alpha=0 is CE.

Run: .venv/bin/python -m pytest tests/compress/test_distill.py -q
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from deepfab.compress import DistillLoss
from deepfab.errors import ModelError, UsageError
from deepfab.train import TrainConfig, fit

torch.set_num_threads(1)


def logits(seed, b=7, c=5):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(b, c, generator=g) * 3, torch.randint(0, c, (b,), generator=g)


@pytest.mark.parametrize("T, alpha", [(1.0, 0.5), (4.0, 0.9), (2.5, 1.0)])
def test_value_matches_torch_kl_div_and_cross_entropy(T, alpha):
    s, y = logits(0)
    t, _ = logits(1)
    loss = DistillLoss(torch.nn.Identity(), temperature=T, alpha=alpha)
    num, den = loss(s, (y, t))
    ref = alpha * T ** 2 * F.kl_div(F.log_softmax(s / T, 1), F.log_softmax(t / T, 1), reduction="batchmean",
                                    log_target=True) + (1 - alpha) * F.cross_entropy(s, y)
    assert float(den) == len(y)
    torch.testing.assert_close(num / den, ref, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("T", [1.0, 3.0, 8.0])
def test_gradient_is_the_closed_form(T):
    """d/ds [alpha T^2 KL(p_T||q_T) + (1-alpha) CE] = alpha T (q_T - p_T) + (1 - alpha)(softmax(s) - onehot)."""
    alpha = 0.7
    s, y = logits(2)
    t, _ = logits(3)
    s = s.double().requires_grad_(True)
    num, den = DistillLoss(torch.nn.Identity(), temperature=T, alpha=alpha)(s, (y, t.double()))
    (num / den).backward()
    q_T, p_T = torch.softmax(s.detach() / T, 1), torch.softmax(t.double() / T, 1)
    closed = (alpha * T * (q_T - p_T) + (1 - alpha) * (torch.softmax(s.detach(), 1) - F.one_hot(y, 5))) / len(y)
    # the loss computes in float32; compare at that precision
    torch.testing.assert_close(s.grad, closed, rtol=1e-4, atol=1e-6)


def test_alpha_zero_is_plain_cross_entropy_and_equal_logits_cost_only_the_hard_term():
    s, y = logits(4)
    t, _ = logits(5)
    num, den = DistillLoss(torch.nn.Identity(), alpha=0.0)(s, (y, t))
    torch.testing.assert_close(num / den, F.cross_entropy(s, y))
    num, den = DistillLoss(torch.nn.Identity(), alpha=1.0)(s, (y, s.clone()))
    assert abs(float(num)) < 1e-5                                # KL(p || p) = 0


def blobs(n=240, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    X = (rng.normal(size=(n, 4)) + np.eye(3, 4)[y] * 3).astype(np.float32)
    return X, y.astype(np.int64)


def test_fit_trains_a_student_the_teacher_is_frozen_and_alpha_zero_trains_like_the_default_loss():
    X, y = blobs()
    torch.manual_seed(0)
    teacher = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))
    teacher.train()
    before = {k: v.clone() for k, v in teacher.state_dict().items()}
    cfg = TrainConfig(epochs=3, batch_size=32, lr=1e-2, progress=False, seed=0, device="cpu")
    torch.manual_seed(1)
    student = torch.nn.Linear(4, 3)
    init = {k: v.clone() for k, v in student.state_dict().items()}
    res = fit(student, (X[:200], y[:200]), (X[200:], y[200:]), cfg, loss_fn=DistillLoss(teacher, alpha=0.9))
    assert res.best_metrics["macro_f1"] > 0.8 and "val_macro_f1" in res.history[0]
    for k, v in teacher.state_dict().items():
        torch.testing.assert_close(v, before[k], rtol=0, atol=0)
    assert teacher.training                                      # its mode is restored after each batch
    # alpha = 0: the same run as the default classification loss (same init, order, optimiser)
    plain, ce = torch.nn.Linear(4, 3), torch.nn.Linear(4, 3)
    plain.load_state_dict(init), ce.load_state_dict(init)
    a = fit(plain, (X[:200], y[:200]), None, cfg, loss_fn=DistillLoss(teacher, alpha=0.0))
    b = fit(ce, (X[:200], y[:200]), None, cfg)
    np.testing.assert_allclose([h["train_loss"] for h in a.history], [h["train_loss"] for h in b.history], rtol=1e-5)


def test_bad_arguments_raise():
    with pytest.raises(UsageError, match="teacher"):
        DistillLoss("net")
    with pytest.raises(UsageError, match="temperature"):
        DistillLoss(torch.nn.Identity(), temperature=0)
    with pytest.raises(UsageError, match="alpha"):
        DistillLoss(torch.nn.Identity(), alpha=1.5)
    X, y = blobs(60)
    with pytest.raises(UsageError, match="class_weights"):
        fit(torch.nn.Linear(4, 3), (X, y), None, TrainConfig(epochs=1, class_weights="balanced", progress=False),
            loss_fn=DistillLoss(torch.nn.Linear(4, 3)))
    with pytest.raises(ModelError, match="teacher predicts 4 classes"):
        fit(torch.nn.Linear(4, 3), (X, y), None, TrainConfig(epochs=1, progress=False),
            loss_fn=DistillLoss(torch.nn.Linear(4, 4)))
