"""Image-restoration networks: DnCNN (denoising), SRCNN and ESPCN (super-resolution), in plain torch.

Introduced in lecture 10 (denoising and super-resolution); ``deepfab sem`` and lecture 11 use them.
All three are fully convolutional (every convolution padded 'same'), so they take grayscale (or
C-channel) images ``(N, C, H, W)`` of any H and W:

    from deepfab.models.restore import DnCNN, SRCNN, ESPCN, build_restorer, pixel_shuffle
    net = DnCNN(channels=1, depth=10, features=32)
    x_hat = net(y)                 # (N, 1, H, W): the denoised image y - R(y)
    noise = net.residual(y)        # (N, 1, H, W): R(y), what the body predicts (the noise)
    sr = ESPCN(scale=2)(lr)        # (N, 1, 2H, 2W) from the low-resolution image
    sr2 = SRCNN()(bicubic_up)      # (N, 1, H, W) from a bicubic-upsampled input (same size out)
    twin = build_restorer(**net.config)   # a fresh copy; weights via load_state_dict

DnCNN (residual learning): conv-ReLU, ``depth - 2`` times conv-BN-ReLU, conv; the body predicts
the noise v = y - x, so the loss ||R(y) - (y - x)||^2 equals ||(y - R(y)) - x||^2 and ``forward``
returns the clean estimate y - R(y). The paper uses depth 17 and 64 features for Gaussian
denoising at a known level, 20 for its blind model; the lectures use depth 8-10, 32 features.

SRCNN: patch extraction (f1 x f1, n1 filters), non-linear mapping (f2 x f2, n2), reconstruction
(f3 x f3), ReLU between them; it refines an image already bicubic-upsampled to the target size.
The 9-5-5 setting is the paper's best (2016 journal version). The paper's convolutions are
unpadded; ours are padded so the output has the input's size.

ESPCN: two convolutions on the *low-resolution* image (5x5, n1 and 3x3, n2, tanh), then a 3x3
convolution to C r^2 channels and a periodic shuffle (``pixel_shuffle``) that rearranges them
into an image r times larger: the upsampling is learned and all convolutions run at low resolution.

References:
    K. Zhang, W. Zuo, Y. Chen, D. Meng, L. Zhang, "Beyond a Gaussian Denoiser: Residual Learning of
    Deep CNN for Image Denoising", IEEE TIP 26(7), 2017.
    C. Dong, C. C. Loy, K. He, X. Tang, "Learning a Deep Convolutional Network for Image
    Super-Resolution", ECCV 2014; "Image Super-Resolution Using Deep Convolutional Networks",
    IEEE TPAMI 38(2), 2016.
    W. Shi et al., "Real-Time Single Image and Video Super-Resolution Using an Efficient Sub-Pixel
    Convolutional Neural Network", CVPR 2016.
"""
from __future__ import annotations

import torch
from torch import nn

from ..errors import ModelError


def _check(owner: str, odd: tuple = (), **values) -> None:
    """Positive ints; those named in ``odd`` must be odd (a 'same'-padded kernel)."""
    for name, v in values.items():
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ModelError(f"{owner}: {name} must be a positive int; got {v!r}")
        if name in odd and v % 2 == 0:
            raise ModelError(f"{owner}: {name} must be an odd kernel size; got {v}")


def pixel_shuffle(x: torch.Tensor, r: int) -> torch.Tensor:
    """Periodic shuffle (N, C r^2, H, W) -> (N, C, H r, W r).

    out[n, c, h r + i, w r + j] = x[n, c r^2 + i r + j, h, w], as ``torch.nn.functional.pixel_shuffle``."""
    n, c_r2, h, w = x.shape
    if c_r2 % (r * r):
        raise ModelError(f"pixel_shuffle: channels must be a multiple of r^2 = {r * r}; got {c_r2}")
    c = c_r2 // (r * r)
    x = x.reshape(n, c, r, r, h, w)              # (N, C, i, j, H, W)
    x = x.permute(0, 1, 4, 2, 5, 3)              # (N, C, H, i, W, j)
    return x.reshape(n, c, h * r, w * r)


class _Restorer(nn.Module):
    """Input check and ``config`` (the keyword arguments that rebuild the model)."""

    arch = "restorer"

    def __init__(self, **config):
        super().__init__()
        self.config = {"arch": self.arch, **config}
        self.channels = config["channels"]

    def check_input(self, x: torch.Tensor) -> None:
        if not isinstance(x, torch.Tensor) or x.ndim != 4 or x.shape[1] != self.channels:
            got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ModelError(f"{self.arch}: expected input (N, {self.channels}, H, W); got {got}")


