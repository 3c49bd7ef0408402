"""What a compressed model costs: bytes on disk, CPU latency as a ratio, and the Pareto front.

    from deepfab.compress import state_bytes, sparse_state_bytes, latency_ratios, pareto_front
    state_bytes(net)                                  # len(torch.save(net.state_dict()))
    sparse_state_bytes(net)                           # the same with mostly-zero weights stored as CSR
    latency_ratios({"float32": net, "int8": q}, x, reference="float32")   # {"float32": 1.0, "int8": 0.55}
    pareto_front(rows, better={"macro_f1": "max", "bytes": "min", "latency": "min"})

Latency is a property of the machine and its load, so it is only ever reported as a ratio to a
reference model timed in the same call: the models take turns (interleaved repeats, so a burst
of load hits all of them), and each model's time is the median of its repeats.

Bytes are those of ``torch.save`` of the state_dict. Zeros take as many bytes as any other
float: a pruned state_dict is as large as the dense one (larger while masks are attached), and
only a sparse format shrinks it. ``sparse_state_bytes`` stores each 2-D-reshaped weight whose
zero share is above a threshold as CSR with int32 indices (4 + 4 bytes per non-zero instead of
4 per entry), so it pays off above 50 % sparsity.

Introduced in lecture 12 (pruning and compression).

References:
    S. Han, H. Mao, W. Dally, "Deep Compression: Compressing Deep Neural Networks with Pruning, Trained
    Quantization and Huffman Coding", ICLR 2016.
    T. Hoefler, D. Alistarh, T. Ben-Nun, N. Dryden, A. Peste, "Sparsity in Deep Learning: Pruning and growth
    for efficient inference and training in neural networks", JMLR 22, 2021.
"""
from __future__ import annotations

import copy
import io
import time
import warnings

import numpy as np
import torch

from ..errors import UsageError


def _state(net_or_state) -> dict:
    if isinstance(net_or_state, torch.nn.Module):
        return net_or_state.state_dict()
    if isinstance(net_or_state, dict):
        return net_or_state
    raise UsageError(f"expected a torch.nn.Module or a state_dict; got {type(net_or_state).__name__}")


def state_bytes(net_or_state) -> int:
    """Bytes of ``torch.save`` of the state_dict (for a module) or of the dict as given."""
    buf = io.BytesIO()
    torch.save(_state(net_or_state), buf)
    return len(buf.getvalue())


def to_sparse(state: dict, min_zero_share: float = 0.5) -> dict:
    """A copy of ``state`` whose float tensors of >= 2 dims with at least ``min_zero_share`` zeros are
    CSR tensors of shape (rows, rest) with int32 indices; other entries are kept as they are."""
    state = _state(state)
    out = copy.copy(state)                                   # an OrderedDict keeps its _metadata
    with warnings.catch_warnings():                          # CSR is "beta" in torch; it is only stored here
        warnings.simplefilter("ignore", UserWarning)
        for k, v in state.items():
            _sparse_entry(out, k, v, min_zero_share)
    return out


def _sparse_entry(out: dict, k: str, v, min_zero_share: float) -> None:
    if (isinstance(v, torch.Tensor) and v.ndim >= 2 and v.is_floating_point() and v.numel()
            and float((v == 0).double().mean()) >= min_zero_share):
        csr = v.detach().float().reshape(v.shape[0], -1).to_sparse_csr()             # (rows, rest)
        out[k] = torch.sparse_csr_tensor(csr.crow_indices().int(), csr.col_indices().int(), csr.values(), csr.shape)


def from_sparse(state: dict, like: dict) -> dict:
    """Dense tensors of the shapes in ``like`` (a state_dict) for the CSR entries of ``to_sparse``."""
    return {k: v.to_dense().reshape(like[k].shape) if isinstance(v, torch.Tensor) and v.layout == torch.sparse_csr
            else v for k, v in state.items()}


def sparse_state_bytes(net_or_state, min_zero_share: float = 0.5) -> int:
    """``state_bytes`` after ``to_sparse``: what a pruned model costs when stored sparse."""
    return state_bytes(to_sparse(_state(net_or_state), min_zero_share))


@torch.no_grad()
def latency_seconds(nets: dict, x: torch.Tensor, repeats: int = 15, warmup: int = 2) -> dict:
    """Median seconds of one forward pass of each model on ``x`` (CPU, eval mode), the models
    interleaved within each repeat. A measurement, never a test assertion."""
    if not nets or not all(isinstance(n, torch.nn.Module) for n in nets.values()):
        raise UsageError(f"nets must be a non-empty dict of torch.nn.Module; got {nets!r}")
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise UsageError(f"repeats must be a positive int; got {repeats!r}")
    x = x.detach().cpu()
    times = {name: [] for name in nets}
    modes = {name: net.training for name, net in nets.items()}
    for net in nets.values():
        net.eval()
    try:
        for r in range(warmup + repeats):
            for name, net in nets.items():
                t0 = time.perf_counter()
                net(x)
                if r >= warmup:
                    times[name].append(time.perf_counter() - t0)
    finally:
        for name, net in nets.items():
            net.train(modes[name])
    return {name: float(np.median(t)) for name, t in times.items()}


def latency_ratios(nets: dict, x: torch.Tensor, reference: str, repeats: int = 15, warmup: int = 2) -> dict:
    """Each model's median forward time over that of ``nets[reference]``, timed in the same call."""
    if reference not in nets:
        raise UsageError(f"reference must be one of the nets {list(nets)}; got {reference!r}")
    sec = latency_seconds(nets, x, repeats, warmup)
    return {name: s / sec[reference] for name, s in sec.items()}


def pareto_front(rows: list[dict], better: dict) -> list[bool]:
    """For each row, whether no other row is at least as good in every key of ``better`` ("max" or
    "min") and strictly better in one (the non-dominated rows)."""
    if not better or any(v not in ("max", "min") for v in better.values()):
        raise UsageError(f"better must map keys to 'max' or 'min'; got {better!r}")
    sign = {k: 1.0 if v == "max" else -1.0 for k, v in better.items()}
    pts = np.array([[sign[k] * float(r[k]) for k in better] for r in rows]).reshape(len(rows), len(better))
    out = []
    for p in pts:
        dominated = np.any(np.all(pts >= p, axis=1) & np.any(pts > p, axis=1))
        out.append(not bool(dominated))
    return out
