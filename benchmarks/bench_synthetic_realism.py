"""Do generated wafer maps look real? A classifier trained only on real maps labels generated ones.

A CNN is trained on real WM-811K maps (train_29 with its "none" maps capped, wafer-symmetry flips
and effective-number class weights), checked on the real test split, and then asked to classify maps from
``deepfab.data.synthetic`` that it has never seen the like of. High recall on a generated class
means the generator's maps carry what real maps of that class carry; the real-test recall beside
it is the ceiling to compare with (a class the model confuses on real maps it will confuse on
generated ones too). Generated maps use die grids drawn from the real maps of the same class; a
second column uses 25-60-die grids for every class, which shows how much the real classifier
leans on die-grid size (on WM-811K most "none" maps are 26 dies wide). Also writes a side-by-side
figure of real and generated maps per class.

    MPLBACKEND=Agg python benchmarks/bench_synthetic_realism.py [--epochs 5] [--n 150] [--fig out.png]

Runs in about 2-3 minutes on a 2-core CPU. References: the "classifier two-sample" idea of
D. Lopez-Paz, M. Oquab, "Revisiting Classifier Two-Sample Tests", ICLR 2017, and the
classification-accuracy score of S. Ravuri, O. Vinyals, "Classification Accuracy Score for
Conditional Generative Models", NeurIPS 2019 (here reversed: train on real, test on generated).
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch
import torch.nn.functional as F

from deepfab.data import WM811K_CLASSES, encode_maps, load_wm811k
from deepfab.data.synthetic import make_dataset
from deepfab.device import resolve_device, seed_everything
from deepfab.models.small import SmallCNN
from deepfab.train import balanced_class_weights

SIZE = 32


def d4(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """A random element of the wafer's symmetry group (rotations by 90 degrees, flips) per batch."""
    k = int(torch.randint(4, (1,), generator=g))
    x = torch.rot90(x, k, dims=(2, 3))
    return torch.flip(x, dims=(3,)) if torch.rand(1, generator=g) < 0.5 else x


