# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lecture 8 — VAE and GAN papers and applications
#
# *8강 VAE, GAN 관련 논문/적용 사례 공유.* Lectures 6 and 7 built variational autoencoders and
# generative adversarial networks for wafer maps. In a fab the question is not whether a generator
# draws pretty maps but whether its maps make a **classifier** better where it is weak: the rare
# defect classes (a few dozen Donut or Near-full maps against thousands of clean ones) and the new
# products (another die grid, fainter defects). This lecture:
#
# 1. **reviews what was published**: GAN and VAE augmentation of WM-811K, diffusion-based
#    augmentation, and the caveats — with the reported gains as *reported*;
# 2. says **when generated data can help** at all (a short derivation: what oversampling and
#    generated samples change in the risk a classifier minimises);
# 3. **measures rare-class augmentation**: Donut, Near-full, Scratch and Loc made rare, then no
#    augmentation, classical oversampling, a class-conditional GAN and per-class VAEs, each over three
#    seeds with a paired test, on the test split and on the latest lots;
# 4. **measures product-shift augmentation**: maps re-rendered at other die grids with fainter
#    defects (`deepfab.augment.regrid`), scored on the test split, the latest lots, and the latest
#    lots re-rendered at die grids the training never saw.
#
# The code is `deepfab.generative.augmentation` (the augmenters, the run over seeds, scoring on
# several sets; tests in `tests/generative/test_augmentation.py`), `deepfab.experiment` (the
# variants-by-seeds harness, summaries, paired tests), `deepfab.generative.gan` and `.vae_train`
# (lectures 7 and 6) and `deepfab.augment.regrid`. Run it with `deepfab run L08` (every generator is trained
# inside the run, nothing is downloaded; the real run took 8.7 minutes of wall time in `make course`
# on a 2-core CPU, beside one other lecture, on one torch thread) or
# `deepfab run L08 --smoke`; every number the text refers to is in `runs/L08/metrics.json`.

# %%
import time

import numpy as np
import torch

from deepfab.augment.regrid import PROBE_GRIDS, RegridMaps, regrid_maps
from deepfab.data import encode_maps, prepare
from deepfab.experiment import (
    Variant,
    paired_differences,
    recall_table,
    rows_on,
    run_variants,
    set_scores,
    slug,
    summarize,
    summary_table,
)
from deepfab.experiment.plots import plot_ablation, plot_recall_bars
from deepfab.experiment.wording import describe_difference
from deepfab.generative import gan_metrics as gm
from deepfab.generative.augmentation import (
    GANSampler,
    Oversampler,
    VAESampler,
    run_augmented,
    top_up_counts,
)
from deepfab.generative.gan import GANConfig
from deepfab.generative.gan_plots import per_class_figure, wafer_samples_figure
from deepfab.lecture import Context
from deepfab.wafer import load_model

ctx = Context.from_env("L08", threads=1)   # small networks on a shared 2-core CPU: one thread is fastest
HEADLINE = ("rare/test/oversampling/paired", "rare/later_lots/oversampling/paired", "rare/test/cgan/paired",
            "rare/test/vae/paired", "shift/test/paired", "shift/later_lots/paired",
            "shift/later_lots_other_grids/paired")  # the metrics the course book lists first
t_start = time.perf_counter()
SIZE = 32
RARE = ("Donut", "Near-full", "Scratch", "Loc")
plan = ctx.pick(real=dict(per_class=400, none=800, rare_cap=30, target=200, epochs=12, seeds=(0, 1, 2),
                          gan_per_class=100, gan_epochs=36, vae_epochs=150, n_test=None, n_late=None, n_val=500),
                smoke=dict(per_class=20, none=30, rare_cap=6, target=12, epochs=1, seeds=(0, 1),
                           gan_per_class=10, gan_epochs=1, vae_epochs=2, n_test=300, n_late=300, n_val=100))
seeds = [ctx.seed + s for s in plan["seeds"]]

