"""``fit``: the one training loop of the course (device-agnostic, resumable, data-parallel).

Introduced in lecture 1 and used by every lecture that trains a network and by
``deepfab wafer train``.

    from deepfab.train import TrainConfig, fit
    result = fit(model, (X_train, y_train), (X_val, y_val),
                 TrainConfig(epochs=10, out_dir="runs/cnn", resume=True), label_names=names)
    result.model, result.history, result.best_epoch, result.best_metrics

One epoch (``_train_epoch``): draw the sample order from a seeded generator, cut it into global
batches (each rank takes its shard), augment on the device, let the loss make the targets
(mixup/cutmix for classification), forward under autocast on CUDA, the loss normalised by the
global batch weight, backward (DDP averages gradients), clip, step, schedule per step. Then
``_validate`` scores the validation set, the ``TrainState`` keeps the best epoch and counts
towards early stopping, ``_save`` writes the checkpoint, and one line is printed. With
``channels_last`` the model's 4-D weights and every 4-D batch are kept in channels-last memory
order (N, H, W, C in memory), which the CPU's convolution kernels read faster (the wafer ResNet
trained in 0.69 to 0.75 times the time on a 2-core Xeon, ``benchmarks/bench_train.py
--channels-last``); the arithmetic is the same up to rounding (but dropout, which draws its mask in
memory order, drops other units), and the returned model and the checkpoints are in the ordinary
order. The same seed gives the same history on the CPU; a run killed at any point and restarted
with ``resume=True`` ends where the uninterrupted run ends.

The loss is the one extension point (``deepfab.train.objective``): classification by default,
built from the ``TrainConfig``; ``loss_fn=f, metrics_fn=g`` for dense targets such as the
segmentation masks of lecture 4 (``f(outputs, targets) -> batch mean``, ``g -> {k: float}``,
``monitor="val_loss"``); or any ``Loss`` subclass, ``loss_fn=MyLoss()``.

What does not fit ``fit`` (several networks or optimisers stepped in turn as in a GAN, data that
the model's own actions produce as in RL, a stream of samples learnt one at a time) gets a short
loop of its own on the engine's helpers, never a new flag here:

    info, device = setup(resolve_device(cfg.device))                  # .distributed, deepfab.device
    opt_g, opt_d = make_optimizer(g_params, cfg), make_optimizer(d_params, cfg)   # .optim
    state, gens = TrainState(), {"z": torch.Generator().manual_seed(cfg.seed)}    # .state
    for epoch in range(state.epoch, cfg.epochs):
        for xb in batches:                                              # .progress.bar
            optimizer_step(d_loss(xb), opt_d, scaler, d_params)         # .optim
            optimizer_step(g_loss(xb), opt_g, scaler, g_params)
        state.end_epoch(record, seconds, None, cfg.epochs)
        print(epoch_line(record, cfg.epochs, seconds))                  # .progress
        save_torch_atomic({**state.to_dict(), "g": ..., "d": ..., "rng": rng_state(gens)}, path)  # .checkpoint

References:
    Goyal et al., "Accurate, Large Minibatch SGD" (global-batch gradient averaging), 2017.
    Micikevicius et al., "Mixed Precision Training", ICLR 2018.
    Prechelt, "Early Stopping - But When?", Neural Networks: Tricks of the Trade, 1998.
"""
from __future__ import annotations

import copy
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..device import cpu_has_bf16, resolve_device
from ..errors import DataError, UsageError
from ..io import save_torch_atomic, write_json_atomic
from . import checkpoint as ckpt_io
from . import distributed as D
from .config import MONITORS, TrainConfig, config_diff
from .data import TensorData, as_data, epoch_batches, global_batch_sizes, sample_order
from .evaluate import forward_logits
from .objective import Loss, make_loss
from .optim import amp_dtype, make_optimizer, make_scheduler, optimizer_step
from .progress import bar, epoch_line, progress_enabled, summary_line
from .state import Best, TrainState


@dataclass
class FitResult:
    """What ``fit`` returns; ``model`` holds the best validation weights when there was validation data
    (unless ``restore_best=False``: then the last epoch's)."""

    model: torch.nn.Module
    history: list = field(default_factory=list)      # one dict per epoch (no wall times: same seed, same history)
    best_epoch: int | None = None
    best_metrics: dict = field(default_factory=dict)  # the loss's full validation metrics of the best epoch
    train_seconds: float = 0.0
    epochs_run: int = 0
    stopped_early: bool = False
    epoch_seconds: list = field(default_factory=list)
    out_dir: str | None = None


