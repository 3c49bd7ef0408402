"""``deepfab/FabDispatch-v0``: which waiting lot a free tool runs next, in a section of an SMT2020 fab (lecture 13).

The environment simulates a fab section (a set of SMT2020 tool groups, STNFAM, with their real
tool counts) with ``deepfab.rl.fab_sim``. Lots of the fab's real products follow their real routes,
restricted to the steps on the section's tool groups, with the route tables' processing times
(PTIME in PTUNITS; per piece times 25 wafers a lot) and metrology sampling (StepPercent). Lots are
released by the fab's order mix (order.txt: regular, hot and super-hot lots of each product), as a
Poisson stream scaled so that the busiest group of the section runs at ``utilization``. A lot's due
date is its release plus its order type's SMT2020 flow factor (order due offset over the full
route's raw processing time) times its raw processing time in the section, times ``due_factor``:
those flow factors (about 2.1 for regular lots, 1.35 for hot lots) are for the whole fab, where a lot
queues at a hundred tool groups; in one section they are never missed, so the default 0.7 tightens
them until due dates bind (under FIFO about half the lots finish late).

    import gymnasium as gym, deepfab.rl  # noqa: F401
    env = gym.make("deepfab/FabDispatch-v0", utilization=0.95, horizon_days=3.0)
    obs, info = env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(1)    # run the lot SPT would pick
    info["metrics"]  # at the end: mean_cycle_time_h, mean_tardiness_h, late_share, throughput_per_day

Decision epoch: a tool is free and at least two lots wait for its group (one waiting lot starts
by itself). Action: an index into ``len(rules)`` candidate slots (``rules`` defaults to ``RULES``; a dict
of your own adds a rule, FIFO first); slot ``k`` holds the lot rule ``k``
(FIFO, SPT, EDD, CR, MS, LWKR) would pick. Slots are not de-duplicated, so the constant action ``k``
is exactly rule ``k``, and every action is valid. Observation (float32, clipped to [-10, 10]): per
slot the lot's waiting time and step time (over the group's mean step time), slack and remaining
work (over the mean raw time in the section), critical ratio, share of its section steps left, a
hot-lot flag; then the queue length and idle tools over the group's tools, section WIP over all
tools, share of the queue already late, and the group one-hot. Reward: minus the increase, since
the last decision, of lot-minutes in the section plus ``tardiness_weight`` times lot-minutes past
due, over the mean step time times the number of tools: its sum is minus the summed cycle time (plus
weighted tardiness) in those units.
Episode: ``reset`` runs ``warmup_days`` under FIFO (every policy starts from the same state for a
seed), then the agent dispatches for ``horizon_days``; the episode is truncated at the end, and
the metrics in the final ``info`` are over the lots completed after the warm-up.

Simplifications against SMT2020: no batching (sections with batch steps, the diffusion furnaces,
are refused), no setups, no rework, no transport times, no preventive maintenance; breakdowns
(exponential MTTF/MTTR per area from downcal.txt) only with ``breakdowns=True`` and then
non-preemptive (a failing tool finishes its lot first); steps outside the section take no time;
hot lots have no priority of their own beyond their tighter due dates.

References: D. Kopp, M. Hassoun, A. Kalir, L. Moench, "SMT2020 -- A Semiconductor Manufacturing
Testbed", IEEE TSM 33(4), 2020. J. R. Jackson 1955 and W. E. Smith 1956 (see ``rules``).
"""
from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

import gymnasium as gym
import numpy as np

from ..data import load_smt2020
from ..data.smt2020 import SMT2020_FABS
from ..errors import DataError, UsageError
from .fab_sim import DUE, ENTER, HOT, PTIME, REM_STEPS, REM_WORK, FabSim, Route, Section
from .rules import RULES, Waiting

DAY = 1440.0
PIECES = 25                     # wafers per lot in SMT2020's orders
UNITS = {"sec": 1 / 60, "min": 1.0, "hr": 60.0, "hour": 60.0}
# single-lot tool groups with few tools and widely varying step times (dry etch, defect metrology)
DEFAULT_SECTION = {"HVLM": ("DE_FE_72", "DE_BE_50", "DefMet_FE_10", "DefMet_FE_34", "DefMet_FE_43"),
                   "LVHM": ("DE_FE_72", "DE_BE_50", "DefMet_FE_10", "DefMet_FE_34", "DefMet_FE_43")}
SLOT_FEATURES = 7


def _minutes(route) -> np.ndarray:
    unit = route.PTUNITS.map(lambda u: UNITS.get(str(u).strip().lower(), np.nan)).to_numpy(float)
    per_piece = (route.PTPER == "per_piece").to_numpy()
    return route.PTIME.to_numpy(float) * unit * np.where(per_piece, PIECES, 1)


