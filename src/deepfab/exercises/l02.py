"""Worked solutions to the exercises of lecture 2 (data augmentation, regularization).

    deepfab exercise L02 1 --smoke
"""
from __future__ import annotations

import numpy as np


def _setup(smoke: bool, seed: int) -> dict:
    """train_1, stratified val and test samples and the lecture's plain SmallCNN recipe (section 5)."""
    from ..data import prepare

    wm = prepare(["train_1", "val", "test"])
    n_val, n_test = (60, 100) if smoke else (500, 1500)
    val = wm.encode("val", wm.rows("val", n=n_val, seed=0), 32, tensors=True)
    test = wm.encode("test", wm.rows("test", n=n_test, seed=0), 32, tensors=True)
    config = dict(batch_size=32, lr=1e-2, optimizer="adamw", weight_decay=0.0, scheduler="cosine",
                  monitor="val_macro_f1", progress=False, epochs=1 if smoke else 15)
    seeds = [seed] if smoke else [seed, seed + 1]
    return dict(wm=wm, val=val, test=test, config=config, seeds=seeds, names=wm.label_names)


def exercise_1(smoke: bool = False, seed: int = 0) -> dict:
    """Less data: does the D4 gain grow as the training set shrinks?

    Section 5a measured the paired gain of D4 augmentation on all of train_1. Train the plain
    baseline and +D4 on a quarter, a half and all of train_1 (stratified subsets), with the same
    seeds, and compare the paired change in macro-F1 and the D4 agreement at each size. The group
    argument of Chen, Dobriban & Lee predicts the largest gain where the data is scarcest."""
    from ..augment import RandomDihedral
    from ..experiment import Variant, d4_agreement_score, paired_differences, run_variants, summarize

    s = _setup(smoke, seed)
    n_all = len(s["wm"]["train_1"])
    fractions = (0.1, 0.25) if smoke else (0.25, 0.5, 1.0)
    score = (lambda m, t: d4_agreement_score(m, t, n_maps=16 if smoke else 300))
    out = {}
    for f in fractions:
        train = s["wm"].encode("train_1", s["wm"].rows("train_1", n=int(round(f * n_all)), seed=seed), 32,
                               tensors=True)
        rows = run_variants([Variant("baseline"), Variant("+D4", augment=RandomDihedral())], train, s["val"],
                            s["test"], s["config"], seeds=s["seeds"], label_names=s["names"], score=score, log=None)
        means = {r["variant"]: r for r in summarize(rows, ("macro_f1", "d4_agreement"))}
        diff = paired_differences(rows, "baseline", "macro_f1")[0]
        out[f"{f:g}"] = {"maps": len(train[1]), "baseline_macro_f1": means["baseline"]["macro_f1_mean"],
                         "d4_macro_f1": means["+D4"]["macro_f1_mean"], "d4_gain": diff["diff_mean"],
                         "d4_agreement_baseline": means["baseline"]["d4_agreement_mean"],
                         "d4_agreement_d4": means["+D4"]["d4_agreement_mean"]}
        r = out[f"{f:g}"]
        print(f"{r['maps']:4d} maps: macro-F1 baseline {r['baseline_macro_f1']:.3f}, +D4 {r['d4_macro_f1']:.3f} "
              f"(paired {r['d4_gain']:+.3f} over {len(s['seeds'])} seed(s)); D4 agreement "
              f"{r['d4_agreement_baseline']:.2f} -> {r['d4_agreement_d4']:.2f}")
    gains = [out[f"{f:g}"]["d4_gain"] for f in fractions]
    biggest = fractions[int(np.argmax(gains))]
    print(f"the D4 gain is largest at {out[f'{biggest:g}']['maps']} maps ({max(gains):+.3f}); it "
          f"{'shrinks' if gains[-1] < gains[0] else 'does not shrink'} from the smallest to the full set "
          f"({gains[0]:+.3f} -> {gains[-1]:+.3f})")
    return {"by_fraction": out, "largest_gain_fraction": biggest}


