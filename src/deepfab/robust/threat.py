"""Threat models for encoded wafer maps: which cells an attacker may change, by how much, and the valid box.

Introduced in lecture 5 (adversarial attacks). An attack is only meaningful against a stated
threat model (Carlini et al. 2019): what the attacker may touch, the size of the change (the
budget ``eps`` in a norm), and the set of inputs that are still valid.

Inputs are encoded wafer maps ``x`` (N, C, S, S) from ``deepfab.data.encode_maps``: channel 0 the
wafer area, channel 1 the fail dies, optional channel 2 the fail fraction of each cell; every
value lies in the **valid box [0, 1]**. ``ThreatModel`` says which of them an attacker may move:

* ``channels`` -- the channels that may change. The default ``"fail"`` is channel 1 and, when
  present, channel 2: what a tester writes. The wafer area is fixed by the product (a die grid
  does not change between wafers of one product), so channel 0 stays as it is. ``"all"`` lets
  every channel move (the image-classification threat model, and the one ``torchattacks`` uses);
  a tuple of indices picks channels.
* ``on_wafer`` -- change only cells on the wafer (``x[:, 0] > 0``); off-wafer cells hold no die
  and stay 0. Default True.
* ``box`` -- the valid range (0, 1); every adversarial example is clamped into it.

The continuous budget relaxes the discrete map: an attacked fail channel may hold 0.3 where a
real map holds 0 or 1, and channels 1 and 2 may disagree. Die flips (``deepfab.robust.dieflip``)
are the physical threat model: whole pass <-> fail changes of the raw map, re-encoded.

    from deepfab.robust import ThreatModel
    tm = ThreatModel()                              # fail channel(s), wafer cells only, box [0, 1]
    mask = tm.mask(x)                               # (N, C, S, S) 1 where the attacker may write
    x_adv = tm.project(x, x_adv, eps, "linf")       # back into the eps-ball, the mask and the box
    tm_img = ThreatModel(channels="all", on_wafer=False)   # every value of every cell

References:
    N. Carlini et al., "On Evaluating Adversarial Robustness", arXiv:1902.06705, 2019.
    A. Madry et al., "Towards Deep Learning Models Resistant to Adversarial Attacks", ICLR 2018.
    N. Carlini, D. Wagner, "Towards Evaluating the Robustness of Neural Networks", S&P 2017 (the margin).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..errors import DataError, UsageError

NORMS = ("linf", "l2")


@dataclass(frozen=True)
class ThreatModel:
    """Where an attacker may write (``channels``, ``on_wafer``) and the valid input ``box``."""

    channels: str | tuple = "fail"     # "fail" (1 and 2), "all", or a tuple of channel indices
    on_wafer: bool = True              # only cells with x[:, 0] > 0
    box: tuple = (0.0, 1.0)            # valid values of every channel

    def channel_list(self, n_channels: int) -> list[int]:
        """The channel indices an attacker may change for inputs with ``n_channels`` channels."""
        if self.channels == "fail":
            return list(range(1, n_channels))
        if self.channels == "all":
            return list(range(n_channels))
        if isinstance(self.channels, tuple) and all(isinstance(c, int) and 0 <= c < n_channels
                                                    for c in self.channels):
            return sorted(set(self.channels))
        raise UsageError(f"ThreatModel.channels must be 'fail', 'all' or a tuple of ints in [0, {n_channels}); "
                         f"got {self.channels!r}")

    def check(self, x: torch.Tensor) -> None:
        """Refuse inputs that are not (N, C, S, S) inside the box."""
        lo, hi = self.box
        if not isinstance(x, torch.Tensor) or x.ndim != 4:
            got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise DataError(f"expected encoded maps (N, C, S, S) as a tensor; got {got}")
        if x.numel() and (float(x.min()) < lo or float(x.max()) > hi):
            raise DataError(f"encoded maps must lie in the box [{lo}, {hi}]; got values in "
                            f"[{float(x.min()):.3g}, {float(x.max()):.3g}]")

    def mask(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, S, S) of x's dtype: 1 where the attacker may write, 0 elsewhere."""
        m = torch.zeros_like(x)
        m[:, self.channel_list(x.shape[1])] = 1.0
        if self.on_wafer:
            m = m * (x[:, :1] > 0).to(x.dtype)          # (N, 1, S, S) wafer cells, broadcast over channels
        return m

    def project(self, x: torch.Tensor, x_adv: torch.Tensor, eps: float, norm: str = "linf",
                mask: torch.Tensor | None = None) -> torch.Tensor:
        """``x_adv`` moved back into the threat model: mask, then the eps-ball of ``norm``, then the box.

        The box clamp after the ball projection keeps the ball (it only shrinks each coordinate of
        the perturbation), the order ``torchattacks`` uses.
        """
        mask = self.mask(x) if mask is None else mask
        delta = (x_adv - x) * mask
        if norm == "linf":
            delta = delta.clamp(-eps, eps)
        elif norm == "l2":
            n = delta.flatten(1).norm(dim=1).view(-1, 1, 1, 1)           # (N, 1, 1, 1)
            delta = delta * torch.minimum(torch.ones_like(n), eps / n)   # n = 0 gives inf -> factor 1
        else:
            raise UsageError(f"norm must be one of {NORMS}; got {norm!r}")
        return (x + delta).clamp(*self.box)


def check_eps(eps, name: str = "eps") -> float:
    """A budget: a finite float >= 0."""
    if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not eps >= 0 or eps == float("inf"):
        raise UsageError(f"{name} must be a finite number >= 0; got {eps!r}")
    return float(eps)


def margin(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """(N,) logit of class ``y`` minus the largest other logit: negative exactly when ``y`` is not predicted
    (ties aside): what a minimal attack drives below zero."""
    own = logits.gather(1, y.view(-1, 1)).squeeze(1)
    others = logits.scatter(1, y.view(-1, 1), float("-inf"))
    return own - others.amax(1)
