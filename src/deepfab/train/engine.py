"""``fit``: the one training loop of the course (device-agnostic, resumable, data-parallel).

Introduced in lecture 1 and used by every lecture that trains a network and by
``deepfab wafer train``.

    from deepfab.train import TrainConfig, fit
    result = fit(model, (X_train, y_train), (X_val, y_val),
                 TrainConfig(epochs=10, out_dir="runs/cnn", resume=True), label_names=names)
    result.model, result.history, result.best_epoch, result.best_metrics

One epoch: draw the sample order from a seeded generator, cut it into global batches, (each
rank takes its shard), augment on the device, mix (mixup/cutmix), forward under autocast on
CUDA, soft-target loss normalised by the global batch weight, backward (DDP averages
gradients), clip, step, schedule per step; then validate, track the best epoch, write the
checkpoint, print one line. The same seed gives the same history on the CPU; a run killed at
any point and restarted with ``resume=True`` ends where the uninterrupted run ends.

Dense prediction (lecture 4, segmentation): ``fit(..., loss_fn=f, metrics_fn=g)`` trains on
targets of any shape ``(N, ...)`` with ``f(outputs, targets) -> mean loss`` in place of the
classification loss; validation records ``val_loss = f`` on the whole validation set and
``val_<k>`` for each ``k`` of ``g(outputs, targets) -> {k: float}``; ``monitor`` must be ``"val_loss"``.

References:
    Goyal et al., "Accurate, Large Minibatch SGD" (global-batch gradient averaging), 2017.
    Micikevicius et al., "Mixed Precision Training", ICLR 2018.
    Prechelt, "Early Stopping - But When?", Neural Networks: Tricks of the Trade, 1998.
"""
from __future__ import annotations

import copy
import time
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..device import resolve_device
from ..io import save_torch_atomic, write_json_atomic
from . import checkpoint as ckpt_io
from . import distributed as D
from .config import MONITORS, TrainConfig, config_diff
from .data import DatasetData, TensorData, as_data, epoch_batches, global_batch_sizes, sample_order
from .evaluate import forward_logits, metrics_from_logits
from .losses import resolve_class_weights, soft_target_loss
from .mixing import mix_batch
from .optim import amp_dtype, make_optimizer, make_scheduler
from .progress import bar, epoch_line, progress_enabled, summary_line


@dataclass
class FitResult:
    """What ``fit`` returns; ``model`` holds the best validation weights when there was validation data
    (unless ``restore_best=False``: then the last epoch's)."""

    model: torch.nn.Module
    history: list = field(default_factory=list)      # one dict per epoch (no wall times: same seed, same history)
    best_epoch: int | None = None
    best_metrics: dict = field(default_factory=dict)  # full ``evaluate`` dict of the best epoch on val_data
    train_seconds: float = 0.0
    epochs_run: int = 0
    stopped_early: bool = False
    epoch_seconds: list = field(default_factory=list)
    out_dir: str | None = None


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


def _n_classes(model, data, device) -> int:
    # One forward pass of one sample (eval mode: no dropout draws, no BatchNorm updates).
    logits, _ = forward_logits(model, _Head(data), device, batch_size=1)
    return int(logits.shape[1])


class _Head:
    """The first sample of a data object, as a data object (to probe the model's output width)."""

    def __init__(self, data):
        self.data = data

    def __len__(self):
        return 1

    def batch(self, idx):
        if isinstance(self.data, DatasetData):
            x, y = self.data.dataset[0]
            return torch.as_tensor(x)[None], torch.as_tensor([int(y)])
        return self.data.batch(torch.zeros(1, dtype=torch.long))


def _better(score: float, best: float | None, mode: str) -> bool:
    if best is None:
        return True
    return score > best if mode == "max" else score < best


def fit(model: torch.nn.Module, train_data, val_data=None, config: TrainConfig | None = None,
        augment=None, label_names=None, on_epoch_end=None, loss_fn=None, metrics_fn=None) -> FitResult:
    """Train ``model`` on ``train_data`` (``(X, y)`` or a Dataset); see the module docstring.

    ``augment(x_batch, generator) -> x_batch`` runs on training batches on the device.
    ``on_epoch_end(record)`` is called on every rank after each epoch's checkpoint is written.
    ``loss_fn(outputs, targets) -> scalar`` (batch mean) replaces the classification loss, for
    dense targets; ``metrics_fn(outputs, targets) -> dict`` adds validation metrics to it.
    """
    cfg = config if config is not None else TrainConfig()
    if not isinstance(cfg, TrainConfig):
        raise ValueError(f"config must be a TrainConfig; got {type(cfg).__name__}")
    cfg.validate()
    if not isinstance(model, torch.nn.Module):
        raise ValueError(f"model must be a torch.nn.Module; got {type(model).__name__}")
    if augment is not None and not callable(augment):
        raise ValueError(f"augment must be callable(x_batch, generator) or None; got {type(augment).__name__}")
    _check_custom_loss(loss_fn, metrics_fn, cfg, val_data is not None)
    dense = loss_fn is not None
    train = as_data(train_data, cfg.num_workers, "train_data", dense=dense)
    val = as_data(val_data, 0, "val_data", dense=dense) if val_data is not None else None
    if cfg.early_stopping_patience is not None and val is None:
        raise ValueError("early_stopping_patience needs val_data to monitor; got val_data=None")
    info, device = D.setup(resolve_device(cfg.device))
    with _deterministic(device.type == "cpu"):
        return _fit(model, train, val, cfg, augment, label_names, on_epoch_end, info, device, loss_fn, metrics_fn)


