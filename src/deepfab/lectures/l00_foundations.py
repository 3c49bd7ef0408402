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
# # Lecture 0 — Supervised learning foundation
#
# *0강. Supervised Learning Foundation.* What a data scientist needs before convolutional networks:
# the supervised learning setup, least squares, the perceptron, KL divergence and logistic
# regression, the multi-layer perceptron, gradients by backpropagation, training by SGD and its
# variants, GPU computing, and PyTorch. Every idea is shown twice: once in short from-scratch code
# (`deepfab.scratch`, numpy), once with the established tool (PyTorch, scikit-learn), and the two
# are compared number by number. The regression and classification demonstrations run on
# **SECOM**, a real fab sensor table (1567 wafers' line measurements, pass/fail at the end).
#
# Run it: `deepfab run L00` (the real run took 2.5 minutes of wall time in `make course` on a 2-core
# CPU, beside one other lecture, on one torch thread) or `deepfab run L00 --smoke` (a tiny budget for
# tests).
# Every headline number is recorded in `runs/L00/metrics.json`.
#
# **References.** E. K. Ryu, *Supervised learning foundation* (lecture 0 of this curriculum, 2020);
# F. Rosenblatt (1958); A. Novikoff (1962); T. Cover and J. Thomas, *Elements of Information Theory*;
# H. Robbins and S. Monro (1951); D. Kingma and J. Ba, *Adam* (2015); I. Loshchilov and F. Hutter,
# *AdamW* (2019); R. Raina, A. Madhavan and A. Ng, *Large-scale deep unsupervised learning using
# graphics processors* (ICML 2009); M. McCann and A. Johnston, *SECOM*, UCI ML Repository (2008).

# %% [markdown]
# ## Traditional machine learning and modern deep learning
#
# | | traditional machine learning | modern deep learning (2014–) |
# |---|---|---|
# | driven by | theory (academic publishing) | empirical performance (industry and academia) |
# | leverages | domain knowledge | large data and computation; less domain knowledge |
# | performance | predictable | unpredictable, with unexpected failures |
#
# The working formula of modern deep learning:
#
# $$\text{success} = \text{big data} + \text{big computation}
#   + \text{large (deep) network} + \text{rapid prototyping}.$$
#
# Big data sometimes comes from the internet, sometimes is generated (AlphaGo's self-play); big
# computation comes from GPUs; network architecture is still more art than science; rapid
# prototyping comes from high-level frameworks such as PyTorch. A useful, if incomplete, view:
# **machine learning is function approximation** — much as the internet is "a connection of computers".

# %%
import numpy as np
import torch

from deepfab.lecture import Context

# the models and matrices here are small: one thread (torch and numpy's BLAS alike) avoids oversubscription
ctx = Context.from_env("L00", threads=1, blas_threads=1)
HEADLINE = ("erm/gap_at_N5", "erm/gap_at_Nmax", "lsq/test", "perceptron/updates", "perceptron/novikoff_bound",
            "logreg/test_at_prior", "mlp_secom/test/roc_auc", "mlp_rings/test_acc_torch_mlp",
            "sgd/final_gap_decaying", "sgd/final_gap_constant")  # the metrics the course book lists first
SEED = ctx.seed

# %% [markdown]
# ## 1. The supervised learning setup
#
# There is an unknown function $f:\mathcal X\to\mathcal Y$ from a sample space to a label space
# (an image to a numerical label; an email to spam / not spam; a wafer's sensor readings to
# pass / fail). The goal is to find $f$.
#
# **Issue #1: searching all functions is intractable.** Restrict the search to a parameterized class
# $\{f_\theta \mid \theta\in\Theta\}$, $\Theta\subseteq\mathbb R^p$, and look for $f_\theta\approx f$.
#
# **Issue #2: what does $\approx$ mean?** Choose a $\mathrm{cost}(y_1, y_2)$ measuring the error
# between two labels. "Do well all of the time" gives the minimax problem
#
# $$\min_{\theta\in\Theta}\ \max_{x\in\mathcal X}\ \mathrm{cost}(f_\theta(x), f(x)),$$
#
# which is pessimistic (one bad point decides everything) and computationally awkward. "Do well on
# average" gives
#
# $$\min_{\theta\in\Theta}\ \mathbb E_X\,\mathrm{cost}(f_\theta(X), f(X)),$$
#
# where $X$ is a random, unseen new input. In machine learning, **training is solving an
# optimization problem**.
#
# **Issue #3: the expectation cannot be evaluated.** Take a finite sample
# $x_1,\dots,x_N$ with labels $y_i=f(x_i)$ and solve the **empirical risk minimization** problem
#
# $$\min_{\theta\in\Theta}\ \frac1N\sum_{i=1}^N \mathrm{cost}(f_\theta(x_i), y_i),$$
#
# hoping that $f_\theta$ also predicts unseen points well. The cell below makes all three issues
# concrete: $f(x)=\sin 3x$ on $X\sim U[-1,1]$, cubic polynomials as the function class, squared
# cost. It fits the minimax problem (a linear program) and the average problem (least squares),
# then shows how the empirical risk of the ERM fit relates to its expected risk — estimated on
# 100 000 fresh points — as $N$ grows (medians over repeated samples of each size).

# %%
from deepfab.foundations import plots, risk

rng = np.random.default_rng(SEED)
x_s = rng.uniform(-1, 1, 40)
y_s = risk.target(x_s)
fits = {"average (least squares)": risk.erm_fit(x_s, y_s), "minimax (linear program)": risk.minimax_fit(x_s, y_s)}
ctx.table(risk.fit_table(fits, x_s, y_s, x_new=rng.uniform(-1, 1, 100_000)), "erm_vs_minimax")

sizes = ctx.pick(real=[5, 8, 12, 20, 40, 100, 300, 1000], smoke=[5, 20, 100])
curve = risk.erm_curve(sizes, rng, repeats=ctx.pick(real=100, smoke=5))
ctx.table(curve, "erm_curve")
ctx.metric("erm/gap_at_N5", curve[0]["gap"])
ctx.metric("erm/gap_at_Nmax", curve[-1]["gap"])
ctx.figure(plots.erm_figure(fits, x_s, y_s, curve), "erm")

# %% [markdown]
# On the sample, the minimax fit has the smaller worst-case error and the larger average error, as
# it must (each fit minimizes one of the two); the "new" columns show how that carries over. With
# few samples the training average badly underestimates the expected risk (the fit chases the
# sample); as $N$ grows the two meet at the noise level. This is the bet of Issue #3.

