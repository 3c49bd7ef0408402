"""Generative models of fab data: variational autoencoders (lecture 6) and generative adversarial
networks (lecture 7), their objectives, training and evaluation, and what they are good for
(lecture 8: augmentation of rare classes and of new products).

    from deepfab.generative import ElboLoss, anomaly_scores, wafer_cells
    from deepfab.models import WaferVAE
    vae = WaferVAE(latent=16)
    fit(vae, (x, wafer_cells(x)), (xv, wafer_cells(xv)), TrainConfig(epochs=15), loss_fn=ElboLoss())
    s = anomaly_scores(vae, x, wafer_cells(x), k=16)                         # -L_16 in nats per map

    res = train_gan(DCGANGenerator(num_classes=9), DCGANDiscriminator(num_classes=9, spectral_norm=True),
                    X, GANConfig(loss="ns", epochs=40), labels=y)
    maps = sample_wafer_maps(res.generator, 100, label=names.index("Donut"), seed=0)   # wafer maps 0/1/2

Modules: ``vae`` (ELBO, IWAE bound, gradient estimators, anomaly scores, a PCA baseline),
``vae_train`` (the ELBO as an engine ``Loss``, the beta sweep), ``vae_plots``; ``gan_losses`` (the
objectives, the gradient penalty, the saturation experiment), ``gan`` (the training loop, checkpoints),
``gan_sampling`` (sampling and decoding to wafer maps), ``gan_metrics``
(Frechet distance, precision and recall, mode counting, class consistency), ``gan_plots``;
``augmentation`` (oversampling, GAN and VAE samplers for rare classes, the runs over seeds and their
paired differences: lecture 8).
"""
from .augmentation import (
    GANSampler,
    Oversampler,
    VAESampler,
    run_augmented,
    sample_counts,
    symmetry,
    top_up_counts,
    vae_samples,
    with_extra,
)
from .gan import GANConfig, GANResult, dihedral_augment, ema_update, load_generator, train_gan
from .gan_losses import (
    critic_loss,
    d_loss,
    d_loss_hinge,
    g_loss_minimax,
    g_loss_ns,
    g_loss_wgan,
    gradient_penalty,
    mode_seeking_loss,
    saturation,
)
from .gan_metrics import class_consistency, frechet_distance, precision_recall, ring_modes, sample_ring
from .gan_sampling import sample, sample_wafer_maps, to_wafer_maps, wafer_channels
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

__all__ = ["GANSampler", "Oversampler", "VAESampler",
           "run_augmented", "sample_counts", "symmetry", "top_up_counts", "vae_samples", "with_extra",
           "GANConfig", "GANResult", "critic_loss", "d_loss", "d_loss_hinge", "dihedral_augment", "ema_update",
           "mode_seeking_loss", "g_loss_minimax", "g_loss_ns", "g_loss_wgan",
           "gradient_penalty", "load_generator", "sample", "sample_wafer_maps", "saturation", "to_wafer_maps",
           "train_gan", "wafer_channels", "class_consistency", "frechet_distance", "precision_recall", "ring_modes",
           "sample_ring", "ElboLoss", "PCAReconstruction", "active_units", "anomaly_scores", "beta_sweep",
           "categorical_log_lik",
           "cells_to_encoded", "decode_mean", "elbo", "elbo_gradient_samples", "error_rate", "estimator_summary",
           "gaussian_kl", "gaussian_log_lik", "interpolate", "iwae_bound", "kl_per_dim", "log_weights",
           "nearest_neighbour_labels", "posterior_stats", "train_threshold", "traverse", "wafer_cells"]
