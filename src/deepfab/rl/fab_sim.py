"""The discrete-event simulator under ``deepfab/FabDispatch-v0``: lots, queues and tools of a fab section.

Lecture 13's dispatching environment (``deepfab.rl.fab``) builds a ``Section`` from SMT2020 and
drives a ``FabSim``; tests build small sections by hand. The simulator is a heap of timed events
(a lot released, a tool finishing a lot, a tool failing or repaired). After all events of one
instant it dispatches: a tool group with an idle tool and one waiting lot starts it; with several
waiting lots it stops and asks the caller which one (``next_decision`` / ``start``).

    sim = FabSim(section, seed=0, end=7 * 1440.0)
    while (g := sim.next_decision()) is not None:      # a tool of group g is free, >= 2 lots wait
        w = sim.waiting(g)                              # rules.Waiting, arrival order
        sim.start(g, pick(RULES["SPT"], w, sim.now))    # index into the queue
    sim.metrics(since=2 * 1440.0)                       # lots completed in [since, end]

Randomness is drawn per lot at its release (which steps it visits, each step's processing time),
from streams separate from the release process, so the same seed gives every dispatching policy
the same lots with the same processing times: comparisons over seeds are paired.

Cost: ``cost(t)`` is the lot-minutes spent in the section up to ``t`` plus ``tardiness_weight`` times
the lot-minutes spent past the due date; its increments are the environment's (negative) reward, and
its total over completed lots is their summed cycle time (plus weighted tardiness).

References: A. M. Law, "Simulation Modeling and Analysis", 5th ed., McGraw-Hill, 2015 (event-list
simulation). D. Kopp, M. Hassoun, A. Kalir, L. Moench, "SMT2020 -- A Semiconductor Manufacturing
Testbed", IEEE TSM 33(4), 2020.
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np

from .rules import Waiting

FINISH, RELEASE, FAIL, REPAIR = 0, 1, 2, 3
ENTER, PTIME, DUE, REM_WORK, REM_STEPS, HOT = range(6)   # columns of FabSim.lot, one row per lot


@dataclass(frozen=True)
class Route:
    """One product's steps in the section, in route order; every field has shape (S,)."""

    group: np.ndarray    # tool group index of each step
    ptime: np.ndarray    # nominal minutes per lot
    spread: np.ndarray   # realized time is uniform on ptime * (1 +- spread)
    visit: np.ndarray    # probability a lot visits the step (metrology sampling), 1 = always


@dataclass(frozen=True)
class Section:
    """Tool groups with their tool counts, product routes through them, and order types."""

    groups: tuple            # (G,) tool group names
    tools: np.ndarray        # (G,) tools per group
    routes: tuple            # per product: Route
    products: tuple          # product names
    order_product: np.ndarray  # (O,) product index of each order type
    order_rate: np.ndarray     # (O,) lots per minute before scaling
    order_flow: np.ndarray     # (O,) due = release + flow * raw time of the route
    order_hot: np.ndarray      # (O,) 1 for hot lots
    mttf: np.ndarray | None = None   # (G,) minutes between failures of a tool, None: no breakdowns
    mttr: np.ndarray | None = None   # (G,) minutes to repair

    def raw_time(self, product: int) -> float:
        r = self.routes[product]
        return float((r.ptime * r.visit).sum())

    def loads(self) -> np.ndarray:
        """(G,) utilization of each group at scale 1: offered minutes per minute per tool."""
        load = np.zeros(len(self.groups))
        for p, rate in zip(self.order_product, self.order_rate):
            r = self.routes[p]
            np.add.at(load, r.group, rate * r.ptime * r.visit)
        return load / self.tools