# %% [markdown]
# ## 2. Least squares on SECOM
#
# With $\mathcal X=\mathbb R^p$, $\mathcal Y=\mathbb R$, $\mathrm{cost}(y_1,y_2)=(y_1-y_2)^2$ and a
# linear class $f_\theta(x)=\theta^\top x$ (linear regression), ERM is
#
# $$\min_{\theta\in\mathbb R^p}\ \sum_{i=1}^N (x_i^\top\theta-y_i)^2=\|X\theta-y\|^2 .$$
#
# The gradient $2X^\top(X\theta-y)$ vanishes at the **normal equations** $X^\top X\theta=X^\top y$, so
# $\theta^{\rm sol}=(X^\top X)^{-1}X^\top y$ when $X^\top X$ is invertible. When it is not (fewer
# rows than columns, collinear columns), every $\theta^{\rm sol}+v$ with $Xv=0$ is a minimizer, and the
# pseudo-inverse picks the one of smallest norm, $X^+y$. Even when $X^\top X$ is invertible,
# forming it squares the condition number, $\kappa(X^\top X)=\kappa(X)^2$: the normal equations lose
# twice as many digits as the SVD-based `np.linalg.lstsq`.
#
# **The data.** SECOM holds 431 sensor readings of each of 1567 wafers, with missing readings as
# NaN, and a pass (−1) / fail (+1) label; about 7 % fail. Our explicit preparation: a stratified
# 70/30 train/test split; median imputation, constant-column removal and standardization, all with
# statistics of the training rows only. We regress the ±1 label on the sensors with an intercept —
# least squares as a linear classifier, which is the seed's setup with a real target.

# %%
from deepfab.data import load_secom
from deepfab.foundations import lsq
from deepfab.foundations.tabular import prepare

secom = load_secom()
print(f"SECOM: {secom.X.shape[0]} wafers x {secom.X.shape[1]} sensors, "
      f"{100 * secom.missing_fraction:.2f} % readings missing, {np.mean(secom.y == 1):.3f} fail rate")
data = prepare(secom.X, secom.y, test_size=0.3, seed=SEED, columns=secom.feature_names)
print(f"train {data.X_train.shape}, test {data.X_test.shape}, dropped constant columns: {len(data.dropped)}")
ctx.metric("secom/n_features_used", data.X_train.shape[1])

A_train = lsq.add_intercept(data.X_train)                 # (n_train, p + 1)
full = lsq.compare_solvers(A_train, data.y_train.astype(float))
ctx.table([{k: full[k] for k in ["n", "p", "rank_A", "cond_A", "cond_AtA", "mse_normal", "mse_lstsq",
                                 "mse_pinv", "max_diff_pinv_lstsq", "max_diff_normal_lstsq",
                                 "rel_diff_normal_lstsq"]}], "lsq_full_rank")
print(f"largest |correlation| between two sensors: {lsq.max_abs_correlation(data.X_train):.10f}")
ctx.metric("lsq/cond_AtA", full["cond_AtA"])
ctx.metric("lsq/rel_diff_normal_vs_lstsq", full["rel_diff_normal_lstsq"])
ctx.metric("lsq/max_diff_pinv_vs_lstsq", full["max_diff_pinv_lstsq"])

# %% [markdown]
# SECOM's sensors are nearly collinear (the cell printed the largest correlation between two of
# them), so $X^\top X$ is
# invertible but very ill-conditioned: the normal-equation coefficients agree with `lstsq` only to
# a few digits, while the training errors agree to many — the directions where they differ hardly
# change the fit. The scratch estimator `deepfab.scratch.linear.LeastSquares` switches to the
# pseudo-inverse exactly when $\kappa(X^\top X)$ is too large; we check it against `lstsq`.
#
# **The singular case.** Keep only the first 200 training wafers: 200 equations, 432 unknowns.
# $X^\top X$ is $432\times432$ with rank at most 200 — not invertible. Floating point may still let
# `np.linalg.solve` return *something*, but it is one arbitrary minimizer among infinitely many;
# `pinv` and `lstsq` agree on the minimum-norm one.

# %%
from deepfab.scratch.linear import LeastSquares

scratch_ls = LeastSquares().fit(data.X_train, data.y_train.astype(float))
theta_scratch = np.r_[scratch_ls.coef_, scratch_ls.intercept_]
print(f"scratch LeastSquares chose solver {scratch_ls.solver_!r} (cond(AtA) = {scratch_ls.cond_:.3g})")
ctx.metric("lsq/scratch_vs_lstsq_max_diff", float(np.max(np.abs(theta_scratch - full["theta_lstsq"]))))

n_small = 200
A_small, y_small = A_train[:n_small], data.y_train[:n_small].astype(float)
sing = lsq.compare_solvers(A_small, y_small)
if sing["theta_normal"] is None:
    print("np.linalg.solve refused the singular system:", sing["normal_error"])
ctx.table(lsq.minimizer_table(A_small, y_small, sing, rng), "lsq_singular")
print(f"rank(A) = {sing['rank_A']} < p = {sing['p']}: A^T A ({sing['p']} x {sing['p']}) is singular")
ctx.metric("lsq_singular/rank", sing["rank_A"])
ctx.metric("lsq_singular/max_diff_pinv_vs_lstsq", sing["max_diff_pinv_lstsq"])
scratch_small = LeastSquares().fit(A_small[:, :-1], y_small)
print(f"scratch LeastSquares on the singular case: solver {scratch_small.solver_!r}, max |theta - pinv| = "
      f"{np.max(np.abs(np.r_[scratch_small.coef_, scratch_small.intercept_] - sing['theta_pinv'])):.2e}")

# %% [markdown]
# All three pinv/lstsq/null-space solutions interpolate the 200 training wafers (training error at
# rounding level), and the pseudo-inverse one has the smallest norm. Interpolating is not learning:
# the test rows tell how the full-data least-squares fit actually predicts pass/fail.

# %%
from deepfab.train.metrics import binary_report

y_test = data.y_test
score_ls = lsq.add_intercept(data.X_test) @ full["theta_lstsq"]
err = lsq.prediction_errors(score_ls, y_test)
rep_ls = binary_report(y_test, np.where(score_ls > 0, 1, -1), scores=score_ls)
print(f"least squares on SECOM: train MSE {full['mse_lstsq']:.3f}, test MSE {err['mse']:.3g}, "
      f"test R^2 {err['r2']:.3g}, median test squared error {err['median_sq_error']:.3f}")
print(f"worst test wafer: squared error {err['worst_sq_error']:.3g} ({100 * err['worst_share']:.0f} % of the total); "
      f"its most extreme standardized reading is {np.abs(data.X_test[err['worst']]).max():.0f} training standard "
      f"deviations (largest in the training rows: {np.abs(data.X_train).max():.0f})")
ctx.metric("lsq/test_median_sq_error", err["median_sq_error"])
ctx.table([{"model": "least squares, sign(score)", **rep_ls}], "lsq_test")
ctx.metric("lsq/test_r2", err["r2"])
ctx.metric("lsq/test", {k: rep_ls[k] for k in ["balanced_accuracy", "macro_f1", "recall_fail", "roc_auc"]})

