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
# # Lecture 13 — Introduction to reinforcement learning
#
# *13강 reinforcement learning 개론.* Supervised learning is told the right answer for every
# example. A dispatcher in a fab is never told which lot was the right one to run next: it sees
# the consequences — queues that grow or shrink, lots that finish early or late — long after the
# decision. **Reinforcement learning** (RL) learns decisions from such delayed, scalar feedback.
# This lecture builds the field from the ground up and then tries it on the fab:
#
# 1. **Markov decision processes** and the **Bellman equations**, derived; **value iteration**
#    (and why it converges: a contraction) and **policy iteration**, solved exactly on a small
#    tool-maintenance MDP and on gymnasium's FrozenLake, checked against each other and a linear solve;
# 2. **Q-learning**, which finds the optimal action values from samples alone;
# 3. **function approximation**: why a neural Q-function needs a replay buffer and a target
#    network (**DQN**), and **policy gradients** with **PPO**'s clipped surrogate and **GAE**, both derived;
# 4. **CartPole-v1**: our DQN and PPO against stable-baselines3's PPO at equal steps, over
#    several training seeds and the same evaluation seeds, next to CleanRL's published returns;
# 5. **the fab**: `deepfab/FabDispatch-v0`, a discrete-event simulation of a section of the
#    SMT2020 testbed fab, where a PPO dispatcher is compared with FIFO, SPT, EDD, critical ratio
#    and other rules on the same five seeds.
#
# The code is `deepfab.rl`: `mdp` (finite MDPs, value and policy iteration, Q-learning), `dqn` and
# `ppo` (single-file agents in the style of CleanRL), `evaluate` (seeded evaluation with intervals,
# the stable-baselines3 reference), `plots`, and for the fab `fab`, `fab_sim`, `rules`, `dispatch`,
# `fab_plots`. The tests in `tests/rl` check each piece against an oracle (policy iteration against
# value iteration against a linear solve, GAE against a brute-force sum, the clipped loss and its
# gradient against the written formula, gymnasium's environment checker). Run it with
# `deepfab run L13` or `deepfab run L13 --smoke`; every number the text refers to is in
# `runs/L13/metrics.json`. The real run took 3.9 minutes of wall time in `make course` on a 2-core
# CPU, beside one other lecture (one torch thread).

# %%
import time
from operator import itemgetter

import numpy as np

from deepfab.lecture import Context
from deepfab.rl import mdp
from deepfab.rl.dispatch import study
from deepfab.rl.dqn import DQNConfig
from deepfab.rl.evaluate import (
    compare_agents,
    curve_on_grid,
    dqn_trainer,
    env_factory,
    ppo_trainer,
    random_runs,
    sb3_ppo_trainer,
    summarize_runs,
)
from deepfab.rl.fab_plots import study_figure
from deepfab.rl.plots import convergence_figure, evaluation_figure, learning_curves_figure, value_heatmap_figure
from deepfab.rl.ppo import PPOConfig

ctx = Context.from_env("L13", threads=1)   # small MLPs beside CPU environments: one thread is fastest
HEADLINE = ("mdp/tool/vi_minus_pi", "qlearning/max_error", "cartpole/PPO/mean", "cartpole/SB3_PPO/mean",
            "cartpole/DQN/mean", "fab/ppo_minus_best_rule/cost")
t_start = time.perf_counter()
plan = ctx.pick(real=dict(q_steps=100_000, cart_steps=30_000, train_seeds=(0, 1, 2), eval_episodes=20,
                          fab_steps=100_000, fab_env=dict(warmup_days=1.0, horizon_days=3.0), fab_rollout=256),
                smoke=dict(q_steps=5_000, cart_steps=1_024, train_seeds=(0,), eval_episodes=3,
                           fab_steps=512, fab_env=dict(warmup_days=0.25, horizon_days=0.25), fab_rollout=64))

