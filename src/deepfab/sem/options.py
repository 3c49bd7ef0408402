"""The options of ``deepfab sem train`` as one dataclass: the CLI flags, ``config.json`` and the command
that reproduces a model are all read off its fields (as ``deepfab.wafer.options``).

    opts = SemTrainOptions(task="denoise", out="runs/sem-denoise", epochs=2)
    opts.command()    # 'deepfab sem train --task denoise --arch dncnn --depth 10 --features 24 ...'
    train_sem(opts)   # deepfab.sem.training

Noise levels are in grey levels of an 8-bit image (sigma 25 = 25/255 of the full scale, the
denoising literature's "sigma 25"), whatever the depth of the files the model is later run on.
No torch here: ``deepfab --help`` builds the parser without importing it.

Introduced with the ``deepfab sem`` tool.

References: CleanRL's ``Args`` dataclasses (S. Huang et al., JMLR 23, 2022); Python's ``dataclasses``
and ``argparse``.
"""
from __future__ import annotations

import shlex
from dataclasses import asdict, dataclass, fields

from ..errors import UsageError
from ..wafer.options import TrainOptions, flag, option

ARCHS = {"denoise": ("dncnn",), "upscale": ("espcn", "srcnn")}


@dataclass(kw_only=True)
class SemTrainOptions:
    """Everything ``deepfab sem train`` is told; validated on construction (UsageError)."""

    task: str = option("denoise", "denoise: a blind DnCNN; upscale: a super-resolver", always=True,
                       choices=("denoise", "upscale"))
    scale: int = option(2, "upscale: the factor (2, 3 or 4)", choices=(2, 3, 4))
    arch: str | None = option(None, "dncnn (denoise), espcn or srcnn (upscale); default dncnn / espcn")
    depth: int = option(10, "dncnn: layers (the receptive field is 2 depth + 1 px)", always=True)
    features: int = option(24, "dncnn: channels of the hidden layers (24, as the shipped denoiser: a 1024 x 1024 "
                           "image within 5 s on 2 CPU cores)", always=True)
    sigma_min: float = option(5.0, "denoise: lowest Gaussian noise std, 8-bit grey levels", always=True)
    sigma_max: float = option(50.0, "denoise: highest Gaussian noise std, 8-bit grey levels", always=True)
    dose_min: float = option(4.0, "denoise: lowest SEM dose, electrons per unit intensity", always=True)
    dose_max: float = option(100.0, "denoise: highest SEM dose (drawn uniform in log dose)", always=True)
    sem_share: float = option(0.4, "denoise: share of training patches with SEM (Poisson-Gaussian) noise",
                              always=True)
    n_sem: int = option(24, "SEM-like training scenes of each kind (lines, holes)", always=True)
    n_oblique: int = option(24, "extra line/space scenes at random angles (lines of the data generator run along "
                            "the axes only)", always=True)
    edge_min: float = option(1.5, "thinnest bright edge band of the scenes at random angles, px")
    edge_max: float = option(1.5, "widest bright edge band of the scenes at random angles, px (drawn uniform)")
    sem_size: int = option(128, "px per side of a SEM-like training scene", always=True)
    patches: int = option(4000, "training patches (noise drawn afresh every batch)", always=True)
    patch: int = option(40, "px per side of a training patch (upscale: of the high-resolution patch)", always=True)
    epochs: int = option(6, "training epochs", always=True)
    batch_size: int = option(32, "patches per step", always=True)
    lr: float = option(3e-3, "Adam(W) learning rate at the start of the cosine schedule", always=True)
    seed: int = option(0, "seeds the scenes, the patches, the noise and the initial weights", always=True)
    out: str = option(help="model folder to write", metavar="DIR")
    device: str = option("auto", "auto | cpu | cuda", run=True)
    threads: int | None = option(None, "CPU threads (default: one per core)", run=True, metavar="N")
    resume: bool = option(False, "continue the run in DIR from its last checkpoint", run=True)
    force: bool = option(False, "overwrite a trained DIR", run=True)

    def __post_init__(self):
        if self.task not in ARCHS:
            raise UsageError(f"--task must be denoise or upscale; got {self.task!r}")
        self.arch = self.arch or ARCHS[self.task][0]
        if self.arch not in ARCHS[self.task]:
            raise UsageError(f"--arch for {self.task} must be one of {', '.join(ARCHS[self.task])}; got {self.arch!r}")
        if self.scale not in (2, 3, 4):
            raise UsageError(f"--scale must be 2, 3 or 4; got {self.scale}")
        if self.n_oblique < 0:
            raise UsageError(f"--n-oblique must be >= 0; got {self.n_oblique}")
        if not 0 < self.edge_min <= self.edge_max:
            raise UsageError(f"need 0 < --edge-min <= --edge-max; got {self.edge_min}, {self.edge_max}")
        for name in ("depth", "features", "n_sem", "patches", "epochs", "batch_size"):
            if getattr(self, name) < 1:
                raise UsageError(f"{flag(name)} must be a positive int; got {getattr(self, name)}")
        if not 0 <= self.sigma_min <= self.sigma_max or not 0 < self.dose_min <= self.dose_max:
            raise UsageError(f"need 0 <= --sigma-min <= --sigma-max and 0 < --dose-min <= --dose-max; got "
                             f"{self.sigma_min}, {self.sigma_max}, {self.dose_min}, {self.dose_max}")
        if not 0 <= self.sem_share <= 1 or self.lr <= 0:
            raise UsageError(f"--sem-share must be in [0, 1] and --lr > 0; got {self.sem_share}, {self.lr}")
        if self.sem_size < self.patch or self.patch < 8 or (self.task == "upscale" and self.patch % self.scale):
            raise UsageError(f"--patch must be >= 8, at most --sem-size, and (upscale) a multiple of --scale; got "
                             f"--patch {self.patch}, --sem-size {self.sem_size}, --scale {self.scale}")

    def relevant(self, name: str) -> bool:
        """Whether a field matters for this task (the command leaves out the others)."""
        denoise_only = {"depth", "features", "sigma_min", "sigma_max", "dose_min", "dose_max", "sem_share"}
        return not ((self.task == "upscale" and name in denoise_only) or (self.task == "denoise" and name == "scale"))

    def to_dict(self) -> dict:
        """The recipe (every field but the run-time ones), as stored in config.json."""
        run = {f.name for f in fields(self) if f.metadata["run"]}
        return {k: v for k, v in asdict(self).items() if k not in run and self.relevant(k)}

    def command(self) -> str:
        """The shell command that trains this model again."""
        parts = ["deepfab", "sem", "train"]
        for f in fields(self):
            value = getattr(self, f.name)
            if f.metadata["run"] or not self.relevant(f.name) or value is None:
                continue
            if isinstance(value, bool):
                parts += [flag(f.name)] if value else []
            elif f.metadata["always"] or value != f.default or f.name in ("arch", "scale", "out"):
                parts += [flag(f.name), value]
        return shlex.join(str(p) for p in parts)

    from_args = classmethod(TrainOptions.from_args.__func__)           # one flag per field, as wafer train
    add_arguments = classmethod(TrainOptions.add_arguments.__func__)


__all__ = ["SemTrainOptions", "ARCHS"]