class FabSim:
    """One run of a section from empty; see the module docstring for the protocol."""

    def __init__(self, section: Section, seed, end: float, scale: float = 1.0, releases=None,
                 breakdowns: bool = False, tardiness_weight: float = 1.0, record: bool = False):
        self.s, self.end, self.scale, self.w = section, float(end), float(scale), float(tardiness_weight)
        ss = np.random.SeedSequence(seed)
        self.rng_release, self.rng_lot, self.rng_tool = (np.random.default_rng(x) for x in ss.spawn(3))
        self.now, self.events, self.seq = 0.0, [], 0
        G = len(section.groups)
        self.queue = [[] for _ in range(G)]                  # lot ids in arrival order
        self.tool_group = np.repeat(np.arange(G), section.tools)
        first = np.concatenate([[0], np.cumsum(section.tools)[:-1]])
        self.idle = [list(range(f + n - 1, f - 1, -1)) for f, n in zip(first, section.tools)]
        self.busy = np.full(len(self.tool_group), -1)        # lot on each tool, -1 idle or down
        self.fail_pending = np.zeros(len(self.tool_group), bool)
        self.todo: list[int] = []                            # groups to dispatch at this instant
        self.trace = [] if record else None                  # (tool, lot, start, end)
        cap = 256
        self.lot = np.zeros((cap, 6))                         # (lots, 6): ENTER, PTIME, DUE, REM_WORK, ...
        self.release, self.done, self.raw = np.zeros(cap), np.full(cap, np.nan), np.zeros(cap)
        self.path_group, self.path_nominal, self.path_real, self.pos = [], [], [], []
        self.n = 0
        self.done_cost = 0.0      # summed cycle time + w * tardiness of completed lots
        self.wip_release = 0.0    # summed release time of lots in the section
        self.wip = 0
        self.decisions = 0
        if releases is None:
            self.total_rate = float(section.order_rate.sum()) * self.scale
            self.order_p = section.order_rate / section.order_rate.sum()
            self._push(self.rng_release.exponential(1.0 / self.total_rate), RELEASE, -1, 0.0)
        else:
            for t, product, due in releases:   # hand-built instances: (minute, product, due)
                self._push(float(t), RELEASE, int(product), float(due))
        if breakdowns and section.mttf is not None:
            for tool, g in enumerate(self.tool_group):
                self._push(self.rng_tool.exponential(section.mttf[g]), FAIL, tool, 0)

    def _push(self, t, kind, a, b):
        heapq.heappush(self.events, (t, self.seq, kind, a, b))
        self.seq += 1

    def _new_lot(self, product: int, due: float, hot: float) -> int:
        if self.n == len(self.release):                       # double the capacity
            for name in ("lot", "release", "done", "raw"):
                a = getattr(self, name)
                setattr(self, name, np.concatenate([a, np.full_like(a, np.nan if name == "done" else 0.0)]))
        r = self.s.routes[product]
        keep = self.rng_lot.random(len(r.group)) < r.visit                          # (S,) sampled steps
        real = r.ptime * (1 + r.spread * self.rng_lot.uniform(-1, 1, len(r.group)))  # (S,) realized minutes
        lot = self.n
        self.n += 1
        self.path_group.append(r.group[keep].tolist())
        self.path_nominal.append(r.ptime[keep].tolist())
        self.path_real.append(real[keep].tolist())
        self.pos.append(0)
        self.release[lot], self.raw[lot] = self.now, float(real[keep].sum())
        row = self.lot[lot]
        row[DUE], row[HOT], row[REM_WORK], row[REM_STEPS] = due, hot, float(r.ptime[keep].sum()), int(keep.sum())
        self.wip += 1
        self.wip_release += self.now
        return lot

    def _arrive(self, lot: int) -> int | None:
        """Queue the lot for its next step (group index returned), or complete it (None)."""
        k = self.pos[lot]
        if k == len(self.path_group[lot]):
            self.done[lot] = self.now
            self.wip -= 1
            self.wip_release -= self.release[lot]
            self.done_cost += self.now - self.release[lot] + self.w * max(0.0, self.now - self.lot[lot, DUE])
            return None
        g = self.path_group[lot][k]
        row = self.lot[lot]
        row[ENTER], row[PTIME] = self.now, self.path_nominal[lot][k]
        self.queue[g].append(lot)
        return g

    def _handle(self, kind, a, b, dirty: set) -> None:
        if kind == RELEASE:
            if a < 0:   # Poisson releases of the section's order mix
                o = int(self.rng_release.choice(len(self.order_p), p=self.order_p))
                p = int(self.s.order_product[o])
                lot = self._new_lot(p, self.now + self.s.order_flow[o] * self.s.raw_time(p), self.s.order_hot[o])
                self._push(self.now + self.rng_release.exponential(1.0 / self.total_rate), RELEASE, -1, 0.0)
            else:
                lot = self._new_lot(a, b, 0.0)
            g = self._arrive(lot)
        elif kind == FINISH:
            tool, lot = a, b
            self.busy[tool] = -1
            g = self._free(tool)
            if g is not None:
                dirty.add(g)
            k = self.pos[lot]
            row = self.lot[lot]
            row[REM_WORK] -= self.path_nominal[lot][k]
            row[REM_STEPS] -= 1
            self.pos[lot] = k + 1
            g = self._arrive(lot)
        elif kind == FAIL:
            if self.busy[a] >= 0:
                self.fail_pending[a] = True      # goes down when its lot is finished
            else:
                self.idle[int(self.tool_group[a])].remove(a)
                self._down(a)
            g = None
        else:  # REPAIR
            g = int(self.tool_group[a])
            self.idle[g].append(a)
            self._push(self.now + self.rng_tool.exponential(self.s.mttf[g]), FAIL, a, 0)
        if g is not None:
            dirty.add(g)

    def _free(self, tool: int) -> int | None:
        if self.fail_pending[tool]:
            self.fail_pending[tool] = False
            self._down(tool)
            return None
        g = int(self.tool_group[tool])
        self.idle[g].append(tool)
        return g

    def _down(self, tool: int) -> None:
        g = int(self.tool_group[tool])
        self._push(self.now + self.rng_tool.exponential(self.s.mttr[g]), REPAIR, tool, 0)

    def next_decision(self) -> int | None:
        """Run to the next instant a free tool has several lots to choose from; its group, or None at ``end``."""
        while True:
            while self.todo:
                g = self.todo[-1]
                q = self.queue[g]
                if not self.idle[g] or not q:
                    self.todo.pop()
                elif len(q) == 1:
                    self._start(g, 0)
                else:
                    return g
            if not self.events or self.events[0][0] > self.end:
                self.now = self.end
                return None
            t = self.events[0][0]
            self.now = t
            dirty: set = set()
            while self.events and self.events[0][0] == t:
                _, _, kind, a, b = heapq.heappop(self.events)
                self._handle(kind, a, b, dirty)
            self.todo = sorted(dirty, reverse=True)    # dispatch groups in index order

    def waiting(self, g: int) -> Waiting:
        w = self.lot[self.queue[g]]                           # (n, 6), arrival order
        return Waiting(w[:, ENTER], w[:, PTIME], w[:, DUE], w[:, REM_WORK], w[:, REM_STEPS])

    def start(self, g: int, index: int) -> None:
        """Start the ``index``-th waiting lot of group ``g`` (arrival order) on one of its idle tools."""
        self.decisions += 1
        self._start(g, index)

    def _start(self, g: int, index: int) -> None:
        lot = self.queue[g].pop(index)
        tool = self.idle[g].pop()
        self.busy[tool] = lot
        t_end = self.now + self.path_real[lot][self.pos[lot]]
        if self.trace is not None:
            self.trace.append((tool, lot, self.now, t_end))
        self._push(t_end, FINISH, tool, lot)

    def cost(self) -> float:
        """Lot-minutes in the section so far plus ``tardiness_weight`` times lot-minutes past due."""
        n = self.n
        inside = np.isnan(self.done[:n])
        late = np.maximum(0.0, self.now - self.lot[:n, DUE][inside]).sum()
        return self.done_cost + self.wip * self.now - self.wip_release + self.w * float(late)

    def metrics(self, since: float = 0.0) -> dict:
        """Cycle time, tardiness (hours) and throughput (lots a day) of lots completed in [since, now]."""
        n = self.n
        done = self.done[:n]
        m = ~np.isnan(done) & (done >= since)
        ct = done[m] - self.release[:n][m]
        tard = np.maximum(0.0, done[m] - self.lot[:n, DUE][m])
        days = max(self.now - since, 1e-9) / 1440.0
        return {"completed": int(m.sum()), "mean_cycle_time_h": float(ct.mean() / 60) if m.any() else 0.0,
                "mean_tardiness_h": float(tard.mean() / 60) if m.any() else 0.0,
                "late_share": float((tard > 0).mean()) if m.any() else 0.0,
                "throughput_per_day": float(m.sum() / days), "wip_end": int(self.wip),
                "released": int(n), "decisions": int(self.decisions)}
