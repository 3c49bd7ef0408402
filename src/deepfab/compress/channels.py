"""Structured channel pruning of a ResNet: fewer filters, a smaller dense net, fewer multiply-adds.

Unstructured pruning (``compress.prune``) zeroes single weights and leaves every tensor its shape,
so a dense kernel does the same work. Channel pruning removes whole filters (output channels)
together with the input channels of the layers that read them, and rebuilds a *smaller dense*
network (``models.SlimResNet``), so the convolutions really shrink: a conv with a share ``k`` of
its input and output channels kept costs about ``k^2`` of its multiply-adds.

    from deepfab.compress import prune_channels
    small = prune_channels(net, keep=0.5)                 # a SlimResNet, BN statistics copied; fine-tune it
    small = prune_channels(net, keep=0.5, residual=0.75)  # the residual streams pruned less

What is pruned, and how the channels are chosen (Li et al. 2017: rank filters by the L1 norm
sum |W[c]| of their weights, keep the largest):

- **inner channels** (the first conv of each block): free; conv1's filters by their L1 norm,
  bn1 the same channels, conv2's input channels the same;
- **residual streams**: every conv that writes into one stream (the stem or a block's second
  conv, its shortcut conv) adds into the same channels, so a stream keeps **one** channel set for
  all of them and for every layer that reads it (the next blocks' conv1 and shortcut, the head).
  A stream's channel c scores the sum over its writers of their filter norms.

``criterion="bn"`` scores a filter by its batch-norm scale |gamma_c| instead (Liu et al. 2017, network
slimming); with BN after each conv the effective filter is gamma_c W[c] / sigma_c. Kept
channels stay in their original order, so ``keep=1.0`` gives the network back (the tests check
identical outputs). Without fine-tuning a pruned net loses accuracy; lecture 12 fine-tunes it.

Introduced in lecture 12 (pruning and compression).

References:
    H. Li, A. Kadav, I. Durdanovic, H. Samet, H. P. Graf, "Pruning Filters for Efficient ConvNets", ICLR 2017.
    Z. Liu, J. Li, Z. Shen, G. Huang, S. Yan, C. Zhang, "Learning Efficient Convolutional Networks through
    Network Slimming", ICCV 2017.
    K. He, X. Zhang, S. Ren, J. Sun, "Deep Residual Learning for Image Recognition", CVPR 2016.
"""
from __future__ import annotations

import torch
from torch import nn

from ..errors import ModelError, UsageError
from ..models import SlimResNet

CRITERIA = ("l1", "bn")