# %% [markdown]
# Honest reading: with 432 unknowns fitted to about 1100 wafers, unregularized least squares
# overfits and can extrapolate badly. A negative test $R^2$ in the printout means worse than
# predicting the mean, and the printout shows why: the mean squared error is dominated by wafers whose readings lie far
# outside anything seen in training, where the large, nearly cancelling coefficients of collinear
# sensors stop cancelling. The median error and the ROC AUC tell the more typical story: the score
# ranks wafers better than chance, but its sign catches few fails. SECOM is a hard, noisy and
# imbalanced problem; the rest of the lecture uses it to show methods, not to claim a solved task.

# %% [markdown]
# ## 3. Linear classification and the perceptron
#
# Now $\mathcal Y=\{-1,+1\}$ and the data are **linearly separable**: some $(a_{\rm true}, b_{\rm true})$
# has $f(x)=+1$ iff $a_{\rm true}^\top x+b_{\rm true}>0$. With the 0-1 cost and linear classifiers
# $f_{a,b}(x)=\operatorname{sign}(a^\top x+b)$, ERM has optimal value 0. The perceptron finds such a
# hyperplane:
#
# $a^0=0,\ b^0=0$; while some $(x_i, y_i)$ is misclassified: $a^{k+1}=a^k+y_ix_i,\ b^{k+1}=b^k+y_i$.
#
# **Novikoff's bound.** Write $\theta=(a,b)$ and $\tilde x=(x,1)$. Suppose a unit vector $\theta^\star$
# separates the data with margin $\gamma=\min_i y_i\,\theta^{\star\top}\tilde x_i>0$, and let
# $R=\max_i\|\tilde x_i\|$. Each update raises $\theta^\top\theta^\star$ by at least $\gamma$, and —
# because it happens only when $y_i\theta^\top\tilde x_i\le0$ — raises $\|\theta\|^2$ by at most $R^2$.
# After $k$ updates $k\gamma\le\theta^\top\theta^\star\le\|\theta\|\le\sqrt k\,R$, so
#
# $$k\le (R/\gamma)^2 .$$
#
# The bound depends on the geometry, not on the number of points. Below: separable 2-D data with a
# known margin around the true line, the scratch `Perceptron`, and its update count against the bound
# computed with the true line.

# %%
from deepfab.data import separable_2d
from deepfab.foundations.perceptron import update_counts
from deepfab.scratch.linear import Perceptron, novikoff_bound

margins = [0.4, 0.2, 0.1, 0.05]
rows = update_counts(margins, repeats=ctx.pick(real=5, smoke=1), rng=rng)
ctx.table(rows, "perceptron_updates")
med = [float(np.median([r["updates"] for r in rows if r["margin"] == m])) for m in margins]
print("median updates, margin " + ", ".join(f"{m}: {u:.0f}" for m, u in zip(margins, med))
      + f"; as the margin shrinks they {'rise' if all(np.diff(med) > 0) else 'do not rise'} at every step")
ctx.metric("perceptron/max_updates_over_bound", max(r["updates"] / r["bound (R/gamma)^2"] for r in rows))

Xp, yp, (a_true, b_true) = separable_2d(100, 0.1, np.random.default_rng(SEED + 1))
clf = Perceptron(max_iter=1_000_000).fit(Xp, yp)
bound = novikoff_bound(Xp, yp, a_true, b_true)
ctx.metric("perceptron/updates", clf.n_updates_)
ctx.metric("perceptron/novikoff_bound", bound)
ctx.figure(plots.perceptron_figure(Xp, yp, clf, bound, a_true, b_true), "perceptron")

# %% [markdown]
# The update count stays below $(R/\gamma)^2$ in every run — the theorem guarantees it, and the
# largest ratio of updates to bound is recorded — and typically far below it; the printed medians
# say whether it grows as the margin shrinks, as the bound does.
# The perceptron today is neither a good algorithm (there are better ones) nor
# a good model of biological neurons — but its proof is the template of many convergence arguments.

# %% [markdown]
# ## 4. Random labels and the KL divergence
#
# **Improved setup.** Labels are *randomly* generated from the data: the unknown is
# $f:\mathcal X\to\mathcal P(\mathcal Y)$, a probability distribution over labels for each input
# (an image may be 50 % dog, 50 % cat; a wafer with given readings fails with some probability).
#
# For probability mass functions $p, q\in\mathbb R^n$ ($p_i\ge0$, $\sum_ip_i=1$) the KL divergence is
#
# $$D_{\rm KL}(p\,\|\,q)=\sum_{i=1}^n p_i\log\frac{p_i}{q_i}
#   =\underbrace{-\sum_i p_i\log q_i}_{H(p,q)\ \text{cross entropy of } q \text{ relative to } p}
#    \;-\;\underbrace{\Big(-\sum_i p_i\log p_i\Big)}_{H(p)\ \text{entropy}},$$
#
# with $0\log0=0$. Properties: (1) not symmetric; (2) $D_{\rm KL}(p\|q)\ge0$ with equality iff
# $p=q$ — Jensen's inequality on the concave log gives
# $-D_{\rm KL}=\sum_ip_i\log(q_i/p_i)\le\log\sum_i q_i\le 0$; (3) $D_{\rm KL}(p\|q)=\infty$ when some
# $q_i=0<p_i$. In machine learning the information-theoretic meaning is rarely used: KL serves as a
# "distance" between distributions, and the cross entropy as a formula. Below each property is
# measured on random pairs with the scratch `deepfab.scratch.info`, with `scipy.stats.entropy` as oracle.

# %%
from deepfab.foundations import kl
from deepfab.scratch.info import kl_divergence

checks = kl.property_checks(rng, n_pairs=ctx.pick(real=5000, smoke=300), k=5)
p_ex, q_ex = np.array([0.5, 0.4, 0.1]), np.array([0.8, 0.1, 0.1])
print(f"KL(p||q) = {kl_divergence(p_ex, q_ex):.4f} nats, KL(q||p) = {kl_divergence(q_ex, p_ex):.4f} nats "
      f"for p = {p_ex}, q = {q_ex}")
ctx.table([checks], "kl_properties")
ctx.metric("kl/min_over_random_pairs", checks["min_kl"])
ctx.metric("kl/frac_asymmetric", checks["frac_asymmetric"])
ctx.metric("kl/self_kl_max", checks["max_self_kl"])
ctx.metric("kl/infinite_when_q_zero", bool(np.isinf(checks["kl_to_zero_mass"])))
ctx.metric("kl/max_gap_to_H(p,q)-H(p)", checks["max_decomposition_gap"])
ctx.metric("kl/max_gap_to_scipy", checks["max_scipy_gap"])

ts = np.linspace(0.001, 0.999, 400)
ctx.figure(plots.kl_bernoulli_figure(0.3, ts, *kl.bernoulli_curves(0.3, ts)), "kl_bernoulli")

