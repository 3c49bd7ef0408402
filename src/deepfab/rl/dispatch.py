"""Dispatching policies against dispatching rules on ``deepfab/FabDispatch-v0``, over paired seeds (lecture 13).

A rule is the constant action of its candidate slot (``rule_policy("EDD")``), so rules and learned
policies run through the same environment, seed for seed: evaluation seed ``s`` gives every policy
the same lots, processing times and warm-up state, and differences are paired. A PPO dispatcher
(``deepfab.rl.ppo``) trains on seeds from ``TRAIN_SEED_BASE`` up, disjoint from the evaluation seeds.

    from deepfab.rl.dispatch import compare, rule_policy, study, summarize
    runs = compare({"FIFO": rule_policy("FIFO"), "EDD": rule_policy("EDD")}, seeds=range(5), horizon_days=3.0)
    summarize(runs)                      # rows: policy, metric means with 95 % t-intervals over seeds
    s = study("HVLM", seeds=(0, 1, 2, 3, 4), train_steps=100_000, seed=0)
    s.table, s.paired, s.verdict         # the lecture's table, paired differences, numbers for the text
    fab_plots.study_figure(s)

References: W. S. Gosset ("Student"), Biometrika 6, 1908 (t-interval); P. Henderson et al., "Deep
Reinforcement Learning that Matters", AAAI 2018 (seeds and intervals); J. Schulman et al., "Proximal
Policy Optimization Algorithms", arXiv:1707.06347, 2017; S. S. Panwalkar, W. Iskander, "A survey of
scheduling rules", Operations Research 25(1), 1977.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ..errors import UsageError
from .evaluate import RandomPolicy, mean_interval
from .fab import FabDispatchEnv
from .rules import RULES

TRAIN_SEED_BASE = 10_000          # training episodes start from seeds TRAIN_SEED_BASE + seed + env index
METRICS = ("mean_cycle_time_h", "mean_tardiness_h", "late_share", "throughput_per_day", "cost")
LOWER_IS_BETTER = {"mean_cycle_time_h": True, "mean_tardiness_h": True, "late_share": True,
                   "throughput_per_day": False, "cost": True}
STUDY_ENV = dict(warmup_days=1.0, horizon_days=3.0)     # the study's episodes (the env's default is 2 + 5 days)
SMOKE_ENV = dict(warmup_days=0.25, horizon_days=0.5)


class RulePolicy:
    """Dispatching rule ``name`` as a policy: always the candidate slot that holds its pick."""

    def __init__(self, name: str, rules: dict | None = None):
        rules = RULES if rules is None else rules
        if name not in rules:
            raise UsageError(f"unknown dispatching rule {name!r}; expected one of {', '.join(rules)}")
        self.name, self.slot = name, list(rules).index(name)

    def act(self, obs, deterministic: bool = True) -> int:
        return self.slot


def rule_policy(name: str, rules: dict | None = None) -> RulePolicy:
    """The policy that always takes rule ``name``'s slot; pass the env's ``rules`` when it has its own."""
    return RulePolicy(name, rules)


def _choose(policy):
    if hasattr(policy, "act"):
        return lambda obs: policy.act(obs, deterministic=True)
    if callable(policy):
        return policy
    raise UsageError(f"a policy has act(obs, deterministic) or is a function of obs; got {type(policy).__name__}")


def run_episode(policy, seed: int, **env_kwargs) -> dict:
    """One episode of ``policy`` from ``reset(seed=seed)``: the final metrics, its return and decision stats.

    ``cost`` is minus the return in lots: the time-average over the horizon of the lots in the section plus
    ``tardiness_weight`` times the lots past due (what the reward sums; lower is better); ``slot_share``
    the share of decisions on each slot; ``distinct`` the mean number of different lots among the
    candidate slots (1: every rule agreed, the choice did not matter).
    """
    env = FabDispatchEnv(**env_kwargs)
    choose = _choose(policy)
    t0 = time.perf_counter()
    obs, _ = env.reset(seed=int(seed))
    counts, distinct, total, n = np.zeros(env.n_slots), 0, 0.0, 0
    while env.group is not None:
        a = int(choose(obs))
        counts[a] += 1
        distinct += len(set(env.slots))
        obs, reward, _, truncated, info = env.step(a)
        total += reward
        n += 1
    m = env.metrics()
    horizon = env.end - env.warmup
    return {**m, "cost": -total * env.reward_unit / horizon, "return": total, "steps": n,
            "seconds": time.perf_counter() - t0, "slot_share": (counts / max(n, 1)).tolist(),
            "distinct": distinct / max(n, 1), "seed": int(seed)}


def compare(policies: dict, seeds, **env_kwargs) -> dict:
    """name -> list of ``run_episode`` results, one per seed, every policy on the same seeds."""
    seeds = [int(s) for s in seeds]
    if not seeds or not policies:
        raise UsageError(f"compare needs policies and seeds; got {len(policies)} policies and seeds {seeds}")
    return {name: [run_episode(p, s, **env_kwargs) for s in seeds] for name, p in policies.items()}


def summarize(runs: dict, metrics=METRICS, level: float = 0.95) -> list[dict]:
    """One row per policy: each metric's mean over seeds with its t-interval (``metric``, ``_low``, ``_high``)."""
    rows = []
    for name, results in runs.items():
        row = {"policy": name}
        for k in metrics:
            mean, low, high = mean_interval([r[k] for r in results], level)
            row.update({k: mean, f"{k}_low": low, f"{k}_high": high})
        rows.append(row)
    return rows


