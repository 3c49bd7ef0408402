"""The options of ``deepfab wafer train`` as one dataclass: the CLI flags, ``config.json`` and the
command that reproduces a run are all read off its fields.

Each field is written once, with its default and its help text; ``add_arguments`` turns the
fields into argparse flags (``batch_size`` -> ``--batch-size``, a bool that defaults to on ->
``--density/--no-density``), ``to_dict`` is what ``config.json`` stores under ``"options"``, and
``command`` is the shell line that trains the same model again.

    opts = TrainOptions(data=["wm811k:train_1"], out="runs/wafer", epochs=2)
    opts.command()   # 'deepfab wafer train --data wm811k:train_1 --arch resnet --size 32 --epochs 2 ...'
    train_wafer(opts)

Introduced with the ``deepfab wafer`` tool. No torch here: ``deepfab --help`` builds the parser
without importing it.

References: CleanRL's ``Args`` dataclasses (S. Huang et al., JMLR 23, 2022), one documented
field per option; Python's ``dataclasses`` and ``argparse``.
"""
from __future__ import annotations

import argparse
import shlex
from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import get_args, get_origin, get_type_hints

from ..errors import UsageError

WEIGHT_RULES = {"none": "plain cross-entropy, every map weight 1",      # stored in config.json as written
                "sqrt": "1/sqrt(class count), mean weight per sample 1"}
AMP_CHOICES = ("auto", "off", "bf16", "fp16")


def option(default=MISSING, help: str = "", always: bool = False, run: bool = False, **cli):
    """A field with its help text. ``always``: written in the command even at its default (the
    hyper-parameters, so the command documents the recipe); ``run``: how to run, not what to train
    (not in the command nor in config.json); ``cli``: extra argparse keywords (metavar, choices)."""
    return field(default=default, metadata={"help": help, "always": always, "run": run, "cli": cli})


def command_line(opts, words: list[str], skip=()) -> str:
    """``words`` and one flag per field of ``opts`` that is neither run-time nor in ``skip``: booleans
    only where they differ from the default, other values where set and (unless ``always``) not the default."""
    parts = list(words)
    for f in fields(opts):
        value = getattr(opts, f.name)
        if f.metadata["run"] or f.name in skip:
            continue
        if isinstance(value, bool):
            parts += [] if value == f.default else [flag(f.name) if value else f"--no-{flag(f.name)[2:]}"]
        elif value is not None and (value != f.default or f.metadata["always"]):
            parts += [flag(f.name), *(value if isinstance(value, list) else [value])]
    return shlex.join(str(p) for p in parts)