# %% [markdown]
# ## 1. Markov decision processes and the Bellman equations
#
# An **MDP** is a set of states $S$, a set of actions $A$, transition probabilities
# $P(s' \mid s, a)$, rewards $r(s, a, s')$ and a discount $\gamma \in [0, 1)$. At each step $t$ the
# agent in state $S_t$ picks $A_t$, the environment moves to $S_{t+1} \sim P(\cdot \mid S_t, A_t)$
# and pays $R_{t+1} = r(S_t, A_t, S_{t+1})$. *Markov* means that the next state depends on the
# past only through the current state and action. The agent maximises the **return**
#
# $$G_t = R_{t+1} + \gamma R_{t+2} + \gamma^2 R_{t+3} + \dots = \sum_{k=0}^{\infty} \gamma^k R_{t+k+1},$$
#
# finite because the rewards are bounded and $\gamma < 1$. A **policy** $\pi(a \mid s)$ gives the
# probability of each action; its **value** is the expected return from each state,
# $V_\pi(s) = \mathbb{E}_\pi[G_t \mid S_t = s]$, and its **action value**
# $Q_\pi(s, a) = \mathbb{E}_\pi[G_t \mid S_t = s, A_t = a]$.
#
# **Bellman expectation equation.** The return satisfies $G_t = R_{t+1} + \gamma G_{t+1}$. Take the
# expectation given $S_t = s$, condition on the action and the next state, and use the Markov
# property ($G_{t+1}$ depends on the past only through $S_{t+1}$):
#
# $$V_\pi(s) = \sum_a \pi(a \mid s) \sum_{s'} P(s' \mid s, a) \left[ r(s, a, s') + \gamma V_\pi(s') \right].$$
#
# With $R_\pi(s) = \sum_a \pi(a \mid s) \sum_{s'} P(s' \mid s, a) r(s, a, s')$ and
# $P_\pi(s, s') = \sum_a \pi(a \mid s) P(s' \mid s, a)$ this is the linear system
# $V_\pi = R_\pi + \gamma P_\pi V_\pi$, so $V_\pi = (I - \gamma P_\pi)^{-1} R_\pi$: the matrix is
# invertible because every row of $\gamma P_\pi$ sums to $\gamma < 1$. Evaluating a policy is one
# linear solve (`mdp.policy_evaluation`).
#
# **Bellman optimality equation.** The best achievable value $V_*(s) = \max_\pi V_\pi(s)$ picks
# the best action in the first step and acts optimally after it:
#
# $$V_*(s) = \max_a \sum_{s'} P(s' \mid s, a) \left[ r(s, a, s') + \gamma V_*(s') \right], \qquad
#   Q_*(s, a) = \sum_{s'} P(s' \mid s, a) \left[ r(s, a, s') + \gamma \max_{a'} Q_*(s', a') \right].$$
#
# The max makes it non-linear. A policy that is greedy with respect to $Q_*$,
# $\pi_*(s) = \arg\max_a Q_*(s, a)$, is optimal.
#
# **Value iteration converges because the Bellman operator is a contraction.** Write
# $(T V)(s) = \max_a \sum_{s'} P(s' \mid s, a) [r + \gamma V(s')]$. For any two value functions
# $U, V$, using $|\max_a f(a) - \max_a g(a)| \le \max_a |f(a) - g(a)|$,
#
# $$|(T U)(s) - (T V)(s)| \le \max_a \gamma \sum_{s'} P(s' \mid s, a) |U(s') - V(s')| \le \gamma \| U - V \|_\infty .$$
#
# So $T$ shrinks every distance by the factor $\gamma$. By Banach's fixed-point theorem it has
# exactly one fixed point — $V_*$ — and the iteration $V_{k+1} = T V_k$ reaches it from any start
# with $\| V_k - V_* \|_\infty \le \gamma^k \| V_0 - V_* \|_\infty$. Stopping when
# $\| V_{k+1} - V_k \|_\infty < \epsilon$ leaves an error of at most $\gamma \epsilon / (1 - \gamma)$.
#
# **Policy iteration** alternates an exact evaluation ($V_\pi$ by the linear solve) with a greedy
# improvement $\pi'(s) = \arg\max_a Q_\pi(s, a)$. The *policy improvement theorem* gives
# $V_{\pi'} \ge V_\pi$ in every state: acting by $\pi'$ for one step and then by $\pi$ is already
# at least as good as $\pi$, and repeating the argument at each later step gives $V_{\pi'}$. There are
# finitely many deterministic policies, so it stops — at a policy whose values satisfy the
# optimality equation, that is at $V_*$ — usually after a handful of steps (Howard 1960).
#
# **A tool as an MDP.** Once a shift, a process tool is *up*, *degraded* or *down*; we *run* it or
# *maintain* it. Running an up tool earns 1 (a shift of good lots) and degrades it with probability
# 0.1; a degraded tool earns 0.6 (lower yield) and breaks with probability 0.4; a down tool earns
# nothing. Maintenance earns nothing that shift (and a repair of a down tool costs 0.5 and works
# with probability 0.6). With $\gamma = 0.9$ (a horizon of about ten shifts), when is maintenance worth it?

# %%
tool = mdp.tool_mdp(gamma=0.9)
vi, pi = mdp.value_iteration(tool), mdp.policy_iteration(tool)
exact = mdp.policy_evaluation(tool, pi.policy)
ctx.metric("mdp/tool/vi_minus_pi", float(np.abs(vi.V - pi.V).max()))
ctx.metric("mdp/tool/linear_solve_minus_pi", float(np.abs(exact - pi.V).max()))
ctx.metric("mdp/tool/V", dict(zip(tool.states, vi.V)))
ctx.metric("mdp/tool/sweeps", {"value_iteration": vi.iterations, "policy_iteration": pi.iterations})
ctx.table([{"state": s, "V*": vi.V[i], "Q*(run)": vi.Q[i, 0], "Q*(maintain)": vi.Q[i, 1],
            "value iteration": tool.actions[vi.policy[i]], "policy iteration": tool.actions[pi.policy[i]]}
           for i, s in enumerate(tool.states)], "tool_mdp")
print(f"value iteration: {vi.iterations} sweeps; policy iteration: {pi.iterations} evaluations; "
      f"max |V_VI - V_PI| = {np.abs(vi.V - pi.V).max():.1e}, max |linear solve of pi* - V_PI| = "
      f"{np.abs(exact - pi.V).max():.1e}; same policy: {bool((vi.policy == pi.policy).all())}")
for i, s in enumerate(tool.states):
    print(f"  {s:>8}: {tool.actions[pi.policy[i]]} (Q* run {vi.Q[i, 0]:.3f}, maintain {vi.Q[i, 1]:.3f})")
