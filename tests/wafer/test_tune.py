"""``deepfab wafer tune``: two workers on one SQLite study lose and repeat no trial, a resumed run adds
only the missing trials and retries a killed worker's trial, the best trial's command trains a model
folder, and bad input is one line with exit status 2.

Tiny budgets: WM-811K train_1, 5 maps per class, one epoch of a 16 px network per trial.

Run: .venv/bin/python -m pytest tests/wafer/test_tune.py -q
"""
from __future__ import annotations

import csv
import json
import multiprocessing
import shlex
import shutil
import time
import warnings

import optuna
import pytest

from deepfab.cli import main
from deepfab.errors import UsageError
from deepfab.wafer.options import SEARCHABLE, TrainOptions, TuneOptions
from deepfab.wafer.tune import claim, open_storage, run_tune

TINY = ["--data", "wm811k:train_1", "--max-per-class", "5", "--holdout-lots", "0.3", "--size", "16",
        "--epochs", "1", "--search", "lr,weight_decay", "--threads", "1"]
S = optuna.trial.TrialState


def _tune(out, *extra):
    return main(["wafer", "tune", *TINY, "--study", "s", "--out", str(out), *extra])


def _one_error_line(capsys, *words):
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("deepfab: error:"), err
    for w in words:
        assert w in err, err


def _trials(out):
    storage = open_storage(f"sqlite:///{out}/study.db")
    return sorted(optuna.load_study(study_name="s", storage=storage).trials, key=lambda t: t.number)


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory):
    out = tmp_path_factory.mktemp("tune") / "run"
    assert _tune(out, "--trials", "4", "--workers", "2") == 0
    return out


def test_two_workers_share_one_study_without_losing_or_repeating_a_trial(two_workers):
    trials = _trials(two_workers)
    assert [t.number for t in trials] == [0, 1, 2, 3]
    assert all(t.state in (S.COMPLETE, S.PRUNED) for t in trials)
    assert len({json.dumps(t.params, sort_keys=True) for t in trials}) == 4     # two workers, not one recipe twice
    rows = list(csv.DictReader(open(two_workers / "trials.csv")))
    assert [int(r["number"]) for r in rows] == [0, 1, 2, 3] and all(r["epochs"] == "1" for r in rows)
    best = json.loads((two_workers / "best.json").read_text())
    assert best["value"] == max(t.value for t in trials if t.state == S.COMPLETE)
    cfg = json.loads((two_workers / "config.json").read_text())
    assert cfg["command"].startswith("deepfab wafer tune --trials 4 --study s") and "--workers" not in cfg["command"]


def test_a_resumed_run_adds_only_the_missing_trials_and_retries_a_killed_one(two_workers, tmp_path):
    out = tmp_path / "resumed"
    shutil.copytree(two_workers, out)
    before = _trials(out)
    storage = open_storage(f"sqlite:///{out}/study.db")
    study = optuna.load_study(study_name="s", storage=storage)
    with warnings.catch_warnings():                                             # ask() outside optimize()
        warnings.simplefilter("ignore", UserWarning)
        killed = study.ask({"lr": optuna.distributions.FloatDistribution(1e-3, 3e-2, log=True)})   # a worker that
    storage.record_heartbeat(killed._trial_id)                                  # dies mid-trial: RUNNING, no beat
    time.sleep(4)                                                               # SQLite's clock ticks in s
    summary = run_tune(TuneOptions.from_args(_parsed(out, "--trials", "5", "--resume")), heartbeat=(1, 2))
    after = _trials(out)
    assert [(t.number, t.params, t.value) for t in after[:4]] == [(t.number, t.params, t.value) for t in before]
    assert after[4].number == killed.number and after[4].state == S.FAIL        # not counted as done
    assert [t.number for t in after] == [0, 1, 2, 3, 4, 5] and after[5].state in (S.COMPLETE, S.PRUNED)
    assert after[5].params["lr"] == killed.params["lr"]                         # retried with its parameters
    assert after[5].system_attrs["failed_trial"] == killed.number
    assert summary["complete"] + summary["pruned"] == 5 and summary["fail"] == 1
    assert _tune(out, "--trials", "5", "--resume") == 0 and len(_trials(out)) == 6   # nothing missing: no trial