@lru_cache(maxsize=16)
def build_section(fab: str = "HVLM", tool_groups: tuple | None = None) -> Section:
    """The ``Section`` of SMT2020 ``fab`` made of ``tool_groups`` (STNFAM names; default ``DEFAULT_SECTION``)."""
    import pandas as pd

    if fab not in SMT2020_FABS:
        raise UsageError(f"fab must be one of {', '.join(SMT2020_FABS)}; got {fab!r}")
    data = load_smt2020(fab)
    groups = tuple(DEFAULT_SECTION[fab] if tool_groups is None else tool_groups)
    tools = data.tools.set_index("STNFAM")
    unknown = [g for g in groups if g not in tools.index]
    if not groups or unknown or len(set(groups)) != len(groups):
        raise UsageError(f"tool_groups must be distinct STNFAM names of {fab}; got {list(groups)}")
    index = {g: i for i, g in enumerate(groups)}
    routes, products, raw_full = [], [], []
    for part, route_name in zip(data.parts.PART, data.parts.ROUTE):
        r = data.routes[route_name]
        visit = np.where(r.StepPercent.notna(), r.StepPercent.astype(float) / 100, 1.0)
        minutes = _minutes(r)
        raw_full.append(float((minutes * visit).sum()))
        m = r.STNFAM.isin(index).to_numpy()
        batch = sorted(set(r.STNFAM[m & (r.PTPER == "per_batch").to_numpy()]))
        if batch:
            raise UsageError(f"tool_groups must be single-lot tools (batching is not simulated); "
                             f"got batch groups {batch}")
        if np.isnan(minutes[m]).any():
            raise DataError(f"{route_name}: PTUNITS must be one of {', '.join(UNITS)}; got {sorted(set(r.PTUNITS[m]))}")
        spread = (r.PTIME2.fillna(0).astype(float) / r.PTIME.astype(float)).to_numpy()
        routes.append(Route(np.array([index[g] for g in r.STNFAM[m]], dtype=int), minutes[m], spread[m], visit[m]))
        products.append(part)
    o = data.orders
    fmt = "%m/%d/%y %H:%M:%S"
    offset = (pd.to_datetime(o.DUE, format=fmt) - pd.to_datetime(o.START, format=fmt)).dt.total_seconds() / 60
    prod = np.array([products.index(p) for p in o.PART])
    unit = o.RUNITS.map(lambda u: UNITS.get(str(u).strip().lower(), np.nan)).to_numpy(float)
    rate = 1.0 / (o.REPEAT.to_numpy(float) * unit)                          # lots per minute of each order type
    flow = offset.to_numpy(float) / np.array([raw_full[p] for p in prod])
    used = np.array([len(routes[p].group) > 0 for p in prod])
    if not used.any():
        raise UsageError(f"tool_groups must hold steps of {fab}'s routes; got {list(groups)} with none")
    area = tools.STNGRP.reindex(groups).to_numpy()
    down = data.breakdowns.set_index("DOWNCALNAME")
    mttf = np.array([float(down.MTTF.get(f"BREAK_{a}", np.inf)) for a in area])
    mttr = np.array([float(down.MTTR.get(f"BREAK_{a}", 0.0)) for a in area])
    return Section(groups, tools.STNQTY.reindex(groups).to_numpy(int), tuple(routes), tuple(products),
                   prod[used], rate[used], flow[used], (o.PRIOR.to_numpy(float)[used] > 10).astype(float),
                   mttf, mttr)


