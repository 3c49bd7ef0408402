"""The product prior: fewer maps called ``none`` on a product whose maps are more often defective.

A classifier's probabilities carry the class mix of its training maps: the default's training maps
are 60 % ``none``. A fab's later lots break that in both directions. The commonest product is 97 %
``none``. Other products arrive as lots that were all pulled for a defect, and on those the model
calls many defects ``none``, because during training that product looked defect-free.

If only the class mix changed (label shift: p(x | y) unchanged), the right posterior for a group
of maps with ``none`` share pi is the model's, reweighted by pi / pi0 on ``none`` and by
(1 - pi) / (1 - pi0) on the defect classes (pi0: the training share). pi can be estimated from the
group's own unlabelled maps by expectation-maximisation (Saerens et al. 2002): reweight, average
the new ``none`` probabilities, repeat. The estimate here is a MAP one, with ``pseudo`` maps at pi0
added to each group, so a small group stays near the training mix.

Two choices come from a fab's costs, not from the statistics:

* groups are die grids (rows x cols), one product each, as in ``deepfab wafer eval --by-grid``;
  a grid with fewer than ``min_maps`` maps is left as it is, so a single map never changes;
* pi is only ever lowered (``min(pi, pi0)``). Raising it on a product that is nearly all ``none``
  is right on average but turns its rare defects into ``none``, and a missed defect costs more than
  a second look at a clean wafer. Full EM over the nine classes is far worse on later lots (macro-F1
  0.50 against 0.82 as trained, even with 1,000 pseudo-maps): it moves prior onto rare classes such
  as ``Near-full``, whose training share is 0.002.

    pi0 = trained_none_share(wm.config)                                  # from config.json's class_counts
    probs2, rows = product_prior(probs, maps, none_index=8, pi0=pi0)     # (N, C); one row per grid
    rows[0]   # {'grid': '27x25', 'maps': ..., 'none_trained': pi0, 'none_estimated': ..., 'lowered': False}

``deepfab wafer eval`` and ``predict`` apply it by default per file (``--no-product-prior``: off);
the model folder's ``config.json`` holds the training class counts it needs (``class_counts``).
On the latest 20 % of the shipped data's lots (``benchmarks/bench_later_lots.py``, three seeds) it
raised macro-F1 from 0.817 to 0.839 and changed nothing on the none-heavy last half of those lots
(the default's README has the table). Lecture 14 derives it and checks it on maps whose class
mix alone was changed.

One prior is certain: a map without a single failing die has no failure pattern, so it is ``none``
(``fail_free``). Every training map of WM-811K has failing dies (at least 0.5 % of them), so the
network never saw a clean wafer and may call one a defect: of 1,000 test-split ``none`` wafers with
their fails turned to pass, a network trained on them as they are called 48 ``Loc``
(``benchmarks/bench_default_model.py``; the default, trained with ``--clean-none 0.3``, calls none).

    probs2, clean = fail_free(probs, maps, none_index=8)                # clean: (N,) bool, no fail die

``deepfab wafer eval``, ``predict`` and ``explain`` apply it always, before the product prior.

The last step weighs the classes, not the products. A network trained with plain cross-entropy on
a mix that is 60 % ``none`` and 0.2 % Near-full learns posteriors for that mix, and the argmax that
is best for accuracy under it calls a doubtful map ``none``; macro-F1 and per-class recall, what a
fab reads, want rare defects called more readily. Dividing each class's probability by its
training share to the power tau (logit adjustment: tau 1 is the balanced-error rule, tau 0 the
model as trained) moves the decision between the two:

    probs3 = balance(probs2, class_shares(config, names), tau=BALANCE)
    probs3, rows, clean, lines = as_deployed(probs, maps, names, config)   # the three steps, as deployed

tau = 0.2 (``BALANCE``) was chosen on the latest 20 % of lots of the shipped data
(``benchmarks/bench_later_lots.py``, six runs), after the product prior. ``eval``, ``predict`` and
``explain`` apply it last (``--balance T``; 0: off), through ``as_deployed``.

References: A. K. Menon et al., "Long-tail learning via logit adjustment", ICLR 2021; M. Saerens,
P. Latinne, C. Decaestecker, "Adjusting the Outputs of a Classifier to New a Priori Probabilities:
A Simple Procedure", Neural Computation 14(1), 2002; A. Alexandari, A. Kundaje,
A. Shrikumar, "Maximum Likelihood with Bias-Corrected Calibration is Hard-To-Beat at Label Shift
Adaptation", ICML 2020; Z. Lipton, Y.-X. Wang, A. Smola, "Detecting and Correcting for Label Shift
with Black Box Predictors", ICML 2018.
"""
from __future__ import annotations