def exercise_2(smoke: bool = False, seed: int = 0) -> dict:
    """A rarer class: cut Center to four training maps, then try the imbalance remedies.

    Section 6 compared plain cross-entropy, a weighted loss and resampling on the natural class
    mix. Change the data: keep only 4 of train_1's Center maps (``caps={"Center": 4}``), train the
    plain network, the weighted loss and resampling, and compare Center's test recall and precision
    and macro-F1 with the plain network on the full training set."""
    from ..experiment import Variant, run_variants, summarize

    s = _setup(smoke, seed)
    wm, center = s["wm"], s["names"].index("Center")
    per_class = 30 if smoke else len(wm["train_1"])   # smoke: at most 30 maps of each class
    full = wm.encode("train_1", wm.rows("train_1", per_class=per_class, seed=seed), 32, tensors=True)
    cut = wm.encode("train_1", wm.rows("train_1", per_class=per_class, caps={"Center": 4}, seed=seed), 32,
                    tensors=True)
    rows = run_variants([Variant("plain CE, all Center maps")], full, s["val"], s["test"], s["config"],
                        seeds=s["seeds"], label_names=s["names"], log=None)
    rows += run_variants([Variant("plain CE"), Variant("weighted CE", config={"class_weights": "balanced"}),
                          Variant("resampling", config={"sampler": "balanced"})], cut, s["val"], s["test"],
                         s["config"], seeds=s["seeds"], label_names=s["names"], log=None)
    macro = {r["variant"]: r["macro_f1_mean"] for r in summarize(rows)}
    recall = {v: float(np.mean([r["test"]["per_class_recall"]["Center"] for r in rows if r["variant"] == v]))
              for v in macro}
    precision = {v: float(np.mean([r["test"]["per_class_precision"]["Center"] for r in rows if r["variant"] == v]))
                 for v in macro}
    n_center = {"all": int((full[1] == center).sum()), "cut": int((cut[1] == center).sum())}
    print(f"Center training maps: {n_center['all']} -> {n_center['cut']}; "
          f"test Center maps: {int((s['test'][1] == center).sum())}")
    for v in macro:
        print(f"{v:26s} Center recall {recall[v]:.3f}, precision {precision[v]:.3f}, macro-F1 {macro[v]:.3f}")
    remedies = ("weighted CE", "resampling")
    best = max(remedies, key=recall.get)
    print(f"cutting Center {'lowers' if recall['plain CE'] < recall['plain CE, all Center maps'] else 'does not lower'}"
          f" its recall ({recall['plain CE, all Center maps']:.3f} -> {recall['plain CE']:.3f}); the better remedy "
          f"for it is {best} ({recall[best]:.3f}), which "
          f"{'recovers' if recall[best] >= recall['plain CE, all Center maps'] else 'does not recover'} the recall "
          f"with all Center maps")
    return {"center_train_maps": n_center, "center_recall": recall, "center_precision": precision, "macro_f1": macro}


def exercise_3(smoke: bool = False, seed: int = 0) -> dict:
    """Die noise pushed to an extreme: how much dropout of fail dies does the network tolerate?

    The lecture's recipe adds die noise with ``drop=0.1`` on top of D4. Sweep ``drop`` over 0, 0.1,
    0.3 and 0.6 (``wafer_augment(dihedral=True, drop=p)``), keep each run's best epoch on
    validation, choose ``drop`` on validation macro-F1, and compare the test macro-F1. At 0.6 most
    fail dies of a training map vanish: a Loc cluster thins to a few dies."""
    from ..augment import wafer_augment
    from ..experiment import Variant, run_variants, summarize

    s = _setup(smoke, seed)
    train = s["wm"].encode("train_1", None, 32, tensors=True)
    drops = (0.0, 0.6) if smoke else (0.0, 0.1, 0.3, 0.6)
    rows = run_variants([Variant(f"drop {p:g}", augment=wafer_augment(dihedral=True, drop=p)) for p in drops], train,
                        s["val"], s["test"], s["config"], seeds=s["seeds"], label_names=s["names"],
                        select_on_val=True, log=None)
    by = {r["variant"]: r for r in summarize(rows, ("macro_f1", "val_macro_f1", "accuracy"))}
    for p in drops:
        r = by[f"drop {p:g}"]
        print(f"D4 + die dropout {p:<4g}: val macro-F1 {r['val_macro_f1_mean']:.3f}, test macro-F1 "
              f"{r['macro_f1_mean']:.3f}, accuracy {r['accuracy_mean']:.3f}")
    chosen = max(drops, key=lambda p: by[f"drop {p:g}"]["val_macro_f1_mean"])
    test = {f"{p:g}": by[f"drop {p:g}"]["macro_f1_mean"] for p in drops}
    print(f"validation chooses drop {chosen:g} (test macro-F1 {test[f'{chosen:g}']:.3f}); the extreme drop "
          f"{drops[-1]:g} {'costs' if test[f'{drops[-1]:g}'] < test['0'] else 'does not cost'} test macro-F1 against "
          f"no die noise ({test['0']:.3f} -> {test[f'{drops[-1]:g}']:.3f})")
    return {"test_macro_f1": test, "val_macro_f1": {f"{p:g}": by[f"drop {p:g}"]["val_macro_f1_mean"] for p in drops},
            "chosen_drop": chosen}
