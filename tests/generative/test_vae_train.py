"""deepfab.generative.vae_train and deepfab.models.vae: the engine's ELBO loss equals the ELBO written out with
the same noise; the same seed gives the same run; a resumed run ends where the uninterrupted one ends;
a larger beta buys a smaller KL with a worse reconstruction; the models' shapes, configs and errors;
the figure functions draw.

    .venv/bin/python -m pytest -q -p no:cacheprovider tests/generative/test_vae_train.py
"""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from deepfab.errors import DataError, ModelError, UsageError  # noqa: E402
from deepfab.generative import vae_plots  # noqa: E402
from deepfab.generative.vae import elbo, wafer_cells  # noqa: E402
from deepfab.generative.vae_train import ElboLoss, beta_sweep  # noqa: E402
from deepfab.models.vae import LinearGaussianVAE, TraceVAE, WaferVAE  # noqa: E402
from deepfab.train import TrainConfig, fit  # noqa: E402


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)                             # tiny models on a shared CPU run fastest on one thread
    yield
    torch.set_num_threads(before)


def _traces(n=64, t=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    phase = torch.rand(n, 1, generator=g) * 6.28
    x = torch.sin(torch.linspace(0, 6.28, t)[None] + phase) + 0.1 * torch.randn(n, t, generator=g)
    return x[: n // 2 + n // 4], x[n // 2 + n // 4:]


def _cfg(**kw):
    return TrainConfig(**{"epochs": 3, "batch_size": 16, "lr": 3e-3, "monitor": "val_loss", "progress": False,
                          "device": "cpu", "weight_decay": 0.0, **kw})


def test_elbo_loss_is_the_elbo_with_the_engine_noise():
    torch.manual_seed(0)
    vae = WaferVAE(size=16, latent=3, width=4)
    x = (torch.rand(5, 2, 16, 16, generator=torch.Generator().manual_seed(1)) > 0.4).float()
    x[:, 1] *= x[:, 0]
    loss = ElboLoss(beta=2.0)
    loss.start(vae, None, torch.device("cpu"))
    xb, tb = loss.targets(x, wafer_cells(x), np.random.default_rng(3))
    num, den = loss(vae(xb), tb)
    seed = int(np.random.default_rng(3).integers(2**62))
    ref = elbo(vae, x, wafer_cells(x), beta=2.0, samples=1, seed=seed)["elbo"]
    assert float(den) == 5 and torch.allclose(num, -ref.sum(), rtol=1e-5)
    m = loss.metrics(vae(x).detach(), wafer_cells(x))
    assert m["loss"] == pytest.approx(m["recon"] + 2.0 * m["kl"], rel=1e-5)


def test_same_seed_same_run_and_resume(tmp_path):
    tr, va = _traces()
    runs = []
    for _ in range(2):
        torch.manual_seed(0)
        runs.append(fit(TraceVAE(length=16, latent=2, width=4), (tr, tr), (va, va), _cfg(), loss_fn=ElboLoss()))
    assert runs[0].history == runs[1].history
    assert {"val_loss", "val_recon", "val_kl", "train_kl"} <= set(runs[0].history[-1])
    torch.manual_seed(0)
    cfg = _cfg(out_dir=str(tmp_path), resume=True)

    def stop(record):                                   # a kill after the second epoch's checkpoint
        if record["epoch"] == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fit(TraceVAE(length=16, latent=2, width=4), (tr, tr), (va, va), cfg, loss_fn=ElboLoss(), on_epoch_end=stop)
    resumed = fit(TraceVAE(length=16, latent=2, width=4), (tr, tr), (va, va), cfg, loss_fn=ElboLoss())
    assert resumed.history == runs[0].history


def test_beta_sweep_trades_kl_for_reconstruction():
    tr, va = _traces(n=96)
    rows, models = beta_sweep(lambda: TraceVAE(length=16, latent=4, width=4), (tr, tr), (va, va),
                              _cfg(epochs=4), betas=(0.1, 10.0))
    assert [r["beta"] for r in rows] == [0.1, 10.0] and set(models) == {0.1, 10.0}
    assert rows[0]["kl"] > rows[1]["kl"] and rows[0]["recon"] < rows[1]["recon"]
    with pytest.raises(UsageError):
        ElboLoss(beta=-1)


def test_models_shapes_config_and_errors():
    w = WaferVAE(size=32, latent=6, width=4)
    x = torch.zeros(2, 2, 32, 32)
    assert w(x).shape == (2, 12) and w.decode(torch.zeros(2, 6)).shape == (2, 3, 32, 32)
    assert WaferVAE(**{k: v for k, v in w.config.items() if k != "arch"}).config == w.config
    t = TraceVAE(length=152, latent=5)
    assert t(torch.zeros(3, 152)).shape == (3, 10) and t.decode(torch.zeros(3, 5)).shape == (3, 152)
    assert t(torch.zeros(3, 1, 152)).shape == (3, 10)
    with pytest.raises(DataError):
        w(torch.zeros(2, 2, 16, 16))
    with pytest.raises(DataError):
        t(torch.zeros(3, 150))
    with pytest.raises(ModelError):
        WaferVAE(size=30)
    with pytest.raises(ModelError):
        LinearGaussianVAE(x_dim=2, z_dim=3)
    with pytest.raises(ModelError):
        fit(torch.nn.Linear(4, 4), (torch.zeros(8, 4), torch.zeros(8, 4)), None, _cfg(), loss_fn=ElboLoss())


def test_linear_gaussian_posterior_is_the_true_posterior():
    m = LinearGaussianVAE(3, 2, seed=1)
    a, cov = m.posterior()
    w, s2 = m.W.detach(), float(torch.exp(2 * m.log_sigma.detach()))
    joint = torch.cat([torch.cat([torch.eye(2, dtype=w.dtype), w.T], 1),
                       torch.cat([w, w @ w.T + s2 * torch.eye(3, dtype=w.dtype)], 1)])   # Cov of (z, x)
    ref_cov = joint[:2, :2] - joint[:2, 2:] @ torch.linalg.inv(joint[2:, 2:]) @ joint[2:, :2]   # Schur complement
    assert torch.allclose(cov.detach(), ref_cov, atol=1e-12)
    assert torch.allclose(a.detach(), joint[:2, 2:] @ torch.linalg.inv(joint[2:, 2:]), atol=1e-12)
    assert torch.allclose(cov.detach(), torch.diag(torch.diagonal(cov.detach())), atol=1e-12)   # orthogonal W


def test_figures_draw():
    maps = torch.rand(4, 2, 16, 16)
    figs = [vae_plots.bound_figure([1, 10], {"IWAE": [-2.0, -1.5]}, log_px=-1.4, elbo=-2.0),
            vae_plots.variance_figure({"reparam": 1.0, "score": 100.0}),
            vae_plots.map_rows_figure({"a": maps, "b": maps[:3]}, col_titles=list("wxyz")),
            vae_plots.beta_figure([{"beta": 0.5, "kl": 30.0, "recon": 300.0},
                                   {"beta": 4.0, "kl": 5.0, "recon": 400.0}]),
            vae_plots.trace_figure(torch.randn(4, 20), torch.randn(4, 20), list("abcd")),
            vae_plots.score_histogram_figure({"normal": np.random.rand(50), "abnormal": 10 * np.random.rand(9)}, 2.0)]
    assert all(isinstance(f, Figure) for f in figs)
