"""Transfer learning for wafer-map networks: a new head, a linear probe, fine-tuning, multi-label scores.

Lecture 14 takes a network trained on one task (WM-811K, nine single-label classes) to another
(MixedWM38, eight defect types that occur together) with few labels, and a network trained on early
lots to later lots with a few labelled later-lot maps. Three ways to reuse a network ``net``:

* **linear probe**: the body is frozen; its features ``body_features(net, X)`` (the input of the
  last ``nn.Linear``, (N, D)) are computed once and a linear head is fitted on them by Newton's
  method to the optimum of an L2-penalised logistic loss (``fit_linear_probe``: the objective of
  scikit-learn's ``LogisticRegression(C=C)``, per label for multi-label targets, multinomial for
  classes);
* **full fine-tune**: ``with_new_head(net, n_out)`` (a copy with a fresh last layer) trained end to
  end by ``deepfab.train.fit``; with ``head=probe`` the head starts from the probe (LP-FT);
* **from scratch**: the same architecture with random weights and the same budget.

The multi-label objective is ``MultiLabelLoss`` (binary cross-entropy with logits, one sigmoid per
label), a ``deepfab.train.objective.Loss``; ``multilabel_metrics`` gives per-label precision,
recall and F1, macro-F1 over labels, micro-F1, exact match and Hamming accuracy
(``tests/adapt/test_transfer.py`` checks them against scikit-learn, and the probe against
``sklearn.linear_model.LogisticRegression`` on the same features). For later lots,
``lot_adaptation_rows`` picks the few maps to label from the earlier half of the later lots and
``later_half`` marks the lots after them, where the adapted model is scored.

    net = load_model("default").net                      # (a lecture may load it; this module takes any nn.Module)
    F = body_features(net, X)                            # (N, 128)
    probe = fit_linear_probe(F[rows], Y[rows], C=1.0)    # nn.Linear(128, 8), multi-label (Y is (N, 8) 0/1)
    ft = with_new_head(net, 8, seed=0)
    few = repeat_rows(rows, 60 * 64)                     # >= 60 steps of 64 maps in one epoch, any fraction
    fit(ft, (X[few], Y[few].float()), None, TrainConfig(epochs=1, batch_size=64, lr=1e-3), loss_fn=MultiLabelLoss())
    multilabel_metrics(Y_test, predict_multilabel(ft, X_test) >= 0.5, names)["macro_f1"]

References:
    J. Yosinski, J. Clune, Y. Bengio, H. Lipson, "How transferable are features in deep neural
    networks?", NeurIPS 2014.
    A. Kumar, A. Raghunathan, R. Jones, T. Ma, P. Liang, "Fine-Tuning can Distort Pretrained Features
    and Underperform Out-of-Distribution", ICLR 2022 (linear probe, then fine-tune: LP-FT).
    G. Tsoumakas, I. Katakis, "Multi-Label Classification: An Overview", IJDWM 3(3), 2007.
    J. Wang, C. Xu, Z. Yang, J. Zhang, X. Li, "Deformable Convolutional Networks for Efficient
    Mixed-type Wafer Defect Pattern Recognition", IEEE TSM 33(4), 2020 (MixedWM38).
"""
from __future__ import annotations

import copy
import math

import numpy as np
import torch
from torch import nn

from ..errors import DataError, ModelError, UsageError
from ..train.data import TensorData
from ..train.evaluate import forward_logits
from ..train.objective import Loss


def last_linear(net: nn.Module) -> tuple[str, nn.Linear]:
    """The name and module of the last ``nn.Linear`` of ``net`` (its classification head)."""
    found = [(n, m) for n, m in net.named_modules() if isinstance(m, nn.Linear)]
    if not found:
        raise ModelError(f"transfer needs a network whose last layer is an nn.Linear; {type(net).__name__} has none")
    return found[-1]


def _rows(X: torch.Tensor) -> TensorData:
    """Inputs without labels, as the engine's data (the labels are unused zeros)."""
    return TensorData(X, torch.zeros(len(X), dtype=torch.long))


def _set_module(net: nn.Module, name: str, module: nn.Module) -> None:
    parent, _, leaf = name.rpartition(".")
    setattr(net.get_submodule(parent) if parent else net, leaf, module)


