"""Tune the wafer classifier's recipe with an Optuna study that many processes and machines share:
the body of ``deepfab wafer tune``.

    deepfab wafer tune --trials 12 --workers 2 --epochs 3 --study demo --out runs/tune/demo
    deepfab wafer tune --trials 20 --study demo --out runs/tune/demo --resume      # 8 more trials
    deepfab wafer tune --trials 20 --study demo --storage postgresql://me@db/optuna --out runs/tune/m2 --resume

Every trial trains one recipe drawn from ``--search`` (``deepfab.adapt.automl``: the objective,
the space, the samplers and the successive-halving pruner) on the maps ``deepfab wafer train``
would use with the same ``--data --val|--holdout-lots --max-per-class`` (``training.training_sets``)
and is worth its best validation macro-F1. The study lives in ``--storage`` (default the SQLite
file ``DIR/study.db``): ``--trials N`` is the number of finished trials (complete or pruned) the
study should hold in all, so a second run with ``--resume`` adds only what is missing, and a run
on another machine with the same ``--study --storage --resume`` joins it.

How the trials are shared out without losing or repeating one: the run tops the study's queue up
to N with WAITING trials (``study.enqueue_trial``); a worker claims a WAITING trial by moving it
to RUNNING in the storage (``set_trial_state_values``, refused when another worker moved it first),
so it never creates a trial of its own (on SQLite, which cannot lock a row, the claims take turns
under a lock on the file ``study.db.lock`` beside the database): on one machine the trials are
numbered 0..N-1 (a retried trial, below, takes the next free number). ``--threads`` sets each
worker's torch threads. While a
trial runs its worker writes a heartbeat (every ``HEARTBEAT`` s); a RUNNING trial whose heartbeat
is older than ``GRACE`` s belongs to a killed worker and is marked FAIL (``fail_stale_trials``)
and queued again with the same parameters (``RetryHeartbeatStaleTrialCallback``), so it is not counted.
Runs that start on two machines at the same moment may queue a trial or two past N; each is a
trial of its own, none is lost. SQLite waits up to ``SQLITE_TIMEOUT`` s for its lock.

DIR receives ``config.json`` (the options and the command), ``trials.csv`` (number, state,
value (a pruned trial's: its last reported one), epochs used, one column per searched option),
``best.json`` (the best trial's parameters and value and the ``deepfab wafer train`` command that
trains it, built with ``options.command_line``: run on the same machine it reaches the same
validation macro-F1).
A storage URL is written with its password masked.

Introduced with the ``deepfab wafer`` tool; lecture 14 teaches the search.

References: T. Akiba et al., "Optuna: A Next-generation Hyperparameter Optimization Framework",
KDD 2019 (define-by-run, RDB storage shared by workers); L. Li et al., "A System for Massively
Parallel Hyperparameter Tuning", MLSys 2020.
"""
from __future__ import annotations

import contextlib
import csv
import io
import multiprocessing as mp
import os
import threading
import time
from pathlib import Path

import optuna
from optuna.trial import TrialState

from ..errors import DeepfabError, UsageError
from ..io import note_new_folders, write_atomic, write_json_atomic
from .options import TuneOptions

HEARTBEAT, GRACE, SQLITE_TIMEOUT, RETRIES = 5, 30, 120, 3
OUTPUTS = ("config.json", "trials.csv", "best.json")
DONE = (TrialState.COMPLETE, TrialState.PRUNED)


def storage_url(opts: TuneOptions) -> str:
    return opts.storage or f"sqlite:///{Path(opts.out) / 'study.db'}"


