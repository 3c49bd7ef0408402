"""Worked solutions to the exercises of lecture 8 (VAE and GAN applications: augmenting rare classes).

    deepfab exercise L08 1 --smoke
"""
from __future__ import annotations

import numpy as np

RARE = ("Donut", "Near-full", "Scratch", "Loc")      # the classes lecture 8 makes rare


def exercise_1(smoke: bool = False, seed: int = 0) -> dict:
    """Rarer still: does oversampling help more when the rare classes keep 8 maps instead of 30?

    Section 4 cut Donut, Near-full, Scratch and Loc to 30 training maps. Change the data: cut them to 8,
    top them up to the same number of maps by oversampling, and compare with no augmentation over seeds
    (paired: same seed, same initial weights), beside the same comparison at 30 maps. Look at the
    paired macro-F1 difference and at the rare classes' recall."""
    from ..data import prepare
    from ..experiment import paired_differences, summarize
    from ..generative.augmentation import Oversampler, run_augmented, top_up_counts

    plan = (dict(per_class=12, none=20, target=12, epochs=1, seeds=(0,), n_val=60, n_test=150, caps=(6, 3)) if smoke
            else dict(per_class=150, none=300, target=150, epochs=6, seeds=(0, 1), n_val=300, n_test=1500,
                      caps=(30, 8)))
    wm = prepare({"train": "train_29", "val": "val", "test": "test"}).lot_split("train", 0.2, into=("fit", "late"))
    names = wm.label_names
    rare = [names.index(c) for c in RARE]
    val = wm.encode("val", wm.rows("val", n=plan["n_val"], seed=seed), size=32, density=True, tensors=True)
    test = wm.encode("test", wm.rows("test", n=plan["n_test"], seed=seed), size=32, density=True, tensors=True)
    config = dict(epochs=plan["epochs"], batch_size=128, lr=3e-3, weight_decay=1e-4, scheduler="cosine",
                  progress=False)
    keys = ("macro_f1", *[f"recall/{c}" for c in RARE])
    out = {}
    for cap in plan["caps"]:
        caps = {"none": plan["none"], **{c: cap for c in RARE}}
        ws = wm["fit"].subset(wm.rows("fit", per_class=plan["per_class"], caps=caps, seed=seed))
        counts = top_up_counts(ws.labels, rare, plan["target"])
        rows, _ = run_augmented({"none": None, "oversampling": Oversampler()}, ws.maps, ws.labels, counts, val, test,
                                config, seeds=[seed + s for s in plan["seeds"]], label_names=names, log=None)
        s = {r["variant"]: r for r in summarize(rows, keys)}
        d = paired_differences(rows, "none", "macro_f1")[0]
        out[str(cap)] = {"macro_f1_none": s["none"]["macro_f1_mean"],
                         "macro_f1_oversampling": s["oversampling"]["macro_f1_mean"], "paired_diff": d["diff_mean"],
                         "rare_recall_none": float(np.mean([s["none"][f"recall/{c}_mean"] for c in RARE])),
                         "rare_recall_oversampling": float(np.mean([s["oversampling"][f"recall/{c}_mean"]
                                                                    for c in RARE]))}
        r = out[str(cap)]
        print(f"rare classes cut to {cap} maps: macro-F1 {r['macro_f1_none']:.3f} without, "
              f"{r['macro_f1_oversampling']:.3f} with oversampling (paired difference {r['paired_diff']:+.3f}); "
              f"mean rare-class recall {r['rare_recall_none']:.2f} -> {r['rare_recall_oversampling']:.2f}")
    few, many = str(plan["caps"][-1]), str(plan["caps"][0])
    gap = out[few]["paired_diff"] - out[many]["paired_diff"]
    print(f"over {len(plan['seeds'])} seed(s), oversampling's gain is {abs(gap):.3f} "
          f"{'larger' if gap > 0 else 'smaller'} with {few} maps than with {many}; without augmentation the "
          f"rare-class recall is {out[few]['rare_recall_none']:.2f} at {few} maps")
    return {"by_cap": out, "gain_few_minus_many": gap}


def exercise_2(smoke: bool = False, seed: int = 0) -> dict:
    """VAE samples from the prior instead of the aggregate posterior: are they still of their class?

    Section 4 samples each class's VAE from its aggregate posterior, and says that prior samples were
    mostly called another class in a trial outside the run. Change the sampling: train one VAE per rare
    class on 30 maps as the lecture does, draw the same number of maps both ways (``vae_samples`` with
    and without the encoded maps), and score them with the shipped classifier (class consistency)."""
    import torch

    from ..data import encode_maps, prepare
    from ..generative import gan_metrics as gm
    from ..generative.augmentation import VAESampler, vae_samples
    from ..wafer import load_model

    epochs, n = (2, 8) if smoke else (150, 100)
    wm = prepare({"train": "train_29"})
    names = wm.label_names
    rare = [names.index(c) for c in RARE]
    ws = wm["train"].subset(wm.rows("train", per_class=30, seed=seed))
    sampler = VAESampler(latent=8, width=16, size=32, epochs=epochs)
    models = sampler.fit(ws.maps, ws.labels, rare, seed=seed)
    clf = load_model("default")
    out = {}
    for source in ("posterior", "prior"):
        made, y = [], []
        for c in rare:
            x = (torch.from_numpy(encode_maps([m for m, k in zip(ws.maps, ws.labels) if k == c], 32))
                 if source == "posterior" else None)
            made += vae_samples(models[c], n, seed=seed * 100 + c, x=x)
            y += [c] * n
        cc = gm.class_consistency(clf.predict_proba(made, tta=False).argmax(1), np.array(y), names)
        out[source] = {c: cc[c] for c in RARE}
        out[source]["mean"] = float(np.mean([cc[c] for c in RARE]))
        print(f"{source:9s}: " + ", ".join(f"{c} {cc[c]:.2f}" for c in RARE) + f"; mean {out[source]['mean']:.2f}")
    worse = [c for c in RARE if out["prior"][c] < out["posterior"][c]]
    print(f"{n} maps per class, VAEs trained {epochs} epochs: prior samples are called their class less often than "
          f"posterior samples for {len(worse)} of {len(RARE)} classes ({', '.join(worse) or 'none'}); mean class "
          f"consistency {out['prior']['mean']:.2f} against {out['posterior']['mean']:.2f}")
    return {"consistency": out, "classes_worse_with_prior": len(worse)}
