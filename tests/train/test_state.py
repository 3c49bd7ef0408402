"""deepfab.train.state.TrainState: best-epoch tracking, early stopping, and a weights_only checkpoint round trip."""
import torch

from deepfab.train import TrainState


def test_observe_and_end_epoch_keep_the_best_and_stop_after_patience():
    s = TrainState()
    w = {"w": torch.zeros(2)}
    for epoch, score in enumerate([0.5, 0.7, 0.6, 0.65], start=1):
        improved = s.observe(score, "max", {"score": score}, w)
        w["w"] += 1                                  # the kept copy must not follow later changes
        s.end_epoch({"epoch": epoch, "val": score}, seconds=1.5, patience=2, epochs=10)
        assert improved == (epoch in (1, 2))
        if epoch < 4:
            assert not s.finished
    assert s.best.epoch == 2 and s.best.score == 0.7 and torch.equal(s.best.state["w"], torch.full((2,), 1.0))
    assert s.bad_epochs == 2 and s.stopped_early and s.finished and s.epoch == 4 and s.train_seconds == 6.0
    t = TrainState()
    for score in (3.0, 2.0):
        t.observe(score, "min", {}, w)
        t.end_epoch({}, 0.0, None, epochs=2)
    assert t.best.score == 2.0 and t.finished and not t.stopped_early


def test_round_trip_through_a_weights_only_checkpoint(tmp_path):
    s = TrainState()
    s.observe(0.9, "max", {"loss": 0.1, "per_class_recall": {"a": 1.0}}, {"w": torch.arange(3.0)})
    s.end_epoch({"epoch": 1, "train_loss": 0.2}, 2.0, None, 3)
    torch.save({**s.to_dict(), "model": {}}, tmp_path / "c.pt")
    back = TrainState.from_dict(torch.load(tmp_path / "c.pt", weights_only=True))
    assert back.to_dict().keys() == s.to_dict().keys()
    assert back.history == s.history and back.best.metrics == s.best.metrics and back.epoch == 1
    assert torch.equal(back.best.state["w"], torch.arange(3.0)) and not back.finished