def with_new_head(net: nn.Module, n_out: int, seed: int = 0, head: nn.Linear | None = None) -> nn.Module:
    """A deep copy of ``net`` whose last ``nn.Linear`` is replaced: fresh (PyTorch's default init, seeded)
    with ``n_out`` outputs, or a copy of ``head`` (e.g. a fitted probe). ``net`` is unchanged; a
    ``config`` dict (deepfab models) gets ``num_classes = n_out`` so the copy rebuilds."""
    if isinstance(n_out, bool) or not isinstance(n_out, (int, np.integer)) or n_out < 1:
        raise UsageError(f"n_out must be a positive int; got {n_out!r}")
    new = copy.deepcopy(net)
    name, old = last_linear(new)
    if head is None:
        torch.manual_seed(seed)
        head = nn.Linear(old.in_features, int(n_out))
    elif head.in_features != old.in_features or head.out_features != n_out:
        raise ModelError(f"head must be Linear({old.in_features}, {n_out}); got Linear({head.in_features}, "
                         f"{head.out_features})")
    _set_module(new, name, copy.deepcopy(head).to(old.weight.device))
    if isinstance(getattr(new, "config", None), dict) and "num_classes" in new.config:
        new.config = {**new.config, "num_classes": int(n_out)}
        new.num_classes = int(n_out)
    return new


def body_features(net: nn.Module, X, batch_size: int = 512, device: str | torch.device = "cpu") -> torch.Tensor:
    """(N, D) float32: what the last ``nn.Linear`` of ``net`` receives for each row of ``X`` (N, C, S, S),
    in eval mode (batch-norm statistics frozen), without gradients."""
    X = torch.as_tensor(X)
    _, head = last_linear(net)
    feats = []
    hook = head.register_forward_hook(lambda _m, inp, _out: feats.append(inp[0].detach().float().cpu()))
    try:
        forward_logits(net.to(device), _rows(X), device, batch_size)
    finally:
        hook.remove()
    return torch.cat(feats) if feats else torch.zeros(0, head.in_features)


def fit_linear_probe(F, Y, C: float = 1.0, max_iter: int = 100, tol: float = 1e-10) -> nn.Linear:
    """A linear head fitted on frozen features ``F`` (N, D) to the optimum of

        sum_i loss_i(W f_i + b) + ||W||^2 / (2 C)          (the bias is not penalised)

    with ``loss`` the binary cross-entropy summed over labels when ``Y`` is (N, L) 0/1 (multi-label:
    L independent logistic regressions), or the softmax cross-entropy when ``Y`` is (N,) class indices
    (then the head has ``max(Y) + 1`` outputs). This is scikit-learn's ``LogisticRegression(C=C)``
    objective. It is convex with a small exact Hessian ((D + 1)^2 per label; (K (D + 1))^2 for K
    classes), so Newton's method (float64, full batch, step halved until the objective falls) reaches
    the optimum in a few tens of steps: until the largest gradient entry of the objective divided by N
    is below ``tol``, or ``max_iter`` steps.
    """
    F = torch.as_tensor(F, dtype=torch.float64)
    Y = torch.as_tensor(Y)
    if F.ndim != 2 or len(F) != len(Y) or len(F) == 0 or Y.ndim not in (1, 2):
        raise DataError(f"fit_linear_probe needs F (N, D) and Y (N,) or (N, L) with N > 0; got {tuple(F.shape)} "
                        f"and {tuple(Y.shape)}")
    if not (isinstance(C, (int, float)) and C > 0 and math.isfinite(C)):
        raise UsageError(f"C must be a positive finite number; got {C!r}")
    multilabel = Y.ndim == 2
    if multilabel:
        if not torch.isin(Y, torch.tensor([0, 1], dtype=Y.dtype)).all():
            raise DataError("multi-label targets Y (N, L) must hold 0 or 1")
        T = Y.double()                                                          # (N, L)
    else:
        if Y.min() < 0:
            raise DataError(f"class targets must be >= 0; got {int(Y.min())}")
        T = nn.functional.one_hot(Y.long()).double()                            # (N, K)
    n, d = F.shape
    A = torch.cat([F, torch.ones(n, 1, dtype=torch.float64)], 1)                # (N, D + 1): the bias column last
    reg = torch.full((d + 1,), 1.0 / C, dtype=torch.float64)
    reg[-1] = 0.0
    W = torch.zeros(T.shape[1], d + 1, dtype=torch.float64)                     # (out, D + 1)

    def objective(W):        # one value per label (independent problems), or one for the classes
        z = A @ W.T
        if multilabel:
            return (nn.functional.binary_cross_entropy_with_logits(z, T, reduction="none").sum(0)
                    + 0.5 * (reg * W * W).sum(1))
        return (nn.functional.cross_entropy(z, T, reduction="sum") + 0.5 * (reg * W * W).sum()).reshape(1)

    for _ in range(max_iter):
        z = A @ W.T
        P = torch.sigmoid(z) if multilabel else torch.softmax(z, 1)             # (N, out)
        G = (P - T).T @ A + reg * W                                             # (out, D + 1) the gradient
        if G.abs().max() / n <= tol:
            break
        # the Hessian, plus a tiny ridge: the softmax biases can shift together without changing the loss
        damp = torch.diag(reg + 1e-10 * n)
        if multilabel:
            H = torch.einsum("nl,nd,ne->lde", P * (1 - P), A, A) + damp          # (L, D + 1, D + 1)
            step = torch.linalg.solve(H, G.unsqueeze(-1)).squeeze(-1)
        else:
            k = P.shape[1]
            B = (P[:, :, None] * A[:, None, :]).reshape(n, -1)                  # (N, K (D + 1))
            H = torch.block_diag(*(A.T @ (P[:, j:j + 1] * A) for j in range(k))) - B.T @ B
            step = torch.linalg.solve(H + torch.block_diag(*[damp] * k), G.reshape(-1)).reshape(k, d + 1)
        f0 = objective(W)
        rate = torch.ones(len(f0), 1, dtype=torch.float64)                      # one step size per problem
        for _ in range(50):                                                     # halve until each problem falls
            worse = objective(W - rate * step) > f0
            if not worse.any():
                break
            rate = torch.where(worse[:, None], rate / 2, rate)
        else:
            break                                                               # no step lowers it: at the optimum
        W = W - rate * step
    head = nn.Linear(d, T.shape[1])
    with torch.no_grad():
        head.weight.copy_(W[:, :-1].float())
        head.bias.copy_(W[:, -1].float())
    return head


