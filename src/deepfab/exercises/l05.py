"""Worked solutions to the exercises of lecture 5 (adversarial attacks and out-of-distribution samples).

    deepfab exercise L05 1 --smoke
"""
from __future__ import annotations

import numpy as np

EPS = 0.05   # the lecture's L-inf budget (fail channel)


def _classifier(smoke: bool, seed: int) -> dict:
    """Section 1's network (``train_wafer_cnn``) on capped train_10 maps, with the raw maps behind each split."""
    import torch

    from ..data import prepare
    from ..explain.recipe import train_wafer_cnn
    from ..train import TrainConfig

    per_class, none_cap, n_val, n_test, epochs = (8, 16, 60, 120, 1) if smoke else (100, 250, 500, 1000, 6)
    wm = prepare({"train": "train_10", "val": "val", "test": "test"})
    rows = {"train": wm.rows("train", per_class=per_class, caps={"none": none_cap}, seed=seed),
            "val": wm.rows("val", n=n_val, seed=0), "test": wm.rows("test", n=n_test, seed=0)}
    data = {k: wm.encode(k, r, size=32, tensors=True) for k, r in rows.items()}
    cfg = TrainConfig(epochs=epochs, batch_size=64, lr=3e-3, scheduler="onecycle", class_weights="balanced",
                      seed=seed, progress=False)
    torch.manual_seed(seed)                                 # initial weights; cfg.seed fixes the batch order
    model = train_wafer_cnn(data["train"], data["val"], wm.label_names, cfg).model.cpu().eval()
    return dict(model=model, data=data, cfg=cfg, names=wm.label_names,
                maps={k: wm[k].subset(r) for k, r in rows.items()}, wm=wm, rows=rows)


def exercise_1(smoke: bool = False, seed: int = 0) -> dict:
    """Attack with a new budget: let the attacker rewrite the die grid too.

    Section 2's threat model lets the attacker change only the fail channel, on wafer cells: the
    die grid of a product is fixed. Give the attacker every channel and every cell
    (``robust.ThreatModel(channels="all", on_wafer=False)``) and rerun PGD in L-inf at 0.02, 0.05
    and 0.1, untargeted and targeted to `none`. How much of the attack's success comes from edits
    no real wafer can show?"""
    from functools import partial

    import torch

    from .. import robust
    from ..data import stratified_indices

    c = _classifier(smoke, seed)
    model, (xt, yt), none = c["model"], c["data"]["test"], c["names"].index("none")
    idx = torch.from_numpy(stratified_indices(yt.numpy(), n=24 if smoke else 200, seed=seed))
    x, y = xt[idx], yt[idx]
    steps, budgets = (3, [0.0, EPS]) if smoke else (20, [0.0, 0.02, EPS, 0.1])
    threats = {"fail channel, wafer cells": robust.ThreatModel(),
               "every channel, every cell": robust.ThreatModel(channels="all", on_wafer=False)}
    defect = y != none
    out = {}
    for name, threat in threats.items():
        curve = robust.robust_accuracy(model, x, y, partial(robust.pgd, steps=steps, seed=seed, threat=threat), budgets)
        x_t = robust.pgd(model, x[defect], y[defect], EPS, steps=steps, seed=seed, threat=threat,
                         target=torch.full_like(y[defect], none))
        out[name] = {"robust_accuracy": {f"eps={e:g}": a for e, a in zip(curve["eps"], curve["accuracy"])},
                     "to_none_success": robust.attack_success(model, x_t, y[defect], target=torch.full_like(
                         y[defect], none))}
        print(f"{name:26s}: robust accuracy " + ", ".join(f"eps {e:g} {a:.3f}" for e, a in
                                                         zip(curve["eps"], curve["accuracy"]))
              + f"; defect maps called 'none' at eps {EPS}: {out[name]['to_none_success']:.3f}")
    wafer, every = (out[k] for k in threats)
    gap = wafer["robust_accuracy"][f"eps={EPS:g}"] - every["robust_accuracy"][f"eps={EPS:g}"]
    print(f"at eps {EPS} the unphysical threat model lowers robust accuracy by {gap:.3f} more "
          f"({'a stronger' if gap > 0 else 'not a stronger'} attack) and moves the targeted success "
          f"{wafer['to_none_success']:.3f} -> {every['to_none_success']:.3f}")
    return {"threat_models": out, "extra_accuracy_lost_at_eps": gap, "maps": int(len(y))}


