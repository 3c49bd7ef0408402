"""Hyperparameter search for the wafer classifier with Optuna: TPE with successive-halving pruning
against random search at equal budget (lecture 14, AutoML; ``deepfab wafer tune`` runs it at scale).

A trial draws a recipe from a search space (``SPACE``: learning rate, weight decay, label
smoothing, batch size, architecture and width among ``deepfab.models``, class weights, and the
product-shift augmentation strength ``regrid``; the names are ``deepfab wafer train``'s flags, so
the best trial is a train command), trains it with the course's engine (``deepfab.train.fit``,
the recipe of ``deepfab wafer train``: AdamW, one-cycle, a random symmetry of the square per map)
on maps of earlier lots and reports the validation macro-F1 on later lots after every epoch
(``trial.report``), so that a pruner can stop a bad trial early (``trial.should_prune``). Its
value is the best epoch's validation macro-F1; ``trial.user_attrs["epochs"]`` is what it cost.

    train, val = wm811k_lot_split("train_10", holdout=0.25, per_class=150, val_per_class=60)
    objective = WaferObjective(train, val, epochs=4, space={k: SPACE[k] for k in FAST_KEYS},
                               base={"arch": "small_cnn"})                   # what the space leaves out
    study = run_study(objective, n_trials=12, sampler="tpe", pruner="sha", seed=0)
    study.best_params, study.best_value
    result = compare_samplers(objective, budget_epochs=24, seeds=(0, 1, 2))   # TPE+SHA vs random
    result["summary"]   # {"tpe+sha": {"mean", "std", "values"}, "random": {...}}: best macro-F1 at the budget
    fig = sampler_comparison_figure(result)                                  # deepfab.adapt.automl_plots

The budget knobs: ``WaferObjective(epochs=...)`` (epochs per trial; also the successive-halving
rungs: epochs 2, 4, 8, ... with ``rungs=(2, 2)``), the size of the two sets (``per_class``,
``val_per_class``; validation is scored every epoch), the space (``FAST_KEYS`` leaves out the
slower architectures and the re-rendering augmentation), and ``compare_samplers(budget_epochs=,
seeds=, startup=)``: the comparison costs about ``budget_epochs * len(seeds) * 2`` training epochs,
less the trials both searches share (TPE's first ``startup`` trials are the random sampler's, and
the objective remembers every history it trained, ``memo=True``); keep ``startup`` well below
``budget_epochs / epochs`` or TPE never leaves its random start. With 150 maps per class (about
950 maps), 60 per class to validate (about 270), ``FAST_KEYS``, ``small_cnn`` and size 32, an epoch
takes about 1.5 s of a quiet CPU core (3 s on a 2-core machine at load 9; ResNet of width 16: about
3x); ``benchmarks/bench_tune.py`` (budget 24, 4-epoch trials, 3 seeds) took 6.5 minutes there.

Successive halving (Jamieson and Talwalkar; asynchronous, Li et al.): rung k of a trial is its
epoch ``r * eta**k``; a trial reaching a rung continues only if its value there is among the top
``max(1, n // eta)`` of the ``n`` values recorded at that rung so far (its own included), else it
is pruned. ``SuccessiveHalving`` writes that rule out; ``make_pruner("sha")`` is Optuna's
``SuccessiveHalvingPruner`` with the same ``r`` and ``eta``, and the tests check that the two
prune the same trials at the same epochs.

References: J. Bergstra, R. Bardenet, Y. Bengio, B. Kegl, "Algorithms for Hyper-Parameter
Optimization", NeurIPS 2011 (TPE); J. Bergstra, Y. Bengio, "Random Search for Hyper-Parameter
Optimization", JMLR 13, 2012; K. Jamieson, A. Talwalkar, "Non-stochastic Best Arm Identification
and Hyperparameter Optimization", AISTATS 2016; L. Li et al., "A System for Massively Parallel
Hyperparameter Tuning", MLSys 2020 (ASHA); T. Akiba et al., "Optuna: A Next-generation
Hyperparameter Optimization Framework", KDD 2019.
"""
from __future__ import annotations

import json
import math

import numpy as np
import optuna

from ..augment import RandomDihedral
from ..data import PreparedSplits, WaferSet, encode_maps, load_wm811k, stratified_indices
from ..device import seed_everything
from ..errors import UsageError
from ..models import build_model
from ..train import TrainConfig, balanced_class_weights, fit