def predict_multilabel(net: nn.Module, X, batch_size: int = 512, device: str | torch.device = "cpu") -> np.ndarray:
    """(N, L) sigmoid probabilities of ``net``'s logits for the rows of ``X``; eval mode, no gradients."""
    logits, _ = forward_logits(net.to(device), _rows(torch.as_tensor(X)), device, batch_size)
    return torch.sigmoid(logits).numpy()


def repeat_rows(rows, n: int) -> np.ndarray:
    """``rows`` repeated cyclically to at least ``n`` entries (unchanged when already that long): one epoch
    over the result gives a small label fraction as many optimiser steps as the full pool, so every
    fraction is trained with the same budget of updates, not ``fraction`` of it."""
    rows = np.asarray(rows)
    if rows.ndim != 1 or rows.size == 0:
        raise DataError(f"repeat_rows needs a non-empty 1-D array of rows; got shape {rows.shape}")
    return np.resize(rows, max(rows.size, int(n)))


def multilabel_metrics(Y_true, Y_pred, label_names=None) -> dict:
    """Scores of 0/1 predictions ``Y_pred`` against ``Y_true`` (both (N, L)).

    Per label (one-vs-rest): precision, recall, F1 and support, 0.0 where a denominator is zero (as
    scikit-learn's ``zero_division=0``). ``macro_f1``: the mean F1 over all L labels (a rare label counts
    as much as a common one); ``micro_f1``: F1 of the pooled counts; ``exact_match``: the share of maps
    whose whole label set is right (scikit-learn's multi-label ``accuracy_score``); ``hamming_accuracy``:
    the share of right (map, label) cells.
    """
    yt, yp = np.asarray(Y_true), np.asarray(Y_pred)
    if yt.ndim != 2 or yt.shape != yp.shape or yt.size == 0:
        raise DataError(f"Y_true and Y_pred must be (N, L) arrays of one shape; got {yt.shape} and {yp.shape}")
    if not (np.isin(yt, (0, 1)).all() and np.isin(yp, (0, 1)).all()):
        raise DataError("multi-label targets and predictions must hold 0 or 1 (threshold probabilities first)")
    yt, yp = yt.astype(bool), yp.astype(bool)
    names = [str(n) for n in label_names] if label_names is not None else [str(i) for i in range(yt.shape[1])]
    if len(names) != yt.shape[1]:
        raise DataError(f"label_names must name the {yt.shape[1]} labels; got {len(names)}")
    tp, fp, fn = (yt & yp).sum(0), (~yt & yp).sum(0), (yt & ~yp).sum(0)                  # (L,) each
    prec = np.divide(tp, tp + fp, out=np.zeros(len(tp)), where=(tp + fp) > 0)
    rec = np.divide(tp, tp + fn, out=np.zeros(len(tp)), where=(tp + fn) > 0)
    f1 = np.divide(2 * tp, 2 * tp + fp + fn, out=np.zeros(len(tp)), where=(2 * tp + fp + fn) > 0)
    TP, FP, FN = tp.sum(), fp.sum(), fn.sum()
    return {
        "macro_f1": float(f1.mean()),
        "micro_f1": float(2 * TP / (2 * TP + FP + FN)) if TP + FP + FN else 0.0,
        "exact_match": float((yt == yp).all(1).mean()),
        "hamming_accuracy": float((yt == yp).mean()),
        "per_label_f1": dict(zip(names, f1.tolist())),
        "per_label_recall": dict(zip(names, rec.tolist())),
        "per_label_precision": dict(zip(names, prec.tolist())),
        "support": dict(zip(names, yt.sum(0).astype(int).tolist())),
    }


