"""``TrainState``: everything about a run's progress that a checkpoint must carry, as one dataclass.

Introduced in lecture 1 with the engine. ``fit`` keeps one ``TrainState``, updates it after every
epoch, and stores ``to_dict()`` in ``checkpoint.pt`` beside the model, optimiser and RNG states;
``TrainState.from_dict`` reads it back on resume. A loop of its own (a GAN, RL) can keep one too.

    state = TrainState()
    improved = state.observe(score=0.81, mode="max", metrics=m, weights=model.state_dict())
    state.end_epoch(record, seconds=12.3, patience=5, epochs=10)
    ckpt = {**state.to_dict(), "model": ...};  state = TrainState.from_dict(ckpt)

References:
    Prechelt, "Early Stopping - But When?", Neural Networks: Tricks of the Trade, 1998.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch


@dataclass
class Best:
    """The best epoch so far by the monitored validation score."""

    epoch: int | None = None
    score: float | None = None
    metrics: dict = field(default_factory=dict)  # the loss's full validation metrics of that epoch
    state: dict | None = None                    # CPU copy of its weights (None without validation data)


@dataclass
class TrainState:
    """A run's progress after ``epoch`` completed epochs (plain types and CPU tensors only)."""

    epoch: int = 0
    history: list = field(default_factory=list)        # one record per epoch (no wall times)
    epoch_seconds: list = field(default_factory=list)
    train_seconds: float = 0.0
    finished: bool = False                             # all epochs run, or stopped early
    stopped_early: bool = False
    bad_epochs: int = 0                                # epochs since the monitored score last improved
    best: Best = field(default_factory=Best)

    def observe(self, score: float, mode: str, metrics: dict, weights: dict) -> bool:
        """Keep ``weights`` as the best if ``score`` beats the best (``mode`` "max" or "min"); count bad epochs."""
        b = self.best.score
        if b is None or (score > b if mode == "max" else score < b):
            kept = {k: v.detach().cpu().clone(memory_format=torch.contiguous_format) for k, v in weights.items()}
            self.best = Best(self.epoch + 1, score, metrics, kept)
            self.bad_epochs = 0
            return True
        self.bad_epochs += 1
        return False

    def end_epoch(self, record: dict, seconds: float, patience: int | None, epochs: int) -> None:
        """Append the epoch's record and time; decide whether the run stops here."""
        self.history.append(record)
        self.epoch_seconds.append(seconds)
        self.train_seconds += seconds
        self.epoch += 1
        self.stopped_early = patience is not None and self.bad_epochs >= patience
        self.finished = self.stopped_early or self.epoch == epochs

    def to_dict(self) -> dict:
        """The checkpoint's fields (``best`` as a plain dict, readable with ``weights_only=True``)."""
        return {"epoch": self.epoch, "history": self.history, "epoch_seconds": self.epoch_seconds,
                "train_seconds": self.train_seconds, "finished": self.finished, "stopped_early": self.stopped_early,
                "bad_epochs": self.bad_epochs, "best": {"epoch": self.best.epoch, "score": self.best.score,
                                                       "metrics": self.best.metrics, "state": self.best.state}}

    @classmethod
    def from_dict(cls, d: dict) -> TrainState:
        """Inverse of ``to_dict`` (extra keys of a checkpoint, such as ``model``, are ignored)."""
        b = d["best"]
        return cls(epoch=d["epoch"], history=d["history"], epoch_seconds=d["epoch_seconds"],
                   train_seconds=d["train_seconds"], finished=d["finished"], stopped_early=d["stopped_early"],
                   bad_epochs=d["bad_epochs"], best=Best(b["epoch"], b["score"], b["metrics"], b["state"]))