def masked(url: str) -> str:
    """``url`` with its password hidden, for files and messages."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:   # noqa: BLE001 - an unparsable URL is reported by open_storage
        return url


def open_storage(url: str, heartbeat: tuple[int, int] = (HEARTBEAT, GRACE)) -> optuna.storages.RDBStorage:
    """The study storage at ``url`` with heartbeats (interval, grace period in s); UsageError if it cannot open."""
    from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback

    kwargs = {"connect_args": {"timeout": SQLITE_TIMEOUT}} if url.startswith("sqlite") else {}
    try:
        with warnings_silenced():
            return RDBStorage(url, engine_kwargs=kwargs, heartbeat_interval=heartbeat[0], grace_period=heartbeat[1],
                              heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=RETRIES))
    except Exception as exc:   # noqa: BLE001 - malformed URL, missing driver, unreachable server
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UsageError(f"--storage {masked(url)}: cannot open the study storage ({type(exc).__name__}: "
                         f"{first[:200]}); expected a reachable Optuna storage URL such as sqlite:///DIR/study.db"
                         ) from None


@contextlib.contextmanager
def warnings_silenced():
    """Optuna's ExperimentalWarning for heartbeats and the retry callback, once per process, is noise here."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        yield


def claim_outputs(opts: TuneOptions, storage) -> None:
    """Refuse to write over a study or DIR's outputs unless told to resume or to start over."""
    out, exists = Path(opts.out), opts.study in optuna.get_all_study_names(storage)
    held = [n for n in OUTPUTS if (out / n).exists()]
    if opts.force:
        if exists:
            optuna.delete_study(study_name=opts.study, storage=storage)
        for n in held:
            (out / n).unlink()
    elif opts.resume and not exists:
        raise UsageError(f"study {opts.study!r} is not in {masked(storage_url(opts))}: nothing to resume; drop "
                         "--resume to start it")
    elif not opts.resume and (exists or held):
        what = f"study {opts.study!r} exists in {masked(storage_url(opts))}" if exists else f"{out} holds {held[0]}"
        raise UsageError(f"{what}; pass --resume to continue it or --force to start over")


def sampler_for(opts: TuneOptions, stream: tuple[int, int]):
    """The sampler of one worker: ``stream`` = (trials in the study when the round began, worker index)
    keeps a resumed run or a second worker from drawing the first worker's random recipes again; a
    fresh study's first worker is seeded with ``--seed`` itself."""
    import numpy as np

    from ..adapt.automl import make_sampler

    seed = opts.seed if stream == (0, 0) else int(np.random.SeedSequence([opts.seed, *stream]).generate_state(1)[0])
    return make_sampler(opts.sampler, seed)


