"""How fast is ``deepfab/FabDispatch-v0``? Dispatching decisions per second with a random and a FIFO policy,
against the bare simulator dispatching FIFO with no observations (lecture 13).

Each policy runs whole episodes of the default HVLM section (``--days`` of simulated time after the
warm-up) from seeds 0, 1, ...; the time counts ``step`` only (``reset`` with its warm-up is timed
apart). The bare simulator (``deepfab.rl.fab_sim.FabSim``) makes the same kind of decisions without
building observations, candidate slots or rewards: ``env / bare`` is the environment's overhead.
Times are CPU seconds of this process (``time.process_time``), so other load on the machine
inflates them less than wall time; the ratio is what to compare across machines.

    MPLBACKEND=Agg .venv/bin/python benchmarks/bench_fab_env.py [--episodes 3] [--days 3] [--json out.json]

About 20 s on a 2-core CPU. References: D. Kopp et al., "SMT2020 -- A Semiconductor Manufacturing
Testbed", IEEE TSM 33(4), 2020.
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np

from deepfab.rl.fab import FabDispatchEnv
from deepfab.rl.fab_sim import FabSim


def env_rate(policy: str, episodes: int, days: float) -> dict:
    env = FabDispatchEnv(horizon_days=days)
    rng = np.random.default_rng(0)
    steps, step_s, reset_s = 0, 0.0, 0.0
    for seed in range(episodes):
        t = time.process_time()
        env.reset(seed=seed)
        reset_s += time.process_time() - t
        t = time.process_time()
        while True:
            a = int(rng.integers(env.n_slots)) if policy == "random" else 0
            _, _, _, truncated, _ = env.step(a)
            steps += 1
            if truncated:
                break
        step_s += time.process_time() - t
    return {"decisions": steps, "per_second": steps / step_s, "reset_seconds": reset_s / episodes}


def bare_rate(episodes: int, days: float) -> dict:
    env = FabDispatchEnv(horizon_days=days)
    steps, seconds = 0, 0.0
    for seed in range(episodes):
        t = time.process_time()
        sim = FabSim(env.section, seed, env.end, env.scale)
        while (g := sim.next_decision()) is not None:
            sim.start(g, 0)
        seconds += time.process_time() - t
        steps += sim.decisions
    return {"decisions": steps, "per_second": steps / seconds}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--episodes", type=int, default=3)
    ap.add_argument("--days", type=float, default=3.0)
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    out = {"random": env_rate("random", args.episodes, args.days), "FIFO": env_rate("FIFO", args.episodes, args.days),
           "bare FIFO": bare_rate(args.episodes, args.days)}
    for name, r in out.items():
        extra = f", reset {r['reset_seconds']:.3f} s" if "reset_seconds" in r else ""
        print(f"{name:10s} {r['decisions']:7d} decisions, {r['per_second']:8.0f} decisions/s (CPU){extra}")
    out["env_over_bare"] = out["bare FIFO"]["per_second"] / out["FIFO"]["per_second"]
    print(f"env / bare: {out['env_over_bare']:.2f}x the CPU time per decision (observation, slots, reward)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)
    return out


if __name__ == "__main__":
    main()
