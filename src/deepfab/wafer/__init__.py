"""Wafer-map defect classification on a fab's own maps: the library behind ``deepfab wafer``.

    from deepfab.wafer import load_model, train_wafer, grad_cam
    wm = load_model("default")                  # the shipped WM-811K classifier
    probs = wm.predict_proba(my_maps)           # (N, 9), averaged over the 8 square symmetries
    cam = grad_cam(wm.net, wm.encode(my_maps[:1])[0], target=int(probs[0].argmax()))

Modules: ``model_io`` (model folders: save, load, check), ``training`` (the training recipe on
``deepfab.train.fit``), ``explain`` (Grad-CAM), ``plots`` (figures), ``cli`` (the commands).
``default/`` holds the shipped model and the command that reproduces it.

Introduced with the ``deepfab wafer`` tool; lectures 1-3 teach its parts.

References: see each module.
"""
from .explain import grad_cam
from .model_io import DEFAULT_DIR, ModelError, WaferModel, load_model, open_data, save_model
from .training import train_wafer

__all__ = ["DEFAULT_DIR", "ModelError", "WaferModel", "grad_cam", "load_model", "open_data", "save_model",
           "train_wafer"]
