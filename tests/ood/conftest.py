"""Shared pieces of the deepfab.ood tests: pytorch-ood as an oracle, a tiny trained-looking model, maps.

``import pytorch_ood`` fails here: its package ``__init__`` imports its model zoo, which needs
torchvision. The ``pood`` fixture registers an empty stand-in for the top-level package, whose
``__path__`` points at the installed one, so that ``pytorch_ood.detector`` and
``pytorch_ood.metrics`` import from their own files without that ``__init__`` ever running.
"""
from __future__ import annotations

import importlib
import importlib.util
import sys
import types

import numpy as np
import pytest
import torch

from deepfab.data.synthetic import make_dataset
from deepfab.models.small import SmallCNN


@pytest.fixture(scope="session")
def pood():
    """pytorch-ood's ``detector`` module, loaded without running the package ``__init__``."""
    if "pytorch_ood" not in sys.modules:
        spec = importlib.util.find_spec("pytorch_ood")        # finds the files, runs nothing
        if spec is None:
            pytest.skip("pytorch-ood is not installed")
        stub = types.ModuleType("pytorch_ood")
        stub.__path__ = list(spec.submodule_search_locations)
        sys.modules["pytorch_ood"] = stub
    return importlib.import_module("pytorch_ood.detector")


@pytest.fixture(scope="session")
def tiny():
    """(net, maps, labels, x): a SmallCNN with batch norm (32-d penultimate features) in eval mode,
    its BatchNorm statistics set by a few forward passes, and 90 synthetic maps of the nine classes."""
    torch.manual_seed(0)
    net = SmallCNN(2, 9, width=2, batchnorm=True, head_pool=2)
    maps, _, y = make_dataset(10, size=24, seed=0)            # (90, 24, 24)
    from deepfab.data import encode_maps

    x = torch.from_numpy(encode_maps(list(maps), 16))
    net.train()
    with torch.no_grad():
        for _ in range(3):
            net(x)
    return net.eval(), list(maps), torch.from_numpy(y), x


@pytest.fixture(scope="session")
def other_maps():
    maps, _, _ = make_dataset(3, size=24, seed=1, noise=0.3)
    return list(maps)


@pytest.fixture(scope="session")
def brute_acf():
    return _brute_acf


def _brute_acf(m: np.ndarray, dy: int, dx: int) -> float:
    """rho(dy, dx) of one map by a double loop over die pairs (no FFT)."""
    wafer, fail = m > 0, (m == 2)
    p = fail[wafer].mean()
    g = np.where(wafer, fail - p, 0.0)
    h, w = m.shape
    num = pairs = 0.0
    for y in range(h):
        for x in range(w):
            if 0 <= y + dy < h and 0 <= x + dx < w:
                num += g[y, x] * g[y + dy, x + dx]
                pairs += wafer[y, x] and wafer[y + dy, x + dx]
    return num / max(pairs, 1) / (p * (1 - p))
