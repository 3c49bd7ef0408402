"""The autoencoder monitor (``deepfab.aiops.autoencoder``): its errors against a numpy forward pass of its own
weights, the limit from held-out normal runs, its false-alarm rate on Gaussian runs, detection of shifted runs,
seeding, bad input, and the LAM case study in smoke mode.

Run: .venv/bin/python -m pytest tests/aiops/test_autoencoder.py -q -p no:cacheprovider
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from deepfab.aiops.autoencoder import AEMonitor, RunAutoencoder, lam_case_study, train_autoencoder
from deepfab.aiops.fdc import PCAMonitor, chi2_limit
from deepfab.errors import DataError, UsageError


def _normal(n, rng, W):
    return rng.normal(size=(n, W.shape[0])) @ W + 0.3 * rng.normal(size=(n, W.shape[1]))


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(0)
    W = rng.normal(size=(3, 12))
    X = _normal(150, rng, W)
    return AEMonitor(code=3, steps=300, alpha=0.02, seed=0).fit(X), W, X


def test_errors_match_a_numpy_forward_pass(fitted):
    mon, W, _ = fitted
    X = _normal(7, np.random.default_rng(1), W)
    Z = (X - mon.mean_) / mon.scale_
    p = {k: v.double().numpy() for k, v in mon.net_.state_dict().items()}
    h = np.tanh(Z @ p["encoder.0.weight"].T + p["encoder.0.bias"]) @ p["encoder.2.weight"].T + p["encoder.2.bias"]
    out = np.tanh(h @ p["decoder.0.weight"].T + p["decoder.0.bias"]) @ p["decoder.2.weight"].T + p["decoder.2.bias"]
    np.testing.assert_allclose(mon.errors(X), ((out - Z) ** 2).sum(1), rtol=1e-4)
    np.testing.assert_allclose(mon.contributions(X).sum(1), mon.errors(X), rtol=1e-10)
    np.testing.assert_allclose(mon.sensor_contributions(X, 4).sum(1) * mon.error_limit_, mon.errors(X), rtol=1e-10)


def test_limit_is_set_on_held_out_runs_and_holds_its_false_alarm_rate(fitted):
    mon, W, X = fitted
    assert mon.error_limit_ == pytest.approx(chi2_limit(mon.held_out_errors_, 0.02))
    assert np.median(mon.held_out_errors_) > np.median(mon.errors(X))      # runs it saw reconstruct better
    fresh = _normal(4000, np.random.default_rng(2), W)
    assert 0.002 < mon.flags(fresh).mean() < 0.06                           # alpha 0.02, set on 150 runs


def test_training_learns_the_structure_and_detects_shifted_runs(fitted):
    mon, W, X = fitted
    Z = (X - mon.mean_) / mon.scale_
    with torch.no_grad():
        untrained = ((RunAutoencoder(12, 32, 3)(torch.as_tensor(Z, dtype=torch.float32)).numpy() - Z) ** 2).sum(1)
    assert mon.errors(X).mean() < 0.3 * untrained.mean()
    pca = PCAMonitor(n_components=3, limits="theory").fit(X)                # a 3-wide code can reach PCA's SPE
    assert mon.errors(X).mean() < 1.5 * pca.statistics(X)[1].mean()
    shifted = _normal(50, np.random.default_rng(3), W)
    shifted[:, 5] += 3.0                                                     # one feature off the structure
    assert mon.flags(shifted).mean() > 0.9
    assert (mon.contributions(shifted).argmax(1) == 5).mean() > 0.9


def test_same_seed_same_numbers():
    X = _normal(40, np.random.default_rng(4), np.random.default_rng(5).normal(size=(2, 6)))
    a, b = (AEMonitor(steps=50, seed=7).fit(X) for _ in range(2))
    assert a.error_limit_ == b.error_limit_ and np.array_equal(a.errors(X), b.errors(X))
    net1, net2 = train_autoencoder(X, steps=20, seed=1), train_autoencoder(X, steps=20, seed=2)
    assert not torch.equal(net1.encoder[0].weight, net2.encoder[0].weight)


def test_bad_input_is_one_clear_error():
    X = np.random.default_rng(6).normal(size=(30, 5))
    with pytest.raises(DataError, match="at least 10 runs"):
        AEMonitor().fit(X[:6])
    with pytest.raises(UsageError, match="steps"):
        AEMonitor(steps=0).fit(X)
    with pytest.raises(UsageError, match="alpha"):
        AEMonitor(alpha=0).fit(X)
    with pytest.raises(UsageError, match="not fitted"):
        AEMonitor().errors(X)
    with pytest.raises(DataError, match="5 features"):
        AEMonitor(steps=10).fit(X).errors(X[:, :3])


def test_lam_case_study_smoke_and_its_figures(tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from deepfab.aiops.fdc_plots import contribution_figure, control_chart_figure, detection_figure

    r = lam_case_study(smoke=True)
    assert set(r["methods"]) == {"PCA, theory limits", "PCA", "autoencoder"}
    assert len(r["per_fault"]) == 21 and r["dropped"] == ["l3125.txm"] and r["features"] == 95
    for m in r["methods"].values():
        assert m["normal_runs"] == 107 and 0 <= m["detected_mean"] <= 21 and 0 <= m["false_alarm_rate"] <= 1
    # the theoretical limits alarm on most held-out normal runs (85 runs, 95 features); the cross-validated do not
    assert r["methods"]["PCA, theory limits"]["false_alarm_rate"] > 0.5 > r["methods"]["PCA"]["false_alarm_rate"]
    assert r["contributions"].shape == (21, 19)
    for name, fig in [("chart", control_chart_figure(r)), ("detect", detection_figure(r)),
                      ("contrib", contribution_figure(r, ["TCP +50", "He Chuck"]))]:
        fig.savefig(tmp_path / f"{name}.png")
        plt.close(fig)
        assert (tmp_path / f"{name}.png").stat().st_size > 5000
    with pytest.raises(UsageError, match="unknown fault"):
        contribution_figure(r, ["TCP +51"])