# %% [markdown]
# ## 1. What was published
#
# **GAN augmentation of WM-811K.** WM-811K (Wu, Jang & Chen 2015) has about 60 % clean maps and
# fewer than a hundred Near-full maps among its labelled wafers, so the rare classes were the first
# target of generated data.
#
# - Ji & Lee (2020) generated wafer maps of the defect classes with a GAN and added them to the
#   training set of a CNN; they **report** a higher classification accuracy with the generated maps
#   than without.
# - Wang et al. (2019), *AdaBalGAN*, couple a conditional GAN with a classifier and let the
#   classifier's per-class accuracy decide how many maps of each class the generator draws
#   (adaptive balancing); they **report** better recognition of the minority defect patterns than
#   the baselines they compare with.
# - Tsai & Lee (2020) balance the classes of WM-811K by data augmentation before training a
#   light-weight CNN, and **report** that the augmentation raises its accuracy.
#
# **VAEs on wafer maps.** Hwang & Kim (2020) put a Gaussian mixture prior under a VAE (variational
# deep clustering) and cluster WM-811K maps without labels — the VAE there is a model of the
# patterns, not an augmenter; lecture 6 uses the same kind of model as an anomaly score.
#
# **Diffusion models** (Ho, Jain & Abbeel 2020) draw sharper and more varied images than GANs, and
# are now the generator of choice for augmentation: Azizi et al. (2023) **report** that ImageNet
# classifiers trained on real plus diffusion-generated images are more accurate than on real
# images alone, Trabucco et al. (2024) edit real images with a diffusion model for few-shot
# classification, and Hu et al. (2024) generate defect images of industrial parts (MVTec AD) from
# a few examples. We did not find a diffusion study on WM-811K whose numbers we could check, and a
# diffusion model is beyond this lecture's CPU budget.
#
# **The caveats the same literature gives.** Ravuri & Vinyals (2019) trained ImageNet classifiers on
# samples of the best class-conditional GAN of the day and found them far less accurate than
# classifiers trained on real images: a generator can have a good Frechet distance and still miss
# what a classifier needs. Buda et al. (2018) found plain oversampling the most reliable remedy
# for class imbalance in CNNs — the baseline a generator has to beat. And most wafer-map results
# above are one split, one seed, and a generator tuned on the same test set: the gains are
# reported, not replicated. Our measurements below repeat the question under a stricter protocol.
#
# ## 2. When can generated maps help?
#
# A classifier minimises an empirical risk. Oversampling class $c$ by a factor $k_c$ multiplies the
# weight of its loss terms by $k_c$, which is the same as training under the class prior
# $\pi'_c \propto k_c \pi_c$. Under that prior the Bayes classifier is
#
# $$p'(y\mid x) = \frac{p(x\mid y)\,\pi'_y}{\sum_{y'} p(x\mid y')\,\pi'_{y'}},\qquad
#   \log p'(y\mid x) = \log p(y\mid x) + \log k_y + \text{const}(x),$$
#
# i.e. oversampling shifts the logits of the rare classes by $\log k_c$: more rare-class recall,
# fewer rare-class precision, and no new information about what the rare class looks like (the
# random symmetries add only what lecture 2 showed the classes to be invariant to).
#
# Generated maps of class $c$ come from $q_c$ instead of the data's $p(x\mid c)$. Training on the
# mixture $(1-\lambda)\,p(\cdot\mid c) + \lambda\, q_c$ minimises
#
# $$R_\lambda(f) = (1-\lambda)\,R_p(f) + \lambda\,R_{q}(f),\qquad
#   \lvert R_q(f) - R_p(f)\rvert \le \ell_{\max}\,\mathrm{TV}(q_c, p(\cdot\mid c)),$$
#
# for a loss bounded by $\ell_{\max}$. The generated maps help when they reduce the variance of
# the few-sample estimate of $R_p$ more than the bias $\lambda\,\ell_{\max}\,\mathrm{TV}$ they add.
# A generator that collapses (lecture 7: recall near 0) adds almost no variance reduction; a
# generator that draws maps of the wrong class adds bias. Both are measurable before any
# classifier is trained: the class consistency of the generated maps (below), and the precision
# and recall of lecture 7.
#
# ## 3. The data, and the later lots
#
# The training pool is WM-811K `train_29`, de-duplicated against `val` and `test`. A fab deploys a
# model on lots that come after its training lots, so the pool is split by lot
# (`lot_ordered_split`, `source_index` is monotone in the lot number): the latest 20 % of its
# maps are the **later-lot** set, never trained on. The classifier is trained on the earlier lots
# with at most 400 maps per class (`none` 800); for the rare-class measurement, Donut, Near-full,
# Scratch and Loc are cut to a few dozen maps each, so that augmentation has something to add.

