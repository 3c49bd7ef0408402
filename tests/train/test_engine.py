"""deepfab.train.fit/evaluate/predict on the CPU: determinism, best weights, early stopping, files, resume checks."""
import json
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import TensorDataset

from deepfab.errors import DataError, ModelError, UsageError
from deepfab.train import TrainConfig, evaluate, fit, predict
from deepfab.train.checkpoint import rng_state, set_rng_state
from deepfab.train.data import epoch_batches, sample_order

torch.set_num_threads(1)


def images(n=240, seed=0):
    """Three classes of 2x8x8 'maps' (blob at a class-specific place), imbalanced 6:3:1."""
    rng = np.random.default_rng(seed)
    y = rng.choice(3, size=n, p=[0.6, 0.3, 0.1])
    X = rng.normal(scale=0.7, size=(n, 2, 8, 8)).astype(np.float32)
    for i, c in enumerate(y):
        X[i, 1, 2 * c:2 * c + 3, 2:6] += 1.5
    return X, y


def net(seed=0, width=8):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Conv2d(2, width, 3, padding=1), torch.nn.ReLU(), torch.nn.Dropout(0.1),
                               torch.nn.Flatten(), torch.nn.Linear(width * 64, 3))


def flip(x, g):
    """Random horizontal flips drawn from the engine's generator."""
    m = torch.rand(x.shape[0], generator=g, device=x.device) < 0.5
    return torch.where(m[:, None, None, None], x.flip(-1), x)


@pytest.fixture(scope="module")
def data():
    X, y = images()
    return (X[:180], y[:180]), (X[180:], y[180:])


def cfg(**kw):
    base = dict(epochs=3, batch_size=32, lr=3e-3, progress=False, seed=1)
    return TrainConfig(**{**base, **kw})


HEAVY = dict(mixup_alpha=0.2, cutmix_alpha=1.0, sampler="balanced", loss="focal", class_weights="balanced",
             label_smoothing=0.05, grad_clip=1.0, scheduler="onecycle")


def test_bf16_autocast_on_the_cpu_is_deterministic_and_close_to_fp32(data):
    from deepfab.train.optim import amp_dtype

    cpu = torch.device("cpu")
    assert amp_dtype("bf16", cpu) is torch.bfloat16
    assert amp_dtype("auto", cpu) is None and amp_dtype("fp16", cpu) is None and amp_dtype("off", cpu) is None
    train, val = data
    runs = [fit(net(), train, val, cfg(amp="bf16")) for _ in range(2)]
    full = fit(net(), train, val, cfg(amp="off"))
    assert runs[0].history == runs[1].history
    w = [r.model.state_dict()["0.weight"] for r in (*runs, full)]
    assert torch.equal(w[0], w[1])
    assert not torch.equal(w[0], w[2])                  # bf16 arithmetic did run ...
    assert (w[0] - w[2]).abs().max() < 0.05             # ... and three epochs end close to full precision
    assert abs(runs[0].history[-1]["train_loss"] - full.history[-1]["train_loss"]) < 0.05


@pytest.mark.parametrize("native", [False, True, None])
def test_bf16_on_a_cpu_without_bf16_instructions_says_it_is_emulated(data, monkeypatch, capsys, native):
    import deepfab.train.engine as engine

    monkeypatch.setattr(engine, "cpu_has_bf16", lambda: native)
    train, val = data
    fit(net(), train, val, cfg(amp="bf16", epochs=1))
    err = capsys.readouterr().err
    assert ("no bfloat16 instructions" in err) == (native is False), err
    fit(net(), train, val, cfg(amp="off", epochs=1))
    assert "bfloat16" not in capsys.readouterr().err


