"""Make a trained wafer classifier smaller and faster: the body of ``deepfab wafer compress``.

Three recipes (``--method``), applied to a model folder and written as a new model folder that
``deepfab wafer eval|predict|explain`` load like any other:

    int8        (the default) post-training static int8 quantization (``deepfab.compress.quantize_int8``,
                torch.fx, engine x86) of every residual stage, activation ranges observed on
                ``calibration`` training maps; stem and head stay float (``model_io.Int8Stages``);
    slim        structured channel pruning (``deepfab.compress.prune_channels``: a share ``keep`` of
                the filters of every conv, ranked by L1 norm, each count rounded down to a multiple of
                8, where int8 kernels are fast) to a smaller dense ``SlimResNet``, then
                a distillation fine-tune (``deepfab.compress.DistillLoss``: the original model is the
                teacher, temperature T, soft-target weight alpha) on the model's own training maps,
                with the engine of ``deepfab.train.fit`` (AdamW, one-cycle, a random symmetry of the
                square per map, checkpoints: ``--resume`` continues a killed run); stored with
                BatchNorm folded into the convolutions, as prediction runs it;
    slim+int8   both: prune, fine-tune, quantize.

    metrics = compress_model("default", "runs/wafer-int8")                     # int8
    metrics = compress_model("default", "runs/wafer-slim", method="slim+int8", keep=0.5, epochs=3)
    wm = load_model("runs/wafer-int8")                  # model.pt read with weights_only=True

The new folder holds ``model.pt`` (a plain state_dict, int8 tensors included), ``config.json``
(the recipe, the parent model and the SHA-256 of its model.pt, the training files, the command
that compresses it again), ``metrics.json`` (bytes, fine-tune history, the agreement with the
parent, the measured speed ratio), ``README.md`` and the novelty score ``ood.pt`` fitted again for
the new network (``deepfab.wafer.novelty``, as ``deepfab wafer calibrate`` does: Mahalanobis
distances read its stages, so the parent's score does not carry over). An existing model folder
is replaced only with ``force``; the parent is never written.

Introduced with the ``deepfab wafer`` tool; lecture 12 teaches the methods.

References: H. Li et al., "Pruning Filters for Efficient ConvNets", ICLR 2017; G. Hinton, O. Vinyals,
J. Dean, "Distilling the Knowledge in a Neural Network", arXiv:1503.02531, 2015; B. Jacob et al.,
"Quantization and Training of Neural Networks for Efficient Integer-Arithmetic-Only Inference",
CVPR 2018.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
import torch

from .. import __version__
from ..augment import RandomDihedral
from ..compress import DistillLoss, prune_channels
from ..data import DataError, encode_maps, lot_ordered_split
from ..device import seed_everything
from ..errors import ModelError, UsageError
from ..io import note_new_folders, write_atomic, write_json_atomic
from ..train import TrainConfig, fit
from .model_io import (
    DEFAULT_DIR,
    INT8_SCHEME,
    WaferModel,
    fold_batchnorm,
    int8_stages,
    load_model,
    open_data,
    save_model,
    sha256,
)
from .options import CompressOptions, TrainOptions
from .training import CKPT, calibrate_folder, claim_model_dir, combine, options_of, training_sets

CHANNEL_MULTIPLE = 8    # kept channel counts are multiples of it: an int8 stage of 12 channels ran 5x slower than 8
SPEED_MAPS = 512        # maps timed for the speed ratio written into metrics.json and README.md
SCORE_MAPS = 4000       # training maps scored when the model has no validation maps


def compress_model(model: WaferModel | str | Path, out: str | Path, method: str = "int8", **options) -> dict:
    """Compress ``model`` (a loaded ``WaferModel``, a folder or ``"default"``) into the folder ``out``;
    ``options``: the other fields of ``CompressOptions``. Returns what metrics.json holds."""
    spec = str(model.path) if isinstance(model, WaferModel) else str(model)
    opts = CompressOptions(model=spec, out=str(out), method=method, **options)
    return run_compress(opts, model if isinstance(model, WaferModel) else None)


def _parent_sets(wm: WaferModel, opts: CompressOptions):
    """(train, val or None, files, training options of the sets): the parent's own training and validation
    maps, rebuilt from its config.json (files checked against their SHA-256), or ``opts.data``."""
    if opts.data is not None:
        sets = [open_data(spec) for spec in opts.data]
        files = [{"spec": s, "file": p.name, "sha256": sha256(p), "n": len(ws)} for s, (ws, p) in zip(opts.data, sets)]
        return combine([ws for ws, _ in sets]), None, files, TrainOptions(data=list(opts.data), out=opts.out,
                                                                          seed=opts.seed)
    if not wm.config.get("data"):
        raise DataError(f"{wm.path}/config.json lists no training files; give the maps to fine-tune and calibrate "
                        "on with --data FILE...")
    topts = options_of(wm.config, opts.out)
    train, val, files, _ = training_sets(topts)
    for want, got in zip(wm.config["data"], files):
        if want.get("sha256") not in (None, got["sha256"]):
            raise DataError(f"{want['spec']}: the file differs from the one the model was trained on (SHA-256 "
                            f"{got['sha256'][:12]}..., config.json says {want['sha256'][:12]}...)")
    return train, val, files, topts


def _labels(wm: WaferModel, ws) -> np.ndarray:
    """``ws.labels`` as indices into the model's classes."""
    unknown = sorted(set(ws.label_names) - set(wm.label_names))
    if unknown:
        raise DataError(f"{ws.name}: classes {unknown} are not among the model's {wm.label_names}")
    return np.array([wm.label_names.index(n) for n in ws.label_names])[ws.labels]


