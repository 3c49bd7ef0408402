"""Worked solutions to the exercises of lecture 4 (image segmentation).

    deepfab exercise L04 1 --smoke
"""
from __future__ import annotations

import numpy as np

CANVAS = 48   # the lecture's canvas: one die is one pixel


def _plan(smoke: bool) -> dict:
    return (dict(n_train=2, n_val=1, n_test=2, epochs=1, width=4) if smoke else
            dict(n_train=30, n_val=8, n_test=15, epochs=8, width=8))


def _train_unet(train, val, plan: dict, seed: int, loss_fn=None):
    """Section 6's U-Net and recipe, seeded; ``loss_fn`` None: BCE + soft Dice."""
    import torch

    from ..models.segmentation import UNet
    from ..segment import bce_dice_loss, train_segmenter
    from ..train import TrainConfig

    cfg = TrainConfig(epochs=plan["epochs"], batch_size=32, lr=3e-3, weight_decay=1e-4, scheduler="cosine",
                      monitor="val_loss", seed=seed, progress=False)
    torch.manual_seed(seed)
    return train_segmenter(UNet(width=plan["width"], depth=3), train, val, cfg, loss_fn=loss_fn or bce_dice_loss).model


def _iou_by_group(model, data, threshold: float = 0.5) -> dict:
    from ..segment import predict_masks, score_by_group

    rows = score_by_group(predict_masks(model, data.X, threshold=threshold, device="cpu"), data.Y > 0.5, data.groups)
    return {r["group"]: float(r["iou"]) for r in rows}


def exercise_1(smoke: bool = False, seed: int = 0) -> dict:
    """BCE, soft Dice, or both: which loss finds the thin patterns?

    Section 6 trains on BCE + soft Dice. Train the same U-Net on BCE alone and on soft Dice
    alone (``train_segmenter(..., loss_fn=...)``), and compare the mean IoU per pattern type,
    above all on Scratch and Loc, whose few pattern dies BCE's many easy background pixels drown."""
    import torch.nn.functional as F

    from ..segment import bce_dice_loss, make_segmentation_set, soft_dice_loss

    plan = _plan(smoke)
    train = make_segmentation_set(plan["n_train"], canvas=CANVAS, seed=seed)
    val = make_segmentation_set(plan["n_val"], canvas=CANVAS, seed=seed + 1)
    test = make_segmentation_set(plan["n_test"], canvas=CANVAS, seed=seed + 2)
    losses = {"BCE": lambda z, t: F.binary_cross_entropy_with_logits(z, t.float()), "soft Dice": soft_dice_loss,
              "BCE + soft Dice": bce_dice_loss}
    iou = {name: _iou_by_group(_train_unet(train, val, plan, seed, fn), test) for name, fn in losses.items()}
    for name, r in iou.items():
        print(f"{name:16s} mean IoU {r['all']:.3f}; Scratch {r['Scratch']:.3f}, Loc {r['Loc']:.3f}, "
              f"Edge-Ring {r['Edge-Ring']:.3f}, none maps left clean {r['none']:.2f}")
    thin = {name: (r["Scratch"] + r["Loc"]) / 2 for name, r in iou.items()}
    best = max(thin, key=thin.get)
    print(f"on Scratch and Loc the best loss is {best} (mean IoU {thin[best]:.3f}); adding soft Dice to BCE "
          f"{'raises' if thin['BCE + soft Dice'] > thin['BCE'] else 'does not raise'} it "
          f"({thin['BCE']:.3f} -> {thin['BCE + soft Dice']:.3f})")
    return {"iou": iou, "scratch_loc_iou": thin}