# %%
wm = prepare({"train": "train_29", "val": "val", "test": "test"}).lot_split("train", 0.2, into=("fit", "late"))
names = wm.label_names
rare = [names.index(c) for c in RARE]
caps_full = {"none": plan["none"]}
caps_rare = {**caps_full, **{c: plan["rare_cap"] for c in RARE}}
ws_full = wm["fit"].subset(wm.rows("fit", per_class=plan["per_class"], caps=caps_full, seed=ctx.seed))
ws_rare = wm["fit"].subset(wm.rows("fit", per_class=plan["per_class"], caps=caps_rare, seed=ctx.seed))
rows_test = wm.rows("test", n=plan["n_test"], seed=ctx.seed) if plan["n_test"] else None
rows_late = wm.rows("late", n=plan["n_late"], seed=ctx.seed) if plan["n_late"] else None
test = wm.encode("test", rows_test, size=SIZE, density=True, tensors=True)
late = wm.encode("late", rows_late, size=SIZE, density=True, tensors=True)
val = wm.encode("val", wm.rows("val", n=plan["n_val"], seed=ctx.seed), size=SIZE, density=True, tensors=True)
late_maps = wm["late"].maps if rows_late is None else wm["late"].subset(rows_late).maps
late_grids = regrid_maps(late_maps, PROBE_GRIDS, seed=ctx.seed + 7)     # an imitation of the product shift
late_at_grids = (torch.from_numpy(encode_maps(late_grids, SIZE, density=True)), late[1])
ctx.table(wm.count_table({"train (earlier lots)": ws_full.labels, "train, rare classes cut": ws_rare.labels,
                          "later lots": late[1].numpy(), "test": test[1].numpy()}), "counts")
fit_src, late_src = wm["fit"].source_index, wm["late"].source_index
print(f"earlier lots: source_index {fit_src.min()}..{fit_src.max()}; later lots: {late_src.min()}..{late_src.max()}; "
      f"later-lot maps re-rendered at {PROBE_GRIDS}")
for k, c in zip(rare, RARE):
    ctx.metric(f"data/{slug(c)}", {"train_rare": int((ws_rare.labels == k).sum()), "later": int((late[1] == k).sum()),
                                  "test": int((test[1] == k).sum())})

