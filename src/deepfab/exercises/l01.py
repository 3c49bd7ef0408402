"""Worked solutions to the exercises of lecture 1 (CNN architectures).

    deepfab exercise L01 1 --smoke
"""
from __future__ import annotations

import numpy as np


def _wafer_data(smoke: bool, seed: int) -> tuple:
    """Capped train_10 (train_1 in smoke mode), uniform val and test subsets, as in section 6."""
    from ..data import prepare

    plan = (dict(split="train_1", per_class=10, caps={"none": 15}, n_val=60, n_test=100) if smoke else
            dict(split="train_10", per_class=80, caps={"none": 200}, n_val=400, n_test=1000))
    wm = prepare({"train": plan["split"], "val": "val", "test": "test"})
    rng = np.random.default_rng(seed)  # one stream: training rows, then val and test subsets
    picked = {"train": wm.rows("train", per_class=plan["per_class"], caps=plan["caps"], seed=rng),
              "val": wm.rows("val", n=plan["n_val"], stratify=False, seed=rng),
              "test": wm.rows("test", n=plan["n_test"], stratify=False, seed=rng)}
    return picked, wm


def _config(smoke: bool, seed: int):
    from ..train import TrainConfig

    return TrainConfig(epochs=1 if smoke else 3, batch_size=32, lr=2e-3, optimizer="adamw", weight_decay=1e-4,
                       scheduler="onecycle", loss="ce", seed=seed, progress=False)


def exercise_1(smoke: bool = False, seed: int = 0) -> dict:
    """A narrower and a wider ResNet: what does width buy on wafer maps?

    Section 7 trains ResNet-10 at width 16. Train it at widths 4, 8 and 16 (the first stage's
    channels; each later stage doubles them) on the same maps, seed and budget, choose the width on
    validation macro-F1, and compare test macro-F1 with parameters, multiply-adds and seconds."""
    from ..experiment import Variant, run_variants

    picked, wm = _wafer_data(smoke, seed)
    data = {k: wm.encode(k, rows, 32) for k, rows in picked.items()}
    widths = (4, 8) if smoke else (4, 8, 16)
    rows = run_variants([Variant(f"width {w}", arch="resnet", model={"width": w}) for w in widths], data["train"],
                        data["val"], data["test"], _config(smoke, seed), seeds=[seed], label_names=wm.label_names,
                        select_on_val=True, log=None)
    by = {w: r for w, r in zip(widths, rows)}
    chosen = max(widths, key=lambda w: by[w]["val_macro_f1"])
    for w in widths:
        r = by[w]
        print(f"width {w:2d}: {r['params']:9,d} parameters, {r['macs'] / 1e6:6.2f} M MACs/map, "
              f"{r['train_seconds']:5.1f} s; val macro-F1 {r['val_macro_f1']:.3f}, test macro-F1 {r['macro_f1']:.3f}")
    lo, hi = by[widths[0]], by[widths[-1]]
    print(f"{hi['params'] / lo['params']:.0f}x the parameters (width {widths[0]} -> {widths[-1]}) "
          f"{'raise' if hi['macro_f1'] > lo['macro_f1'] else 'do not raise'} test macro-F1 "
          f"({lo['macro_f1']:.3f} -> {hi['macro_f1']:.3f}) at {hi['train_seconds'] / lo['train_seconds']:.1f}x the "
          f"training time; validation chooses width {chosen} (test macro-F1 {by[chosen]['macro_f1']:.3f})")
    return {"widths": {str(w): {k: float(by[w][k]) for k in ("params", "macs", "val_macro_f1", "macro_f1",
                                                             "accuracy")} for w in widths},
            "chosen_width": chosen, "test_macro_f1_chosen": float(by[chosen]["macro_f1"])}


def exercise_2(smoke: bool = False, seed: int = 0) -> dict:
    """Encode the maps at 24, 32 or 48 cells: is resolution worth its multiply-adds?

    Section 6 encodes every map at 32 x 32. Encode the same maps at 24 and 48 (``wm.encode(...,
    size)``), train the same ResNet (width 8) on each, and compare multiply-adds per map, training
    seconds and macro-F1; choose the size on validation. A scratch one die wide survives the
    max-pooling encoder at any size, but at 24 neighbouring dies merge more."""
    from ..experiment import Variant, run_variants

    picked, wm = _wafer_data(smoke, seed)
    sizes = (16, 32) if smoke else (24, 32, 48)
    by = {}
    for s in sizes:
        data = {k: wm.encode(k, rows, s) for k, rows in picked.items()}
        by[s] = run_variants([Variant(f"{s} x {s}", arch="resnet", model={"width": 8})], data["train"], data["val"],
                             data["test"], _config(smoke, seed), seeds=[seed], label_names=wm.label_names,
                             select_on_val=True, log=None)[0]
    chosen = max(sizes, key=lambda s: by[s]["val_macro_f1"])
    for s in sizes:
        r = by[s]
        print(f"{s:2d} x {s:2d}: {r['macs'] / 1e6:6.2f} M MACs/map, {r['train_seconds']:5.1f} s; "
              f"val macro-F1 {r['val_macro_f1']:.3f}, test macro-F1 {r['macro_f1']:.3f}, accuracy {r['accuracy']:.3f}")
    lo, hi = by[sizes[0]], by[sizes[-1]]
    print(f"{sizes[-1]} x {sizes[-1]} costs {hi['macs'] / lo['macs']:.1f}x the multiply-adds of "
          f"{sizes[0]} x {sizes[0]} and {'raises' if hi['macro_f1'] > lo['macro_f1'] else 'does not raise'} "
          f"test macro-F1 "
          f"({lo['macro_f1']:.3f} -> {hi['macro_f1']:.3f}); validation chooses {chosen} x {chosen}")
    keys = ("macs", "val_macro_f1", "macro_f1", "accuracy")
    return {"sizes": {str(s): {k: float(by[s][k]) for k in keys} for s in sizes},
            "chosen_size": chosen, "test_macro_f1_chosen": float(by[chosen]["macro_f1"])}