@dataclass
class _Run:
    """What one ``fit`` works with, built once by ``_start``."""

    cfg: TrainConfig
    module: torch.nn.Module           # the model itself (DDP wraps it for the training forward only)
    loss: Loss
    train: object                     # TensorData | DatasetData
    val: object | None
    augment: Callable | None
    info: D.DistInfo
    device: torch.device
    params: list
    opt: torch.optim.Optimizer
    sched: object | None
    scaler: torch.amp.GradScaler
    gens: dict                        # the engine's own generators: data order, target mixing, augmentation
    gsizes: list                      # global batch sizes of one epoch
    labels: np.ndarray | None         # per-sample class labels for balanced sampling, else None
    autocast: Callable
    show: bool                        # draw progress bars
    out: Path | None


def fit(model: torch.nn.Module, train_data, val_data=None, config: TrainConfig | None = None,
        augment=None, label_names=None, on_epoch_end=None, loss_fn=None, metrics_fn=None) -> FitResult:
    """Train ``model`` on ``train_data`` (``(X, y)`` or a Dataset); see the module docstring.

    ``augment(x_batch, generator) -> x_batch`` runs on training batches on the device.
    ``on_epoch_end(record)`` is called on every rank after each epoch's checkpoint is written.
    ``loss_fn``: None (classification from ``config``, scored with ``label_names``), a callable
    ``(outputs, targets) -> batch mean`` for dense targets with ``metrics_fn(outputs, targets) -> dict``
    for validation, or a ``deepfab.train.objective.Loss``.
    """
    cfg = config if config is not None else TrainConfig()
    if not isinstance(cfg, TrainConfig):
        raise UsageError(f"config must be a TrainConfig; got {type(cfg).__name__}")
    cfg.validate()
    if not isinstance(model, torch.nn.Module):
        raise UsageError(f"model must be a torch.nn.Module; got {type(model).__name__}")
    if augment is not None and not callable(augment):
        raise UsageError(f"augment must be callable(x_batch, generator) or None; got {type(augment).__name__}")
    loss = make_loss(loss_fn, metrics_fn, cfg, label_names)
    loss.check(cfg, val_data is not None)
    train = as_data(train_data, cfg.num_workers, "train_data", dense=loss.dense)
    val = as_data(val_data, 0, "val_data", dense=loss.dense) if val_data is not None else None
    if cfg.early_stopping_patience is not None and val is None:
        raise UsageError("early_stopping_patience needs val_data to monitor; got val_data=None")
    info, device = D.setup(resolve_device(cfg.device))
    with _deterministic(device.type == "cpu"):
        run = _start(model, train, val, cfg, loss, augment, info, device)
        state = _begin(run)
        if not state.finished:                       # a finished run's checkpoint holds its last weights
            _epochs(run, state, on_epoch_end)
        return _result(run, state)


@contextmanager
def _deterministic(enabled: bool):
    """Deterministic kernels for the duration of a CPU fit; the caller's setting is restored."""
    before, warn = torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled()
    if enabled:
        torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(before, warn_only=warn)


def _start(model, train, val, cfg, loss, augment, info, device) -> _Run:
    module = model.to(device, memory_format=torch.channels_last if cfg.channels_last else torch.preserve_format)
    labels = loss.start(module, train, device)
    for d in (train, val):
        if isinstance(d, TensorData) and device.type == "cuda" and d.X.element_size() * d.X.nelement() < 2**31:
            d.to(device)                              # the whole set on the GPU: no per-batch copies
    gsizes = global_batch_sizes(len(train), cfg.batch_size, info.world_size)
    if not gsizes:
        raise DataError(f"train_data has {len(train)} samples, fewer than the {info.world_size} data-parallel ranks")
    params = [p for p in module.parameters() if p.requires_grad]
    opt = make_optimizer(params, cfg)
    dtype = amp_dtype(cfg.amp, device)
    if dtype == torch.bfloat16 and device.type == "cpu" and info.is_main and cpu_has_bf16() is False:
        print("note: this CPU has no bfloat16 instructions (AVX512-BF16 or AMX), so amp 'bf16' is emulated "
              "and slower than float32 here; amp 'off' (--amp off) trains in float32", file=sys.stderr)
    gens = {"order": torch.Generator().manual_seed(cfg.seed),
            "mix": np.random.default_rng([cfg.seed, 1]),
            "augment": torch.Generator(device=device).manual_seed(cfg.seed + 2)}
    return _Run(cfg, module, loss, train, val, augment, info, device, params, opt,
                sched=make_scheduler(opt, cfg, steps_per_epoch=len(gsizes)),
                scaler=torch.amp.GradScaler(device.type, enabled=dtype == torch.float16), gens=gens,
                gsizes=gsizes, labels=labels,
                autocast=(lambda: torch.autocast(device.type, dtype=dtype)) if dtype is not None else nullcontext,
                show=progress_enabled(cfg.progress, info.is_main), out=Path(cfg.out_dir) if cfg.out_dir else None)


