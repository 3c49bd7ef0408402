"""Kill -9 a training process (between epochs and mid-epoch), resume it, and get the uninterrupted run's result.

Each run is a subprocess of the script below. The test kills it from outside with SIGKILL, first
inside epoch 3 (once that epoch's third step is logged), then, resumed, between epochs 3 and 4
(once ``history.json`` shows epoch 3), and finally lets a third start finish the run.
The model has dropout, and the run uses mixup, a balanced sampler and an augmentation, so every
random stream the checkpoint stores (torch, numpy, the engine's generators) matters.
"""
import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest
import torch

EPOCHS = 6
SCRIPT = rf'''
import sys, time
import numpy as np, torch
torch.set_num_threads(1)
from deepfab.train import TrainConfig, fit

out, slow = sys.argv[1], float(sys.argv[2])
rng = np.random.default_rng(0)
y = rng.choice(3, size=300, p=[0.6, 0.3, 0.1])
X = (rng.normal(size=(300, 12)) + np.eye(3, 12)[y] * 1.5).astype(np.float32)
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(12, 32), torch.nn.ReLU(), torch.nn.Dropout(0.3), torch.nn.Linear(32, 3))

def augment(x, g):
    time.sleep(slow)                                    # makes an epoch long enough to be killed inside
    return x + 0.05 * torch.randn(x.shape, generator=g)

cfg = TrainConfig(epochs={EPOCHS}, batch_size=20, lr=5e-3, mixup_alpha=0.3, sampler="balanced", seed=7,
                  out_dir=out, resume=True, progress=False, log_every=1)
pause = lambda record: time.sleep(20 * slow)           # a window between two epochs
fit(model, (X[:240], y[:240]), (X[240:], y[240:]), cfg, augment=augment, on_epoch_end=pause)
'''


def run(script, out, slow):
    return subprocess.Popen([sys.executable, str(script), str(out), str(slow)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"})


def epochs_done(out):
    try:
        return len(json.loads((out / "history.json").read_text())["history"])
    except (FileNotFoundError, json.JSONDecodeError):
        return 0


def final(out):
    return (json.loads((out / "history.json").read_text()),
            torch.load(out / "best.pt", weights_only=True))


@pytest.fixture(scope="module")
def script(tmp_path_factory):
    path = tmp_path_factory.mktemp("resume") / "train.py"
    path.write_text(SCRIPT)
    return path


@pytest.fixture(scope="module")
def reference(script, tmp_path_factory):
    out = tmp_path_factory.mktemp("uninterrupted")
    p = run(script, out, 0.0)
    log, _ = p.communicate(timeout=120)
    assert p.returncode == 0, log
    return final(out)


STEPS = 12                              # 240 training samples / batch 20


def steps_logged(log):
    return [int(m) for m in re.findall(r"^step (\d+):", log, re.M)]


def kill_after(script, out, epochs, mid_epoch):
    """Start (or resume) the run and SIGKILL it after `epochs` saved epochs: inside the next epoch
    (once its third step is logged) or between two epochs (during the pause after the save).
    Returns the number of epochs the checkpoint holds."""
    p = run(script, out, 0.02)          # 12 steps of 20 ms: about 0.25 s an epoch, then a 0.4 s pause
    seen = []
    if mid_epoch:
        target = f"step {epochs * STEPS + 3}:"
        for line in p.stdout:
            seen.append(line)
            if line.startswith(target):
                break
    else:
        deadline = time.time() + 90
        while epochs_done(out) < epochs and p.poll() is None and time.time() < deadline:
            time.sleep(0.005)
    os.kill(p.pid, signal.SIGKILL)
    log = "".join(seen) + p.stdout.read()
    p.wait(timeout=30)
    assert p.returncode == -signal.SIGKILL, log
    done = epochs_done(out)
    assert done == epochs, f"expected the kill after epoch {epochs}, the checkpoint holds {done}\n{log}"
    ck = torch.load(out / "checkpoint.pt", weights_only=True)
    assert not ck["finished"] and ck["epoch"] == done
    next_epoch_steps = [s for s in steps_logged(log) if s > done * STEPS]
    assert bool(next_epoch_steps) == mid_epoch, log     # killed inside, or before, the next epoch
    return done


@pytest.mark.slow
def test_killed_run_resumes_to_the_uninterrupted_result(script, reference, tmp_path):
    first = kill_after(script, tmp_path, 2, mid_epoch=True)           # killed inside epoch 3
    second = kill_after(script, tmp_path, first + 1, mid_epoch=False)  # resumed, killed between epochs 3 and 4

    p = run(script, tmp_path, 0.0)
    log, _ = p.communicate(timeout=120)
    assert p.returncode == 0, log
    assert f"resumed {tmp_path / 'checkpoint.pt'} at epoch {second}/{EPOCHS}" in log
    assert sum(line.startswith("epoch ") for line in log.splitlines()) == EPOCHS - second

    hist, best = final(tmp_path)
    ref_hist, ref_best = reference
    assert hist["history"] == ref_hist["history"]       # exact: every loss, accuracy and F1 of every epoch
    assert hist["best_epoch"] == ref_hist["best_epoch"] and hist["best_metrics"] == ref_hist["best_metrics"]
    for k in ref_best:
        assert torch.equal(best[k], ref_best[k]), k
