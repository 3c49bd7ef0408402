"""Worked solutions to the exercises of lecture 10 (denoising and super-resolution of SEM images).

    deepfab exercise L10 1 --smoke
"""
from __future__ import annotations

import numpy as np


def _sem_images(smoke: bool, seed: int):
    """Clean SEM-like training images (lines and holes, no photographs) and two test images of each kind."""
    from ..data.sem import make_sem_dataset
    from ..restore import training_images

    size = 48 if smoke else 96
    train = training_images(n_sem=2 if smoke else 12, size=size, seed=seed, samples=())
    test = np.concatenate([make_sem_dataset(2, k, size=size, seed=1000 + seed * 10 + i)[1]
                           for i, k in enumerate(("lines", "holes"))])
    return train, test


def exercise_1(smoke: bool = False, seed: int = 0) -> dict:
    """Noise beyond the training range: what does a DnCNN trained on sigma <= 25 do at sigma 50?

    Section 3 trained one blind DnCNN on sigma in [0, 55]/255 (and SEM noise). Change the training
    noise: train the same small DnCNN twice, on Gaussian sigma in [0, 25]/255 and in [0, 55]/255, and
    test both on SEM-like images at sigma 15 (inside both ranges) and 50 (outside the first). Look for
    the narrow model's gain over the noisy input collapsing outside its range."""
    import torch

    from ..models.restore import DnCNN
    from ..restore import NoiseModel, denoise_image, psnr, train_denoiser
    from ..train import TrainConfig

    train_imgs, test_clean = _sem_images(smoke, seed)
    cfg = TrainConfig(epochs=1 if smoke else 4, batch_size=32, lr=2e-3, weight_decay=0.0, scheduler="cosine",
                      monitor="val_loss", seed=seed, progress=False)
    models = {}
    for top in (25, 55):
        torch.manual_seed(seed)
        res = train_denoiser(DnCNN(channels=1, depth=3 if smoke else 5, features=8 if smoke else 16), train_imgs,
                             NoiseModel("gaussian", sigma=(0.0, top / 255)), cfg, n_patches=64 if smoke else 1024,
                             patch=24 if smoke else 32, n_val=32 if smoke else 128)
        models[top] = res.model.cpu()
    out = {}
    for s in (15, 50):
        rng = np.random.default_rng([seed, s])
        pairs = [(c + rng.normal(0, s / 255, c.shape).astype(np.float32), c) for c in test_clean]
        r = {"noisy": float(np.mean([psnr(c, y) for y, c in pairs]))}
        for top, net in models.items():
            r[f"trained_0_{top}"] = float(np.mean([psnr(c, denoise_image(net, y)) for y, c in pairs]))
        out[f"sigma_{s}"] = r
        print(f"sigma {s}: noisy {r['noisy']:.2f} dB; trained on [0, 25]: {r['trained_0_25']:.2f} dB; "
              f"trained on [0, 55]: {r['trained_0_55']:.2f} dB")
    gain = {s: {top: out[f"sigma_{s}"][f"trained_0_{top}"] - out[f"sigma_{s}"]["noisy"] for top in (25, 55)}
            for s in (15, 50)}
    lost = gain[50][55] - gain[50][25]
    print(f"gain over the noisy input at sigma 15: {gain[15][25]:+.2f} dB (narrow) and {gain[15][55]:+.2f} dB (wide); "
          f"at sigma 50: {gain[50][25]:+.2f} dB (narrow) and {gain[50][55]:+.2f} dB (wide): outside its range the "
          f"narrow model gives {abs(lost):.2f} dB {'less' if lost > 0 else 'more'} than the wide one")
    return {"psnr": out, "gain_sigma50_narrow": gain[50][25], "gain_sigma50_wide": gain[50][55],
            "gain_sigma15_narrow": gain[15][25], "gain_sigma15_wide": gain[15][55]}


def exercise_2(smoke: bool = False, seed: int = 0) -> dict:
    """The dose pushed to the extremes: which classical denoiser wins at 3 and at 200 electrons?

    Section 5 scored the classical denoisers on SEM noise at doses 10 and 40. Change the noise: doses 3
    (a very fast scan, shot noise dominates), 10 and 200 (a slow scan, read noise and blur dominate),
    each method's parameter tuned on validation images at that dose (``classical_methods``), scored
    on the SEM-like test images. Does the ranking change with the dose, and how much is left to gain
    at a high dose?"""
    from ..data.sem import make_sem_dataset
    from ..restore import NoiseModel
    from ..restore.benchmark import best_method, classical_methods, score_methods

    _, test_clean = _sem_images(smoke, seed)
    size = test_clean.shape[-1]
    val_clean = np.concatenate([make_sem_dataset(1, k, size=size, seed=2000 + seed * 10 + i)[1]
                                for i, k in enumerate(("lines", "holes"))])
    names = ("gaussian", "median") if smoke else ("gaussian", "median", "tv", "nlm", "bm3d")
    doses = (3, 200) if smoke else (3, 10, 200)
    out = {}
    for d in doses:
        nm = NoiseModel("sem", dose=float(d), read_sigma=0.02, blur=1.0)
        val_pairs = [nm.pair(c, [seed, d, j]) for j, c in enumerate(val_clean)]
        methods = {"noisy": lambda y: y, **classical_methods("sem", float(d), val_pairs, names)}
        table = score_methods(methods, [nm.pair(c, [seed, d, 100 + j]) for j, c in enumerate(test_clean)],
                              keep_outputs=False)
        best = best_method(table, "psnr", names)
        out[f"dose_{d}"] = {**{m: table[m]["psnr"] for m in methods}, "best": names.index(best),
                            "best_gain_db": table[best]["psnr"] - table["noisy"]["psnr"]}
        print(f"dose {d:3d}: noisy {table['noisy']['psnr']:.2f} dB; " + ", ".join(f"{m} {table[m]['psnr']:.2f}"
                                                                               for m in names)
              + f"; best {best} ({out[f'dose_{d}']['best_gain_db']:+.2f} dB)")
    winners = [names[out[f"dose_{d}"]["best"]] for d in doses]
    lo, hi = f"dose_{doses[0]}", f"dose_{doses[-1]}"
    print(f"winners by dose {dict(zip(doses, winners))}: the ranking {'changes' if len(set(winners)) > 1 else 'stays'}"
          f" with the dose; the best gain over the noisy image is {out[lo]['best_gain_db']:.2f} dB at dose "
          f"{doses[0]} and {out[hi]['best_gain_db']:.2f} dB at dose {doses[-1]}")
    return {"by_dose": out, "methods": list(names)}