def paired(runs: dict, a: str, b: str, metric: str, level: float = 0.95) -> dict:
    """Mean of ``a - b`` over the shared seeds with its t-interval; the seeds must match one to one."""
    sa, sb = [r["seed"] for r in runs[a]], [r["seed"] for r in runs[b]]
    if sa != sb:
        raise UsageError(f"paired differences need the same seeds; got {sa} for {a} and {sb} for {b}")
    d = [x[metric] - y[metric] for x, y in zip(runs[a], runs[b])]
    mean, low, high = mean_interval(d, level)
    return {"a": a, "b": b, "metric": metric, "diff": mean, "low": low, "high": high}


def best_rule(runs: dict, metric: str) -> str:
    """The rule (a name in ``RULES``) with the best mean ``metric`` over the seeds."""
    names = [n for n in runs if n in RULES]
    if not names:
        raise UsageError(f"best_rule needs rule results; got {list(runs)}")
    means = {n: np.mean([r[metric] for r in runs[n]]) for n in names}
    return (min if LOWER_IS_BETTER[metric] else max)(means, key=means.get)


def train_dispatcher(total_steps: int, seed: int = 0, config=None, **env_kwargs):
    """A PPO dispatcher (``deepfab.rl.ppo.train_ppo``) trained on seeds ``TRAIN_SEED_BASE + seed + i``."""
    from .ppo import PPOConfig, train_ppo

    FabDispatchEnv(**env_kwargs)       # bad kwargs fail here, before any training
    cfg = config or PPOConfig(num_envs=4, num_steps=256, lr=3e-4, gamma=0.99, ent_coef=0.01)
    return train_ppo(lambda i: FabDispatchEnv(**env_kwargs), total_steps, cfg, seed=TRAIN_SEED_BASE + seed)


@dataclass
class Study:
    table: list                 # one row per policy: metrics with 95 % intervals over the evaluation seeds
    paired: list                # PPO minus the best rule of each metric, same seeds
    runs: dict                  # name -> per-seed run_episode results
    history: list               # PPO's finished training episodes: step, return, length
    verdict: dict               # numbers the text states: best rules, whether PPO beats them
    seeds: tuple                # evaluation seeds
    train_seeds: tuple          # first training seed of each training environment
    train_steps: int
    train_seconds: float
    eval_seconds: float
    env_kwargs: dict = field(default_factory=dict)


def study(fab: str = "HVLM", seeds=(0, 1, 2, 3, 4), train_steps: int = 100_000, seed: int = 0,
          smoke: bool = False, env_kwargs: dict | None = None, config=None) -> Study:
    """Every rule, a random policy and a trained PPO dispatcher on the same evaluation ``seeds``.

    Episodes are ``STUDY_ENV`` (``SMOKE_ENV`` with ``smoke``), updated by ``env_kwargs``. PPO discounts per
    decision; decisions are events in continuous time, so ``gamma`` near 1 keeps a policy that decides
    more often (short steps first) from looking cheaper, and GAE lambda near 1 keeps the advantages from
    seeing only the next few decisions. About 3 minutes on a quiet 2-core CPU (7 under load 8).
    """
    from .ppo import PPOConfig

    kw = {"fab": fab, **(SMOKE_ENV if smoke else STUDY_ENV), **(env_kwargs or {})}
    seeds = tuple(int(s) for s in seeds)
    cfg = config or PPOConfig(num_envs=4, num_steps=64 if smoke else 256, lr=3e-4, gamma=0.999,
                              gae_lambda=0.99)
    train_seeds = tuple(TRAIN_SEED_BASE + seed + i for i in range(cfg.num_envs))
    if len(seeds) < 2 or set(seeds) & set(train_seeds) or len(set(seeds)) != len(seeds):
        raise UsageError(f"seeds must be at least two distinct evaluation seeds, none of the training seeds "
                         f"{train_seeds}; got {seeds}")
    result = train_dispatcher(train_steps, seed, cfg, **kw)
    t0 = time.perf_counter()
    policies = {name: rule_policy(name) for name in RULES}
    policies["random"] = RandomPolicy(FabDispatchEnv(**kw).action_space, seed=seed)
    policies["PPO"] = result.policy
    runs = compare(policies, seeds, **kw)
    eval_seconds = time.perf_counter() - t0
    table = summarize(runs)
    pairs, verdict = [], {}
    for metric in ("mean_cycle_time_h", "mean_tardiness_h", "throughput_per_day", "cost"):
        best = best_rule(runs, metric)
        d = paired(runs, "PPO", best, metric)
        pairs.append(d)
        better = d["high"] < 0 if LOWER_IS_BETTER[metric] else d["low"] > 0
        worse = d["low"] > 0 if LOWER_IS_BETTER[metric] else d["high"] < 0
        verdict[metric] = {"best_rule": best, "diff": d["diff"], "low": d["low"], "high": d["high"],
                           "ppo_better": bool(better), "ppo_worse": bool(worse)}
    ppo = runs["PPO"]
    verdict["ppo_slot_share"] = dict(zip(RULES, np.mean([r["slot_share"] for r in ppo], axis=0).tolist()))
    verdict["distinct_candidates"] = float(np.mean([r["distinct"] for r in ppo]))
    costs = {n: float(np.mean([r["cost"] for r in runs[n]])) for n in RULES}
    verdict["rule_cost_spread"] = max(costs.values()) - min(costs.values())    # lots: what dispatching can move
    returns = np.array([h["return"] for h in result.history]) if result.history else np.zeros(1)
    verdict["train_return_cv"] = float(returns.std() / max(abs(returns.mean()), 1e-12))  # episode-to-episode noise
    return Study(table, pairs, runs, result.history, verdict, seeds, train_seeds, int(result.steps),
                 float(result.seconds), eval_seconds, kw)
