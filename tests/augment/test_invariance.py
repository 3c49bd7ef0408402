"""D4 agreement and test-time augmentation (deepfab.augment.invariance)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from deepfab.augment import d4_agreement, d4_logits, dihedral, tta_predict
from deepfab.augment.invariance import tta_proba


class SymmetricNet(torch.nn.Module):
    """Logits from D4-invariant features (total fail count and centre fail count): exactly invariant."""

    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(2, 3)

    def forward(self, x):
        c = x.shape[-1] // 2
        feats = torch.stack([x[:, 1].sum((1, 2)), x[:, 1, c - 1:c + 1, c - 1:c + 1].sum((1, 2))], 1)
        return self.lin(feats)


class CornerNet(torch.nn.Module):
    """Looks at the top-left corner only: not invariant."""

    def forward(self, x):
        return torch.stack([x[:, 1, 0, 0], 1 - x[:, 1, 0, 0]], 1)


def test_d4_agreement_and_tta():
    torch.manual_seed(0)
    x = (torch.rand(50, 2, 8, 8) < 0.5).float()
    z = d4_logits(SymmetricNet(), x)
    assert z.shape == (8, 50, 3)
    assert d4_agreement(z) == 1.0
    z2 = d4_logits(CornerNet(), x)
    assert d4_agreement(z2) < 0.5
    # TTA equals the argmax of the hand-averaged softmax over the orbit
    probs = torch.stack([CornerNet()(dihedral(x, k)).softmax(-1) for k in range(8)]).mean(0)
    np.testing.assert_array_equal(tta_predict(z2), probs.argmax(-1).numpy())
    with pytest.raises(ValueError, match=r"\(8, N, classes\)"):
        d4_agreement(z2[:4])


def test_d4_logits_equal_one_view_at_a_time_for_any_batch_size():
    torch.manual_seed(1)
    net = torch.nn.Sequential(torch.nn.Conv2d(2, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
                              torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(4, 3)).train()
    x = torch.rand(13, 2, 8, 8)
    with torch.no_grad():
        net.eval()
        ref = torch.stack([net(dihedral(x, k)) for k in range(8)])         # (8, 13, 3), the oracle
        net.train()
    for batch_size in (1, 8, 24, 1024):                                     # 1, 1, 3 and all maps per pass
        torch.testing.assert_close(d4_logits(net, x, batch_size=batch_size), ref, rtol=1e-5, atol=1e-6)
    assert net.training                                                     # the mode is restored
    one = d4_logits(net, x, batch_size=5, views=1)
    torch.testing.assert_close(one, ref[:1], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(tta_proba(one), ref[0].softmax(-1))         # one view: its own softmax
    torch.testing.assert_close(tta_proba(ref), ref.softmax(-1).mean(0))
    with pytest.raises(ValueError, match="views must be in 1..8; got 9"):
        d4_logits(net, x, views=9)
    with pytest.raises(ValueError, match="at least one map"):
        d4_logits(net, x[:0])