def _begin(run: _Run) -> TrainState:
    """The state in ``out_dir/checkpoint.pt`` when resuming, else a fresh one (and ``config.json``)."""
    path = run.out / "checkpoint.pt" if run.out is not None else None
    if path is not None and run.cfg.resume and path.is_file():
        state = _restore(path, run)
        if run.info.is_main:
            print(f"resumed {path} at epoch {state.epoch}/{run.cfg.epochs}" + (" (finished)" if state.finished else ""))
        return state
    if run.out is not None and run.info.is_main:
        run.out.mkdir(parents=True, exist_ok=True)
        write_json_atomic(run.out / "config.json", run.cfg.to_dict())
    return TrainState()


def _epochs(run: _Run, state: TrainState, on_epoch_end) -> None:
    """Epochs from ``state.epoch`` on: train, validate, keep the best, checkpoint, log; stop early or at the end."""
    cfg, info = run.cfg, run.info
    net = run.module
    if info.enabled:
        ids = [run.device.index] if run.device.type == "cuda" else None
        net = torch.nn.parallel.DistributedDataParallel(run.module, device_ids=ids)
    for epoch in range(state.epoch, cfg.epochs):
        t0 = time.perf_counter()
        record = {"epoch": epoch + 1, **_train_epoch(run, net, epoch)}
        if run.val is not None:
            m = _validate(run, net)
            record.update(run.loss.record(m))
            state.observe(record[cfg.monitor], MONITORS[cfg.monitor], m, run.module.state_dict())
        else:
            state.best = Best(epoch=epoch + 1)       # without validation the last epoch is the best
        record["lr"] = float(run.opt.param_groups[0]["lr"])
        seconds = time.perf_counter() - t0
        state.end_epoch(record, seconds, cfg.early_stopping_patience, cfg.epochs)
        if info.is_main:
            print(epoch_line(record, cfg.epochs, seconds), flush=True)
            if run.out is not None:
                _save(run, state)
        D.barrier(info)
        if on_epoch_end is not None:
            on_epoch_end(dict(record))
        if state.stopped_early:
            break
    if info.is_main:
        print(summary_line(state.best.epoch, state.best.metrics, state.epoch, state.train_seconds,
                           state.stopped_early), flush=True)


def _train_epoch(run: _Run, net: torch.nn.Module, epoch: int) -> dict:
    """One pass over the training data: ``train_loss`` and the loss's mean training scores."""
    cfg, info, device, gens, loss = run.cfg, run.info, run.device, run.gens, run.loss
    net.train()
    order = sample_order(len(run.train), gens["order"], run.labels)
    batches = epoch_batches(order, cfg.batch_size, info.rank, info.world_size)
    loss_acc = torch.zeros((), dtype=torch.float64, device=device)   # sum over batches of loss * global size
    sums, seen = {}, 0                                                 # loss.counts summed over batches
    step = epoch * len(run.gsizes)
    pbar = bar(len(batches), f"train {epoch + 1}/{cfg.epochs}", run.show)
    for i, (xb, yb) in enumerate(run.train.iterate(batches, seed=cfg.seed * 100003 + epoch)):
        xb, yb = xb.to(device, non_blocking=True), yb.to(device, non_blocking=True)
        if run.augment is not None:
            xb = run.augment(xb, gens["augment"])
        xb, tb = loss.targets(xb, yb, gens["mix"])
        if cfg.channels_last and xb.ndim == 4:
            xb = xb.contiguous(memory_format=torch.channels_last)
        with run.autocast():
            outputs = net(xb)
        num, den = loss(outputs, tb)
        den = D.all_reduce_tensor_sum(den.detach(), info).clamp_min(1e-12)   # weight of the global batch
        # DDP averages gradients over ranks: world_size * (rank's sum / global weight) makes that the global mean
        optimizer_step(num / den * info.world_size, run.opt, run.scaler, run.params, cfg.grad_clip, run.sched)
        step += 1
        loss_acc += (num.detach() / den).double() * run.gsizes[i]
        for k, v in loss.counts(outputs.detach(), yb).items():
            sums[k] = sums[k] + v if k in sums else v
        seen += int(yb.shape[0])
        pbar.update(1)
        if cfg.log_every and step % cfg.log_every == 0 and info.is_main:
            pbar.write(f"step {step}: loss {(num / den).item():.4f}, lr {run.opt.param_groups[0]['lr']:.1e}")
    pbar.close()
    totals = D.all_reduce_sum([loss_acc.item(), *(float(v.item()) for v in sums.values()), float(seen)], info, device)
    scores = {k: s / totals[-1] for k, s in zip(sums, totals[1:-1])}
    return {"train_loss": totals[0] / sum(run.gsizes), **scores}


