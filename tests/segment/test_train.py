"""Tests of segmentation data and training: (input, mask) sets from the synthetic generator,
``fit(loss_fn=, metrics_fn=)`` of the engine on dense targets, prediction and scoring.

    .venv/bin/python -m pytest tests/segment/test_train.py -q
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from deepfab.data import DataError
from deepfab.models.segmentation import FCN, UNet
from deepfab.segment import (
    GROUPS,
    encode_native,
    fail_baseline,
    make_segmentation_set,
    predict_logits,
    predict_masks,
    score_by_group,
    train_segmenter,
)
from deepfab.segment.losses import bce_dice_loss, mask_metrics
from deepfab.train import TrainConfig, fit

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def small():
    return make_segmentation_set(3, diameter=(16, 28), canvas=32, seed=0)


def test_segmentation_set_shapes_and_targets(small):
    s = small
    assert s.X.shape == (30, 2, 32, 32) and s.Y.shape == (30, 1, 32, 32) and list(np.unique(s.groups)) == sorted(GROUPS)
    fails, wafer, y = s.X[:, 1] > 0, s.X[:, 0] > 0, s.Y[:, 0] > 0
    assert not (y & ~fails).any() and not (fails & ~wafer).any()       # target "fails": pattern fail dies only
    assert not y[s.groups == "none"].any()
    assert (y[s.groups == "Random"] == fails[s.groups == "Random"]).all()  # Random: every fail die is the pattern
    assert all("+" in k for k in s.kinds[s.groups == "mixed"])
    again = make_segmentation_set(3, diameter=(16, 28), canvas=32, seed=0)
    assert np.array_equal(again.X, s.X) and np.array_equal(again.Y, s.Y)
    region = make_segmentation_set(3, diameter=(16, 28), canvas=32, seed=0, target="region")
    assert np.array_equal(region.X, s.X) and (region.Y >= s.Y).all() and region.Y.sum() > s.Y.sum()


def test_encode_native_centres_maps_and_refuses_large_ones():
    m = np.array([[0, 1, 0], [1, 2, 1], [0, 2, 0]], np.uint8)
    x = encode_native([m], canvas=5)
    assert x.shape == (1, 2, 5, 5)
    assert x[0, 0, 1:4, 1:4].tolist() == (m > 0).astype(np.float32).tolist() and x[0, 1].sum() == 2
    with pytest.raises(DataError, match="fit the 5 x 5 canvas"):
        encode_native([np.ones((6, 4), np.uint8)], canvas=5)
    with pytest.raises(ValueError, match="fit the canvas"):
        make_segmentation_set(1, diameter=(20, 46), canvas=48)


def test_fail_baseline_is_the_fail_channel(small):
    b = fail_baseline(small.X)
    rows = score_by_group(b, small.Y > 0.5, small.groups)
    by = {r["group"]: r for r in rows}
    assert by["Random"]["iou"] == 1.0 and by["none"]["iou"] == 0.0 and by["Scratch"]["iou"] < 1.0
    assert rows[-1]["group"] == "all" and rows[-1]["n"] == 30


def test_fit_with_loss_fn_reduces_the_loss_and_is_seeded(small):
    cfg = TrainConfig(epochs=3, batch_size=10, lr=5e-3, monitor="val_loss", progress=False, seed=1)

    def run():
        torch.manual_seed(0)
        return train_segmenter(UNet(width=4, depth=2), small, small.subset(np.arange(10)), cfg)

    a, b = run(), run()
    losses = [h["train_loss"] for h in a.history]
    assert losses[-1] < losses[0]
    assert a.history == b.history
    assert {"val_loss", "val_iou", "val_dice", "val_micro_iou", "val_micro_dice"} <= set(a.history[0])
    assert set(a.best_metrics) == {"loss", "iou", "dice", "micro_iou", "micro_dice"}
    masks = predict_masks(a.model, small.X)
    assert masks.shape == small.Y.shape and masks.dtype == bool and not (masks[:, 0] & (small.X[:, 0] == 0)).any()


def test_a_few_steps_reduce_the_loss_for_both_networks(small):
    X, Y = torch.as_tensor(small.X), torch.as_tensor(small.Y)
    for net in (FCN(width=4, depth=3, skips=2), UNet(width=4, depth=2)):
        torch.manual_seed(0)
        opt = torch.optim.Adam(net.parameters(), lr=1e-2)
        first = None
        for _ in range(8):
            loss = bce_dice_loss(net(X), Y)
            first = float(loss.detach()) if first is None else first
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            assert float(bce_dice_loss(net(X), Y)) < first


def test_fit_refuses_classification_options_with_loss_fn(small):
    data = (small.X, small.Y)
    with pytest.raises(ValueError, match="monitor must be 'val_loss'"):
        fit(UNet(width=4, depth=1), data, data, TrainConfig(epochs=1, progress=False), loss_fn=bce_dice_loss)
    with pytest.raises(ValueError, match="mixup_alpha"):
        fit(UNet(width=4, depth=1), data, None, TrainConfig(epochs=1, mixup_alpha=0.2, progress=False),
            loss_fn=bce_dice_loss)
    with pytest.raises(ValueError, match="metrics_fn needs loss_fn"):
        fit(UNet(width=4, depth=1), data, None, TrainConfig(epochs=1, progress=False), metrics_fn=mask_metrics)
    with pytest.raises(ValueError, match="X \\(N, ...\\) and Y"):
        fit(UNet(width=4, depth=1), (small.X, small.Y[:5]), None, TrainConfig(epochs=1, progress=False),
            loss_fn=bce_dice_loss)


def test_fit_with_loss_fn_resumes_from_its_checkpoint(small, tmp_path):
    data = (small.X[:12], small.Y[:12])
    kw = dict(epochs=2, batch_size=6, lr=5e-3, monitor="val_loss", progress=False)
    torch.manual_seed(0)
    init = UNet(width=4, depth=1).state_dict()

    def model():
        net = UNet(width=4, depth=1)
        net.load_state_dict(init)
        return net

    whole = fit(model(), data, data, TrainConfig(**kw), loss_fn=bce_dice_loss, metrics_fn=mask_metrics)

    def stop(record):
        raise KeyboardInterrupt                          # the run dies after epoch 1's checkpoint

    cfg = TrainConfig(**kw, out_dir=str(tmp_path), resume=True)
    with pytest.raises(KeyboardInterrupt):
        fit(model(), data, data, cfg, on_epoch_end=stop, loss_fn=bce_dice_loss, metrics_fn=mask_metrics)
    resumed = fit(UNet(width=4, depth=1), data, data, cfg, loss_fn=bce_dice_loss, metrics_fn=mask_metrics)
    assert resumed.history == whole.history and resumed.best_metrics == whole.best_metrics



def test_predict_logits_uses_eval_mode_and_restores_the_mode(small):
    torch.manual_seed(0)
    net = UNet(width=4, depth=1)
    net.train()
    logits = predict_logits(net, small.X[:2], device="cpu")
    assert net.training                                  # restored
    with torch.no_grad():
        expected = net.eval()(torch.as_tensor(small.X[:2])).numpy()
    np.testing.assert_allclose(logits, expected, rtol=1e-6, atol=1e-6)
