"""Evaluate a policy over seeded episodes: mean return with a Student-t confidence interval (lecture 13).

A policy is anything that picks an action for an observation: an object with
``act(obs, deterministic=True)`` (``deepfab.rl.ppo``/``dqn`` policies, ``RandomPolicy``), a
stable-baselines3 model (``predict(obs, deterministic=True)``), or a plain function ``obs -> action``.
Episode ``k`` resets the environment with ``seeds[k]``, so two policies evaluated on the same seeds
meet the same initial states and the same environment randomness.

    from deepfab.rl.evaluate import RandomPolicy, evaluate_policy, mean_interval
    make_env = env_factory("CartPole-v1")             # make_env(i) -> gym.make("CartPole-v1")
    ev = evaluate_policy(result.policy, make_env, seeds=range(1000, 1010))
    ev.mean, ev.low, ev.high, ev.returns          # 95 % t-interval of the mean return
    mean, low, high = mean_interval([r1, r2, r3])   # e.g. over training seeds
    steps, values = curve_on_grid(result.history, total_steps=50_000)   # smoothed learning curve
    runs = compare_agents({"PPO": ppo_trainer(cfg), "SB3 PPO": sb3_ppo_trainer(cfg)}, make_env, 50_000,
                          train_seeds=[0, 1], eval_seeds=range(1000, 1010))     # same steps, same eval seeds
    rows = summarize_runs(runs)

``sb3_ppo_trainer`` trains stable-baselines3's PPO with the hyperparameters of a ``PPOConfig`` (SB3's
value loss has no factor 1/2, so its ``vf_coef`` is halved to weigh the value error as CleanRL does;
SB3 does not clip the value update), the reference the lecture compares ``deepfab.rl.ppo`` with.

References: "Student" (W. S. Gosset), "The probable error of a mean", Biometrika 6, 1908; P. Henderson,
R. Islam, P. Bachman, J. Pineau, D. Precup, D. Meger, "Deep Reinforcement Learning that Matters", AAAI 2018
(report seeds and intervals).
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..errors import UsageError


class env_factory:
    """``make_env(i)`` for a registered gymnasium id: ``env_factory("CartPole-v1")(0)`` is ``gym.make("CartPole-v1")``.

    A class rather than a lambda so that it pickles and prints (``env_factory('CartPole-v1')``)."""

    def __init__(self, env_id: str, **kwargs):
        self.env_id, self.kwargs = env_id, kwargs

    def __call__(self, i: int = 0):
        import gymnasium as gym

        return gym.make(self.env_id, **self.kwargs)

    def __repr__(self) -> str:
        return f"env_factory({self.env_id!r})"


def mean_interval(values, level: float = 0.95) -> tuple[float, float, float]:
    """(mean, low, high): the Student-t interval of the mean of ``values`` (zero width for one value)."""
    from scipy import stats

    x = np.asarray(values, dtype=float).ravel()
    if x.size == 0 or not np.isfinite(x).all():
        raise UsageError(f"mean_interval needs at least one finite value; got {x.size} values {x[:5]}")
    if not 0 < level < 1:
        raise UsageError(f"level must be in (0, 1); got {level}")
    m = float(x.mean())
    if x.size == 1:
        return m, m, m
    half = float(stats.t.ppf((1 + level) / 2, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size))
    return m, m - half, m + half


class RandomPolicy:
    """Uniformly random actions from ``action_space`` (seeded); the baseline every agent must beat.

    With an action mask (``act(obs, action_mask=m)``) it draws uniformly among the allowed actions."""

    def __init__(self, action_space, seed: int = 0):
        self.n = int(action_space.n)
        self.rng = np.random.default_rng(seed)

    def act(self, obs, deterministic: bool = True, action_mask=None) -> int:
        allowed = np.arange(self.n) if action_mask is None else np.flatnonzero(np.asarray(action_mask, bool))
        return int(self.rng.choice(allowed))


@dataclass
class Evaluation:
    returns: np.ndarray       # (episodes,) undiscounted return of each episode
    lengths: np.ndarray       # (episodes,) steps of each episode
    seeds: list               # reset seed of each episode
    mean: float
    low: float                # Student-t interval of the mean return at ``level``
    high: float
    level: float = 0.95

    def as_dict(self) -> dict:
        return {"mean": self.mean, "low": self.low, "high": self.high, "episodes": len(self.seeds)}


def curve_on_grid(history: list, total_steps: int, points: int = 50, window: int = 20):
    """A learning curve on a fixed step grid: at each grid step the mean return of the last ``window``
    episodes finished by then (nan before the first); ``history`` is ``[{"step", "return"}, ...]``.

    Returns (steps (points,), values (points,)); runs with the same grid stack into (seeds, points)."""
    grid = np.linspace(total_steps / points, total_steps, points)
    steps = np.array([h["step"] for h in history], dtype=float)
    rets = np.array([h["return"] for h in history], dtype=float)
    values = np.full(points, np.nan)
    for j, g in enumerate(grid):
        n = int(np.searchsorted(steps, g, side="right"))     # episodes finished by step g (steps ascend)
        if n:
            values[j] = rets[max(0, n - window):n].mean()
    return grid, values


def _chooser(policy, deterministic: bool, mask_key: str | None):
    if hasattr(policy, "act"):
        if mask_key is None:
            return lambda obs, info: policy.act(obs, deterministic=deterministic)
        return lambda obs, info: policy.act(obs, deterministic=deterministic, action_mask=info[mask_key])
    if hasattr(policy, "predict"):                              # stable-baselines3: (action, state)
        return lambda obs, info: int(np.asarray(policy.predict(obs, deterministic=deterministic)[0]).item())
    if callable(policy):
        return lambda obs, info: policy(obs)
    raise UsageError(f"a policy has act(obs), predict(obs) or is a function of obs; got {type(policy).__name__}")


def evaluate_policy(policy, make_env, seeds=range(10), deterministic: bool = True, level: float = 0.95,
                    max_steps: int | None = None, mask_key: str | None = None) -> Evaluation:
    """Run one episode per seed with ``make_env(0)`` and return the returns and their t-interval.

    ``max_steps`` cuts an episode (on top of the environment's own time limit); ``mask_key`` passes
    ``info[mask_key]`` to ``policy.act`` as ``action_mask``.
    """
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise UsageError("evaluate_policy needs at least one seed; got none")
    choose = _chooser(policy, deterministic, mask_key)
    env = make_env(0)
    returns, lengths = [], []
    try:
        for s in seeds:
            obs, info = env.reset(seed=s)
            total, n, done = 0.0, 0, False
            while not done:
                obs, reward, term, trunc, info = env.step(choose(obs, info))
                total += float(reward)
                n += 1
                done = term or trunc or (max_steps is not None and n >= max_steps)
            returns.append(total)
            lengths.append(n)
    finally:
        env.close()
    mean, low, high = mean_interval(returns, level)
    return Evaluation(np.array(returns), np.array(lengths), seeds, mean, low, high, level)


def ppo_trainer(config=None):
    """A trainer ``(make_env, total_steps, seed) -> (policy, history)`` running ``deepfab.rl.ppo.train_ppo``."""
    from .ppo import train_ppo

    def train(make_env, total_steps, seed):
        res = train_ppo(make_env, total_steps, config, seed=seed)
        return res.policy, res.history
    return train


def dqn_trainer(config=None):
    """A trainer running ``deepfab.rl.dqn.train_dqn``."""
    from .dqn import train_dqn

    def train(make_env, total_steps, seed):
        res = train_dqn(make_env, total_steps, config, seed=seed)
        return res.policy, res.history
    return train


def sb3_ppo_trainer(config=None):
    """A trainer running stable-baselines3's PPO with the hyperparameters of a ``deepfab.rl.ppo.PPOConfig``."""
    from .ppo import PPOConfig

    cfg = (config or PPOConfig()).validate()

    def train(make_env, total_steps, seed):
        import torch
        from stable_baselines3 import PPO
        from stable_baselines3.common.callbacks import BaseCallback
        from stable_baselines3.common.logger import Logger
        from stable_baselines3.common.monitor import Monitor
        from stable_baselines3.common.vec_env import DummyVecEnv

        history = []

        class Episodes(BaseCallback):                          # Monitor puts a finished episode into info
            def _on_step(self) -> bool:
                for info in self.locals["infos"]:
                    if "episode" in info:
                        history.append({"step": int(self.num_timesteps), "return": float(info["episode"]["r"]),
                                        "length": int(info["episode"]["l"])})
                return True

        venv = DummyVecEnv([lambda i=i: Monitor(make_env(i)) for i in range(cfg.num_envs)])
        venv.seed(seed)                                        # env i reset with seed + i, as train_ppo
        lr = (lambda progress: progress * cfg.lr) if cfg.anneal_lr else cfg.lr   # progress runs 1 -> 0
        model = PPO("MlpPolicy", venv, learning_rate=lr, n_steps=cfg.num_steps,
                    batch_size=cfg.num_envs * cfg.num_steps // cfg.num_minibatches, n_epochs=cfg.update_epochs,
                    gamma=cfg.gamma, gae_lambda=cfg.gae_lambda, clip_range=cfg.clip_coef,
                    normalize_advantage=cfg.norm_adv, ent_coef=cfg.ent_coef, vf_coef=cfg.vf_coef / 2,
                    max_grad_norm=cfg.max_grad_norm, target_kl=cfg.target_kl, seed=seed, device=cfg.device,
                    policy_kwargs=dict(net_arch=dict(pi=[cfg.hidden] * 2, vf=[cfg.hidden] * 2),
                                       activation_fn=torch.nn.Tanh))
        model.set_logger(Logger(folder=None, output_formats=[]))   # no SB3-<date> folder left in the temp dir
        model.learn(total_timesteps=total_steps, callback=Episodes())
        venv.close()
        return model, history
    return train


def compare_agents(trainers: dict, make_env, total_steps: int, train_seeds, eval_seeds, level: float = 0.95) -> dict:
    """name -> one dict per training seed: ``seed``, ``history``, ``eval`` (an ``Evaluation`` on
    ``eval_seeds``, the same for every agent) and ``seconds`` of training. Each trainer is
    ``(make_env, total_steps, seed) -> (policy, history)``."""
    train_seeds, eval_seeds = [int(s) for s in train_seeds], [int(s) for s in eval_seeds]
    if not trainers or not train_seeds or not eval_seeds:
        raise UsageError(f"compare_agents needs trainers, train_seeds and eval_seeds; got {len(trainers)} trainers, "
                         f"{len(train_seeds)} training and {len(eval_seeds)} evaluation seeds")
    runs = {}
    for name, train in trainers.items():
        runs[name] = []
        for seed in train_seeds:
            t0 = time.perf_counter()
            policy, history = train(make_env, total_steps, seed)
            seconds = time.perf_counter() - t0
            runs[name].append({"seed": seed, "history": history, "seconds": seconds,
                               "eval": evaluate_policy(policy, make_env, eval_seeds, level=level)})
    return runs


def summarize_runs(runs: dict, level: float = 0.95) -> list[dict]:
    """One row per agent: the mean evaluation return over all (training seed, evaluation seed) episodes;
    ``low``/``high``, the t-interval over training seeds of each seed's mean (over the episodes when
    there is one training seed); the worst and best seed's mean; training seconds per seed."""
    rows = []
    for name, group in runs.items():
        per_seed = [r["eval"].mean for r in group]
        episodes = np.concatenate([r["eval"].returns for r in group])
        mean, low, high = mean_interval(per_seed if len(group) > 1 else episodes, level)
        rows.append({"agent": name, "mean": float(episodes.mean()), "low": low, "high": high,
                     "interval_over": "training seeds" if len(group) > 1 else "episodes",
                     "worst_seed": float(min(per_seed)), "best_seed": float(max(per_seed)),
                     "train_seeds": len(group), "episodes": int(episodes.size),
                     "train_seconds": float(np.mean([r["seconds"] for r in group]))})
    return rows


def random_runs(action_space, make_env, train_seeds, eval_seeds, level: float = 0.95) -> list[dict]:
    """The random policy's entries in the format of ``compare_agents`` (no training; one per seed)."""
    return [{"seed": int(s), "history": [], "seconds": 0.0,
             "eval": evaluate_policy(RandomPolicy(action_space, seed=int(s)), make_env, eval_seeds, level=level)}
            for s in train_seeds]
