"""The benchmark helpers: tuned classical methods per noise setting, scores against the metrics, the winner.

    .venv/bin/python -m pytest tests/restore/test_benchmark.py -q
"""
from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from deepfab.data.sem import make_sem_dataset
from deepfab.errors import UsageError
from deepfab.restore.benchmark import best_method, classical_methods, score_methods
from deepfab.restore.classical import denoise, denoise_sem, tune
from deepfab.restore.metrics import psnr, ssim
from deepfab.restore.noise import NoiseModel


@pytest.fixture(scope="module")
def pairs():
    clean = make_sem_dataset(2, "lines", size=48, seed=0)[1]
    rng = np.random.default_rng(0)
    return [(c + rng.normal(0, 0.1, c.shape).astype(np.float32), c) for c in clean]


def test_classical_methods_are_tuned_and_scored(pairs):
    methods = classical_methods("gaussian", 0.1, pairs[:1], names=("gaussian", "nlm"))
    assert methods["gaussian"].param == tune("gaussian", [pairs[0][0]], [pairs[0][1]], sigma=0.1)
    assert methods["nlm"].param is None
    y, x = pairs[1]
    assert np.array_equal(methods["gaussian"](y), denoise("gaussian", y, 0.1, methods["gaussian"].param))
    table = score_methods({"noisy": lambda y: y, **methods}, pairs)
    assert table["noisy"]["psnr"] == pytest.approx(np.mean([psnr(c, n) for n, c in pairs]))
    outs = table["nlm"]["outputs"]
    assert table["nlm"]["ssim"] == pytest.approx(np.mean([ssim(c, o) for (_, c), o in zip(pairs, outs)]))
    assert best_method(table) != "noisy" and best_method(table, among=["noisy"]) == "noisy"


def test_sem_methods_go_through_anscombe():
    nm = NoiseModel("sem", dose=10.0, read_sigma=0.02, blur=1.0)
    clean = make_sem_dataset(1, "holes", size=48, seed=1)[1][0]
    val = [nm.pair(clean, 0)]
    m = classical_methods("sem", 10.0, val, names=("gaussian",))
    y, _ = nm.pair(clean, 1)
    assert np.array_equal(m["gaussian"](y), denoise_sem("gaussian", y, 10.0, 0.02, m["gaussian"].param))
    assert psnr(ndimage.gaussian_filter(clean, 1.0), m["gaussian"](y)) > psnr(ndimage.gaussian_filter(clean, 1.0), y)
    with pytest.raises(UsageError, match="kind"):
        classical_methods("speckle", 1.0, val)
