"""Data parallelism under ``torchrun``: detection, process group, and the few collectives the engine uses.

Introduced in lecture 1 (the engine) and shown in ``python -m deepfab.train.ddp_check``. When
``torchrun`` starts N processes it sets ``WORLD_SIZE``, ``RANK`` and ``LOCAL_RANK``; ``fit`` then
calls :func:`setup`, wraps the model in ``DistributedDataParallel`` (gloo on CPU, NCCL on GPU),
and gives each rank its shard of every global batch. Only rank 0 writes files and logs.

    .venv/bin/torchrun --standalone --nproc_per_node 2 -m deepfab.train.ddp_check --out runs/ddp

References:
    Li et al., "PyTorch Distributed: Experiences on Accelerating Data Parallel Training", VLDB 2020.
    PyTorch, torchrun (elastic launch) and torch.nn.parallel.DistributedDataParallel.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from ..errors import UsageError


@dataclass
class DistInfo:
    """This process's place in the job (rank 0 of 1 when not distributed)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def env_world_size() -> int:
    try:
        return int(os.environ.get("WORLD_SIZE", "1"))
    except ValueError:
        raise UsageError(f"WORLD_SIZE must be an int; got {os.environ.get('WORLD_SIZE')!r}") from None


def setup(device: torch.device) -> tuple[DistInfo, torch.device]:
    """Join the process group when ``WORLD_SIZE > 1`` (once); return (info, this rank's device)."""
    if env_world_size() <= 1:
        return DistInfo(), device
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if device.type == "cuda":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend=backend, device_id=device if device.type == "cuda" else None)
    return DistInfo(dist.get_rank(), dist.get_world_size(), local_rank), device


def cleanup() -> None:
    """Leave the process group (call once at the end of a torchrun script)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def _comm_device(info: DistInfo, device: torch.device) -> torch.device:
    # NCCL reduces CUDA tensors only; gloo reduces CPU tensors.
    return device if dist.get_backend() == "nccl" else torch.device("cpu")


def all_reduce_sum(values: list[float], info: DistInfo, device: torch.device) -> list[float]:
    """Sum a few float64 numbers over all ranks (identity when not distributed)."""
    if not info.enabled:
        return list(values)
    t = torch.tensor(values, dtype=torch.float64, device=_comm_device(info, device))
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t.cpu().tolist()


def all_reduce_tensor_sum(t: torch.Tensor, info: DistInfo) -> torch.Tensor:
    """Sum a tensor over ranks (a copy; identity when not distributed)."""
    if not info.enabled:
        return t
    out = t.detach().clone()
    if dist.get_backend() != "nccl":
        out = out.cpu()
    dist.all_reduce(out, op=dist.ReduceOp.SUM)
    return out.to(t.device)


def gather_objects(obj, info: DistInfo) -> list:
    """Every rank's ``obj`` in rank order (``[obj]`` when not distributed)."""
    if not info.enabled:
        return [obj]
    out = [None] * info.world_size
    dist.all_gather_object(out, obj)
    return out


def barrier(info: DistInfo) -> None:
    if info.enabled:
        dist.barrier()