# %% [markdown]
# ## 5. Logistic regression: minimizing an average KL divergence
#
# **Key 1: the model.** With $z=w^\top x+b$, put a distribution on the labels $(-1,+1)$:
#
# $$f_{w,b}(x)=\frac{1}{1+e^{z}}\begin{bmatrix}1\\ e^{z}\end{bmatrix}
#   =\begin{bmatrix}\sigma(-z)\\ \sigma(z)\end{bmatrix},\qquad \sigma(z)=\frac1{1+e^{-z}} .$$
#
# The empirical distribution of a label is one-hot: $\mathcal P(-1)=(1,0)$, $\mathcal P(+1)=(0,1)$.
#
# **Key 2: the objective.** Minimize the average KL divergence from $\mathcal P(y_i)$ to $f_{w,b}(x_i)$.
# Because $\mathcal P(y_i)$ is one-hot, $H(\mathcal P(y_i))=0$ and only one term of the cross entropy
# survives, $-\log f_{w,b}(x_i)_{y_i}=-\log\sigma(y_iz_i)=\log(1+e^{-y_iz_i})$:
#
# $$\sum_{i=1}^N D_{\rm KL}\big(\mathcal P(y_i)\,\|\,f_{w,b}(x_i)\big)
#   =\sum_{i=1}^N \ell\big(y_i(w^\top x_i+b)\big)
#   +\underbrace{\textstyle\sum_i(-H(\mathcal P(y_i)))}_{\text{independent of } w,b},
#   \qquad \ell(z)=\log(1+e^{-z}),$$
#
# the **logistic loss**. With soft targets (e.g. label smoothing, or genuinely random labels) the
# constant $-\frac1N\sum_iH(P_i)$ is non-zero but still does not depend on $(w,b)$, so the KL
# objective and the cross entropy have the same minimizer. The cell checks both statements on
# SECOM's training rows: the gap between the two objectives is the same number at random $(w,b)$,
# and minimizing either (L-BFGS in PyTorch) gives the same coefficients.

# %%
from deepfab.experiment.wording import compare, trend
from deepfab.foundations import logistic as lg
from deepfab.foundations import sgd

gaps = lg.objective_gaps(data.X_train, data.y_train, rng, draws=10, smoothing=0.1)
print(f"one-hot targets: KL - logistic loss over 10 random (w, b): "
      f"min {min(gaps['hard']):.2e}, max {max(gaps['hard']):.2e}")
print(f"smoothed targets: KL - cross entropy: mean {np.mean(gaps['soft']):.6f}, spread {np.ptp(gaps['soft']):.2e} "
      f"(-(1/N) sum_i H(P_i) = {-gaps['mean_entropy']:.6f})")
ctx.metric("logreg/kl_minus_logistic_spread", float(np.ptp(gaps["hard"])))
ctx.metric("logreg/kl_minus_ce_soft_spread", float(np.ptp(gaps["soft"])))

l2 = 1.0 / (0.01 * len(data.y_train))                      # the C = 0.01 penalty, per sample
P_soft = lg.soft_targets(data.y_train, smoothing=0.1)       # (N, 2) over (-1, +1)
w_kl, b_kl = lg.minimize(lg.kl_objective, data.X_train, P_soft, l2=l2)
w_ce, b_ce = lg.minimize(lg.cross_entropy_objective, data.X_train, P_soft, l2=l2)
argmin_gap = ctx.metric("logreg/argmin_kl_vs_ce_max_diff", float(np.max(np.abs(np.r_[w_kl - w_ce, b_kl - b_ce]))))
print(f"minimizer of the KL objective vs of the cross entropy: max |difference| = {argmin_gap:.2e}")

# %% [markdown]
# ## PyTorch in five ideas
#
# The rest of the lecture uses PyTorch. Its whole programming model fits in one cell:
# **tensors** (n-dimensional arrays with a dtype and a device), **autograd** (every operation on a
# tensor with `requires_grad=True` is recorded; `.backward()` fills `.grad` by the chain rule),
# **`nn.Module`** (a model: parameters plus a `forward`), the **optimizer loop**
# (`zero_grad` → loss → `backward` → `step`), and the **device** (`.to(device)`: the same code runs on
# CPU or GPU). Here it is as the seed's "logistic regression PyTorch demonstration", on SECOM:
# a one-layer `nn.Linear` trained with minibatch SGD on the logistic loss.

# %%
device = ctx.device                                         # resolved once: cuda if present, else cpu
t = torch.tensor([[1.0, 2.0], [3.0, 4.0]])                  # a tensor: shape (2, 2), float32, on the CPU
w_demo = torch.ones(2, requires_grad=True)
(t @ w_demo).pow(2).sum().backward()                         # autograd: d/dw sum((t w)^2) = 2 t^T (t w)
print("tensor", tuple(t.shape), t.dtype, t.device, "| autograd grad", w_demo.grad.tolist(),
      "| by hand", (2 * t.T @ (t @ torch.ones(2))).tolist())

# the exact minimizer of the same objective (up to the bias penalty), by L-BFGS: the yardstick F*
w_t, b_t = lg.minimize(lg.cross_entropy_objective, data.X_train, lg.soft_targets(data.y_train), l2=l2, max_iter=500)
F_opt = sgd.logistic_objective(np.r_[w_t, b_t], data.X_train, data.y_train, l2)
torch.manual_seed(SEED)
model = torch.nn.Linear(data.X_train.shape[1], 1).to(device)           # nn.Module: w^T x + b
opt = torch.optim.SGD(model.parameters(), lr=0.05, weight_decay=l2)   # ~ C = 0.01 (torch decays b too)
Xd = torch.as_tensor(data.X_train, dtype=torch.float32, device=device)
yd = torch.as_tensor(data.y_train, dtype=torch.float32, device=device)
gen = torch.Generator().manual_seed(SEED)
gaps, gap_epochs = [], []
for epoch in range(ctx.pick(real=60, smoke=3)):
    for idx in torch.randperm(len(yd), generator=gen).split(32):
        idx = idx.to(device)
        opt.zero_grad()
        loss = torch.nn.functional.softplus(-yd[idx] * model(Xd[idx]).squeeze(-1)).mean()   # logistic loss
        loss.backward()
        opt.step()
    if (epoch + 1) % 20 == 0 or epoch == 0:
        with torch.no_grad():
            full_loss = torch.nn.functional.softplus(-yd * model(Xd).squeeze(-1)).mean()
            theta = np.r_[model.weight.cpu().numpy().ravel(), model.bias.cpu().numpy()]
        gaps.append(sgd.logistic_objective(theta, data.X_train, data.y_train, l2) - F_opt)
        gap_epochs.append(epoch + 1)
        print(f"epoch {epoch + 1}: train logistic loss {float(full_loss):.4f}, objective F - F* = {gaps[-1]:.4f}")
ctx.metric("torch_sgd/final_gap", gaps[-1])
print(f"F - F* {trend(gaps, gap_epochs, at='epoch ')}: minibatch SGD with a constant step "
      f"{'ends above its best point' if gaps[-1] > min(gaps) else 'is still descending'}")

