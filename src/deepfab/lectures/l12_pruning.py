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
# # Lecture 12 — Model pruning and efficient compressed models
#
# *12강 model pruning and efficient compressed models.* A wafer-map classifier runs on every wafer
# of every lot, often on a tester-side PC without a GPU. Making it **smaller** (bytes to ship and
# keep in memory) and **faster** (CPU time per lot) matters as much as its last point of macro-F1.
# This lecture derives and measures the four families of methods:
#
# 1. **pruning**: why a trained network can lose most of its weights, the magnitude criterion,
#    global unstructured pruning, lottery tickets with rewinding, and structured channel pruning;
# 2. **quantization**: uniform affine int8 quantization, its rounding error, post-training
#    quantization (PTQ) and quantization-aware training (QAT) with the straight-through estimator;
# 3. **distillation**: a small student trained on a teacher's softened outputs;
# 4. **one Pareto table**: macro-F1 against bytes against CPU latency, every latency a ratio to
#    the float32 model timed in the same run — and which methods made the model *faster*, which
#    only *smaller* or *sparser*.
#
# The code is `deepfab.compress` (`channels`, `prune`, `quantize`, `distill`, `measure`; tests in
# `tests/compress` check each against torch, numpy or a closed form) and `deepfab.models.SlimResNet`
# (a ResNet whose widths are data, so a pruned net rebuilds without pickle). Run it with
# `deepfab run L12` (the real run took 4.6 minutes of wall time in `make course` on a 2-core CPU,
# beside one other lecture, on one torch thread) or `deepfab run L12 --smoke`; every network is
# trained inside the run and every number the text refers to is in `runs/L12/metrics.json`.

# %%
import copy
import time
from dataclasses import replace
from functools import partial
from operator import itemgetter

import numpy as np
import torch

from deepfab import compress
from deepfab.compress.plots import pareto_figure, sparsity_figure
from deepfab.compress.recipe import compression_rows, fit_score
from deepfab.data import prepare
from deepfab.experiment import slug
from deepfab.lecture import Context
from deepfab.models import ResNet
from deepfab.models.complexity import count_flops, count_params
from deepfab.train import TrainConfig, evaluate, fit

ctx = Context.from_env("L12", threads=1)   # small networks on a shared 2-core CPU: one thread is fastest
HEADLINE = ("model/teacher/macro_f1", "pareto/int8_ptq/latency", "pareto/channels_50/latency",
            "pareto/int8_ptq/bytes_ratio", "lottery/ticket_minus_random", "distill/gain")
t_start = time.perf_counter()
SIZE, WIDTH = 32, 8
plan = ctx.pick(real=dict(per_class=300, none=600, n_val=800, n_test=3000, epochs=10, rewind_epoch=1,
                          oneshot=(0.5, 0.7, 0.8, 0.9, 0.95), finetune=1, imp=(0.6, 0.9), imp_epochs=5,
                          keep=0.5, channel_epochs=6, qat_epochs=2, n_calib=512, student_width=4,
                          student_epochs=10, n_time=256, repeats=15),
                smoke=dict(per_class=14, none=20, n_val=80, n_test=150, epochs=1, rewind_epoch=1,
                           oneshot=(0.5, 0.9), finetune=1, imp=(0.5, 0.8), imp_epochs=1, keep=0.5,
                           channel_epochs=1, qat_epochs=1, n_calib=32, student_width=4, student_epochs=1,
                           n_time=32, repeats=2))