def exercise_2(smoke: bool = False, seed: int = 0) -> dict:
    """Adversarial training with a larger budget: PGD-AT at eps 0.1 against eps 0.05.

    Section 5 trains at the attack's budget, 0.05. Add PGD-AT at 0.1, train all three objectives
    (clean, PGD-AT 0.05, PGD-AT 0.1) from the same weights on the same maps, and measure clean
    accuracy and PGD robust accuracy at 0.05 and 0.1 for each. Does training at a larger budget buy
    robustness beyond it, and what does it cost in clean accuracy?"""
    from dataclasses import replace
    from functools import partial

    import torch

    from .. import robust
    from ..augment import RandomDihedral
    from ..data import stratified_indices
    from ..models import SmallCNN

    c = _classifier(smoke, seed)
    (xtr, ytr), val, (xt, yt) = c["data"]["train"], c["data"]["val"], c["data"]["test"]
    ia = torch.from_numpy(stratified_indices(yt.numpy(), n=24 if smoke else 200, seed=seed))
    k = 2 if smoke else 3                                   # PGD steps inside training
    objectives = {"clean": None, f"PGD-AT eps {EPS:g}": robust.PGDTraining(EPS, steps=k),
                  "PGD-AT eps 0.1": robust.PGDTraining(0.1, steps=k)}
    attack = partial(robust.pgd, steps=3 if smoke else 20, seed=seed)
    _, models = robust.tradeoff(partial(SmallCNN, 2, len(c["names"]), width=16, batchnorm=True, head_pool=4),
                                (xtr, ytr), val, (xt[ia], yt[ia]), replace(c["cfg"], epochs=1 if smoke else 4),
                                eps=EPS, objectives=objectives, augment=RandomDihedral(), attack=attack)
    out = {}
    for name, m in models.items():
        curve = robust.robust_accuracy(m.cpu().eval(), xt[ia], yt[ia], attack, [0.0, EPS, 0.1])
        out[name] = dict(zip(("clean", f"eps={EPS:g}", "eps=0.1"), curve["accuracy"]))
        print(f"{name:16s}: clean accuracy {out[name]['clean']:.3f}, robust at eps {EPS:g} "
              f"{out[name][f'eps={EPS:g}']:.3f}, at eps 0.1 {out[name]['eps=0.1']:.3f}")
    lo, hi = out[f"PGD-AT eps {EPS:g}"], out["PGD-AT eps 0.1"]
    print(f"training at 0.1 instead of {EPS:g} {'raises' if hi['eps=0.1'] > lo['eps=0.1'] else 'does not raise'} "
          f"robust accuracy at 0.1 ({lo['eps=0.1']:.3f} -> {hi['eps=0.1']:.3f}) and "
          f"{'costs' if hi['clean'] < lo['clean'] else 'does not cost'} clean accuracy "
          f"({lo['clean']:.3f} -> {hi['clean']:.3f})")
    return {"accuracy": out, "maps": int(len(ia))}


def exercise_3(smoke: bool = False, seed: int = 0) -> dict:
    """Another noise level: corruptions at severity 1, 3 and 5.

    Section 6 corrupted real test maps at severity 3. Corrupt held-out test wafers at severity 1
    and 5 too (``ood.corrupt(maps, kind, severity)``, the five kinds in equal parts), and measure the
    AUROC of MSP, energy, Mahalanobis, the map-texture score and the VAE likelihood against the
    ordinary test maps at each level. Which scores see a mild corruption, and which only a severe one?"""
    from .. import ood
    from ..data import stratified_indices

    c = _classifier(smoke, seed)
    model, wm, rows = c["model"], c["wm"], c["rows"]
    fit_ws = c["maps"]["train"]
    ordinary = c["maps"]["test"].maps
    rest = np.setdiff1d(np.arange(len(wm["test"])), rows["test"])        # test wafers not among the ordinary ones
    n_bad = 25 if smoke else 300
    bases = wm["test"].subset(rest[stratified_indices(wm["test"].labels[rest], n=n_bad, seed=seed)]).maps
    bank = dict(bank=200 if smoke else 2000, seed=seed)
    scores = {"MSP": ood.MaxSoftmax(model), "energy": ood.Energy(model),
              "Mahalanobis": ood.Mahalanobis(model).fit(fit_ws.maps, fit_ws.labels),
              "map texture": ood.MapTexture(**bank).fit(fit_ws.maps),
              "VAE likelihood": ood.MapLikelihood(seed=seed).fit(fit_ws.maps)}
    s_in = {m: s(ordinary) for m, s in scores.items()}
    levels = (1, 5) if smoke else (1, 3, 5)
    auroc = {}
    for sev in levels:
        bad = []
        for j, kind in enumerate(ood.CORRUPTIONS):          # a fifth of the bases for each kind
            bad += ood.corrupt(bases[j::len(ood.CORRUPTIONS)], kind, severity=sev, seed=seed)
        auroc[sev] = {m: ood.ood_auroc(s_in[m], s(bad)) for m, s in scores.items()}
        print(f"severity {sev}: AUROC " + ", ".join(f"{m} {a:.3f}" for m, a in auroc[sev].items()))
    lo, hi = levels[0], levels[-1]
    best_mild = max(auroc[lo], key=auroc[lo].get)
    rise = {m: auroc[hi][m] - auroc[lo][m] for m in scores}
    print(f"at severity {lo} the best score is {best_mild} ({auroc[lo][best_mild]:.3f}); from severity {lo} to {hi} "
          f"the AUROC rises most for {max(rise, key=rise.get)} ({max(rise.values()):+.3f}); scores below 0.5 at "
          f"severity {lo}: {[m for m, a in auroc[lo].items() if a < 0.5] or 'none'}")
    return {"auroc": {f"severity {s}": a for s, a in auroc.items()}, "ordinary_maps": len(ordinary),
            "corrupted_maps": len(bases)}