drop = vi.Q[1, 1] - vi.Q[1, 0]
print(f"a degraded tool: maintaining is worth {drop:+.3f} more than running it (in shifts of good lots)")

# %% [markdown]
# The policy table answers the question: compare the two $Q_*$ columns of the degraded state. The
# contraction is visible in the left panel below (the sup-norm change of value iteration falls as
# $\gamma^k$ or faster).
#
# **FrozenLake**, gymnasium's slippery $8 \times 8$ grid: from S reach G without falling into a
# hole H; every move slips to a perpendicular direction with probability 2/3, reward 1 at the goal.
# `mdp.frozenlake_mdp` reads gymnasium's own transition table, so the environment and the exact
# solver agree by construction (a test also checks $V_*$ against 1500 gymnasium rollouts).

# %%
lake = mdp.frozenlake_mdp("8x8", gamma=0.99)
lake_vi, lake_pi = mdp.value_iteration(lake), mdp.policy_iteration(lake)
start = int(np.flatnonzero(lake.start)[0])
ctx.metric("mdp/lake8", {"vi_minus_pi": float(np.abs(lake_vi.V - lake_pi.V).max()), "V_start": lake_vi.V[start],
                         "vi_sweeps": lake_vi.iterations, "pi_iterations": lake_pi.iterations})
print(f"FrozenLake 8x8: value iteration {lake_vi.iterations} sweeps, policy iteration {lake_pi.iterations} "
      f"evaluations, max |V_VI - V_PI| = {np.abs(lake_vi.V - lake_pi.V).max():.1e}; V*(start) = "
      f"{lake_vi.V[start]:.3f} (discounted chance of reaching the goal)")
ctx.figure(value_heatmap_figure(lake, {"value iteration": lake_vi.V, "policy iteration": lake_pi.V},
                                lake_pi.policy, title="FrozenLake 8x8: V* and the optimal policy (arrows)"),
           "frozenlake_values")

# %% [markdown]
# The arrows often point *away* from the goal: on ice that slips sideways, the safe move next to a
# hole is the one whose slips cannot fall in.
#
# ## 2. Q-learning: the optimality equation from samples
#
# Value iteration needs $P$. A fab rarely has it; it has *experience*: tuples $(s, a, r, s')$.
# The optimality equation says $Q_*(s, a)$ is the expectation of $r + \gamma \max_{a'} Q_*(s', a')$
# over $s'$. **Q-learning** (Watkins & Dayan 1992) estimates that expectation by a running average
# of samples:
#
# $$Q(s, a) \leftarrow Q(s, a) + \alpha_n \left[ r + \gamma \max_{a'} Q(s', a') - Q(s, a) \right].$$
#
# It is a stochastic approximation of the contraction $T$. With every pair $(s, a)$ visited
# infinitely often and step sizes with $\sum_n \alpha_n = \infty$, $\sum_n \alpha_n^2 < \infty$
# it converges to $Q_*$ with probability one. It is **off-policy**: the behaviour may explore at
# random (here $\epsilon$-greedy with $\epsilon = 0.5$), and the max still learns the greedy
# policy's values. The step size is $\alpha_n = 1 / n(s, a)^{0.7}$, a polynomial rate that
# Even-Dar & Mansour (2003) show converges much faster than $1/n$ when $\gamma$ is near 1.

# %%
q = mdp.q_learning(tool, steps=plan["q_steps"], seed=ctx.seed, q_star=vi.Q, record_every=1000)
ctx.metric("qlearning/max_error", q.history[-1])
ctx.metric("qlearning/greedy_is_optimal", bool((q.policy == pi.policy).all()))
print(f"after {plan['q_steps']} sampled transitions: max |Q - Q*| = {q.history[-1]:.3f} (Q* ranges "
      f"{vi.Q.min():.2f} to {vi.Q.max():.2f}); after 1000: {q.history[0]:.3f}; greedy policy optimal: "
      f"{bool((q.policy == pi.policy).all())}")
ctx.figure(convergence_figure(vi.history, tool.gamma, q.history, record_every=1000), "convergence")

