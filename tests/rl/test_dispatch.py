"""Policies against rules over paired seeds (lecture 13): intervals against scipy, pairing, the smoke study.

Run: .venv/bin/python -m pytest tests/rl/test_dispatch.py -q
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import stats

from deepfab.errors import UsageError
from deepfab.rl.dispatch import (
    TRAIN_SEED_BASE,
    best_rule,
    compare,
    paired,
    rule_policy,
    run_episode,
    study,
    summarize,
)
from deepfab.rl.fab import FabDispatchEnv
from deepfab.rl.rules import RULES

torch.set_num_threads(1)
SHORT = dict(warmup_days=0.25, horizon_days=0.3)


@pytest.fixture(scope="module")
def runs():
    return compare({"FIFO": rule_policy("FIFO"), "EDD": rule_policy("EDD"), "LWKR": rule_policy("LWKR")},
                   seeds=[0, 1, 2], **SHORT)


def test_rule_policy_runs_the_rules_slot_and_the_cost_is_the_return(runs):
    r = runs["EDD"][1]
    assert r["seed"] == 1 and r["slot_share"][list(RULES).index("EDD")] == 1.0
    env = FabDispatchEnv(**SHORT)
    obs, _ = env.reset(seed=1)
    total = 0.0
    while True:
        obs, rew, _, trunc, info = env.step(list(RULES).index("EDD"))
        total += rew
        if trunc:
            break
    assert r["return"] == pytest.approx(total, rel=1e-12)
    assert r["cost"] == pytest.approx(-total * env.reward_unit / (env.end - env.warmup))
    assert r["mean_cycle_time_h"] == info["metrics"]["mean_cycle_time_h"]
    assert 1.0 <= r["distinct"] <= len(RULES)


def test_every_policy_meets_the_same_lots(runs):
    # releases do not depend on dispatching: the same seed releases the same lots under every rule
    for k in range(3):
        assert len({runs[name][k]["released"] for name in runs}) == 1
    assert len({runs["FIFO"][k]["released"] for k in range(3)}) > 1


def test_summary_intervals_are_scipys_t_intervals(runs):
    rows = {r["policy"]: r for r in summarize(runs)}
    x = [r["mean_cycle_time_h"] for r in runs["EDD"]]
    low, high = stats.t.interval(0.95, len(x) - 1, loc=np.mean(x), scale=stats.sem(x))
    row = rows["EDD"]
    assert row["mean_cycle_time_h"] == pytest.approx(np.mean(x))
    assert (row["mean_cycle_time_h_low"], row["mean_cycle_time_h_high"]) == pytest.approx((low, high))


def test_paired_differences_and_best_rule(runs):
    d = paired(runs, "EDD", "FIFO", "mean_cycle_time_h")
    diff = [a["mean_cycle_time_h"] - b["mean_cycle_time_h"] for a, b in zip(runs["EDD"], runs["FIFO"])]
    assert np.std(diff) > 0
    low, high = stats.t.interval(0.95, 2, loc=np.mean(diff), scale=stats.sem(diff))
    assert (d["diff"], d["low"], d["high"]) == pytest.approx((np.mean(diff), low, high))
    means = {n: np.mean([r["cost"] for r in runs[n]]) for n in runs}
    assert best_rule(runs, "cost") == min(means, key=means.get)
    other = {"EDD": runs["EDD"][:2], "FIFO": runs["FIFO"][1:]}
    with pytest.raises(UsageError, match="same seeds"):
        paired(other, "EDD", "FIFO", "cost")


def test_bad_policies_and_seeds_are_usage_errors():
    with pytest.raises(UsageError, match="unknown dispatching rule"):
        rule_policy("LIFO")
    with pytest.raises(UsageError, match="act"):
        run_episode(42, 0, **SHORT)
    with pytest.raises(UsageError, match="training seeds"):
        study(seeds=(0, TRAIN_SEED_BASE), train_steps=8, smoke=True)


def test_smoke_study_trains_and_evaluates_on_the_same_seeds():
    from deepfab.rl.ppo import PPOConfig

    cfg = PPOConfig(num_envs=2, num_steps=32, num_minibatches=2, update_epochs=1)
    s = study(seeds=(0, 1), train_steps=64, seed=0, smoke=True, config=cfg, env_kwargs=dict(horizon_days=0.25))
    names = [r["policy"] for r in s.table]
    assert names == [*RULES, "random", "PPO"]
    assert all([r["seed"] for r in s.runs[n]] == [0, 1] for n in names)
    assert set(s.train_seeds) == {TRAIN_SEED_BASE, TRAIN_SEED_BASE + 1} and s.train_steps == 64
    assert {p["metric"] for p in s.paired} == {"mean_cycle_time_h", "mean_tardiness_h", "throughput_per_day", "cost"}
    v = s.verdict["cost"]
    assert v["best_rule"] in RULES and not (v["ppo_better"] and v["ppo_worse"])
    assert sum(s.verdict["ppo_slot_share"].values()) == pytest.approx(1.0)
    for row in s.table:
        assert row["mean_cycle_time_h_low"] <= row["mean_cycle_time_h"] <= row["mean_cycle_time_h_high"]
    import matplotlib.pyplot as plt

    from deepfab.rl.fab_plots import study_figure

    fig = study_figure(s)
    assert len(fig.axes) == 4 and len(fig.axes[0].patches) == len(names)
    plt.close(fig)


def test_a_rule_of_your_own_gets_a_slot_and_runs_like_a_shipped_one():
    mine = {**RULES, "EDD again": RULES["EDD"]}             # a new rule that happens to be EDD
    runs = compare({"EDD": rule_policy("EDD", mine), "EDD again": rule_policy("EDD again", mine)}, seeds=[3],
                   rules=mine, **SHORT)
    assert FabDispatchEnv(rules=mine, **SHORT).action_space.n == len(RULES) + 1
    assert runs["EDD"][0]["cost"] == runs["EDD again"][0]["cost"]
    assert runs["EDD"][0]["slot_share"][list(mine).index("EDD")] == 1.0
    with pytest.raises(UsageError, match="FIFO first"):
        FabDispatchEnv(rules={"EDD": RULES["EDD"]})
    with pytest.raises(UsageError, match="unknown dispatching rule"):
        rule_policy("S/OPN")