@contextlib.contextmanager
def sqlite_lock(url: str):
    """Hold an exclusive lock on ``<database>.lock`` while the block runs, for a SQLite ``url`` (else nothing).
    PostgreSQL and MySQL lock the trial's row while it moves to RUNNING (SELECT ... FOR UPDATE); SQLite
    has no row locks, and Python's sqlite3 reads outside a transaction, so two processes can both see
    a trial WAITING and both claim it: on SQLite the claims take turns (POSIX file lock, one machine)."""
    from sqlalchemy.engine import make_url

    u = make_url(url)
    try:
        import fcntl
    except ImportError:            # not POSIX: no lock (use one worker, or a server database)
        fcntl = None
    if fcntl is None or u.get_backend_name() != "sqlite" or u.database in (None, "", ":memory:"):
        yield
        return
    with open(f"{u.database}.lock", "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def claim(storage, study_id: int, url: str):
    """The id of a WAITING trial this process moved to RUNNING, or None when the queue is empty."""
    with sqlite_lock(url):
        for t in storage.get_all_trials(study_id, deepcopy=False, states=(TrialState.WAITING,)):
            tid = storage.get_trial_id_from_study_id_trial_number(study_id, t.number)
            try:
                if storage.set_trial_state_values(tid, state=TrialState.RUNNING):
                    storage.record_heartbeat(tid)
                    return tid
            except optuna.exceptions.UpdateFinishedTrialError:
                continue
    return None


@contextlib.contextmanager
def beating(storage, tid: int, interval: int):
    """Record the trial's heartbeat every ``interval`` s while the block runs."""
    stop = threading.Event()

    def beat():
        while not stop.wait(interval):
            storage.record_heartbeat(tid)

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def work(opts: TuneOptions, url: str, stream: tuple[int, int], worker: int, threads: int, heartbeat=(HEARTBEAT, GRACE),
         sets=None) -> int:
    """Run queued trials of the study until none is left; the number run. ``sets``: (train, val) when loaded."""
    import torch

    from ..adapt.automl import SPACE, WaferObjective, make_pruner
    from .training import training_sets

    torch.set_num_threads(threads)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = open_storage(url, heartbeat)
    train, val = sets if sets is not None else training_sets(opts.train_options({}, opts.out))[:2]
    objective = WaferObjective(train, val, epochs=opts.epochs, space={k: SPACE[k] for k in opts.search_names},
                               size=opts.size, density=opts.density, seed=opts.seed, device=opts.device,
                               amp=opts.amp, channels_last=opts.channels_last, memo=False)
    sampler, pruner = sampler_for(opts, stream), make_pruner(opts.pruner)
    study_id, n = storage.get_study_id_from_name(opts.study), 0
    def finished() -> int:                  # queued trials past a lowered --trials stay queued
        return len(storage.get_all_trials(study_id, deepcopy=False, states=DONE))

    while finished() < opts.trials and (tid := claim(storage, study_id, url)) is not None:
        study = optuna.load_study(study_name=opts.study, storage=storage, sampler=sampler, pruner=pruner)
        trial = optuna.trial.Trial(study, tid)          # a fresh study object: the sampler sees every trial
        t0 = time.perf_counter()
        with beating(storage, tid, heartbeat[0]):
            try:
                with contextlib.redirect_stdout(io.StringIO()):   # the engine's epoch lines of K workers
                    value = objective(trial)
                study.tell(trial, value)
                what = f"COMPLETE val macro-F1 {value:.4f}"
            except optuna.TrialPruned:
                what = f"PRUNED at epoch {study.tell(trial, state=TrialState.PRUNED).last_step}"
            except BaseException:
                study.tell(trial, state=TrialState.FAIL, skip_if_finished=True)
                raise
        shown = ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in trial.params.items())
        print(f"trial {trial.number} (worker {worker}): {what} in {time.perf_counter() - t0:.0f} s; {shown}",
              flush=True)
        n += 1
    return n


def _spawned(opts, url, stream, worker, threads, heartbeat):   # the target of a spawned worker process
    try:
        work(opts, url, stream, worker, threads, heartbeat)
    except DeepfabError as exc:
        print(f"deepfab: error: worker {worker}: {exc}", flush=True)
        raise SystemExit(2) from None


def top_up(study: optuna.Study, n_trials: int) -> tuple[int, int, int]:
    """Queue WAITING trials until finished + running + waiting reach ``n_trials``; (finished, running, queued)."""
    with warnings_silenced():
        optuna.storages.fail_stale_trials(study)         # killed workers' trials: FAIL, queued again
    trials = study.get_trials(deepcopy=False)
    done = sum(t.state in DONE for t in trials)
    running = sum(t.state == TrialState.RUNNING for t in trials)
    waiting = sum(t.state == TrialState.WAITING for t in trials)
    added = max(0, n_trials - done - running - waiting)
    for _ in range(added):
        study.enqueue_trial({})
    return done, running, waiting + added


