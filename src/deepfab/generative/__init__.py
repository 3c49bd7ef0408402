"""Generative models of fab data: variational autoencoders (lecture 6) and generative adversarial
networks (lecture 7), their objectives, training and evaluation, and what they are good for
(lecture 8: augmentation of rare classes and of new products).

    from deepfab.generative import ElboLoss, anomaly_scores, wafer_cells
    from deepfab.models import WaferVAE
    vae = WaferVAE(latent=16)
    fit(vae, (x, wafer_cells(x)), (xv, wafer_cells(xv)), TrainConfig(epochs=15), loss_fn=ElboLoss())
    s = anomaly_scores(vae, x, wafer_cells(x), k=16)                         # -L_16 in nats per map

Modules: ``vae`` (ELBO, IWAE bound, gradient estimators, anomaly scores, a PCA baseline),
``vae_train`` (the ELBO as an engine ``Loss``, the beta sweep), ``vae_plots``.
"""
from .vae import (
    PCAReconstruction,
    active_units,
    anomaly_scores,
    categorical_log_lik,
    cells_to_encoded,
    decode_mean,
    elbo,
    elbo_gradient_samples,
    error_rate,
    estimator_summary,
    gaussian_kl,
    gaussian_log_lik,
    interpolate,
    iwae_bound,
    kl_per_dim,
    log_weights,
    nearest_neighbour_labels,
    posterior_stats,
    train_threshold,
    traverse,
    wafer_cells,
)
from .vae_train import ElboLoss, beta_sweep

__all__ = ["ElboLoss", "PCAReconstruction", "active_units", "anomaly_scores", "beta_sweep", "categorical_log_lik",
           "cells_to_encoded", "decode_mean", "elbo", "elbo_gradient_samples", "error_rate", "estimator_summary",
           "gaussian_kl", "gaussian_log_lik", "interpolate", "iwae_bound", "kl_per_dim", "log_weights",
           "nearest_neighbour_labels", "posterior_stats", "train_threshold", "traverse", "wafer_cells"]