import numpy as np

from ..errors import DataError, UsageError
from .report import NONE, grid_names

PSEUDO = 5        # maps at the training share added to each grid's estimate
MIN_MAPS = 20     # grids with fewer maps keep the model's probabilities
BALANCE = 0.2     # the class balance exponent tau, chosen on the 20 % later-lot check (the module docstring)


def none_share(q: np.ndarray, pi0: float, pseudo: float = PSEUDO, iters: int = 200, tol: float = 1e-10) -> float:
    """The MAP estimate of a group's ``none`` share from the model's ``none`` probabilities ``q`` (n,)
    under label shift from training share ``pi0``: the fixed point of the EM step
    pi <- (sum_i post_i(pi) + pseudo * pi0) / (n + pseudo)."""
    q = np.clip(np.asarray(q, dtype=np.float64), 1e-12, 1 - 1e-12)
    pi = pi0
    for _ in range(iters):
        a = q * (pi / pi0)
        post = a / (a + (1 - q) * ((1 - pi) / (1 - pi0)))
        new = (post.sum() + pseudo * pi0) / (len(q) + pseudo)
        if abs(new - pi) < tol:
            return float(new)
        pi = new
    return float(pi)


def reweight(probs: np.ndarray, none_index: int, pi: float, pi0: float) -> np.ndarray:
    """``probs`` (n, C) with the ``none`` column scaled by pi / pi0, the others by (1 - pi) / (1 - pi0),
    rows renormalised."""
    w = np.full(probs.shape[1], (1 - pi) / (1 - pi0))
    w[none_index] = pi / pi0
    out = probs * w
    return out / out.sum(1, keepdims=True)


def product_prior(probs, maps, none_index: int, pi0: float, pseudo: float = PSEUDO,
                  min_maps: int = MIN_MAPS) -> tuple[np.ndarray, list[dict]]:
    """(probabilities (N, C) with each die grid's ``none`` prior lowered where its maps look more
    defective than training, one row per grid: see the module docstring)."""
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2 or len(probs) != len(maps) or not 0 <= none_index < probs.shape[1]:
        raise DataError(f"product_prior needs probabilities (N, C) for N maps and a none column; got "
                        f"{probs.shape} for {len(maps)} maps, none column {none_index}")
    if not 0 < pi0 < 1:
        raise UsageError(f"the training share of none must be in (0, 1); got {pi0}")
    out, rows = probs.copy(), []
    grids = grid_names(maps)
    kinds, counts = np.unique(grids, return_counts=True)
    for grid, n in sorted(zip(kinds, counts), key=lambda gc: (-gc[1], gc[0])):
        row = {"grid": str(grid), "maps": int(n), "none_trained": pi0, "none_estimated": None, "lowered": False}
        if n >= min_maps:
            at = grids == grid
            pi = none_share(probs[at, none_index], pi0, pseudo)
            row["none_estimated"] = pi
            if pi < pi0:
                out[at] = reweight(probs[at], none_index, pi, pi0)
                row["lowered"] = True
        rows.append(row)
    return out, rows


def fail_free(probs, maps, none_index: int) -> tuple[np.ndarray, np.ndarray]:
    """(``probs`` (N, C) with every map that has no failing die (no 2) set to ``none`` with probability 1,
    a (N,) bool mask of those maps): every class but ``none`` is a pattern of failing dies."""
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2 or len(probs) != len(maps) or not 0 <= none_index < probs.shape[1]:
        raise DataError(f"fail_free needs probabilities (N, C) for N maps and a none column; got "
                        f"{probs.shape} for {len(maps)} maps, none column {none_index}")
    clean = np.array([not (np.asarray(m) == 2).any() for m in maps], dtype=bool)
    out = probs.copy()
    out[clean] = 0.0
    out[clean, none_index] = 1.0
    return out, clean


def trained_shares(config: dict) -> dict[str, float] | None:
    """Each class's share of the training mix the model learnt: its training maps per class
    (``class_counts`` in its config.json), each times its class weight in the loss when it had one
    (``train_config.class_weights``, or ``class_weights`` in a compressed folder, which learnt its
    parent's posteriors: a weighted loss trains the posteriors of a reweighted mix). None for a folder
    without class counts."""
    counts = config.get("class_counts")
    if not counts:
        return None
    weights = config.get("class_weights") or (config.get("train_config") or {}).get("class_weights")
    mass = {c: n * (weights[i] if weights else 1.0) for i, (c, n) in enumerate(counts.items())}
    total = sum(mass.values())
    return {c: v / total for c, v in mass.items()} if total > 0 else None


