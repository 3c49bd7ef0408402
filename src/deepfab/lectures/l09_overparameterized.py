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
# # Lecture 9 — Training and generalization of overparameterized networks
#
# *9강 Training & generalization of modern overparameterized neural networks.* The classifiers of
# lectures 1–8 have tens of thousands of parameters and are trained on a few thousand wafer maps,
# until they make almost no mistake on them. Classical statistics says such a model should
# memorize its training set and generalize badly. It does memorize — and still generalizes. This
# lecture measures the three observations that changed how the field thinks about it:
#
# 1. **double descent**: test error against model size falls, peaks where the model can just
#    interpolate the training set, and falls again — exactly on random-feature regression, where
#    the theory is known, and on small CNNs trained on WM-811K maps with noisy labels, over width
#    and over epochs;
# 2. **memorization**: the same CNN fits random labels and random inputs of a WM-811K subset to
#    100 % training accuracy, and what that does to capacity-based generalization bounds;
# 3. **implicit regularization**: gradient descent on an overparameterized least-squares problem
#    lands on the minimum-norm solution, checked against `numpy.linalg.pinv` (lecture 0); batch
#    size and step size do not change that limit, Adam does; and for a small network, what batch
#    size and step size change in the minimum found (its sharpness and norm).
#
# The code is `deepfab.generalization` (`minnorm`, `random_features`, `double_descent`, `interpolate`,
# `memorize`, `implicit`, `sharpness`, `plots`; tests with their oracles — `numpy.linalg.pinv`,
# scikit-learn's `Ridge`, `torch.optim`, the full Hessian — in `tests/generalization`). Run it with
# `deepfab run L09` (every network is trained inside the run, nothing is downloaded; the real run
# took 5.1 minutes of wall time in `make course` on a 2-core CPU, beside one other lecture, on one
# torch thread) or `deepfab run L09 --smoke`; every number the text refers to is in
# `runs/L09/metrics.json`.

# %%
import time

import numpy as np
import torch

from deepfab.data import prepare
from deepfab.experiment import slug
from deepfab.foundations.lsq import compare_solvers
from deepfab.generalization import (
    SETS,
    descend,
    describe_bump,
    flat_standardized,
    flip_labels,
    largest_bump,
    limit_from,
    linear_teacher,
    max_stable_lr,
    min_norm_solution,
    one_hot,
    peak_summary,
    rademacher_bound,
    random_feature_curve,
    randomized_sets,
    sgd_fit,
    sign_correlation,
    smooth,
    solution_table,
    sweep_summary,
    top_hessian_eigenvalue,
    train_recorded,
    weak_features_curve,
    width_sweep,
)
from deepfab.generalization.plots import (
    gd_path_figure,
    memorization_figure,
    random_features_figure,
    weak_features_figure,
    width_sweep_figure,
)
from deepfab.lecture import Context
from deepfab.models.small import SmallCNN
from deepfab.train import TrainConfig

ctx = Context.from_env("L09", threads=1, blas_threads=1)   # small problems on a shared 2-core CPU: one thread
HEADLINE = ("weak/max_rel_gap", "rf/teacher/peak_over_last", "rf/wm811k/peak_over_last", "cnn/model_wise",
            "cnn/epoch_wise", "memorize/epochs_to_fit", "memorize/test_accuracy", "implicit/gd_zero_dist_pinv",
            "implicit/adam_dist_min_norm")   # the metrics the course book lists first
t_start, cpu_start = time.perf_counter(), time.process_time()
SIZE = 16
plan = ctx.pick(real=dict(weak_draws=400, rf_draws=10, rf_n=200, wm_per_class=22, n_test_per_class=200,
                          widths=(1, 2, 4, 6, 8, 12, 16, 32, 64), epochs=60, mem_width=16, mem_epochs=300,
                          gd_steps=4000, sharp_epochs=250, sharp_runs=((0.05, 8), (0.05, 64), (0.2, 8), (0.2, 64))),
                smoke=dict(weak_draws=20, rf_draws=2, rf_n=40, wm_per_class=4, n_test_per_class=10,
                           widths=(1, 4), epochs=2, mem_width=4, mem_epochs=3, gd_steps=300, sharp_epochs=2,
                           sharp_runs=((0.05, 8), (0.2, 8))))
NOISE = 0.2          # share of flipped training labels in the CNN experiments
LAST = 5             # errors are averaged over the last LAST epochs of a run (damps epoch-to-epoch jitter)

