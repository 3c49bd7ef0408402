"""Dispatching rules (lecture 13): their picks by hand, and single-machine optimality against brute force.

SPT minimizes the mean flow time of jobs released together on one machine (Smith 1956) and EDD
minimizes their maximum lateness (Jackson 1955): the simulator run under each rule is compared
with the best of all n! orders.

Run: .venv/bin/python -m pytest tests/rl/test_rules.py -q
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from deepfab.errors import UsageError
from deepfab.rl.fab_sim import FabSim, Route, Section
from deepfab.rl.rules import RULES, Waiting, get_rule, pick


def one_machine(ptimes) -> Section:
    """One tool group with one tool; product i is a single step of ptimes[i] minutes, no randomness."""
    routes = tuple(Route(np.array([0]), np.array([float(p)]), np.array([0.0]), np.array([1.0])) for p in ptimes)
    n = len(ptimes)
    return Section(("M",), np.array([1]), routes, tuple(f"p{i}" for i in range(n)), np.arange(n),
                   np.full(n, 1e-3), np.ones(n), np.zeros(n))


def simulate(rule: str, ptimes, dues) -> tuple[np.ndarray, np.ndarray]:
    """Completion times and due dates of jobs all released at 0, dispatched by ``rule``."""
    sim = FabSim(one_machine(ptimes), seed=0, end=1e9, releases=[(0.0, i, d) for i, d in enumerate(dues)])
    while (g := sim.next_decision()) is not None:
        sim.start(g, pick(RULES[rule], sim.waiting(g), sim.now))
    assert sim.metrics()["completed"] == len(ptimes)
    return sim.done[:len(ptimes)], np.asarray(dues, float)


def brute_force(ptimes, dues):
    """(min mean flow time, max mean flow time, min max lateness) over all orders on one machine."""
    flows, lateness = [], []
    for order in itertools.permutations(range(len(ptimes))):
        c = np.cumsum(np.asarray(ptimes, float)[list(order)])
        flows.append(c.mean())
        lateness.append((c - np.asarray(dues, float)[list(order)]).max())
    return min(flows), max(flows), min(lateness)


def test_rules_pick_by_hand():
    w = Waiting(enter=np.array([0.0, 5.0, 7.0]), ptime=np.array([30.0, 10.0, 20.0]), due=np.array([500.0, 90.0, 80.0]),
                rem_work=np.array([300.0, 40.0, 70.0]), rem_steps=np.array([6, 2, 3]))
    now = 20.0
    assert pick(RULES["FIFO"], w, now) == 0
    assert pick(RULES["SPT"], w, now) == 1
    assert pick(RULES["EDD"], w, now) == 2
    assert pick(RULES["LWKR"], w, now) == 1
    # CR = (due - now) / remaining work: 480/300 = 1.6, 70/40 = 1.75, 60/70 = 0.857
    np.testing.assert_allclose(RULES["CR"](w, now), [1.6, 1.75, 60 / 70])
    assert pick(RULES["CR"], w, now) == 2
    # slack = due - now - remaining work: 180, 30, -10
    np.testing.assert_allclose(RULES["MS"](w, now), [180.0, 30.0, -10.0])
    assert pick(RULES["MS"], w, now) == 2


def test_ties_go_to_the_earliest_arrival():
    w = Waiting(np.array([1.0, 2.0, 3.0]), np.array([10.0, 5.0, 5.0]), np.array([9.0, 9.0, 9.0]),
                np.ones(3), np.ones(3))
    assert pick(RULES["SPT"], w, 0.0) == 1
    assert pick(RULES["EDD"], w, 0.0) == 0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_spt_minimizes_mean_flow_time_on_one_machine(seed):
    rng = np.random.default_rng(seed)
    ptimes = rng.integers(5, 100, size=6).astype(float)
    dues = rng.uniform(50, 400, size=6)
    best, worst, _ = brute_force(ptimes, dues)
    assert worst > best + 1.0                 # the order matters on this instance
    done, _ = simulate("SPT", ptimes, dues)
    np.testing.assert_allclose(done.mean(), best, rtol=1e-12)
    fifo, _ = simulate("FIFO", ptimes, dues)  # release order: in general worse
    assert fifo.mean() >= best - 1e-9


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_edd_minimizes_maximum_lateness_on_one_machine(seed):
    rng = np.random.default_rng(10 + seed)
    ptimes = rng.integers(5, 100, size=6).astype(float)
    dues = rng.uniform(20, 300, size=6)
    _, _, best = brute_force(ptimes, dues)
    done, due = simulate("EDD", ptimes, dues)
    np.testing.assert_allclose((done - due).max(), best, rtol=1e-12)
    spt, due = simulate("SPT", ptimes, dues)
    assert (spt - due).max() >= best - 1e-9


def test_unknown_rule_is_a_usage_error():
    assert get_rule("EDD") is RULES["EDD"]
    with pytest.raises(UsageError, match="unknown dispatching rule 'LIFO'"):
        get_rule("LIFO")
