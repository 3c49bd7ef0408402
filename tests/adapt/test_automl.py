"""``deepfab.adapt.automl``: the successive-halving rule against Optuna's pruner, seeded samplers,
equal-budget accounting, and the wafer objective on a tiny WM-811K subsample.

Run: .venv/bin/python -m pytest tests/adapt/test_automl.py -q
"""
from __future__ import annotations

import math

import numpy as np
import optuna
import pytest

from deepfab.adapt.automl import (
    SPACE,
    SuccessiveHalving,
    WaferObjective,
    best_so_far,
    compare_samplers,
    make_pruner,
    make_sampler,
    run_study,
    suggest,
    value_at,
    wm811k_lot_split,
)
from deepfab.adapt.automl_plots import sampler_comparison_figure, step_curve
from deepfab.errors import UsageError

optuna.logging.set_verbosity(optuna.logging.WARNING)


def _scripted(histories: np.ndarray, rungs):
    """Trial i reports histories[i, s] at steps 1.. in turn; (step each trial was pruned at or None) by
    Optuna's pruner and by ``SuccessiveHalving``."""
    study = optuna.create_study(direction="maximize", pruner=make_pruner("sha", *rungs))
    mine, ours, theirs = SuccessiveHalving(*rungs), [], []
    for i, hist in enumerate(histories):
        trial, stop = study.ask(), None
        for step, v in enumerate(hist, 1):
            trial.report(float(v), step)
            if trial.should_prune():
                stop = step
                break
        study.tell(trial, state=optuna.trial.TrialState.PRUNED) if stop else study.tell(trial, float(hist.max()))
        theirs.append(stop)
        ours.append(next((s for s, v in enumerate(hist, 1) if mine.should_prune(i, s, float(v))), None))
    return ours, theirs


@pytest.mark.parametrize("rungs", [(1, 3), (2, 2), (1, 2)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_successive_halving_prunes_what_optunas_pruner_prunes(rungs, seed):
    rng = np.random.default_rng(seed)
    histories = np.cumsum(rng.uniform(0, 0.2, (30, 9)), axis=1) + rng.uniform(0, 0.5, (30, 1))  # (trials, steps)
    ours, theirs = _scripted(histories, rungs)
    assert ours == theirs
    assert 0 < sum(s is not None for s in ours) < len(ours)           # the test prunes some trials, not all


def test_a_clearly_worse_trial_is_pruned_at_the_first_rung():
    good, bad = np.linspace(0.5, 0.9, 6), np.linspace(0.05, 0.1, 6)
    for rungs in [(1, 3), (2, 2)]:
        ours, theirs = _scripted(np.stack([good, bad, good + 0.01]), rungs)
        assert theirs == ours == [None, rungs[0], None]              # trial 1 stops at epoch r, trial 2 goes on


def test_nan_is_pruned():
    assert SuccessiveHalving(1, 2).should_prune("t", 1, math.nan)


def _toy(trial):
    return -(trial.suggest_float("x", -2, 2) - 0.5) ** 2 - 0.1 * trial.suggest_categorical("c", [0, 1, 2])


def test_random_search_with_one_seed_draws_the_same_params_as_optunas_random_sampler():
    a = run_study(_toy, 8, sampler="random", pruner="none", seed=7)
    ref = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=7))
    ref.optimize(_toy, n_trials=8)
    assert [t.params for t in a.trials] == [t.params for t in ref.trials]
    assert [t.params for t in run_study(_toy, 8, sampler="random", pruner="none", seed=7).trials] == \
        [t.params for t in a.trials]
    assert [t.params for t in run_study(_toy, 8, sampler="random", pruner="none", seed=8).trials] != \
        [t.params for t in a.trials]
    tpe = run_study(_toy, 8, sampler="tpe", pruner="none", seed=7, startup=4)   # TPE starts with the same draws
    assert [t.params for t in tpe.trials[:4]] == [t.params for t in a.trials[:4]]
    assert [t.params for t in tpe.trials[4:]] != [t.params for t in a.trials[4:]]


class _Curves:
    """A cheap objective shaped like the wafer one: E epochs, value rising to 1 - (x - 0.3)^2."""

    def __init__(self, epochs=4):
        self.epochs = epochs

    def __call__(self, trial):
        x = trial.suggest_float("x", 0.0, 1.0)
        for e in range(1, self.epochs + 1):
            v = (1 - (x - 0.3) ** 2) * (0.5 + 0.5 * e / self.epochs)
            trial.set_user_attr("epochs", e)
            trial.report(v, e)
            if e < self.epochs and trial.should_prune():
                raise optuna.TrialPruned()
        return v