# %% [markdown]
# ## 1. Theory: where classical counting fails
#
# **The classical picture.** For a hypothesis class $\mathcal H$ and $n$ samples, uniform
# convergence bounds the gap between test and training error by a capacity term: with
# probability $1-\delta$, for every $h \in \mathcal H$ and a loss in $[0,1]$,
#
# $$R(h) \le \hat R_n(h) + 2\,\mathfrak R_n(\mathcal H) + \sqrt{\frac{\log(1/\delta)}{2n}},\qquad
#   \mathfrak R_n(\mathcal H) = \mathbb E_\sigma \sup_{h\in\mathcal H} \frac1n \sum_{i=1}^n \sigma_i h(x_i),$$
#
# with $\sigma_i = \pm1$ fair coin flips (Bartlett & Mendelson 2002). More capacity lowers the
# training error $\hat R_n$ and raises $\mathfrak R_n$: the U-shaped test-error curve of every
# textbook, with its best model somewhere before the model can fit everything.
#
# **The interpolation threshold.** Take least squares with $p$ features and $n$ samples,
# $\min_\theta \lVert A\theta - y\rVert^2$, $A \in \mathbb R^{n\times p}$. For $p < n$ the solution
# is unique; at $p = n$ the square matrix $A$ interpolates $y$ exactly, noise included, and its
# smallest singular value $s_{\min}$ is close to 0, so $\theta = A^{-1} y$ has a huge norm
# ($\lVert\theta\rVert \ge \lvert u^\top y\rvert / s_{\min}$ for the singular vector $u$ of $s_{\min}$). For
# $p > n$ there are infinitely many interpolants; the pseudo-inverse picks the one of smallest norm,
# $\theta = A^+ y$ (lecture 0). Adding features past $n$ gives it more directions to spread
# over, so its norm — and its variance — falls again.
#
# **Exact curve (weak features).** Let $x \sim \mathcal N(0, I_D)$, $y = x^\top\beta + \varepsilon$,
# $\operatorname{Var}\varepsilon = \sigma^2$, and fit min-norm least squares on the first $p$ of the
# $D$ features. The unused features act as extra noise, $\tau^2 = \lVert\beta_{p+1:D}\rVert^2 + \sigma^2$.
# For $p < n$, $\theta - \beta_{1:p} = (A^\top A)^{-1}A^\top \xi$ and
# $\mathbb E\operatorname{tr}(A^\top A)^{-1} = p/(n-p-1)$ (inverse Wishart). For $p > n$,
# $\theta = A^+ A \beta_{1:p} + A^+\xi$: $A^+ A$ projects on a uniformly random $n$-dimensional
# subspace (bias $(1-n/p)\lVert\beta_{1:p}\rVert^2$) and $\mathbb E\operatorname{tr}(AA^\top)^{-1} = n/(p-n-1)$.
# So the expected test error is (Belkin, Hsu & Xu 2020; Hastie et al. 2022)
#
# $$\mathbb E\,(y - x^\top\theta)^2 = \begin{cases}
#   \tau^2\left(1 + \dfrac{p}{n-p-1}\right), & p \le n-2,\\[2ex]
#   \lVert\beta_{1:p}\rVert^2\left(1-\dfrac np\right) + \tau^2\left(1 + \dfrac{n}{p-n-1}\right), & p \ge n+2,
# \end{cases}$$
#
# which diverges at $p = n$ from both sides and falls again beyond: **double descent**. A ridge
# penalty $\lambda\lVert\theta\rVert^2$ keeps $s/(s^2+\lambda)$ bounded by $1/(2\sqrt\lambda)$, which caps
# the peak. We check the formula by simulation first.

# %%
D, N_WEAK, SIGMA = 120, 40, 0.5
beta = np.random.default_rng(ctx.seed).standard_normal(D)
beta /= np.linalg.norm(beta)
p_weak = [5, 10, 20, 30, 34, 37, 43, 46, 50, 60, 80, 100, 120]
sim = weak_features_curve(N_WEAK, beta, SIGMA, p_weak, draws=plan["weak_draws"], n_test=500, seed=ctx.seed)
far = np.abs(sim["widths"] - N_WEAK) >= 6            # the mean is a stable estimate away from the threshold
rel_gap = np.abs(sim["mean"][far] - sim["theory"][far]) / sim["theory"][far]
ctx.metric("weak/max_rel_gap", float(rel_gap.max()))
ctx.table([{"p": int(p), "exact risk": t, "simulated mean": m, "simulated median": md}
           for p, t, m, md in zip(sim["widths"], sim["theory"], sim["mean"], sim["median"])], "weak_features")
print(f"{plan['weak_draws']} draws: away from p = n the simulated mean is within {100 * rel_gap.max():.1f} % of "
      f"the exact risk; at p = {sim['widths'][np.argmax(sim['mean'])]} the simulated mean peaks at "
      f"{sim['mean'].max():.2f}, against {sim['mean'][-1]:.2f} at p = {sim['widths'][-1]}.")
ctx.figure(weak_features_figure(sim, N_WEAK), "weak_features")

# %% [markdown]
# Next to the threshold the expectation is dominated by rare draws with a tiny singular value
# (the mean sits far above the median there); away from it, the simulation and the formula agree
# to the printed percentage.
#
# ## 2. Random ReLU features: double descent where nothing is learned but the last layer
#
# A two-layer network with a frozen random first layer, $\phi(x) = \max(0, W^\top x/\sqrt d)$,
# $W_{jk} \sim \mathcal N(0,1)$, and a last layer fitted by min-norm or ridge least squares
# (Rahimi & Recht 2007). Belkin et al. (2019) showed its double descent on real data; Mei &
# Montanari (2022) derived its exact asymptotic curve. Here: a linear teacher in $d = 40$
# dimensions with noise $\sigma = 0.5$, $n$ training samples, the number of features $p$ swept
# through $n$, the features nested (one $W$ per draw, its first $p$ columns), median and
# quartiles over draws.

# %%
n_rf = plan["rf_n"]
X_tr, y_tr = linear_teacher(n_rf, 40, sigma=0.5, seed=ctx.seed)
X_te, y_te = linear_teacher(2000, 40, sigma=0.5, seed=ctx.seed + 1)
ratios = [0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 1.0, 1.05, 1.1, 1.25, 1.5, 2, 3, 5, 10, 20]
ridges = (0.0, 1e-2, 1e-1, 1.0)
t0 = time.process_time()
curve = random_feature_curve(X_tr, y_tr, X_te, y_te, [max(1, round(r * n_rf)) for r in ratios], ridges=ridges,
                             draws=plan["rf_draws"], seed=ctx.seed)
