"""Worked solutions to the exercises of lecture 11 (Noise2Noise and Noise2Void on SEM images).

    deepfab exercise L11 1 --smoke
"""
from __future__ import annotations

import numpy as np


def _data(smoke: bool, seed: int):
    """The lecture's SEM scenes cut into patches with two noisy shots each, and noisy test images; a smaller budget."""
    from ..data.sem import make_sem_dataset
    from ..restore.noise import NoiseModel, sample_patches
    from ..restore.selfsup import noisy_shots

    plan = (dict(scenes=4, scene_size=48, patches=64, patch=24, epochs=1, n_test=2, test_size=48, depth=3, features=8)
            if smoke else dict(scenes=24, scene_size=96, patches=480, patch=32, epochs=3, n_test=4, test_size=96,
                               depth=5, features=16))
    scenes = np.concatenate([make_sem_dataset(plan["scenes"] // 2, k, size=plan["scene_size"], seed=seed + i)[1]
                             for i, k in enumerate(("lines", "holes"))])
    noise = NoiseModel("sem", dose=(5.0, 40.0), read_sigma=0.02, blur=1.0)
    patches = sample_patches(list(scenes), plan["patches"], plan["patch"], rng=[seed, 1])        # (N, P, P)
    shots = noisy_shots(patches, noise, shots=2, rng=[seed, 2])                                 # (2, N, P, P)
    test_clean = np.concatenate([make_sem_dataset(plan["n_test"] // 2, k, size=plan["test_size"],
                                                  seed=seed + 100 + i)[1] for i, k in enumerate(("lines", "holes"))])
    test_noisy, test_ref = NoiseModel("sem", dose=15.0, read_sigma=0.02, blur=1.0).pair(test_clean, rng=[seed, 3])
    return plan, shots, noise.target(patches), test_noisy, test_ref


def _train_and_score(method, plan, shots, targets, test_noisy, test_ref, seed, fraction=1 / 64) -> float:
    """Train the small DnCNN by ``method`` (``fit_method``) and return its mean test PSNR."""
    import torch

    from ..models.restore import DnCNN
    from ..restore.metrics import psnr
    from ..restore.selfsup import fit_method
    from ..restore.train import denoise_image
    from ..train import TrainConfig

    cfg = TrainConfig(epochs=plan["epochs"], batch_size=32, lr=3e-3, optimizer="adam", weight_decay=0.0,
                      scheduler="cosine", monitor="val_loss", seed=seed, progress=False)
    torch.manual_seed(seed)
    net = DnCNN(depth=plan["depth"], features=plan["features"])
    model = fit_method(method, net, shots, targets, cfg, fraction=fraction).model
    return float(np.mean([psnr(r, denoise_image(model, y)) for r, y in zip(test_ref, test_noisy)]))


def _correlate(noisy, clean_target, blur: float):
    """Noisy images whose noise (noisy - target) is blurred over ``blur`` px, then rescaled to its former RMS."""
    from scipy import ndimage

    noise = noisy - clean_target
    sig = (0,) * (noise.ndim - 2) + (blur, blur)
    smooth = ndimage.gaussian_filter(noise, sig)
    scale = np.sqrt((noise ** 2).mean(axis=(-2, -1), keepdims=True) / ((smooth ** 2).mean(axis=(-2, -1),
                                                                                          keepdims=True) + 1e-12))
    return (clean_target + smooth * scale).astype(np.float32)


def exercise_1(smoke: bool = False, seed: int = 0) -> dict:
    """Correlated noise: which self-supervised method survives when neighbouring pixels share noise?

    Noise2Void assumes that the noise of a pixel is independent of its neighbours'. Change the data:
    blur the noise of every shot and test image over one pixel (rescaled to the same RMS), so that
    neighbours share it, then train Noise2Noise and Noise2Void on the independent and on the correlated
    shots. Noise2Noise needs only independence between the two shots; look for Noise2Void's gain over
    the noisy input shrinking."""
    from ..restore.metrics import psnr

    plan, shots, targets, test_noisy, test_ref = _data(smoke, seed)
    data = {"independent": (shots, test_noisy),
            "correlated": (np.stack([_correlate(s, targets, 1.0) for s in shots]),
                           _correlate(test_noisy, test_ref, 1.0))}
    out = {}
    for kind, (sh, tn) in data.items():
        r = {"noisy": float(np.mean([psnr(ref, y) for ref, y in zip(test_ref, tn)]))}
        for method in ("noise2noise", "noise2void"):
            r[method] = _train_and_score(method, plan, sh, targets, tn, test_ref, seed)
        out[kind] = r
        print(f"{kind:11s} noise: noisy {r['noisy']:.2f} dB, Noise2Noise {r['noise2noise']:.2f} dB "
              f"({r['noise2noise'] - r['noisy']:+.2f}), Noise2Void {r['noise2void']:.2f} dB "
              f"({r['noise2void'] - r['noisy']:+.2f})")
    gain = {k: {m: out[k][m] - out[k]["noisy"] for m in ("noise2noise", "noise2void")} for k in out}
    change = {m: gain["correlated"][m] - gain["independent"][m] for m in ("noise2noise", "noise2void")}
    print(f"correlating the noise changes Noise2Noise's gain over the noisy input by {change['noise2noise']:+.2f} dB "
          f"and Noise2Void's by {change['noise2void']:+.2f} dB")
    return {"psnr": out, "gain": gain, "gain_change": change}


def exercise_2(smoke: bool = False, seed: int = 0) -> dict:
    """The blind-spot share: does Noise2Void learn better from more masked pixels per patch?

    Section 3 trained Noise2Void with 1/64 of the pixels of every patch masked; only those pixels
    carry the loss. Change it to 1/256, 1/64 and 1/16 at the same budget and compare the test PSNR:
    more masked pixels mean more signal per step but an input further from the images the network
    sees at test time."""
    plan, shots, targets, test_noisy, test_ref = _data(smoke, seed)
    fractions = (1 / 256, 1 / 16) if smoke else (1 / 256, 1 / 64, 1 / 16)
    out = {}
    for f in fractions:
        out[f"1/{round(1 / f)}"] = _train_and_score("noise2void", plan, shots, targets, test_noisy, test_ref, seed,
                                                    fraction=f)
        print(f"blind spots 1/{round(1 / f):<3d}: test PSNR {out[f'1/{round(1 / f)}']:.2f} dB")
    best = max(out, key=out.get)
    print(f"the highest test PSNR came with {best} of the pixels masked ({out[best]:.2f} dB), the lowest with "
          f"{min(out, key=out.get)} ({min(out.values()):.2f} dB): a spread of {out[best] - min(out.values()):.2f} dB")
    return {"psnr_by_fraction": out, "spread_db": out[best] - min(out.values())}