def _check_parent(wm: WaferModel, out: Path) -> None:
    done = wm.config.get("compressed")
    if done is not None:
        raise ModelError(f"{wm.path} is already compressed ({done.get('method')}); compress the model it came "
                         f"from ({done.get('parent')}) with the recipe you want")
    if out.resolve() in (wm.path.resolve(), DEFAULT_DIR.resolve()):
        raise UsageError(f"--out {out} is the model being compressed; choose a new folder")


def fine_tune(wm: WaferModel, X: np.ndarray, y: np.ndarray, val, opts: CompressOptions, run: dict):
    """Prune ``wm.net`` and distil it on (X, y) from ``wm`` as teacher; (student, fit result, config)."""
    out = Path(opts.out)
    student = prune_channels(wm.net.cpu(), opts.keep, opts.criterion, multiple=CHANNEL_MULTIPLE)
    seed_everything(opts.seed)
    cfg = TrainConfig(epochs=opts.epochs, batch_size=opts.batch_size, lr=opts.lr, optimizer="adamw",
                      weight_decay=opts.weight_decay, scheduler="onecycle", seed=opts.seed, device=opts.device,
                      sampler=None if opts.sampler == "shuffle" else opts.sampler,
                      out_dir=str(out / CKPT), resume=opts.resume, monitor="val_macro_f1", restore_best=False)
    run_file = out / CKPT / "run.json"
    if opts.resume and run_file.exists() and json.loads(run_file.read_text()) != json.loads(json.dumps(run)):
        raise ModelError(f"{out}: cannot resume, the parent model, data or recipe differ from the run in {run_file}; "
                         "use the same arguments, or --force to start over")
    run_file.parent.mkdir(parents=True, exist_ok=True)
    run_file.write_text(json.dumps(run, indent=2) + "\n")
    loss = DistillLoss(wm.fast_net, opts.temperature, opts.alpha, label_names=wm.label_names)
    try:
        result = fit(student, (X, y), val, cfg, augment=RandomDihedral(), loss_fn=loss)
    except ValueError as exc:  # e.g. resuming with other hyper-parameters
        raise ModelError(str(exc)) from None
    return result.model.cpu().eval(), result, cfg