def test_compare_samplers_spends_equal_budgets_and_counts_only_what_fits():
    r = compare_samplers(_Curves(4), budget_epochs=20, seeds=(0, 1, 2), startup=3)
    assert set(r["summary"]) == {"tpe+sha", "random"} and len(r["runs"]) == 6
    for run in r["runs"]:
        used = [e for e, _ in run["curve"]]
        assert used[-1] >= 20 and (len(used) < 2 or used[-2] < 20)    # stopped once the budget was spent
        best = [v for _, v in run["curve"] if not math.isnan(v)]
        assert best == sorted(best)                                    # best so far never falls
        assert run["best"] == value_at(run["curve"], 20)
        if run["method"] == "random":
            assert run["pruned"] == 0 and used == [4 * (k + 1) for k in range(len(used))]
    assert sum(run["pruned"] for run in r["runs"] if run["method"] == "tpe+sha") > 0
    assert r["summary"]["random"]["values"] == [run["best"] for run in r["runs"] if run["method"] == "random"]
    fig = sampler_comparison_figure(r)
    assert len(fig.axes) == 1 and len(fig.axes[0].get_lines()) >= 2


def test_best_so_far_and_value_at_by_hand():
    S = optuna.trial.TrialState
    trials = [optuna.trial.create_trial(state=s, value=v, user_attrs={"epochs": e}, params={}, distributions={},
                                        intermediate_values={e: v or 0.0})
              for s, v, e in [(S.PRUNED, None, 2), (S.COMPLETE, 0.4, 4), (S.PRUNED, None, 2), (S.COMPLETE, 0.3, 4),
                              (S.COMPLETE, 0.6, 4)]]
    curve = best_so_far(trials)
    assert [e for e, _ in curve] == [2, 6, 8, 12, 16] and math.isnan(curve[0][1])
    assert [v for _, v in curve[1:]] == [0.4, 0.4, 0.4, 0.6]
    assert value_at(curve, 15) == 0.4 and value_at(curve, 16) == 0.6 and math.isnan(value_at(curve, 3))
    assert np.allclose(step_curve(curve, 7)[5:], [0.4, 0.4]) and np.isnan(step_curve(curve, 7)[:5]).all()


def test_bad_input_is_one_clear_error():
    study = optuna.create_study()
    with pytest.raises(UsageError, match="must start with"):
        suggest(study.ask(), {"lr": ("exp", 1, 2)})
    with pytest.raises(UsageError, match="sampler must be one of"):
        make_sampler("grid")
    with pytest.raises(UsageError, match="reduction_factor must be"):
        make_pruner("sha", 1, 1)
    with pytest.raises(UsageError, match="n_trials must be a positive int"):
        run_study(_toy, 0)
    with pytest.raises(UsageError, match="budget_epochs must be"):
        compare_samplers(_toy, 0)


@pytest.fixture(scope="module")
def tiny():
    train, val = wm811k_lot_split("train_1", holdout=0.3, per_class=8, val_per_class=6)
    return train, val


def test_wafer_objective_reports_every_epoch_and_replays_what_it_trained(tiny):
    import torch

    torch.set_num_threads(1)
    train, val = tiny
    assert train.source_index.max() < val.source_index.min()          # validated on later lots
    obj = WaferObjective(train, val, epochs=2, space={"lr": SPACE["lr"], "width": ("cat", (4, 8))},
                         base={"arch": "small_cnn", "batch_size": 32}, size=16)
    with pytest.raises(UsageError, match="space must name"):
        WaferObjective(train, val, space={"depth": ("int", 1, 3)})
    study = run_study(obj, 3, sampler="random", pruner="none", seed=0)
    for t in study.trials:
        assert t.state == optuna.trial.TrialState.COMPLETE and t.user_attrs["epochs"] == 2
        assert sorted(t.intermediate_values) == [1, 2] and t.value == max(t.intermediate_values.values())
        assert 0.0 <= t.value <= 1.0
    again = run_study(obj, 3, sampler="random", pruner="none", seed=0)          # replayed from the memo
    fresh = run_study(WaferObjective(train, val, epochs=2, space=obj.space, base=obj.base, size=16, memo=False), 3,
                      sampler="random", pruner="none", seed=0)                   # trained again: the same numbers
    assert [t.intermediate_values for t in again.trials] == [t.intermediate_values for t in study.trials] \
        == [t.intermediate_values for t in fresh.trials]