rf = peak_summary(curve)
print(f"ridgeless: median test MSE {rf['best_below']:.3f} at p = {rf['best_below_width']}, peak {rf['peak']:.1f} at "
      f"p = {rf['peak_width']} (n = {n_rf}), {rf['last']:.3f} at p = {rf['last_width']}; training MSE at p >= n: "
      f"{np.median(curve['train_mse'][0][:, curve['widths'] >= n_rf]):.1e}")
for r, lam in enumerate(ridges):
    s = peak_summary(curve, ridge_index=r)
    ctx.metric(f"rf/teacher/ridge_{lam:g}", {"peak_width": s["peak_width"], "peak": s["peak"], "last": s["last"],
                                             "min": s["min"], "min_width": s["min_width"]})
    print(f"ridge {lam:g}: highest median test MSE {s['peak']:.3f} at p = {s['peak_width']}, lowest {s['min']:.3f} "
          f"at p = {s['min_width']}")
side = "past" if rf["min_width"] > n_rf else "below"
print(f"the lowest ridgeless test MSE, {rf['min']:.3f}, is at p = {rf['min_width']}, {side} the threshold "
      f"p = n = {n_rf}")
ctx.metric("rf/teacher/peak_over_last", rf["peak"] / rf["last"])
ctx.metric("rf/teacher/peak_over_best_below", rf["peak"] / rf["best_below"])
ctx.metric("timing/rf_teacher_cpu_seconds", time.process_time() - t0)
ctx.figure(random_features_figure(curve, f"ReLU random features, linear teacher (n = {n_rf}, d = 40, σ = 0.5)"),
           "rf_teacher")

# %% [markdown]
# The coefficient norm (right) peaks where the test error does: at $p = n$ the fit interpolates
# the noise with a nearly singular feature matrix. Past the threshold the min-norm interpolant
# fits the training noise exactly (training MSE printed above) and its test error falls again;
# where its lowest test error lies, under or over the threshold, is printed for each ridge. A
# ridge penalty caps the peak (the printed highest points) — the min-norm solution is the
# $\lambda \to 0$ end of the same family.
#
# ### The same on wafer maps
#
# Now the inputs are real WM-811K maps, encoded at $16\times16$ with three channels (wafer, fail,
# fail fraction; lecture 1), flattened to 768 values and standardized; the targets are one-hot
# classes, and the prediction is the class with the largest output. The training set is the
# class-capped subset used for the CNNs below (at most 22 maps per class from `train_29`), with
# the same 20 % of labels flipped to another class; the test set is at most 200 maps per class
# of the `test` split with their true labels.

# %%
wm = prepare({"train": "train_29", "test": "test"})
names = wm.label_names
X_wm, y_wm = wm.encode("train", wm.rows("train", per_class=plan["wm_per_class"], seed=ctx.seed), size=SIZE,
                       density=True)
X_wt, y_wt = wm.encode("test", wm.rows("test", per_class=plan["n_test_per_class"], seed=ctx.seed), size=SIZE,
                       density=True)
