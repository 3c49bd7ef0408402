"""Training a VAE with the course engine: the (beta-)ELBO as a ``deepfab.train`` ``Loss``, and a beta sweep.

Introduced in lecture 6 (VAE). A VAE's forward pass returns the posterior parameters
[mu | logvar] (N, 2d) (``deepfab.models.vae``); ``ElboLoss`` draws z = mu + s * eps, decodes it
and returns the negative beta-ELBO, so ``fit`` keeps its seeded batches, checkpoints, resume,
early stopping and logs. The noise eps comes from a generator seeded per batch from the engine's
checkpointed numpy generator, so the same seed gives the same run and a resumed run ends where the
uninterrupted one ends. Targets are what the likelihood scores: cells (N, S, S) for wafer maps
(``wafer_cells``), the traces themselves for a Gaussian model. Validation reports ``loss`` (the
negative ELBO per sample, one draw of a fixed generator), ``recon`` (-log p(x|z)) and ``kl``, in nats.

    from deepfab.generative.vae_train import ElboLoss, beta_sweep
    cfg = TrainConfig(epochs=10, lr=2e-3, monitor="val_loss", progress=False)
    res = fit(WaferVAE(), (X, wafer_cells(X)), (Xv, wafer_cells(Xv)), cfg, loss_fn=ElboLoss(beta=1.0))
    rows, models = beta_sweep(lambda: WaferVAE(latent=16), train, val, cfg, betas=(0.5, 1, 4))

beta > 1 weighs the KL term more (Higgins et al. 2017): less information passes through z, the
reconstructions blur, and the latent dimensions that stay in use tend to carry separate factors;
beta < 1 the reverse. ``beta_sweep`` measures the trade-off: reconstruction and KL per beta.

References: D. P. Kingma, M. Welling, ICLR 2014; I. Higgins et al., "beta-VAE: Learning Basic Visual
Concepts with a Constrained Variational Framework", ICLR 2017; C. P. Burgess et al., "Understanding
disentangling in beta-VAE", arXiv:1804.03599, 2018.
"""
from __future__ import annotations

from dataclasses import replace

import torch

from ..errors import ModelError, UsageError
from ..models import eval_mode
from ..train import TrainConfig, fit
from ..train.objective import Loss
from .vae import active_units, gaussian_kl, log_likelihood, posterior_stats


class ElboLoss(Loss):
    """The negative beta-ELBO of a VAE (single-sample reconstruction term, closed-form KL)."""

    dense = True

    def __init__(self, beta: float = 1.0, val_seed: int = 0):
        if isinstance(beta, bool) or not isinstance(beta, (int, float)) or not beta >= 0:
            raise UsageError(f"beta must be a number >= 0; got {beta!r}")
        self.beta, self.val_seed = float(beta), int(val_seed)
        self.model, self.gen = None, None

    def start(self, model, train, device):
        if not all(hasattr(model, a) for a in ("encode", "decode", "likelihood")):
            raise ModelError(f"ElboLoss trains a VAE (encode, decode, likelihood); got {type(model).__name__}")
        self.model, self.device = model, device
        return None

    def targets(self, x, y, rng):
        self.gen = torch.Generator().manual_seed(int(rng.integers(2**62)))   # this batch's noise
        return x, y

    def _terms(self, post, targets, gen):
        mu, logvar = post.float().chunk(2, dim=1)                               # (B, d) each
        eps = torch.randn(mu.shape, generator=gen).to(mu.device)
        out = self.model.decode(mu + torch.exp(0.5 * logvar) * eps)
        return log_likelihood(self.model, out, targets), gaussian_kl(mu, logvar)   # (B,), (B,)

    def __call__(self, outputs, targets):
        if self.model is None:
            raise UsageError("ElboLoss is bound to a model by fit; call fit(..., loss_fn=ElboLoss())")
        recon, kl = self._terms(outputs, targets, self.gen)
        self._kl = kl.detach().sum()
        return -(recon - self.beta * kl).sum(), torch.tensor(float(len(kl)), device=outputs.device)

    def counts(self, outputs, y):
        return {"train_kl": self._kl}

    def metrics(self, outputs, targets):
        gen, recon, kl = torch.Generator().manual_seed(self.val_seed), [], []
        with eval_mode(self.model), torch.no_grad():
            for i in range(0, len(outputs), 512):
                r, k = self._terms(outputs[i:i + 512].to(self.device), targets[i:i + 512].to(self.device), gen)
                recon.append(r.cpu())
                kl.append(k.cpu())
        r, k = torch.cat(recon), torch.cat(kl)
        return {"loss": float((-r + self.beta * k).mean()), "recon": float(-r.mean()), "kl": float(k.mean())}


def beta_sweep(make_model, train, val, config: TrainConfig, betas=(0.5, 1.0, 4.0)) -> tuple[list[dict], dict]:
    """Train ``make_model()`` once per beta on ``train`` = (X, T), validate on ``val``: (rows, models).

    Each row: beta, validation reconstruction -log p(x|z) and KL (nats per sample, from the best
    epoch), the ELBO at beta = 1 (recon + KL), active units and training seconds. The model's
    initial weights follow ``torch.manual_seed(config.seed)`` before each build, so every beta
    starts from the same weights.
    """
    if not betas:
        raise UsageError("beta_sweep needs at least one beta")
    cfg = replace(config, monitor="val_loss")
    rows, models = [], {}
    for beta in betas:
        torch.manual_seed(cfg.seed)
        res = fit(make_model(), train, val, cfg, loss_fn=ElboLoss(beta=beta))
        m = res.best_metrics
        mu, _ = posterior_stats(res.model, val[0])
        rows.append({"beta": float(beta), "recon": m["recon"], "kl": m["kl"], "neg_elbo": m["recon"] + m["kl"],
                     "active_units": active_units(mu), "train_seconds": res.train_seconds})
        models[float(beta)] = res.model.eval()
    return rows, models
