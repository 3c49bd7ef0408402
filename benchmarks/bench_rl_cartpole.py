"""CartPole-v1: deepfab's DQN and PPO against stable-baselines3's PPO at equal steps, and against
CleanRL's published returns (lecture 13).

Every agent trains for ``--steps`` environment steps once per training seed (``--seeds``); every
trained policy is evaluated greedily on the same ``--episodes`` evaluation seeds (1000, 1001, ...),
as is the random policy. Printed per agent: the mean evaluation return with a 95 % t-interval over
training seeds, the worst and best seed, training seconds, and the ratio to CleanRL's published
return at 500k steps (DQN 488.7 +- 16.1, PPO 492.4 +- 13.1; Huang et al. 2022). PPO runs CleanRL's
hyperparameters (``--ppo-lr`` overrides the learning rate; CleanRL's 2.5e-4 is tuned for 500k
steps), SB3's PPO the same ones (``deepfab.rl.evaluate.sb3_ppo_trainer``), DQN CleanRL's with the
first update at 10 % of the run and epsilon falling over half of it.

    MPLBACKEND=Agg .venv/bin/python benchmarks/bench_rl_cartpole.py [--steps 30000] [--seeds 0 1 2]
        [--episodes 20] [--agents PPO "SB3 PPO" DQN] [--ppo-lr 1e-3] [--threads 1] [--json out.json]
    MPLBACKEND=Agg .venv/bin/python benchmarks/bench_rl_cartpole.py --steps 500000 --ppo-lr 2.5e-4   # CleanRL's budget

About 1.5 minutes per agent and seed at 30k steps on a loaded 2-core CPU; 500k steps take hours.

References: S. Huang et al., "CleanRL: High-quality Single-file Implementations of Deep Reinforcement
Learning Algorithms", JMLR 23(274), 2022; A. Raffin et al., "Stable-Baselines3: Reliable Reinforcement
Learning Implementations", JMLR 22(268), 2021.
"""
from __future__ import annotations

import argparse
import json

import torch

from deepfab.rl.dqn import DQNConfig
from deepfab.rl.evaluate import (
    compare_agents,
    dqn_trainer,
    env_factory,
    ppo_trainer,
    random_runs,
    sb3_ppo_trainer,
    summarize_runs,
)
from deepfab.rl.ppo import PPOConfig

PUBLISHED = {"PPO": (492.4, 13.1), "SB3 PPO": (492.4, 13.1), "DQN": (488.7, 16.1)}   # CleanRL, 500k steps


def main(argv=None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=30_000)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--episodes", type=int, default=20)
    ap.add_argument("--agents", nargs="+", default=["PPO", "SB3 PPO", "DQN"], choices=["PPO", "SB3 PPO", "DQN"])
    ap.add_argument("--ppo-lr", type=float, default=1e-3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    make_env = env_factory("CartPole-v1")
    ppo_cfg = PPOConfig(lr=args.ppo_lr)
    dqn_cfg = DQNConfig(learning_starts=args.steps // 10, exploration_fraction=0.5)
    trainers = {"PPO": ppo_trainer(ppo_cfg), "SB3 PPO": sb3_ppo_trainer(ppo_cfg), "DQN": dqn_trainer(dqn_cfg)}
    eval_seeds = range(1000, 1000 + args.episodes)
    runs = compare_agents({a: trainers[a] for a in args.agents}, make_env, args.steps, args.seeds, eval_seeds)
    runs["random"] = random_runs(make_env(0).action_space, make_env, args.seeds, eval_seeds)
    rows = summarize_runs(runs)
    print(f"CartPole-v1, {args.steps} steps per agent and seed, training seeds {args.seeds}, "
          f"{args.episodes} evaluation episodes (seeds {eval_seeds.start}..{eval_seeds.stop - 1}), "
          f"{args.threads} torch thread(s)")
    print(f"{'agent':>8} {'mean':>7} {'95% interval':>17} {'worst':>7} {'best':>7} {'train s':>8}  vs CleanRL @500k")
    for r in rows:
        ref = PUBLISHED.get(r["agent"])
        versus = f"{r['mean'] / ref[0]:.2f} of {ref[0]} +- {ref[1]}" if ref else ""
        r["cleanrl_ratio"] = r["mean"] / ref[0] if ref else None
        print(f"{r['agent']:>8} {r['mean']:7.1f} [{r['low']:6.1f}, {r['high']:6.1f}] {r['worst_seed']:7.1f} "
              f"{r['best_seed']:7.1f} {r['train_seconds']:8.1f}  {versus}")
    by = {r["agent"]: r for r in rows}
    if "PPO" in by and "SB3 PPO" in by:
        print(f"PPO - SB3 PPO: {by['PPO']['mean'] - by['SB3 PPO']['mean']:+.1f} (same steps, hyperparameters and "
              f"evaluation seeds)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "rows": rows}, f, indent=1)
    return rows


if __name__ == "__main__":
    main()
