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
import importlib

_HOMES = {
    **dict.fromkeys(["DENOISERS", "GRIDS", "bicubic_upscale", "denoise", "denoise_sem", "downscale", "gat",
                     "gat_inverse", "tune"], "classical"),
    **dict.fromkeys(["DefectCase", "defect_amplitude", "defect_cases", "defect_scores", "flat_and_noise_response",
                     "hallucination_scores"], "defects"),
    **dict.fromkeys(["psnr", "scores", "ssim", "ssim_map"], "metrics"),
    **dict.fromkeys(["TEST_SAMPLES", "TRAIN_SAMPLES", "MixedNoise", "NoiseModel", "sample_patches",
                     "training_images"], "noise"),
    **dict.fromkeys(["Noise2NoiseLoss", "Noise2VoidLoss", "blind_spot_input", "blind_spot_mask", "noisy_shots"],
                    "selfsup"),
    **dict.fromkeys(["apply_tiled", "seam_score"], "tiles"),
    **dict.fromkeys(["PatchMSE", "ResidualMSE", "denoise_image", "sr_input", "sr_pairs", "super_resolve",
                     "train_denoiser", "train_super_resolver"], "train"),
}


def __getattr__(name):
    # Each name is imported from its module on first use, so that ``deepfab sem denoise`` (which needs
    # only ``tiles``) does not pay for scipy.ndimage and the training engine at start-up.
    if name not in _HOMES:
        raise AttributeError(f"module 'deepfab.restore' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)


__all__ = sorted(_HOMES)