# %% [markdown]
# The printed gap $F(\theta)-F^\star$ to the L-BFGS optimum of the same objective is the honest
# yardstick (the training loss alone leaves out the penalty). Minibatch SGD with a *constant* step
# makes fast progress and then stalls at a noise floor: each step follows one batch's gradient,
# which does not vanish at the optimum, so the iterates wander around it and the objective can go
# up as well as down from one epoch to the next — the printed path says which this run did.
# Section 8 shows the cure (a step that decays). The exact minimizer is what L-BFGS finds.
# Three implementations of the same estimator now meet on SECOM: PyTorch (L-BFGS on
# the scikit-learn objective $\frac1N\sum_i\ell(y_iz_i)+\frac{1}{2CN}\|w\|^2$), the scratch
# `LogisticRegression` (Newton's method) and scikit-learn. Their coefficients must agree.
# Because only about 7 % of wafers fail, accuracy alone is misleading ("always pass" scores 93 %):
# we report balanced accuracy, macro-F1, the recall of each class and ROC AUC, at the default
# threshold 0.5 and at the training fail rate (a threshold that treats the two classes alike).

# %%
from scipy.special import expit
from sklearn.linear_model import LogisticRegression as SkLogisticRegression

from deepfab.scratch.linear import LogisticRegression as ScratchLogisticRegression

C = 0.01                                                    # l2 above is its penalty per sample, 1 / (C N)
scratch_lr = ScratchLogisticRegression(C=C).fit(data.X_train, data.y_train)
sk_lr = SkLogisticRegression(C=C, tol=1e-8, max_iter=5000).fit(data.X_train, data.y_train)
theta_sk = np.r_[sk_lr.coef_[0], sk_lr.intercept_[0]]
gap_torch = ctx.metric("logreg/torch_vs_sklearn_max_coef_diff", float(np.max(np.abs(np.r_[w_t, b_t] - theta_sk))))
gap_scratch = ctx.metric("logreg/scratch_vs_sklearn_max_coef_diff",
                         float(np.max(np.abs(np.r_[scratch_lr.coef_, scratch_lr.intercept_] - theta_sk))))
print(f"max |coef difference|: torch vs sklearn {gap_torch:.2e}, scratch vs sklearn {gap_scratch:.2e}")

prior = float(np.mean(data.y_train == 1))
p_fail = {"torch": expit(data.X_test @ w_t + b_t), "scratch": scratch_lr.predict_proba(data.X_test)[:, 1],
          "sklearn": sk_lr.predict_proba(data.X_test)[:, 1]}
rows = [{"model": name, "threshold": thr_name, **binary_report(y_test, np.where(p > thr, 1, -1), scores=p)}
        for name, p in p_fail.items() for thr_name, thr in [("0.5", 0.5), (f"fail rate {prior:.3f}", prior)]]
ctx.table(rows, "logreg_secom")
REPORT = ["accuracy", "balanced_accuracy", "macro_f1", "recall_pass", "recall_fail", "roc_auc"]
ctx.metric("logreg/test_at_0.5", {k: rows[4][k] for k in REPORT})         # sklearn, threshold 0.5
ctx.metric("logreg/test_at_prior", {k: rows[5][k] for k in REPORT})       # sklearn, threshold = fail rate
print(f"sklearn at threshold 0.5: accuracy {rows[4]['accuracy']:.3f}, fail recall {rows[4]['recall_fail']:.3f}; "
      f"at the fail rate: accuracy {rows[5]['accuracy']:.3f}, fail recall {rows[5]['recall_fail']:.3f}, pass recall "
      f"{rows[5]['recall_pass']:.3f}; ROC AUC {rows[5]['roc_auc']:.3f}")

# %% [markdown]
# The three implementations agree to optimizer tolerance and therefore score identically. With
# 7 % fails, the default threshold 0.5 asks for a predicted fail probability that few wafers
# reach, so the model rarely says "fail": high accuracy, low fail recall. The fail-rate threshold
# trades false alarms for caught fails; the printed line gives both operating points of this run.
# The ROC AUC (threshold-free) says how much linear signal the sensors carry about the final
# outcome: 0.5 is none, 1 a perfect ranking. The SECOM literature likewise treats it as
# a hard, imbalanced benchmark and leans on feature selection and resampling; lecture 15 returns to
# SECOM to ask which sensors the models rely on.

# %% [markdown]
# ## 6. The multi-layer perceptron
#
# Logistic regression generalizes in two directions. **Key 2**: losses other than the cross entropy
# can be used. **Key 1**: the model $f_{w,b}$ can be deeper — replace $w^\top x+b$ by
#
# $$f_\theta(x)=W_L\,\sigma\big(W_{L-1}\cdots\sigma(W_1x+b_1)\cdots+b_{L-1}\big)+b_L,$$
#
# with a nonlinearity $\sigma$ (ReLU here), and keep the same objective. A linear classifier
# cannot separate an inner disc from an outer ring; a two-hidden-layer MLP can. We train the
# scratch MLP and the same MLP in PyTorch side by side — same initial weights, same full-batch Adam
# steps in float64 — so their loss curves must agree to rounding.

# %%
from deepfab.data import rings
from deepfab.foundations.mlp_check import train_side_by_side

Xr, yr = rings(ctx.pick(real=600, smoke=200), rng)
Xr_test, yr_test = rings(2000, rng)
lin_rings = SkLogisticRegression().fit(Xr, yr)
side = train_side_by_side(Xr, yr, hidden=(16, 16), steps=ctx.pick(real=400, smoke=60), lr=0.02, seed=SEED)
acc_lin = ctx.metric("mlp_rings/test_acc_logistic", float(np.mean(lin_rings.predict(Xr_test) == yr_test)))
acc_scratch = ctx.metric("mlp_rings/test_acc_scratch_mlp", float(np.mean(side["scratch_predict"](Xr_test) == yr_test)))
acc_torch = ctx.metric("mlp_rings/test_acc_torch_mlp", float(np.mean(side["torch_predict"](Xr_test) == yr_test)))
loss_gap = ctx.metric("mlp_rings/max_loss_gap_scratch_vs_torch",
                      float(np.max(np.abs(side["scratch_loss"] - side["torch_loss"]))))
print(f"rings test accuracy: logistic {acc_lin:.3f}, scratch MLP {acc_scratch:.3f}, torch MLP {acc_torch:.3f}; "
      f"max |loss gap| over training {loss_gap:.1e}")
ctx.figure(plots.mlp_rings_figure(Xr, yr, lin_rings.predict, side, acc_lin, acc_scratch), "mlp_rings")

# %% [markdown]
# On SECOM the question is whether depth finds signal that the linear model misses. The MLP is
# trained with the fail class weighted by the pass/fail ratio (so the loss does not ignore the
# rare class), weight decay, and a fixed number of epochs — no tuning on the test rows. It trains
# with the course's engine, `deepfab.train.fit`, given the logistic loss as its `loss_fn`.