def test_channels_last_trains_in_nhwc_and_hands_back_an_ordinary_model(data, tmp_path):
    train, val = data
    seen = []

    def record(module, args):
        if module.training:
            seen.append((args[0].is_contiguous(memory_format=torch.channels_last),
                         module.weight.is_contiguous(memory_format=torch.channels_last)))

    def plain():                                            # no dropout: its masks fall on other elements in NHWC
        torch.manual_seed(0)
        return torch.nn.Sequential(torch.nn.Conv2d(2, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.Flatten(),
                                   torch.nn.Linear(8 * 64, 3))

    runs = []
    for out in (tmp_path / "a", tmp_path / "b"):
        model = plain()
        model[0].register_forward_pre_hook(record)
        runs.append(fit(model, train, val, cfg(channels_last=True, out_dir=out)))
    assert seen and all(x and w for x, w in seen)          # every training batch and the conv weight in NHWC
    full = fit(plain(), train, val, cfg())
    w = [r.model.state_dict()["0.weight"] for r in (*runs, full)]
    assert all(t.is_contiguous() for t in w)                # the model comes back in the ordinary order
    assert torch.equal(w[0], w[1]) and runs[0].history == runs[1].history   # deterministic
    assert (w[0] - w[2]).abs().max() < 1e-3                 # the same training, up to rounding
    assert abs(runs[0].history[-1]["val_macro_f1"] - full.history[-1]["val_macro_f1"]) < 0.05
    ck = torch.load(tmp_path / "a" / "checkpoint.pt", weights_only=True)
    assert ck["model"]["0.weight"].is_contiguous() and torch.equal(ck["model"]["0.weight"], w[0])
    again = fit(plain(), train, val, cfg(out_dir=tmp_path / "a", resume=True))  # resumable without the flag
    assert again.history == runs[0].history


def test_every_architecture_of_the_zoo_trains_in_channels_last():
    """Nothing in the model zoo needs the ordinary memory order (a ``view`` of an activation would)."""
    from deepfab.models import MODELS, build_model

    for arch in MODELS:
        torch.manual_seed(0)
        x, y = torch.rand(16, 2, 32, 32), torch.randint(0, 9, (16,))
        r = fit(build_model(arch, in_channels=2, num_classes=9), (x, y), None,
                cfg(epochs=1, batch_size=8, channels_last=True))
        assert np.isfinite(r.history[-1]["train_loss"]), arch
        assert all(p.is_contiguous() for p in r.model.parameters()), arch


def test_channels_last_gradients_match_float64():
    """One backward pass of the wafer ResNet in each memory order against the same pass in float64."""
    from deepfab.models import ResNet

    torch.manual_seed(0)
    x, y = torch.randn(16, 3, 16, 16), torch.randint(0, 9, (16,))
    ref = ResNet(in_channels=3, num_classes=9, width=8)
    nets = {"float64": ref.double(), "ordinary": ResNet(in_channels=3, num_classes=9, width=8),
            "channels_last": ResNet(in_channels=3, num_classes=9, width=8).to(memory_format=torch.channels_last)}
    for name in ("ordinary", "channels_last"):
        nets[name].load_state_dict(ref.state_dict())
    for name, m in nets.items():
        xx = x.double() if name == "float64" else x
        if name == "channels_last":
            xx = xx.contiguous(memory_format=torch.channels_last)
        F.cross_entropy(m(xx), y).backward()
    g64 = {k: p.grad for k, p in nets["float64"].named_parameters()}
    for name in ("ordinary", "channels_last"):
        err = max(((p.grad.double() - g64[k]).norm() / g64[k].norm()).item() for k, p in nets[name].named_parameters())
        assert err < 5e-3, (name, err)


def test_cpu_has_bf16_reads_the_cpu_flags():
    from deepfab.device import cpu_has_bf16

    flags = set()
    try:
        with open("/proc/cpuinfo") as f:
            flags = {w for line in f if line.startswith("flags") for w in line.split()}
    except OSError:
        pytest.skip("no /proc/cpuinfo to compare with")
    if not flags:
        pytest.skip("/proc/cpuinfo lists no flags")
    assert cpu_has_bf16() == bool(flags & {"avx512_bf16", "amx_bf16", "amx_tile"})


def test_same_seed_same_history_and_weights(data):
    train, val = data
    runs = [fit(net(), train, val, cfg(**HEAVY), augment=flip) for _ in range(2)]
    assert runs[0].history == runs[1].history
    for a, b in zip(runs[0].model.state_dict().values(), runs[1].model.state_dict().values()):
        assert torch.equal(a, b)
    other = fit(net(), train, val, cfg(**{**HEAVY, "seed": 2}), augment=flip)
    assert other.history != runs[0].history
    assert not torch.are_deterministic_algorithms_enabled()   # the caller's setting is restored


def test_learns_and_returns_best_validation_weights(data, tmp_path):
    train, val = data
    r = fit(net(), train, val, cfg(epochs=6, lr=1e-2, out_dir=tmp_path), label_names=["none", "ring", "edge"])
    scores = [h["val_macro_f1"] for h in r.history]
    assert r.best_epoch == int(np.argmax(scores)) + 1
    assert r.best_metrics["macro_f1"] == max(scores) > 0.8
    m = evaluate(r.model, val, label_names=["none", "ring", "edge"])
    assert m["macro_f1"] == r.best_metrics["macro_f1"] and m["loss"] == pytest.approx(r.best_metrics["loss"])
    best = torch.load(tmp_path / "best.pt", weights_only=True)
    for k, v in r.model.state_dict().items():
        assert torch.equal(best[k], v)
    assert set(m["per_class_recall"]) == {"none", "ring", "edge"}


def test_early_stopping_stops_after_patience(data):
    train, val = data
    # a learning rate too small to change any prediction: the monitor never improves after epoch 1
    r = fit(net(), train, val, cfg(epochs=10, lr=1e-12, scheduler=None, early_stopping_patience=2))
    assert r.stopped_early and r.epochs_run == 3 and len(r.history) == 3 and r.best_epoch == 1


def test_files_written_and_loadable_with_weights_only(data, tmp_path):
    train, val = data
    c = cfg(out_dir=tmp_path, class_weights=[1.0, 2.0, 4.0])
    r = fit(net(), train, val, c)
    ck = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    for key in ("model", "optimizer", "scheduler", "scaler", "epoch", "history", "best", "bad_epochs", "rng", "config"):
        assert key in ck
    assert set(ck["rng"]) >= {"python", "numpy", "torch", "gens"}
    assert set(ck["rng"]["gens"]) == {"order", "mix", "augment"}
    assert ck["finished"] and ck["epoch"] == 3
    assert json.loads((tmp_path / "config.json").read_text()) == json.loads(json.dumps(c.to_dict()))
    saved = json.loads((tmp_path / "history.json").read_text())
    assert saved["history"] == r.history and saved["best_epoch"] == r.best_epoch
    assert not list(tmp_path.glob(".*.tmp"))                  # no temp files left behind


def test_resume_of_finished_run_returns_without_training(data, tmp_path, capsys):
    train, val = data
    r1 = fit(net(), train, val, cfg(out_dir=tmp_path))
    capsys.readouterr()
    r2 = fit(net(seed=5), train, val, cfg(out_dir=tmp_path, resume=True))
    out = capsys.readouterr().out
    assert "resumed" in out and not re.search(r"^epoch ", out, re.M)
    assert r2.history == r1.history and r2.best_epoch == r1.best_epoch and r2.train_seconds == r1.train_seconds
    for a, b in zip(r1.model.state_dict().values(), r2.model.state_dict().values()):
        assert torch.equal(a, b)


def test_resume_with_a_mismatch_raises_clearly(data, tmp_path):
    train, val = data
    fit(net(), train, val, cfg(epochs=1, out_dir=tmp_path))
    with pytest.raises(ValueError, match=r"config differs \(lr: checkpoint 0.003 vs now 0.01\)"):
        fit(net(), train, val, cfg(epochs=1, lr=1e-2, out_dir=tmp_path, resume=True))
    with pytest.raises(ValueError, match="cannot load .*model does not match"):
        fit(net(width=4), train, val, cfg(epochs=1, out_dir=tmp_path, resume=True))
    with pytest.raises(ValueError, match="180 samples, train_data has 100"):
        fit(net(), (train[0][:100], train[1][:100]), val, cfg(epochs=1, out_dir=tmp_path, resume=True))
    (tmp_path / "checkpoint.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="not a readable deepfab checkpoint"):
        fit(net(), train, val, cfg(epochs=1, out_dir=tmp_path, resume=True))


def test_resume_without_checkpoint_starts_fresh_and_equals_plain_run(data, tmp_path):
    train, val = data
    a = fit(net(), train, val, cfg(out_dir=tmp_path / "a", resume=True))
    b = fit(net(), train, val, cfg())
    assert a.history == b.history


def test_dataset_input_gives_the_same_run_as_arrays(data):
    train, val = data
    as_ds = lambda d: TensorDataset(torch.as_tensor(d[0]), torch.as_tensor(d[1]))
    a = fit(net(), train, val, cfg(sampler="balanced", class_weights="balanced"))
    b = fit(net(), as_ds(train), as_ds(val), cfg(sampler="balanced", class_weights="balanced"))
    assert a.history == b.history


def test_epoch_line_has_fixed_columns(data, capsys):
    train, val = data
    fit(net(), train, val, cfg(epochs=2))
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("epoch ")]
    num = r"\d+\.\d{4}"
    pat = (rf"^epoch \d+/2: train_loss {num}, train_acc {num}, val_loss {num}, val_acc {num}, "
           rf"val_macro_f1 {num}, lr \d\.\de[+-]\d\d, \d+\.\ds$")
    assert len(lines) == 2 and all(re.match(pat, line) for line in lines), lines


def test_augment_is_applied_to_training_batches(data):
    train, val = data
    seen = []

    def blank(x, g):
        seen.append(isinstance(g, torch.Generator))
        return torch.zeros_like(x)                     # the network never sees a feature

    r = fit(net(), train, val, cfg(epochs=2, lr=1e-2), augment=blank)
    assert seen and all(seen) and len(seen) == 2 * 6   # 180 samples / 32 per batch = 6 steps per epoch
    assert r.best_metrics["macro_f1"] < 0.5              # blind: no better than a constant guess


def test_evaluate_and_predict_agree_with_plain_torch(data):
    train, val = data
    model = net()
    X, y = torch.as_tensor(val[0]), torch.as_tensor(val[1])
    model.eval()
    with torch.no_grad():
        logits = model(X)
    m = evaluate(model, val, batch_size=7)
    assert m["loss"] == pytest.approx(F.cross_entropy(logits, y).item(), rel=1e-5)
    assert m["accuracy"] == pytest.approx((logits.argmax(1) == y).float().mean().item())
    p = predict(model, X, batch_size=7)
    assert p.shape == (60, 3) and p.dtype == np.float32
    np.testing.assert_allclose(p, torch.softmax(logits, 1).numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(predict(model, TensorDataset(X, y)), p, rtol=1e-6)


@pytest.mark.parametrize("args, match", [
    (dict(train_data=(np.zeros((5, 2, 8, 8)), np.zeros(4))), "X .* and y"),
    (dict(train_data=(np.zeros((5, 2, 8, 8), np.float32), np.full(5, 7))), "< n_classes=3"),
    (dict(train_data="wafers.npz"), "pair \\(X, y\\)"),
    (dict(config=TrainConfig(early_stopping_patience=2, progress=False)), "needs val_data"),
    (dict(config={"epochs": 2}), "must be a TrainConfig"),
    (dict(augment=3), "augment must be callable"),
])
def test_fit_bad_input_raises_clear_errors(data, args, match):
    kw = dict(train_data=data[0], config=cfg(epochs=1))
    kw.update(args)
    with pytest.raises(ValueError, match=match):
        fit(net(), **kw)


@pytest.mark.parametrize("args, kind", [
    (dict(train_data=(np.zeros((5, 2, 8, 8)), np.zeros(4))), DataError),
    (dict(train_data=(np.zeros((5, 2, 8, 8), np.float32), np.full(5, 7))), DataError),
    (dict(config={"epochs": 2}), UsageError),
    (dict(augment=3), UsageError),
    (dict(model=torch.nn.Identity()), ModelError),    # outputs (B, 2, 8, 8), not (B, n_classes) logits
])
def test_fit_bad_input_raises_the_right_kind_of_deepfab_error(data, args, kind):
    kw = dict(model=net(), train_data=data[0], config=cfg(epochs=1))
    kw.update(args)
    with pytest.raises(kind):
        fit(**kw)


def test_balanced_sampler_order_is_balanced_and_seeded():
    labels = np.array([0] * 900 + [1] * 90 + [2] * 10)
    order = sample_order(1000, torch.Generator().manual_seed(0), labels)
    counts = np.bincount(labels[order.numpy()], minlength=3)
    assert counts.min() > 250                          # about 333 each instead of 900/90/10
    assert torch.equal(order, sample_order(1000, torch.Generator().manual_seed(0), labels))


@pytest.mark.parametrize("world", [2, 3])
def test_shards_of_each_global_batch_cover_it_in_order(world):
    order = torch.randperm(103, generator=torch.Generator().manual_seed(0))
    single = epoch_batches(order, 20)
    per_rank = [epoch_batches(order, 20, r, world) for r in range(world)]
    assert all(len(p) == len(single) for p in per_rank)
    for step, glob in enumerate(single):
        assert torch.equal(torch.cat([p[step] for p in per_rank]), glob)


def test_rng_state_round_trip_restores_every_stream():
    import random

    gens = {"order": torch.Generator().manual_seed(3), "mix": np.random.default_rng(4)}
    state = rng_state(gens)
    draw = lambda: (random.random(), np.random.rand(), torch.rand(1).item(),
                    torch.rand(1, generator=gens["order"]).item(), gens["mix"].random())
    first = draw()
    set_rng_state(state, gens)
    assert draw() == first


def test_restore_best_false_keeps_the_last_epoch_and_load_weights_reads_files(data, tmp_path):
    from deepfab.train import load_weights

    train, val = data
    last = fit(net(), train, val, cfg(epochs=4, lr=3e-2, out_dir=tmp_path, restore_best=False))
    ck = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    for k, v in last.model.state_dict().items():
        assert torch.equal(ck["model"][k], v)
    best = load_weights(net(seed=9), tmp_path / "best.pt")
    assert evaluate(best, val)["macro_f1"] == last.best_metrics["macro_f1"]
    again = fit(net(seed=9), train, val, cfg(epochs=4, lr=3e-2, out_dir=tmp_path, restore_best=False, resume=True))
    for k, v in last.model.state_dict().items():
        assert torch.equal(again.model.state_dict()[k], v)
    with pytest.raises(ValueError, match="cannot load .*best.pt.*not in checkpoint"):
        load_weights(torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Linear(2, 2), torch.nn.Linear(2, 2)),
                     tmp_path / "best.pt")


def test_progress_bar_choice_and_step_lines(data, capsys, monkeypatch):
    import sys

    from deepfab.train.progress import progress_enabled

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    assert progress_enabled(True, is_main=True)
    assert not progress_enabled(False, is_main=True) and not progress_enabled(True, is_main=False)
    monkeypatch.setenv("DEEPFAB_PROGRESS", "0")
    assert not progress_enabled(True, is_main=True)
    fit(net(), data[0], None, cfg(epochs=1, log_every=2))
    out = capsys.readouterr().out
    assert re.findall(r"^step (\d+): loss \d+\.\d{4}, lr \S+$", out, re.M) == ["2", "4", "6"]
    assert re.search(r"^epoch 1/1: train_loss \d\.\d{4}, train_acc \d\.\d{4}, lr \S+, \S+s$", out, re.M)


@pytest.mark.parametrize("optimizer, scheduler", [("adamw", "cosine"), ("sgd", "step"), ("adam", "onecycle")])
def test_fit_equals_a_plain_torch_loop(data, optimizer, scheduler):
    """Oracle: the same order, loss, optimiser and schedule written out in plain torch."""
    (X, y), _ = data
    c = cfg(epochs=3, lr=1e-2, optimizer=optimizer, scheduler=scheduler, weight_decay=1e-3)
    ours = fit(net(), (X, y), None, c)

    model = net()
    X, y = torch.as_tensor(X), torch.as_tensor(y)
    params = list(model.parameters())
    opt = {"adamw": lambda: torch.optim.AdamW(params, lr=1e-2, weight_decay=1e-3),
           "adam": lambda: torch.optim.Adam(params, lr=1e-2, weight_decay=1e-3),
           "sgd": lambda: torch.optim.SGD(params, lr=1e-2, momentum=0.9, nesterov=True, weight_decay=1e-3)}[optimizer]()
    steps = 3 * 6
    sched = {"cosine": lambda: torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps),
             "onecycle": lambda: torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=1e-2, total_steps=steps),
             "step": lambda: torch.optim.lr_scheduler.StepLR(opt, step_size=6, gamma=0.1)}[scheduler]()
    g = torch.Generator().manual_seed(c.seed)
    losses = []
    for _ in range(3):
        model.train()
        total = 0.0
        for idx in torch.randperm(len(y), generator=g).split(32):
            loss = F.cross_entropy(model(X[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        losses.append(total / len(y))
    np.testing.assert_allclose([h["train_loss"] for h in ours.history], losses, rtol=1e-5)
    for k, v in model.state_dict().items():
        torch.testing.assert_close(ours.model.state_dict()[k], v, rtol=1e-4, atol=1e-5)
