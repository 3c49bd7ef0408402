"""Worked solutions to the exercises of lecture 3 (network visualization).

    deepfab exercise L03 1 --smoke
"""
from __future__ import annotations

import numpy as np

PATTERNS = ["Center", "Donut", "Edge-Loc", "Edge-Ring", "Loc", "Scratch"]   # the localized WM-811K patterns


def _wafer_data(smoke: bool, seed: int) -> tuple:
    """Capped train_10 (train_1 in smoke mode), stratified val and test samples, the config of section 1."""
    from ..data import prepare
    from ..train import TrainConfig

    split, per_class, none_cap, n_val, n_test = (("train_1", 10, 20, 60, 120) if smoke else
                                                 ("train_10", 100, 250, 500, 1000))
    wm = prepare({"train": split, "val": "val", "test": "test"})
    train = wm.encode("train", wm.rows("train", per_class=per_class, caps={"none": none_cap}, seed=seed), 32,
                      tensors=True)
    val = wm.encode("val", wm.rows("val", n=n_val, seed=0), 32, tensors=True)
    test = wm.encode("test", wm.rows("test", n=n_test, seed=0), 32, tensors=True)
    cfg = TrainConfig(epochs=1 if smoke else 6, batch_size=64, lr=3e-3, scheduler="onecycle",
                      class_weights="balanced", seed=seed, progress=False)
    return train, val, test, wm.label_names, cfg


def _synthetic(n: int, seed: int, names: list[str]) -> tuple:
    """Section 5's synthetic maps with known defect masks, encoded like the real ones."""
    import torch

    from ..data import encode_maps
    from ..data.synthetic import make_dataset

    maps, masks, lab = make_dataset(n, patterns=PATTERNS, size="wm811k", seed=seed + 1)
    x = torch.from_numpy(encode_maps(maps, 32))
    masks = encode_maps([np.where(mk, 2, 1) for mk in masks], 32)[:, 1] > 0.5    # (N, S, S) bool
    y = torch.tensor([names.index(PATTERNS[k]) for k in lab])
    return x, masks, y, lab


def exercise_1(smoke: bool = False, seed: int = 0) -> dict:
    """Explain a different model: Grad-CAM and the gradient of a ResNet in the pointing game.

    Section 5 scored Grad-CAM and the gradient of the SmallCNN. Train a ResNet-10 (width 8, same
    maps, recipe and D4 augmentation), take Grad-CAM at its third stage (8 x 8, the resolution of
    the lecture's layer), and play the pointing game on the same synthetic maps. Does a residual
    network with global average pooling point at the defect more often than the SmallCNN, and do
    both beat a random die?"""
    import torch

    from ..augment import RandomDihedral
    from ..explain.attribution import attribution_maps
    from ..explain.pointing import pointing_game, random_hit_rate, rates_by_group
    from ..explain.recipe import train_wafer_cnn
    from ..models import build_model
    from ..train import evaluate, fit

    train, val, test, names, cfg = _wafer_data(smoke, seed)
    torch.manual_seed(seed)                                   # initial weights; cfg.seed fixes the batch order
    small = train_wafer_cnn(train, val, names, cfg).model.cpu().eval()
    torch.manual_seed(seed)                                   # the ResNet's initial weights
    resnet = fit(build_model("resnet", 2, len(names), width=8), train, val, cfg, augment=RandomDihedral(),
                 label_names=names).model.cpu().eval()
    x, masks, y, lab = _synthetic(3 if smoke else 30, seed, names)
    wafer = (x[:, 0] > 0.5).numpy()
    out = {"random die": rates_by_group(random_hit_rate(masks, wafer, tolerance=1), lab, PATTERNS)["all"]}
    for tag, net, layer in (("SmallCNN", small, small.features[-2]), ("ResNet", resnet, resnet.features[-2])):
        score = evaluate(net, test, label_names=names, device="cpu")
        maps = attribution_maps(net, x, y, ("Grad-CAM", "gradient"), layer=layer)
        for method, a in maps.items():
            out[f"{tag} {method}"] = rates_by_group(pointing_game(a, masks, valid=wafer, tolerance=1), lab,
                                                    PATTERNS)["all"]
        out[f"{tag} test macro-F1"] = score["macro_f1"]
        print(f"{tag:8s}: test macro-F1 {score['macro_f1']:.3f}; pointing-game hit rate, mean over the "
              f"{len(PATTERNS)} patterns: Grad-CAM {out[f'{tag} Grad-CAM']:.3f}, gradient {out[f'{tag} gradient']:.3f}")
    chance = out["random die"]
    d = out["ResNet Grad-CAM"] - out["SmallCNN Grad-CAM"]
    print(f"a random die hits {chance:.3f}; the ResNet's Grad-CAM hits {abs(d):.3f} "
          f"{'more' if d > 0 else 'less' if d < 0 else 'no more'} often than the SmallCNN's and is "
          f"{'above' if out['ResNet Grad-CAM'] > chance else 'not above'} chance; its gradient is "
          f"{'above' if out['ResNet gradient'] > chance else 'not above'} chance")
    return out


def exercise_2(smoke: bool = False, seed: int = 0) -> dict:
    """Embeddings of an untrained network: how much of the 5-NN accuracy is training?

    Section 8 found the penultimate layer's 5-nearest-neighbour accuracy above that of the raw
    pixels. Compute the same for the trained SmallCNN with its weights re-initialized
    (``randomized_copy``, the sanity check of section 6): random convolutions and pooling already
    give a geometry. Compare the three numbers on the same test maps."""
    import torch

    from ..data import stratified_indices
    from ..explain.features import embed, knn_accuracy
    from ..explain.recipe import train_wafer_cnn
    from ..explain.sanity import randomized_copy

    train, val, test, names, cfg = _wafer_data(smoke, seed)
    torch.manual_seed(seed)                                   # initial weights; cfg.seed fixes the batch order
    model = train_wafer_cnn(train, val, names, cfg).model.cpu().eval()
    rand = randomized_copy(model, seed=seed + 100).eval()
    idx = stratified_indices(test[1].numpy(), n=100 if smoke else 1000, seed=seed)
    x, y = test[0][idx], test[1][idx].numpy()
    acc = {"trained": knn_accuracy(embed(model, x).numpy(), y, k=5),
           "random weights": knn_accuracy(embed(rand, x).numpy(), y, k=5),
           "raw pixels": knn_accuracy(x.flatten(1).numpy(), y, k=5)}
    print(f"leave-one-out 5-NN accuracy on {len(y)} test maps: " + ", ".join(f"{k} {v:.3f}" for k, v in acc.items()))
    share = ((acc["trained"] - acc["random weights"]) / (acc["trained"] - acc["raw pixels"])
             if acc["trained"] != acc["raw pixels"] else float("nan"))
    print(f"random weights are {'above' if acc['random weights'] > acc['raw pixels'] else 'not above'} the raw "
          f"pixels; training adds {acc['trained'] - acc['random weights']:+.3f} on top of the random network"
          + (f" ({share:.0%} of the trained net's gain over the pixels)" if np.isfinite(share) else ""))
    return {"knn5_accuracy": acc, "maps": int(len(y))}