class DnCNN(_Restorer):
    """Residual denoiser of Zhang et al. 2017: ``forward(y) = y - R(y)``; ``residual(y) = R(y)``."""

    arch = "dncnn"

    def __init__(self, channels: int = 1, depth: int = 17, features: int = 64):
        _check("DnCNN", channels=channels, depth=depth, features=features)
        if depth < 3:
            raise ModelError(f"DnCNN: depth must be >= 3 (first, BN body, last layer); got {depth}")
        super().__init__(channels=channels, depth=depth, features=features)
        layers = [nn.Conv2d(channels, features, 3, padding=1), nn.ReLU(inplace=True)]
        for _ in range(depth - 2):
            layers += [nn.Conv2d(features, features, 3, padding=1, bias=False), nn.BatchNorm2d(features),
                       nn.ReLU(inplace=True)]
        layers.append(nn.Conv2d(features, channels, 3, padding=1))
        self.body = nn.Sequential(*layers)
        for m in self.modules():                      # He init as in the paper
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
        nn.init.zeros_(self.body[-1].weight)          # start as the identity (R = 0): short runs do not
                                                      # spend their steps undoing a large random residual

    def residual(self, y: torch.Tensor) -> torch.Tensor:
        """R(y): the predicted noise, (N, C, H, W)."""
        self.check_input(y)
        return self.body(y)

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        return y - self.residual(y)                   # (N, C, H, W) clean estimate


class SRCNN(_Restorer):
    """Dong et al.'s three-layer SR network on a bicubic-upsampled input; output the same size as the input."""

    arch = "srcnn"

    def __init__(self, channels: int = 1, f1: int = 9, f2: int = 5, f3: int = 5, n1: int = 64, n2: int = 32):
        _check("SRCNN", odd=("f1", "f2", "f3"), channels=channels, f1=f1, f2=f2, f3=f3, n1=n1, n2=n2)
        super().__init__(channels=channels, f1=f1, f2=f2, f3=f3, n1=n1, n2=n2)
        self.body = nn.Sequential(
            nn.Conv2d(channels, n1, f1, padding=f1 // 2), nn.ReLU(inplace=True),   # patch extraction
            nn.Conv2d(n1, n2, f2, padding=f2 // 2), nn.ReLU(inplace=True),         # non-linear mapping
            nn.Conv2d(n2, channels, f3, padding=f3 // 2))                           # reconstruction

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.check_input(x)
        return self.body(x)


class ESPCN(_Restorer):
    """Shi et al.'s sub-pixel network: convolutions at low resolution, then ``pixel_shuffle`` by ``scale``."""

    arch = "espcn"

    def __init__(self, scale: int, channels: int = 1, n1: int = 64, n2: int = 32, f1: int = 5, f2: int = 3,
                 f3: int = 3):
        _check("ESPCN", odd=("f1", "f2", "f3"), scale=scale, channels=channels, n1=n1, n2=n2, f1=f1, f2=f2, f3=f3)
        super().__init__(scale=scale, channels=channels, n1=n1, n2=n2, f1=f1, f2=f2, f3=f3)
        self.scale = scale
        self.body = nn.Sequential(
            nn.Conv2d(channels, n1, f1, padding=f1 // 2), nn.Tanh(),
            nn.Conv2d(n1, n2, f2, padding=f2 // 2), nn.Tanh(),
            nn.Conv2d(n2, channels * scale * scale, f3, padding=f3 // 2))      # (N, C r^2, H, W)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.check_input(x)
        return pixel_shuffle(self.body(x), self.scale)                          # (N, C, H r, W r)


RESTORERS = {"dncnn": DnCNN, "srcnn": SRCNN, "espcn": ESPCN}


def build_restorer(name: str | dict | None = None, **kw) -> _Restorer:
    """A restoration model from its name and options, or from a stored config: ``build_restorer(net.config)``
    (or ``build_restorer(**net.config)``)."""
    if isinstance(name, dict):
        name, kw = None, {**name, **kw}
    name = kw.pop("arch", None) if name is None else name
    kw.pop("arch", None)
    if name not in RESTORERS:
        raise ModelError(f"unknown restoration model {name!r}; expected one of {', '.join(RESTORERS)}")
    try:
        return RESTORERS[name](**kw)
    except TypeError as exc:                          # an option the model does not take
        raise ModelError(f"{name}: bad option ({exc})") from None


__all__ = ["DnCNN", "SRCNN", "ESPCN", "RESTORERS", "build_restorer", "pixel_shuffle"]