# %% [markdown]
# ## 3. Function approximation: DQN
#
# A table needs every state. CartPole's state is four real numbers; a fab section's is the whole
# WIP. A network $Q(s, a; w)$ generalizes across states, and Q-learning becomes regression on the
# **TD target** $y = r + \gamma \max_{a'} Q(s', a'; w)$:
# $w \leftarrow w - \alpha \nabla_w \frac{1}{2} (Q(s, a; w) - y)^2$ with $y$ held fixed. Combining
# function approximation, bootstrapping (the target uses the model's own estimate) and off-policy
# data — Sutton & Barto's *deadly triad* (2018, chapter 11) — can diverge: updating $w$ for one
# state moves the target of its neighbours, and consecutive states of one trajectory are nearly the
# same, so gradient steps chase their own tail. Mnih et al. (2015) added two stabilisers:
#
# - a **replay buffer** of the last $N$ transitions, sampled uniformly in minibatches: the samples
#   are close to independent, and each transition is reused many times;
# - a **target network** $Q(\cdot; w^-)$, a copy of $w$ refreshed every $C$ steps, in the target
#   $y = r + \gamma (1 - \text{terminal}) \max_{a'} Q(s', a'; w^-)$: between refreshes each phase is
#   an ordinary supervised regression on a fixed target.
#
# A time limit is not a terminal state: when CartPole stops an episode at 500 steps the pole is
# still up, and the target keeps bootstrapping from the true last observation.
#
# ## 4. Policy gradients, PPO and GAE
#
# Instead of values, learn the policy $\pi_\theta(a \mid s)$ itself. Its objective is
# $J(\theta) = \mathbb{E}_{\tau \sim \pi_\theta}[G_0]$ over trajectories $\tau$. The probability of a
# trajectory is $p_\theta(\tau) = p(s_0) \prod_t \pi_\theta(a_t \mid s_t) P(s_{t+1} \mid s_t, a_t)$;
# with $\nabla p_\theta = p_\theta \nabla \log p_\theta$ and the dynamics not depending on $\theta$,
#
# $$\nabla_\theta J = \mathbb{E}\left[ \sum_t \nabla_\theta \log \pi_\theta(a_t \mid s_t) \, G_t \right]$$
#
# (rewards before $t$ drop out: their expectation against the score of $a_t$ is zero). Subtracting
# a baseline $b(s_t)$ changes nothing in expectation, since
# $\sum_a \pi_\theta(a \mid s) \nabla \log \pi_\theta(a \mid s) = \nabla \sum_a \pi_\theta(a \mid s) = 0$,
# and with $b = V$ the weight becomes the **advantage** $A(s, a) = Q(s, a) - V(s)$: how much better
# $a$ was than the policy's average. An actor-critic learns $V$ (the critic) beside $\pi$ (the actor).
#
# **PPO** (Schulman et al. 2017). The gradient above is only valid at the current $\theta$; one
# rollout supports a few gradient steps at most. With the ratio
# $\rho_t(\theta) = \pi_\theta(a_t \mid s_t) / \pi_{\theta_\text{old}}(a_t \mid s_t)$ the surrogate
# $\mathbb{E}[\rho_t \hat A_t]$ has the policy gradient as its gradient at $\theta = \theta_\text{old}$
# (because $\nabla \rho = \rho \nabla \log \pi$). PPO maximises a clipped version of it,
#
# $$L^{\text{CLIP}}(\theta) = \mathbb{E}_t\left[ \min\left( \rho_t \hat A_t, \;
#   \text{clip}(\rho_t, 1 - \epsilon, 1 + \epsilon) \hat A_t \right) \right].$$
#
# For $\hat A_t > 0$ the objective grows with $\rho_t$ only up to $1 + \epsilon$, for $\hat A_t < 0$
# it falls only down to $1 - \epsilon$: once the new policy has moved more than $\epsilon$ in the
# favourable direction the gradient of that sample is zero, so several epochs of minibatch steps on
# one rollout cannot move the policy far (the min keeps the unfavourable side unclipped: a
# pessimistic bound). The loss adds the critic's squared error and subtracts an entropy bonus.
#
# **GAE** (Schulman et al. 2016) estimates $\hat A_t$. With the TD residual
# $\delta_t = r_t + \gamma V(s_{t+1}) - V(s_t)$, the $k$-step advantage telescopes:
#
# $$\hat A^{(k)}_t = \sum_{l=0}^{k-1} \gamma^l \delta_{t+l}
#   = -V(s_t) + r_t + \gamma r_{t+1} + \dots + \gamma^{k-1} r_{t+k-1} + \gamma^k V(s_{t+k}).$$
#
# Small $k$ leans on the (biased) critic, large $k$ on the (noisy) sampled rewards. GAE averages
# all $k$ with weights $(1 - \lambda) \lambda^{k-1}$; exchanging the sums,
#
# $$\hat A^{\text{GAE}}_t = (1 - \lambda) \sum_{k=1}^{\infty} \lambda^{k-1} \sum_{l=0}^{k-1} \gamma^l \delta_{t+l}
#   = \sum_{l=0}^{\infty} \gamma^l \delta_{t+l} (1 - \lambda) \sum_{k=l+1}^{\infty} \lambda^{k-1}
#   = \sum_{l=0}^{\infty} (\gamma \lambda)^l \delta_{t+l},$$
#
# computed backwards as $\hat A_t = \delta_t + \gamma \lambda \hat A_{t+1}$, the sum stopping at an
# episode's end. $\lambda = 0$ gives the one-step TD residual, $\lambda = 1$ the Monte-Carlo return
# minus $V$. `deepfab.rl.ppo` follows CleanRL's `ppo.py` (Huang et al. 2022): four environments,
# rollouts of 128 steps, GAE with $\lambda = 0.95$, four epochs of four minibatches, $\epsilon = 0.2$,
# advantages normalised per minibatch, the value update clipped too, the learning rate annealed to 0.
#
# ## 5. CartPole: our DQN and PPO against stable-baselines3's PPO at equal steps
#
# CartPole-v1: push a cart left or right to keep a pole upright; reward 1 per step, at most 500.
# CleanRL reports **DQN 488.7 ± 16.1** and **PPO 492.4 ± 13.1** after **500 000** steps. That budget
# does not fit this lecture's four CPU minutes (`benchmarks/bench_rl_cartpole.py --steps 500000`
# runs it), so every agent here gets the budget printed below, with CleanRL's hyperparameters
# except a learning rate of $10^{-3}$ for PPO (annealed to 0 over the short run; $2.5 \times 10^{-4}$ is
# tuned for 500k steps) and, for DQN, exploration and the first update scaled to the run (random
# steps for the first 10 %, $\epsilon$ falling to 0.05 over half of it). stable-baselines3's PPO gets
# *the same* hyperparameters and network (two tanh layers of 64 for actor and critic). Each agent
# trains once per training seed, and every trained policy is evaluated greedily on the same
# evaluation seeds; the random policy on the same seeds is the floor.