class MultiLabelLoss(Loss):
    """Binary cross-entropy with logits summed over the L labels, averaged over maps: one sigmoid per
    label, so a map can be Center and Scratch at once. ``fit(net, (X, Y), (Xv, Yv), cfg,
    loss_fn=MultiLabelLoss(names))`` with Y (N, L) float 0/1; validation records ``val_loss``,
    ``val_macro_f1`` and ``val_exact_match`` (threshold ``threshold`` on the probabilities), and
    ``TrainConfig.monitor`` may be ``"val_loss"`` or ``"val_macro_f1"``."""

    dense = True

    def __init__(self, label_names=None, threshold: float = 0.5):
        if not 0.0 < threshold < 1.0:
            raise UsageError(f"threshold must be in (0, 1); got {threshold!r}")
        self.label_names, self.threshold = label_names, float(threshold)

    def check(self, cfg, has_val: bool) -> None:
        if has_val and cfg.monitor not in ("val_loss", "val_macro_f1"):
            raise UsageError(f"with MultiLabelLoss, TrainConfig.monitor must be 'val_loss' or 'val_macro_f1'; "
                             f"got {cfg.monitor!r}")

    def __call__(self, outputs, targets):                      # outputs, targets: (B, L)
        if outputs.shape != targets.shape:
            raise DataError(f"multi-label outputs and targets must have one shape; got {tuple(outputs.shape)} "
                            f"and {tuple(targets.shape)}")
        total = nn.functional.binary_cross_entropy_with_logits(outputs.float(), targets.float(), reduction="sum")
        return total, torch.tensor(float(targets.shape[0]), device=outputs.device)

    def metrics(self, outputs, targets):
        m = multilabel_metrics(targets.numpy() > 0.5, (torch.sigmoid(outputs) >= self.threshold).numpy(),
                               self.label_names)
        loss, n = self(outputs, targets)
        return {"loss": float(loss / n), "macro_f1": m["macro_f1"], "exact_match": m["exact_match"]}

    def record(self, m):
        return {"val_loss": m["loss"], "val_macro_f1": m["macro_f1"], "val_exact_match": m["exact_match"]}


def lot_adaptation_rows(labels, source_index, per_class: int, seed: int = 0) -> np.ndarray:
    """Rows of at most ``per_class`` maps of each class, drawn at random among the maps of the earlier
    half of the lots in ``source_index`` (N,): the few later-lot maps an engineer labels first. Score
    the adapted model on ``later_half(source_index)``, lots that come after every labelled map."""
    from ..data import stratified_indices

    labels, src = np.asarray(labels), np.asarray(source_index)
    if labels.shape != src.shape or labels.ndim != 1:
        raise DataError(f"labels and source_index must be (N,) of one length; got {labels.shape} and {src.shape}")
    first = np.flatnonzero(~later_half(src))
    return np.sort(first[stratified_indices(labels[first], per_class=per_class, seed=seed)])


def later_half(source_index) -> np.ndarray:
    """(N,) bool: the maps whose ``source_index`` (lot order) is in the later half, by count."""
    src = np.asarray(source_index)
    order = np.argsort(src, kind="stable")
    mask = np.zeros(len(src), bool)
    mask[order[len(src) // 2:]] = True
    return mask
