"""deepfab.train.objective: the Loss objects fit trains with (classification, dense, a subclass) against plain torch."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from deepfab.errors import DataError, UsageError
from deepfab.train import ClassificationLoss, DenseLoss, Loss, TrainConfig, fit
from deepfab.train.config import MONITORS

torch.set_num_threads(1)


def blobs(n=200, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.choice(3, size=n, p=[0.5, 0.3, 0.2])
    X = (rng.normal(size=(n, 6)) + np.eye(3, 6)[y] * 2.0).astype(np.float32)
    return X, y


def mlp(seed=0, out=3):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.Tanh(), torch.nn.Linear(16, out))


def cfg(**kw):
    return TrainConfig(**{**dict(epochs=3, batch_size=32, lr=1e-2, progress=False, seed=3), **kw})


class MSE(Loss):
    """Mean squared error on (N, 1) targets: the smallest Loss subclass."""

    def __call__(self, outputs, targets):
        return ((outputs.float() - targets) ** 2).sum(), torch.tensor(float(targets.numel()))

    def metrics(self, outputs, targets):
        return {"loss": float(((outputs - targets) ** 2).mean()), "mae": float((outputs - targets).abs().mean())}


def test_every_monitor_is_a_column_of_the_classification_record():
    m = {"loss": 0.5, "accuracy": 0.9, "macro_f1": 0.8, "balanced_accuracy": 0.7, "per_class_recall": {}}
    assert set(ClassificationLoss(TrainConfig()).record(m)) == set(MONITORS)


def test_a_loss_subclass_trains_like_a_plain_torch_loop():
    """Oracle: the same order, MSE and AdamW/cosine written out in plain torch."""
    X, y = blobs()
    t = (X[:, :1] * 2 - X[:, 1:2]).astype(np.float32)               # (N, 1) regression target
    c = cfg(monitor="val_loss", restore_best=False)
    ours = fit(mlp(out=1), (X[:160], t[:160]), (X[160:], t[160:]), c, loss_fn=MSE())
    assert set(ours.history[0]) == {"epoch", "train_loss", "val_loss", "val_mae", "lr"}
    assert ours.best_metrics.keys() == {"loss", "mae"}

    model = mlp(out=1)
    Xt, tt = torch.as_tensor(X[:160]), torch.as_tensor(t[:160])
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=3 * 5)
    g = torch.Generator().manual_seed(c.seed)
    losses = []
    for _ in range(3):
        total = 0.0
        for idx in torch.randperm(160, generator=g).split(32):
            loss = F.mse_loss(model(Xt[idx]), tt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        losses.append(total / 160)
    np.testing.assert_allclose([h["train_loss"] for h in ours.history], losses, rtol=1e-5)
    with torch.no_grad():
        val = F.mse_loss(model(torch.as_tensor(X[160:])), torch.as_tensor(t[160:])).item()
    assert ours.history[-1]["val_loss"] == pytest.approx(val, rel=1e-4)
    for k, v in model.state_dict().items():
        torch.testing.assert_close(ours.model.state_dict()[k], v, rtol=1e-4, atol=1e-5)


def test_dense_cross_entropy_matches_the_classification_loss():
    """Two implementations of one objective: DenseLoss(F.cross_entropy) and the default soft-target CE."""
    X, y = blobs()
    train, val = (X[:160], y[:160]), (X[160:], y[160:])
    cls = fit(mlp(), train, val, cfg(monitor="val_loss"))
    dense = fit(mlp(), train, val, cfg(monitor="val_loss"), loss_fn=F.cross_entropy)
    np.testing.assert_allclose([h["train_loss"] for h in dense.history], [h["train_loss"] for h in cls.history],
                               rtol=1e-5)
    np.testing.assert_allclose([h["val_loss"] for h in dense.history], [h["val_loss"] for h in cls.history], rtol=1e-5)
    assert "train_accuracy" in cls.history[0] and "train_accuracy" not in dense.history[0]


def test_loss_arguments_are_checked():
    X, y = blobs(40)
    with pytest.raises(UsageError, match="metrics_fn goes with a plain loss_fn"):
        fit(mlp(out=1), (X, y[:, None].astype(np.float32)), None, cfg(), loss_fn=MSE(), metrics_fn=lambda o, t: {})
    with pytest.raises(UsageError, match="loss_fn and metrics_fn must be callable"):
        fit(mlp(), (X, y), None, cfg(), loss_fn=3)
    with pytest.raises(UsageError, match="monitor must be 'val_loss'"):
        fit(mlp(out=1), (X, y[:, None].astype(np.float32)), (X, y[:, None].astype(np.float32)), cfg(), loss_fn=MSE())
    with pytest.raises(UsageError, match="without a 'loss' key"):
        fit(mlp(), (X, y), (X, y), cfg(epochs=1, monitor="val_loss"), loss_fn=F.cross_entropy,
            metrics_fn=lambda o, t: {"loss": 0.0})
    with pytest.raises(DataError, match="labels must be < n_classes=3"):
        fit(mlp(), (X, np.full(40, 5)), None, cfg())
    assert isinstance(DenseLoss(F.mse_loss), Loss) and isinstance(ClassificationLoss(cfg()), Loss)
