"""What a novelty score reads from a classifier: logits, penultimate features, and per-layer statistics.

One forward pass per batch gives all three: the logits, the input of the last ``nn.Linear``
(the penultimate features that ``deepfab.explain.embed`` returns) and, for the multi-layer
Mahalanobis score, the spatial mean of chosen modules' outputs, channel by channel, or with the
suffix ``:std`` their spatial standard deviation (how unevenly a channel fires over the map: the
second-order feature statistics of Sastry and Oore). With ``views=8`` every map is also seen under
the eight symmetries of the square (``deepfab.augment.dihedral``), as ``deepfab wafer`` predicts;
the scores then average over the views.

    out = extract(model, x)                                  # x (N, C, S, S) encoded maps
    out.logits, out.features                                 # (V, N, K), (V, N, D); V = views
    out = extract(model, x, layers=stage_names(model), views=8)
    out.layers["features.1"]                                 # (V, N, C_1): spatial means
    out = extract(model, x, layers=["features.1", "features.1:std"])
    out.layers["features.1:std"]                             # (V, N, C_1): spatial standard deviations

Introduced in lecture 5 (out-of-distribution detection); the hooks are those of lecture 3.

References: K. Lee, K. Lee, H. Lee, J. Shin, "A Simple Unified Framework for Detecting
Out-of-Distribution Samples and Adversarial Attacks", NeurIPS 2018 (features of several layers).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from ..augment.dihedral import D4_ORDER, dihedral
from ..errors import UsageError
from ..explain.features import last_linear, named_module
from ..models import eval_mode

SPREAD = ":std"               # layer-name suffix: the spatial standard deviation instead of the mean


@dataclass
class Outputs:
    """Per-view model outputs for N maps: ``logits`` (V, N, K), ``features`` (V, N, D), ``layers``
    {name: (V, N, C_i)}; V = 1 (the identity view) or 8 (the D4 views)."""

    logits: torch.Tensor
    features: torch.Tensor
    layers: dict[str, torch.Tensor] = field(default_factory=dict)

    def __len__(self) -> int:
        return self.logits.shape[1]


def check_inputs(x) -> torch.Tensor:
    """``x`` as a float tensor (N, C, S, S) with N >= 1; UsageError otherwise."""
    x = torch.as_tensor(x)
    if x.ndim != 4 or len(x) == 0 or not x.is_floating_point():
        raise UsageError(f"novelty scores take encoded maps, a float tensor (N, C, S, S) with N >= 1; "
                         f"got {x.dtype} {tuple(x.shape)}")
    return x


def stage_names(model: nn.Module) -> list[str]:
    """Names of the stage outputs inside ``model.features``: its max-pool layers where it has them
    (SmallCNN, VGG: one per conv block), else its children (ResNet: one per residual block)."""
    feats = getattr(model, "features", None)
    if not isinstance(feats, nn.Sequential):
        raise UsageError(f"{type(model).__name__} has no nn.Sequential 'features'; name the layers yourself")
    pools = [n for n, m in feats.named_children() if isinstance(m, nn.MaxPool2d)]
    return [f"features.{n}" for n in (pools or [n for n, _ in feats.named_children()])]


def _pooled(out: torch.Tensor, names: list[str]) -> dict[str, torch.Tensor]:
    """{name: (B, C)} of one module's output (B, C, h, w): the per-channel spatial mean, or for a name
    ending in ``:std`` the standard deviation over the h * w positions (no Bessel correction); the mean
    is taken once for both. An output without positions is kept as it is (and has no spread)."""
    if out.ndim <= 2:
        if any(n.endswith(SPREAD) for n in names):
            raise UsageError(f"a spatial standard deviation ('{SPREAD}') needs an output (B, C, h, w) with "
                             f"positions; got {tuple(out.shape)}")
        return {n: out for n in names}
    dims = tuple(range(2, out.ndim))                      # over the positions as they lie: no flattened copy
    mean = out.mean(dims, keepdim=True)
    return {n: (out - mean).square_().mean(dims).sqrt_() if n.endswith(SPREAD) else mean.flatten(1) for n in names}


def extract(model: nn.Module, x, layers=(), views: int = 1, batch_size: int = 256) -> Outputs:
    """Logits, penultimate features and the spatial means of ``layers`` for ``x`` (N, C, S, S), in eval
    mode, on the model's device, for the first ``views`` D4 images of every map (1 or 8). A name
    ending in ``:std`` gives the named module's spatial standard deviations instead."""
    x = check_inputs(x)
    if views not in (1, D4_ORDER):
        raise UsageError(f"views must be 1 (identity) or {D4_ORDER} (every symmetry of the square); got {views}")
    first = next(model.parameters(), None)
    device = first.device if first is not None else torch.device("cpu")
    grab: dict[str, torch.Tensor] = {}
    hooks = [last_linear(model).register_forward_hook(
        lambda _m, inp, _o: grab.__setitem__("_features", inp[0].flatten(1)))]
    by_module: dict[str, list[str]] = {}
    for name in layers:
        by_module.setdefault(name.removesuffix(SPREAD), []).append(name)
    for module, names in by_module.items():  # each (B, C, h, w) output -> (B, C) per name
        hooks.append(named_module(model, module).register_forward_hook(
            lambda _m, _i, out, names=names: grab.update(_pooled(out, names))))
    parts: dict[str, list] = {"_logits": [], "_features": [], **{n: [] for n in layers}}
    step = max(1, batch_size // views)                                       # maps per forward pass
    try:
        with torch.no_grad(), eval_mode(model):
            for i in range(0, len(x), step):
                xb = x[i:i + step].to(device)
                z = model(torch.cat([dihedral(xb, k) for k in range(views)]))   # (views * B, K)
                grab["_logits"] = z
                for n in parts:
                    parts[n].append(grab[n].float().cpu().reshape(views, len(xb), -1))
    finally:
        for h in hooks:
            h.remove()
    cat = {n: torch.cat(v, dim=1) for n, v in parts.items()}
    return Outputs(cat.pop("_logits"), cat.pop("_features"), cat)