# name -> ("log" | "float", low, high) or ("int", low, high) or ("cat", choices); names are `wafer train` flags
SPACE = {
    "lr": ("log", 1e-3, 3e-2),
    "weight_decay": ("log", 1e-5, 1e-2),
    "label_smoothing": ("float", 0.0, 0.2),
    "batch_size": ("cat", (32, 64, 128)),
    "arch": ("cat", ("small_cnn", "resnet", "mobilenet")),
    "width": ("cat", (8, 16)),
    "class_weights": ("cat", ("none", "sqrt")),
    "regrid": ("float", 0.0, 0.5),
}
FAST_KEYS = ("lr", "weight_decay", "label_smoothing", "batch_size", "width", "class_weights")
# what a recipe uses for a name the space leaves out: `deepfab wafer train`'s defaults
DEFAULTS = {"lr": 3e-3, "weight_decay": 5e-4, "label_smoothing": 0.05, "batch_size": 128, "arch": "resnet",
            "width": None, "class_weights": "none", "regrid": 0.0}
SAMPLERS, PRUNERS = ("tpe", "random"), ("sha", "none")


def suggest(trial: optuna.Trial, space: dict) -> dict:
    """One recipe drawn from ``space`` (see ``SPACE``) through ``trial``."""
    params = {}
    for name, spec in space.items():
        kind, *args = spec
        if kind in ("log", "float"):
            params[name] = trial.suggest_float(name, args[0], args[1], log=kind == "log")
        elif kind == "int":
            params[name] = trial.suggest_int(name, args[0], args[1])
        elif kind == "cat":
            params[name] = trial.suggest_categorical(name, list(args[0]))
        else:
            raise UsageError(f"space[{name!r}] must start with 'log', 'float', 'int' or 'cat'; got {kind!r}")
    return params


def check_names(what: str, names: dict, empty_ok: bool = False) -> dict:
    """``names`` if every key is a recipe name of ``DEFAULTS`` (and, unless ``empty_ok``, there is one)."""
    unknown = sorted(set(names) - set(DEFAULTS))
    if unknown or not (names or empty_ok):
        raise UsageError(f"{what} must name some of {', '.join(DEFAULTS)}; got {sorted(names) or 'nothing'}")
    return dict(names)


def wm811k_lot_split(split: str = "train_10", holdout: float = 0.25, per_class: int | None = 150,
                     val_per_class: int | None = 60, seed: int = 0) -> tuple[WaferSet, WaferSet]:
    """(earlier lots, later lots) of a WM-811K split, as ``deepfab wafer train --holdout-lots`` cuts them
    (later maps that copy an earlier one dropped), each thinned to at most ``per_class`` maps of a class."""
    sets = PreparedSplits.from_sets({"train": load_wm811k(split)}, within=False).lot_split(
        "train", holdout, ("train", "val")).sets
    prep = PreparedSplits.from_sets(sets, within=False)
    train, val = prep["train"], prep["val"]
    if per_class is not None:
        train = train.subset(stratified_indices(train.labels, per_class=per_class, seed=seed))
    if val_per_class is not None:
        val = val.subset(stratified_indices(val.labels, per_class=val_per_class, seed=seed))
    return train, val