# %% [markdown]
# The later lots are mostly one product (27 x 25 dies) and mostly `none`; their rare classes have
# few maps (the table), so a rare-class recall on them moves in steps of several percent per map.
# The test split is a stratified draw over all lots of the aggregated set.
#
# ## 4. Rare-class augmentation
#
# Four variants, each topping Donut, Near-full, Scratch and Loc up to the same number of maps
# (the printed counts), trained from scratch for every seed:
#
# - **none**: the rare-cut training set as it is;
# - **oversampling**: each added map a random original of its class under a random symmetry of the
#   square (`Oversampler`);
# - **cGAN**: a class-conditional DCGAN with a projection discriminator and spectral norm
#   (lecture 7), trained within the run on the rare-cut set (at most 100 maps per class, so that
#   the rare classes are not drowned), non-saturating loss, a few hundred steps of each network;
#   its samples are decoded to wafer maps (`sample_wafer_maps`);
# - **VAE**: one small convolutional VAE per rare class (`WaferVAE`, 8 latent dimensions), trained
#   with the ELBO on that class's maps only. It is sampled from its **aggregate posterior** — a
#   training map $x_i$ drawn at random, $z \sim q(z\mid x_i)$, each cell set to its most likely
#   value — because with a few dozen maps the prior $\mathcal N(0, I)$ has regions no map encodes
#   to, which decode to maps of no class (in a trial outside this run, one seed, most prior samples
#   of the Donut, Scratch and Loc VAEs were called another class by the shipped classifier).
#
# The classifier is `SmallCNN` (width 8) on $32\times32$ maps of three channels (wafer, fail,
# fail fraction), trained with the same configuration, the same seeds and therefore the same
# initial weights in every variant; the generators are trained anew with each seed, so the
# spread over seeds includes the generator's. No variant is chosen on the test split or on the
# later lots: every run keeps its last epoch.

# %%
counts = top_up_counts(ws_rare.labels, rare, plan["target"])
print("maps added per class:", {names[c]: n for c, n in counts.items()})
base_config = dict(epochs=plan["epochs"], batch_size=128, lr=3e-3, weight_decay=1e-4, scheduler="cosine",
                   progress=False, device=str(ctx.device))
score = set_scores({"later": late, "later@grids": late_at_grids}, names, device=str(ctx.device))
gan_cfg = GANConfig(loss="ns", epochs=plan["gan_epochs"], batch_size=64, lr_g=2e-4, lr_d=2e-4, device=str(ctx.device),
                    verbose=False, progress=False)
augmenters = {"none": None, "oversampling": Oversampler(),
              "cGAN": GANSampler(gan_cfg, width=16, size=SIZE, per_class=plan["gan_per_class"], num_classes=len(names)),
              "VAE": VAESampler(latent=8, width=16, size=SIZE, epochs=plan["vae_epochs"], device=str(ctx.device))}
t0 = time.perf_counter()
rows_a, made = run_augmented(augmenters, ws_rare.maps, ws_rare.labels, counts, val, test, base_config, seeds=seeds,
                             label_names=names, size=SIZE, score=score)
