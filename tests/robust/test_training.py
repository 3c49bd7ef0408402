"""deepfab.robust.training: PGD-AT and fast FGSM as engine objectives. The batch step equals the attack written
out (pgd with the same start, Wong et al.'s update by hand); training resumes to the uninterrupted result;
the same seed gives the same run; adversarial training buys robustness at a measured cost.

    .venv/bin/python -m pytest -q -p no:cacheprovider tests/robust/test_training.py -s   # prints the trade-off
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from deepfab.errors import UsageError
from deepfab.models import SmallCNN
from deepfab.robust import FastFGSMTraining, PGDTraining, ThreatModel, pgd, tradeoff
from deepfab.train import TrainConfig, fit


def _net(seed=0):
    torch.manual_seed(seed)
    return SmallCNN(2, 9, width=8, batchnorm=True, head_pool=2)


def _cfg(**kw):
    return TrainConfig(**{"epochs": 3, "batch_size": 32, "lr": 3e-3, "progress": False, "device": "cpu", **kw})


@pytest.fixture(scope="module")
def small(wm16):
    x, y = wm16["train"]
    return (x[::2], y[::2]), (x[1::2], y[1::2])                    # 170 maps to train, 170 to validate


def test_batch_step_is_pgd_from_the_engine_generator(models16, wm16):
    model = models16[0]
    x, y = wm16["test"][0][:32], wm16["test"][1][:32]
    loss = PGDTraining(0.1, steps=5)
    loss.model = model
    ours = loss.perturb(x, y, np.random.default_rng(3))
    seed = int(np.random.default_rng(3).integers(2**62))          # the start's generator seed, drawn from rng
    assert torch.equal(ours, pgd(model, x, y, 0.1, steps=5, seed=seed))
    assert float((ours - x).abs().max()) <= 0.1 + 1e-7


def test_fast_fgsm_step_is_wong_et_al(models16, wm16):
    model = models16[0]
    x, y = wm16["test"][0][:32], wm16["test"][1][:32]
    tm = ThreatModel(channels="all", on_wafer=False)
    eps = 0.1
    loss = FastFGSMTraining(eps, threat=tm)
    loss.model = model
    ours = loss.perturb(x, y, np.random.default_rng(5))
    gen = torch.Generator().manual_seed(int(np.random.default_rng(5).integers(2**62)))
    delta = torch.empty(x.shape).uniform_(-eps, eps, generator=gen)  # Wong et al. 2020, Algorithm 3
    delta = ((x + delta).clamp(0, 1) - x).requires_grad_(True)
    g, = torch.autograd.grad(F.cross_entropy(model(x + delta), y, reduction="sum"), delta)
    delta = (delta.detach() + 1.25 * eps * g.sign()).clamp(-eps, eps)
    assert torch.allclose(ours, (x + delta).clamp(0, 1), atol=1e-6)


def test_training_resumes_to_the_uninterrupted_run(small, tmp_path):
    train, val = small
    whole = fit(_net(), train, val, _cfg(out_dir=str(tmp_path / "a")), loss_fn=PGDTraining(0.1, steps=2))

    def stop_after_two(record):
        if record["epoch"] == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fit(_net(), train, val, _cfg(out_dir=str(tmp_path / "b")), loss_fn=PGDTraining(0.1, steps=2),
            on_epoch_end=stop_after_two)
    resumed = fit(_net(seed=9), train, val, _cfg(out_dir=str(tmp_path / "b"), resume=True),
                  loss_fn=PGDTraining(0.1, steps=2))
    assert [h["train_loss"] for h in resumed.history] == [h["train_loss"] for h in whole.history]
    for k, v in whole.model.state_dict().items():
        assert torch.equal(v, resumed.model.state_dict()[k]), k
    assert all(h["train_passes"] == 3.0 for h in whole.history)    # 2 attack steps + the training step
    again = fit(_net(), train, val, _cfg(), loss_fn=PGDTraining(0.1, steps=2))
    assert [h["train_loss"] for h in again.history] == [h["train_loss"] for h in whole.history]   # same seed


def test_adversarial_training_trades_clean_for_robust_accuracy(wm16):
    train, test = wm16["train"], wm16["test"]
    eps = 0.1
    rows, models = tradeoff(lambda: SmallCNN(2, 9, width=8, batchnorm=True, head_pool=2), train, None,
                            (test[0][::2], test[1][::2]), _cfg(epochs=12), eps,
                            {"clean": None, "fast FGSM": FastFGSMTraining(eps), "PGD-AT": PGDTraining(eps, steps=3)})
    by = {r["objective"]: r for r in rows}
    for r in rows:
        print(f"\n{r['objective']:>9}: clean {r['clean_accuracy']:.3f}, robust {r['robust_accuracy']:.3f} "
              f"(eps {eps}), {r['seconds_per_epoch']:.2f} s/epoch, {r['passes_per_map']:.0f} passes/map", end="")
    assert set(models) == {"clean", "fast FGSM", "PGD-AT"}
    assert [by[k]["passes_per_map"] for k in ("clean", "fast FGSM", "PGD-AT")] == [1.0, 2.0, 4.0]
    assert by["PGD-AT"]["robust_accuracy"] > by["clean"]["robust_accuracy"] + 0.1
    assert by["fast FGSM"]["robust_accuracy"] > by["clean"]["robust_accuracy"]
    assert by["PGD-AT"]["seconds_per_epoch"] > by["clean"]["seconds_per_epoch"]
    assert by["PGD-AT"]["passes_per_epoch"] == 4.0 * len(train[1])


def test_bad_options():
    with pytest.raises(UsageError, match="steps"):
        PGDTraining(0.1, steps=0)
    with pytest.raises(UsageError, match="eps"):
        FastFGSMTraining(-1.0)
    with pytest.raises(UsageError, match="objectives"):
        tradeoff(_net, None, None, (torch.zeros(1), torch.zeros(1)), _cfg(), 0.1, {})