def _agreement(parent: WaferModel, child: WaferModel, maps, y) -> dict:
    """Macro-F1 of parent and child (8-view averaging) on labelled maps, and how often they agree."""
    from ..train.metrics import classification_metrics

    p, c = parent.predict_proba(maps).argmax(1), child.predict_proba(maps).argmax(1)
    mp = classification_metrics(y, p, parent.label_names)
    mc = classification_metrics(y, c, parent.label_names)
    return {"n": len(maps), "parent_macro_f1": mp["macro_f1"], "macro_f1": mc["macro_f1"],
            "parent_accuracy": mp["accuracy"], "accuracy": mc["accuracy"], "agreement": float((p == c).mean()),
            "parent_errors": int((p != y).sum()), "errors": int((c != y).sum()),
            "parent_per_class_recall": mp["per_class_recall"], "per_class_recall": mc["per_class_recall"]}


def speed_ratio(parent: WaferModel, child: WaferModel, maps, rounds: int = 3) -> dict:
    """Seconds per map of each model's prediction (8-view averaging, and the novelty score where the folder
    has one) on the same maps, rounds interleaved in one process; the best round of each."""
    from .novelty import load_novelty

    best = {"parent": float("inf"), "child": float("inf")}
    for _ in range(rounds):
        for key, wm in (("parent", parent), ("child", child)):
            nov = load_novelty(wm)
            t0 = time.perf_counter()
            wm.predict_proba(maps) if nov is None else nov.predict(wm, maps)
            best[key] = min(best[key], (time.perf_counter() - t0) / len(maps))
    return {"maps": len(maps), "parent_ms_per_map": 1e3 * best["parent"], "ms_per_map": 1e3 * best["child"],
            "ratio": best["child"] / best["parent"], "threads": torch.get_num_threads()}