def _check_custom_loss(loss_fn, metrics_fn, cfg, has_val: bool) -> None:
    """A custom loss replaces the classification machinery: its options must be off."""
    if loss_fn is None:
        if metrics_fn is not None:
            raise ValueError("metrics_fn needs loss_fn (it scores dense outputs); got loss_fn=None")
        return
    if not callable(loss_fn) or (metrics_fn is not None and not callable(metrics_fn)):
        raise ValueError(f"loss_fn and metrics_fn must be callable(outputs, targets); "
                         f"got {type(loss_fn).__name__} and {type(metrics_fn).__name__}")
    clash = {k: v for k, v in (("loss", cfg.loss if cfg.loss != "ce" else None),
                               ("label_smoothing", cfg.label_smoothing or None),
                               ("class_weights", cfg.class_weights), ("sampler", cfg.sampler),
                               ("mixup_alpha", cfg.mixup_alpha or None), ("cutmix_alpha", cfg.cutmix_alpha or None))
             if v is not None}
    if clash:
        raise ValueError(f"with loss_fn, the classification options must be left at their defaults; got {clash}")
    if has_val and cfg.monitor != "val_loss":
        raise ValueError(f"with loss_fn, TrainConfig.monitor must be 'val_loss'; got {cfg.monitor!r}")


