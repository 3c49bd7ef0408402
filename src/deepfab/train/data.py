"""Training data for the engine: array/tensor pairs or torch Datasets, batched by a seeded schedule.

Introduced in lecture 1 with the engine. ``as_data`` accepts ``(X, y)`` (numpy or torch) or any
``torch.utils.data.Dataset`` yielding ``(x, y)``. ``epoch_batches`` decides the sample order of
one epoch from a ``torch.Generator`` only (a permutation, or inverse-frequency sampling with
replacement for ``sampler="balanced"``) and cuts it into global batches; under data parallelism
each global batch is split into ``world_size`` contiguous shards, so every rank sees the samples
the single-process run would have put in the same step.

    data = as_data((X, y))
    batches = epoch_batches(sample_order(len(data), gen), 128, rank=0, world_size=1)
    for xb, yb in data.iterate(batches, seed=0):
        ...

References:
    PyTorch, torch.utils.data.WeightedRandomSampler and DistributedSampler (the ideas re-implemented
    here so that order and sharding are explicit and resumable).
"""
from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from ..errors import DataError


class TensorData:
    """(X, y) held as tensors; ``batch(idx)`` indexes them directly (no loader overhead).

    ``dense=True`` takes targets of any shape (N, ...), e.g. segmentation masks (N, 1, H, W), for
    ``fit(..., loss_fn=...)``; they are kept as float32 (bool and float64 converted), with no labels.
    """

    def __init__(self, X, y, dense: bool = False):
        X = torch.as_tensor(X)
        y = torch.as_tensor(y)
        self.dense = bool(dense)
        if self.dense:
            if X.ndim < 1 or y.ndim < 1 or X.shape[0] != y.shape[0] or X.shape[0] == 0:
                raise DataError(f"data must be (X, Y) with X (N, ...) and Y (N, ...), N >= 1; "
                                f"got X {tuple(X.shape)}, Y {tuple(y.shape)}")
            self.X = X.float() if X.dtype != torch.float32 else X
            self.y = y.float() if y.dtype in (torch.bool, torch.float64, torch.float16, torch.bfloat16) else y
            return
        if X.ndim < 1 or y.ndim != 1 or X.shape[0] != y.shape[0]:
            raise DataError(f"data must be (X, y) with X (N, ...) and y (N,); "
                            f"got X {tuple(X.shape)}, y {tuple(y.shape)}")
        if X.shape[0] == 0:
            raise DataError("data must hold at least one sample; got 0")
        if y.dtype.is_floating_point:
            if not torch.equal(y, y.round()):
                raise DataError(f"labels y must be integer class indices; got dtype {y.dtype} with fractions")
        elif y.dtype == torch.bool or y.dtype.is_complex:
            raise DataError(f"labels y must be integer class indices; got dtype {y.dtype}")
        convert = X.dtype in (torch.float64, torch.float16, torch.bfloat16) or not X.dtype.is_floating_point
        self.X = X.float() if convert else X
        self.y = y.long()
        if int(self.y.min()) < 0:
            raise DataError(f"labels y must be >= 0; got min {int(self.y.min())}")

    def __len__(self):
        return int(self.y.shape[0])

    def labels(self) -> np.ndarray:
        if self.dense:
            raise DataError("dense targets (fit with loss_fn) have no class labels")
        return self.y.numpy()

    def to(self, device) -> TensorData:
        """Move the whole set to ``device`` once (worth it on a GPU when it fits)."""
        self.X, self.y = self.X.to(device), self.y.to(device)
        return self

    def batch(self, idx: torch.Tensor):
        idx = idx.to(self.X.device)
        return self.X[idx], self.y[idx]

    def iterate(self, batches: list[torch.Tensor], seed: int):
        """(x, y) of each index tensor in ``batches``, in order (``seed`` is unused: no workers)."""
        return (self.batch(idx) for idx in batches)

    def head(self) -> torch.Tensor:
        """The first input as a batch of one, (1, ...)."""
        return self.X[:1]