ctx.metric("timing/rare_runs_s", time.perf_counter() - t0)
gan_steps = plan["gan_epochs"] * (sum(min(plan["gan_per_class"], int((ws_rare.labels == k).sum()))
                                      for k in range(len(names))) // gan_cfg.batch_size)
print(f"cGAN: {ctx.metric('rare/gan_steps', gan_steps)} steps of each network per seed; VAE: "
      f"{plan['vae_epochs']} epochs per class; the training ELBO of the VAEs (nats per map, seed {seeds[0]}): "
      f"{ {names[c]: round(v, 1) for c, v in augmenters['VAE'].elbo_[seeds[0]].items()} }")

# %% [markdown]
# ### Are the generated maps of their class?
#
# Before the classifier: the share of each augmenter's maps that the shipped wafer classifier
# (`deepfab wafer`, trained on the WM-811K training files, never on these generated maps) calls
# the class they were made for, averaged over seeds, beside the same share for the real
# rare-class training maps.

# %%
clf = load_model("default", device=str(ctx.device))
real_rare = [m for m, y in zip(ws_rare.maps, ws_rare.labels) if y in rare]
real_y = ws_rare.labels[np.isin(ws_rare.labels, rare)]
consist = {"real maps": gm.class_consistency(clf.predict_proba(real_rare, tta=False).argmax(1), real_y, names)}
for name in ("oversampling", "cGAN", "VAE"):
    per_seed = [gm.class_consistency(clf.predict_proba(made[(name, s)][0], tta=False).argmax(1), made[(name, s)][1],
                                     names) for s in seeds]
    consist[name] = {c: float(np.mean([p[c] for p in per_seed])) for c in RARE}
for name, cc in consist.items():
    ctx.metric(f"consistency/{slug(name)}", {slug(c): cc[c] for c in RARE})
ctx.table([{"class": c, **{name: consist[name][c] for name in consist}} for c in RARE], "class_consistency")
ctx.figure(per_class_figure({k: {c: v[c] for c in RARE} for k, v in consist.items()},
                            ylabel="share called its class", title="class consistency (shipped classifier)"),
           "class_consistency")
s0 = seeds[0]
show = {}
for k, c in zip(rare, RARE):
    show[f"{c}, real"] = [m for m, y in zip(ws_rare.maps, ws_rare.labels) if y == k][:8]
    for name in ("oversampling", "cGAN", "VAE"):
        show[f"{c}, {name}"] = [m for m, y in zip(*made[(name, s0)]) if y == k][:8]
ctx.figure(wafer_samples_figure(show, ncols=8, size=0.85, title=f"real rare-class maps and the added ones (seed {s0})"),
           "rare_samples")

# %% [markdown]
# Oversampled maps are real maps turned or mirrored, so their consistency is the real maps'. The
# generators' numbers say what kind of maps the classifier gets: a low share means that most
# added maps of that class look like another class (often `none`, or Random for a cloud of
# fails) to a classifier that knows the classes — they add bias, not information (section 2).
# The samples figure shows the same thing by eye; the numbers are what the text relies on.
#
# ### The classifier with each augmenter
#
# Macro-F1 over seeds (mean ± sd), the paired difference to **none** (same seed, same initial
# weights) with its paired t-test, and the mean recall of the rare classes — on the test split,
# then on the later lots.

# %%
summaries_a, diffs_a = {}, {}
keys = ("macro_f1", "accuracy", *[f"recall/{c}" for c in RARE])
means = {f"recall/{c}": f"{c} recall" for c in RARE}
for set_name, rows in (("test", rows_a), ("later lots", rows_on(rows_a, "later"))):
    summaries_a[set_name] = summarize(rows, keys)
    diffs_a[set_name] = paired_differences(rows, "none", "macro_f1")
    print(f"--- {set_name} ---")
    ctx.table(summary_table(summaries_a[set_name], diffs_a[set_name], means=means), f"rare_{slug(set_name)}")
    for s in summaries_a[set_name]:
        ctx.metric(f"rare/{slug(set_name)}/{slug(s['variant'])}",
                   {"macro_f1_mean": s["macro_f1_mean"], "macro_f1_sd": s["macro_f1_sd"],
                    **{f"recall_{slug(c)}": s[f"recall/{c}_mean"] for c in RARE}})
    for d in diffs_a[set_name]:
        ctx.metric(f"rare/{slug(set_name)}/{slug(d['variant'])}/paired",
                   {k: d[k] for k in ("diff_mean", "diff_sd", "t", "p") if np.isfinite(d[k])})
        print(describe_difference(d))
    rare_recall = [{"variant": r["variant"], **{c: r[c] for c in RARE}} for r in recall_table(rows)]
    ctx.figure(plot_recall_bars(rare_recall, title=f"rare-class recall on {set_name} (mean over seeds)",
                                scored_on=set_name),
               f"rare_recall_{slug(set_name)}")
ctx.figure(plot_ablation(summaries_a, title="rare-class augmentation: macro-F1 (mean ± sd over seeds)", scored_on=""),
           "rare_macro_f1")

# %% [markdown]
# **Reading it.** Each sentence above comes from the paired test of its row: "helped" or "hurt"
# only when the three paired differences agree well enough for $p < 0.05$, otherwise "no
# difference these seeds can resolve" — with three seeds a real but small effect often lands
# there, so the mean difference and the rare-class recall columns are worth reading as well. What
# to look for:
#
# - **oversampling** changes the class prior (section 2): if it helps, it shows as higher recall
#   of the rare classes, sometimes paid for elsewhere (the other recall columns in the CSV);
# - the **generators** can only beat oversampling if their maps are of the right class *and*
#   varied; the class-consistency table says how far each is from that. A generator whose maps are
#   mostly called another class teaches the classifier to call such maps rare — at the cost of
#   rare-class precision, and of the macro-F1;
# - the **later lots** test whether what helped on the test split carries over to lots after the
#   training lots; their rare classes have few maps (section 3), so their recalls are coarse.
#
# ## 5. Product-shift augmentation
#
# A new product puts another die grid under the same defect physics. `RegridMaps` (with
# `deepfab.augment.regrid`) re-renders a share $p = 0.5$ of every training batch at a random die
# grid (rows and columns in 28..52, never one of the grids held out for scoring) and turns up to
# 30 % of the fail dies to pass (fainter defects), before encoding. Two variants on the full
# earlier-lot training set (no class cut), three seeds, paired: **none** and **regrid**. They are
# scored on three sets:
#
# - the **test** split;
# - the **later lots** as they are;
# - the **later lots re-rendered** at the die grids reported for later production
#   (33 x 37, 45 x 43, 39 x 37, `PROBE_GRIDS`) — *an imitation* of a product shift that the shipped
#   data does not hold, made by the same re-rendering rule that the augmentation uses (with other
#   grids and another seed), so it favours the augmentation by construction: read it as "does the
#   classifier survive this kind of shift", not as a forecast for a real new product.
#
# (The augmented variant trains on `RegridMaps`, `Variant(data=...)`, which re-renders the raw maps
# behind each batch before encoding them.) The full-budget version of this comparison, with the
# shipped default's ResNet recipe, is `benchmarks/bench_later_lots.py`.

# %%
X_full = encode_maps(ws_full.maps, SIZE, density=True)
regrid_data = RegridMaps(ws_full.maps, ws_full.labels, size=SIZE, density=True, p=0.5, fade=0.3, seed=ctx.seed,
                         encoded=X_full)
t0 = time.perf_counter()
rows_b = run_variants([Variant("none"), Variant("regrid p=0.5, fade 0.3", data=regrid_data)],
                      (torch.from_numpy(X_full), torch.from_numpy(ws_full.labels)), val, test, base_config,
                      seeds=seeds, label_names=names, score=score)
ctx.metric("timing/shift_runs_s", time.perf_counter() - t0)
summaries_b, diffs_b = {}, {}
for set_name, rows in (("test", rows_b), ("later lots", rows_on(rows_b, "later")),
                       ("later lots @ other grids", rows_on(rows_b, "later@grids"))):
    summaries_b[set_name] = summarize(rows, ("macro_f1", "accuracy", "balanced_accuracy"))
    diffs_b[set_name] = paired_differences(rows, "none", "macro_f1")
    print(f"--- {set_name} ---")
    ctx.table(summary_table(summaries_b[set_name], diffs_b[set_name], means={"balanced_accuracy": "balanced acc"}),
              f"shift_{slug(set_name)}")
    for s in summaries_b[set_name]:
        ctx.metric(f"shift/{slug(set_name)}/{slug(s['variant'])}",
                   {k: s[k] for k in ("macro_f1_mean", "macro_f1_sd", "accuracy_mean", "balanced_accuracy_mean")})
    for d in diffs_b[set_name]:
        ctx.metric(f"shift/{slug(set_name)}/paired", {k: d[k] for k in ("diff_mean", "diff_sd", "t", "p")
                                                      if np.isfinite(d[k])})
        print(describe_difference(d))
    rec = recall_table(rows)
    ctx.metric(f"shift/{slug(set_name)}/recall", {f"{slug(r['variant'])}/{slug(c)}": r[c] for r in rec for c in names})
ctx.figure(plot_ablation(summaries_b, title="product-shift augmentation: macro-F1 (mean ± sd over seeds)",
                         scored_on=""),
           "shift_macro_f1")
ctx.figure(plot_recall_bars(recall_table(rows_on(rows_b, "later@grids")),
                            title="recall on the later lots re-rendered at other die grids (mean over seeds)",
                            scored_on="later lots, other grids:"),
           "shift_recall_grids")

# %% [markdown]
# **Reading it.** The re-rendered later lots are where a classifier trained on the shipped grids
# meets maps of unfamiliar size and density; the printed sentence for that set says whether the
# augmentation's gain there is resolved by three seeds, and the sentences for the test split and
# the later lots as they are say whether it cost anything on the data the fab has today. The
# recall figure shows which classes the shift hurts most (small, faint patterns such as Loc,
# Scratch and Center are the candidates: on a finer grid each of their fail dies covers less of the
# wafer). Look at the accuracy column and at the `none` recall too: a classifier that never saw a
# grid may call its clean maps defective, which costs accuracy on lots that are mostly clean long
# before it shows in a macro-F1. And if a class's recall *falls* with the augmentation (Scratch is
# the candidate: a one-die-wide line, re-drawn on a coarser grid and faded, loses its shape), the
# augmentation has taught the classifier that such maps belong elsewhere. Augmentation cannot
# teach what the re-rendering rule does not imitate — another defect physics, another tester's
# fail criterion — so a real new product still needs its own labelled check.
#
# ## 6. What helped, what did not
#
# The sentences below are printed from the paired tests above; nothing in them is written by
# hand. Read them with the class-consistency table (is the generator's output of the right class?)
# and with the count of later-lot maps per rare class.

# %%
for title, diffs in (("rare-class augmentation", diffs_a), ("product-shift augmentation", diffs_b)):
    print(f"== {title} ==")
    for set_name, ds in diffs.items():
        for d in ds:
            print(f"[{set_name}] {describe_difference(d)}")
ctx.metric("timing/total_s", time.perf_counter() - t_start)
print(f"total {time.perf_counter() - t_start:.0f} s")

# %% [markdown]
# **Honest limits.** The generators are small and trained for a few hundred steps on one CPU
# thread (lecture 7 showed what that buys: collapse within classes, blurred textures); published
# wafer-map GANs train for far longer, on more maps. Three seeds resolve differences of a few
# points of macro-F1, not fractions of a point. The later-lot set is small in the rare classes,
# and the re-rendered later lots are an imitation. What carries over to a fab's own data is the
# protocol: a generator is used only when its maps are of their class (measured), and an
# augmentation is kept only when it wins a paired comparison on later lots it never saw.
#
# On the shipped data's hardest later lots (the latest 20 %, in the default model's README), most
# errors are defects called `none` on products that were nearly defect-free in training. What helped
# there is not augmentation. It is a correction at prediction time that needs no labels and no
# training. It estimates each product's share of `none` maps from the
# model's own probabilities and lowers that class's prior where the share is smaller than in
# training (`deepfab.wafer.prior`, derived in lecture 14, applied by `deepfab wafer eval` and
# `predict`). After it, `eval` and `predict` divide each class's probability by its training share
# to the power 0.2 (the class balance, a logit adjustment), so that a doubtful map is not sent to
# the common class. `benchmarks/bench_later_lots.py` measures both over three seeds per recipe.
# The same bench shows the other side of augmentation. The default misses many defects whose fail
# dies have been thinned out at random (`benchmarks/bench_default_model.py`, `test, faint`).
# Training on thinned copies (`deepfab wafer train --faint`) mends that, but it also teaches the
# network to read a few scattered edge fails on a defect-free wafer as Edge-Loc, and on the later
# lots it lost. An augmentation earns its place on the lots it will meet, not on the weakness it
# was designed for.
#
# ## References
#
# - M.-J. Wu, J.-S. R. Jang, J.-L. Chen, "Wafer Map Failure Pattern Recognition and Similarity
#   Ranking for Large-Scale Data Sets", IEEE Transactions on Semiconductor Manufacturing 28(1), 2015.
# - Y. Ji, J.-H. Lee, "Using GAN to Improve CNN Performance of Wafer Map Defect Type Classification:
#   Yield Enhancement", Advanced Semiconductor Manufacturing Conference (ASMC), 2020.
# - J. Wang et al., "AdaBalGAN: An Improved Generative Adversarial Network With Imbalanced Learning
#   for Wafer Defective Pattern Recognition", IEEE Transactions on Semiconductor Manufacturing 32(3), 2019.
# - T.-H. Tsai, Y.-C. Lee, "A Light-Weight Neural Network for Wafer Map Classification Based on Data
#   Augmentation", IEEE Transactions on Semiconductor Manufacturing 33(4), 2020.
# - J. Hwang, H. Kim, "Variational Deep Clustering of Wafer Map Patterns", IEEE Transactions on
#   Semiconductor Manufacturing 33(3), 2020.
# - J. Ho, A. Jain, P. Abbeel, "Denoising Diffusion Probabilistic Models", NeurIPS 2020.
# - S. Azizi, S. Kornblith, C. Saharia, M. Norouzi, D. J. Fleet, "Synthetic Data from Diffusion Models
#   Improves ImageNet Classification", Transactions on Machine Learning Research, 2023.
# - B. Trabucco, K. Doherty, M. Gurinas, R. Salakhutdinov, "Effective Data Augmentation With Diffusion
#   Models", ICLR 2024.
# - T. Hu et al., "AnomalyDiffusion: Few-Shot Anomaly Image Generation with Diffusion Model", AAAI 2024.
# - S. Ravuri, O. Vinyals, "Classification Accuracy Score for Conditional Generative Models",
#   NeurIPS 2019.
# - M. Buda, A. Maki, M. A. Mazurowski, "A systematic study of the class imbalance problem in
#   convolutional neural networks", Neural Networks 106, 2018.
# - N. V. Chawla, K. W. Bowyer, L. O. Hall, W. P. Kegelmeyer, "SMOTE: Synthetic Minority Over-sampling
#   Technique", Journal of Artificial Intelligence Research 16, 2002.
# - A. Antoniou, A. Storkey, H. Edwards, "Data Augmentation Generative Adversarial Networks",
#   arXiv:1711.04340, 2017.
# - J. M. Tomczak, M. Welling, "VAE with a VampPrior", AISTATS 2018.
# - T. Miyato, M. Koyama, "cGANs with Projection Discriminator", ICLR 2018.
# - C. H. Stapper, "Modeling of integrated circuit defect sensitivities", IBM Journal of Research and
#   Development 27(6), 1983 (the yield model behind the re-rendering).
# - J. Quinonero-Candela, M. Sugiyama, A. Schwaighofer, N. D. Lawrence (eds.), "Dataset Shift in
#   Machine Learning", MIT Press, 2009.

# %% [markdown]
# ## Exercises
#
# Change the code or the data, predict what will happen, run it, then compare with the worked
# solution (each prints what it measured; `--smoke` runs it in seconds).
#
# 1. **Rarer still.** In section 4, cut Donut, Near-full, Scratch and Loc to 8 training maps instead
#    of 30 (`caps`), top them up to the same number by oversampling, and compare with no augmentation,
#    paired over seeds, beside the same comparison at 30 maps. Does oversampling's gain in macro-F1
#    grow when the classes are rarer, and how much rare-class recall is left without it?
#    Solution: `deepfab exercise L08 1`.
# 2. **VAE samples from the prior.** Section 4 samples each class's VAE from its aggregate posterior.
#    Train the per-class VAEs as the lecture does, draw the same number of maps from the prior
#    $\mathcal N(0, I)$ as well (`vae_samples` without the encoded maps), and score both sets with the
#    shipped classifier (class consistency). Are prior samples still of their class?
#    Solution: `deepfab exercise L08 2`.