# %% [markdown]
# ## 1. Why a trained network can be pruned
#
# A trained network $f(x; w)$ sits near a minimum of the training loss $L(w)$. Setting a set $P$
# of weights to zero moves it by $\delta$ with $\delta_i = -w_i$ for $i \in P$ and $0$ elsewhere;
# to second order
#
# $$L(w + \delta) - L(w) \approx \nabla L^\top \delta + \tfrac12\, \delta^\top H \delta
#   \approx \tfrac12 \sum_{i \in P} H_{ii}\, w_i^2 ,$$
#
# because $\nabla L \approx 0$ at a minimum and — the assumption of *Optimal Brain Damage* (LeCun,
# Denker & Solla 1989) — the Hessian $H$ is close to diagonal. The cost of removing weight $i$ is
# its **saliency** $\tfrac12 H_{ii} w_i^2$. With $H_{ii}$ of similar size across weights, the
# saliency ranks like $|w_i|$: the **magnitude criterion** of Han et al. (2015), which prunes the
# smallest $|w|$ and fine-tunes. Networks are over-parameterised (lecture 9): many directions of
# weight space barely change the loss, which is why large shares of weights can go.
#
# **Global vs layer-wise.** Global pruning ranks all conv and linear weights together (one
# threshold $\tau$, prune $|w_i| < \tau$), so layers with many small weights — the wide late
# layers — lose more than the small first conv. A layer-wise share treats them alike.
#
# **Lottery tickets.** Frankle & Carbin (2019) found that the mask of a pruned trained network,
# applied to the *original initial weights*, gives a sub-network that trains to the dense
# accuracy, while the same mask with *new* random weights does not: what survives pruning is a
# lucky combination of initial values and connections (a "winning ticket"). Iterative magnitude
# pruning (IMP) finds it: train, prune $p\,\%$, reset the survivors, train again. For deeper nets
# the reset must go to an early iterate $w_k$ of training instead of $w_0$ (**rewinding**,
# Frankle et al. 2020: after a few hundred steps the training run becomes stable to SGD noise).
#
# **Structured vs unstructured.** Zeroing single weights leaves every tensor its shape: a dense
# kernel multiplies the zeros like any number, so the net is **sparser but not faster**, and its
# state_dict is **not smaller** unless stored in a sparse format. Removing whole filters (output
# channels) — with the input channels of the layers that read them — gives a smaller *dense*
# network whose convolutions do less work: a conv keeping a share $k$ of its input and output
# channels costs $k^2$ of its multiply-adds. Li et al. (2017) rank filters by their L1 norm
# $\sum |W_c|$. In a ResNet the channels of a residual stream are *added* across blocks
# ($y = F(x) + x$), so every conv that writes into one stream must keep the same channel set.
#
# ## 2. Quantization
#
# **Uniform affine quantization** (Jacob et al. 2018) stores a real tensor $x$ as integers
# $q \in [q_{\min}, q_{\max}]$ with a scale $S > 0$ and a zero point $Z$:
#
# $$q = \operatorname{clamp}\!\Big(\operatorname{round}\big(\tfrac{x}{S}\big) + Z,\; q_{\min},\, q_{\max}\Big),
#   \qquad \hat x = S\,(q - Z).$$
#
# For a range $[a, b] \ni 0$: $S = (b - a)/(q_{\max} - q_{\min})$ and $Z = q_{\min} - \operatorname{round}(a/S)$,
# so that $0$ is represented exactly (zero padding and ReLU zeros cost no error). Inside the range
# the error is the rounding error, $|x - \hat x| \le S/2$; outside it is the clipping error
# $|x| - b$. A wider range clips less and rounds more: choosing $[a, b]$ (the observer) trades the
# two. With 8 bits a weight costs one byte instead of four. A product of quantized numbers is an
# integer product: $\hat x \hat w = S_x S_w (q_x - Z_x)(q_w - Z_w)$, summed in int32 and requantized
# once per output — the conv runs in integer arithmetic. Weights get one $(S, Z)$ per output
# channel (their ranges differ by channel), activations one per tensor, observed on a few hundred
# calibration maps: **post-training static quantization (PTQ)**. Batch norm is folded into the conv
# first ($W' = \gamma W/\sigma$, $b' = \beta - \gamma\mu/\sigma$).
#
# **Quantization-aware training (QAT)** trains with fake quantizers $x \mapsto \hat x(x)$ in the
# forward pass, so the weights learn to sit where rounding costs little. $\operatorname{round}$ has
# derivative 0 almost everywhere, so backpropagation uses the **straight-through estimator**
# (Bengio, Léonard & Courville 2013): $\partial \hat x / \partial x := 1$ inside the range, 0
# outside (clipped values get no gradient).
#
# ## 3. Distillation
#
# A small **student** $s(x)$ learns from a trained **teacher** $t(x)$ (Hinton, Vinyals & Dean 2015).
# With temperature $T$, $p_T = \operatorname{softmax}(t/T)$ and $q_T = \operatorname{softmax}(s/T)$,
#
# $$\mathcal L = \alpha\, T^2\, \mathrm{KL}(p_T \,\|\, q_T) + (1 - \alpha)\, \mathrm{CE}(\operatorname{softmax}(s), y),
#   \qquad \frac{\partial}{\partial s}\, T^2\, \mathrm{KL}(p_T\|q_T) = T\,(q_T - p_T).$$
#
# A higher $T$ flattens $p_T$ and shows the student the teacher's small probabilities — that a
# Donut map looks a little like a Center map — which one-hot labels do not carry. The gradient
# shrinks as $1/T$, and the factor $T^2$ keeps the soft term's size comparable to the hard term's
# when $T$ changes. `DistillLoss` is a `deepfab.train` objective, so the one training engine
# trains the student.
#
# ## 4. The data and the float32 model
#
# WM-811K `train_10` (at most 300 maps per class, `none` 600), the validation split for model
# selection and a class-proportional subset of the test split for every score, all
# de-duplicated against each other; $32\times32$ maps with three channels (wafer, fail, local fail
# density). The model is lecture 1's ResNet-10 at width 8, trained with class-balanced sampling;
# its weights after the first epoch are kept as the **rewind point** of section 6.