# %%
from deepfab.foundations.mlp import MLP, logit_targets, predict_scores
from deepfab.train import TrainConfig, fit

pos_weight = float(np.sum(data.y_train == -1) / np.sum(data.y_train == 1))     # passes per fail
bce = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(pos_weight, device=device))   # logistic loss, fails weighted
cfg = TrainConfig(epochs=ctx.pick(real=40, smoke=3), batch_size=64, lr=1e-3, optimizer="adam", weight_decay=1e-2,
                  scheduler=None, amp="off", seed=SEED, device=str(device), progress=False)
torch.manual_seed(SEED)                                     # the initial weights
mlp = fit(MLP(data.X_train.shape[1], hidden=(64,)), (data.X_train, logit_targets(data.y_train)), config=cfg,
          loss_fn=bce).model
p_mlp = predict_scores(mlp, data.X_test)
rep_mlp = binary_report(y_test, np.where(p_mlp > 0.5, 1, -1), scores=p_mlp)
ctx.table([{"model": "torch MLP (64 hidden, class-weighted)", **rep_mlp},
           {"model": "logistic regression (fail-rate threshold)", **{k: rows[5][k] for k in rep_mlp}}], "mlp_secom")
ctx.metric("mlp_secom/test", {k: rep_mlp[k] for k in REPORT})
auc = {"MLP": {"train": binary_report(data.y_train, np.where(predict_scores(mlp, data.X_train) > 0.5, 1, -1),
                                      scores=predict_scores(mlp, data.X_train))["roc_auc"], "test": rep_mlp["roc_auc"]},
       "logistic": {"train": binary_report(data.y_train, sk_lr.predict(data.X_train),
                                           scores=sk_lr.predict_proba(data.X_train)[:, 1])["roc_auc"],
                    "test": rows[5]["roc_auc"]}}
ctx.metric("mlp_secom/train_roc_auc", auc["MLP"]["train"])
print(f"ROC AUC, train -> test: MLP {auc['MLP']['train']:.3f} -> {auc['MLP']['test']:.3f}, logistic regression "
      f"{auc['logistic']['train']:.3f} -> {auc['logistic']['test']:.3f}; on the training rows the MLP is "
      f"{compare(auc['MLP']['train'], auc['logistic']['train'], 0.01)} the linear model, on the test rows "
      f"{compare(auc['MLP']['test'], auc['logistic']['test'], 0.01)} it (within 0.01 counts as level)")

# %% [markdown]
# Read the table and the printed line as they are: on roughly a thousand training wafers with
# hundreds of noisy, partly redundant sensors, what a small MLP gains on the training rows over
# the linear model need not carry over to the test rows — deep learning's advantage needs data,
# and SECOM has little. The rings show what depth buys when the structure is
# there; SECOM shows that it does not create signal.

# %% [markdown]
# ## 7. Computing derivatives: automatic differentiation
#
# Programming
#
# $$f(x,y,z)=\sin\!\left(\frac{\cosh(y^2+x/z)+\tanh(xyz)}{\log(1+e^x)}\right)$$
#
# is easy; programming $\partial f/\partial x$ by hand is slow and error-prone. **Automatic
# differentiation** needs only the evaluation. It is neither finite differencing (which is
# approximate and costs one evaluation per input) nor symbolic differentiation (which builds
# expressions). It is the chain rule applied to the recorded sequence of elementary operations:
# if $v_k=\phi_k(v_{j}: j\in\mathrm{parents}(k))$, then the adjoints $\bar v_j=\partial f/\partial v_j$
# satisfy
#
# $$\bar v_j=\sum_{k:\ j\in\mathrm{parents}(k)}\bar v_k\,\frac{\partial\phi_k}{\partial v_j},\qquad \bar f=1,$$
#
# computed in reverse order of evaluation — **backpropagation**. Each elementary operation's local
# derivative sits beside its forward formula in `deepfab/scratch/ops.py`. The table compares the
# scratch Tensor, `torch.autograd` and central finite differences at three points.

# %%
from deepfab.foundations.autodiff import gradient_table

pts = [(1.0, 0.5, 2.0), (0.5, 1.0, 1.5), (-0.8, 0.6, -1.2)]
grad_rows = gradient_table(pts)
ctx.table(grad_rows, "autodiff_gradients", floatfmt=".10g")
ctx.metric("autodiff/max_scratch_vs_torch", max(r["|scratch-torch|"] for r in grad_rows))
ctx.metric("autodiff/max_torch_vs_finite_diff", max(r["|torch-fd|"] for r in grad_rows))

# %% [markdown]
# Scratch and torch agree to rounding (both are exact up to floating point); finite differences
# agree as well as they can: their error is truncation $O(h^2)$ plus cancellation $O(\varepsilon/h)$,
# about $10^{-10}$ for $h=10^{-6}$ and $\varepsilon\approx10^{-16}$.
#
# **What does a gradient cost?** The seed says "roughly 5×" an evaluation: the cheap-gradient
# principle of reverse mode (Baur–Strassen; Griewank–Walther) bounds the operation count of $f$ and
# $\nabla f$ together by a small constant times that of $f$, *independent of the number of inputs*
# (finite differences would cost $n+1$ evaluations). We time $f$ and $f$ + $\nabla f$ on many points
# at once (so arithmetic, not Python overhead, is measured), single-threaded, best of several runs.

# %%
from deepfab.scratch.bench import grad_eval_cost_ratio

cost = grad_eval_cost_ratio(n=ctx.pick(real=1_000_000, smoke=20_000), repeats=ctx.pick(real=5, smoke=2), seed=SEED)
ctx.table([{"engine": "scratch Tensor (vs numpy evaluation)", "eval_s": cost["numpy_eval_s"],
            "eval+grad_s": cost["scratch_grad_s"], "ratio": cost["scratch_ratio"]},
           {"engine": "torch.autograd (vs torch evaluation)", "eval_s": cost["torch_eval_s"],
            "eval+grad_s": cost["torch_grad_s"], "ratio": cost["torch_ratio"]}], "grad_cost")
ctx.metric("timing/autodiff_grad_cost_ratio_torch", cost["torch_ratio"])
ctx.metric("timing/autodiff_grad_cost_ratio_scratch", cost["scratch_ratio"])

# %% [markdown]
# The ratios are wall-clock measurements (best of several runs, one thread), so they move from run
# to run with the machine's load — the scratch engine, which allocates fresh arrays for every node
# and every gradient, is the more sensitive to memory pressure. What holds in every run is the
# seed's point: the whole gradient costs a small multiple of one evaluation (the seed's "roughly
# 5×"), not one evaluation per input. The cheap-gradient principle bounds *operations*; an
# engine's memory traffic decides how close the clock gets to that bound.
# Backprop can be used in PyTorch without understanding it, but a shallow
# understanding pays off in lecture 3 (gradients with respect to the *input* for saliency maps)
# and lecture 5 (adversarial attacks).

