"""Checkpoints that survive ``kill -9``: atomic writes, every RNG state, safe loading.

Introduced in lecture 1 with the engine. ``fit(..., out_dir=D)`` writes after every epoch

    D/checkpoint.pt   model, optimiser, scheduler, grad scaler, epoch, history, best weights and
                      score, early-stopping counter, and the RNG states (python, numpy, torch, CUDA,
                      and the engine's own generators for data order, mixing and augmentation)
    D/best.pt         the best weights so far (a plain state_dict)
    D/history.json    per-epoch metrics;  D/config.json  the TrainConfig

Each file is written to a temporary name in the same folder and moved into place with
``os.replace``, so a reader sees the old file or the new one, never half of one. Everything is
stored as tensors and plain python types so that ``torch.load(path, weights_only=True)`` reads it
without unpickling code.

References:
    PyTorch, "Saving and loading models" and torch.load(weights_only=True).
    POSIX rename(2): atomic replacement within one file system.
"""
from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import torch

from ..errors import ModelError

FORMAT = 1


def load(path, map_location="cpu") -> dict:
    """Read a checkpoint with ``weights_only=True``; a clear error when it is not one of ours."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # truncated or foreign files
        raise ModelError(f"{path} is not a readable deepfab checkpoint ({type(exc).__name__}: {exc})") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise ModelError(f"{path} is not a deepfab training checkpoint (format {FORMAT}); "
                         f"got {type(ckpt).__name__} with format {getattr(ckpt, 'get', lambda k: None)('format')!r}")
    return ckpt


def _np_generator_state(rng: np.random.Generator) -> dict:
    # PCG64 state holds 128-bit ints: store them as decimal strings (plain types for weights_only).
    s = rng.bit_generator.state
    return {"bit_generator": s["bit_generator"], "state": str(s["state"]["state"]), "inc": str(s["state"]["inc"]),
            "has_uint32": int(s["has_uint32"]), "uinteger": int(s["uinteger"])}


def _set_np_generator_state(rng: np.random.Generator, d: dict) -> None:
    rng.bit_generator.state = {"bit_generator": d["bit_generator"],
                               "state": {"state": int(d["state"]), "inc": int(d["inc"])},
                               "has_uint32": d["has_uint32"], "uinteger": d["uinteger"]}


def rng_state(gens: dict) -> dict:
    """All random states: global python/numpy/torch(/CUDA) and the engine's named generators."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    out = {
        "python": random.getstate(),
        "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                  "has_gauss": int(has_gauss), "cached_gaussian": float(cached)},
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "gens": {},
    }
    for name, g in gens.items():
        if isinstance(g, np.random.Generator):
            out["gens"][name] = {"numpy": _np_generator_state(g)}
        else:
            out["gens"][name] = {"torch": g.get_state()}
    return out


def set_rng_state(state: dict, gens: dict) -> None:
    """Inverse of :func:`rng_state` (generators are updated in place)."""
    random.setstate(_tuplify(state["python"]))
    n = state["numpy"]
    keys = n["keys"].numpy().astype(np.uint32)
    np.random.set_state((n["kind"], keys, n["pos"], n["has_gauss"], n["cached_gaussian"]))
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available() and len(state["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(state["cuda"])
    for name, g in gens.items():
        saved = state["gens"].get(name)
        if saved is None:
            raise ModelError(f"checkpoint has no state for generator {name!r}; it has {sorted(state['gens'])}")
        if isinstance(g, np.random.Generator):
            _set_np_generator_state(g, saved["numpy"])
        else:
            g.set_state(saved["torch"])


def _tuplify(x):
    # random.setstate needs the nested tuples that a round trip through some loaders makes lists.
    return tuple(_tuplify(v) for v in x) if isinstance(x, (list, tuple)) else x


def state_differences(model: torch.nn.Module, saved_state: dict) -> list[str]:
    """Key and shape differences between a model and a saved state_dict (empty when they fit)."""
    now = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    then = {k: tuple(v.shape) for k, v in saved_state.items() if isinstance(v, torch.Tensor)}
    problems = [f"missing in model: {k}" for k in then if k not in now]
    problems += [f"not in checkpoint: {k}" for k in now if k not in then]
    problems += [f"{k}: checkpoint {then[k]} vs model {now[k]}" for k in now if k in then and now[k] != then[k]]
    return problems


def summarize(problems: list[str], most: int = 5) -> str:
    """The first ``most`` differences, then how many more."""
    return "; ".join(problems[:most]) + (f"; ... {len(problems) - most} more" if len(problems) > most else "")


def check_model_matches(model: torch.nn.Module, saved_state: dict, path) -> None:
    """Raise ModelError listing the first differences between a model and a saved state_dict."""
    problems = state_differences(model, saved_state)
    if problems:
        shown = summarize(problems)
        raise ModelError(f"cannot load {path}: the model does not match the checkpoint ({shown}). "
                         "Use the same architecture (or, to train another one, a new out_dir or resume=False).")


def load_weights(model: torch.nn.Module, path, map_location="cpu") -> torch.nn.Module:
    """Load ``best.pt`` (a state_dict) or ``checkpoint.pt`` (its last-epoch ``model``) into ``model``.

    Reads with ``weights_only=True``; a model of another shape raises ModelError naming the keys.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no weights at {path}")
    obj = torch.load(path, map_location=map_location, weights_only=True)
    state = obj["model"] if isinstance(obj, dict) and obj.get("format") == FORMAT else obj
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ModelError(f"{path} holds no state_dict (expected best.pt or checkpoint.pt); got {type(obj).__name__}")
    check_model_matches(model, state, path)
    model.load_state_dict(state)
    return model
