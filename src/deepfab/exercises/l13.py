"""Worked solutions to the exercises of lecture 13 (reinforcement learning and fab dispatching).

    deepfab exercise L13 1 --smoke
"""
from __future__ import annotations

import numpy as np


def slack_per_operation(w, now: float) -> np.ndarray:
    """S/OPN: the lot's slack spread over the steps it still has to run (smallest first)."""
    return (w.due - now - w.rem_work) / np.maximum(w.rem_steps, 1)


def exercise_1(smoke: bool = False, seed: int = 0) -> dict:
    """Add a dispatching rule: slack per remaining operation (S/OPN) against EDD and minimum slack.

    A rule is a function of the waiting lots and the clock (deepfab.rl.rules). Write S/OPN,
    (due - now - remaining work) / remaining steps, add it to the environment's rules
    (FabDispatchEnv(rules=...), FIFO first) and compare it with EDD, MS and FIFO on the same evaluation
    seeds: the mean paired difference in tardiness and cost, with a 95 % interval."""
    from ..rl.dispatch import SMOKE_ENV, STUDY_ENV, compare, paired, rule_policy, summarize
    from ..rl.rules import RULES

    rules = {**RULES, "S/OPN": slack_per_operation}
    env = dict(SMOKE_ENV if smoke else STUDY_ENV, rules=rules)
    seeds = [seed, seed + 1] if smoke else [seed + k for k in range(5)]
    names = ("FIFO", "EDD", "MS", "S/OPN")
    runs = compare({n: rule_policy(n, rules) for n in names}, seeds, **env)
    rows = {r["policy"]: r for r in summarize(runs)}
    diffs = {(b, m): paired(runs, "S/OPN", b, m) for b in ("EDD", "MS") for m in ("mean_tardiness_h", "cost")}
    for n in names:
        print(f"{n:6s} tardiness {rows[n]['mean_tardiness_h']:.3f} h, cycle time {rows[n]['mean_cycle_time_h']:.2f} h, "
              f"cost {rows[n]['cost']:.2f} lots")
    for (b, m), d in diffs.items():
        verdict = "lower" if d["high"] < 0 else "higher" if d["low"] > 0 else "not distinguishable"
        print(f"S/OPN - {b} on {m}: {d['diff']:+.3f} [{d['low']:+.3f}, {d['high']:+.3f}] over {len(seeds)} seeds: "
              f"{verdict}")
    return {"mean_tardiness_h": {n: rows[n]["mean_tardiness_h"] for n in names},
            "cost": {n: rows[n]["cost"] for n in names},
            "sopn_minus": {f"{b}/{m}": d["diff"] for (b, m), d in diffs.items()}}


def exercise_2(smoke: bool = False, seed: int = 0) -> dict:
    """The discount decides the maintenance: solve the tool MDP for gamma from 0.3 to 0.99.

    In section 1 the degraded tool is maintained at gamma = 0.9. Solve the same MDP
    (deepfab.rl.mdp.tool_mdp) by value and by policy iteration for several discounts: from which
    gamma on is maintaining a degraded tool optimal, and how many sweeps does value iteration need
    against policy iteration's evaluations?"""
    from ..rl.mdp import policy_iteration, tool_mdp, value_iteration

    gammas = (0.3, 0.6, 0.9) if smoke else (0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99)
    rows = []
    for gamma in gammas:
        mdp = tool_mdp(gamma)
        vi, pi = value_iteration(mdp), policy_iteration(mdp)
        agree = bool(np.array_equal(vi.policy, pi.policy)) and float(np.max(np.abs(vi.V - pi.V))) < 1e-8
        action = mdp.actions[int(pi.policy[1])]
        rows.append({"gamma": gamma, "degraded": action, "vi_sweeps": vi.iterations, "pi_evaluations": pi.iterations,
                     "agree": agree})
        print(f"gamma {gamma:.2f}: degraded -> {action:8s} value iteration {vi.iterations:5d} sweeps, "
              f"policy iteration {pi.iterations} evaluations, same V* and policy: {agree}")
    maintain = [r["gamma"] for r in rows if r["degraded"] == "maintain"]
    first = min(maintain) if maintain else float("nan")
    above = all(r["degraded"] == "maintain" for r in rows if r["gamma"] >= first)
    print("maintaining a degraded tool was never optimal among the discounts tried" if not maintain else
          f"maintaining a degraded tool is optimal at gamma {first:g} "
          f"{'and at every larger discount tried' if above else 'but not at every larger discount tried'}")
    return {"first_gamma_maintain": first, "vi_sweeps": {f"{r['gamma']:g}": r["vi_sweeps"] for r in rows},
            "pi_evaluations": {f"{r['gamma']:g}": r["pi_evaluations"] for r in rows},
            "all_agree": float(all(r["agree"] for r in rows))}
