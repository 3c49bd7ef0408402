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
    probs = wm.predict_proba(ws.maps, tta=False)   # the identity view only: 8 times faster

Prediction runs on an inference copy of the network (``fold_batchnorm``): each BatchNorm, a
fixed affine map per channel in eval mode, is folded into the convolution before it,

    W' = W * gamma / sqrt(var + eps)      b' = (b - mean) * gamma / sqrt(var + eps) + beta

so a layer is one pass over memory instead of two, and the weights are stored channels_last
(oneDNN's native layout on the CPU). Passes hold ``images_per_pass`` images: as many as keep
the largest activation within ``CACHE_BYTES``. Probabilities equal the unfolded network's to
float rounding (about 1e-6; ``tests/wafer/test_model_io.py``). ``net`` itself is untouched, for
Grad-CAM and further training.

A folder written by ``deepfab wafer compress`` (``deepfab.wafer.compress``) stores the network as
it runs, so prediction does not fold it again: ``"batchnorm_folded": true`` in config.json (a
pruned float net, BatchNorm already in its convolutions) or ``"quantized": {"scheme":
"int8-x86-fx", ...}`` (``Int8Stages``: a float stem, one int8 torch.fx module per stage of
``features``, a float head). Both are still plain state_dicts read with ``weights_only=True``: the
loader builds the skeleton from config.json (``fold_batchnorm`` of the fresh net, or
``deepfab.compress.quantized_skeleton`` per stage) and loads the tensors into it. For an int8 model
``net`` is the float net with the dequantized weights (for Grad-CAM, which needs gradients) and
``fast_net`` the int8 one.

Introduced with the ``deepfab wafer`` tool (lectures 1-3 build its parts; lecture 12 compresses it).

References: PyTorch, "Saving and loading models" (state_dict, torch.load(weights_only=True));
S. Ioffe, C. Szegedy, "Batch Normalization", ICML 2015 (the inference-time affine map); PyTorch,
"(beta) Channels Last Memory Format in PyTorch"; PyTorch, "(prototype) FX Graph Mode Post Training
Static Quantization".
"""
from __future__ import annotations

import copy
import hashlib
import json
import warnings
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from ..augment.dihedral import D4_ORDER
from ..augment.invariance import d4_logits, tta_proba
from ..data import DataError, WaferSet, encode_maps, load_wm811k, read_wafer_npz
from ..data.wm811k import WM811K_SPLITS
from ..errors import ModelError
from ..io import save_torch_atomic, write_json_atomic
from ..models import eval_mode

CACHE_BYTES = 8 << 20   # the largest activation of one pass: a few cores' share of L2 + L3 (measured best, 2-core EPYC)
GPU_IMAGES_PER_PASS = 4096
DEFAULT_DIR = Path(__file__).resolve().parent / "default"
FORMAT = "deepfab-wafer-model/1"
ENCODING = "deepfab.data.encode_maps: channel 0 wafer area, channel 1 fail dies, adaptive max-pool resize"
DENSITY_ENCODING = ENCODING + "; channel 2 fraction of each cell's wafer dies that fail (density=True)"
INT8_SCHEME = "int8-x86-fx"


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


def drop_training_copies(ws: WaferSet, config: dict) -> WaferSet:
    """The maps of ``ws`` that are not byte-identical to a map of the model's training files."""
    from ..data import map_digest

    seen = training_digests(config)
    return ws.subset(np.array([i for i, m in enumerate(ws.maps) if map_digest(m) not in seen], dtype=np.int64))


def resolve_dir(spec: str | Path) -> Path:
    """``"default"`` -> the shipped model; otherwise a folder holding model.pt and config.json."""
    path = DEFAULT_DIR if str(spec) == "default" else Path(spec)
    if not path.is_dir():
        what = "a file, not a folder" if path.exists() else "no such folder"
        raise ModelError(f"model {str(spec)!r}: {what}; expected a folder written by "
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


def fold_batchnorm(net: nn.Module, probe: torch.Tensor) -> nn.Module:
    """An eval-mode copy of ``net`` with every BatchNorm2d that reads a Conv2d's output folded into
    that conv (module docstring), weights channels_last. ``probe`` (a few inputs) finds the pairs
    by following one forward pass, and checks that the copy computes what ``net`` does."""
    fast = copy.deepcopy(net).eval()
    made, pairs = {}, []

    def after_conv(conv, _inp, out):
        made[id(out)] = (conv, out)          # holding ``out`` keeps its id unique during the pass

    def after_bn(bn, inp, _out):
        hit = made.get(id(inp[0]))
        if hit is not None and hit[1] is inp[0]:
            pairs.append((hit[0], bn))

    hooks = [m.register_forward_hook(after_conv) for m in fast.modules() if isinstance(m, nn.Conv2d)]
    hooks += [m.register_forward_hook(after_bn) for m in fast.modules() if isinstance(m, nn.BatchNorm2d)]
    try:
        with torch.no_grad():
            fast(probe)
    finally:
        for h in hooks:
            h.remove()
    owner = {id(child): (parent, name) for parent in fast.modules() for name, child in parent.named_children()}
    for conv, bn in pairs:
        setattr(*owner[id(conv)], fuse_conv_bn_eval(conv, bn))
        setattr(*owner[id(bn)], nn.Identity())
    fast = fast.to(memory_format=torch.channels_last)
    with torch.no_grad(), eval_mode(net):
        want, got = net(probe), fast(probe)
    if not torch.allclose(got, want, rtol=1e-3, atol=1e-4 * float(want.abs().max())):
        raise ModelError(f"{type(net).__name__}: folding BatchNorm into the convolutions changed the outputs (max "
                         f"difference {float((got - want).abs().max()):.3g}); a conv output also feeds another layer")
    return fast


def largest_activation(net: nn.Module, probe: torch.Tensor) -> int:
    """Floats in the largest output of any module of ``net`` for one input image."""
    sizes = []

    def record(_m, _inp, out):
        if isinstance(out, torch.Tensor) and out.ndim > 1:
            sizes.append(out[0].numel())

    hooks = [m.register_forward_hook(record) for m in net.modules() if m is not net]
    try:
        with torch.no_grad(), eval_mode(net):
            net(probe)
    finally:
        for h in hooks:
            h.remove()
    return max(sizes, default=probe[0].numel())


class Int8Stages(nn.Module):
    """An int8 inference network with the float net's module names: ``stem`` (float, BatchNorm folded),
    ``features`` (one int8 torch.fx module per stage: float in, float out, so a hook on ``features.i``
    reads the stage's output) and ``head`` (float pooling and linear layer)."""

    def __init__(self, stem: nn.Module, stages: list, head: nn.Module):
        super().__init__()
        self.stem, self.features, self.head = stem, nn.Sequential(*stages), head

    def forward(self, x):                                  # (N, C, S, S) -> (N, classes)
        return self.head(self.features(self.stem(x)))


def int8_stages(net: nn.Module, x: torch.Tensor, quantize=None) -> Int8Stages:
    """``net`` (a ResNet or SlimResNet with BatchNorm, eval mode) as ``Int8Stages``: stage i quantized by
    ``quantize(stage, its float inputs)`` (default ``deepfab.compress.quantize_int8``; ``quantized_skeleton``
    builds the empty structure a saved state loads into) on the activations ``x`` (N, C, S, S) makes."""
    from ..compress.quantize import quantize_int8

    quantize = quantize or quantize_int8
    for name in ("stem", "features", "head"):
        if not isinstance(getattr(net, name, None), nn.Module):
            raise ModelError(f"int8 stages need a net with stem, features and head (a ResNet); "
                             f"got {type(net).__name__}")
    net = copy.deepcopy(net).cpu().eval()
    stem = fold_batchnorm(net.stem, x[:2])
    stages = []
    with torch.no_grad():
        h = net.stem(x)                                    # (N, C0, S, S): the first stage's inputs
        for block in net.features:
            stages.append(quantize(block, h))
            h = block(h)
    return Int8Stages(stem, stages, net.head)


@torch.no_grad()
def dequantized(int8: Int8Stages, folded: nn.Module) -> nn.Module:
    """``folded`` (``fold_batchnorm`` of the same architecture) with the int8 weights, dequantized: the
    float network that ``int8`` approximates once its activations are rounded too; returned in eval mode."""
    folded.stem.load_state_dict(int8.stem.state_dict())
    folded.head.load_state_dict(int8.head.state_dict())
    for stage, target in zip(int8.features, folded.features):
        for name, m in stage.named_modules():
            if callable(getattr(m, "weight", None)):       # a quantized conv or linear: weight() is a qint8 tensor
                layer = target.get_submodule(name)
                layer.weight.copy_(m.weight().dequantize())
                layer.bias.copy_(m.bias())
    return folded.eval()


def compact_nets(net: nn.Module, config: dict, probe: torch.Tensor) -> tuple[nn.Module, nn.Module | None]:
    """(skeleton the state loads into, the float net for Grad-CAM or None) for a folder that stores its
    network as it runs (``config["quantized"]`` or ``config["batchnorm_folded"]``); (net, None) otherwise."""
    q = config.get("quantized")
    if q is not None:
        from ..compress.quantize import engine, quantized_skeleton

        if not isinstance(q, dict) or q.get("scheme") != INT8_SCHEME:
            raise ModelError(f"config.json: unknown quantization {q!r}; expected {{'scheme': '{INT8_SCHEME}', ...}}")
        engine()
        return int8_stages(net, probe.cpu(), quantized_skeleton), fold_batchnorm(net, probe)
    if config.get("batchnorm_folded"):
        return fold_batchnorm(net, probe), None
    return net, None


@dataclass
class WaferModel:
    """A loaded classifier: ``net`` in eval mode, its ``config`` and the folder it came from; ``compact``:
    the inference network a compressed folder stores (used as it is, never folded again)."""

    net: torch.nn.Module
    config: dict
    path: Path
    device: torch.device
    compact: nn.Module | None = None

    @property
    def label_names(self) -> list[str]:
        return list(self.config["label_names"])

    @property
    def size(self) -> int:
        return int(self.config["input_size"])

    @property
    def density(self) -> bool:
        return bool(self.config.get("density", False))

    @property
    def tta(self) -> bool:
        """Whether predictions average the eight D4 views (config ``tta``; on in every model written)."""
        return bool(self.config.get("tta", True))

    def encode(self, maps) -> torch.Tensor:
        return torch.from_numpy(encode_maps(list(maps), self.size, density=self.density))  # (N, 2 or 3, S, S)

    def _probe(self) -> torch.Tensor:
        g = torch.Generator().manual_seed(0)
        return torch.rand(2, in_channels(self.density), self.size, self.size, generator=g).to(self.device)

    @cached_property
    def fast_net(self) -> nn.Module:
        """The inference copy of ``net`` (``fold_batchnorm``), made on first use from the weights of then;
        a compressed folder's ``compact`` net as it is."""
        if self.compact is not None:
            return self.compact
        return fold_batchnorm(self.net, self._probe())

    @cached_property
    def images_per_pass(self) -> int:
        """Images per forward pass: on the CPU, as many as keep the largest activation in CACHE_BYTES."""
        if self.device.type != "cpu":
            return GPU_IMAGES_PER_PASS
        return max(D4_ORDER, CACHE_BYTES // (4 * largest_activation(self.net, self._probe())))

    def predict_proba(self, maps, tta: bool | None = None, batch_size: int | None = None) -> np.ndarray:
        """Softmax probabilities (N, C); with ``tta`` (default: the model's config) the mean over the
        eight D4 images of each map. ``batch_size``: images per forward pass (default ``images_per_pass``)."""
        if len(maps) == 0:
            return np.zeros((0, len(self.label_names)), np.float32)
        views = D4_ORDER if (self.tta if tta is None else tta) else 1
        z = d4_logits(self.fast_net, self.encode(maps), batch_size or self.images_per_pass, self.device, views)
        return tta_proba(z).numpy()                                       # (N, C)


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
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ModelError(f"{path / 'config.json'}: input_size must be a positive int; got {size!r}")
    net = build_net(arch, len(names), kwargs, density).eval()
    probe = torch.rand(2, in_channels(density), size, size, generator=torch.Generator().manual_seed(0))
    skeleton, float_net = compact_nets(net, config, probe)
    try:
        with warnings.catch_warnings():    # int8 tensors: torch warns that their storage format is deprecated
            warnings.simplefilter("ignore", UserWarning)
            state = torch.load(path / "model.pt", map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated file, pickled code, not a torch file
        raise ModelError(f"{path / 'model.pt'}: not a readable state_dict ({type(exc).__name__})") from None
    if not isinstance(state, dict):
        raise ModelError(f"{path / 'model.pt'}: expected a state_dict; got {type(state).__name__}")
    check_state(skeleton, state, str(path / "model.pt"))
    skeleton.load_state_dict(state)
    if float_net is not None:                      # int8: CPU only; net is the dequantized float twin
        dev = torch.device("cpu")
        return WaferModel(dequantized(skeleton, float_net), config, path, dev, compact=skeleton.eval())
    dev = resolve_device(device)
    compact = skeleton.to(dev).eval() if skeleton is not net else None
    return WaferModel(skeleton.to(dev).eval(), config, path, dev, compact=compact)


def save_model(net: torch.nn.Module, out: str | Path, config: dict, metrics: dict | None = None) -> Path:
    """Write ``model.pt``, ``config.json`` (and ``metrics.json``) into ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    save_torch_atomic({k: v.detach().cpu() for k, v in net.state_dict().items()}, out / "model.pt")
    write_json_atomic(out / "config.json", {"format": FORMAT, **config})
    if metrics is not None:
        write_json_atomic(out / "metrics.json", metrics)
    return out