# %%
wm = prepare({"train": "train_10", "val": "val", "test": "test"})
names = wm.label_names
rows = {"train": wm.rows("train", per_class=plan["per_class"], caps={"none": plan["none"]}, seed=ctx.seed),
        "val": wm.rows("val", n=plan["n_val"], seed=ctx.seed), "test": wm.rows("test", n=plan["n_test"], seed=ctx.seed)}
train, val, test = (wm.encode(k, r, size=SIZE, density=True, tensors=True) for k, r in rows.items())
ctx.table(wm.count_table({"train": train[1].numpy(), "val": val[1].numpy(), "test": test[1].numpy()}), "counts")
cfg = TrainConfig(epochs=plan["epochs"], batch_size=64, lr=3e-3, scheduler="onecycle", sampler="balanced",
                  seed=ctx.seed, device=str(ctx.device), progress=False)
torch.manual_seed(ctx.seed)
teacher = ResNet(in_channels=train[0].shape[1], num_classes=len(names), width=WIDTH)
rewind = compress.RewindPoint(teacher, epoch=plan["rewind_epoch"])    # the weights after epoch 1, for section 6
res = fit(teacher, train, val, cfg, label_names=names, on_epoch_end=rewind)
teacher = res.model.cpu().eval()
base = evaluate(teacher, test, label_names=names, device="cpu")
shape = tuple(train[0].shape[1:])
ctx.metric("model/teacher", {"macro_f1": base["macro_f1"], "accuracy": base["accuracy"],
                             "params": count_params(teacher), "macs": count_flops(teacher, shape),
                             "train_seconds": res.train_seconds})
print(f"float32 ResNet-10 (width {WIDTH}): test macro-F1 {base['macro_f1']:.3f}, accuracy {base['accuracy']:.3f}, "
      f"{count_params(teacher):,} parameters, {count_flops(teacher, shape):,} multiply-adds per map")

# %% [markdown]
# ## 5. Global magnitude pruning
#
# The trained model pruned globally to each share of its conv and linear weights
# (`global_magnitude_prune`, `torch.nn.utils.prune.global_unstructured` with the L1 criterion),
# scored right after pruning (**one-shot**) and after one epoch of fine-tuning with the mask
# fixed.

# %%
ft_cfg = replace(cfg, epochs=plan["finetune"], lr=1e-3)
oneshot, tuned, layer_share = [], [], {}
for s in plan["oneshot"]:
    net = compress.global_magnitude_prune(copy.deepcopy(teacher), s)
    oneshot.append(evaluate(net, test, label_names=names, device="cpu")["macro_f1"])
    tuned.append(fit_score(net, train, val, test, ft_cfg, label_names=names)["macro_f1"])
    ctx.metric(f"magnitude/{s}", {"sparsity": compress.sparsity(net), "one_shot": oneshot[-1], "fine_tuned": tuned[-1]})
    layer_share[s] = {n: float((m.weight_mask == 0).float().mean()) for n, m in net.named_modules()
                      if hasattr(m, "weight_mask")}
    print(f"sparsity {s:.2f}: one-shot macro-F1 {oneshot[-1]:.3f}, after {plan['finetune']} epoch(s) of "
          f"fine-tuning {tuned[-1]:.3f} (dense {base['macro_f1']:.3f})")
