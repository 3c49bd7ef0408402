"""Worked solutions to the exercises of lecture 12 (pruning and compression).

    deepfab exercise L12 1 --smoke
"""
from __future__ import annotations

SIZE, WIDTH = 32, 8             # the lecture's maps and teacher


def _setup(smoke: bool, seed: int):
    """WM-811K train_10 / val / test as the lecture encodes them, a shorter budget, and the trained teacher."""
    import torch

    from ..data import prepare
    from ..models import ResNet
    from ..train import TrainConfig, evaluate, fit

    plan = (dict(per_class=8, none=12, n_val=60, n_test=120, epochs=1) if smoke
            else dict(per_class=80, none=160, n_val=400, n_test=1000, epochs=5))
    wm = prepare({"train": "train_10", "val": "val", "test": "test"})
    names = wm.label_names
    rows = {"train": wm.rows("train", per_class=plan["per_class"], caps={"none": plan["none"]}, seed=seed),
            "val": wm.rows("val", n=plan["n_val"], seed=seed), "test": wm.rows("test", n=plan["n_test"], seed=seed)}
    train, val, test = (wm.encode(k, r, size=SIZE, density=True, tensors=True) for k, r in rows.items())
    cfg = TrainConfig(epochs=plan["epochs"], batch_size=64, lr=3e-3, scheduler="onecycle", sampler="balanced",
                      seed=seed, progress=False)
    torch.manual_seed(seed)
    teacher = ResNet(in_channels=train[0].shape[1], num_classes=len(names), width=WIDTH)
    teacher = fit(teacher, train, val, cfg, label_names=names).model.cpu().eval()
    f1 = evaluate(teacher, test, label_names=names, device="cpu")["macro_f1"]
    print(f"teacher: ResNet width {WIDTH}, {len(train[1])} training maps, {plan['epochs']} epochs, "
          f"test macro-F1 {f1:.3f}")
    return names, train, val, test, cfg, teacher, f1


def exercise_1(smoke: bool = False, seed: int = 0) -> dict:
    """The distillation temperature: does T = 4 matter, or would T = 1 or T = 16 do as well?

    Section 9 distilled the width-4 student at T = 4. Train the same student (same initial weights)
    at T = 1, 4 and 16, choose T on the validation maps, and report the chosen T's test macro-F1 beside
    the others'. Low T gives the hard labels back; high T flattens the teacher's distribution towards
    uniform, so the "dark knowledge" of the wrong classes is all that is left."""
    import copy

    import torch

    from ..compress import DistillLoss
    from ..models import ResNet
    from ..train import evaluate, fit

    names, train, val, test, cfg, teacher, f_teacher = _setup(smoke, seed)
    torch.manual_seed(seed + 1)
    student0 = ResNet(in_channels=train[0].shape[1], num_classes=len(names), width=4)
    out = {}
    for t in (1.0, 4.0, 16.0):
        loss = DistillLoss(teacher, temperature=t, alpha=0.9, label_names=names)
        net = fit(copy.deepcopy(student0), train, val, cfg, label_names=names, loss_fn=loss).model.cpu().eval()
        out[f"{t:g}"] = {"val_macro_f1": evaluate(net, val, label_names=names, device="cpu")["macro_f1"],
                         "test_macro_f1": evaluate(net, test, label_names=names, device="cpu")["macro_f1"]}
        print(f"T = {t:>4g}: validation macro-F1 {out[f'{t:g}']['val_macro_f1']:.3f}, "
              f"test {out[f'{t:g}']['test_macro_f1']:.3f}")
    chosen = max(out, key=lambda k: out[k]["val_macro_f1"])
    spread = max(r["test_macro_f1"] for r in out.values()) - min(r["test_macro_f1"] for r in out.values())
    print(f"chosen on validation: T = {chosen}, test macro-F1 {out[chosen]['test_macro_f1']:.3f} (teacher "
          f"{f_teacher:.3f}); the three temperatures span {spread:.3f} of test macro-F1 on one seed")
    return {"teacher_macro_f1": f_teacher, "by_temperature": out, "chosen_T": float(chosen), "test_spread": spread}


def exercise_2(smoke: bool = False, seed: int = 0) -> dict:
    """How few calibration maps does int8 post-training quantization need?

    Section 8 calibrated the int8 ranges on 512 training maps. Calibrate on 2, 16 and 256 instead (the
    first maps of a shuffled training set) and measure how far the int8 logits move from the float32
    ones (``logit_gap``) and the test macro-F1. With two maps the observed activation ranges miss what
    other maps produce: look for clipped activations as a larger gap."""
    import torch

    from ..compress import logit_gap, quantize_int8
    from ..train import evaluate

    names, train, val, test, cfg, teacher, f_teacher = _setup(smoke, seed)
    order = torch.randperm(len(train[0]), generator=torch.Generator().manual_seed(seed))
    sizes = [n for n in (2, 16, 256) if n <= len(order)]
    x_gap = test[0][:512]
    out = {}
    for n in sizes:
        q = quantize_int8(teacher, train[0][order[:n]])
        gap = logit_gap(teacher, q, x_gap)
        out[str(n)] = {**gap, "macro_f1": evaluate(q, test, label_names=names, device="cpu")["macro_f1"]}
        print(f"{n:4d} calibration maps: largest logit difference {gap['max_abs']:.3f} ({gap['relative']:.1%} of the "
              f"largest logit), same class for {gap['argmax_agree']:.1%} of {len(x_gap)} test maps, test macro-F1 "
              f"{out[str(n)]['macro_f1']:.3f} (float32 {f_teacher:.3f})")
    lo, hi = str(sizes[0]), str(sizes[-1])
    print(f"from {lo} to {hi} calibration maps the largest logit difference goes from {out[lo]['max_abs']:.3f} to "
          f"{out[hi]['max_abs']:.3f} and the macro-F1 drop against float32 from "
          f"{f_teacher - out[lo]['macro_f1']:+.3f} to {f_teacher - out[hi]['macro_f1']:+.3f}")
    return {"teacher_macro_f1": f_teacher, "by_calibration_size": out,
            "max_abs_ratio_few_over_many": float(out[lo]["max_abs"] / max(out[hi]["max_abs"], 1e-12))}

