"""Worked solutions to the exercises of lecture 7 (generative adversarial networks).

    deepfab exercise L07 1 --smoke
"""
from __future__ import annotations

STD = 0.05                      # the lecture's ring: Gaussians of std 0.05 on a circle of radius 2


def _ring_run(modes: int, setting: dict, batches: int, epochs: int, seed: int) -> dict:
    """Train the lecture's MLP pair on a ring of ``modes`` Gaussians and count the modes of 2000 samples."""
    import torch

    from ..generative import gan_metrics as gm
    from ..generative.gan import GANConfig, train_gan
    from ..generative.gan_sampling import sample
    from ..models.gan import MLPDiscriminator, MLPGenerator

    ring = torch.from_numpy(gm.sample_ring(128 * batches, modes=modes, std=STD, seed=seed))    # (N, 2)
    torch.manual_seed(seed)                                                                    # initial weights
    cfg = GANConfig(**{"epochs": epochs, "batch_size": 128, "lr_g": 1e-3, "lr_d": 1e-3, "seed": seed,
                       "verbose": False, "progress": False, **setting})
    res = train_gan(MLPGenerator(hidden=64), MLPDiscriminator(hidden=64), ring, cfg)
    m = gm.ring_modes(sample(res.generator, 2000, seed=seed + 100).numpy(), modes=modes, std=STD)
    return {"modes_covered": m["modes"], "modes_reached": m["reached"], "high_quality": m["high_quality"],
            "train_seconds": res.train_seconds}


def exercise_1(smoke: bool = False, seed: int = 0) -> dict:
    """More modes on the ring: does the non-saturating GAN without momentum still cover them all?

    Section 2 found that the non-saturating loss with Adam's beta1 = 0 covered seven or eight of eight
    modes. Change the data: rings of 8, 16 and 32 Gaussians (same radius and std, so the modes move
    closer together), the same networks and the same number of discriminator steps, and count the modes
    covered and the share of high-quality samples."""
    setting = {"loss": "ns", "betas": (0.0, 0.9)}
    batches, epochs = (10, 1) if smoke else (500, 2)
    counts = (8, 16) if smoke else (8, 16, 32)
    out = {}
    for modes in counts:
        r = out[str(modes)] = _ring_run(modes, setting, batches, epochs, seed)
        print(f"{modes:2d} modes: covered {r['modes_covered']}, reached {r['modes_reached']}, high-quality share "
              f"{r['high_quality']:.2f} ({r['train_seconds']:.0f} s)")
    share = {m: r["modes_covered"] / int(m) for m, r in out.items()}
    lo, hi = counts[0], counts[-1]
    print(f"{batches * epochs} discriminator steps per run: the share of modes covered goes from {share[str(lo)]:.2f} "
          f"({lo} modes) to {share[str(hi)]:.2f} ({hi} modes), the high-quality share from "
          f"{out[str(lo)]['high_quality']:.2f} to {out[str(hi)]['high_quality']:.2f}")
    return {"steps": batches * epochs, "by_modes": out, "share_covered": share}


def exercise_2(smoke: bool = False, seed: int = 0) -> dict:
    """WGAN-GP with more generator steps, or a stronger penalty: which one fixes its blur?

    Section 2's WGAN-GP reached every mode and covered almost none, with five critic steps per
    generator step and the penalty weight 0.1. At the same number of critic steps, change one thing at
    a time: one critic step per generator step (five times the generator steps), and the penalty weight
    10 of Gulrajani et al.'s image experiments. Count modes covered and reached and the high-quality share."""
    base = {"loss": "wgan-gp", "betas": (0.5, 0.9), "d_steps": 5, "gp_weight": 0.1}
    settings = {"lecture (5 critic steps, lambda 0.1)": base,
                "1 critic step, lambda 0.1": {**base, "d_steps": 1},
                "5 critic steps, lambda 10": {**base, "gp_weight": 10.0}}
    batches, epochs = (10, 1) if smoke else (500, 2)
    out = {}
    for name, setting in settings.items():
        r = out[name] = _ring_run(8, setting, batches, epochs, seed)
        print(f"{name:36s} covered {r['modes_covered']}, reached {r['modes_reached']}, high-quality share "
              f"{r['high_quality']:.2f} ({r['train_seconds']:.0f} s)")
    lecture = next(iter(settings))
    best = max(out, key=lambda k: (out[k]["high_quality"], out[k]["modes_covered"]))
    if best == lecture:
        other = max(out[k]["high_quality"] for k in out if k != lecture)
        print(f"{batches * epochs} critic steps per run: neither change sharpened the samples (best high-quality share "
              f"{other:.2f} against {out[lecture]['high_quality']:.2f} for the lecture's setting)")
    else:
        print(f"{batches * epochs} critic steps per run: the sharpest samples come from '{best}' (high-quality share "
              f"{out[best]['high_quality']:.2f} against {out[lecture]['high_quality']:.2f} for the lecture's setting)")
    return {"steps": batches * epochs, "by_setting": out}