def train(x, y, epochs, device, seed):
    seed_everything(seed)
    g = torch.Generator().manual_seed(seed)
    model = SmallCNN(in_channels=2, num_classes=9, width=16, batchnorm=True, head_pool=4).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    steps = epochs * ((len(x) + 127) // 128)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps)
    w = torch.tensor(balanced_class_weights(y.numpy(), 9, "effective", beta=0.999), dtype=torch.float32, device=device)
    for ep in range(epochs):
        model.train()
        perm, total = torch.randperm(len(x), generator=g), 0.0
        for i in range(0, len(x), 128):
            idx = perm[i:i + 128]
            xb, yb = d4(x[idx], g).to(device), y[idx].to(device)
            loss = F.cross_entropy(model(xb), yb, weight=w)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        print(f"epoch {ep + 1}: loss {total / len(x):.4f}", flush=True)
    return model.eval()


@torch.no_grad()
def predict(model, x, device):
    return torch.cat([model(x[i:i + 512].to(device)).argmax(1).cpu() for i in range(0, len(x), 512)]).numpy()


def recall(y, p):
    return np.array([(p[y == c] == c).mean() if (y == c).any() else np.nan for c in range(9)])


def side_by_side(real, gen, gen_labels, path, n=6, seed=0):
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(seed)
    fig, axes = plt.subplots(9, 2 * n, figsize=(2 * n * 1.1, 9 * 1.15))
    for c, name in enumerate(WM811K_CLASSES):
        ri = rng.choice(np.flatnonzero(real.labels == c), n, replace=False)
        gi = np.flatnonzero(gen_labels == c)[:n]
        for j in range(2 * n):
            ax = axes[c, j]
            m = real.maps[ri[j]] if j < n else gen[gi[j - n]]
            ax.imshow(m, cmap="viridis", vmin=0, vmax=2, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if j == 0:
                ax.set_ylabel(name, fontsize=9)
            if c == 0:
                ax.set_title("real" if j < n else "generated", fontsize=9)
    fig.suptitle("WM-811K maps (left) and deepfab.data.synthetic maps (right), per class")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def fit_real(args, device):
    """The classifier trained on real maps only, and the real test split with its predictions."""
    tr, te = load_wm811k("train_29"), load_wm811k("test")
    rng = np.random.default_rng(args.seed)
    none = np.flatnonzero(tr.labels == WM811K_CLASSES.index("none"))
    drop = rng.choice(none, max(0, len(none) - args.none_cap), replace=False)
    tr = tr.subset(np.setdiff1d(np.arange(len(tr)), drop))  # 'none' dominates; the rest is kept whole
    x_tr, y_tr = torch.from_numpy(encode_maps(tr.maps, SIZE)), torch.from_numpy(tr.labels)
    model = train(x_tr, y_tr, args.epochs, device, args.seed)
    p_real = predict(model, torch.from_numpy(encode_maps(te.maps, SIZE)), device)
    return model, te, p_real


def report(te, p_real, gl, p_gen, gl2=None, p_gen2=None):
    """Per-class recall: real test, generated on real die grids, and (optional) generated on uniform grids."""
    r_real, r_gen = recall(te.labels, p_real), recall(gl, p_gen)
    r2 = recall(gl2, p_gen2) if gl2 is not None else np.full(9, np.nan)
    print(f"\n{'class':<10} {'real test':>10} {'generated':>10} {'gen/real':>9} {'generated, 25-60 grids':>23}")
    for c, name in enumerate(WM811K_CLASSES):
        print(f"{name:<10} {r_real[c]:>10.3f} {r_gen[c]:>10.3f} {r_gen[c] / r_real[c]:>9.2f} {r2[c]:>23.3f}")
    print(f"{'mean':<10} {np.nanmean(r_real):>10.3f} {np.nanmean(r_gen):>10.3f} "
          f"{np.nanmean(r_gen) / np.nanmean(r_real):>9.2f} {np.nanmean(r2):>23.3f}")
    print(f"real-test accuracy {np.mean(p_real == te.labels):.3f}; generated accuracy {np.mean(p_gen == gl):.3f}; "
          f"lowest generated recall {np.nanmin(r_gen):.3f} ({WM811K_CLASSES[int(np.nanargmin(r_gen))]})")
    conf = np.zeros((9, 9), int)
    np.add.at(conf, (gl, p_gen), 1)
    print("generated confusion (rows = generated class, columns = predicted):")
    print("           " + " ".join(f"{n[:5]:>5}" for n in WM811K_CLASSES))
    for c, name in enumerate(WM811K_CLASSES):
        print(f"{name:<10} " + " ".join(f"{v:>5d}" for v in conf[c]))
    return r_real, r_gen


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--none-cap", type=int, default=2000, help="at most this many real 'none' maps in training")
    ap.add_argument("--n", type=int, default=150, help="generated maps per class")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--fig", default=None, help="write the real-vs-generated figure here (PNG)")
    args = ap.parse_args(argv)
    torch.set_num_threads(2)
    device = resolve_device("auto")
    t0, c0 = time.time(), time.process_time()
    model, te, p_real = fit_real(args, device)
    # die grids drawn from the real maps of each class (WM-811K's grids differ by class) ...
    gen, _, gl = make_dataset(args.n, size="wm811k", seed=args.seed + 1000)
    p_gen = predict(model, torch.from_numpy(encode_maps(gen, SIZE)), device)
    # ... and the same patterns on grids 25-60 dies wide for every class, where the size cue is gone
    gen2, _, gl2 = make_dataset(args.n, size=(25, 60), seed=args.seed + 2000)
    p_gen2 = predict(model, torch.from_numpy(encode_maps(gen2, SIZE)), device)
    report(te, p_real, gl, p_gen, gl2, p_gen2)
    if args.fig:
        side_by_side(te, gen, gl, args.fig, seed=args.seed)
        print(f"figure: {args.fig}")
    print(f"time {time.time() - t0:.1f} s wall, {time.process_time() - c0:.1f} s CPU on {device}")


if __name__ == "__main__":
    main()