def _parsed(out, *extra):
    from deepfab.cli import build_parser

    return build_parser().parse_args(["wafer", "tune", *TINY, "--study", "s", "--out", str(out), *extra])


def _claim_all(url: str) -> list[int]:
    """Claim WAITING trials of study "q" until none is left (a spawned racer)."""
    storage = open_storage(url)
    study_id = storage.get_study_id_from_name("q")
    got = []
    while (tid := claim(storage, study_id, url)) is not None:
        got.append(tid)
    return got


def test_racing_workers_never_claim_the_same_trial(tmp_path):
    url = f"sqlite:///{tmp_path / 'q.db'}"
    study = optuna.create_study(study_name="q", storage=open_storage(url))
    for _ in range(30):
        study.enqueue_trial({})
    with multiprocessing.get_context("fork").Pool(3) as pool:                  # fork: no imports, a tight race
        claimed = pool.map(_claim_all, [url] * 3)
    every = [tid for got in claimed for tid in got]
    assert sorted(every) == sorted(t._trial_id for t in study.trials)        # each of the 30 claimed exactly once
    assert all(t.state == S.RUNNING for t in study.get_trials())


def test_the_best_trials_command_parses_and_trains_a_model_folder(two_workers, tmp_path):
    best = json.loads((two_workers / "best.json").read_text())
    words = shlex.split(best["command"])
    assert words[:3] == ["deepfab", "wafer", "train"]
    from deepfab.cli import build_parser

    args = build_parser().parse_args(words[1:])
    opts = TrainOptions.from_args(args)
    assert opts.lr == best["params"]["lr"] and opts.weight_decay == best["params"]["weight_decay"]
    assert (opts.epochs, opts.size, opts.max_per_class, opts.holdout_lots) == (1, 16, 5, 0.3)
    model = tmp_path / "best"
    assert main([*words[1:], "--out", str(model), "--no-novelty"]) == 0
    metrics = json.loads((model / "metrics.json").read_text())
    assert (model / "model.pt").is_file() and metrics["epochs_run"] == 1
    assert metrics["val_metrics"]["macro_f1"] == pytest.approx(best["value"], abs=1e-6)   # the same run again


@pytest.mark.parametrize("extra, words", [
    (["--trials", "0"], ["--trials must be a positive int"]),
    (["--trials", "2", "--workers", "0"], ["--workers must be a positive int"]),
    (["--trials", "2", "--search", "lr,depth"], ["--search must list"]),
    (["--trials", "2", "--storage", "nonsense"], ["--storage nonsense", "cannot open"]),
    (["--trials", "2", "--storage", "sqlite:////no/such/folder/x.db"], ["cannot open the study storage"]),
    (["--trials", "2", "--storage", "postgresql://u:secret@127.0.0.1:1/db"], ["cannot open", "***"]),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, extra, words):
    capsys.readouterr()
    assert main(["wafer", "tune", *TINY, "--study", "s", "--out", str(tmp_path / "o"), *extra]) == 2
    _one_error_line(capsys, *words)
    assert "secret" not in capsys.readouterr().err


def test_an_existing_study_needs_resume_or_force(two_workers, tmp_path, capsys):
    capsys.readouterr()
    assert _tune(two_workers, "--trials", "4") == 2
    _one_error_line(capsys, "pass --resume", "--force")
    assert _tune(tmp_path / "new", "--trials", "2", "--resume") == 2
    _one_error_line(capsys, "nothing to resume")
    assert _tune(tmp_path / "new", "--trials", "2", "--resume", "--force") == 2
    _one_error_line(capsys, "not both")


def test_tune_options_name_the_searchable_space():
    from deepfab.adapt.automl import DEFAULTS, SPACE

    assert set(SEARCHABLE) == set(SPACE) == set(DEFAULTS)
    with pytest.raises(UsageError, match="holdout-lots"):
        TuneOptions(trials=2, study="s", out="o", holdout_lots=0.0)
    opts = TuneOptions(trials=2, study="s", out="o", val="v.npz")
    assert opts.holdout_lots == 0.0 and opts.train_options({"lr": 0.01}, "m").val == "v.npz"
    assert "channels_last" not in opts.recipe()            # a study stored before the option resumes as it was
    fast = TuneOptions(trials=2, study="s", out="o", channels_last=True)
    assert fast.recipe()["channels_last"] is True and fast.train_options({}, "m").channels_last is True