def run_tune(opts: TuneOptions, heartbeat: tuple[int, int] = (HEARTBEAT, GRACE)) -> dict:
    """Run the study of ``opts`` until it holds ``opts.trials`` finished trials; write DIR's files; a summary."""
    from .training import training_sets

    t_start, out, url = time.perf_counter(), note_new_folders(Path(opts.out)), storage_url(opts)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sets = training_sets(opts.train_options({}, opts.out))[:2]         # bad data fails before anything is written
    if opts.storage is None:
        out.mkdir(parents=True, exist_ok=True)
    storage = open_storage(url, heartbeat)
    claim_outputs(opts, storage)
    study = optuna.create_study(storage=storage, study_name=opts.study, direction="maximize", load_if_exists=True)
    stored = study.user_attrs.get("recipe")
    if stored is None:
        study.set_user_attr("recipe", opts.recipe())
    elif stored != opts.recipe():
        diff = "; ".join(f"{k}: {stored.get(k)!r} stored, {v!r} given" for k, v in opts.recipe().items()
                         if stored.get(k) != v)
        raise UsageError(f"cannot resume study {opts.study!r}: its recipe differs ({diff}); give the same options, "
                         "or --force to start over")
    shown = TuneOptions(**{**opts.to_dict(), "storage": None if opts.storage is None else masked(url)})
    out.mkdir(parents=True, exist_ok=True)
    write_json_atomic(out / "config.json", {"options": shown.to_dict(), "storage": masked(url),
                                            "command": shown.command()})
    threads = opts.threads or max(1, (os.cpu_count() or 1) // opts.workers)
    while True:
        done, running, queued = top_up(study, opts.trials)
        if done >= opts.trials:
            break
        if queued == 0:
            print(f"waiting for {running} trial(s) running elsewhere to finish or go stale ...", flush=True)
            time.sleep(heartbeat[0])
            continue
        print(f"study {opts.study}: {done} of {opts.trials} trials finished, {queued} to run on {opts.workers} "
              f"worker(s)", flush=True)
        begun = len(study.trials) - queued                              # the rounds' streams never repeat
        if opts.workers == 1:
            work(opts, url, (begun, 0), 0, threads, heartbeat, sets)
        else:
            ctx = mp.get_context("spawn")
            procs = [ctx.Process(target=_spawned, args=(opts, url, (begun, i), i, threads, heartbeat))
                     for i in range(opts.workers)]
            for p in procs:
                p.start()
            for p in procs:
                p.join()
            bad = [p.exitcode for p in procs if p.exitcode]
            if bad:
                kind = UsageError if all(c == 2 for c in bad) else RuntimeError
                raise kind(f"{len(bad)} of {opts.workers} tune workers failed (exit status {bad[0]}); see above")
    return write_results(opts, study, out, url, time.perf_counter() - t_start)


def write_results(opts: TuneOptions, study: optuna.Study, out: Path, url: str, seconds: float) -> dict:
    """trials.csv and best.json in ``out``; the summary ``deepfab wafer tune`` prints."""
    trials = sorted(study.get_trials(deepcopy=False), key=lambda t: t.number)
    names = opts.search_names

    def write_csv(f):
        w = csv.writer(f)
        w.writerow(["number", "state", "value", "epochs", *names])
        for t in trials:
            value = "" if t.value is None else f"{t.value:.6f}"
            w.writerow([t.number, t.state.name, value, t.user_attrs.get("epochs", ""),
                        *(t.params.get(n, "") for n in names)])

    write_atomic(out / "trials.csv", "w", write_csv)
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    best = max(complete, key=lambda t: t.value) if complete else None
    summary = {"study": opts.study, "storage": masked(url), "trials": len(trials), "seconds": round(seconds, 1),
               **{s.name.lower(): sum(t.state == s for t in trials) for s in TrialState}}
    if best is not None:
        command = opts.train_options(best.params, str(out / "best")).command()
        summary["best"] = {"number": best.number, "value": best.value, "params": best.params,
                           "epochs": best.user_attrs.get("epochs"), "command": command}
        write_json_atomic(out / "best.json", {**summary["best"], "study": opts.study, "storage": masked(url),
                                              "value_is": "best validation macro-F1 over the trial's epochs"})
    epochs = sum(int(t.user_attrs.get("epochs", 0)) for t in trials)
    summary["epochs"] = epochs
    summary["full_epochs"] = sum(t.state in DONE for t in trials) * opts.epochs
    return summary