class WaferObjective:
    """``objective(trial) -> best validation macro-F1`` of a recipe drawn from ``space``, trained for
    ``epochs`` on ``train`` (a labelled ``WaferSet``) and scored on ``val`` after every epoch. ``base``:
    values for the names the space leaves out (default ``DEFAULTS``); ``seed`` seeds the weights and the
    data order of every trial alike, so two trials differ only by their recipe. ``memo``: a recipe trained
    once is replayed, not trained again (the same seed gives the same history)."""

    def __init__(self, train: WaferSet, val: WaferSet, epochs: int = 4, space: dict | None = None,
                 base: dict | None = None, size: int = 32, density: bool = True, seed: int = 0,
                 device: str = "auto", amp: str = "auto", channels_last: bool = False, memo: bool = True):
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
            raise UsageError(f"epochs must be a positive int; got {epochs!r}")
        if train.labels is None or val.labels is None or not len(train) or not len(val):
            raise UsageError(f"the objective needs labelled maps to train and validate on; got {len(train)} and "
                             f"{len(val)} maps")
        self.space = check_names("space", SPACE if space is None else space)
        self.base = {**DEFAULTS, **check_names("base", base or {}, empty_ok=True)}
        self.train_set, self.epochs, self.size, self.density = train, epochs, size, density
        self.seed, self.device, self.amp, self.names = seed, device, amp, list(train.label_names)
        self.channels_last = channels_last
        self.X = encode_maps(train.maps, size, density)                 # (N, 2 or 3, S, S) float32
        self.val = (encode_maps(val.maps, size, density), np.asarray(val.labels))
        self.memo = {} if memo else None                                # recipe -> per-epoch val macro-F1

    def recipe(self, params: dict) -> dict:
        return {**self.base, **params}

    def train(self, params: dict, on_epoch=None) -> list[float]:
        """Train the recipe ``params``; the validation macro-F1 of each epoch. ``on_epoch(epoch, value)``
        is called after each (it may raise, e.g. ``optuna.TrialPruned``, to stop the run)."""
        r = self.recipe(params)
        seed_everything(self.seed)                                      # the initial weights
        net = build_model(r["arch"], in_channels=3 if self.density else 2, num_classes=len(self.names),
                          **({} if r["width"] is None else {"width": int(r["width"])}))
        weights = None
        if r["class_weights"] != "none":
            y = self.train_set.labels
            weights = [round(float(w), 6) for w in balanced_class_weights(y, len(self.names), r["class_weights"])]
        cfg = TrainConfig(epochs=self.epochs, batch_size=int(r["batch_size"]), lr=float(r["lr"]), optimizer="adamw",
                          weight_decay=float(r["weight_decay"]), scheduler="onecycle",
                          label_smoothing=float(r["label_smoothing"]), class_weights=weights, seed=self.seed,
                          device=self.device, monitor="val_macro_f1", amp=self.amp,
                          channels_last=self.channels_last, progress=False)
        data = (self.X, self.train_set.labels)
        if r["regrid"]:                                                 # a share re-rendered at other die grids
            from ..augment.regrid import RegridMaps

            data = RegridMaps(self.train_set.maps, self.train_set.labels, self.size, self.density,
                              p=float(r["regrid"]), seed=self.seed, encoded=self.X)
        values = []

        def record(rec):
            values.append(float(rec["val_macro_f1"]))
            if on_epoch is not None:
                on_epoch(rec["epoch"], values[-1])

        try:
            fit(net, data, self.val, cfg, augment=RandomDihedral(), label_names=self.names, on_epoch_end=record)
        finally:
            self._remember(params, values)
        return values

    def _remember(self, params: dict, values: list) -> None:
        key = json.dumps(params, sort_keys=True)
        if self.memo is not None and len(values) > len(self.memo.get(key, ())):
            self.memo[key] = list(values)

    def __call__(self, trial: optuna.Trial) -> float:
        params = suggest(trial, self.space)
        seen = list(self.memo.get(json.dumps(params, sort_keys=True), ())) if self.memo is not None else []
        used = [0]

        def report(epoch: int, value: float) -> None:                  # epoch is 1-based: the rungs' unit
            used[0] = epoch
            trial.set_user_attr("epochs", epoch)
            trial.report(value, epoch)
            if epoch < self.epochs and trial.should_prune():           # a trial that trained to the end counts
                raise optuna.TrialPruned(f"pruned at epoch {epoch}: validation macro-F1 {value:.4f}")

        for epoch, value in enumerate(seen[:self.epochs], 1):           # a remembered history, replayed
            report(epoch, value)
        values = seen if len(seen) >= self.epochs else self.train(
            params, lambda e, v: report(e, v) if e > len(seen) else None)
        trial.set_user_attr("epochs", used[0])
        return max(values[:self.epochs])


def make_sampler(name: str, seed: int = 0, startup: int = 5) -> optuna.samplers.BaseSampler:
    """``tpe``: multivariate TPE after ``startup`` random trials (constant liar, for parallel workers);
    ``random``: random search. The same seed draws the same first ``startup`` recipes in both."""
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup, multivariate=True,
                                          constant_liar=True)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    raise UsageError(f"sampler must be one of {', '.join(SAMPLERS)}; got {name!r}")


def make_pruner(name: str, min_resource: int = 2, reduction_factor: int = 2) -> optuna.pruners.BasePruner:
    """``sha``: successive halving, rungs at epochs ``min_resource * reduction_factor**k`` (by default 2, 4, 8, ...:
    the first epoch of a one-cycle run is mostly warm-up and ranks recipes poorly); ``none``: never prune."""
    for name_, v in (("min_resource", min_resource), ("reduction_factor", reduction_factor)):
        if isinstance(v, bool) or not isinstance(v, int) or v < (1 if name_ == "min_resource" else 2):
            raise UsageError(f"{name_} must be an int >= {1 if name_ == 'min_resource' else 2}; got {v!r}")
    if name == "sha":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=min_resource, reduction_factor=reduction_factor,
                                                      min_early_stopping_rate=0)
    if name == "none":
        return optuna.pruners.NopPruner()
    raise UsageError(f"pruner must be one of {', '.join(PRUNERS)}; got {name!r}")


