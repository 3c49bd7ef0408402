"""The architectures the lectures build, behind one registry.

    from deepfab.models import ARCHS, build_model, rebuild
    net = build_model("resnet", in_channels=2, num_classes=9, width=16)
    ckpt = {"config": net.config, "state": net.state_dict()}
    net2 = rebuild(ckpt["config"]); net2.load_state_dict(ckpt["state"])

``ARCHS`` maps a name to its builder, in historical order (lecture 1's CNN lineage); ``MODELS``
adds lecture 2's ``small_cnn`` (dropout and batch-norm switches). Every model
takes ``(N, in_channels, S, S)`` and returns ``(N, num_classes)`` logits; ``model.config`` holds
the keyword arguments that rebuild it. ``complexity`` counts parameters, multiply-adds and
receptive fields. The generative models (``vae``: ``WaferVAE``, ``TraceVAE``, the toy
``LinearGaussianVAE``; ``gan``: MLP and DCGAN generators and discriminators, ``build_gan``) are
not classifiers and stay outside the registry; each keeps its ``config`` too, as do the image
restorers of lecture 10 (``restore``: ``DnCNN``, ``SRCNN``, ``ESPCN``, ``build_restorer``) and
lecture 12's channel-pruned ``SlimResNet`` (in ``MODELS``, so a pruned wafer model rebuilds).

Introduced in lecture 1 (CNN architectures).

References: see ``cnn_classic`` and ``cnn_modern`` for the papers behind each architecture.
"""
from __future__ import annotations

from .base import ZooNet, eval_mode
from .cnn_classic import VGG, AlexNetSmall, LeNet5, NiN
from .cnn_modern import DenseNet, GoogLeNet, MobileNet, ResNet
from .gan import GANS, DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator, build_gan
from .restore import ESPCN, RESTORERS, SRCNN, DnCNN, build_restorer, pixel_shuffle
from .slim import SlimResNet
from .small import SmallCNN
from .vae import LinearGaussianVAE, TraceVAE, VAEBase, WaferVAE

ARCHS = {
    "lenet": LeNet5,        # 1998
    "alexnet": AlexNetSmall,  # 2012
    "vgg": VGG,             # 2014
    "nin": NiN,             # 2014
    "googlenet": GoogLeNet,  # 2015
    "resnet": ResNet,       # 2016
    "mobilenet": MobileNet,  # 2017
    "densenet": DenseNet,   # 2017
}
# Everything build_model can build: the lineage above plus the switchable SmallCNN of lecture 2.
MODELS = {**ARCHS, "small_cnn": SmallCNN, "slim_resnet": SlimResNet}


def build_model(name: str, in_channels: int = 2, num_classes: int = 9, **kw) -> ZooNet:
    """Build architecture ``name`` (a key of ``MODELS``) with its keyword options."""
    if name not in MODELS:
        raise ValueError(f"unknown architecture {name!r}; expected one of {', '.join(MODELS)}")
    try:
        return MODELS[name](in_channels=in_channels, num_classes=num_classes, **kw)
    except TypeError as exc:  # an option the architecture does not take
        raise ValueError(f"{name}: bad option ({exc})") from None


def rebuild(config: dict) -> ZooNet:
    """Build a fresh model from a stored ``model.config`` (weights are loaded separately)."""
    if not isinstance(config, dict) or "arch" not in config:
        raise ValueError(f"config must be a dict with an 'arch' key (a model.config); got {config!r}")
    kw = dict(config)
    return build_model(kw.pop("arch"), **kw)


__all__ = ["ARCHS", "MODELS", "SmallCNN", "ZooNet", "build_model", "eval_mode", "rebuild", "LeNet5", "AlexNetSmall",
           "VGG", "NiN", "GoogLeNet", "ResNet", "MobileNet", "DenseNet", "LinearGaussianVAE", "TraceVAE", "VAEBase",
           "WaferVAE", "GANS", "DCGANDiscriminator", "DCGANGenerator", "MLPDiscriminator", "MLPGenerator", "build_gan",
           "SlimResNet", "DnCNN", "SRCNN", "ESPCN", "RESTORERS", "build_restorer", "pixel_shuffle"]