# %% [markdown]
# ## 8. Training with SGD, and its variants
#
# To solve $\min_\theta\sum_{i=1}^N h(\theta;x_i,y_i)$, stochastic gradient descent repeats
#
# $$\theta^{k+1}=\theta^k-\alpha_k\nabla_\theta h\big(\theta^k;x_{i(k)},y_{i(k)}\big),$$
#
# with $i(k)$ drawn uniformly at random. The sampled gradient is an unbiased estimate of the mean
# gradient, at $1/N$ of its cost. With step sizes $\sum_k\alpha_k=\infty$, $\sum_k\alpha_k^2<\infty$
# (Robbins–Monro; here $\alpha_k=\alpha_0/(1+k/N)$) and a strongly convex objective, the
# expected suboptimality decays like $O(1/k)$; a constant step instead stalls at a noise floor
# proportional to the step. We run exactly this loop in numpy on SECOM's
# regularized logistic objective, $h=\ell(y_i(w^\top x_i+b))+\frac\lambda2\|w\|^2$ with the same
# $\lambda$ as $C=0.01$ above, and measure the gap to the L-BFGS optimum $F^\star$.

# %%
from deepfab.foundations import sgd

theta_star = np.r_[w_t, b_t]                                # the L-BFGS optimum of the same objective
F_star = sgd.logistic_objective(theta_star, data.X_train, data.y_train, l2)
sgd_steps = ctx.pick(real=60_000, smoke=4_000)
n_tr = len(data.y_train)
schedules = {"alpha_k = 0.01 / (1 + k/N)": sgd.inverse_time(0.01, n_tr),
             "alpha_k = 0.003 / (1 + k/N)": sgd.inverse_time(0.003, n_tr),
             "alpha_k = 0.01 (constant)": 0.01}
