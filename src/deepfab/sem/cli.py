"""``deepfab sem``: denoise and upscale your own SEM images, and train the models that do it.

    deepfab sem denoise IMAGE... --out OUT [--sigma S] [--model DIR|default]
    deepfab sem upscale IMAGE... --scale 2|3|4 --out OUT [--model DIR|default]
                        (both also take [--force] [--tile N] [--threads N] [--device D])
    deepfab sem train --task denoise|upscale [--scale K] ... --out DIR [--resume|--force]

IMAGE is an 8- or 16-bit grayscale PNG or TIFF; the result is written at the same bit depth and
in the same format (``deepfab.sem.image_io``). OUT is a file name for one IMAGE, or a folder that
exists for any number of them (each result keeps its input's name there). The denoiser is blind:
it needs no noise level; ``--sigma S`` (noise std in 8-bit grey levels, 0-255 scale whatever the
file's depth) is only reported beside the level estimated from the image, with a note when it
lies outside the levels the model was trained on. Images of any size go through in overlapping
tiles (``--tile``, default 1024 px) that are blended without seams. ``default`` is the model
shipped in ``deepfab/sem/default/`` (its README gives the command that trained it and how good it
is); ``train`` writes a model folder that ``--model DIR`` then uses.

Nothing is replaced unasked: an existing output needs ``--force``, an output that is one of the
inputs is always refused, and every output is checked before any image is processed. Bad input
(a missing file, not an image, a colour image (RGB whose channels differ), a name clash) exits
with status 2 and one line on stderr.

Introduced with the ``deepfab sem`` tool; lectures 10 and 11 teach the methods.

References: see ``model_io``, ``training`` and ``image_io``; D. L. Donoho, I. M. Johnstone, "Ideal
spatial adaptation by wavelet shrinkage", Biometrika 81(3), 1994 (the noise estimate).
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from ..errors import UsageError
from ..io import check_new_file
from .options import SemTrainOptions


def plan_outputs(images: list[str], out: str, force: bool, suffix_like_input: bool = True) -> list[tuple[Path, Path]]:
    """(input, output) pairs, every output checked before any work (module docstring)."""
    from .image_io import image_format

    ins = [Path(p) for p in images]
    out_path = Path(out)
    if out_path.is_dir():
        outs = [out_path / p.name for p in ins]
    elif len(ins) > 1:
        raise UsageError(f"--out {out} must be a folder that exists when several images are given ({len(ins)}); "
                         f"got a {'file' if out_path.exists() else 'name that does not exist'}")
    else:
        outs = [out_path]
    seen = {}
    for i, o in zip(ins, outs):
        if o.resolve() in seen:
            raise UsageError(f"{i} and {seen[o.resolve()]} would both be written to {o}; give them different names")
        seen[o.resolve()] = i
        if i.exists() and o.exists() and os.path.samefile(i, o):
            raise UsageError(f"{o} is the input image itself; choose another --out (the input is never replaced)")
        if suffix_like_input and image_format(o) != image_format(i):
            raise UsageError(f"{o}: the input {i.name} is {image_format(i).upper()}, so the output must be too "
                             f"(the format and bit depth are kept)")
        check_new_file(o, force)
    return list(zip(ins, outs))


def noise_sigma(pixels) -> float:
    """Noise std of an image in 8-bit grey levels: the median absolute finest diagonal Haar wavelet
    coefficient / 0.6745 (Donoho & Johnstone; as scikit-image's ``estimate_sigma``, a few ms for 1024^2)."""
    import numpy as np

    x = np.asarray(pixels, np.float64)
    h, w = x.shape[0] // 2 * 2, x.shape[1] // 2 * 2
    hh = (x[0:h:2, 0:w:2] - x[0:h:2, 1:w:2] - x[1:h:2, 0:w:2] + x[1:h:2, 1:w:2]) / 2   # (H/2, W/2), var = sigma^2
    return 255.0 * float(np.median(np.abs(hh)) / 0.6745)


def _set_threads(args) -> None:
    import torch

    if args.threads is not None:
        if args.threads < 1:
            raise UsageError(f"--threads must be a positive int; got {args.threads}")
        torch.set_num_threads(args.threads)


def _restore(args, task: str) -> int:
    from .image_io import read_image, write_image
    from .model_io import load_model

    if args.tile < 32:
        raise UsageError(f"--tile must be at least 32 px; got {args.tile}")
    if task == "denoise" and args.sigma is not None and not 0 <= args.sigma <= 255:
        raise UsageError(f"--sigma is a noise std in 8-bit grey levels, in [0, 255]; got {args.sigma}")
    pairs = plan_outputs(args.images, args.out, args.force)
    files = [read_image(i) for i, _ in pairs]                    # every input checked before any work
    _set_threads(args)
    sm = load_model(args.model, task, getattr(args, "scale", None), device=args.device)
    opts = sm.config.get("options", {})
    for f, (_, out) in zip(files, pairs):
        t0 = time.perf_counter()
        result = sm.restore(f.pixels, max_tile=args.tile)
        write_image(out, result, like=f)
        h, w = f.pixels.shape
        size = f"{h}x{w}" if task == "denoise" else f"{h}x{w} -> {h * sm.scale}x{w * sm.scale}"
        line = f"wrote {out}: {size}, {f.bits}-bit {f.format.upper()}, {time.perf_counter() - t0:.2f} s"
        if task == "denoise":
            est = noise_sigma(f.pixels)
            line += f"; noise sigma {est:.1f} (estimated" + (f"; given {args.sigma:g})" if args.sigma is not None
                                                          else ")") + " in 8-bit grey levels"
            lo, hi = opts.get("sigma_min"), opts.get("sigma_max")
            level = args.sigma if args.sigma is not None else est
            if lo is not None and not lo * 0.8 <= level <= hi * 1.2:
                print(f"note: {f.path.name}: noise sigma {level:.1f} is outside the {lo:g}-{hi:g} the model was "
                      f"trained on; the result may be under- or over-smoothed", file=sys.stderr)
        print(line + (f" ({f.note})" if f.note else ""))
    return 0


def _cmd_denoise(args) -> int:
    return _restore(args, "denoise")


def _cmd_upscale(args) -> int:
    return _restore(args, "upscale")


def _cmd_train(args) -> int:
    from .training import train_sem

    opts = SemTrainOptions.from_args(args)
    m = train_sem(opts)
    print(f"wrote {opts.out}/model.pt, config.json, metrics.json, README.md: {m['epochs_run']} epochs in "
          f"{m['train_seconds']:.0f} s of training ({m['wall_seconds']:.0f} s in all), best validation PSNR "
          f"{m['val_psnr']:.2f} dB (epoch {m['best_epoch']})")
    return 0


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("sem", help="denoise and upscale SEM images (PNG/TIFF, 8 or 16 bit)",
                              description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="sem_command", metavar="ACTION", required=True)

    d = sub.add_parser("denoise", help="remove noise (blind: no noise level needed)")
    d.add_argument("--sigma", type=float, metavar="S", help="the noise std if known, in 8-bit grey levels (0-255 "
                   "scale): reported beside the estimate and checked against the model's training range")
    d.set_defaults(func=_cmd_denoise)

    u = sub.add_parser("upscale", help="super-resolve by 2, 3 or 4")
    u.add_argument("--scale", type=int, required=True, choices=(2, 3, 4), help="the upscaling factor")
    u.set_defaults(func=_cmd_upscale)

    for q in (d, u):
        q.add_argument("images", nargs="+", metavar="IMAGE", help="8- or 16-bit grayscale PNG or TIFF files")
        q.add_argument("--out", required=True, metavar="OUT", help="output file (one IMAGE, same format) or an "
                       "existing folder (results keep their input's names)")
        q.add_argument("--model", default="default", metavar="DIR", help="a model folder from `deepfab sem train`, "
                       "or 'default' (the shipped one; default)")
        q.add_argument("--force", action="store_true", help="replace output files that exist (never an input)")
        q.add_argument("--tile", type=int, default=1024, metavar="N", help="largest tile side in px (default 1024; "
                       "smaller tiles use less memory)")
        q.add_argument("--threads", type=int, metavar="N", help="CPU threads (default: one per core)")
        q.add_argument("--device", default="auto", help="auto | cpu | cuda (default auto)")

    t = sub.add_parser("train", help="train a denoiser or super-resolver into a model folder",
                       description="Train on generated SEM-like scenes and scikit-image's bundled images "
                       "(deepfab.sem.training); writes model.pt, config.json, metrics.json and README.md.")
    SemTrainOptions.add_arguments(t)
    t.set_defaults(func=_cmd_train)
