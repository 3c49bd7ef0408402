"""Wafer-map defect classification on a fab's own maps: the library behind ``deepfab wafer``.

    from deepfab.explain import grad_cam, normalize_maps
    from deepfab.wafer import TrainOptions, load_model, load_novelty, train_wafer
    wm = load_model("default")                  # the shipped WM-811K classifier
    probs = wm.predict_proba(my_maps)           # (N, 9), averaged over the 8 square symmetries
    probs, unusual = load_novelty(wm).predict(wm, my_maps)   # and the novelty score (higher = more unusual)
    cam = normalize_maps(grad_cam(wm.net, wm.encode(my_maps[:1]), int(probs[0].argmax()), d4=True))[0]
    train_wafer(TrainOptions(data=["mine.npz"], out="runs/mine"))

Modules: ``options`` (the training options: flags, config and command from one dataclass),
``model_io`` (model folders: save, load, check; fast prediction), ``training`` (the training
recipe on ``deepfab.train.fit``), ``novelty`` (the novelty score a model folder carries,
``ood.pt``: fitted, calibrated, loaded), ``report`` (scores by die grid), ``prior`` (the product prior:
each die grid's ``none`` prior estimated from its unlabelled maps, lowered only; a map without a
failing die is ``none``), ``plots`` (figures),
``cli`` (the commands). ``default/`` holds the shipped model and the command that reproduces it.

Introduced with the ``deepfab wafer`` tool; lectures 1-3 teach its parts.

References: see each module.
"""
import importlib

# Names resolve on first use, so that ``deepfab wafer --help`` and the other CLI commands (which
# import this package to build their parsers) do not pay for importing torch.
_HOMES = {"DEFAULT_DIR": "model_io", "TrainOptions": "options", "WaferModel": "model_io", "load_model": "model_io",
          "open_data": "model_io", "save_model": "model_io", "train_wafer": "training", "Novelty": "novelty",
          "calibrate_model": "novelty", "load_novelty": "novelty"}


def __getattr__(name):
    if name not in _HOMES:
        raise AttributeError(f"module 'deepfab.wafer' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)


__all__ = ["DEFAULT_DIR", "Novelty", "TrainOptions", "WaferModel", "calibrate_model", "load_model", "load_novelty",
           "open_data", "save_model", "train_wafer"]
