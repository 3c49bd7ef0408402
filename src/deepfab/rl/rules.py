"""Dispatching rules: which of the lots waiting for a tool group runs next (lecture 13).

A rule is a function of the waiting lots and the clock that returns one score per lot; the lot with
the smallest score runs next, ties going to the lot that has waited longest (the queue is kept in
arrival order, so ``argmin`` breaks ties first-in-first-out). ``RULES`` lists them in the order of
the candidate slots of ``deepfab/FabDispatch-v0`` (slot ``k`` holds the lot rule ``k`` would pick).

    from deepfab.rl.rules import RULES, Waiting, pick
    w = Waiting(enter=np.array([0., 5.]), ptime=np.array([30., 10.]), due=np.array([500., 90.]),
                rem_work=np.array([300., 40.]), rem_steps=np.array([6, 2]))
    pick(RULES["SPT"], w, now=20.0)     # -> 1, the shorter step

    FIFO  first in, first out: the earliest arrival at the queue
    SPT   shortest processing time of the step: minimizes mean flow time on one machine (Smith 1956)
    EDD   earliest due date: minimizes maximum lateness on one machine (Jackson 1955)
    CR    critical ratio (due - now) / remaining work: below 1 the lot cannot finish on time
    MS    minimum slack, due - now - remaining work
    LWKR  least work remaining on the lot's route through the section

Times are minutes; the processing times the rules see are the nominal ones of the route table,
not the realized ones a lot will take.

References: J. R. Jackson, "Scheduling a production line to minimize maximum tardiness",
Research Report 43, Management Science Research Project, UCLA, 1955. W. E. Smith, "Various
optimizers for single-stage production", Naval Research Logistics Quarterly 3(1-2), 1956.
S. S. Panwalkar, W. Iskander, "A survey of scheduling rules", Operations Research 25(1), 1977.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from ..errors import UsageError


class Waiting(NamedTuple):
    """The lots waiting for one tool group, in arrival order; every field has shape (n,)."""

    enter: np.ndarray      # minute each lot joined the queue
    ptime: np.ndarray      # nominal minutes of the step it waits for
    due: np.ndarray        # due date, minutes
    rem_work: np.ndarray   # nominal minutes of this and all its later steps in the section
    rem_steps: np.ndarray  # number of section steps left, this one included


def fifo(w: Waiting, now: float) -> np.ndarray:
    return w.enter


def spt(w: Waiting, now: float) -> np.ndarray:
    return w.ptime


def edd(w: Waiting, now: float) -> np.ndarray:
    return w.due


def critical_ratio(w: Waiting, now: float) -> np.ndarray:
    return (w.due - now) / np.maximum(w.rem_work, 1e-9)


def min_slack(w: Waiting, now: float) -> np.ndarray:
    return w.due - now - w.rem_work


def least_work_remaining(w: Waiting, now: float) -> np.ndarray:
    return w.rem_work


Rule = Callable[[Waiting, float], np.ndarray]

RULES: dict[str, Rule] = {
    "FIFO": fifo,
    "SPT": spt,
    "EDD": edd,
    "CR": critical_ratio,
    "MS": min_slack,
    "LWKR": least_work_remaining,
}


def pick(rule: Rule, w: Waiting, now: float) -> int:
    """Index (into the waiting lots) of the lot ``rule`` runs next; ties go to the earliest arrival."""
    return int(np.argmin(rule(w, now)))


def get_rule(name: str) -> Rule:
    """The rule called ``name`` (one of ``RULES``)."""
    if name not in RULES:
        raise UsageError(f"unknown dispatching rule {name!r}; expected one of {', '.join(RULES)}")
    return RULES[name]