ctx.figure(sparsity_figure({"one-shot": (plan["oneshot"], oneshot), "fine-tuned": (plan["oneshot"], tuned)},
                           dense=base["macro_f1"], title="global magnitude pruning of the float32 ResNet"),
           "magnitude_pruning")
s_hi = plan["oneshot"][-2]
ctx.table([{"layer": n, f"share pruned at {s_hi}": v} for n, v in layer_share[s_hi].items()], "layer_shares")
kept_shares = np.array(list(layer_share[s_hi].values()))
print(f"at global sparsity {s_hi}: layers pruned between {kept_shares.min():.2f} and {kept_shares.max():.2f} "
      f"(first conv {layer_share[s_hi]['stem.0']:.2f}, head {layer_share[s_hi]['head.2']:.2f})")

# %% [markdown]
# The per-layer table shows what a global threshold does: the wide late convs give up most of
# their weights, the small stem and head keep more. How far one-shot pruning goes before the
# macro-F1 falls, and how much one epoch of fine-tuning recovers, is printed above for this run.
#
# ## 6. Lottery tickets with rewinding
#
# Iterative magnitude pruning (`lottery_ticket`): the trained model is pruned to the first
# sparsity, its survivors are **rewound** to their values after epoch 1, and it is trained again
# for a few epochs; then pruned further from the retrained weights, rewound, trained. The
# **control** trains the same masks from fresh random weights (another seed) with the same
# budget. Frankle & Carbin's claim is that the ticket beats the control at high sparsity.

# %%
lt_cfg = replace(cfg, epochs=plan["imp_epochs"])
train_fn = partial(fit_score, train=train, val=val, test=test, config=lt_cfg, label_names=names)
ticket = copy.deepcopy(teacher)
lt_rows = compress.lottery_ticket(ticket, train_fn, plan["imp"], rewind.state, control_seed=ctx.seed + 100)
lt_table = [{"sparsity": r["sparsity"], "ticket (rewound)": r["ticket"]["macro_f1"],
             "random re-init": r["random"]["macro_f1"]} for r in lt_rows]
ctx.table(lt_table, "lottery")
for r in lt_table:
    ctx.metric(f"lottery/{r['sparsity']:.2f}", {"ticket": r["ticket (rewound)"], "random": r["random re-init"]})
gap = lt_table[-1]["ticket (rewound)"] - lt_table[-1]["random re-init"]
ctx.metric("lottery/ticket_minus_random", gap)
print(f"at sparsity {lt_table[-1]['sparsity']:.2f} the rewound ticket scores {lt_table[-1]['ticket (rewound)']:.3f} "
      f"and the random re-initialisation {lt_table[-1]['random re-init']:.3f}: the ticket is "
      f"{'ahead' if gap > 0 else 'not ahead'} by {gap:+.3f} (one seed, one test subset)")

# %% [markdown]
# One seed, so a gap of a point or two is within the noise of a single run (lecture 8's paired
# tests needed three seeds to resolve a few points); the claim of the papers rests on many runs
# and on much larger networks, where the random control collapses at high sparsity.
#
# ## 7. Structured channel pruning
#
# `prune_channels(teacher, keep)` keeps the share `keep` of the inner channels of every block and
# of every residual stream (L1-norm ranking, one shared set per stream), copies the weights and
# batch-norm statistics into a smaller `SlimResNet`, and the result is fine-tuned with the teacher's
# recipe (one-cycle schedule, peak learning rate 3e-3) for a few epochs: removing half of every
# stream moves the features far from what the later layers and the head expect.

# %%
slim = compress.prune_channels(teacher, plan["keep"])
slim_before = evaluate(slim, test, label_names=names, device="cpu")["macro_f1"]
slim_res = fit(slim, train, val, replace(cfg, epochs=plan["channel_epochs"]), label_names=names)
slim = slim_res.model.cpu().eval()
slim_after = evaluate(slim, test, label_names=names, device="cpu")["macro_f1"]
ctx.metric("channels", {"keep": plan["keep"], "macro_f1_before_ft": slim_before, "macro_f1": slim_after,
                        "params_ratio": count_params(slim) / count_params(teacher),
                        "macs_ratio": count_flops(slim, shape) / count_flops(teacher, shape)})
