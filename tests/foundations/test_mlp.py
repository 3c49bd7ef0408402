"""deepfab.foundations.mlp: the one-logit MLP trained by deepfab.train.fit with the logistic loss."""
import numpy as np
import pytest
import torch

from deepfab.data import rings
from deepfab.errors import DataError, UsageError
from deepfab.foundations.mlp import MLP, logit_targets, predict_scores
from deepfab.train import TrainConfig, fit


def _train(X, y, seed=0):
    torch.manual_seed(seed)
    cfg = TrainConfig(epochs=40, batch_size=100, lr=2e-2, optimizer="adam", weight_decay=0.0, scheduler=None,
                      amp="off", seed=seed, device="cpu", progress=False)
    return fit(MLP(X.shape[1], hidden=(16, 16)), (X, logit_targets(y)), config=cfg,
               loss_fn=torch.nn.BCEWithLogitsLoss())


def test_mlp_solves_rings_where_a_line_cannot():
    X, y = rings(300, np.random.default_rng(4))
    result = _train(X, y)
    hist = [h["train_loss"] for h in result.history]
    acc = np.mean(np.where(predict_scores(result.model, X) > 0.5, 1, -1) == y)
    assert acc > 0.95 and hist[-1] < hist[0]
    hist2 = [h["train_loss"] for h in _train(X, y).history]
    np.testing.assert_array_equal(hist, hist2)


def test_scores_are_sigmoid_of_the_logit_and_mode_is_restored():
    net = MLP(3, hidden=(4,)).train()
    X = np.random.default_rng(0).standard_normal((5, 3))
    p = predict_scores(net, X)
    with torch.no_grad():
        ref = torch.sigmoid(net(torch.as_tensor(X, dtype=torch.float32))).numpy()
    np.testing.assert_allclose(p, ref, rtol=1e-6)
    assert p.shape == (5,) and net.training


def test_bad_inputs():
    np.testing.assert_array_equal(logit_targets([-1, 1, 1]), [0.0, 1.0, 1.0])
    with pytest.raises(DataError, match="-1 or \\+1"):
        logit_targets([0, 1])
    with pytest.raises(UsageError, match="positive"):
        MLP(0)
