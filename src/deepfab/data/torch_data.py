"""A torch Dataset of encoded wafer maps, for DataLoader-based training.

    ds = WaferDataset.from_waferset(load_wm811k("train_10"), size=32)
    x, y = ds[0]                       # (2, 32, 32) float32 tensor, int64 tensor
    ds = WaferDataset(x_np, y_np, transform=aug)   # from arrays; transform acts on (2, S, S) tensors

Lecture 1 introduces it. References: PyTorch ``torch.utils.data.Dataset`` documentation.
"""
from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from .base import DataError
from .wm811k import WaferSet, encode_maps


class WaferDataset(Dataset):
    """Encoded maps ``x`` (N, C, S, S) and labels ``y`` (N,) or (N, K) multi-hot; ``y`` may be None."""

    def __init__(self, x, y=None, transform=None):
        self.x = torch.as_tensor(np.asarray(x), dtype=torch.float32)
        if self.x.ndim != 4:
            raise DataError(f"x must be (N, C, S, S) encoded maps; got shape {tuple(self.x.shape)}")
        self.y = None if y is None else torch.as_tensor(np.asarray(y))
        if self.y is not None and len(self.y) != len(self.x):
            raise DataError(f"x has {len(self.x)} maps but y has {len(self.y)} labels")
        if self.y is not None and self.y.ndim == 1:
            self.y = self.y.long()
        self.transform = transform

    @classmethod
    def from_waferset(cls, ws: WaferSet, size: int = 32, transform=None) -> WaferDataset:
        return cls(encode_maps(ws.maps, size), ws.labels, transform)

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i):
        x = self.x[i] if self.transform is None else self.transform(self.x[i])
        return x if self.y is None else (x, self.y[i])