def _fit(model, train, val, cfg, augment, label_names, on_epoch_end, info, device, loss_fn=None,
         metrics_fn=None) -> FitResult:
    module = model.to(device)
    dense = loss_fn is not None
    n_classes = None if dense else _n_classes(module, train, device)
    need_labels = not dense and (cfg.sampler == "balanced" or cfg.class_weights == "balanced"
                                 or isinstance(train, TensorData))
    labels = train.labels() if need_labels else None
    if labels is not None and labels.max() >= n_classes:
        raise ValueError(f"train labels must be < n_classes={n_classes} (the model's output width); got {labels.max()}")
    class_w = resolve_class_weights(cfg.class_weights, labels, n_classes)
    class_w = class_w.to(device) if class_w is not None else None
    for d in (train, val):
        if isinstance(d, TensorData) and device.type == "cuda" and d.X.element_size() * d.X.nelement() < 2**31:
            d.to(device)                              # the whole set on the GPU: no per-batch copies

    n = len(train)
    gsizes = global_batch_sizes(n, cfg.batch_size, info.world_size)
    if not gsizes:
        raise ValueError(f"train_data has {n} samples, fewer than the {info.world_size} data-parallel ranks")
    params = [p for p in module.parameters() if p.requires_grad]
    opt = make_optimizer(params, cfg)
    sched = make_scheduler(opt, cfg, steps_per_epoch=len(gsizes))
    dtype = amp_dtype(cfg.amp, device)
    scaler = torch.amp.GradScaler(device.type, enabled=dtype == torch.float16)
    gens = {"order": torch.Generator().manual_seed(cfg.seed),
            "mix": np.random.default_rng([cfg.seed, 1]),
            "augment": torch.Generator(device=device).manual_seed(cfg.seed + 2)}

    out = Path(cfg.out_dir) if cfg.out_dir else None
    st = {"epoch": 0, "history": [], "epoch_seconds": [], "train_seconds": 0.0, "finished": False,
          "stopped_early": False, "best": {"epoch": None, "score": None, "metrics": {}, "state": None},
          "bad_epochs": 0}
    if out is not None and cfg.resume and (out / "checkpoint.pt").is_file():
        st = _restore(out / "checkpoint.pt", cfg, module, opt, sched, scaler, gens, n, info)
        if info.is_main:
            print(f"resumed {out / 'checkpoint.pt'} at epoch {st['epoch']}/{cfg.epochs}"
                  + (" (finished)" if st["finished"] else ""))
    elif out is not None and info.is_main:
        out.mkdir(parents=True, exist_ok=True)
        write_json_atomic(out / "config.json", cfg.to_dict())
    if st["finished"]:                                # _restore loaded the last epoch's weights
        return _result(module, st, out, cfg.restore_best)

    net = module
    if info.enabled:
        ids = [device.index] if device.type == "cuda" else None
        net = torch.nn.parallel.DistributedDataParallel(module, device_ids=ids)
    mode = MONITORS[cfg.monitor]
    gamma = cfg.focal_gamma if cfg.loss == "focal" else 0.0
    show = progress_enabled(cfg.progress, info.is_main)
    autocast = (lambda: torch.autocast(device.type, dtype=dtype)) if dtype is not None else nullcontext
    step = st["epoch"] * len(gsizes)

    for epoch in range(st["epoch"], cfg.epochs):
        t0 = time.perf_counter()
        net.train()
        order = sample_order(n, gens["order"], labels if cfg.sampler == "balanced" else None)
        batches = epoch_batches(order, cfg.batch_size, info.rank, info.world_size)
        it = train.loader(batches, seed=cfg.seed * 100003 + epoch) if isinstance(train, DatasetData) \
            else (train.batch(b) for b in batches)
        loss_acc = torch.zeros((), dtype=torch.float64, device=device)   # sum over batches of loss * global size
        correct = torch.zeros((), dtype=torch.int64, device=device)
        seen = 0
        pbar = bar(len(batches), f"train {epoch + 1}/{cfg.epochs}", show)
        for i, (xb, yb) in enumerate(it):
            xb, yb = xb.to(device, non_blocking=True), yb.to(device, non_blocking=True)
            yb = yb if dense else yb.long()
            if not dense and isinstance(train, DatasetData) and int(yb.max()) >= n_classes:
                raise ValueError(f"train labels must be < n_classes={n_classes}; got {int(yb.max())}")
            if augment is not None:
                xb = augment(xb, gens["augment"])
            if dense:
                with autocast():
                    logits = net(xb)
                bsz = torch.tensor(float(yb.shape[0]), device=device)
                num, den = loss_fn(logits.float(), yb) * bsz, bsz       # batch mean -> (sum, weight)
            else:
                xb, tb = mix_batch(xb, yb, n_classes, cfg.mixup_alpha, cfg.cutmix_alpha, gens["mix"])
                with autocast():
                    logits = net(xb)
                num, den = soft_target_loss(logits, tb, class_w, cfg.label_smoothing, gamma)
            den = D.all_reduce_tensor_sum(den.detach(), info).clamp_min(1e-12)  # weight of the global batch
            loss = num / den * info.world_size                            # DDP's mean of grads = grad of global mean
            opt.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            if cfg.grad_clip is not None:
                scaler.unscale_(opt)
                torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip)
            scaler.step(opt)
            scaler.update()
            if sched is not None:
                sched.step()
            step += 1
            loss_acc += (num.detach() / den).double() * gsizes[i]
            if not dense:
                correct += (logits.detach().argmax(1) == yb).sum()
            seen += int(yb.shape[0])
            pbar.update(1)
            if cfg.log_every and step % cfg.log_every == 0 and info.is_main:
                pbar.write(f"step {step}: loss {(num / den).item():.4f}, lr {opt.param_groups[0]['lr']:.1e}")
        pbar.close()
        tot_loss, tot_correct, tot_seen = D.all_reduce_sum([loss_acc.item(), float(correct.item()), float(seen)],
                                                           info, device)
        record = {"epoch": epoch + 1, "train_loss": tot_loss / sum(gsizes)}
        if not dense:
            record["train_accuracy"] = tot_correct / tot_seen
        if val is not None and dense:
            m = _dense_metrics(*forward_logits(net, val, device, max(512, cfg.batch_size), info, dense=True),
                               loss_fn, metrics_fn)
            record.update({f"val_{k}": v for k, v in m.items()})
        elif val is not None:
            m = metrics_from_logits(*forward_logits(net, val, device, max(512, cfg.batch_size), info), label_names)
            record.update(val_loss=m["loss"], val_accuracy=m["accuracy"], val_macro_f1=m["macro_f1"],
                          val_balanced_accuracy=m["balanced_accuracy"])
        if val is not None:
            best = st["best"]
            if _better(record[cfg.monitor], best["score"], mode):
                st["best"] = {"epoch": epoch + 1, "score": record[cfg.monitor], "metrics": m,
                              "state": {k: v.detach().cpu().clone() for k, v in module.state_dict().items()}}
                st["bad_epochs"] = 0
            else:
                st["bad_epochs"] += 1
        else:
            st["best"] = {"epoch": epoch + 1, "score": None, "metrics": {}, "state": None}
        record["lr"] = float(opt.param_groups[0]["lr"])
        seconds = time.perf_counter() - t0
        st["history"].append(record)
        st["epoch_seconds"].append(seconds)
        st["train_seconds"] += seconds
        st["epoch"] = epoch + 1
        st["stopped_early"] = cfg.early_stopping_patience is not None and st["bad_epochs"] >= cfg.early_stopping_patience
        st["finished"] = st["stopped_early"] or st["epoch"] == cfg.epochs
        if info.is_main:
            print(epoch_line(record, cfg.epochs, seconds), flush=True)
            if out is not None:
                _save(out, st, cfg, module, opt, sched, scaler, gens, n, info)
        D.barrier(info)
        if on_epoch_end is not None:
            on_epoch_end(dict(record))
        if st["stopped_early"]:
            break
    result = _result(module, st, out, cfg.restore_best)
    if info.is_main:
        print(summary_line(result.best_epoch, result.best_metrics, result.epochs_run,
                           result.train_seconds, result.stopped_early), flush=True)
    return result