def exercise_2(smoke: bool = False, seed: int = 0) -> dict:
    """Bigger wafers than in training: does the U-Net carry over to another die scale?

    Change the data: train on wafers 24 to 33 dies across (``make_segmentation_set(...,
    diameter=(24, 33))``) and test on new wafers of the same sizes and on wafers 34 to 43 dies
    across. A convolution is the same at every position but not at every scale: a Center blob or
    an Edge-Ring on a larger wafer covers more dies. Compare the IoU per pattern on the two test
    sets, and the fail-die baseline on both."""
    from ..segment import fail_baseline, iou, make_segmentation_set

    plan = _plan(smoke)
    small = (24, 33)
    train = make_segmentation_set(plan["n_train"], diameter=small, canvas=CANVAS, seed=seed)
    val = make_segmentation_set(plan["n_val"], diameter=small, canvas=CANVAS, seed=seed + 1)
    tests = {"24-33 dies": make_segmentation_set(plan["n_test"], diameter=small, canvas=CANVAS, seed=seed + 2),
             "34-43 dies": make_segmentation_set(plan["n_test"], diameter=(34, 43), canvas=CANVAS, seed=seed + 3)}
    model = _train_unet(train, val, plan, seed)
    out = {}
    for name, t in tests.items():
        out[name] = {"unet": _iou_by_group(model, t),
                     "baseline_all": float(iou(fail_baseline(t.X)[:, 0], t.Y[:, 0] > 0.5).mean())}
        r = out[name]["unet"]
        print(f"test wafers {name}: U-Net mean IoU {r['all']:.3f} (Scratch {r['Scratch']:.3f}, Center "
              f"{r['Center']:.3f}, Edge-Ring {r['Edge-Ring']:.3f}); every-fail-die baseline "
              f"{out[name]['baseline_all']:.3f}")
    a, b = (out[k]["unet"]["all"] for k in tests)
    groups = [g for g in out["24-33 dies"]["unet"] if g != "all"]
    worse = [g for g in groups if out["34-43 dies"]["unet"][g] < out["24-33 dies"]["unet"][g] - 0.05]
    print(f"on the larger wafers the mean IoU {'falls' if b < a else 'does not fall'} ({a:.3f} -> {b:.3f}); "
          f"patterns more than 0.05 lower there: {', '.join(worse) if worse else 'none'}")
    return {"iou": out, "drop_all": a - b, "patterns_worse": len(worse)}


def exercise_3(smoke: bool = False, seed: int = 0) -> dict:
    """A threshold chosen on validation instead of 0.5.

    ``predict_masks`` marks a die when the sigmoid exceeds 0.5. Sweep the threshold from 0.1 to
    0.9 on the validation maps, pick the one with the highest mean IoU there, and compare the test
    IoU at 0.5 and at the chosen threshold, per pattern: a lower threshold marks more dies (helping
    thin, faint patterns), a higher one leaves more clean wafers clean."""
    from ..segment import make_segmentation_set

    plan = _plan(smoke)
    train = make_segmentation_set(plan["n_train"], canvas=CANVAS, seed=seed)
    val = make_segmentation_set(plan["n_val"], canvas=CANVAS, seed=seed + 1)
    test = make_segmentation_set(plan["n_test"], canvas=CANVAS, seed=seed + 2)
    model = _train_unet(train, val, plan, seed)
    thresholds = (0.3, 0.5, 0.7) if smoke else tuple(np.round(np.arange(0.1, 0.91, 0.1), 1))
    on_val = {float(t): _iou_by_group(model, val, t)["all"] for t in thresholds}
    chosen = max(on_val, key=on_val.get)
    at_half, at_chosen = _iou_by_group(model, test, 0.5), _iou_by_group(model, test, chosen)
    print("validation mean IoU by threshold: " + ", ".join(f"{t:g}: {v:.3f}" for t, v in on_val.items()))
    print(f"chosen threshold {chosen:g}: test mean IoU {at_chosen['all']:.3f} against {at_half['all']:.3f} at 0.5; "
          f"Scratch {at_half['Scratch']:.3f} -> {at_chosen['Scratch']:.3f}, none maps left clean "
          f"{at_half['none']:.2f} -> {at_chosen['none']:.2f}")
    print(f"the validated threshold {'raises' if at_chosen['all'] > at_half['all'] else 'does not raise'} the test "
          f"mean IoU ({at_chosen['all'] - at_half['all']:+.3f})")
    return {"val_iou_by_threshold": {f"{t:g}": v for t, v in on_val.items()}, "chosen_threshold": chosen,
            "test_iou_at_0_5": at_half, "test_iou_at_chosen": at_chosen}