print(f"keep {plan['keep']}: widths {slim.config['widths']}, {count_params(slim) / count_params(teacher):.2f} of the "
      f"parameters and {count_flops(slim, shape) / count_flops(teacher, shape):.2f} of the multiply-adds; macro-F1 "
      f"{slim_before:.3f} right after pruning, {slim_after:.3f} after {plan['channel_epochs']} epochs of fine-tuning")

# %% [markdown]
# ## 8. int8: post-training quantization and quantization-aware training
#
# PTQ observes activation ranges on a few hundred training maps and converts (x86 engine, weights
# per channel). QAT starts from the trained float model with fake quantizers, trains a few epochs
# at a low learning rate (observers and batch-norm statistics frozen for the last one), and
# converts. First the affine maths of section 2 on one tensor: the measured worst rounding error
# of the float model's largest layer, against the bound $S/2$.

# %%
w = teacher.features[-1].conv2.weight.detach().flatten()
scale, zero = compress.affine_qparams(float(w.min()), float(w.max()), -128, 127)
_, w_hat = compress.affine_quantize(w, scale, zero, -128, 127)
err = float((w - w_hat).abs().max())
ctx.metric("quant/rounding", {"scale": scale, "max_error": err, "bound": scale / 2})
print(f"one scale for the whole tensor: S = {scale:.2e}, worst error {err:.2e} <= S/2 = {scale / 2:.2e}: "
      f"{err <= scale / 2 + 1e-9}")
calib = train[0][torch.randperm(len(train[0]), generator=torch.Generator().manual_seed(ctx.seed))[:plan["n_calib"]]]
ptq = compress.quantize_int8(teacher, calib)
gap_ptq = compress.logit_gap(teacher, ptq, test[0][:512])
qat = compress.prepare_qat(teacher, calib[:1])
qat_cfg = replace(cfg, epochs=plan["qat_epochs"], lr=3e-4, device="cpu")
fit(qat, train, val, replace(qat_cfg, epochs=max(1, plan["qat_epochs"] - 1)), label_names=names)
compress.freeze_qat(qat)
fit(qat, train, val, replace(qat_cfg, epochs=1), label_names=names)
qat_int8 = compress.convert_qat(qat)
ctx.metric("quant/ptq_logit_gap", gap_ptq)
print(f"PTQ vs float32 logits on 512 test maps: largest difference {gap_ptq['max_abs']:.3f} "
      f"({gap_ptq['relative']:.1%} of the largest logit), same class for {gap_ptq['argmax_agree']:.1%} of the maps")

# %% [markdown]
# ## 9. Distillation
#
# A ResNet-10 at width 4 (a quarter of the teacher's multiply-adds) trained twice from the same
# initial weights with the same budget: **alone** on the labels, and **distilled** from the float32
# teacher with $T = 4$, $\alpha = 0.9$.

# %%
st_cfg = replace(cfg, epochs=plan["student_epochs"])
torch.manual_seed(ctx.seed + 1)
student0 = ResNet(in_channels=shape[0], num_classes=len(names), width=plan["student_width"])
alone = fit(copy.deepcopy(student0), train, val, st_cfg, label_names=names).model.cpu().eval()
distilled = fit(copy.deepcopy(student0), train, val, st_cfg, label_names=names,
                loss_fn=compress.DistillLoss(teacher, temperature=4.0, alpha=0.9, label_names=names)).model.cpu().eval()
f_alone, f_dist = (evaluate(n, test, label_names=names, device="cpu")["macro_f1"] for n in (alone, distilled))
ctx.metric("distill", {"alone": f_alone, "distilled": f_dist, "macs_ratio": count_flops(alone, shape) /
                       count_flops(teacher, shape)})
ctx.metric("distill/gain", f_dist - f_alone)
print(f"student (width {plan['student_width']}): alone {f_alone:.3f}, distilled {f_dist:.3f} "
      f"({f_dist - f_alone:+.3f}, one seed); teacher {base['macro_f1']:.3f}")