def _n_keep(n: int, keep: float, multiple: int = 1) -> int:
    """Channels kept of n: the share ``keep``, rounded down to a multiple of ``multiple`` (at least one multiple)."""
    k = max(1, min(n, int(keep * n + 0.5)))
    return max(min(n, multiple), k // multiple * multiple)


def _filter_scores(conv: nn.Conv2d, bn: nn.BatchNorm2d, criterion: str) -> torch.Tensor:
    """(C_out,) importance of each output channel of conv (followed by bn)."""
    if criterion == "l1":
        return conv.weight.detach().abs().flatten(1).sum(1)
    return bn.weight.detach().abs()


def _top(scores: torch.Tensor, k: int) -> torch.Tensor:
    """Indices of the k largest scores, in increasing index order (the kept channels keep their order)."""
    return torch.sort(torch.topk(scores, k).indices).values


def _copy_conv(dst: nn.Conv2d, src: nn.Conv2d, out_idx, in_idx) -> None:
    dst.weight.copy_(src.weight[out_idx][:, in_idx])           # (C_out', C_in', k, k)


def _copy_bn(dst: nn.BatchNorm2d, src: nn.BatchNorm2d, idx) -> None:
    for name in ("weight", "bias", "running_mean", "running_var"):
        getattr(dst, name).copy_(getattr(src, name)[idx])
    dst.num_batches_tracked.copy_(src.num_batches_tracked)


def _streams(net):
    """Residual streams: stream id of each block's input and output, and each stream's writers (conv, bn)."""
    stem_conv, stem_bn = net.stem[0], net.stem[1]
    writers, s_in, s_out, s = [[(stem_conv, stem_bn)]], [], [], 0
    for block in net.features:
        s_in.append(s)
        if not isinstance(block.shortcut, nn.Identity):            # a projection starts a new stream
            writers.append([(block.shortcut[0], block.shortcut[1])])
            s = len(writers) - 1
        writers[s].append((block.conv2, block.bn2))
        s_out.append(s)
    return writers, s_in, s_out


@torch.no_grad()
def prune_channels(net: nn.Module, keep: float, criterion: str = "l1", residual: float | None = None,
                   multiple: int = 1) -> SlimResNet:
    """A ``SlimResNet`` keeping a share ``keep`` of each block's inner channels and ``residual`` (default
    ``keep``) of each residual stream's channels, chosen by ``criterion`` ("l1" or "bn"); weights and BN
    statistics are copied from ``net`` (a ``ResNet`` or ``SlimResNet``, left unchanged). Every kept
    count is rounded down to a multiple of ``multiple`` (8 suits int8 kernels: a 12-channel int8
    convolution runs about as slowly as a 16-channel float one)."""
    residual = keep if residual is None else residual
    for name, v in (("keep", keep), ("residual", residual)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.0 < v <= 1.0:
            raise UsageError(f"prune_channels: {name} must be a share in (0, 1]; got {v!r}")
    if isinstance(multiple, bool) or not isinstance(multiple, int) or multiple < 1:
        raise UsageError(f"prune_channels: multiple must be a positive int; got {multiple!r}")
    if criterion not in CRITERIA:
        raise UsageError(f"prune_channels: criterion must be one of {CRITERIA}; got {criterion!r}")
    cfg = getattr(net, "config", None)
    if not isinstance(cfg, dict) or cfg.get("arch") not in ("resnet", "slim_resnet"):
        raise ModelError(f"prune_channels needs a ResNet or SlimResNet; got {type(net).__name__}")
    slim_cfg = SlimResNet.like(net).config
    writers, s_in, s_out = _streams(net)
    kept = []                                                      # kept channel indices of each stream
    for ws in writers:
        scores = sum(_filter_scores(c, b, criterion) for c, b in ws)
        kept.append(_top(scores, _n_keep(len(scores), residual, multiple)))
    if len(writers) > 1 and s_out[0] != 0 and len(kept[0]) == len(kept[s_out[0]]):
        # the stem has its own stream (stem != widths[0]); equal widths would build an identity shortcut
        n0 = len(kept[0]) + 1 if len(kept[0]) < net.stem[0].out_channels else len(kept[0]) - 1
        kept[0] = _top(_filter_scores(net.stem[0], net.stem[1], criterion), max(n0, 1))
    inner_kept = [_top(_filter_scores(b.conv1, b.bn1, criterion), _n_keep(b.conv1.out_channels, keep, multiple))
                  for b in net.features]
    # the new widths: one stream per stage (its last block's output); inner widths per block, per stage
    widths, inner, k = [], [], 0
    for stage in slim_cfg["inner"]:
        inner.append(tuple(len(inner_kept[k + j]) for j in range(len(stage))))
        k += len(stage)
        widths.append(len(kept[s_out[k - 1]]))
    small = SlimResNet(cfg["in_channels"], cfg["num_classes"], stem=len(kept[0]), widths=tuple(widths),
                       inner=tuple(inner))
    all_in = torch.arange(cfg["in_channels"])
    _copy_conv(small.stem[0], net.stem[0], kept[0], all_in)
    _copy_bn(small.stem[1], net.stem[1], kept[0])
    for b, (new, old) in enumerate(zip(small.features, net.features)):
        i, m, o = kept[s_in[b]], inner_kept[b], kept[s_out[b]]
        _copy_conv(new.conv1, old.conv1, m, i)
        _copy_bn(new.bn1, old.bn1, m)
        _copy_conv(new.conv2, old.conv2, o, m)
        _copy_bn(new.bn2, old.bn2, o)
        if isinstance(old.shortcut, nn.Identity) != isinstance(new.shortcut, nn.Identity):
            raise ModelError(f"prune_channels: block {b} changed its shortcut kind; widths {widths}")
        if not isinstance(old.shortcut, nn.Identity):
            _copy_conv(new.shortcut[0], old.shortcut[0], o, i)
            _copy_bn(new.shortcut[1], old.shortcut[1], o)
    head_old, head_new = net.head[2], small.head[2]
    head_new.weight.copy_(head_old.weight[:, kept[s_out[-1]]])     # (classes, C_last')
    head_new.bias.copy_(head_old.bias)
    return small.train(net.training)
