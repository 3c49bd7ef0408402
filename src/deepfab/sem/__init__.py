"""SEM image restoration on a fab's own images: the library behind ``deepfab sem``.

    deepfab sem denoise scan.tif --out scan_clean.tif          # 8- or 16-bit grayscale PNG or TIFF
    deepfab sem upscale scan.png --scale 2 --out scan_x2.png

    from deepfab.sem import load_model, read_image, write_image
    f = read_image("scan.tif")                                  # f.pixels (H, W) float32 in [0, 1], f.bits
    write_image("scan_clean.tif", load_model("default", task="denoise").restore(f.pixels), like=f)

Modules: ``image_io`` (image files in and out at their own bit depth and format), ``model_io``
(model folders: save, load, check; tiled inference), ``options`` (the training options: flags,
config and command from one dataclass), ``training`` (the training recipe), ``heldout`` (SEM-like
scenes of kinds the shipped models never saw, to judge them), ``cli`` (the commands).
``default/`` holds the shipped models, each with the command that reproduces it. The methods
come from ``deepfab.restore`` and ``deepfab.models.restore``.

Introduced with the ``deepfab sem`` tool; lectures 10 and 11 teach its methods.

References: see each module.
"""
import importlib

_HOMES = {"SemFile": "image_io", "read_image": "image_io", "write_image": "image_io", "SemModel": "model_io",
          "load_model": "model_io", "save_model": "model_io", "DEFAULT_DIR": "model_io",
          "SemTrainOptions": "options", "train_sem": "training", "heldout_scene": "heldout", "heldout_set": "heldout"}


def __getattr__(name):
    if name not in _HOMES:
        raise AttributeError(f"module 'deepfab.sem' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)


__all__ = sorted(_HOMES)