# %% [markdown]
# ## 10. One table: macro-F1, bytes, CPU latency
#
# Every model on the CPU, one batch of test maps, timed in turns (interleaved repeats, median) in
# this one call; latency is the ratio to the float32 model. Bytes are those of `torch.save` of the
# state_dict; "sparse bytes" stores the mostly-zero weights as CSR. The magnitude-pruned model is
# the 80 %-sparse one of section 5 (fine-tuned, mask folded in), the ticket the last one of
# section 6.

# %%
s_mag = 0.8 if 0.8 in plan["oneshot"] else plan["oneshot"][-1]
mag = compress.global_magnitude_prune(copy.deepcopy(teacher), s_mag)
fit(mag, train, val, ft_cfg, label_names=names)
models = {"float32": teacher, f"magnitude {s_mag:.0%}": compress.make_permanent(mag.cpu()),
          "ticket": compress.make_permanent(ticket.cpu()), f"channels {plan['keep']:.0%}": slim,
          f"channels {plan['keep']:.0%} + int8": compress.quantize_int8(slim, calib), "int8 PTQ": ptq,
          "int8 QAT": qat_int8, "student alone": alone, "student distilled": distilled}
table = compression_rows(models, test, test[0][:plan["n_time"]], reference="float32", label_names=names,
                         repeats=plan["repeats"])
ref = table[0]
ctx.table([{"model": r["name"], "macro-F1": r["macro_f1"], "bytes": r["bytes"], "bytes / float32": r["bytes"] /
            ref["bytes"], "sparse bytes": r["sparse_bytes"], "zero weights": r["zero_share"],
            "MACs / float32": (r["macs"] / ref["macs"]) if r["macs"] else float("nan"),
            "latency / float32": r["latency"], "Pareto": "yes" if r["pareto"] else ""} for r in table], "pareto")
ctx.table([{"model": r["name"], **r["recall"]} for r in table], "recall")
for r in table:
    key = slug(r["name"])
    ctx.metric(f"pareto/{key}", {"macro_f1": r["macro_f1"], "bytes_ratio": r["bytes"] / ref["bytes"],
                                 "sparse_bytes_ratio": r["sparse_bytes"] / ref["bytes"], "latency": r["latency"]})
ctx.figure(pareto_figure(table), "pareto")
fastest, smallest = min(table, key=itemgetter("latency")), min(table, key=itemgetter("bytes"))
print(f"fastest: {fastest['name']} (x{fastest['latency']:.2f} the float32 time, macro-F1 {fastest['macro_f1']:.3f}); "
      f"smallest: {smallest['name']} (x{smallest['bytes'] / ref['bytes']:.2f} the bytes, macro-F1 "
      f"{smallest['macro_f1']:.3f}); on the Pareto front: {', '.join(r['name'] for r in table if r['pareto'])}")

# %% [markdown]
# ## 11. Which methods made the model faster, which only smaller
#
# Printed from the table above (latency ratios below 0.85 count as faster, bytes below 0.9 of the
# float32 state as smaller; one run on a shared CPU, where ratios within about 10 % of 1 are timing
# noise: a net of zeros does the same arithmetic).

# %%
for r in table[1:]:
    faster = r["latency"] < 0.85
    smaller = r["bytes"] < 0.9 * ref["bytes"]
    smaller_sparse = r["sparse_bytes"] < 0.9 * ref["bytes"]
    what = ("faster and smaller" if faster and smaller else "faster, not smaller" if faster else
            "smaller, not faster" if smaller else "smaller only when stored sparse" if smaller_sparse else
            "neither faster nor smaller")
    print(f"{r['name']:>22}: {what} (latency x{r['latency']:.2f}, bytes x{r['bytes'] / ref['bytes']:.2f}, "
          f"sparse x{r['sparse_bytes'] / ref['bytes']:.2f}, zeros {r['zero_share']:.0%}), macro-F1 "
          f"{r['macro_f1'] - ref['macro_f1']:+.3f} vs float32")
ctx.metric("timing/total_s", time.perf_counter() - t_start)
print(f"total {time.perf_counter() - t_start:.0f} s")

