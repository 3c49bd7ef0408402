"""deepfab.train.losses and .mixing: focal, label smoothing and class weights against torch and sklearn;
mixup/cutmix."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.utils.class_weight import compute_class_weight

from deepfab.data import load_wm811k
from deepfab.errors import DataError, UsageError
from deepfab.train import balanced_class_weights, cutmix, mix_batch, mixup
from deepfab.train.losses import mean_loss, soft_target_loss


@pytest.fixture
def batch():
    g = torch.Generator().manual_seed(0)
    return torch.randn(32, 5, generator=g), torch.randint(0, 5, (32,), generator=g)


def test_focal_with_gamma_zero_is_cross_entropy(batch):
    logits, y = batch
    assert mean_loss(logits, y, gamma=0.0).item() == pytest.approx(F.cross_entropy(logits, y).item(), rel=1e-6)


def test_focal_matches_its_formula_and_downweights_easy_samples(batch):
    logits, y = batch
    p = torch.softmax(logits, 1).gather(1, y[:, None]).squeeze(1)
    ref = (-(1 - p) ** 2 * p.log()).mean()
    assert mean_loss(logits, y, gamma=2.0).item() == pytest.approx(ref.item(), rel=1e-5)
    assert mean_loss(logits, y, gamma=2.0) < mean_loss(logits, y, gamma=0.0)


@pytest.mark.parametrize("eps", [0.0, 0.1, 0.3])
@pytest.mark.parametrize("weighted", [False, True])
def test_label_smoothing_and_class_weights_equal_torch(batch, eps, weighted):
    logits, y = batch
    w = torch.tensor([0.5, 1.0, 2.0, 3.0, 0.25]) if weighted else None
    ours = mean_loss(logits, y, class_weights=w, label_smoothing=eps)
    ref = F.cross_entropy(logits, y, weight=w, label_smoothing=eps)
    assert ours.item() == pytest.approx(ref.item(), rel=1e-6)


def test_loss_gradient_equals_torch(batch):
    logits, y = batch
    a = logits.clone().requires_grad_()
    b = logits.clone().requires_grad_()
    w = torch.tensor([0.5, 1.0, 2.0, 3.0, 0.25])
    mean_loss(a, y, class_weights=w, label_smoothing=0.1).backward()
    F.cross_entropy(b, y, weight=w, label_smoothing=0.1).backward()
    torch.testing.assert_close(a.grad, b.grad, rtol=1e-5, atol=1e-7)


def test_balanced_weights_equal_sklearn():
    y = np.array([0] * 50 + [1] * 30 + [2] * 15 + [3] * 5)
    ref = compute_class_weight("balanced", classes=np.arange(4), y=y)
    np.testing.assert_allclose(balanced_class_weights(y, 4), ref)
    assert balanced_class_weights(np.array([0, 0, 2]), 3)[1] == 0.0   # absent class


def test_class_weight_rules_match_sklearn_and_effective_number():
    y = load_wm811k("train_1").labels
    present = np.unique(y)
    n_all = np.bincount(y, minlength=9)
    w = balanced_class_weights(y, 9, "inverse")
    share = len(present) / 9   # K of C classes present: the weights are scikit-learn's over all nine
    assert np.allclose(w[present], compute_class_weight("balanced", classes=present, y=y) * share)
    assert w[5] == 0 and n_all[5] == 0  # no Near-full in train_1
    e = balanced_class_weights(y, 9, "effective", beta=0.99)
    n = n_all[present]
    ref = (1 - 0.99) / (1 - 0.99 ** n)
    assert np.allclose(e[present], ref * n.sum() / (ref * n).sum() * share)        # mean weight per map K/C
    assert np.allclose(balanced_class_weights(y, 9, "effective", beta=0.0)[present], share)  # beta=0: equal weights
    s = balanced_class_weights(y, 9, "sqrt")
    ratio = s[present] * np.sqrt(n)
    assert np.allclose(ratio, ratio[0]) and (s * n_all).sum() == pytest.approx(len(y) * share)  # w_c ~ 1/sqrt(n_c)
    with pytest.raises(UsageError, match="one of inverse, sqrt, effective; got 'cubic'"):
        balanced_class_weights(y, 9, "cubic")
    with pytest.raises(UsageError, match=r"beta must be in \[0, 1\)"):
        balanced_class_weights(y, 9, "effective", beta=1.0)
    with pytest.raises(DataError, match="labels must be in 0..3; got a label 8"):
        balanced_class_weights(y, 4)


def test_soft_target_loss_checks_shapes(batch):
    logits, _ = batch
    with pytest.raises(ValueError, match=r"\(B, C\)"):
        soft_target_loss(logits, torch.zeros(32, 4))


def test_mixup_with_alpha_zero_is_identity():
    x = torch.randn(8, 2, 6, 6)
    y = torch.arange(8) % 3
    for xm, t in (mixup(x, y, 3, 0.0, np.random.default_rng(0)), mix_batch(x, y, 3, 0.0, 0.0, None),
                  cutmix(x, y, 3, 0.0, np.random.default_rng(0))):
        assert torch.equal(xm, x)
        assert torch.equal(t, F.one_hot(y, 3).float())


def test_mixup_blends_inputs_and_targets_consistently():
    x = torch.randn(16, 4)
    y = torch.arange(16) % 4
    xm, t = mixup(x, y, 4, 0.4, np.random.default_rng(3))
    torch.testing.assert_close(t.sum(1), torch.ones(16))
    # replaying the generator gives lam and perm: x_mix = lam x + (1-lam) x[perm], same for targets
    rng = np.random.default_rng(3)
    lam = float(rng.beta(0.4, 0.4))
    perm = torch.from_numpy(rng.permutation(16))
    torch.testing.assert_close(xm, lam * x + (1 - lam) * x[perm])
    onehot = F.one_hot(y, 4).float()
    torch.testing.assert_close(t, lam * onehot + (1 - lam) * onehot[perm])
    # same generator state, same mix
    xm2, t2 = mixup(x, y, 4, 0.4, np.random.default_rng(3))
    assert torch.equal(xm, xm2) and torch.equal(t, t2)


def test_cutmix_targets_equal_pasted_area():
    x = torch.zeros(6, 1, 20, 20)
    x[:3] = 1.0                                        # samples 0-2 all ones, 3-5 all zeros
    y = torch.tensor([0, 0, 0, 1, 1, 1])
    for seed in range(5):
        xm, t = cutmix(x, y, 2, 1.0, np.random.default_rng(seed))
        for i in range(6):
            frac_ones = xm[i].mean().item()            # pixels of class 0 in the mixed image
            assert t[i, 0].item() == pytest.approx(frac_ones, abs=1e-6)


def test_cutmix_needs_images():
    with pytest.raises(ValueError, match=r"\(B, C, H, W\)"):
        cutmix(torch.randn(4, 10), torch.zeros(4, dtype=torch.long), 2, 1.0, np.random.default_rng(0))


def test_mix_batch_needs_rng_when_mixing():
    with pytest.raises(ValueError, match="Generator"):
        mix_batch(torch.randn(4, 3), torch.zeros(4, dtype=torch.long), 2, mixup_alpha=0.2)
