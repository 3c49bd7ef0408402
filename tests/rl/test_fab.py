"""``deepfab/FabDispatch-v0`` and its simulator (lecture 13): SMT2020 data, invariants, gymnasium's checker, seeds.

Invariants are checked by brute force over a recorded trace: lots are conserved, no lot leaves
faster than its raw processing time, no tool runs two lots at once, and the busiest group runs at
the utilization asked for. A constant action ``k`` must be exactly rule ``k`` run on the bare
simulator.

Run: .venv/bin/python -m pytest tests/rl/test_fab.py -q
"""
from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import deepfab.rl  # noqa: F401  (registers the environment)
from deepfab.data import load_smt2020
from deepfab.errors import UsageError
from deepfab.rl.fab import DEFAULT_SECTION, FabDispatchEnv, build_section
from deepfab.rl.fab_sim import FabSim
from deepfab.rl.rules import RULES, pick

SHORT = dict(warmup_days=0.5, horizon_days=1.0)


def run_sim(section, seed, end, rule="FIFO", scale=1.0, **kw) -> FabSim:
    sim = FabSim(section, seed, end, scale, record=True, **kw)
    while (g := sim.next_decision()) is not None:
        sim.start(g, pick(RULES[rule], sim.waiting(g), sim.now))
    return sim


def test_section_is_smt2020s_data():
    fab = load_smt2020("HVLM")
    s = build_section("HVLM")
    tools = fab.tools.set_index("STNFAM").STNQTY
    assert s.groups == DEFAULT_SECTION["HVLM"]
    np.testing.assert_array_equal(s.tools, [tools[g] for g in s.groups])
    for p, (part, route) in enumerate(zip(fab.parts.PART, fab.parts.ROUTE)):
        r = fab.routes[route]
        on = r[r.STNFAM.isin(s.groups)]
        assert s.products[p] == part and len(s.routes[p].group) == len(on) > 0
        expect = on.PTIME.to_numpy(float) * np.where(on.PTPER == "per_piece", 25, 1)
        np.testing.assert_allclose(s.routes[p].ptime, expect)
        np.testing.assert_array_equal([s.groups[g] for g in s.routes[p].group], on.STNFAM.to_list())
    # order mix: one lot of each product every 51.69 minutes, hot lots every 2016 minutes
    np.testing.assert_allclose(sorted(s.order_rate)[-2:], [1 / 51.69] * 2)
    assert s.order_hot.sum() == 3


def test_batch_tool_groups_and_bad_kwargs_are_refused():
    with pytest.raises(UsageError, match="batch"):
        build_section("HVLM", ("Diffusion_FE_120",))
    with pytest.raises(UsageError, match="STNFAM"):
        build_section("HVLM", ("no_such_group",))
    with pytest.raises(UsageError, match="fab must be"):
        FabDispatchEnv(fab="XYZ")
    for kw in (dict(utilization=1.2), dict(utilization="0.9"), dict(horizon_days=0), dict(warmup_days=-1),
               dict(due_factor=0), dict(tardiness_weight=-1)):
        with pytest.raises(UsageError, match=list(kw)[0]):
            FabDispatchEnv(**kw)
    env = FabDispatchEnv(**SHORT)
    with pytest.raises(UsageError, match="reset"):
        env.step(0)
    env.reset(seed=0)
    with pytest.raises(UsageError, match="action must be"):
        env.step(6)


def test_gymnasium_env_checker_and_registration():
    env = gym.make("deepfab/FabDispatch-v0", warmup_days=0.25, horizon_days=0.25)
    check_env(env.unwrapped)
    assert env.action_space.n == len(RULES)
    obs, _ = env.reset(seed=0)
    assert env.observation_space.contains(obs)


def test_same_seed_same_trajectory_and_different_seed_differs():
    def trajectory(seed):
        env = FabDispatchEnv(**SHORT)
        obs, _ = env.reset(seed=seed)
        rng = np.random.default_rng(0)
        out = [obs]
        while True:
            obs, r, term, trunc, info = env.step(int(rng.integers(env.n_slots)))
            out.append(np.append(obs, r))
            if trunc:
                return np.concatenate(out), info["metrics"]
    a, ma = trajectory(3)
    b, mb = trajectory(3)
    c, _ = trajectory(4)
    np.testing.assert_array_equal(a, b)
    assert ma == mb
    assert len(a) != len(c) or not np.array_equal(a, c)


def test_invariants_by_brute_force():
    s = build_section("HVLM")
    env = FabDispatchEnv()
    sim = run_sim(s, seed=1, end=3 * 1440.0, rule="SPT", scale=env.scale)
    n = sim.n
    m = sim.metrics()
    in_queues = sum(len(q) for q in sim.queue)
    on_tools = int((sim.busy >= 0).sum())
    assert m["released"] == n == m["completed"] + sim.wip and sim.wip == in_queues + on_tools > 0
    done = ~np.isnan(sim.done[:n])
    ct = sim.done[:n][done] - sim.release[:n][done]
    assert (ct >= sim.raw[:n][done] - 1e-9).all() and (ct > sim.raw[:n][done] + 1e-6).any()
    trace = np.array(sim.trace)                                  # (starts, 4): tool, lot, start, end
    for tool in np.unique(trace[:, 0]):
        t = trace[trace[:, 0] == tool]
        t = t[np.argsort(t[:, 2])]
        assert (t[1:, 2] >= t[:-1, 3] - 1e-9).all()              # next start after the previous end
        assert sim.tool_group[int(tool)] == sim.tool_group[int(t[0, 0])]
    # the busiest group is busy about `utilization` of the time (measured after a day of warm-up)
    busy = np.zeros(len(s.groups))
    for tool, _lot, a, b in trace:
        busy[sim.tool_group[int(tool)]] += max(0.0, min(b, sim.now) - max(a, 1440.0))
    util = busy / (s.tools * (sim.now - 1440.0))
    assert abs(util.max() - 0.95) < 0.08, util


def test_breakdowns_take_tools_down_and_keep_invariants():
    s = build_section("HVLM")
    on = run_sim(s, seed=2, end=3 * 1440.0, breakdowns=True, scale=FabDispatchEnv().scale)
    off = run_sim(s, seed=2, end=3 * 1440.0, breakdowns=False, scale=FabDispatchEnv().scale)
    assert on.metrics()["completed"] + on.wip == on.n
    assert on.metrics()["mean_cycle_time_h"] > off.metrics()["mean_cycle_time_h"]


@pytest.mark.parametrize("rule", ["SPT", "EDD", "CR"])
def test_constant_action_is_the_rule(rule):
    env = FabDispatchEnv(**SHORT)
    env.reset(seed=5)
    k = list(RULES).index(rule)
    total = 0.0
    while True:
        _, r, _, trunc, info = env.step(k)
        total += r
        if trunc:
            break
    # the same episode on the bare simulator: FIFO warm-up, then the rule
    env2 = FabDispatchEnv(**SHORT)
    env2.reset(seed=5)
    sim = FabSim(env.section, env2.sim_seed, env.end, env.scale)
    while (g := sim.next_decision()) is not None:
        sim.start(g, 0 if sim.now < env.warmup else pick(RULES[rule], sim.waiting(g), sim.now))
    expect, got = sim.metrics(since=env.warmup), info["metrics"]
    assert expect.pop("decisions") > got.pop("decisions") > 0       # the bare run also counts the warm-up's
    assert expect == got
    np.testing.assert_allclose(-total * env.reward_unit, sim.cost() - env2.last_cost, rtol=1e-9)
