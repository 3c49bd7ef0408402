"""deepfab.train.TrainConfig: validation errors name the field, the rule and the value; JSON round trip."""
import json

import pytest

from deepfab.train import TrainConfig


@pytest.mark.parametrize("field, value, rule", [
    ("epochs", 0, "positive int"),
    ("epochs", 2.5, "positive int"),
    ("batch_size", -1, "positive int"),
    ("lr", 0.0, "positive finite"),
    ("lr", float("inf"), "positive finite"),
    ("optimizer", "rmsprop", "one of"),
    ("scheduler", "linear", "one of"),
    ("loss", "mse", "one of"),
    ("label_smoothing", 1.0, r"\[0, 1.0\)"),
    ("focal_gamma", -1.0, "non-negative"),
    ("mixup_alpha", float("nan"), "non-negative"),
    ("class_weights", "inverse", "balanced"),
    ("class_weights", [1.0, -2.0], "non-negative"),
    ("sampler", "oversample", "one of"),
    ("monitor", "train_loss", "one of"),
    ("amp", "fp8", "one of"),
    ("channels_last", "yes", "True or False"),
    ("seed", -3, "non-negative int"),
    ("device", "tpu", "'auto', 'cpu'"),
    ("early_stopping_patience", 0, "positive int or None"),
    ("grad_clip", 0.0, "positive number or None"),
    ("num_workers", -1, "non-negative int"),
])
def test_bad_values_raise_with_field_rule_and_value(field, value, rule):
    with pytest.raises(ValueError, match=rf"TrainConfig\.{field} must be .*{rule}.*got") as err:
        TrainConfig(**{field: value})
    assert repr(value)[:5] in str(err.value)


def test_resume_needs_out_dir():
    with pytest.raises(ValueError, match="out_dir"):
        TrainConfig(resume=True)


def test_round_trip_through_json(tmp_path):
    cfg = TrainConfig(epochs=3, class_weights=(1, 2, 3), scheduler=None, out_dir=tmp_path, amp=False)
    assert cfg.amp == "off" and cfg.class_weights == [1.0, 2.0, 3.0] and cfg.out_dir == str(tmp_path)
    back = TrainConfig.from_dict(json.loads(json.dumps(cfg.to_dict())))
    assert back == cfg


def test_from_dict_rejects_unknown_fields():
    with pytest.raises(ValueError, match="no field"):
        TrainConfig.from_dict({"epochs": 2, "momentum": 0.9})