def run_compress(opts: CompressOptions, parent: WaferModel | None = None) -> dict:
    """Compress as ``opts`` says (module docstring); ``parent``: the model already loaded."""
    t_start = time.perf_counter()
    if opts.threads is not None:
        torch.set_num_threads(opts.threads)
    wm = parent if parent is not None else load_model(opts.model, device=opts.device)
    out = note_new_folders(opts.out)
    _check_parent(wm, out)
    if not opts.slim and opts.resume:
        raise UsageError("--resume continues a fine-tune; --method int8 has none (run it again without --resume)")
    train, val, files, topts = _parent_sets(wm, opts)
    held = None
    if opts.holdout_lots:                                               # later lots the child never sees
        train, held = lot_ordered_split(train, opts.holdout_lots)
    y = _labels(wm, train)
    claim_model_dir(out, opts.resume, opts.force)                       # after the data loaded: --force deletes
    X = encode_maps(train.maps, wm.size, wm.density)                    # (N, C, S, S) float32
    vdata = None if val is None else (encode_maps(val.maps, wm.size, wm.density), _labels(wm, val))
    parent_sha = sha256(wm.path / "model.pt")
    run = {"parent_sha256": parent_sha, "method": opts.method, "recipe": opts.to_dict() | {"out": None},
           "data": files, "n_train": len(train)}
    net, fit_info = wm.net.cpu().eval(), None
    if opts.slim:
        print(f"wafer compress: pruning {wm.config['arch']} to keep {opts.keep:g} of its channels, then "
              f"{opts.epochs} epochs of distillation on {len(train)} maps", flush=True)
        net, result, cfg = fine_tune(wm, X, y, vdata, opts, run)
        fit_info = {"history": result.history, "epochs_run": result.epochs_run,
                    "train_seconds": round(result.train_seconds, 1), "torch_threads": torch.get_num_threads(),
                    "train_config": {**cfg.to_dict(), "out_dir": CKPT, "resume": False}}
    probe = torch.from_numpy(X[:2])
    if opts.int8:
        pick = np.sort(np.random.default_rng(opts.seed).choice(len(X), min(opts.calibration, len(X)), replace=False))
        stored = int8_stages(net, torch.from_numpy(X[pick]))
        kind = {"quantized": {"scheme": INT8_SCHEME, "engine": torch.backends.quantized.engine,
                              "stages": [f"features.{i}" for i in range(len(stored.features))],
                              "float": ["stem", "head"], "calibration_maps": len(pick)}}
    else:
        stored, kind = fold_batchnorm(net, probe), {"batchnorm_folded": True}
    arch = net.config["arch"]
    arch_kwargs = {k: v for k, v in net.config.items() if k not in ("arch", "in_channels", "num_classes")}
    extra = [f for f in files if f["spec"] not in {d["spec"] for d in wm.config.get("data", [])}]
    config = {"arch": arch, "arch_kwargs": arch_kwargs, **kind,
              **{k: wm.config[k] for k in ("input_size", "density", "label_names", "class_counts", "encoding", "tta")
                 if k in wm.config},
              **({"class_weights": w} if (w := (wm.config.get("train_config") or {}).get("class_weights")) else {}),
              "data": list(wm.config.get("data", [])) + extra,    # every map the network learnt from (--dedup)
              "val": wm.config.get("val") if opts.data is None else None,
              **{k: wm.config[k] for k in ("options", "max_per_class") if k in wm.config and opts.data is None},
              "compressed": {"method": opts.method, "parent": opts.model, "parent_sha256": parent_sha,
                             "parent_arch": wm.config["arch"], "parent_arch_kwargs": wm.config.get("arch_kwargs"),
                             "parent_command": wm.config.get("command"), "recipe": opts.to_dict(),
                             "fine_tune_files": [f["spec"] for f in files]},
              "command": opts.command(), "deepfab_version": __version__}
    metrics = {"fine_tune": fit_info, "n_train": len(train)}
    save_model(stored, out, config, metrics)
    child = load_model(out, device=opts.device)
    with torch.no_grad():                                               # the folder computes what was written
        want, got = stored.eval()(probe), child.fast_net(probe.to(child.device)).cpu()
    if not torch.allclose(got, want, rtol=1e-4, atol=1e-4 * float(want.abs().max())):
        raise ModelError(f"{out}/model.pt: the network read back computes other logits than the one written "
                         f"(max difference {float((got - want).abs().max()):.3g})")
    bytes_ = {"model_pt": (out / "model.pt").stat().st_size, "parent_model_pt": (wm.path / "model.pt").stat().st_size}
    bytes_["ratio"] = bytes_["model_pt"] / bytes_["parent_model_pt"]
    rng = np.random.default_rng(opts.seed)
    if val is not None:
        where, maps, ys = "the validation maps of the parent's training", val.maps, vdata[1]
    else:
        i = np.sort(rng.choice(len(train), min(SCORE_MAPS, len(train)), replace=False))
        where, maps, ys = f"{len(i)} of the training maps (seen in training: a check, not a test)", \
            [train.maps[j] for j in i], y[i]
    scores = {"on": where, **_agreement(wm, child, maps, ys)}
    if held is not None:
        scores["held_out_lots"] = {"on": f"the latest {opts.holdout_lots:g} of the lots, held out of the fine-tune "
                                         "(the parent was trained on them)", **_agreement(wm, child, held.maps,
                                                                                          _labels(wm, held))}
    metrics.update(bytes=bytes_, scores=scores)
    if opts.novelty:
        print("fitting the novelty score (ood.pt) for the compressed network ...", flush=True)
        metrics["novelty"] = calibrate_folder(child, topts, sets=(train, val))
    sample = [train.maps[j] for j in rng.choice(len(train), min(SPEED_MAPS, len(train)), replace=False)]
    metrics["speed"] = speed_ratio(wm, child, sample)
    metrics["wall_seconds"] = round(time.perf_counter() - t_start, 1)
    metrics["cpu_count"] = os.cpu_count()
    m_path = out / "metrics.json"
    merged = {**json.loads(m_path.read_text()), **metrics}                # calibrate_folder added "novelty"
    write_json_atomic(m_path, merged)
    text = readme(json.loads((out / "config.json").read_text()), merged)
    write_atomic(out / "README.md", "w", lambda f: f.write(text))
    return merged


