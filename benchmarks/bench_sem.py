"""How good and how fast is the shipped SEM denoiser? PSNR against NLM and BM3D, and a 1024x1024 image timed.

1. **Quality** on SEM-like scenes of kinds the model never saw in training (``deepfab.sem.heldout``:
   staggered bars, the kind recipe choices were made on, at ``VAL_SEED``; routed wires and bars at
   ``REPORT_SEED``, the report set) and, for reference, on the trained kinds (lines, holes) at other
   seeds. Gaussian noise at sigma 25/255 on the clean scene, and SEM noise (Poisson-Gaussian, dose
   20, read noise 0.02, beam blur 1 px) against the blurred scene. Methods: the model (blind: told
   nothing); scikit-image's ``denoise_nl_means`` with the noise level given, in the two settings its
   documentation shows for a known sigma (``fast_mode=True``, h = 0.8 sigma, as
   ``deepfab.restore.classical``; and ``fast_mode=False``, h = 0.8 sigma), 5x5 patches, search
   distance 6; BM3D (``bm3d`` package, sigma_psd = sigma). For SEM noise the classical methods run
   through the generalized Anscombe transform with the dose given (``classical.denoise_sem``).
   PSNR and SSIM (``deepfab.restore.metrics``) of the unclipped float outputs against the reference.
2. **Super-resolution** (the shipped x2 model, ``--upscale-model``): each scene, and scikit-image's
   test images (camera, coins, moon, kept out of training), block-averaged 2 x 2 and brought back;
   PSNR against the original, beside bicubic interpolation.
3. **Speed**: the wall time of ``deepfab sem denoise`` on a 1024x1024 16-bit TIFF (a fresh process:
   Python start, imports, reading, the network, writing; and the same with the interpreter's teardown
   at exit, which the command skips), the network alone in-process, and NLM
   and BM3D on the same image in-process, as ratios.

    MPLBACKEND=Agg .venv/bin/python benchmarks/bench_sem.py [--model default] [--n 6] [--size 192]
                                     [--threads 2] [--skip-speed] [--skip-sem]
                                     [--upscale-model default|DIR|none] [--json out.json]

Takes several minutes on a 2-core CPU (BM3D dominates). References: A. Buades, B. Coll, J.-M. Morel,
CVPR 2005 (NLM); K. Dabov et al., IEEE TIP 16(8), 2007 (BM3D); K. Zhang et al., IEEE TIP 26(7), 2017.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from deepfab.data.sem import add_sem_noise, make_sem_dataset
from deepfab.restore.classical import denoise, denoise_sem
from deepfab.restore.metrics import psnr, ssim
from deepfab.sem.heldout import REPORT_SEED, VAL_SEED, heldout_set
from deepfab.sem.model_io import load_model

SIGMA = 25 / 255
DOSE, READ, BLUR = 20.0, 0.02, 1.0


def nlm_slow(img, sigma):
    """``denoise_nl_means`` with sigma given, h = 0.8 sigma, fast_mode=False (the docs' other sigma-given setting)."""
    from skimage.restoration import denoise_nl_means

    return denoise_nl_means(img, h=0.8 * sigma, sigma=sigma, fast_mode=False, patch_size=5, patch_distance=6)


def scene_sets(n: int, size: int) -> dict:
    """name -> (n, size, size) clean scenes."""
    return {"bars (validation kind)": heldout_set("bars", n, size, seed=VAL_SEED),
            "wires (report)": heldout_set("wires", n, size, seed=REPORT_SEED),
            "bars (report)": heldout_set("bars", n, size, seed=REPORT_SEED),
            "lines (trained kind)": make_sem_dataset(n, "lines", size, seed=REPORT_SEED)[1],
            "holes (trained kind)": make_sem_dataset(n, "holes", size, seed=REPORT_SEED)[1]}


def quality(sm, sets: dict, noise: str) -> dict:
    """Mean PSNR / SSIM per set and method, ``noise`` 'gaussian' (sigma 25) or 'sem' (dose 20)."""
    from scipy import ndimage

    rows = {}
    for name, clean in sets.items():
        rng = np.random.default_rng([REPORT_SEED, len(name), 0 if noise == "gaussian" else 1])
        acc = {}
        for x in clean:
            if noise == "gaussian":
                y, ref = (x + rng.normal(0, SIGMA, x.shape)).astype(np.float32), x
                outs = {"noisy": y, "model": sm.restore(y), "nlm fast (h 0.8 sigma)": denoise("nlm", y, SIGMA),
                        "nlm slow (h 0.8 sigma)": nlm_slow(y, SIGMA), "bm3d": denoise("bm3d", y, SIGMA)}
            else:
                y, ref = add_sem_noise(x, DOSE, READ, BLUR, rng), ndimage.gaussian_filter(x, BLUR)
                outs = {"noisy": y, "model": sm.restore(y), "nlm fast (h 0.8 sigma)": denoise_sem("nlm", y, DOSE, READ),
                        "bm3d": denoise_sem("bm3d", y, DOSE, READ)}
            for k, out in outs.items():
                acc.setdefault(k, []).append((psnr(ref, out), ssim(ref, out)))
        rows[name] = {k: {"psnr": float(np.mean([a for a, _ in v])), "ssim": float(np.mean([b for _, b in v]))}
                      for k, v in acc.items()}
        r = rows[name]
        best_nlm = max(v["psnr"] for k, v in r.items() if k.startswith("nlm"))
        print(f"{noise:<8} {name:<22} " + "  ".join(f"{k} {v['psnr']:.2f}" for k, v in r.items())
              + f"  | model - best NLM {r['model']['psnr'] - best_nlm:+.2f} dB", flush=True)
    return rows


def upscale_quality(model: str, sets: dict, scale: int = 2) -> dict:
    """Mean PSNR of the shipped super-resolver and of bicubic interpolation, per set: each scene
    block-averaged by ``scale`` (``classical.downscale``) and brought back."""
    from deepfab.data.sem import sample_image
    from deepfab.restore.classical import bicubic_upscale, downscale
    from deepfab.restore.noise import TEST_SAMPLES

    sm = load_model(model, "upscale", scale)
    sets = {**sets, "scikit-image test images": [sample_image(n)[:256, :256] for n in TEST_SAMPLES]}
    rows = {}
    for name, clean in sets.items():
        acc = {"model": [], "bicubic": []}
        for x in clean:
            hr = x[: x.shape[0] // scale * scale, : x.shape[1] // scale * scale]
            lr = downscale(hr, scale)
            acc["model"].append(psnr(hr, sm.restore(lr)))
            acc["bicubic"].append(psnr(hr, bicubic_upscale(lr, scale)))
        rows[name] = {k: float(np.mean(v)) for k, v in acc.items()}
        print(f"upscale x{scale} {name:<26} model {rows[name]['model']:.2f}  bicubic {rows[name]['bicubic']:.2f}  "
              f"| {rows[name]['model'] - rows[name]['bicubic']:+.2f} dB", flush=True)
    return rows


def best_wall(cmd: list[str], runs: int) -> float:
    """The shortest wall time of ``runs`` runs of the command ``cmd``."""
    walls = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        walls.append(time.perf_counter() - t0)
    return min(walls)


def speed(model: str, threads: int) -> dict:
    """Seconds: the CLI on a 1024x1024 16-bit TIFF, the network alone, NLM and BM3D on the same image."""
    import tifffile

    clean = heldout_set("wires", 1, 1024, seed=REPORT_SEED)[0]
    noisy = np.clip(clean + np.random.default_rng(0).normal(0, SIGMA, clean.shape), 0, 1)
    out = {"load_average_start": os.getloadavg()[0], "threads": threads}
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "scan.tif"
        tifffile.imwrite(src, np.rint(noisy * 65535).astype(np.uint16), photometric="minisblack")
        argv = ["sem", "denoise", str(src), "--out", str(Path(tmp) / "clean.tif"), "--model", model,
                "--threads", str(threads)]
        best_wall([sys.executable, "-m", "deepfab", *argv], 1)              # the first run warms the file cache
        out["cli_seconds"] = best_wall([sys.executable, "-m", "deepfab", *argv, "--force"], 2)
        # the same command with the interpreter's usual teardown at exit (what ``deepfab.cli.run`` skips)
        out["cli_with_teardown_seconds"] = best_wall(
            [sys.executable, "-c", "import sys; from deepfab.cli import main; sys.exit(main(sys.argv[1:]))", *argv,
             "--force"], 2)
    torch.set_num_threads(threads)
    sm = load_model(model, "denoise")
    sm.restore(noisy[:128, :128])                              # fold BatchNorm, warm up
    t0, c0 = time.perf_counter(), time.process_time()
    sm.restore(noisy)
    out["network_seconds"], out["network_cpu_seconds"] = time.perf_counter() - t0, time.process_time() - c0
    t0 = time.perf_counter()
    denoise("nlm", noisy, SIGMA)
    out["nlm_fast_seconds"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    denoise("bm3d", noisy, SIGMA)
    out["bm3d_seconds"] = time.perf_counter() - t0
    out["load_average_end"] = os.getloadavg()[0]
    print(f"1024x1024 16-bit TIFF, {threads} threads (load average {out['load_average_start']:.1f} -> "
          f"{out['load_average_end']:.1f}): `deepfab sem denoise` {out['cli_seconds']:.2f} s in all "
          f"({out['cli_with_teardown_seconds']:.2f} s with the interpreter's teardown at exit); the network "
          f"{out['network_seconds']:.2f} s ({out['network_cpu_seconds']:.2f} s CPU); NLM fast "
          f"{out['nlm_fast_seconds']:.2f} s ({out['nlm_fast_seconds'] / out['network_seconds']:.1f}x the network); "
          f"BM3D {out['bm3d_seconds']:.1f} s ({out['bm3d_seconds'] / out['network_seconds']:.1f}x)")
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="default")
    p.add_argument("--n", type=int, default=6, help="scenes per set")
    p.add_argument("--size", type=int, default=192, help="px per scene side")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--skip-speed", action="store_true")
    p.add_argument("--skip-sem", action="store_true", help="Gaussian noise only")
    p.add_argument("--upscale-model", default="default", help="x2 super-resolver ('none' to skip)")
    p.add_argument("--json", help="write the numbers here")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    sm = load_model(args.model, "denoise")
    sets = scene_sets(args.n, args.size)
    res = {"gaussian_sigma25": quality(sm, sets, "gaussian")}
    if not args.skip_sem:
        res["sem_dose20"] = quality(sm, sets, "sem")
    if args.upscale_model != "none":
        res["upscale_x2"] = upscale_quality(args.upscale_model, sets)
    if not args.skip_speed:
        res["speed_1024"] = speed(args.model, args.threads)
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