def _validate(run: _Run, net: torch.nn.Module) -> dict:
    """The loss's metrics of the whole validation set (every rank gets the same numbers under torchrun)."""
    outputs, targets = forward_logits(net, run.val, run.device, max(512, run.cfg.batch_size), run.info,
                                      dense=run.loss.dense)
    return run.loss.metrics(outputs, targets)


def _save(run: _Run, state: TrainState) -> None:
    """``checkpoint.pt`` (everything a resume needs), ``best.pt`` when this epoch is the best, ``history.json``."""
    weights = {k: v.detach().cpu().contiguous() for k, v in run.module.state_dict().items()}
    save_torch_atomic({
        "format": ckpt_io.FORMAT, "config": run.cfg.to_dict(), "n_train": len(run.train),
        "world_size": run.info.world_size, **state.to_dict(),
        "model": weights, "optimizer": run.opt.state_dict(),
        "scheduler": run.sched.state_dict() if run.sched is not None else None, "scaler": run.scaler.state_dict(),
        "rng": ckpt_io.rng_state(run.gens),
    }, run.out / "checkpoint.pt")
    if state.best.epoch == state.epoch:
        save_torch_atomic(state.best.state if state.best.state is not None else weights, run.out / "best.pt")
    write_json_atomic(run.out / "history.json", {
        "history": state.history, "epoch_seconds": state.epoch_seconds, "best_epoch": state.best.epoch,
        "best_metrics": state.best.metrics, "stopped_early": state.stopped_early, "finished": state.finished})


def _restore(path: Path, run: _Run) -> TrainState:
    """Load a checkpoint of the same config, data size and world size into the run; return its state."""
    ck = ckpt_io.load(path, map_location="cpu")
    diff = config_diff(TrainConfig.from_dict(ck["config"]).math_dict(), run.cfg.math_dict())
    if diff:
        raise UsageError(f"cannot resume from {path}: the config differs ({'; '.join(diff)}). "
                         "Use the same config, or a new out_dir / resume=False to start over.")
    if ck["n_train"] != len(run.train):
        raise DataError(f"cannot resume from {path}: it was trained on {ck['n_train']} samples, "
                        f"train_data has {len(run.train)}")
    if ck["world_size"] != run.info.world_size:
        raise UsageError(f"cannot resume from {path}: it ran on {ck['world_size']} process(es), this run has "
                         f"{run.info.world_size}")
    ckpt_io.check_model_matches(run.module, ck["model"], path)
    run.module.load_state_dict(ck["model"])
    run.opt.load_state_dict(ck["optimizer"])
    if run.sched is not None:
        run.sched.load_state_dict(ck["scheduler"])
    run.scaler.load_state_dict(ck["scaler"])
    ckpt_io.set_rng_state(ck["rng"], run.gens)
    return TrainState.from_dict(ck)


def _result(run: _Run, state: TrainState) -> FitResult:
    if run.cfg.channels_last:
        run.module.to(memory_format=torch.contiguous_format)
    if run.cfg.restore_best and state.best.state is not None:
        run.module.load_state_dict(state.best.state)   # best validation weights
    return FitResult(model=run.module, history=copy.deepcopy(state.history), best_epoch=state.best.epoch,
                     best_metrics=copy.deepcopy(state.best.metrics), train_seconds=state.train_seconds,
                     epochs_run=state.epoch, stopped_early=state.stopped_early,
                     epoch_seconds=list(state.epoch_seconds), out_dir=str(run.out) if run.out else None)
