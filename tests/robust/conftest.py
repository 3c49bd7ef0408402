"""Shared fixtures of tests/robust: tiny WM-811K classifiers trained once per session, on one CPU thread.

Training and attacks run with ``torch.set_num_threads(1)`` (restored after each test module): on a
shared two-core machine two intra-op threads can be many times slower than one.
"""
from __future__ import annotations

from contextlib import contextmanager

import pytest
import torch

from deepfab.data import prepare
from deepfab.models import SmallCNN
from deepfab.train import TrainConfig, fit


@contextmanager
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    with one_thread():
        yield


@pytest.fixture(scope="session")
def wm16():
    """WM-811K at 16 px: train = 40 maps per class of ``val`` (340), test = 30 per class of ``train_1`` (164)."""
    wm = prepare(["train_1", "val"])
    train = wm.encode("val", wm.rows("val", per_class=40, seed=0), size=16, tensors=True)
    test = wm.encode("train_1", wm.rows("train_1", per_class=30, seed=0), size=16, tensors=True)
    return {"train": train, "test": test, "names": wm.label_names, "wm": wm}


def train_small(train, seed: int, epochs: int = 15, width: int = 8) -> torch.nn.Module:
    """A batch-norm SmallCNN fitted on ``train`` with ``seed`` (the weights and the batch order)."""
    torch.manual_seed(seed)
    net = SmallCNN(train[0].shape[1], 9, width=width, batchnorm=True, head_pool=2)
    cfg = TrainConfig(epochs=epochs, batch_size=32, lr=3e-3, seed=seed, progress=False, device="cpu")
    return fit(net, train, None, cfg).model.eval()


@pytest.fixture(scope="session")
def models16(wm16):
    """The target model (seed 0) and an independently trained surrogate (seed 1, other initial weights and order)."""
    with torch.random.fork_rng(), one_thread():
        return train_small(wm16["train"], 0), train_small(wm16["train"], 1)
