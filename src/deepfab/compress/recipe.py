"""Steps lecture 12 repeats: train-and-score a (pruned) net, and score a set of compressed models.

    from deepfab.compress.recipe import fit_score, compression_rows
    train = partial(fit_score, train=(X, y), val=(Xv, yv), test=(Xt, yt), config=cfg, label_names=names)
    rows = lottery_ticket(net, train, [0.6, 0.9], rewind_state, control_seed=1)   # train(net) -> test metrics
    rows = compression_rows({"float32": net, "int8": q}, (Xt, yt), Xt[:256], reference="float32",
                            label_names=names)

``compression_rows`` gives, per model: macro-F1, accuracy and per-class recall on the scoring set,
bytes of its state_dict (and stored sparse), the share of zero conv/linear weights, multiply-adds
where they can be counted, and CPU latency as a ratio to ``reference`` timed in the same call; the
Pareto flag marks the models no other beats on macro-F1, bytes and latency together. Every model
is scored and timed on the CPU (int8 kernels run there only).

Introduced in lecture 12 (pruning and compression).

References: see ``compress.measure`` and ``compress.prune``.
"""
from __future__ import annotations

import torch

from ..errors import ModelError
from ..models.complexity import count_flops
from ..train import TrainConfig, evaluate, fit
from .measure import latency_ratios, pareto_front, sparse_state_bytes, state_bytes
from .prune import sparsity


def fit_score(net: torch.nn.Module, train, val, test, config: TrainConfig, label_names=None, loss_fn=None) -> dict:
    """``fit`` then ``evaluate`` on ``test``: the test metrics (macro_f1, accuracy, per_class_recall, ...)."""
    res = fit(net, train, val, config, label_names=label_names, loss_fn=loss_fn)
    return evaluate(res.model, test, label_names=label_names, device=config.device)


def _zero_share(net: torch.nn.Module) -> float:
    try:
        return sparsity(net)
    except ModelError:                                  # a quantized graph has no float conv/linear layers
        return 0.0


def _macs(net: torch.nn.Module, shape) -> int | None:
    if isinstance(net, torch.fx.GraphModule):           # int8: the same multiply-adds as its float net
        return None
    return count_flops(net, shape)


def compression_rows(models: dict, test, x_time: torch.Tensor, reference: str, label_names=None,
                     repeats: int = 15) -> list[dict]:
    """One row per model (see the module docstring), in the order of ``models``."""
    cpu = {name: net.cpu().eval() for name, net in models.items()}
    lat = latency_ratios(cpu, x_time, reference=reference, repeats=repeats)
    rows = []
    for name, net in cpu.items():
        m = evaluate(net, test, label_names=label_names, device="cpu")
        rows.append({"name": name, "macro_f1": m["macro_f1"], "accuracy": m["accuracy"],
                     "bytes": state_bytes(net), "sparse_bytes": sparse_state_bytes(net),
                     "zero_share": _zero_share(net), "macs": _macs(net, tuple(x_time.shape[1:])),
                     "latency": lat[name], "recall": m["per_class_recall"]})
    flags = pareto_front(rows, {"macro_f1": "max", "bytes": "min", "latency": "min"})
    for row, flag in zip(rows, flags):
        row["pareto"] = flag
    return rows