def _dense_metrics(outputs: torch.Tensor, targets: torch.Tensor, loss_fn, metrics_fn) -> dict:
    """Validation of a custom-loss fit: ``loss`` over the whole set, then ``metrics_fn``'s numbers."""
    m = {"loss": float(loss_fn(outputs, targets))}
    extra = metrics_fn(outputs, targets) if metrics_fn is not None else {}
    if not isinstance(extra, dict) or "loss" in extra:
        raise ValueError(f"metrics_fn must return a dict of floats without a 'loss' key; got {extra!r}")
    m.update({str(k): float(v) for k, v in extra.items()})
    return m


def _result(module, st, out, restore_best: bool = True) -> FitResult:
    if restore_best and st["best"]["state"] is not None:
        module.load_state_dict(st["best"]["state"])   # best validation weights
    return FitResult(model=module, history=copy.deepcopy(st["history"]), best_epoch=st["best"]["epoch"],
                     best_metrics=copy.deepcopy(st["best"]["metrics"]), train_seconds=st["train_seconds"],
                     epochs_run=st["epoch"], stopped_early=st["stopped_early"],
                     epoch_seconds=list(st["epoch_seconds"]), out_dir=str(out) if out else None)


def _save(out: Path, st, cfg, module, opt, sched, scaler, gens, n, info) -> None:
    state = {k: v.detach().cpu() for k, v in module.state_dict().items()}
    save_torch_atomic({
        "format": ckpt_io.FORMAT, "config": cfg.to_dict(), "n_train": n, "world_size": info.world_size,
        "epoch": st["epoch"], "finished": st["finished"], "stopped_early": st["stopped_early"],
        "history": st["history"], "epoch_seconds": st["epoch_seconds"], "train_seconds": st["train_seconds"],
        "best": st["best"], "bad_epochs": st["bad_epochs"],
        "model": state, "optimizer": opt.state_dict(),
        "scheduler": sched.state_dict() if sched is not None else None, "scaler": scaler.state_dict(),
        "rng": ckpt_io.rng_state(gens),
    }, out / "checkpoint.pt")
    if st["best"]["epoch"] == st["epoch"]:
        save_torch_atomic(st["best"]["state"] if st["best"]["state"] is not None else state, out / "best.pt")
    write_json_atomic(out / "history.json", {
        "history": st["history"], "epoch_seconds": st["epoch_seconds"], "best_epoch": st["best"]["epoch"],
        "best_metrics": st["best"]["metrics"], "stopped_early": st["stopped_early"], "finished": st["finished"]})


def _restore(path: Path, cfg, module, opt, sched, scaler, gens, n, info) -> dict:
    ck = ckpt_io.load(path, map_location="cpu")
    diff = config_diff(TrainConfig.from_dict(ck["config"]).math_dict(), cfg.math_dict())
    if diff:
        raise ValueError(f"cannot resume from {path}: the config differs ({'; '.join(diff)}). "
                         "Use the same config, or a new out_dir / resume=False to start over.")
    if ck["n_train"] != n:
        raise ValueError(f"cannot resume from {path}: it was trained on {ck['n_train']} samples, train_data has {n}")
    if ck["world_size"] != info.world_size:
        raise ValueError(f"cannot resume from {path}: it ran on {ck['world_size']} process(es), this run has "
                         f"{info.world_size}")
    ckpt_io.check_model_matches(module, ck["model"], path)
    module.load_state_dict(ck["model"])
    opt.load_state_dict(ck["optimizer"])
    if sched is not None:
        sched.load_state_dict(ck["scheduler"])
    scaler.load_state_dict(ck["scaler"])
    ckpt_io.set_rng_state(ck["rng"], gens)
    return {k: ck[k] for k in ("epoch", "history", "epoch_seconds", "train_seconds", "finished", "stopped_early",
                               "best", "bad_epochs")}