@dataclass(kw_only=True)
class TrainOptions:
    """Everything ``deepfab wafer train`` is told; validated on construction (UsageError)."""

    data: list[str] = option(help="npz files or wm811k:SPLIT", metavar="FILE")
    val: str | None = option(None, "validation file (copies of training maps are dropped)", metavar="FILE")
    holdout_lots: float = option(0.0, "validate on the latest fraction F of lots (by source_index) instead of --val",
                                 metavar="F")
    keep: str = option("best", "with --val or --holdout-lots: the weights saved, best = the epoch of highest "
                       "validation macro-F1, last = the last epoch (no choice made on the validation maps)",
                       choices=("best", "last"))
    arch: str = option("resnet", "a deepfab.models architecture", always=True)
    width: int | None = option(None, "the architecture's base width (none given: its own)")
    max_per_class: int | None = option(None, "train on at most N maps per class (random, seeded): thins out 'none' "
                                       "(none given: all)", metavar="N")
    size: int = option(32, "encoded map size S", always=True)
    epochs: int = option(12, "training epochs", always=True)
    batch_size: int = option(128, "maps per training step", always=True)
    lr: float = option(3e-3, "peak one-cycle learning rate", always=True)
    weight_decay: float = option(5e-4, "AdamW weight decay", always=True)
    label_smoothing: float = option(0.05, "label smoothing of the cross-entropy targets", always=True)
    seed: int = option(0, "seeds the data order, the augmentation and the initial weights", always=True)
    density: bool = option(True, "a third input channel, the fraction of failing dies in each cell of the resized "
                           "map (--no-density: the two max-pooled channels only)")
    class_weights: str = option("none", "none: plain cross-entropy; sqrt: weights 1/sqrt(class count), more recall "
                                "for the rare classes at the price of precision", choices=tuple(WEIGHT_RULES))
    regrid: float = option(0.0, "product-shift augmentation: each training batch re-renders a share P of its maps at "
                           "one random die grid (rows and cols 28-52, deepfab.augment.regrid) before encoding",
                           metavar="P")
    regrid_fade: float = option(0.0, "with --regrid: also turn a fraction, uniform in [0, F], of a re-rendered map's "
                                "fail dies to pass (fainter defects)", metavar="F")
    scatter: float = option(0.0, "background-noise augmentation: each training map of a patterned defect class (all "
                            "but none, Random, Near-full) gets, with probability P, a share uniform in [0, 0.1] of "
                            "its pass dies turned fail before encoding (deepfab.augment.regrid.scatter_fails)",
                            metavar="P")
    scatter_fade: float = option(0.0, "with --scatter: first turn a share, uniform in [0, F], of those maps' fail dies "
                                 "to pass (a broken, fainter pattern)", metavar="F")
    faint: float = option(0.0, "faint-defect augmentation: each training map of a patterned defect class (all but "
                          "none, Random, Near-full) gets, with probability P, a share uniform in [0, 0.5] of its fail "
                          "dies turned pass before encoding (the same defect, fainter)", metavar="P")
    faint_classes: list[str] | None = option(None, "with --faint: the classes made fainter (default: every patterned "
                                             "defect class)", metavar="CLASS")
    clean_none: float = option(0.0, "clean-wafer augmentation: each none training map gets, with probability P, a "
                               "share uniform in [0, 1] of its fail dies turned pass before encoding (the same wafer "
                               "at a higher yield; no WM-811K map is without fails; the default model used 0.3)",
                               metavar="P")
    amp: str = option("auto", "mixed precision: auto = on CUDA only; bf16 also on a CPU with bf16 instructions",
                      choices=AMP_CHOICES)
    channels_last: bool = option(False, "keep the maps and the convolution weights in channels-last memory order: "
                                 "on a CPU 1.1 to 1.25 times faster epochs of the default recipe, the same recipe "
                                 "up to rounding (not the same weights bit for bit as a run without it)")
    novelty: bool = option(True, "after training, fit the novelty score (ood.pt: predict's ood_score and ood flag) on "
                           "the training maps, its threshold on the validation maps or 5-fold out-of-fold scores "
                           "(--no-novelty: skip it; `deepfab wafer calibrate` adds it later)")
    out: str = option(help="model folder to write", metavar="DIR")
    device: str = option("auto", "auto | cpu | cuda", run=True)
    resume: bool = option(False, "continue the run in DIR from its last checkpoint", run=True)
    force: bool = option(False, "overwrite a trained DIR", run=True)

    def __post_init__(self):
        if isinstance(self.data, str) or not self.data:
            raise UsageError(f"--data needs a list of one or more files; got {self.data!r}")
        if self.max_per_class is not None and self.max_per_class < 1:
            raise UsageError(f"--max-per-class must be a positive int; got {self.max_per_class}")
        if not 0.0 <= self.holdout_lots < 1.0:
            raise UsageError(f"--holdout-lots must be a fraction in [0, 1); got {self.holdout_lots}")
        for name in ("regrid", "regrid_fade", "scatter", "scatter_fade", "faint", "clean_none"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise UsageError(f"{flag(name)} must be a fraction in [0, 1]; got {getattr(self, name)}")
        if self.regrid_fade and not self.regrid:
            raise UsageError(f"--regrid-fade needs --regrid P > 0 (the share of maps re-rendered); got --regrid "
                             f"{self.regrid}")
        if self.faint_classes is not None and not self.faint:
            raise UsageError(f"--faint-classes needs --faint P > 0 (the share of maps made fainter); got --faint "
                             f"{self.faint}")
        if self.scatter_fade and not self.scatter:
            raise UsageError(f"--scatter-fade needs --scatter P > 0 (the share of maps given scattered fails); got "
                             f"--scatter {self.scatter}")
        if self.val is not None and self.holdout_lots:
            raise UsageError("give either --val FILE or --holdout-lots F, not both")
        for name, choices in (("class_weights", tuple(WEIGHT_RULES)), ("amp", AMP_CHOICES), ("keep", ("best", "last"))):
            if getattr(self, name) not in choices:
                raise UsageError(f"{flag(name)} must be one of {', '.join(choices)}; got {getattr(self, name)!r}")

    @property
    def arch_kwargs(self) -> dict:
        return {} if self.width is None else {"width": self.width}

    def to_dict(self) -> dict:
        """The recipe (every field but the run-time ones), as stored in config.json."""
        run = {f.name for f in fields(self) if f.metadata["run"]}
        return {k: v for k, v in asdict(self).items() if k not in run}

    def command(self) -> str:
        """The shell command that trains this model again."""
        return command_line(self, ["deepfab", "wafer", "train"])

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> TrainOptions:
        return cls(**{f.name: getattr(args, f.name) for f in fields(cls)})

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        """One flag per field: type from the annotation, help and default from the field."""
        hints = get_type_hints(cls)
        for f in fields(cls):
            kw = dict(f.metadata["cli"])
            hint = hints[f.name]
            base = next((a for a in get_args(hint) if a is not type(None)), hint)   # int | None -> int
            if f.default is MISSING:
                kw["required"] = True
            listed = hint if get_origin(hint) is list else base        # list[str] or list[str] | None
            if get_origin(listed) is list:
                kw.update(nargs="+", type=get_args(listed)[0])
            elif base is bool:
                kw["action"] = argparse.BooleanOptionalAction if f.default else "store_true"
            else:
                kw["type"] = base
            if base is bool:
                shown = " (default on)" if f.default else ""
            else:
                shown = "" if f.default in (MISSING, None) else f" (default {f.default})"
            parser.add_argument(flag(f.name), default=None if f.default is MISSING else f.default,
                                help=f.metadata["help"] + shown, **kw)


def flag(name: str) -> str:
    """``batch_size`` -> ``--batch-size``."""
    return "--" + name.replace("_", "-")


METHODS = ("slim", "int8", "slim+int8")
CRITERIA = ("l1", "bn")
SAMPLERS = ("shuffle", "balanced")


@dataclass(kw_only=True)
class CompressOptions:
    """Everything ``deepfab wafer compress`` is told (``deepfab.wafer.compress``); validated on construction."""

    model: str = option(help="the trained model folder to compress, or 'default'", always=True, metavar="DIR")
    method: str = option("int8", "int8: post-training int8 quantization calibrated on training maps; slim: channel "
                         "pruning, then a distillation fine-tune on the model's training maps; slim+int8: both",
                         always=True, metavar="|".join(METHODS))
    keep: float = option(0.5, "slim: the share of channels kept in every conv (0 < F <= 1), each count rounded "
                         "down to a multiple of 8 (int8 convolutions of 12 channels run as slowly as 16 in "
                         "float)", always=True, metavar="F")
    criterion: str = option("l1", "slim: rank filters by their L1 norm (l1) or their batch-norm scale (bn)",
                            metavar="l1|bn")
    epochs: int = option(8, "slim: distillation fine-tune epochs", always=True)
    batch_size: int = option(128, "slim: maps per fine-tune step", always=True)
    lr: float = option(2e-3, "slim: peak one-cycle learning rate of the fine-tune", always=True)
    weight_decay: float = option(5e-4, "slim: AdamW weight decay", always=True)
    temperature: float = option(4.0, "slim: distillation temperature T of the soft targets", always=True)
    alpha: float = option(0.9, "slim: weight of the soft (teacher) term; 1 - alpha weighs the labels", always=True)
    sampler: str = option("shuffle", "slim: the fine-tune's maps, shuffle (each once per epoch) or balanced (every "
                          "class drawn equally often, with replacement; the teacher's soft targets keep its "
                          "class priors)", metavar="shuffle|balanced")
    holdout_lots: float = option(0.0, "slim: hold the latest fraction F of the lots (by source_index) out of the "
                                 "fine-tune and score parent and child on them: a check of the recipe on lots the "
                                 "compressed network never saw (the parent did)", metavar="F")
    calibration: int = option(2048, "int8: training maps (random, seeded) whose activations set the int8 ranges",
                              always=True, metavar="N")
    data: list[str] = option(None, "fine-tune and calibration files (default: the model's own training files, "
                                    "read from its config.json and checked against their SHA-256)", metavar="FILE")
    seed: int = option(0, "seeds the fine-tune's data order and augmentation and the calibration maps", always=True)
    novelty: bool = option(True, "fit the novelty score (ood.pt) again for the compressed network, as `deepfab wafer "
                           "calibrate` does (--no-novelty: skip it)")
    out: str = option(help="the model folder to write (not an existing model folder unless --force)", metavar="DIR")
    device: str = option("auto", "auto | cpu | cuda (the fine-tune; int8 runs on the CPU)", run=True)
    threads: int | None = option(None, "CPU threads (default: one per core)", run=True, metavar="N")
    resume: bool = option(False, "continue an interrupted fine-tune in DIR from its last checkpoint", run=True)
    force: bool = option(False, "overwrite a model folder DIR", run=True)

    def __post_init__(self):
        if self.method not in METHODS:
            raise UsageError(f"--method must be one of {', '.join(METHODS)}; got {self.method!r}")
        if self.criterion not in CRITERIA:
            raise UsageError(f"--criterion must be one of {', '.join(CRITERIA)}; got {self.criterion!r}")
        if isinstance(self.keep, bool) or not isinstance(self.keep, (int, float)) or not 0.0 < self.keep <= 1.0:
            raise UsageError(f"--keep must be a share in (0, 1]; got {self.keep!r}")
        for name in ("epochs", "batch_size", "calibration"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise UsageError(f"{flag(name)} must be a positive int; got {v!r}")
        for name in ("lr", "temperature"):
            if not getattr(self, name) > 0:
                raise UsageError(f"{flag(name)} must be positive; got {getattr(self, name)!r}")
        if not 0.0 <= self.alpha <= 1.0:
            raise UsageError(f"--alpha must be in [0, 1]; got {self.alpha!r}")
        if self.sampler not in SAMPLERS:
            raise UsageError(f"--sampler must be one of {', '.join(SAMPLERS)}; got {self.sampler!r}")
        if isinstance(self.holdout_lots, bool) or not 0.0 <= self.holdout_lots < 1.0:
            raise UsageError(f"--holdout-lots must be a fraction in [0, 1); got {self.holdout_lots!r}")
        if self.holdout_lots and not self.slim:
            raise UsageError("--holdout-lots holds lots out of the fine-tune; --method int8 has none")
        if not self.weight_decay >= 0:
            raise UsageError(f"--weight-decay must be >= 0; got {self.weight_decay!r}")
        if self.data is not None and (isinstance(self.data, str) or not self.data):
            raise UsageError(f"--data needs a list of one or more files; got {self.data!r}")
        if self.threads is not None and self.threads < 1:
            raise UsageError(f"--threads must be a positive int; got {self.threads}")
        if self.seed < 0:
            raise UsageError(f"--seed must be a non-negative int; got {self.seed}")

    @property
    def slim(self) -> bool:
        return self.method in ("slim", "slim+int8")

    @property
    def int8(self) -> bool:
        return self.method in ("int8", "slim+int8")

    to_dict = TrainOptions.to_dict
    from_args = classmethod(TrainOptions.from_args.__func__)
    add_arguments = classmethod(TrainOptions.add_arguments.__func__)

    def command(self) -> str:
        """The shell command that compresses the same model again (the slim options only with slim)."""
        skip = set() if self.slim else {"keep", "criterion", "epochs", "batch_size", "lr", "weight_decay",
                                         "temperature", "alpha", "sampler"}
        skip |= set() if self.int8 else {"calibration"}
        return command_line(self, ["deepfab", "wafer", "compress"], skip)


SEARCHABLE = ("lr", "weight_decay", "label_smoothing", "batch_size", "arch", "width", "class_weights", "regrid")
TUNE_SEARCH = "lr,weight_decay,label_smoothing,batch_size,arch,width,class_weights"
TUNE_DATA = "wm811k:train_10"


@dataclass(kw_only=True)
class TuneOptions:
    """Everything ``deepfab wafer tune`` is told (``deepfab.wafer.tune``); validated on construction."""

    trials: int = option(help="the number of finished trials (complete or pruned) the study should hold in all: a "
                         "resumed run adds only the missing ones", always=True, metavar="N")
    study: str = option(help="the study's name in the storage", always=True, metavar="NAME")
    storage: str | None = option(None, "an Optuna storage URL shared by every process and machine on the study: "
                                 "sqlite:///PATH.db (default sqlite:///DIR/study.db), or any SQLAlchemy URL Optuna "
                                 "supports, e.g. postgresql://USER@HOST/DB or mysql+pymysql://USER@HOST/DB (their "
                                 "database drivers installed separately)", metavar="URL")
    workers: int = option(1, "local worker processes on the study, each on its own trials (spawned; they share the "
                          "CPU cores)", run=True, metavar="K")
    data: list[str] = option(None, f"npz files or wm811k:SPLIT (none given: {TUNE_DATA})", metavar="FILE")
    val: str | None = option(None, "validate every trial on this file instead of the latest lots", metavar="FILE")
    holdout_lots: float = option(0.2, "validate every trial on the latest fraction F of lots (by source_index), as "
                                 "`wafer train --holdout-lots` does (0 with --val)", always=True, metavar="F")
    max_per_class: int | None = option(None, "train every trial on at most N maps per class (random, seeded; none "
                                       "given: all)", metavar="N")
    size: int = option(32, "encoded map size S", always=True)
    density: bool = option(True, "the fail-fraction input channel (--no-density: the two max-pooled channels only)")
    epochs: int = option(3, "training epochs of every trial: its budget, and the one-cycle schedule's length",
                         always=True)
    search: str = option(TUNE_SEARCH, f"the `wafer train` options searched, comma-separated, of {','.join(SEARCHABLE)} "
                         "(deepfab.adapt.automl.SPACE holds their ranges; the others keep train's defaults)",
                         metavar="NAMES")
    sampler: str = option("tpe", "tpe: multivariate TPE after 5 random trials; random: random search",
                          choices=("tpe", "random"))
    pruner: str = option("sha", "sha: successive halving (a trial continues past epochs 2, 4, 8, ... only when in "
                         "the top half of the trials there); none: every trial trains all its epochs",
                         choices=("sha", "none"))
    seed: int = option(0, "seeds the sampler, and the data order and initial weights of every trial alike",
                       always=True)
    amp: str = option("auto", "mixed precision, as `wafer train --amp`", choices=AMP_CHOICES)
    channels_last: bool = option(False, "channels-last memory order, as `wafer train --channels-last`")
    out: str = option(help="folder for trials.csv, best.json, config.json (and the default SQLite study)",
                      metavar="DIR")
    device: str = option("auto", "auto | cpu | cuda", run=True)
    threads: int | None = option(None, "CPU threads of each worker (default: the cores shared out among the workers; "
                                 "on a machine busy with other jobs, 1 runs fastest)", run=True, metavar="N")
    resume: bool = option(False, "continue the study NAME in the storage (or join it from another machine)", run=True)
    force: bool = option(False, "delete the study NAME from the storage and DIR's outputs, and start over", run=True)

    def __post_init__(self):
        if self.threads is not None and (isinstance(self.threads, bool) or self.threads < 1):
            raise UsageError(f"--threads must be a positive int; got {self.threads!r}")
        for name in ("trials", "workers", "epochs", "size"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise UsageError(f"{flag(name)} must be a positive int; got {v!r}")
        if not isinstance(self.study, str) or not self.study.strip():
            raise UsageError(f"--study needs a name; got {self.study!r}")
        if self.data is not None and (isinstance(self.data, str) or not self.data):
            raise UsageError(f"--data needs a list of one or more files; got {self.data!r}")
        if self.max_per_class is not None and self.max_per_class < 1:
            raise UsageError(f"--max-per-class must be a positive int; got {self.max_per_class}")
        if self.val is not None:
            self.holdout_lots = 0.0
        elif not 0.0 < self.holdout_lots < 1.0:
            raise UsageError(f"--holdout-lots must be a fraction in (0, 1) (every trial is validated); got "
                             f"{self.holdout_lots}")
        names = self.search_names
        unknown = sorted(set(names) - set(SEARCHABLE))
        if not names or unknown or len(set(names)) != len(names):
            raise UsageError(f"--search must list distinct names among {','.join(SEARCHABLE)}; got {self.search!r}")
        for name, choices in (("sampler", ("tpe", "random")), ("pruner", ("sha", "none")), ("amp", AMP_CHOICES)):
            if getattr(self, name) not in choices:
                raise UsageError(f"{flag(name)} must be one of {', '.join(choices)}; got {getattr(self, name)!r}")
        if self.seed < 0:
            raise UsageError(f"--seed must be a non-negative int; got {self.seed}")
        if self.resume and self.force:
            raise UsageError("give either --resume (continue the study) or --force (start over), not both")

    @property
    def search_names(self) -> list[str]:
        return [n.strip() for n in self.search.split(",") if n.strip()]

    @property
    def data_specs(self) -> list[str]:
        return list(self.data) if self.data is not None else [TUNE_DATA]

    def recipe(self) -> dict:
        """What every trial of the study shares (a resumed or joining run must give the same)."""
        keep = ("val", "holdout_lots", "max_per_class", "size", "density", "epochs", "search", "sampler", "pruner",
                "seed", "amp")
        return {"data": self.data_specs, **{k: getattr(self, k) for k in keep},
                **({"channels_last": True} if self.channels_last else {})}   # a study from before it: the same

    def train_options(self, params: dict, out: str) -> TrainOptions:
        """The `wafer train` options of a trial with the searched values ``params``."""
        return TrainOptions(data=self.data_specs, val=self.val, holdout_lots=self.holdout_lots,
                            max_per_class=self.max_per_class, size=self.size, density=self.density,
                            epochs=self.epochs, seed=self.seed, amp=self.amp, channels_last=self.channels_last,
                            out=out, **params)

    to_dict = TrainOptions.to_dict
    from_args = classmethod(TrainOptions.from_args.__func__)
    add_arguments = classmethod(TrainOptions.add_arguments.__func__)

    def command(self) -> str:
        """The shell command that runs the same study again (``--storage`` as given: mind a password in it)."""
        return command_line(self, ["deepfab", "wafer", "tune"])
