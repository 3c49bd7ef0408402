"""deepfab.restore: denoising and super-resolution of SEM-like images (lectures 10 and 11, ``deepfab sem``).

    from deepfab.models.restore import DnCNN, SRCNN, ESPCN
    from deepfab.restore import NoiseModel, training_images, train_denoiser, denoise, psnr, ssim, apply_tiled
    res = train_denoiser(DnCNN(depth=10, features=32), training_images(), NoiseModel(sigma=(0, 55 / 255)))
    x_hat = apply_tiled(res.model, noisy, tile=256, overlap=32)
    psnr(clean, x_hat), psnr(clean, denoise("bm3d", noisy, sigma=25 / 255))

Files: ``noise`` (Gaussian and Poisson-Gaussian noise models, blind ranges, training images and
patches), ``metrics`` (PSNR, SSIM), ``classical`` (Gaussian, median, TV, NLM, BM3D, the Anscombe
transform, bicubic), ``train`` (denoiser and super-resolver training on the engine), ``tiles``
(large images in blended tiles), ``defects`` (defect detectability and hallucination),
``plots``, and ``selfsup`` (Noise2Noise, Noise2Void; lecture 11).

References:
    See each module.
"""
from .classical import DENOISERS, GRIDS, bicubic_upscale, denoise, denoise_sem, downscale, gat, gat_inverse, tune
from .defects import (
    DefectCase,
    defect_amplitude,
    defect_cases,
    defect_scores,
    flat_and_noise_response,
    hallucination_scores,
)
from .metrics import psnr, scores, ssim, ssim_map
from .noise import TEST_SAMPLES, TRAIN_SAMPLES, MixedNoise, NoiseModel, sample_patches, training_images
from .selfsup import Noise2NoiseLoss, Noise2VoidLoss, blind_spot_input, blind_spot_mask, noisy_shots
from .tiles import apply_tiled, seam_score
from .train import (
    PatchMSE,
    ResidualMSE,
    denoise_image,
    sr_input,
    sr_pairs,
    super_resolve,
    train_denoiser,
    train_super_resolver,
)

__all__ = ["DENOISERS", "GRIDS", "bicubic_upscale", "denoise", "denoise_sem", "downscale", "gat", "gat_inverse",
           "tune", "DefectCase", "defect_amplitude", "defect_cases", "defect_scores", "flat_and_noise_response",
           "hallucination_scores", "psnr", "scores", "ssim", "ssim_map", "TEST_SAMPLES", "TRAIN_SAMPLES",
           "MixedNoise", "NoiseModel", "sample_patches", "training_images", "apply_tiled", "seam_score", "PatchMSE",
           "ResidualMSE", "denoise_image", "sr_input", "sr_pairs", "super_resolve", "train_denoiser",
           "train_super_resolver", "noisy_shots", "Noise2NoiseLoss", "blind_spot_mask", "blind_spot_input",
           "Noise2VoidLoss"]
