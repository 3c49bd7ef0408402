"""A fitted novelty score and its calibrated threshold as a small file a model folder can carry.

The file is a ``torch.save`` of plain values only (dicts, lists, strings, numbers and tensors),
so ``torch.load(path, weights_only=True)`` reads it without running any code:

    {"format": "deepfab-ood/1",
     "score": {"class": "Combined", "options": {...}, "tensors": {...},
               "components": [{"class": "MapTexture", ...}, {"class": "Mahalanobis", ...}]},
     "threshold": 1.93, "share": 0.05, "flagged_share": 0.049,
     "calibrated_on": "wm811k:val (10,958 maps)", "n_calibration": 10958}

    state = ood_state(score, s_val, share=0.05, calibrated_on="wm811k:val")   # threshold from val scores
    save_ood("runs/wafer/ood.pt", state)
    score, state = load_ood("runs/wafer/ood.pt", model)                       # rebuilt on the same model
    flags = score(maps) > state["threshold"]

Introduced in lecture 5; ``deepfab wafer`` stores one beside ``model.pt``.

References: PyTorch, "Saving and loading models" (torch.load(weights_only=True)).
"""
from __future__ import annotations

import io
from pathlib import Path

import torch

from ..errors import ModelError
from ..io import save_torch_atomic
from .combine import Combined
from .distance import KNN, Mahalanobis, MultiLayerMahalanobis
from .likelihood import MapLikelihood
from .metrics import calibrate, flagged_share
from .scores import ODIN, Energy, MaxSoftmax
from .texture import MapTexture

FORMAT = "deepfab-ood/1"
SCORES = {c.__name__: c for c in (MaxSoftmax, Energy, ODIN, Mahalanobis, MultiLayerMahalanobis, KNN, MapTexture,
                                  MapLikelihood, Combined)}
MODEL_FREE = (MapTexture, MapLikelihood)          # scores that read the maps themselves, not the classifier


def score_state(score) -> dict:
    """The class, options and fitted tensors of ``score`` (and of its components), as plain values."""
    if type(score).__name__ not in SCORES:
        raise ModelError(f"cannot store a {type(score).__name__}; expected one of {', '.join(SCORES)}")
    out = {"class": type(score).__name__, "options": score.options(), "tensors": score.state_tensors()}
    if isinstance(score, Combined):
        out["components"] = [score_state(c) for c in score.components]
    return out


def build_score(state: dict, model=None):
    """The fitted score that ``score_state`` described, bound to ``model`` where it reads one."""
    try:
        cls = SCORES[state["class"]]
        if cls is Combined:
            score = Combined([build_score(c, model) for c in state["components"]], **state["options"])
        elif cls in MODEL_FREE:
            score = cls(**state["options"])
        else:
            if model is None:
                raise ModelError(f"the stored {cls.__name__} score reads a model; pass the classifier it was fitted on")
            score = cls(model, **state["options"])
        return score.load_tensors(state["tensors"])
    except (KeyError, TypeError) as exc:
        raise ModelError(f"not a stored novelty score ({type(exc).__name__}: {exc})") from None


def ood_state(score, s_val, share: float = 0.05, calibrated_on: str = "") -> dict:
    """``score``'s state with the threshold that flags at most ``share`` of the in-distribution
    validation scores ``s_val`` (N,), and what it was calibrated on."""
    t = calibrate(s_val, share)
    return {"format": FORMAT, "score": score_state(score), "threshold": t, "share": float(share),
            "flagged_share": flagged_share(s_val, t), "calibrated_on": str(calibrated_on),
            "n_calibration": int(len(s_val))}


def state_bytes(state: dict) -> int:
    """Bytes the state takes on disk (``torch.save``)."""
    buf = io.BytesIO()
    torch.save(state, buf)
    return buf.getbuffer().nbytes


def save_ood(path: str | Path, state: dict) -> Path:
    """Write ``state`` (from ``ood_state``) to ``path``, never half-written."""
    save_torch_atomic(state, path)
    return Path(path)


def load_ood(path: str | Path, model=None):
    """(score, state) from a file written by ``save_ood``; ModelError when it is not one."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # missing, truncated, pickled code
        raise ModelError(f"{path}: not a readable novelty-score file ({type(exc).__name__})") from None
    got = state.get("format") if isinstance(state, dict) else type(state).__name__
    if got != FORMAT:
        raise ModelError(f"{path}: expected a {FORMAT} file; got {got!r}")
    return build_score(state["score"], model), state
