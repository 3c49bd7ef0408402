"""A trained wafer-map classifier on disk: ``model.pt`` (a state_dict) beside ``config.json``.

A model folder is everything ``deepfab wafer eval|predict|explain`` needs to score new maps:

    DIR/model.pt      the network's weights, a plain state_dict (read with weights_only=True)
    DIR/config.json   arch and its keyword arguments, input size, label names, the encoding, the
                      training config, the data files with their SHA-256, the command that made it
    DIR/metrics.json  what training measured (history, validation scores, seconds)

``load_model("default")`` opens the model shipped in ``deepfab/wafer/default/``. Loading rebuilds
the architecture from its config and checks every state_dict key and shape before loading, so a
checkpoint of another architecture is refused with a clear message, not a stack trace.

    wm = load_model("runs/wafer")              # or "default"
    probs = wm.predict_proba(ws.maps)          # (N, C), averaged over the 8 symmetries of the square

Introduced with the ``deepfab wafer`` tool (lectures 1-3 build its parts).

References: PyTorch, "Saving and loading models" (state_dict, torch.load(weights_only=True)).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..augment.dihedral import D4_ORDER, dihedral
from ..data import DataError, WaferSet, encode_maps, load_wm811k, read_wafer_npz
from ..data.wm811k import WM811K_SPLITS
from ..errors import ModelError
from ..io import write_json_atomic

DEFAULT_DIR = Path(__file__).resolve().parent / "default"
FORMAT = "deepfab-wafer-model/1"
ENCODING = "deepfab.data.encode_maps: channel 0 wafer area, channel 1 fail dies, adaptive max-pool resize"
DENSITY_ENCODING = ENCODING + "; channel 2 fraction of each cell's wafer dies that fail (density=True)"


def in_channels(density: bool) -> int:
    return 3 if density else 2


def build_net(arch: str, num_classes: int, kwargs: dict, density: bool = False) -> torch.nn.Module:
    """A fresh network: ``arch`` is a key of ``deepfab.models.ARCHS``; ``kwargs`` its options;
    ``density`` adds the third input channel of ``encode_maps(..., density=True)``."""
    from ..models import build_model

    try:
        return build_model(arch, in_channels=in_channels(density), num_classes=num_classes, **kwargs)
    except ValueError as exc:
        raise ModelError(str(exc)) from None


def sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def open_data(spec: str) -> tuple[WaferSet, Path]:
    """A data argument: a wafer npz file, or ``wm811k:SPLIT`` for a shipped WM-811K split."""
    if spec.startswith("wm811k:"):
        split = spec.split(":", 1)[1]
        if split not in WM811K_SPLITS:
            raise DataError(f"unknown WM-811K split {split!r} in {spec!r}; expected wm811k:<{'|'.join(WM811K_SPLITS)}>")
        ws = load_wm811k(split)
        from ..data.wm811k import FILES

        return ws, FILES / "wm811k" / f"wm811k_{split}.npz"
    return read_wafer_npz(spec), Path(spec)


def training_digests(config: dict) -> set:
    """Content digests of every map in a model's training files (``config["data"]``)."""
    from ..data import map_digest

    seen = set()
    for entry in config.get("data", []):
        try:
            ws, _ = open_data(entry["spec"])
        except DataError as exc:
            raise DataError(f"cannot open the model's training file {entry['spec']!r} ({exc})") from None
        seen |= {map_digest(m) for m in ws.maps}
    return seen


def resolve_dir(spec: str | Path) -> Path:
    """``"default"`` -> the shipped model; otherwise a folder holding model.pt and config.json."""
    path = DEFAULT_DIR if str(spec) == "default" else Path(spec)
    if not path.is_dir():
        raise ModelError(f"model {str(spec)!r}: no such folder; expected a folder written by "
                         "`deepfab wafer train --out DIR`, or 'default'")
    for name in ("model.pt", "config.json"):
        if not (path / name).is_file():
            raise ModelError(f"model {str(spec)!r}: {name} is missing; expected a folder written by "
                             "`deepfab wafer train --out DIR`")
    return path


def check_state(net: torch.nn.Module, state: dict, where: str) -> None:
    """Raise ModelError naming the first key/shape differences between ``net`` and ``state``."""
    from ..train.checkpoint import state_differences, summarize

    problems = state_differences(net, state)
    if problems:
        shown = summarize(problems, most=3)
        raise ModelError(f"{where}: the weights do not fit the architecture in config.json "
                         f"({len(problems)} key/shape differences: {shown})")


@dataclass
class WaferModel:
    """A loaded classifier: ``net`` in eval mode, its ``config`` and the folder it came from."""

    net: torch.nn.Module
    config: dict
    path: Path
    device: torch.device

    @property
    def label_names(self) -> list[str]:
        return list(self.config["label_names"])

    @property
    def size(self) -> int:
        return int(self.config["input_size"])

    @property
    def density(self) -> bool:
        return bool(self.config.get("density", False))

    def encode(self, maps) -> torch.Tensor:
        return torch.from_numpy(encode_maps(list(maps), self.size, density=self.density))  # (N, 2 or 3, S, S)

    @torch.no_grad()
    def predict_proba(self, maps, tta: bool | None = None, batch_size: int = 512) -> np.ndarray:
        """Softmax probabilities (N, C); with ``tta`` the mean over the eight D4 images of each map."""
        tta = bool(self.config.get("tta", True)) if tta is None else tta
        x = self.encode(maps)
        self.net.eval()
        out = []
        for i in range(0, len(x), batch_size):
            xb = x[i:i + batch_size].to(self.device)
            views = range(D4_ORDER) if tta else (0,)
            p = sum(torch.softmax(self.net(dihedral(xb, k)), dim=1) for k in views) / len(views)
            out.append(p.cpu())
        return torch.cat(out).numpy() if out else np.zeros((0, len(self.label_names)), np.float32)


def load_model(spec: str | Path = "default", device: str = "auto") -> WaferModel:
    """Open a model folder (or ``"default"``); ModelError when it cannot be used."""
    from ..device import resolve_device

    path = resolve_dir(spec)
    try:
        config = json.loads((path / "config.json").read_text())
        arch, kwargs, names, size = config["arch"], config["arch_kwargs"], config["label_names"], config["input_size"]
        density = bool(config.get("density", False))
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise ModelError(f"{path / 'config.json'}: not a wafer model config ({type(exc).__name__}: {exc})") from None
    net = build_net(arch, len(names), kwargs, density)
    try:
        state = torch.load(path / "model.pt", map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated file, pickled code, not a torch file
        raise ModelError(f"{path / 'model.pt'}: not a readable state_dict ({type(exc).__name__})") from None
    if not isinstance(state, dict):
        raise ModelError(f"{path / 'model.pt'}: expected a state_dict; got {type(state).__name__}")
    check_state(net, state, str(path / "model.pt"))
    net.load_state_dict(state)
    dev = resolve_device(device)
    return WaferModel(net.to(dev).eval(), config, path, dev)


def save_model(net: torch.nn.Module, out: str | Path, config: dict, metrics: dict | None = None) -> Path:
    """Write ``model.pt``, ``config.json`` (and ``metrics.json``) into ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu() for k, v in net.state_dict().items()}
    tmp = out / ".model.pt.tmp"
    torch.save(state, tmp)
    tmp.replace(out / "model.pt")
    write_json_atomic(out / "config.json", {"format": FORMAT, **config})
    if metrics is not None:
        write_json_atomic(out / "metrics.json", metrics)
    return out
