"""Does ``deepfab wafer`` notice a failure signature it was never trained on? AUROC per held-out family.

The novelty score of a model folder (``ood.pt``, ``deepfab.wafer.novelty``) is scored exactly as
``deepfab wafer predict`` scores it (``Novelty.predict``: one network pass). The sets are split so
that nothing reported was used to choose the score:

- ordinary maps: the WM-811K test split, de-duplicated against the model's training files, cut at
  random (seed 0) into a choice half A and a report half B;
- choice sets (used to design and pick the score, ``--choose``): the nine ``NOVEL_FAMILIES`` of
  ``deepfab.data.novel`` drawn on A's ``none`` wafers, and the corruptions of ``CORRUPTIONS`` of
  A's maps; MixedWM38 maps with two or more defect types are printed with them (they were looked
  at while the score was designed);
- report sets (never used for any choice): the four ``REPORT_FAMILIES`` (shot, gradient, spiral,
  offset-ring) drawn on B's ``none`` wafers and on generated wafers. Their AUROC is against B;
  the AUROC against the whole test split is printed too.

It prints AUROC and FPR at 95 % TPR per set for the shipped score and for the maximum softmax
probability (the baseline the classifier gives for free), and the share of ordinary test maps
flagged (the threshold was set on training data only: 5 % is the aim). ``--choose`` also fits every
candidate score on the model's training maps (4 to 25 minutes on a 2-core CPU, by its load) and
prints the choice table on the choice sets; the rule: the highest mean AUROC over all choice sets
(families, corruptions and MixedWM38: the tool must notice every kind of unusual map), and it
replaces the shipped score only when its gain is more than resampling noise: the 95 % interval of
the gain in mean AUROC, from a paired bootstrap over the maps of A and of each set (``--boot``
resamples), lies above zero.

    MPLBACKEND=Agg .venv/bin/python benchmarks/bench_wafer_novelty.py [--model default] [--n 200] [--choose]
                                                                       [--json out.json]

About 3 minutes on a 2-core CPU without ``--choose``. References: D. Hendrycks, K. Gimpel, ICLR
2017 (AUROC and held-out sets); D. Hendrycks, T. Dietterich, ICLR 2019 (corruptions).
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np

from deepfab.data.novel import NOVEL_FAMILIES, REPORT_FAMILIES, make_novel_set
from deepfab.ood import (
    CORRUPTIONS,
    KNN,
    Combined,
    Energy,
    Mahalanobis,
    MapLikelihood,
    MapTexture,
    MaxSoftmax,
    MultiLayerMahalanobis,
    corrupt,
    fpr_at_tpr,
    mixed_maps,
    ood_auroc,
    stage_names,
)
from deepfab.ood.state import MODEL_FREE
from deepfab.wafer import load_model, open_data
from deepfab.wafer.model_io import drop_training_copies
from deepfab.wafer.novelty import fit_rows, load_novelty, model_outputs, novelty_score, score_parts, total
from deepfab.wafer.training import combine


def halves(test):
    perm = np.random.default_rng(0).permutation(len(test))
    return test.subset(np.sort(perm[: len(test) // 2])), test.subset(np.sort(perm[len(test) // 2:]))


def none_maps(ws):
    k = ws.label_names.index("none")
    return [m for m, y in zip(ws.maps, ws.labels) if y == k]


def unusual_sets(a, b, n: int) -> tuple[dict, dict]:
    """(choice sets drawn from half A, report sets drawn from half B and elsewhere): {name: maps}."""
    rng = np.random.default_rng(4)
    ia = rng.choice(len(a), min(n, len(a)), replace=False)
    choice = {f"novel {f}": make_novel_set(n, families=[f], seed=1, bases=none_maps(a))[0] for f in NOVEL_FAMILIES}
    choice |= {f"corrupt {c}": corrupt([a.maps[i] for i in ia], c, 3, seed=5) for c in CORRUPTIONS}
    choice["MixedWM38 (2+ types)"] = mixed_maps("test", n=2 * n, seed=0)
    report = {f"novel {f}": make_novel_set(n, families=[f], seed=2, bases=none_maps(b))[0] for f in REPORT_FAMILIES}
    report |= {f"generated {f}": make_novel_set(n, families=[f], seed=3)[0] for f in REPORT_FAMILIES}
    return choice, report


def table(title: str, scores: dict, in_sets: dict, sets: dict) -> dict:
    """Print and return {method: {set: {auroc, fpr95}}}; AUROC against each in-distribution set."""
    print(f"\n{title}")
    cols = list(sets)
    print(f"{'method':<34} {'vs':<6}" + "".join(f"{c[:18]:>19}" for c in cols) + f"{'mean':>8}")
    out = {}
    for name, s in scores.items():
        out[name] = {}
        for tag, key in in_sets.items():
            a = [ood_auroc(s[key], s[c]) for c in cols]
            out[name][tag] = {c: {"auroc": v, "fpr95": fpr_at_tpr(s[key], s[c])} for c, v in zip(cols, a)}
            print(f"{name:<34} {tag:<6}" + "".join(f"{v:>19.3f}" for v in a) + f"{np.mean(a):>8.3f}")
    return out


def candidates(wm, bank: int):
    """The scores compared for the choice, unfitted (the shipped one is ``novelty_score``); ``bank``: the
    maps the shipped texture bank holds (a random bank of that size tells the floor from the size)."""
    net, s, layers = wm.fast_net, wm.size, stage_names(wm.net)

    def class_cov():
        return MultiLayerMahalanobis(net, layers, alpha="in-dist", covariance="class", shrink=0.1, views=8, size=s)

    return {"MSP": MaxSoftmax(net, views=8, size=s), "energy": Energy(net, views=8, size=s),
            "Mahalanobis": Mahalanobis(net, views=8, size=s),
            "Mahalanobis, every stage": MultiLayerMahalanobis(net, layers, alpha="in-dist", views=8, size=s),
            "every stage, class covariances": MultiLayerMahalanobis(net, layers, alpha="in-dist", covariance="class",
                                                                    views=8, size=s),
            "kNN (k 10, 5000 maps)": KNN(net, k=10, bank=5000, views=8, size=s),
            "map texture": MapTexture(k=10, bank=5000),
            "map texture, period peak 6-8": MapTexture(k=10, bank=5000, period=8),
            "map texture, period peak, polar": MapTexture(k=10, bank=5000, period=8, polar=True),
            "texture + Mahalanobis": Combined([MapTexture(k=10, bank=5000), Mahalanobis(net, views=8, size=s)]),
            "texture + kNN": Combined([MapTexture(k=10, bank=5000), KNN(net, k=10, bank=5000, views=8, size=s)]),
            "texture + every stage": Combined([MapTexture(k=10, bank=5000),
                                               MultiLayerMahalanobis(net, layers, alpha="in-dist", views=8, size=s)]),
            "texture + every stage, class cov.": Combined([MapTexture(k=10, bank=5000), class_cov()]),
            "texture, period peak + every stage, class cov., max": Combined(
                [MapTexture(k=10, bank=5000, period=8), class_cov()], how="max"),
            "texture, period peak, polar + every stage, class cov.": Combined(
                [MapTexture(k=10, bank=5000, period=8, polar=True), class_cov()]),
            "texture, period peak + every stage, class cov. + kNN": Combined(
                [MapTexture(k=10, bank=5000, period=8), class_cov(), KNN(net, k=10, bank=5000, views=8, size=s)]),
            "texture, period peak + every stage, class cov.": Combined([MapTexture(k=10, bank=5000, period=8),
                                                                        class_cov()]),
            "VAE likelihood": MapLikelihood(),
            "texture, period peak + every stage, class cov. + VAE likelihood": Combined(
                [MapTexture(k=10, bank=5000, period=8), class_cov(), MapLikelihood()]),
            f"the same, a random texture bank of {bank} maps": Combined(
                [MapTexture(k=10, bank=bank, period=8), class_cov(), MapLikelihood()]),
            "the same, texture bank with a class floor of 1,000": Combined(
                [MapTexture(k=10, bank=5000, period=8, floor=1000), class_cov(), MapLikelihood()]),
            "the same, stage means and spatial spreads (shipped)": novelty_score(wm)}


def choose(wm, nov, sets: dict) -> dict:
    """Fit every candidate on the model's training maps and score the choice sets (``nov``: the shipped
    score, whose texture bank size the same-size random bank takes)."""
    t0 = time.perf_counter()
    train = combine([open_data(d["spec"])[0] for d in wm.config["data"]])
    cands = candidates(wm, len(nov.score.components[0].bank_))
    layers = tuple(dict.fromkeys(n for v in cands.values() for c in getattr(v, "components", [v]) for n in c.layers))
    out = model_outputs(wm, train.maps, layers, 8)
    readers = {c.descriptor: c for v in cands.values() for c in getattr(v, "components", [v])
               if isinstance(c, MODEL_FREE)}
    desc = {k: c.describe(train.maps) for k, c in readers.items()}
    y = np.array([wm.label_names.index(train.label_names[k]) for k in train.labels])
    outs = {k: (model_outputs(wm, m, layers, 8), m) for k, m in sets.items()}
    scores = {}
    for name, c in cands.items():
        fit_rows(c, out, desc, y, np.arange(len(y)))
        scores[name] = {k: total(c, score_parts(c, o, maps=m)) for k, (o, m) in outs.items()}
    print(f"\n(candidates fitted on {len(y)} training maps and scored in {time.perf_counter() - t0:.0f} s)")
    return scores


def gain_interval(new: dict, old: dict, sets, boot: int, seed: int = 0) -> tuple[float, float, float]:
    """(gain, low, high): the mean AUROC over ``sets`` of score ``new`` minus that of ``old`` ({set: (N,)
    scores}, "A" the ordinary maps), and its 95 % interval from ``boot`` paired bootstrap resamples (the
    same maps drawn for both scores)."""
    rng = np.random.default_rng(seed)
    mean = lambda s, ia, idx: np.mean([ood_auroc(s["A"][ia], s[k][idx[k]]) for k in sets])  # noqa: E731
    full = {k: np.arange(len(old[k])) for k in sets}
    gain = mean(new, slice(None), full) - mean(old, slice(None), full)
    draws = []
    for _ in range(boot):
        ia = rng.integers(0, len(old["A"]), len(old["A"]))
        idx = {k: rng.integers(0, len(old[k]), len(old[k])) for k in sets}
        draws.append(mean(new, ia, idx) - mean(old, ia, idx))
    return float(gain), *(float(q) for q in np.quantile(draws, [0.025, 0.975]))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default="default", help="model folder or 'default'")
    p.add_argument("--n", type=int, default=200, help="maps per unusual set (default 200)")
    p.add_argument("--choose", action="store_true", help="also fit and compare the candidate scores (slow)")
    p.add_argument("--boot", type=int, default=200, help="bootstrap resamples behind the choice (default 200)")
    p.add_argument("--json", help="also write the numbers to this JSON file")
    args = p.parse_args()
    t0 = time.perf_counter()
    wm = load_model(args.model)
    nov = load_novelty(wm)
    if nov is None:
        raise SystemExit(f"{wm.path} has no ood.pt; run `deepfab wafer calibrate --model {args.model}` first")
    test, _ = open_data("wm811k:test")
    test = drop_training_copies(test, wm.config)
    a, b = halves(test)
    choice, report = unusual_sets(a, b, args.n)
    print(f"model {wm.path}; score {nov.score!r}\nthreshold {nov.threshold:.4f}, calibrated on "
          f"{nov.state['calibrated_on']} ({nov.state['method']})\ntest split de-duplicated: {len(test)} maps "
          f"(choice half A {len(a)}, report half B {len(b)})")
    res: dict = {"model": str(wm.path), "threshold": nov.threshold, "calibrated_on": nov.state["calibrated_on"]}
    s, m = {}, {}
    t1 = time.perf_counter()
    for name, maps in {"test": test.maps, **{f"R {k}": v for k, v in report.items()},
                       **{f"C {k}": v for k, v in choice.items()}}.items():
        probs, s[name] = nov.predict(wm, maps)
        m[name] = 1.0 - probs.max(1)                                          # MSP of the 8-view mean, as predicted
    per_map = (time.perf_counter() - t1) / sum(len(v) for v in [test.maps, *report.values(), *choice.values()])
    perm = np.random.default_rng(0).permutation(len(test))                 # the cut of ``halves``
    ia, ib = np.sort(perm[: len(test) // 2]), np.sort(perm[len(test) // 2:])
    for d in (s, m):
        d["A"], d["B"] = d["test"][ia], d["test"][ib]
    flagged = {"test": float((s["test"] > nov.threshold).mean()), "A": float((s["A"] > nov.threshold).mean()),
               "B": float((s["B"] > nov.threshold).mean())}
    per_class = {n: float((s["test"][test.labels == k] > nov.threshold).mean())
                 for k, n in enumerate(test.label_names) if (test.labels == k).any()}
    print(f"flagged: {100 * flagged['test']:.2f} % of the {len(test)} de-duplicated test maps "
          f"(A {100 * flagged['A']:.2f} %, B {100 * flagged['B']:.2f} %); per class "
          + ", ".join(f"{n} {100 * v:.1f} %" for n, v in per_class.items()))
    print(f"{1e3 * per_map:.2f} ms per map for prediction and novelty together")
    rep = {k: {"shipped": s[f"R {k}"], "MSP": m[f"R {k}"]} for k in report}
    rep_scores = {"shipped score": {"B": s["B"], "test": s["test"], **{k: v["shipped"] for k, v in rep.items()}},
                  "MSP (baseline)": {"B": m["B"], "test": m["test"], **{k: v["MSP"] for k, v in rep.items()}}}
    res["report"] = table("REPORT sets (not used for the choice): AUROC against half B and the whole test split",
                          rep_scores, {"B": "B", "test": "test"}, report)
    res["flagged_share"] = {**flagged, "per_class": per_class}
    res["ms_per_map"] = 1e3 * per_map
    ch = {"shipped score": {"A": s["A"], **{k: s[f"C {k}"] for k in choice}},
          "MSP (baseline)": {"A": m["A"], **{k: m[f"C {k}"] for k in choice}}}
    res["choice"] = table("CHOICE sets (used to pick the score): AUROC against half A", ch, {"A": "A"}, choice)
    if args.choose:
        sets = {"A": a.maps, **choice}
        cand = choose(wm, nov, sets)
        res["candidates"] = table("CANDIDATES on the choice sets, against half A", cand, {"A": "A"}, choice)
        key = {n: np.mean([x["auroc"] for x in v["A"].values()]) for n, v in res["candidates"].items()}
        best = shipped = next(n for n in cand if n.endswith("(shipped)"))
        top = max(key, key=key.get)
        if top != shipped:
            gain, lo, hi = gain_interval(cand[top], cand[shipped], choice, args.boot)
            res["gain_of_the_best"] = {"candidate": top, "gain": gain, "low": lo, "high": hi}
            print(f"highest mean AUROC: {top}, {gain:+.4f} over the shipped score (95 % interval {lo:+.4f} to "
                  f"{hi:+.4f}, {args.boot} paired bootstrap resamples)")
            best = top if lo > 0 else shipped
        else:
            runner = max((n for n in key if n != shipped), key=key.get)
            gain, lo, hi = gain_interval(cand[shipped], cand[runner], choice, args.boot)
            res["lead_of_the_shipped"] = {"over": runner, "gain": gain, "low": lo, "high": hi}
            print(f"highest mean AUROC: the shipped score, {gain:+.4f} over the next, {runner} (95 % interval "
                  f"{lo:+.4f} to {hi:+.4f}, {args.boot} paired bootstrap resamples)")
        print(f"chosen by the rule (highest mean AUROC over the choice sets, a gain beyond resampling noise): {best}")
        res["chosen"] = best
    print(f"\n{time.perf_counter() - t0:.0f} s in all")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=2)


if __name__ == "__main__":
    main()