# %% [markdown]
# **Reading it.** Unstructured pruning (magnitude, lottery ticket) leaves a net of the same shape
# with zeros: dense CPU kernels run it at the float32 speed, and its state_dict has the float32
# size until stored sparse (CSR pays off only above about half zeros). Channel pruning and the
# smaller student change the shapes, so their multiply-adds and bytes fall — the latency falls
# less than the multiply-adds, because at width 8 on $32\times32$ maps much of the time is per-layer
# overhead rather than arithmetic. int8 cuts the bytes about four-fold and runs integer kernels;
# its speed-up on this CPU is in the table. Channel pruning and int8 stack (the fastest and the
# smallest model of this run are printed under the table). The macro-F1 column says what each cost.
#
# **Honest limits.** One seed and one test subset: differences of a point of macro-F1 between
# rows are not resolved. The networks are tiny and trained for a few epochs, and the lottery-ticket
# comparison in particular is far from the papers' scale. Latency is for batches of maps on one
# CPU thread of a shared machine; `benchmarks/bench_compress_ops.py` repeats the speed comparison
# in one process. `deepfab wafer compress` applies these methods to the shipped wafer model: by
# default int8 alone, which there kept macro-F1 within 0.004 of the float model on test and on
# later lots, where pruning half the channels with distillation lost about 0.02 on later lots
# (the README has the numbers).
#
# ## References
#
# - Y. LeCun, J. S. Denker, S. A. Solla, "Optimal Brain Damage", NIPS 1989.
# - S. Han, J. Pool, J. Tran, W. J. Dally, "Learning both Weights and Connections for Efficient Neural
#   Networks", NIPS 2015.
# - S. Han, H. Mao, W. J. Dally, "Deep Compression: Compressing Deep Neural Networks with Pruning, Trained
#   Quantization and Huffman Coding", ICLR 2016.
# - H. Li, A. Kadav, I. Durdanovic, H. Samet, H. P. Graf, "Pruning Filters for Efficient ConvNets", ICLR 2017.
# - Z. Liu, J. Li, Z. Shen, G. Huang, S. Yan, C. Zhang, "Learning Efficient Convolutional Networks through
#   Network Slimming", ICCV 2017.
# - J. Frankle, M. Carbin, "The Lottery Ticket Hypothesis: Finding Sparse, Trainable Neural Networks", ICLR 2019.
# - J. Frankle, G. K. Dziugaite, D. M. Roy, M. Carbin, "Linear Mode Connectivity and the Lottery Ticket
#   Hypothesis", ICML 2020.
# - B. Jacob et al., "Quantization and Training of Neural Networks for Efficient Integer-Arithmetic-Only
#   Inference", CVPR 2018.
# - R. Krishnamoorthi, "Quantizing deep convolutional networks for efficient inference: A whitepaper",
#   arXiv:1806.08342, 2018.
# - Y. Bengio, N. Léonard, A. Courville, "Estimating or Propagating Gradients Through Stochastic Neurons for
#   Conditional Computation", arXiv:1308.3432, 2013.
# - G. Hinton, O. Vinyals, J. Dean, "Distilling the Knowledge in a Neural Network", arXiv:1503.02531, 2015.
# - T. Hoefler, D. Alistarh, T. Ben-Nun, N. Dryden, A. Peste, "Sparsity in Deep Learning", JMLR 22, 2021.
# - M.-J. Wu, J.-S. R. Jang, J.-L. Chen, "Wafer Map Failure Pattern Recognition and Similarity Ranking for
#   Large-Scale Data Sets", IEEE Transactions on Semiconductor Manufacturing 28(1), 2015.

# %% [markdown]
# ## Exercises
#
# Change the code or the data, predict what will happen, run it, then compare with the worked
# solution (each prints what it measured; `--smoke` runs it in seconds).
#
# 1. **The distillation temperature.** In section 9, distill the width-4 student at $T = 1$, 4 and 16
#    from the same initial weights, choose $T$ on the validation maps, and report the test macro-F1 of
#    the choice beside the others. Low $T$ gives the hard labels back; high $T$ flattens the teacher's
#    distribution. Does the choice matter on one seed? Solution: `deepfab exercise L12 1`.
# 2. **Fewer calibration maps.** Section 8 calibrated int8 PTQ on 512 training maps. Calibrate on 2, 16
#    and 256 maps instead and measure the largest logit difference to float32 (`logit_gap`) and the test
#    macro-F1. How few maps are enough before the observed activation ranges clip what other maps
#    produce? Solution: `deepfab exercise L12 2`.