def readme(config: dict, m: dict) -> str:
    """README.md of a compressed model folder: the recipe, the command, measured size, speed and scores."""
    c, b, s, sp = config["compressed"], m["bytes"], m["scores"], m["speed"]
    q = config.get("quantized")
    stored = "float32, BatchNorm folded into the convs"
    if q:
        stored = (f"int8 ({q['scheme']}: stages {', '.join(q['stages'])} int8, stem and head float32; activation "
                  f"ranges from {q['calibration_maps']} training maps)")
    ft = m.get("fine_tune")
    lines = [f"# A compressed wafer-map classifier ({c['method']})", "",
             f"Made from `{c['parent']}` (model.pt SHA-256 `{c['parent_sha256'][:16]}...`; "
             f"{c['parent_arch']} {c['parent_arch_kwargs']}) by `deepfab wafer compress`. Load it like any model "
             "folder: `deepfab wafer eval|predict|explain --model THIS_FOLDER`; `model.pt` is a plain state_dict read "
             "with `torch.load(..., weights_only=True)`.", "",
             "## Reproduce it", "", "```", config["command"], "```", "",
             "## Recipe", "",
             f"- network: {config['arch']} {config['arch_kwargs']}, stored {stored}"]
    if ft is not None:
        r = c["recipe"]
        lines += [f"- channel pruning: keep {r['keep']} of the filters of every conv (ranked by {r['criterion']}); "
                  f"distillation fine-tune, {ft['epochs_run']} epochs, T = {r['temperature']}, alpha = {r['alpha']}, "
                  f"maps drawn {'class-balanced' if r.get('sampler') == 'balanced' else 'shuffled'}, "
                  f"AdamW lr {r['lr']} one-cycle, batch {r['batch_size']}, seed {r['seed']}, on "
                  f"{', '.join(c['fine_tune_files'])} ({m['n_train']} maps): {ft['train_seconds']:.0f} s with "
                  f"{ft['torch_threads']} thread(s)"]
    lines += ["", "## Measured when it was made", "",
              "| | this model | parent |", "|---|---|---|",
              f"| model.pt bytes | {b['model_pt']:,} ({100 * b['ratio']:.1f} %) | {b['parent_model_pt']:,} |",
              f"| prediction, ms per map (8 views + novelty score; {sp['maps']} maps, {sp['threads']} thread(s), "
              f"interleaved) | {sp['ms_per_map']:.2f} ({sp['ratio']:.2f} of the parent's) | "
              f"{sp['parent_ms_per_map']:.2f} |",
              f"| macro-F1 on {s['on']} | {s['macro_f1']:.4f} | {s['parent_macro_f1']:.4f} |",
              f"| accuracy on the same maps | {s['accuracy']:.4f} | {s['parent_accuracy']:.4f} |",
              *([f"| macro-F1 on {h['on']} ({h['n']} maps) | {h['macro_f1']:.4f} | {h['parent_macro_f1']:.4f} |",
                 f"| maps wrong among those | {h['errors']} | {h['parent_errors']} |"]
                if (h := s.get("held_out_lots")) else []),
              "", f"The two models predict the same class for {100 * s['agreement']:.2f} % of those maps. Scores on "
              "unseen maps: `deepfab wafer eval --model THIS_FOLDER --data wm811k:test --dedup`, or "
              "`benchmarks/bench_compress.py --model THIS_FOLDER` for size, speed and scores beside the parent's."]
    if "novelty" in m:
        n = m["novelty"]
        lines += ["", f"The novelty score (`ood.pt`, {n['bytes']:,} bytes) was fitted again for this network: "
                  f"threshold {n['threshold']:.3f}, set on {n['calibrated_on']}."]
    return "\n".join(lines) + "\n"