sgd_runs = sgd.logistic_runs(data.X_train, data.y_train, l2, schedules, steps=sgd_steps, seed=SEED,
                             record_every=max(sgd_steps // 40, 1))
for label, run in sgd_runs.items():
    print(f"{label}: F(theta_k) - F* = {run.objective[0] - F_star:.4f} at k = 0, "
          f"{run.objective[-1] - F_star:.2e} at k = {run.steps[-1]} ({run.steps[-1] / n_tr:.0f} epochs)")
ctx.metric("sgd/final_gap_decaying", sgd_runs["alpha_k = 0.01 / (1 + k/N)"].objective[-1] - F_star)
ctx.metric("sgd/final_gap_constant", sgd_runs["alpha_k = 0.01 (constant)"].objective[-1] - F_star)
ctx.figure(plots.sgd_figure(sgd_runs, F_star), "sgd_secom")

# %% [markdown]
# **The optimizer family.** PyTorch calls the variants of SGD "optimizers". With $g_k$ the
# (stochastic) gradient, $\gamma$ the learning rate:
#
# * **momentum** (heavy ball): $b_k=\mu b_{k-1}+g_k$, $\theta_{k+1}=\theta_k-\gamma b_k$ — averages
#   directions, accelerates along ravines;
# * **Nesterov**: the step uses $g_k+\mu b_k$, a look-ahead that damps overshooting;
# * **RMSprop**: $v_k=\alpha v_{k-1}+(1-\alpha)g_k^2$, $\theta_{k+1}=\theta_k-\gamma g_k/(\sqrt{v_k}+\epsilon)$ —
#   a per-coordinate step size;
# * **Adam**: momentum on $g$ and RMSprop on $g^2$, both bias-corrected:
#   $\theta_{k+1}=\theta_k-\gamma\,\hat m_k/(\sqrt{\hat v_k}+\epsilon)$;
# * **AdamW**: Adam with *decoupled* weight decay $\theta\leftarrow\theta(1-\gamma\lambda)$ instead of
#   adding $\lambda\theta$ to the gradient.
#
# We run each on two 2-D losses — an ill-conditioned quadratic "ravine" and Rosenbrock's banana
# valley — with the learning rate picked for each optimizer from the same grid by its final loss, so no
# optimizer is judged on someone's favourite step size (step sizes that ever push the loss above
# its starting value are excluded). The scratch optimizers (`deepfab.scratch.optim`) run the same
# paths and are compared with `torch.optim` point by point. The last column moves torch's start
# by $10^{-12}$ and reports how far its own path moves: where that is large, the run is chaotic and
# any rounding difference is amplified, so the scratch/torch gap must be judged against it.

# %%
from deepfab.foundations.optim_paths import FUNCTIONS, LR_GRID, family_runs

setups = {"ravine": ((-4.5, 1.5), ctx.pick(real=100, smoke=30)),
          "rosenbrock": ((-1.5, 2.5), ctx.pick(real=1000, smoke=100))}
grid = ctx.pick(real=LR_GRID, smoke=(1e-4, 1e-3, 1e-2, 0.1, 1.0))
paths, lr_rows = {}, []
for fname, (start, steps) in setups.items():
    paths[fname], rows = family_runs(FUNCTIONS[fname], start, steps, grid=grid)
    lr_rows += rows
ctx.table(lr_rows, "optimizer_family")
stable = [r for r in lr_rows if r["torch: start moved 1e-12"] < 1e-9]
ctx.metric("optim/max_path_gap_non_chaotic_runs", max(r["max |scratch - torch|"] for r in stable))
ctx.metric("optim/n_chaotic_runs", len(lr_rows) - len(stable))
ctx.metric("optim/max_path_gap_over_sensitivity",
           max(r["max |scratch - torch|"] / max(r["torch: start moved 1e-12"], 1e-12) for r in lr_rows))
for r in lr_rows:
    ctx.metric(f"optim/{r['function']}/{r['optimizer']}_final_loss", r["final loss"])
ctx.figure(plots.optimizer_figure(FUNCTIONS, paths), "optimizer_paths")
for fname in setups:
    ranked = sorted((r for r in lr_rows if r["function"] == fname), key=lambda r: r["final loss"])
    print(f"{fname}: final loss, best first: " + ", ".join(f"{r['optimizer']} {r['final loss']:.2e}" for r in ranked))

# %% [markdown]
# On the ravine, plain SGD crawls along the shallow direction (its step is capped by the steep
# one), momentum and Nesterov accelerate along it, and the adaptive methods rescale each
# coordinate — and because this ravine is aligned with the axes, a per-coordinate step size is
# exactly the right preconditioner, which is why the adaptive methods can race far ahead here (the
# printed final losses rank the optimizers on each function; rotate the ravine and that advantage
# shrinks). On Rosenbrock, methods differ mostly in how they follow
# the curved valley floor. The scratch paths coincide with `torch.optim`'s to rounding — the same update rules, the same
# conventions (e.g. PyTorch's momentum buffer starts at the first gradient) — except where the run
# itself is chaotic: an adaptive method that zig-zags across the narrow valley amplifies a
# $10^{-16}$ difference exponentially, and there torch differs from *itself* started $10^{-12}$
# away by as much as it differs from the scratch run.

# %% [markdown]
# ## 9. GPU computing
#
# **GPUs as parallel processors.** Rendering graphics means computing many small tasks in parallel,
# so graphics cards carry many small processors. In 1999 Nvidia's GeForce 256 introduced
# programmability (vertex and pixel shaders) and was the first card marketed as a "Graphics
# Processing Unit". Researchers soon implemented linear algebra by mapping matrices into textures
# and running shaders on them.
#
# **General-purpose GPUs.** In 2007 Nvidia released CUDA for general-purpose computing on its GPUs.
# A CPU offers fast serial processing; a GPU offers massive parallelism from many slower cores.
# The 2008 financial crisis hit Nvidia hard — GPUs were luxury gaming items — and pushed it further
# towards GPGPU and a steadier customer base.
#
# **GPUs in machine learning.** Raina, Madhavan and Ng (2009), "Large-scale deep unsupervised
# learning using graphics processors", showed that GPUs can train large neural networks — not the
# first use of GPUs in ML, but one of the most influential. Machine learning rests on large data and
# computation; GPUs supplied the computation.
#
# **The GPU computing model.** Computing $x^{100}=A^{100}x^0$ on a GPU looks like
#
# ```
# send A from host (CPU) to device (GPU)
# send x = x0 from host to device
# for _ in range(100): tell the GPU to compute x = A x
# send x from device back to host
# ```
#
# It pays off because (1) computation ≫ communication — $A$ crosses the bus once ($n^2$ numbers)
# and is used 100 times ($2n^2$ flops each) — and (2) the large data stays on the device while the
# CPU only issues commands ($A$ here; the network's weights in deep learning).
# `deepfab.foundations.gpu.power_apply` runs exactly this pattern on any device and times the copies
# apart from the compute. On a CPU the "device" is the host itself, so the copies are plain memory
# copies.

# %%
from deepfab.foundations.gpu import contraction_matrix, power_apply, power_sweep

devices = [torch.device("cpu")] + ([device] if device.type == "cuda" else [])
if device.type == "cuda":
    print(f"GPU found: {torch.cuda.get_device_name(device)} — timing CPU and GPU")
else:
    print("No GPU on this machine: timing the host/device pattern on the CPU only "
          "(the same code times a GPU when torch.cuda.is_available()).")
timings = power_sweep(ctx.pick(real=[256, 1024, 2048, 4096], smoke=[64, 256]), rng, devices=devices, steps=100,
                      repeats=ctx.pick(real=3, smoke=1), dtype=np.float32)
for tm in timings:
    ctx.metric(f"timing/gpu_{tm.device}_n{tm.n}_compute_over_transfer", tm.compute_s / tm.transfer_s)
    ctx.metric(f"timing/gpu_{tm.device}_n{tm.n}_compute_ms", 1e3 * tm.compute_s)
    ctx.metric(f"timing/gpu_{tm.device}_n{tm.n}_transfer_ms", 1e3 * tm.transfer_s)
    ctx.metric(f"gpu/{tm.device}/n{tm.n}/rel_error_vs_float64", tm.rel_error)
A_small, x_small = contraction_matrix(32, rng)
check = power_apply(A_small, x_small, steps=100, device=devices[-1], repeats=1)
ctx.metric("gpu/max_diff_vs_matrix_power",
           float(np.max(np.abs(check.result - np.linalg.matrix_power(A_small, 100) @ x_small))))
ctx.table([tm.row() for tm in timings], "gpu_power", floatfmt=".4g")
ctx.figure(plots.gpu_figure(timings), "gpu_power")

# %% [markdown]
# The compute phase does $100\cdot 2n^2$ flops on $A$, the copy moves $A$ once; the table gives
# the measured compute/transfer ratio for each size. On a GPU the copies cross PCIe (tens of GB/s)
# while the products read $A$ from device memory at hundreds of GB/s to TB/s, so keeping $A$
# resident and reusing it is the whole game. On this CPU the "copies" are memcpys and the products
# are memory-bound too, so the ratio reflects how many times $A$ is re-read — modulated by caches
# (a small $A$ stays in cache and multiplies fast) and by the first-touch cost of fresh memory for
# a large copy. The result matches `np.linalg.matrix_power(A, 100) @ x0`, and the float32 runs
# match a float64 loop to float32 precision.

# %% [markdown]
# ## Summary
#
# * Supervised learning = choose a function class, a cost, and minimize the **empirical risk**, a
#   finite-sample stand-in for the expected risk.
# * **Least squares** has a closed form; when $X^\top X$ is singular the pseudo-inverse gives the
#   minimum-norm minimizer, and even when it is not, forming it squares the condition number.
# * The **perceptron** finds a separating hyperplane within $(R/\gamma)^2$ updates.
# * **Logistic regression** minimizes an average **KL divergence**, which equals the logistic
#   loss up to a constant; the **MLP** keeps the objective and deepens the model.
# * **Backpropagation** is the chain rule in reverse; a gradient costs a small constant times an
#   evaluation. **SGD** and its variants train everything that follows.
# * **GPUs** win when the data stays on the device and computation dwarfs communication.
#
# The library pieces used here — `deepfab.scratch` (Tensor, nn, optim, linear, info),
# `deepfab.foundations` (risk, lsq, perceptron, kl, logistic, mlp, sgd, optim_paths, gpu, tabular,
# plots), the toy data of `deepfab.data` and the training engine and metrics of `deepfab.train` —
# work on your own tables: `prepare(X, y)` then any of the fits above.

# %% [markdown]
# ## Exercises
#
# Change the code or the data, predict what will happen, run it, then compare with the worked
# solution (each prints what it measured; `--smoke` runs it in seconds).
#
# 1. **Ridge instead of plain least squares on SECOM.** In section 2, add the penalty
#    $\lambda\lVert w\rVert^2$ (not on the intercept): solve
#    $(A^\top A+\lambda D)\,\theta = A^\top y$ for $\lambda\in\{1, 10, \dots, 10^4\}$, choose $\lambda$ on a
#    validation split of the *training* wafers, and compare the test ROC AUC with $\lambda=0$. Check your
#    solver against scikit-learn's `Ridge`. Does a better-conditioned problem rank the fails better?
#    Solution: `deepfab exercise L00 1`.
# 2. **Smaller margins.** In section 3, run the perceptron at margins 0.05, 0.02 and 0.01 and fit
#    $\log(\text{updates})$ against $\log(1/\gamma)$. The bound $(R/\gamma)^2$ allows a slope of 2; what
#    slope do you measure, and is the bound ever reached? Solution: `deepfab exercise L00 2`.

# %%
print(f"{len(ctx.metrics)} metrics written to {ctx.out / 'metrics.json'}")