class DatasetData:
    """A map-style ``Dataset`` of (x, y); batches are collated through a ``DataLoader``."""

    def __init__(self, dataset: Dataset, num_workers: int = 0):
        if not hasattr(dataset, "__getitem__") or not hasattr(dataset, "__len__"):
            raise DataError(f"data must be (X, y) or a map-style torch Dataset; got {type(dataset).__name__}")
        if len(dataset) == 0:
            raise DataError("data must hold at least one sample; got an empty Dataset")
        self.dataset = dataset
        self.num_workers = num_workers
        self._labels = None

    def __len__(self):
        return len(self.dataset)

    def labels(self) -> np.ndarray:
        """Labels of every sample: ``.targets``/``.labels``/``.y`` when the Dataset has them, else one pass."""
        if self._labels is None:
            for attr in ("targets", "labels", "y"):
                v = getattr(self.dataset, attr, None)
                if v is not None and not callable(v) and len(v) == len(self.dataset):
                    self._labels = np.asarray(torch.as_tensor(v).cpu(), dtype=np.int64)
                    break
            else:
                self._labels = np.array([int(self.dataset[i][1]) for i in range(len(self.dataset))], dtype=np.int64)
        return self._labels

    def iterate(self, batches: list[torch.Tensor], seed: int):
        """(x, y) of each index tensor in ``batches``, in order, collated by a DataLoader seeded from ``seed``."""
        if not batches:
            return iter(())
        g = torch.Generator().manual_seed(seed)
        return iter(DataLoader(self.dataset, batch_sampler=[b.tolist() for b in batches],
                               num_workers=self.num_workers, generator=g))

    def head(self) -> torch.Tensor:
        """The first input as a batch of one, (1, ...)."""
        return torch.as_tensor(self.dataset[0][0])[None]


def as_data(data, num_workers: int = 0, name: str = "train_data", dense: bool = False):
    """Wrap ``(X, y)`` or a Dataset; anything else raises DataError. ``dense``: see ``TensorData``."""
    if isinstance(data, (tuple, list)) and len(data) == 2 and not isinstance(data, Dataset):
        try:
            return TensorData(*data, dense=dense)
        except (TypeError, RuntimeError) as exc:
            raise DataError(f"{name} as a pair must be (X, y) arrays or tensors; {exc}") from None
    not_datasets = (tuple, list, str, bytes, dict, np.ndarray, torch.Tensor)
    if isinstance(data, Dataset) or (hasattr(data, "__getitem__") and hasattr(data, "__len__")
                                     and not isinstance(data, not_datasets)):
        return DatasetData(data, num_workers)
    raise DataError(f"{name} must be a pair (X, y) of arrays/tensors or a torch Dataset; got {type(data).__name__}")


def sample_order(n: int, gen: torch.Generator, labels: np.ndarray | None = None) -> torch.Tensor:
    """One epoch's sample order: a permutation of n, or (labels given) n balanced draws with replacement."""
    if labels is None:
        return torch.randperm(n, generator=gen)
    counts = np.bincount(labels)
    weights = torch.as_tensor(1.0 / counts[labels], dtype=torch.float64)  # (N,), each class sums to 1
    return torch.multinomial(weights, n, replacement=True, generator=gen)


def epoch_batches(order: torch.Tensor, batch_size: int, rank: int = 0, world_size: int = 1) -> list[torch.Tensor]:
    """Global batches of ``batch_size`` from ``order``; this rank's contiguous shard of each.

    The last batch may be short. Under data parallelism a global batch with fewer samples than
    ranks is dropped (a rank with nothing cannot take part in the gradient average).
    """
    out = []
    for start in range(0, len(order), batch_size):
        glob = order[start:start + batch_size]
        if world_size > 1:
            if len(glob) < world_size:
                continue
            bounds = np.linspace(0, len(glob), world_size + 1).round().astype(int)
            glob = glob[bounds[rank]:bounds[rank + 1]]
        out.append(glob)
    return out


def global_batch_sizes(n: int, batch_size: int, world_size: int = 1) -> list[int]:
    """Sizes of the global batches ``epoch_batches`` produces (the same on every rank)."""
    sizes = [min(batch_size, n - s) for s in range(0, n, batch_size)]
    return [b for b in sizes if world_size == 1 or b >= world_size]
