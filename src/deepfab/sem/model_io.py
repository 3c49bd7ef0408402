"""A trained SEM restorer on disk (``model.pt`` beside ``config.json``), loaded and run on images of any size.

A model folder is what ``deepfab sem denoise|upscale`` needs:

    DIR/model.pt      the network's weights, a plain state_dict (read with weights_only=True)
    DIR/config.json   format, task ('denoise' or 'upscale'), scale, the network's config
                      (``deepfab.models.restore``), the training recipe, seed and the command that made it
    DIR/metrics.json  what training measured (history, seconds, validation PSNR)
    DIR/README.md     for a shipped model: what it is, how it was trained, how good it is

``load_model("default", task="denoise")`` opens the shipped denoiser in ``deepfab/sem/default/denoise``;
``load_model("default", task="upscale", scale=2)`` the shipped x2 super-resolver
(``default/upscale_x2``). Loading rebuilds the network from its config and checks every
state_dict key and shape first, so a folder of another task or architecture is refused in one line.

    sm = load_model("default", task="denoise")
    clean = sm.restore(noisy)            # (H, W) float32 in [0, 1] -> (H, W), in overlapping tiles
    big = load_model("default", task="upscale", scale=2).restore(small)   # (H, W) -> (2H, 2W)

``restore`` runs the network on an inference copy with its BatchNorms folded into the
convolutions (``fold_sequential_batchnorm``, exact to float rounding) through
``deepfab.restore.tiles.apply_tiled``: tiles of at most ``tile`` px, neighbours overlapping by
twice the network's receptive radius plus 8 px, the outer radius + 2 px of each shared side
discarded, so a tiled result equals the whole-image one to float rounding (``tests/sem``).

Introduced with the ``deepfab sem`` tool; lectures 10 and 11 teach its networks.

References: PyTorch, "Saving and loading models" (state_dict, weights_only); K. Zhang et al., IEEE TIP
26(7), 2017 (DnCNN); W. Shi et al., CVPR 2016 (ESPCN).
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import torch

from ..errors import ModelError
from ..io import save_torch_atomic, write_json_atomic

DEFAULT_DIR = Path(__file__).resolve().parent / "default"
FORMAT = "deepfab-sem-model/1"
TASKS = ("denoise", "upscale")
SCALES = (2, 3, 4)
MAX_TILE = 1024      # px per tile side: a DnCNN of 24 features holds two 96 MB activations at this size


def default_dir(task: str, scale: int | None = None) -> Path:
    """Where the shipped model of ``task`` (and ``scale``) lives."""
    return DEFAULT_DIR / ("denoise" if task == "denoise" else f"upscale_x{scale}")


def receptive_radius(config: dict) -> int:
    """Pixels (of the network's input) on each side that one output pixel depends on."""
    arch = config.get("arch")
    if arch == "dncnn":
        return int(config["depth"])                                   # one px per 3x3 layer
    if arch in ("srcnn", "espcn"):
        return sum(int(config[k]) // 2 for k in ("f1", "f2", "f3"))
    raise ModelError(f"unknown restoration architecture {arch!r} in config.json")


def fit_tile(length: int, overlap: int, max_tile: int = MAX_TILE) -> int:
    """The smallest tile side that covers ``length`` px in as few tiles as ``max_tile`` would."""
    if length <= max_tile:
        return length
    n = math.ceil((length - overlap) / (max_tile - overlap))
    return math.ceil((length - overlap) / n) + overlap


def fold_sequential_batchnorm(net: torch.nn.Module) -> torch.nn.Module:
    """An eval-mode copy of ``net`` in which every BatchNorm2d that directly follows a Conv2d inside an
    ``nn.Sequential`` is folded into it (W' = W gamma / sqrt(var + eps), b' = (b - mean) gamma /
    sqrt(var + eps) + beta), weights channels_last. The restoration networks are plain stacks, so
    the pairs are neighbours; ``deepfab.wafer.model_io.fold_batchnorm`` handles any graph, at the
    price of importing the wafer tool."""
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    fast = copy.deepcopy(net).eval()
    for seq in [m for m in fast.modules() if isinstance(m, torch.nn.Sequential)]:
        layers = list(seq)
        for i in range(len(layers) - 1):
            if isinstance(layers[i], torch.nn.Conv2d) and isinstance(layers[i + 1], torch.nn.BatchNorm2d):
                seq[i], seq[i + 1] = fuse_conv_bn_eval(layers[i], layers[i + 1]), torch.nn.Identity()
    return fast.to(memory_format=torch.channels_last)


@dataclass
class SemModel:
    """A loaded restorer: the network, its config.json, its folder and device."""

    net: torch.nn.Module
    config: dict
    path: Path
    device: torch.device

    @property
    def task(self) -> str:
        return self.config["task"]

    @property
    def scale(self) -> int:
        return int(self.config.get("scale") or 1)

    @property
    def radius(self) -> int:
        return receptive_radius(self.config["net"])

    @cached_property
    def fast(self) -> torch.nn.Module:
        """Inference copy: BatchNorm folded into the convolutions, weights channels_last."""
        return fold_sequential_batchnorm(self.net)

    def _run(self, tile: np.ndarray) -> np.ndarray:
        """(h, w) -> (h s, w s) float64 through the folded network (SRCNN: on the bicubic upsampling)."""
        x = tile
        if self.task == "upscale":
            from ..restore.train import sr_input

            x = sr_input(self.net, np.asarray(tile, np.float32), self.scale)
        t = torch.as_tensor(np.ascontiguousarray(x), dtype=torch.float32, device=self.device)[None, None]
        with torch.inference_mode():
            return self.fast(t.contiguous(memory_format=torch.channels_last))[0, 0].double().cpu().numpy()

    def restore(self, image: np.ndarray, max_tile: int = MAX_TILE) -> np.ndarray:
        """(H, W) float image in [0, 1] -> restored (H s, W s) float32, unclipped, in tiles of <= ``max_tile`` px."""
        from ..restore.tiles import apply_tiled

        img = np.asarray(image, np.float32)
        margin = self.radius + 2
        overlap = 2 * margin + 8
        if max_tile <= overlap:
            raise ModelError(f"tiles must be larger than their overlap of {overlap} px; got --tile {max_tile}")
        if min(img.shape) < 8:
            raise ModelError(f"image of {img.shape[0]}x{img.shape[1]} px is too small; need at least 8x8")
        tile = fit_tile(max(img.shape), overlap, max_tile)
        return apply_tiled(self._run, img, tile=tile, overlap=overlap, scale=self.scale, margin=margin)


def resolve_dir(spec: str | Path, task: str, scale: int | None = None) -> Path:
    """``"default"`` -> the shipped model of ``task``; otherwise a folder holding model.pt and config.json."""
    path = default_dir(task, scale) if str(spec) == "default" else Path(spec)
    made = f"`deepfab sem train --task {task} ... --out DIR`"
    if str(spec) == "default" and not path.is_dir():
        raise ModelError(f"no shipped default model for {task}" + (f" x{scale}" if scale else "")
                         + f"; train one with {made} and pass --model DIR")
    if not path.is_dir():
        what = "a file, not a folder" if path.exists() else "no such folder"
        raise ModelError(f"model {str(spec)!r}: {what}; expected a folder written by {made}, or 'default'")
    for name in ("model.pt", "config.json"):
        if not (path / name).is_file():
            raise ModelError(f"model {str(spec)!r}: {name} is missing; expected a folder written by {made}")
    return path


def load_model(spec: str | Path, task: str, scale: int | None = None, device: str = "cpu") -> SemModel:
    """Open a model folder (or ``"default"``) for ``task``, checking task, scale and weights."""
    import json

    from ..device import resolve_device
    from ..models.restore import build_restorer
    from ..train.checkpoint import state_differences, summarize

    path = resolve_dir(spec, task, scale)
    try:
        config = json.loads((path / "config.json").read_text())
    except (OSError, ValueError) as exc:
        raise ModelError(f"{path / 'config.json'}: not readable JSON ({type(exc).__name__})") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise ModelError(f"{path}: config.json is not a deepfab sem model (format {FORMAT!r}); got "
                         f"{config.get('format') if isinstance(config, dict) else type(config).__name__!r}")
    if config.get("task") != task:
        raise ModelError(f"{path}: a model for {config.get('task')!r}; this command needs one for {task!r}")
    if task == "upscale" and scale is not None and int(config.get("scale") or 0) != scale:
        raise ModelError(f"{path}: upscales by {config.get('scale')}; got --scale {scale}")
    net = build_restorer(config["net"])
    try:
        state = torch.load(path / "model.pt", map_location="cpu", weights_only=True)
    except Exception as exc:                      # a truncated file, pickled code, not a torch file
        raise ModelError(f"{path / 'model.pt'}: not a readable state_dict ({type(exc).__name__})") from None
    problems = state_differences(net, state) if isinstance(state, dict) else ["not a state_dict"]
    if problems:
        raise ModelError(f"{path / 'model.pt'}: the weights do not fit the network in config.json "
                         f"({len(problems)} key/shape differences: {summarize(problems, most=3)})")
    net.load_state_dict(state)
    dev = resolve_device(device)
    return SemModel(net.to(dev).eval(), config, path, dev)


def save_model(net: torch.nn.Module, out: str | Path, config: dict, metrics: dict | None = None) -> Path:
    """Write ``model.pt`` (state_dict), ``config.json`` (``format``, ``net`` = the network's config, and
    ``config``) and ``metrics.json`` into ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    save_torch_atomic({k: v.detach().cpu() for k, v in net.state_dict().items()}, out / "model.pt")
    write_json_atomic(out / "config.json", {"format": FORMAT, "net": dict(net.config), **config})
    if metrics is not None:
        write_json_atomic(out / "metrics.json", metrics)
    return out


__all__ = ["SemModel", "fold_sequential_batchnorm", "load_model", "save_model", "resolve_dir", "default_dir",
           "receptive_radius", "fit_tile", "FORMAT", "TASKS", "SCALES", "DEFAULT_DIR", "MAX_TILE"]