y_noisy, flipped = flip_labels(y_wm, NOISE, len(names), seed=ctx.seed)
n_wm = ctx.metric("data/n_train", len(y_wm))
ctx.metric("data/n_test", len(y_wt))
ctx.metric("data/n_flipped", int(flipped.sum()))
ctx.table(wm.count_table({"train": y_wm, "train (noisy labels)": y_noisy, "test": y_wt}), "counts")
A_wm, A_wt = flat_standardized(X_wm, X_wt)
t0 = time.process_time()
wm_curve = random_feature_curve(A_wm, one_hot(y_noisy, len(names)), A_wt, one_hot(y_wt, len(names)),
                                [max(1, round(r * n_wm)) for r in ratios], ridges=(0.0, 1.0),
                                draws=max(2, plan["rf_draws"] // 2), seed=ctx.seed)
wm_rf, wm_err = peak_summary(wm_curve), peak_summary(wm_curve, "test_error")
ctx.metric("rf/wm811k/peak_over_last", wm_rf["peak"] / wm_rf["last"])
ctx.metric("rf/wm811k/mse", {k: wm_rf[k] for k in ("peak_width", "peak", "best_below", "last", "min")})
ctx.metric("rf/wm811k/error", {k: wm_err[k] for k in ("peak_width", "peak", "best_below", "last", "min")})
ctx.metric("timing/rf_wm811k_cpu_seconds", time.process_time() - t0)
print(f"WM-811K, n = {n_wm}: median test MSE {wm_rf['best_below']:.2f} (p = {wm_rf['best_below_width']}) -> peak "
      f"{wm_rf['peak']:.1f} (p = {wm_rf['peak_width']}) -> {wm_rf['last']:.2f} (p = {wm_rf['last_width']}); "
      f"test error {wm_err['best_below']:.3f} -> {wm_err['peak']:.3f} (p = {wm_err['peak_width']}) -> "
      f"{wm_err['last']:.3f}")
ctx.figure(random_features_figure(wm_curve, f"ReLU random features on WM-811K maps (n = {n_wm}, 20 % labels flipped)",
                                  error_key="test_error", ylabel="test error (argmax)"), "rf_wm811k")

# %% [markdown]
# ## 3. Small CNNs on wafer maps: model-wise and epoch-wise double descent
#
# Nakkiran et al. (2020) found the same peak in deep networks trained by SGD or Adam: at a fixed
# training budget, test error against width rises where the network becomes just able to fit the
# noisy training set, and falls for wider networks; at a fixed width, test error against epochs
# can do the same (epoch-wise double descent). Both are strongest with label noise: a network at
# the threshold has to bend around every wrong label. Their experiments train for thousands of
# epochs on CIFAR; ours are a CPU-sized copy:
#
# - `SmallCNN` (lecture 2; three conv blocks with $w, 2w, 4w$ channels, no batch norm, no dropout)
#   at widths $w$ from 1 up, on the $16\times16$ maps above with 20 % of the labels flipped;
# - Adam, learning rate $10^{-3}$ constant, batch 16, no weight decay, no augmentation, the same
#   number of epochs for every width, one seed (the same initial draw and batch order per width);
# - after every epoch the error on the whole (noisy) training set and on the clean test set
#   (`train_recorded`), so the model-wise and epoch-wise curves come from the same trainings;
#   a run's error is the mean over its last five epochs.

# %%
cnn_cfg = TrainConfig(epochs=plan["epochs"], batch_size=16, lr=1e-3, optimizer="adam", weight_decay=0.0,
                      scheduler=None, seed=ctx.seed, device=str(ctx.device), progress=False)
t0 = time.process_time()
rows = width_sweep((X_wm, y_noisy), (X_wt, y_wt), plan["widths"], cnn_cfg, seeds=(ctx.seed,),
                   num_classes=len(names), head_pool=2)
ctx.metric("timing/width_sweep_cpu_seconds", time.process_time() - t0)
summary = sweep_summary(rows, last=LAST)
jitter = float(np.mean([np.std(r["test_error"][-LAST:]) for r in rows]))   # epoch-to-epoch spread at the end
ctx.table([{"width": s["width"], "params": s["params"], "train error": s["train_error"],
            "test error": s["test_error"]} for s in summary], "width_sweep")
for s in summary:
    ctx.metric(f"cnn/width_{s['width']}", {"params": s["params"], "train_error": s["train_error"],
                                           "test_error": s["test_error"]})
bump = largest_bump([s["width"] for s in summary], [s["test_error"] for s in summary])
fit_w = [s["width"] for s in summary if s["train_error"] <= 0.01]
ctx.metric("cnn/model_wise", {"bump_width": bump["x"], "rise": bump["rise"], "fall": bump["fall"],
                              "height": bump["height"], "jitter": jitter,
                              "first_fit_width": fit_w[0] if fit_w else -1})
print(describe_bump(bump, jitter, "model-wise", "width"))
print(f"the training error is at most 0.01 from width {fit_w[0]} on" if fit_w else
      "no width reached a training error of 0.01 in this budget")

# %% [markdown]
# **Epoch-wise.** The widest network's test error, smoothed over five epochs, against the epoch,
# with its training error beside it:

# %%
wide = rows[-1]
ep = np.arange(1, len(wide["test_error"]) + 1)
ebump = largest_bump(ep, smooth(wide["test_error"], 5))
fit_epoch = next((int(e) for e, t in zip(ep, wide["train_error"]) if t <= 0.01), -1)
ctx.metric("cnn/epoch_wise", {"width": wide["width"], "bump_epoch": ebump["x"], "rise": ebump["rise"],
                              "fall": ebump["fall"], "height": ebump["height"], "first_fit_epoch": fit_epoch})
print(describe_bump(ebump, jitter, f"epoch-wise (width {wide['width']})", "epoch"))
print(f"width {wide['width']} first reaches a training error of at most 0.01 at epoch {fit_epoch}" if fit_epoch > 0
      else f"width {wide['width']} never reaches a training error of 0.01 in {len(ep)} epochs")
ctx.figure(width_sweep_figure(summary, rows, f"SmallCNN on {n_wm} WM-811K maps, {int(100 * NOISE)} % labels flipped, "
                                            f"{plan['epochs']} epochs"), "cnn_double_descent")

# %% [markdown]
# **Reading it.** The sentences above are printed from the measured curves: "a double descent"
# only when the bump rises and falls by more than twice the jitter (the epoch-to-epoch spread of a
# run's last five test errors), otherwise "not resolved". Compare the width of the bump with the
# first width whose training error reaches 0.01: Nakkiran et al. place the peak where the
# *effective model complexity* — the largest training set the procedure can fit — equals $n$.
# What limits this copy: one seed, about two hundred maps, 60 epochs instead of thousands, and
# widths only up to what a CPU trains in a few minutes; the test errors differ by a few points,
# and a second seed can move them by as much. The random-feature curves above have no such
# caveat: there the peak is a theorem.
#
# ## 4. Memorization: random labels and random inputs
#
# Zhang et al. (2017) trained standard CNNs on CIFAR-10 with the labels replaced by random ones
# and reached zero training error — the networks simply memorized — taking only a small constant
# factor longer than with the true labels; the same with the pixels shuffled or replaced by
# Gaussian noise. We repeat it on the clean-label maps above, with one `SmallCNN` (width printed),
# the same initial weights and the same optimizer for each of four sets (`randomized_sets`):
# the true labels; a random permutation of the labels (same class counts, no information);
# one fixed permutation of the $16\times16$ pixel positions applied to every map, train and test;
# Gaussian noise with the maps' channel means and standard deviations in place of the maps.
# Each trains until it makes no training mistake (or a cap of epochs).

# %%
mem_cfg = TrainConfig(epochs=plan["mem_epochs"], batch_size=16, lr=1e-3, optimizer="adam", weight_decay=0.0,
                      scheduler=None, seed=ctx.seed, device=str(ctx.device), progress=False)
sets = randomized_sets(X_wm, y_wm, X_wt, y_wt, seed=ctx.seed)
records, mem_rows = {}, []
for name in SETS:
    Xa, ya, Xb, yb = sets[name]
    torch.manual_seed(ctx.seed)
    model = SmallCNN(X_wm.shape[1], len(names), width=plan["mem_width"], head_pool=2)
    rec = train_recorded(model, (Xa, ya), (Xb, yb), mem_cfg, stop_at_fit=True)
    records[name] = rec
    with torch.no_grad():
        pred = rec["model"].eval()(torch.as_tensor(Xa)).argmax(1).numpy()
    fitted = rec["epochs_to_fit"] is not None
    row = {"set": name, "epochs to fit": rec["epochs_to_fit"] if fitted else f"> {rec['epoch'][-1]}",
           "train accuracy": 1 - rec["train_error"][-1], "test accuracy": 1 - rec["test_error"][-1],
           "sign correlation": sign_correlation(ya, pred), "CPU s": rec["cpu_seconds"]}
    mem_rows.append(row)
    key = name.replace(" ", "_")
    ctx.metric(f"memorize/{key}", {"epochs": rec["epoch"][-1], "fitted": fitted,
                                   "train_accuracy": row["train accuracy"], "test_accuracy": row["test accuracy"],
                                   "sign_correlation": row["sign correlation"]})
    ctx.metric(f"timing/memorize_{key}_cpu_seconds", rec["cpu_seconds"])
print(f"SmallCNN width {plan['mem_width']}: {records['true labels']['params']:,} parameters, {n_wm} training maps")
ctx.table(mem_rows, "memorization")
ctx.metric("memorize/epochs_to_fit", {r["set"].replace(" ", "_"): records[r["set"]]["epoch"][-1] for r in mem_rows})
ctx.metric("memorize/test_accuracy", {r["set"].replace(" ", "_"): r["test accuracy"] for r in mem_rows})
ctx.figure(memorization_figure(records, f"SmallCNN (width {plan['mem_width']}) on {n_wm} WM-811K maps"), "memorization")

# %% [markdown]
# **What it says about capacity bounds.** The sign correlation is the quantity inside the
# Rademacher complexity for the $\pm1$ labels given by the parity of the class index: a network
# that fits the random labels reaches the largest possible value, 1, on a labelling that was drawn
# at random. The training procedure therefore reaches functions that fit (essentially) any
# labelling of these $n$ maps, $\mathfrak R_n \approx 1$, and the bound of section 1 is printed
# below with the measured numbers.

# %%
rand = records["random labels"]
r_n = max(0.0, mem_rows[SETS.index("random labels")]["sign correlation"])
true_rec = records["true labels"]
ctx.metric("memorize/rademacher_bound_true_labels", rademacher_bound(true_rec["train_error"][-1], r_n, n_wm))
bound_true = ctx.metrics["memorize/rademacher_bound_true_labels"]
print(f"random labels: training accuracy {1 - rand['train_error'][-1]:.3f} after {rand['epoch'][-1]} epochs, "
      f"sign correlation {r_n:.3f}; the bound on the test error with the true labels is {bound_true:.2f} "
      + ("(above 1: it says nothing)" if bound_true >= 1 else "(below 1, because the random labels were not fitted)")
      + f", while the measured test error with the true labels is {true_rec['test_error'][-1]:.3f}.")
slower = rand["epoch"][-1] / max(1, true_rec["epoch"][-1])
ctx.metric("memorize/random_over_true_epochs", slower)
print(f"random labels took {slower:.1f} times the epochs of the true labels "
      f"({rand['epoch'][-1]} against {true_rec['epoch'][-1]}); the test accuracy with random labels is "
      f"{1 - rand['test_error'][-1]:.3f}; always guessing the test set's most frequent class scores "
      f"{np.bincount(y_wt).max() / len(y_wt):.3f}.")

# %% [markdown]
# The same class of networks, trained the same way, generalizes with the true labels (the test
# accuracy in the table) and cannot with the random ones, which carry no information about the
# maps. So the capacity of the class — anything it can reach — cannot explain the difference;
# what does must depend on the data *and* the training procedure: the norm or margin
# of the solution found (Bartlett, Foster & Telgarsky 2017), its flatness, the implicit bias of the
# optimizer. Section 5 measures the simplest case of the last.
#
# ## 5. Implicit regularization
#
# **Least squares with $n < d$.** Let $A\in\mathbb R^{n\times d}$ have full row rank and
# $L(w) = \lVert Aw - y\rVert^2/(2n)$. A (stochastic) gradient is $A_B^\top(A_Bw - y_B)/|B|$, a
# combination of rows of $A$, so from any start $w_0$ every iterate satisfies
# $w_t - w_0 \in \operatorname{row}(A)$. If the iterates converge to a minimizer $w_\infty$,
# then $Aw_\infty = y$ and $w_\infty - w_0 \in \operatorname{row}(A)$. Write
# $w_0 = P_{\text{row}} w_0 + P_{\text{null}} w_0$ with $P_{\text{row}} = A^+A$: the only point
# with both properties is
#
# $$w_\infty = A^+ y + (I - A^+A)\,w_0,$$
#
# because $A^+y$ is the unique interpolant *in* the row space. From $w_0 = 0$, gradient descent finds
# the minimum-norm solution, for any batch size and any step size that converges (full-batch GD
# converges for $\eta < 2/\lambda_{\max}(A^\top A/n)$). Adam rescales each coordinate by its own
# running scale, its steps leave the row space, and it ends at another interpolant (Wilson et al. 2017).
#
# First in two dimensions, one equation $a^\top w = b$, where the paths can be drawn; then
# $n = 20$ equations in $d = 100$ unknowns.

# %%
a2, b2 = np.array([1.0, 2.0]), 2.5
w0_2 = np.array([2.0, -1.0])
lr2 = 0.4 * max_stable_lr(a2[None])
runs2 = {"GD from 0": descend(a2[None], np.array([b2]), lr=lr2, steps=40),
         "GD from w0": descend(a2[None], np.array([b2]), lr=lr2, steps=40, w0=w0_2),
         "Adam from 0": descend(a2[None], np.array([b2]), lr=0.05, steps=400, method="adam")}
rng = np.random.default_rng(ctx.seed)
A, yA, w0 = rng.standard_normal((20, 100)), rng.standard_normal(20), rng.standard_normal(100)
eta = max_stable_lr(A)
steps = plan["gd_steps"]
runs = {"GD, eta = 0.5 eta_max, from 0": descend(A, yA, lr=0.5 * eta, steps=steps),
        "GD, eta = 0.9 eta_max, from 0": descend(A, yA, lr=0.9 * eta, steps=steps),
        "GD, eta = 1.05 eta_max, from 0": descend(A, yA, lr=1.05 * eta, steps=steps),
        "GD, eta = 0.5 eta_max, from w0": descend(A, yA, lr=0.5 * eta, steps=steps, w0=w0)}
row_max = float(np.max(np.sum(A ** 2, axis=1)))          # one row's curvature: the step limit of batch size 1
for b in (1, 5):
    for frac in (0.5, 1.5):
        runs[f"SGD, batch {b}, eta = {frac} / max||a_i||^2, from 0"] = descend(A, yA, lr=frac / row_max, steps=steps,
                                                                             batch_size=b, seed=ctx.seed)
runs["Adam, eta = 0.01, from 0"] = descend(A, yA, lr=0.01, steps=steps, method="adam")
table = solution_table(A, yA, runs)
ctx.table(table, "implicit_least_squares")
w_pinv = np.linalg.pinv(A) @ yA
lecture0 = compare_solvers(A, yA)["theta_pinv"]
ctx.metric("implicit/gd_zero_dist_pinv", float(np.linalg.norm(runs["GD, eta = 0.5 eta_max, from 0"]["w"] - w_pinv)))
ctx.metric("implicit/gd_w0_dist_limit", table[3]["dist_limit"])
ctx.metric("implicit/gd_w0_null_norm", table[3]["null_norm"])
ctx.metric("implicit/adam_dist_min_norm", table[-1]["dist_min_norm"])
ctx.metric("implicit/adam_train_loss", table[-1]["train_loss"])
ctx.metric("implicit/pinv_vs_lecture0", float(np.linalg.norm(min_norm_solution(A, yA) - lecture0)))
for r in table:
    ctx.metric(f"implicit/{slug(r['run'])}",
               {k: r[k] for k in ("diverged", "train_loss", "dist_min_norm", "dist_limit", "norm")})
print(f"GD from 0: ||w - pinv(A) y|| = {ctx.metrics['implicit/gd_zero_dist_pinv']:.1e} (lecture 0's pinv and ours "
      f"differ by {ctx.metrics['implicit/pinv_vs_lecture0']:.1e}); GD from w0: {table[3]['dist_limit']:.1e} from "
      f"A+y + (I - A+A) w0, {table[3]['dist_min_norm']:.2f} from A+y (its null-space part has norm "
      f"{table[3]['null_norm']:.2f}); Adam: training loss {table[-1]['train_loss']:.1e}, "
      f"{table[-1]['dist_min_norm']:.3f} from A+y.")
for r in table:
    state = "diverged" if r["diverged"] else (f"distance to A+y {r['dist_min_norm']:.1e}, to the predicted limit "
                                              f"{r['dist_limit']:.1e}, training loss {r['train_loss']:.1e}")
    print(f"  {r['run']}: {state}")
dist_runs = {k: (v["steps"], np.linalg.norm(v["path"] - w_pinv, axis=1)) for k, v in runs.items()
             if not v["diverged"] and "from w0" not in k}
ctx.figure(gd_path_figure(a2, b2, runs2, dist_runs, limit_from(a2[None], np.array([b2]))), "gd_paths")

# %% [markdown]
# The left panel is the derivation drawn: from the origin, gradient descent moves along $a$ (the
# row space) straight to the foot of the perpendicular, the minimum-norm point; from $w_0$ it
# moves along $a$ too and lands where the perpendicular through $w_0$ meets the line; Adam's first
# step goes along the sign of the gradient, diagonally, and it lands elsewhere. On the right, the
# distance of each converging GD and SGD run from zero to $A^+y$ against the step: batch size and
# step size change how fast it falls, and whether the run converges at all (a step above
# $2/\lambda_{\max}$ diverges for full-batch GD; SGD with batch 1 needs a step below about
# $2/\max_i\lVert a_i\rVert^2$) — the printed distances say where each run ended.
#
# ### A small network: what batch size and step size change
#
# For a network the limit has no closed form. Two properties of the minimum found are measurable:
# its **sharpness** $\lambda_{\max}(\nabla^2 \hat L)$, by power iteration on Hessian-vector
# products (checked against the full Hessian in the tests), and its **norm**. Along the top
# Hessian eigenvector, gradient descent multiplies the deviation by $1 - \eta\lambda$ per step,
# so it cannot stay in a minimum sharper than $2/\eta$; Cohen et al. (2021) observe that
# full-batch training sits at that edge, and Keskar et al. (2017) report sharper minima, and worse
# test error, with large batches. We train `SmallCNN` (width 8) with plain SGD (no momentum, no
# weight decay) on the clean-label maps until the training loss is below 0.1, for two step sizes
# and two batch sizes, from the same initial weights.

# %%
sharp_rows = []
for lr, bs in plan["sharp_runs"]:
    torch.manual_seed(ctx.seed)
    net = SmallCNN(X_wm.shape[1], len(names), width=8, head_pool=2)
    r = sgd_fit(net, X_wm, y_wm, lr=lr, batch_size=bs, target_loss=0.1, max_epochs=plan["sharp_epochs"], seed=ctx.seed)
    lam = top_hessian_eigenvalue(r["model"], X_wm, y_wm, iters=20, seed=ctx.seed)
    with torch.no_grad():
        test_err = float((r["model"].eval()(torch.as_tensor(X_wt)).argmax(1).numpy() != y_wt).mean())
    sharp_rows.append({"lr": lr, "batch": bs, "epochs": r["epochs"], "reached loss 0.1": r["reached"],
                       "train loss": r["train_loss"], "sharpness": lam, "2 / lr": 2 / lr, "||theta||": r["norm"],
                       "||theta - theta0||": r["init_distance"], "test error": test_err})
    ctx.metric(f"sharpness/lr_{lr:g}_batch_{bs}", {"epochs": r["epochs"], "reached": r["reached"], "sharpness": lam,
                                                   "norm": r["norm"], "init_distance": r["init_distance"],
                                                   "test_error": test_err})
ctx.table(sharp_rows, "sharpness")
for r in sharp_rows:
    print(f"lr {r['lr']:g}, batch {r['batch']}: sharpness {r['sharpness']:.2f} "
          f"({'below' if r['sharpness'] < r['2 / lr'] else 'above'} 2/lr = {r['2 / lr']:.0f}), "
          f"||theta - theta0|| {r['||theta - theta0||']:.2f}, test error {r['test error']:.3f}"
          + ("" if r["reached loss 0.1"] else f" (training loss still {r['train loss']:.2f} after {r['epochs']} "
                                              "epochs)"))
by = {(r["lr"], r["batch"]): r for r in sharp_rows}
lrs, bss = sorted({r["lr"] for r in sharp_rows}), sorted({r["batch"] for r in sharp_rows})
for bs in bss:
    if len(lrs) > 1:
        lo, hi = by[(lrs[0], bs)], by[(lrs[-1], bs)]
        word = "flatter" if hi["sharpness"] < lo["sharpness"] else "sharper"
        print(f"batch {bs}: the larger step size found a {word} minimum ({hi['sharpness']:.2f} against "
              f"{lo['sharpness']:.2f}) with test error {hi['test error']:.3f} "
              f"against {lo['test error']:.3f}")
for lr in lrs:
    if len(bss) > 1:
        sm, lg = by[(lr, bss[0])], by[(lr, bss[-1])]
        print(f"lr {lr:g}: batch {bss[-1]} found a {'sharper' if lg['sharpness'] > sm['sharpness'] else 'flatter'} "
              f"minimum than batch {bss[0]} ({lg['sharpness']:.2f} against {sm['sharpness']:.2f}), test error "
              f"{lg['test error']:.3f} against {sm['test error']:.3f}")

# %% [markdown]
# **Reading it.** The printed comparisons say, for this network and these maps, whether a larger
# step or a smaller batch found a flatter minimum and whether that came with a lower test error;
# with one seed and four runs they are observations, not a law. Two cautions from the literature:
# sharpness is not invariant to reparameterization — a ReLU network can be rescaled layer by layer
# into an arbitrarily sharp copy of itself with the same function (Dinh et al. 2017) — and the
# stability bound $2/\eta$ constrains full-batch GD; with small batches the noise of SGD keeps the
# iterate away from sharp regions even below that bound.
#
# ## 6. What was measured
#
# The sentences below are printed from the numbers of this run.

# %%
print(f"- exact theory: the weak-features risk formula and {plan['weak_draws']} simulations agree within "
      f"{100 * ctx.metrics['weak/max_rel_gap']:.1f} % away from the threshold.")
print(f"- random features (teacher): the ridgeless test MSE peaks at p = {rf['peak_width']} for n = {n_rf}, "
      f"{rf['peak'] / rf['last']:.0f} times its value at p = {rf['last_width']}; the ridge 1 curve's highest point is "
      f"{ctx.metrics['rf/teacher/ridge_1']['peak']:.2f}.")
print(f"- random features (WM-811K): the test error peaks at p = {wm_err['peak_width']} ({wm_err['peak']:.3f}); "
      f"{wm_err['last']:.3f} at p = {wm_err['last_width']}.")
print("- " + describe_bump(bump, jitter, "CNN width sweep", "width"))
print("- " + describe_bump(ebump, jitter, f"CNN epochs (width {wide['width']})", "epoch"))
print("- memorization: fitted to zero training error — "
      + ", ".join(f"{r['set']}: {'yes' if records[r['set']]['epochs_to_fit'] else 'no'} "
                  f"({records[r['set']]['epoch'][-1]} epochs, test accuracy {r['test accuracy']:.3f})"
                  for r in mem_rows) + ".")
print(f"- implicit bias: GD from zero ends {ctx.metrics['implicit/gd_zero_dist_pinv']:.1e} from pinv(A) y; "
      f"Adam ends {ctx.metrics['implicit/adam_dist_min_norm']:.3f} from it.")
ctx.metric("timing/total_s", time.perf_counter() - t_start)
ctx.metric("timing/total_cpu_seconds", time.process_time() - cpu_start)
print(f"total {time.perf_counter() - t_start:.0f} s wall, {time.process_time() - cpu_start:.0f} s CPU")

# %% [markdown]
# **Honest limits.** The random-feature and least-squares results are exact and reproduce the
# theory to the printed precision. The CNN experiments are small copies of published ones: one
# seed, a couple of hundred maps at $16\times16$, tens of epochs where the papers train for
# thousands, widths that a CPU trains in minutes; whether they show a peak is printed above, not
# assumed. The memorization result does not depend on scale: a network with more parameters than
# training maps fits labels that carry no information, so its capacity cannot be what makes it
# generalize with the true ones.
#
# ## References
#
# - M. Belkin, D. Hsu, S. Ma, S. Mandal, "Reconciling modern machine-learning practice and the
#   classical bias-variance trade-off", PNAS 116(32), 2019.
# - M. Belkin, D. Hsu, J. Xu, "Two models of double descent for weak features", SIAM Journal on
#   Mathematics of Data Science 2(4), 2020.
# - T. Hastie, A. Montanari, S. Rosset, R. J. Tibshirani, "Surprises in high-dimensional ridgeless
#   least squares interpolation", Annals of Statistics 50(2), 2022.
# - S. Mei, A. Montanari, "The generalization error of random features regression: precise
#   asymptotics and the double descent curve", Communications on Pure and Applied Mathematics 75(4), 2022.
# - M. S. Advani, A. M. Saxe, H. Sompolinsky, "High-dimensional dynamics of generalization error in
#   neural networks", Neural Networks 132, 2020.
# - A. Rahimi, B. Recht, "Random Features for Large-Scale Kernel Machines", NeurIPS 2007.
# - P. Nakkiran, G. Kaplun, Y. Bansal, T. Yang, B. Barak, I. Sutskever, "Deep Double Descent: Where
#   Bigger Models and More Data Hurt", ICLR 2020.
# - C. Zhang, S. Bengio, M. Hardt, B. Recht, O. Vinyals, "Understanding deep learning requires
#   rethinking generalization", ICLR 2017.
# - D. Arpit et al., "A closer look at memorization in deep networks", ICML 2017.
# - P. L. Bartlett, S. Mendelson, "Rademacher and Gaussian complexities: risk bounds and structural
#   results", JMLR 3, 2002.
# - P. L. Bartlett, D. J. Foster, M. Telgarsky, "Spectrally-normalized margin bounds for neural
#   networks", NeurIPS 2017.
# - D. Soudry, E. Hoffer, M. S. Nacson, S. Gunasekar, N. Srebro, "The implicit bias of gradient
#   descent on separable data", JMLR 19, 2018.
# - A. C. Wilson, R. Roelofs, M. Stern, N. Srebro, B. Recht, "The marginal value of adaptive gradient
#   methods in machine learning", NeurIPS 2017.
# - S. Ma, R. Bassily, M. Belkin, "The power of interpolation: understanding the effectiveness of SGD
#   in modern over-parametrized learning", ICML 2018.
# - N. S. Keskar, D. Mudigere, J. Nocedal, M. Smelyanskiy, P. T. P. Tang, "On Large-Batch Training
#   for Deep Learning: Generalization Gap and Sharp Minima", ICLR 2017.
# - J. Cohen, S. Kaur, Y. Li, J. Z. Kolter, A. Talwalkar, "Gradient Descent on Neural Networks
#   Typically Occurs at the Edge of Stability", ICLR 2021.
# - L. Dinh, R. Pascanu, S. Bengio, Y. Bengio, "Sharp Minima Can Generalize For Deep Nets", ICML 2017.
# - M.-J. Wu, J.-S. R. Jang, J.-L. Chen, "Wafer Map Failure Pattern Recognition and Similarity
#   Ranking for Large-Scale Data Sets", IEEE Transactions on Semiconductor Manufacturing 28(1), 2015.

# %% [markdown]
# ## Exercises
#
# Change the code or the data, predict what will happen, run it, then compare with the worked
# solution (each prints what it measured; `--smoke` runs it in seconds).
#
# 1. **More and less noise.** In section 1, run the weak-features model with $\sigma = 0$ and
#    $\sigma = 1$ as well as 0.5 and compare the simulated and exact test error just below and above
#    $p = n$. Does the peak scale with $\lVert\beta_{\text{rest}}\rVert^2 + \sigma^2$, and does it vanish
#    without label noise? Solution: `deepfab exercise L09 1`.
# 2. **A ridge chosen on validation.** In section 2, draw a validation set from the same teacher and,
#    for every width, keep the ridge with the lowest median validation error (never the test error).
#    Is the random-features peak at $p = n$ still there, and does the tuned test error fall with every
#    added feature? Solution: `deepfab exercise L09 2`.