# %%
make_env = env_factory("CartPole-v1")
steps, train_seeds = plan["cart_steps"], plan["train_seeds"]
eval_seeds = range(1000, 1000 + plan["eval_episodes"])          # disjoint from every training seed
ppo_cfg = PPOConfig(lr=1e-3)
dqn_cfg = DQNConfig(learning_starts=steps // 10, exploration_fraction=0.5)
runs = compare_agents({"PPO": ppo_trainer(ppo_cfg), "SB3 PPO": sb3_ppo_trainer(ppo_cfg), "DQN": dqn_trainer(dqn_cfg)},
                      make_env, steps, train_seeds, eval_seeds)
runs["random"] = random_runs(make_env(0).action_space, make_env, train_seeds, eval_seeds)
rows = summarize_runs(runs)
ctx.table([{"agent": r["agent"], "mean return": r["mean"], "95% interval": f"{r['low']:.1f} - {r['high']:.1f}",
            "over": r["interval_over"], "worst seed": r["worst_seed"], "best seed": r["best_seed"],
            "train s / seed": round(r["train_seconds"], 1)} for r in rows], "cartpole")
for r in rows:
    ctx.metric(f"cartpole/{r['agent'].replace(' ', '_')}", {k: r[k] for k in ("mean", "low", "high", "worst_seed",
                                                                              "best_seed")})
    ctx.metric(f"timing/cartpole/{r['agent'].replace(' ', '_')}_s", r["train_seconds"])
print(f"budget: {steps} environment steps per agent and training seed ({len(train_seeds)} seeds "
      f"{list(train_seeds)}), {len(eval_seeds)} evaluation episodes each on seeds {eval_seeds.start}.."
      f"{eval_seeds.stop - 1}; CleanRL's published numbers are at 500000 steps")

# %%
by = {r["agent"]: r for r in rows}
ours, sb3 = by["PPO"], by["SB3 PPO"]
overlap = ours["low"] <= sb3["high"] and sb3["low"] <= ours["high"]
ctx.metric("cartpole/ppo_minus_sb3", ours["mean"] - sb3["mean"])
print(f"PPO {ours['mean']:.1f} [{ours['low']:.1f}, {ours['high']:.1f}] vs SB3 PPO {sb3['mean']:.1f} "
      f"[{sb3['low']:.1f}, {sb3['high']:.1f}]: difference {ours['mean'] - sb3['mean']:+.1f}; the intervals "
      f"{'overlap: no difference is resolved at this budget' if overlap else 'do not overlap'}")
for name, published in (("PPO", 492.4), ("DQN", 488.7)):
    r = by[name]
    print(f"{name}: {r['mean']:.1f} at {steps} steps against CleanRL's {published} at 500000 "
          f"({r['mean'] / published:.0%} of it, with {steps / 500_000:.1%} of the steps)")
beat = {n: by[n]["worst_seed"] > by["random"]["best_seed"] for n in ("PPO", "SB3 PPO", "DQN")}
print(f"random policy: {by['random']['mean']:.1f}; the worst training seed of each agent above the random policy's "
      f"best: {beat}")
curves = {name: (curve_on_grid(group[0]["history"], steps)[0],
                 np.vstack([curve_on_grid(g["history"], steps)[1] for g in group]))
          for name, group in runs.items() if name != "random"}
ctx.figure(learning_curves_figure(curves, reference={"CleanRL PPO, 500k steps": (492.4, 13.1)},
                                  title=f"CartPole-v1, {steps} steps (training episodes, stochastic policies)"),
           "cartpole_curves")
ctx.figure(evaluation_figure({r["agent"]: (r["mean"], r["low"], r["high"]) for r in rows},
                             ylabel="greedy evaluation return", reference={"500 (maximum)": 500.0},
                             points={name: [g["eval"].mean for g in group] for name, group in runs.items()},
                             ylim=(0, 540), title="same evaluation seeds; 95 % t-interval over training seeds"),
           "cartpole_eval")

# %% [markdown]
# Reading it. The learning curves are training episodes of the *stochastic* policies (PPO samples
# its actions, DQN explores with $\epsilon$); the evaluation is greedy, which is why it can sit
# above the curves. The intervals are Student-t intervals over the training seeds (each seed's mean
# over the evaluation episodes, the dots in the figure): with three seeds the t factor is 4.3, and
# RL runs differ from seed to seed far more than supervised runs do (Henderson et al. 2018), so an
# interval can reach past the possible range of 0 to 500 (the figure clips it; the table does not).
# A single bad seed — a run that learned slowly or collapsed late — is the usual cause. The comparison with
# stable-baselines3 is the check that our PPO is a PPO: same hyperparameters, same budget, same
# evaluation; the remaining implementation differences (SB3 clips no value update, draws its own
# random numbers and minibatches) are of the kind Huang et al. (2022) catalogue. The published
# CleanRL numbers need ten times or more the steps run here.
#
# ## 6. The fab: dispatching as a Markov decision process
#
# A wafer fab is a re-entrant flow shop: a lot (25 wafers) visits the same tool groups again and
# again along a route of several hundred steps. Whenever a tool finishes a lot and more than one lot
# waits for its tool group, somebody has to decide which one runs next. Fabs decide with
# **dispatching rules**, priority indices evaluated on the waiting lots; Panwalkar and Iskander
# (1977) collected over a hundred of them. We use six:
#
# | rule | index of a waiting lot (smallest runs first) | what it targets |
# |---|---|---|
# | FIFO | time the lot joined the queue | fairness, low cycle-time variance |
# | SPT | processing time $p_i$ of the step | mean flow time |
# | EDD | due date $d_i$ | maximum lateness |
# | CR | $(d_i - t)/W_i$, $W_i$ = remaining processing work | lots that are falling behind |
# | MS | slack $d_i - t - W_i$ | same, in minutes |
# | LWKR | remaining work $W_i$ | mean cycle time across several steps |
#
# On a single machine with all jobs ready at time 0, two of these rules are provably optimal, both
# by interchange arguments. Take any sequence and two adjacent jobs $i$ then $j$, starting at $s$.
#
# *SPT minimizes mean flow time (Smith 1956).* Swapping $i$ and $j$ changes only their own
# completion times: before, their sum is $(s + p_i) + (s + p_i + p_j)$, after it is
# $(s + p_j) + (s + p_j + p_i)$. The difference is $p_i - p_j$, so the swap helps whenever
# $p_i > p_j$; a sequence no swap improves is sorted by processing time.
#
# *EDD minimizes maximum lateness $L_{\max} = \max_i (C_i - d_i)$ (Jackson 1955).* With $i$ before
# $j$ and $d_i > d_j$, the larger of the two latenesses is $s + p_i + p_j - d_j$. After the swap
# they are $s + p_j - d_j$ and $s + p_i + p_j - d_i$, both smaller. Swapping never increases
# $L_{\max}$, so sorting by due date is optimal.
#
# A fab section has parallel tools, re-entrant routes, random processing times and lots arriving
# all the time; there no simple rule is optimal. That is the opening for reinforcement learning: the
# state is the whole section, the action the choice at one free tool, and the cost what the fab
# pays — cycle time and missed due dates.
#
# **The environment `deepfab/FabDispatch-v0`** is built from the shipped SMT2020 testbed (Kopp et
# al. 2020), the high-volume/low-mix fab HVLM:
#
# - **Section.** Five single-lot tool groups with their real tool counts: dry etch DE_FE_72 (9
#   tools) and DE_BE_50 (9), and defect metrology DefMet_FE_10 (2), DefMet_FE_34 (2) and
#   DefMet_FE_43 (6), 28 tools in all — single-lot tools, few of them, and step times that vary
#   widely (5 to 173 minutes).
# - **Routes.** Both products follow their real routes (583 and 343 steps), restricted to the
#   steps on these groups (27 and 16); metrology steps are sampled with the route's StepPercent.
# - **Processing times.** The route tables' times (per lot, or per wafer times 25), drawn uniformly
#   in PTIME $\pm$ PTIME2.
# - **Releases.** The fab's order mix (regular, hot and super-hot lots of each product) as a
#   Poisson stream, scaled so that the busiest group runs at 95 % utilization.
# - **Due dates.** Release time plus a flow factor times the lot's raw processing time in the
#   section. SMT2020's flow factors (about 2.1 for regular lots, 1.35 for hot lots) are calibrated
#   on the whole fab, where a lot queues at about a hundred tool groups; in one section they are
#   never missed, so they are tightened by `due_factor = 0.7` until due dates bind.
#
# **Simplifications**: no batching (the furnace groups are refused), no setups, no rework, no
# transport, no preventive maintenance; breakdowns (SMT2020's MTTF/MTTR per area) only with
# `breakdowns=True`, and non-preemptive; steps outside the section take no time; hot lots have no
# priority of their own beyond their tighter due dates.
#
# The simulator is a heap of timed events (a release, a tool finishing, failing or being repaired).
# Each lot's randomness — which metrology steps it visits, how long each step takes — is drawn when
# it is released, from a stream separate from the releases, so for one seed every policy sees the
# same lots with the same processing times: comparisons over seeds are *paired*.
#
# - **Decision epoch**: a tool is free and at least two lots wait for its group.
# - **Action**: an index $k$ into six candidate slots; slot $k$ holds the lot that rule $k$ (FIFO,
#   SPT, EDD, CR, MS, LWKR) would pick. Every action is valid, and the constant policy $a \equiv k$
#   *is* rule $k$ (a test checks it lot for lot): the policy class contains every rule and every
#   state-dependent switch between them.
# - **Observation**: 51 numbers clipped to $[-10, 10]$: per slot the lot's waiting time and step
#   time (over the group's mean step time), slack and remaining work (over the mean raw time), its
#   critical ratio, the share of its section steps left and a hot-lot flag; the queue length and
#   idle tools over the group's tools; the section's WIP over all tools; the share of the queue
#   already late; a one-hot of the tool group.
# - **Reward**: with $J(t)$ the lot-minutes spent in the section up to $t$ plus $w$
#   (`tardiness_weight`, 1) times the lot-minutes spent past due,
#
# $$J(t) = \sum_i \left(\min(t, C_i) - r_i\right)^+ + w \sum_i \left(\min(t, C_i) - d_i\right)^+ ,$$
#
# ($r_i$ release, $C_i$ completion, infinite while in the section, $d_i$ due date), the reward at
# decision $k$ is $R_k = -\left(J(t_{k+1}) - J(t_k)\right) / (\bar p M)$ with $\bar p$ the mean step
# time and $M = 28$ tools. Divided by the horizon, minus the return is the time-average number of
# lots in the section plus $w$ times the time-average number of late lots (the `cost` column). By
# Little's law $\bar L = \lambda \bar W$: with throughput fixed by the releases, a lower average WIP
# is a shorter mean cycle time.
# - **Episode**: `reset` simulates a warm-up under FIFO (for a given seed every policy starts from
#   the same loaded fab); the agent then dispatches for a fixed horizon of simulated time and the
#   episode ends truncated. The final `info["metrics"]` holds the mean cycle time and tardiness
#   (hours) of the lots completed after the warm-up, the share that finished late, and the
#   throughput (lots per day).
#
# The environment passes `gymnasium.utils.env_checker.check_env`, gives identical trajectories for
# the same seed, and makes thousands of decisions a second (`benchmarks/bench_fab_env.py`).
#
# One caveat from theory: the decisions are events in continuous time, a *semi-Markov* decision
# process. A discount $\gamma$ *per decision* discounts real time unevenly: a policy that decides
# more often (short steps first) sees less of its future cost inside the discount window, a bias
# toward SPT-like behaviour. We therefore train with $\gamma = 0.999$.

# %%
fab = study("HVLM", seeds=(0, 1, 2, 3, 4), train_steps=plan["fab_steps"], seed=ctx.seed, env_kwargs=plan["fab_env"],
            config=PPOConfig(num_envs=4, num_steps=plan["fab_rollout"], lr=3e-4, gamma=0.999, gae_lambda=0.9))
ctx.metric("timing/fab/train_s", fab.train_seconds)
ctx.metric("timing/fab/eval_s", fab.eval_seconds)
print(f"evaluation seeds {fab.seeds}; training environments start from seeds {fab.train_seeds} (disjoint)")
print(f"PPO: {fab.train_steps} decisions in {fab.train_seconds:.0f} s; evaluation of {len(fab.runs)} policies x "
      f"{len(fab.seeds)} seeds in {fab.eval_seconds:.0f} s")
ctx.table([{k: v for k, v in r.items()} for r in fab.table], "fab_dispatch_table")
ctx.table(fab.paired, "fab_paired")
ctx.figure(study_figure(fab), "fab_dispatch")

# %%
v = fab.verdict
for metric in ("mean_cycle_time_h", "mean_tardiness_h", "throughput_per_day", "cost"):
    d = v[metric]
    ctx.metric(f"fab/ppo_minus_best_rule/{metric}", d["diff"])
    ctx.metric(f"fab/best_rule/{metric}", d["best_rule"])
    word = "better than" if d["ppo_better"] else ("worse than" if d["ppo_worse"] else "not distinguishable from")
    print(f"{metric}: PPO - best rule {d['best_rule']} = {d['diff']:+.3f} "
          f"[{d['low']:+.3f}, {d['high']:+.3f}] (95 % paired t-interval, {len(fab.seeds)} seeds): PPO is {word} it")
for r in fab.table:
    ctx.metric(f"fab/{r['policy']}", {k: r[k] for k in ("mean_cycle_time_h", "mean_tardiness_h",
                                                          "throughput_per_day", "cost")})
share = v["ppo_slot_share"]
top = max(share, key=share.get)
ctx.metric("fab/ppo_top_slot_share", share[top])
print(f"PPO's decisions went {share[top]:.0%} to the {top} slot; on average {v['distinct_candidates']:.2f} of the "
      f"6 slots held different lots")
rules_only = [r for r in fab.table if r["policy"] not in ("PPO", "random")]
best, worst = min(rules_only, key=itemgetter("cost")), max(rules_only, key=itemgetter("cost"))
rand = next(r for r in fab.table if r["policy"] == "random")
returns = np.array([h["return"] for h in fab.history])
ctx.metric("fab/rule_cost_spread", worst["cost"] - best["cost"])
print(f"the rules' costs span {best['cost']:.2f} ({best['policy']}) to {worst['cost']:.2f} ({worst['policy']}) lots, "
      f"a spread of {(worst['cost'] - best['cost']) / best['cost']:.1%}; random choice among the candidates: "
      f"{rand['cost']:.2f}; PPO's training-episode returns vary with a coefficient of variation of "
      f"{returns.std() / abs(returns.mean()):.0%} from episode to episode")
beats = v["cost"]["ppo_better"]
print(f"verdict on the fab's cost: the trained policy {'beats' if beats else 'does not beat'} the best rule "
      f"({v['cost']['best_rule']}) on these {len(fab.seeds)} seeds")

# %% [markdown]
# ## 7. What the comparison shows, and why
#
# The table and the figure put every rule, a uniformly random choice among the six candidates and
# the trained PPO dispatcher on the same five evaluation seeds, with 95 % Student-t intervals over
# those seeds; the paired differences (PPO minus the best rule of each metric, seed by seed) remove
# the variation that comes from the lots themselves. The lines printed above say whether the policy
# beats the best rule — read them, not this paragraph. What they rest on:
#
# - **Throughput** is set by the release rate in a section below saturation: dispatching moves cycle
#   time and lateness, not output, so a throughput difference is noise.
# - **The candidates are already good.** Every action is some rule's choice, and when the rules
#   agree (the printed number of distinct lots among the six slots is small) the choice does not
#   matter at all; this is why a random choice among the candidates lands close to the rules.
# - **The signal is small against the noise.** One decision moves the section's cost by far less
#   than the episode-to-episode variation in WIP (different arrivals, different processing times):
#   the learner has to find a gap between rules of the printed spread under a return variation that
#   is several times larger, from about thirty episodes per environment at this budget — far less
#   data than published RL dispatchers train on.
# - **Discounting per decision** biases a learner toward deciding often (the semi-Markov caveat).
#
# What would help: many more episodes; common random numbers in training (the same seed under two
# actions, as the evaluation does); a decision-local reward (the waiting the other lots incur
# because of this choice); a discount per unit of time instead of per decision.
#
# ## 8. Honest limits
#
# The exact parts (value and policy iteration, the linear solve) agree to the printed precision;
# Q-learning's error after the sampled budget is printed, and it shrinks like a stochastic
# approximation, slowly. The CartPole budget is a small fraction of CleanRL's, with three training
# seeds: the intervals are wide and a gap of tens of return points between agents is not resolved.
# `benchmarks/bench_rl_cartpole.py` repeats the comparison at any budget, up to CleanRL's 500k
# steps. The fab section is a simplified section of one SMT2020 fab, with the simplifications
# listed above; its verdict holds for this section, this budget and these five seeds.

# %%
ctx.metric("timing/total_s", time.perf_counter() - t_start)
print(f"total {time.perf_counter() - t_start:.0f} s")

# %% [markdown]
# ## Exercises
#
# 1. **Add a dispatching rule.** A rule is a function of the waiting lots and the clock that returns a
#    score per lot, smallest first (`deepfab.rl.rules`). Write slack per remaining operation,
#    $(d - t - W_{\text{rem}})/n_{\text{rem}}$, pass it to the environment beside the others
#    (`FabDispatchEnv(rules={**RULES, "S/OPN": your_rule})`) and compare it with EDD and minimum slack on
#    the same five evaluation seeds: is the paired difference in tardiness distinguishable from zero?
#    Solution: `deepfab exercise L13 1`.
# 2. **The discount decides the maintenance.** Solve the tool MDP of section 1 for
#    $\gamma \in \{0.3, 0.5, \dots, 0.99\}$ by value and by policy iteration. From which discount on is
#    maintaining a degraded tool optimal, and how do value iteration's sweeps grow with $\gamma$ against
#    policy iteration's evaluations? Solution: `deepfab exercise L13 2`.

# %% [markdown]
# ## References
#
# - R. S. Sutton, A. G. Barto, *Reinforcement Learning: An Introduction*, 2nd ed., MIT Press, 2018.
# - R. Bellman, *Dynamic Programming*, Princeton University Press, 1957.
# - R. A. Howard, *Dynamic Programming and Markov Processes*, MIT Press, 1960.
# - C. J. C. H. Watkins, P. Dayan, "Q-learning", Machine Learning 8, 279–292, 1992.
# - E. Even-Dar, Y. Mansour, "Learning Rates for Q-learning", Journal of Machine Learning Research 5, 2003.
# - V. Mnih et al., "Human-level control through deep reinforcement learning", Nature 518, 529–533, 2015.
# - J. Schulman, P. Moritz, S. Levine, M. Jordan, P. Abbeel, "High-Dimensional Continuous Control Using
#   Generalized Advantage Estimation", ICLR 2016.
# - J. Schulman, F. Wolski, P. Dhariwal, A. Radford, O. Klimov, "Proximal Policy Optimization Algorithms",
#   arXiv:1707.06347, 2017.
# - S. Huang, R. F. J. Dossa, C. Ye, J. Braga, D. Chakraborty, K. Mehta, J. G. M. Araújo, "CleanRL:
#   High-quality Single-file Implementations of Deep Reinforcement Learning Algorithms", Journal of
#   Machine Learning Research 23(274), 2022.
# - A. Raffin, A. Hill, A. Gleave, A. Kanervisto, M. Ernestus, N. Dormann, "Stable-Baselines3: Reliable
#   Reinforcement Learning Implementations", Journal of Machine Learning Research 22(268), 2021.
# - P. Henderson, R. Islam, P. Bachman, J. Pineau, D. Precup, D. Meger, "Deep Reinforcement Learning
#   that Matters", AAAI 2018.
# - D. Kopp, M. Hassoun, A. Kalir, L. Mönch, "SMT2020 — A Semiconductor Manufacturing Testbed",
#   IEEE Transactions on Semiconductor Manufacturing 33(4), 2020.
# - J. R. Jackson, "Scheduling a production line to minimize maximum tardiness", Research Report 43,
#   Management Science Research Project, University of California, Los Angeles, 1955.
# - W. E. Smith, "Various optimizers for single-stage production", Naval Research Logistics
#   Quarterly 3(1–2), 1956.
# - S. S. Panwalkar, W. Iskander, "A survey of scheduling rules", Operations Research 25(1), 1977.
# - J. D. C. Little, "A proof for the queuing formula: L = λW", Operations Research 9(3), 1961.
