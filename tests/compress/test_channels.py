"""Channel pruning (lecture 12): keep=1 is the same net; a pruned net is the original with channels zeroed.

Run: .venv/bin/python -m pytest tests/compress/test_channels.py -q
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from deepfab.compress import prune_channels
from deepfab.errors import ModelError, UsageError
from deepfab.models import ResNet, SlimResNet, SmallCNN
from deepfab.models.complexity import count_flops

torch.set_num_threads(1)


def trained_like(net, seed=0):
    """Random weights plus BN statistics moved off their init (one training-mode forward)."""
    torch.manual_seed(seed)
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.weight.data.uniform_(0.2, 1.5)
            m.bias.data.normal_(0, 0.2)
    net.train()
    with torch.no_grad():
        net(torch.rand(16, 2, 32, 32))
    return net.eval()


@pytest.mark.parametrize("criterion", ["l1", "bn"])
def test_keep_one_gives_identical_outputs(criterion):
    net = trained_like(ResNet(width=8, blocks=(2, 1, 1)))
    small = prune_channels(net, 1.0, criterion=criterion)
    assert isinstance(small, SlimResNet) and small.config["widths"] == [8, 16, 32]
    x = torch.rand(6, 2, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(small(x), net(x), rtol=0, atol=0)


def l1(conv) -> np.ndarray:
    return conv.weight.detach().abs().flatten(1).sum(1).numpy()          # (C_out,) filter L1 norms


def top_k_sorted(scores: np.ndarray, k: int) -> np.ndarray:
    return np.sort(np.argsort(-scores, kind="stable")[:k])


def test_pruned_net_equals_the_original_with_the_removed_channels_zeroed():
    """Oracle: masks on the original net at the channels a numpy L1 ranking removes (brute force)."""
    net = trained_like(ResNet(width=8, blocks=(2, 1, 1)), seed=3)
    keep = 0.5
    blocks = list(net.features)
    # streams: stage 0 = stem + blocks 0, 1 (identity shortcuts); stage 1 = block 2; stage 2 = block 3
    s0 = l1(net.stem[0]) + l1(blocks[0].conv2) + l1(blocks[1].conv2)
    s1 = l1(blocks[2].conv2) + l1(blocks[2].shortcut[0])
    s2 = l1(blocks[3].conv2) + l1(blocks[3].shortcut[0])
    kept = [top_k_sorted(s, len(s) // 2) for s in (s0, s1, s2)]
    stream_of = [0, 0, 1, 2]
    inner = [top_k_sorted(l1(b.conv1), b.conv1.out_channels // 2) for b in blocks]

    def zero_except(idx):
        def hook(module, inputs, out):
            mask = torch.zeros(out.shape[1], dtype=torch.bool)
            mask[torch.as_tensor(idx)] = True
            return out * mask[None, :, None, None]
        return hook

    handles = [net.stem.register_forward_hook(zero_except(kept[0]))]
    for b, block in enumerate(blocks):
        handles.append(block.bn1.register_forward_hook(zero_except(inner[b])))
        handles.append(block.register_forward_hook(zero_except(kept[stream_of[b]])))
    x = torch.rand(5, 2, 32, 32)
    small = prune_channels(net, keep)
    with torch.no_grad():
        expected = net(x)
        got = small(x)
    for h in handles:
        h.remove()
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
    assert small.config["widths"] == [4, 8, 16] and small.config["inner"] == [[4, 4], [8], [16]]
    with torch.no_grad():
        assert not torch.allclose(net(x), got, atol=1e-3)          # the hooks were removed; pruning changed it


def test_fewer_flops_and_the_original_is_unchanged():
    net = trained_like(ResNet(width=16))
    before = {k: v.clone() for k, v in net.state_dict().items()}
    f0 = count_flops(net, (2, 32, 32))
    f = [count_flops(prune_channels(net, k), (2, 32, 32)) / f0 for k in (0.75, 0.5, 0.25)]
    assert f[0] < 0.65 and f[1] < 0.3 and f[2] < 0.1 and f[0] > f[1] > f[2]      # about keep^2
    for k, v in net.state_dict().items():
        torch.testing.assert_close(v, before[k], rtol=0, atol=0)


def test_residual_share_apart_and_a_slim_net_prunes_again():
    net = trained_like(ResNet(width=8, blocks=(1, 1)))
    small = prune_channels(net, 0.5, residual=1.0)
    assert small.config["widths"] == [8, 16] and small.config["inner"] == [[4], [8]]
    again = prune_channels(small, 0.5)
    assert again.config["widths"] == [4, 8] and again.config["inner"] == [[2], [4]]


def test_multiple_rounds_every_kept_count_down_and_keeps_at_least_one_multiple():
    net = trained_like(ResNet(width=16))
    assert prune_channels(net, 0.75).config["widths"] == [12, 24, 48, 96]
    small = prune_channels(net, 0.75, multiple=8)
    assert (small.config["stem"], small.config["widths"], small.config["inner"]) == (
        8, [8, 24, 48, 96], [[8], [24], [48], [96]])
    assert prune_channels(net, 0.5, multiple=8).config == prune_channels(net, 0.5).config   # already multiples
    assert prune_channels(net, 0.1, multiple=8).config["widths"] == [8, 8, 8, 8]            # 2, 3, 6, 13 -> 8
    tiny = trained_like(ResNet(width=4, blocks=(1, 1)))
    assert prune_channels(tiny, 0.5, multiple=8).config["widths"] == [4, 8]                 # 4 < 8: all kept
    x = torch.rand(3, 2, 32, 32)
    assert small(x).shape == (3, 9)
    with pytest.raises(UsageError, match="multiple must be a positive int"):
        prune_channels(net, 0.5, multiple=0)


def test_a_stem_stream_of_its_own_keeps_its_projection():
    net = trained_like(SlimResNet(stem=6, widths=(5, 8), inner=((4,), (6,))))
    small = prune_channels(net, 0.5)                # stem 3 and stage 0 3 would make an identity: stem moves
    assert small.config["stem"] != small.config["widths"][0]
    assert isinstance(small.features[0].shortcut, torch.nn.Sequential)
    assert small(torch.rand(2, 2, 32, 32)).shape == (2, 9)


def test_bad_arguments_raise():
    net = ResNet(width=4)
    for bad in (0.0, 1.5, True, "half"):
        with pytest.raises(UsageError, match="keep must be a share"):
            prune_channels(net, bad)
    with pytest.raises(UsageError, match="criterion"):
        prune_channels(net, 0.5, criterion="l2")
    with pytest.raises(ModelError, match="ResNet or SlimResNet"):
        prune_channels(SmallCNN(), 0.5)