class FabDispatchEnv(gym.Env):
    """Dispatching in an SMT2020 fab section; see the module docstring for spaces, reward and episode."""

    metadata = {"render_modes": []}

    def __init__(self, fab: str = "HVLM", tool_groups=None, utilization: float = 0.95, warmup_days: float = 2.0,
                 horizon_days: float = 5.0, due_factor: float = 0.7, tardiness_weight: float = 1.0,
                 breakdowns: bool = False, rules: dict | None = None, render_mode=None):
        checks = [("utilization", utilization, lambda v: 0 < v < 1, "in (0, 1)"),
                  ("warmup_days", warmup_days, lambda v: v >= 0, ">= 0"),
                  ("horizon_days", horizon_days, lambda v: v > 0, "> 0"),
                  ("due_factor", due_factor, lambda v: v > 0, "> 0"),
                  ("tardiness_weight", tardiness_weight, lambda v: v >= 0, ">= 0")]
        for name, value, ok, rule in checks:
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not ok(value):
                raise UsageError(f"{name} must be a number {rule}; got {value!r}")
        if render_mode is not None:
            raise UsageError(f"FabDispatch-v0 does not render; got render_mode={render_mode!r}")
        if isinstance(tool_groups, str):
            tool_groups = (tool_groups,)
        self.section = build_section(fab, None if tool_groups is None else tuple(tool_groups))
        s = self.section
        base = s.loads().max()
        self.scale = float(utilization / base)
        self.warmup, self.end = warmup_days * DAY, (warmup_days + horizon_days) * DAY
        self.tardiness_weight, self.breakdowns = float(tardiness_weight), bool(breakdowns)
        if due_factor != 1.0:
            self.section = s = replace(s, order_flow=s.order_flow * due_factor)
        w = np.concatenate([s.order_rate[i] * s.routes[p].visit for i, p in enumerate(s.order_product)])
        t = np.concatenate([s.routes[p].ptime for p in s.order_product])
        g = np.concatenate([s.routes[p].group for p in s.order_product])
        self.mean_step = float((w * t).sum() / w.sum())                       # minutes
        self.group_step = np.array([(w * t)[g == k].sum() / max(w[g == k].sum(), 1e-12) for k in range(len(s.groups))])
        raw = np.array([s.raw_time(p) for p in s.order_product])
        self.mean_raw = float((s.order_rate * raw).sum() / s.order_rate.sum())
        self.reward_unit = self.mean_step * float(s.tools.sum())              # step-minutes of all tools
        self.max_steps = max(len(s.routes[p].group) for p in s.order_product)
        rules = dict(RULES if rules is None else rules)
        if not rules or next(iter(rules)) != "FIFO" or not all(callable(r) for r in rules.values()):
            raise UsageError(f"rules must map names to rule functions, FIFO first (slot 0 is the queue head); "
                             f"got {list(rules) if isinstance(rules, dict) else rules!r}")
        self.rule_names, self.rules = list(rules), list(rules.values())
        self.n_slots = len(self.rules)
        n_obs = self.n_slots * SLOT_FEATURES + 4 + len(s.groups)
        self.action_space = gym.spaces.Discrete(self.n_slots)
        self.observation_space = gym.spaces.Box(-10.0, 10.0, shape=(n_obs,), dtype=np.float32)
        self.sim, self.group, self.slots = None, None, None

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.sim_seed = int(self.np_random.integers(2**63 - 1))
        self.sim = FabSim(self.section, self.sim_seed, self.end, self.scale,
                          breakdowns=self.breakdowns, tardiness_weight=self.tardiness_weight)
        g = self.sim.next_decision()
        while g is not None and self.sim.now < self.warmup:
            self.sim.start(g, 0)                       # FIFO: the queue is in arrival order
            g = self.sim.next_decision()
        self.sim.decisions = 0
        self.group, self.last_cost = g, self.sim.cost()
        return self._observe(), {}

    def _observe(self) -> np.ndarray:
        obs = np.zeros(self.observation_space.shape, np.float32)
        g, sim = self.group, self.sim
        if g is None:
            self.slots = [0] * self.n_slots
            return obs
        now, q = sim.now, sim.queue[g]
        lots = sim.lot[q]                                                        # (n, 6) waiting lots
        w = Waiting(lots[:, ENTER], lots[:, PTIME], lots[:, DUE], lots[:, REM_WORK], lots[:, REM_STEPS])
        self.slots = [0] + [int(np.argmin(rule(w, now))) for rule in self.rules[1:]]  # (K,); FIFO: the head
        c = lots[self.slots]                                                     # (K, 6) candidate lots
        rem = np.maximum(c[:, REM_WORK], 1e-9)
        f = np.empty((self.n_slots, SLOT_FEATURES))                              # (K, F)
        f[:, 0] = (now - c[:, ENTER]) / self.group_step[g]
        f[:, 1] = c[:, PTIME] / self.group_step[g]
        f[:, 2] = (c[:, DUE] - now - c[:, REM_WORK]) / self.mean_raw
        f[:, 3] = (c[:, DUE] - now) / rem
        f[:, 4] = c[:, REM_STEPS] / self.max_steps
        f[:, 5] = c[:, REM_WORK] / self.mean_raw
        f[:, 6] = c[:, HOT]
        n = self.n_slots * SLOT_FEATURES
        obs[:n] = f.reshape(-1)                                                  # (K * F,) slot-major
        tools = self.section.tools[g]
        obs[n:n + 4] = (len(q) / tools, len(sim.idle[g]) / tools, sim.wip / self.section.tools.sum(),
                        np.count_nonzero(w.due < now) / len(q))
        obs[n + 4 + g] = 1.0
        return np.clip(obs, -10.0, 10.0)

    def step(self, action):
        if self.sim is None:
            raise UsageError("FabDispatch-v0: call reset() before step()")
        if np.ndim(action) != 0 or int(action) != action or not 0 <= int(action) < self.n_slots:
            raise UsageError(f"action must be an integer in [0, {self.n_slots}); got {action!r}")
        if self.group is None:
            raise UsageError("FabDispatch-v0: the episode has ended; call reset()")
        self.sim.start(self.group, self.slots[int(action)])
        self.group = self.sim.next_decision()
        cost = self.sim.cost()
        reward = -(cost - self.last_cost) / self.reward_unit
        self.last_cost = cost
        truncated = self.group is None
        info = {"metrics": self.sim.metrics(since=self.warmup)} if truncated else {}
        return self._observe(), float(reward), False, truncated, info

    def metrics(self) -> dict:
        """Cycle time, tardiness and throughput of the lots completed since the warm-up, so far."""
        return self.sim.metrics(since=self.warmup)
