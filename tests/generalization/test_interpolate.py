"""train_recorded: its recorded errors against a direct evaluation, stopping at the fit, seeds."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from deepfab.errors import UsageError
from deepfab.generalization.interpolate import train_recorded
from deepfab.models.small import SmallCNN
from deepfab.train import TrainConfig


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.random((24, 2, 8, 8)).astype(np.float32)
    y = rng.integers(0, 3, 24)
    return X, y, X[:10] + 0.1, y[:10]


def cfg(epochs=3, **kw):
    return TrainConfig(epochs=epochs, batch_size=8, lr=1e-2, optimizer="adam", weight_decay=0.0, scheduler=None,
                       progress=False, device="cpu", **kw)


def test_records_match_direct_evaluation(data):
    X, y, Xt, yt = data
    torch.manual_seed(0)
    rec = train_recorded(SmallCNN(2, 3, width=4, head_pool=1), (X, y), (Xt, yt), cfg(3))
    assert rec["epoch"] == [1, 2, 3] and len(rec["test_error"]) == 3
    with torch.no_grad():
        rec["model"].eval()
        err = float((rec["model"](torch.from_numpy(X)).argmax(1).numpy() != y).mean())
        t_err = float((rec["model"](torch.from_numpy(Xt)).argmax(1).numpy() != yt).mean())
    assert rec["train_error"][-1] == pytest.approx(err) and rec["test_error"][-1] == pytest.approx(t_err)
    assert rec["params"] == sum(p.numel() for p in rec["model"].parameters())


def test_stops_at_fit_and_fits_random_labels(data):
    X, y, _, _ = data
    torch.manual_seed(0)
    rec = train_recorded(SmallCNN(2, 3, width=8, head_pool=2), (X, y), None, cfg(200), stop_at_fit=True)
    assert rec["epochs_to_fit"] is not None and rec["epoch"][-1] == rec["epochs_to_fit"] < 200
    assert rec["train_error"][-1] == 0.0 and np.isnan(rec["test_error"][-1])


def test_same_seed_same_record(data):
    X, y, Xt, yt = data
    recs = []
    for _ in range(2):
        torch.manual_seed(0)
        recs.append(train_recorded(SmallCNN(2, 3, width=4, head_pool=1), (X, y), (Xt, yt), cfg(2, seed=5)))
    assert recs[0]["train_loss"] == recs[1]["train_loss"] and recs[0]["test_loss"] == recs[1]["test_loss"]


def test_bad_input_raises_one_line(data):
    X, y, _, _ = data
    with pytest.raises(UsageError) as e:
        train_recorded(SmallCNN(2, 3, width=4), (X, y[:5]), None, cfg())
    assert "\n" not in str(e.value)
    with pytest.raises(UsageError):
        train_recorded(SmallCNN(2, 3, width=4), (X, y), None, {"epochs": 2})
    with pytest.raises(UsageError):
        train_recorded(SmallCNN(2, 3, width=4), (X, y), None, cfg(), fit_error=1.5)