class SuccessiveHalving:
    """The successive-halving rule written out (what ``make_pruner("sha")`` decides): trials report in
    turn; ``should_prune(trial, step, value)`` after each report of a value to maximize."""

    def __init__(self, min_resource: int = 2, reduction_factor: int = 2):
        self.r, self.eta = min_resource, reduction_factor
        self.rungs: dict[int, list[float]] = {}      # rung -> values recorded there, every trial's
        self.reached: dict[object, int] = {}         # trial -> rungs it has passed

    def should_prune(self, trial, step: int, value: float) -> bool:
        k = self.reached.get(trial, 0)
        while step >= self.r * self.eta ** k:        # each rung this step reaches, in order
            if math.isnan(value):
                return True
            seen = self.rungs.setdefault(k, [])
            seen.append(value)
            top = max(1, len(seen) // self.eta)      # the first eta - 1 trials: only the best goes on
            if value < sorted(seen, reverse=True)[top - 1]:
                return True
            k += 1
            self.reached[trial] = k
        return False


def run_study(objective, n_trials: int, sampler: str = "tpe", pruner: str = "sha", seed: int = 0,
              storage=None, study_name: str | None = None, startup: int = 5, callbacks=(),
              rungs: tuple[int, int] = (2, 2)) -> optuna.Study:
    """A study maximizing ``objective`` over ``n_trials`` trials (added to those a stored study has);
    ``rungs``: the pruner's (min_resource, reduction_factor)."""
    if isinstance(n_trials, bool) or not isinstance(n_trials, int) or n_trials < 1:
        raise UsageError(f"n_trials must be a positive int; got {n_trials!r}")
    study = optuna.create_study(storage=storage, study_name=study_name, direction="maximize",
                                sampler=make_sampler(sampler, seed, startup), pruner=make_pruner(pruner, *rungs),
                                load_if_exists=study_name is not None)
    study.optimize(objective, n_trials=n_trials, callbacks=list(callbacks), gc_after_trial=False)
    return study


def epochs_used(trial: optuna.trial.FrozenTrial) -> int:
    return int(trial.user_attrs.get("epochs", 0))


def best_so_far(trials) -> list[tuple[int, float]]:
    """(epochs consumed after each finished trial, best value of a complete trial so far; nan before one)."""
    total, best, curve = 0, -math.inf, []
    for t in trials:
        total += epochs_used(t)
        if t.state == optuna.trial.TrialState.COMPLETE:
            best = max(best, t.value)
        curve.append((total, best if best > -math.inf else math.nan))
    return curve


def value_at(curve, budget: int) -> float:
    """The best value reached within ``budget`` epochs (a trial that ends past the budget does not count)."""
    within = [v for e, v in curve if e <= budget]
    return within[-1] if within else math.nan


def compare_samplers(objective, budget_epochs: int, seeds=(0, 1, 2), methods=(("tpe", "sha"), ("random", "none")),
                     startup: int = 3, rungs: tuple[int, int] = (2, 2)) -> dict:
    """Each (sampler, pruner) of ``methods`` searches until it has trained ``budget_epochs`` epochs, once per
    seed; the best-so-far curves against epochs consumed and the best value at the budget, per method."""
    if isinstance(budget_epochs, bool) or not isinstance(budget_epochs, int) or budget_epochs < 1:
        raise UsageError(f"budget_epochs must be a positive int; got {budget_epochs!r}")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    runs, summary = [], {}
    for sampler, pruner in methods:
        name = sampler if pruner == "none" else f"{sampler}+{pruner}"
        for seed in seeds:
            def stop(study, _trial):
                if sum(epochs_used(t) for t in study.trials if t.state.is_finished()) >= budget_epochs:
                    study.stop()

            study = run_study(objective, n_trials=budget_epochs, sampler=sampler, pruner=pruner, seed=seed,
                              startup=startup, callbacks=[stop], rungs=rungs)
            trials = [t for t in study.trials if t.state.is_finished()]
            curve = best_so_far(trials)
            runs.append({"method": name, "seed": seed, "curve": curve, "best": value_at(curve, budget_epochs),
                         "trials": len(trials), "pruned": sum(t.state == optuna.trial.TrialState.PRUNED
                                                              for t in trials),
                         "best_params": study.best_params if any(t.state == optuna.trial.TrialState.COMPLETE
                                                                 for t in trials) else None})
        values = [r["best"] for r in runs if r["method"] == name]
        summary[name] = {"mean": float(np.mean(values)), "std": float(np.std(values, ddof=1)) if len(values) > 1
                         else 0.0, "values": values}
    return {"budget_epochs": budget_epochs, "seeds": list(seeds), "rungs": list(rungs), "runs": runs,
            "summary": summary}