def trained_none_share(config: dict) -> float | None:
    """The ``none`` share of ``trained_shares``; None for a folder without class counts or without a
    ``none`` class, or when the training maps were all or none of them ``none``."""
    shares = trained_shares(config)
    if not shares or NONE not in shares:
        return None
    return shares[NONE] if 0 < shares[NONE] < 1 else None


def balance(probs, shares, tau: float = BALANCE) -> np.ndarray:
    """``probs`` (N, C) divided by each class's training share to the power ``tau`` (``shares``: (C,), in
    the columns' order), rows renormalised: the logit adjustment of the module docstring. ``tau`` 0
    leaves them as they are, 1 divides the training mix out entirely. A class without training maps
    (share 0) is not divided: the network never learnt it, so nothing is there to rebalance."""
    probs = np.asarray(probs, dtype=np.float64)
    shares = np.asarray(shares, dtype=np.float64)
    if probs.ndim != 2 or shares.shape != (probs.shape[1],):
        raise DataError(f"balance needs probabilities (N, C) and C class shares; got {probs.shape} and "
                        f"{shares.shape}")
    if isinstance(tau, bool) or not isinstance(tau, (int, float, np.floating)) or not 0 <= tau <= 1:
        raise UsageError(f"the class balance exponent must be a number in [0, 1]; got {tau!r}")
    if not (np.isfinite(shares).all() and (shares >= 0).all() and shares.sum() > 0):
        raise DataError(f"balance needs training shares >= 0, not all 0; got {shares.tolist()}")
    out = probs / np.where(shares > 0, shares, 1.0) ** float(tau)
    return out / out.sum(1, keepdims=True)


def class_shares(config: dict, names) -> np.ndarray | None:
    """``trained_shares`` as an array in the order of ``names`` (0 for a class the counts lack); None for
    a folder without class counts."""
    shares = trained_shares(config)
    return None if shares is None else np.array([shares.get(n, 0.0) for n in names])


def as_deployed(probs, maps, names, config: dict, product: bool = True,
                tau: float = BALANCE) -> tuple[np.ndarray, list[dict] | None, np.ndarray, list[str]]:
    """What ``deepfab wafer eval``, ``predict`` and ``explain`` make of the network's probabilities (N, C)
    for ``maps`` of a model with classes ``names`` and ``config`` (its config.json): every map without a
    failing die called ``none`` (``fail_free``), then the product prior (when ``product``), then the
    class balance (``tau`` > 0). A step is skipped where the model lacks what it needs: a ``none`` class
    (the first two) or ``class_counts`` (the last two). Returns (probabilities, the product prior's rows
    or None, the fail-free maps (N,) bool, one line per step saying what it did)."""
    lines, rows, clean = [], None, np.zeros(len(maps), dtype=bool)
    if NONE not in names:
        lines.append(f"product prior: off (the model has no {NONE} class)")
    else:
        probs, clean = fail_free(probs, maps, names.index(NONE))
        lines += [f"{int(clean.sum())} maps without a failing die: called {NONE}"] if clean.any() else []
        pi0 = trained_none_share(config)
        if not product:
            lines.append("product prior: off (--no-product-prior)")
        elif pi0 is None:
            lines.append("product prior: off (no class_counts with a none class)")
        else:
            probs, rows = product_prior(probs, maps, names.index(NONE), pi0)
            lines.append(summary(rows))
    shares = class_shares(config, names)
    if tau == 0:
        lines.append("class balance: off (--balance 0)")
    elif shares is None:
        lines.append("class balance: off (no class_counts)")
    else:
        probs = balance(probs, shares, tau)
        lines.append(f"class balance: each class divided by its training share to the power {tau:g}")
    return probs, rows, clean, lines


def summary(rows: list[dict]) -> str:
    """One line: which grids had their ``none`` prior lowered, and to what."""
    low = [r for r in rows if r["lowered"]]
    if not low:
        return (f"product prior: no die grid looks more defective than training (none share "
                f"{rows[0]['none_trained']:.2f} in training); probabilities unchanged")
    shown = ", ".join(f"{r['grid']} ({r['maps']} maps) {r['none_estimated']:.2f}" for r in low[:4])
    more = f" and {len(low) - 4} more" if len(low) > 4 else ""
    return (f"product prior: none share lowered from {low[0]['none_trained']:.2f} (training) on {len(low)} of "
            f"{len(rows)} die grids: {shown}{more}")
