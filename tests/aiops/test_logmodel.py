"""The DeepLog model folder of ``deepfab.aiops.logmodel``: training on a log, re-reading it, save and
load (weights_only, every key and shape checked), unseen templates, and every refusal.

Run: .venv/bin/python -m pytest tests/aiops/test_logmodel.py -q -p no:cacheprovider
"""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from deepfab.aiops.drain import parse_lines
from deepfab.aiops.logmodel import load_log_model, train_log_model
from deepfab.aiops.logwindows import UNSEEN
from deepfab.data import load_loghub
from deepfab.errors import ModelError, UsageError

FMT = "<Time> <Level> <Content>"


def session_log(n_sessions: int, seed: int = 0) -> list[str]:
    """A job log: open, read, write, close per session, with varying users, paths and sizes."""
    rng = np.random.default_rng(seed)
    lines = []
    for s in range(n_sessions):
        u, t = rng.integers(100, 999), 1000 + 10 * s
        lines += [f"{t} INFO session opened for user u{u}", f"{t + 1} INFO reading /data/lot{s}/wafer{u}.csv",
                  f"{t + 2} INFO wrote {rng.integers(1, 9999)} bytes to /out/r{s}.bin",
                  f"{t + 3} INFO session closed for user u{u}"]
    return lines


@pytest.fixture(scope="module")
def trained():
    return train_log_model(session_log(60), FMT, window=8, step=4, history=4, top_k=1, epochs=30, seed=0,
                           hidden=16, layers=1, embed=8, lr=1e-2, batch_size=64)


def test_templates_and_re_reading_the_training_log(trained):
    assert len(trained.templates) == 4 and "session opened for user <*>" in trained.templates
    codes, templates, _ = trained.codes(session_log(60))
    assert (codes != UNSEEN).all() and codes.tolist()[:4] == [2, 3, 4, 5]


def test_re_reading_a_loghub_log_recovers_its_parse():
    lg = load_loghub("HDFS")
    lines = lg.raw[:600]
    lm = train_log_model(lines, "<Date> <Time> <Pid> <Level> <Component>: <Content>", window=10, epochs=1,
                         hidden=8, layers=1, embed=4)
    codes, _, _ = lm.codes(lines)
    ours = parse_lines(lines, "<Date> <Time> <Pid> <Level> <Component>: <Content>").EventTemplate
    want = np.array([lm.templates.index(t) + 2 for t in ours])
    assert np.mean(codes == want) > 0.99


def test_scores_flag_a_broken_session_and_an_unseen_message(trained):
    new = session_log(6, seed=1)
    del new[6]                                              # session 1 loses its write line
    new.insert(16, "9999 ERROR kernel panic: not syncing")  # an event the training log never showed
    table = trained.score_lines(new, step=8)
    assert list(table.columns) == ["window", "first_line", "last_line", "score", "flag", "unexpected"]
    assert table.first_line.tolist()[:2] == [1, 9] and table.last_line.tolist()[0] == 8
    assert table.flag.tolist()[:3] == [1, 0, 1]
    assert "(unseen) kernel panic: not syncing" in table.unexpected[2] and table.score[2] == 5
    assert table.unexpected[1] == "" and table.score[1] == 1


def test_save_and_load_give_the_same_scores(trained, tmp_path):
    folder = trained.save(tmp_path / "m")
    cfg = json.loads((folder / "config.json").read_text())
    assert cfg["format"] == "deepfab-logs-model/1" and cfg["window"] == 8 and cfg["templates"] == trained.templates
    state = torch.load(folder / "model.pt", weights_only=True)
    assert set(state) == set(trained.detector.net_.state_dict())
    new = session_log(10, seed=2)
    assert load_log_model(folder).score_lines(new).equals(trained.score_lines(new))
    assert trained.info["losses"][-1] < 0.05                # the cycle is learnt
    with pytest.raises(UsageError, match="already holds a model"):
        trained.save(folder)
    trained.save(folder, force=True)


@pytest.mark.parametrize("damage, words", [
    ("no_weights", "config.json and model.pt"),
    ("bad_json", "not valid JSON"),
    ("wrong_format", "expected format"),
    ("wrong_shape", "do not fit the network"),
    ("missing_key", "not a usable log model"),
])
def test_a_damaged_folder_is_one_clear_model_error(trained, tmp_path, damage, words):
    folder = trained.save(tmp_path / "m")
    cfg = json.loads((folder / "config.json").read_text())
    if damage == "no_weights":
        (folder / "model.pt").unlink()
    elif damage == "bad_json":
        (folder / "config.json").write_text("{")
    elif damage == "wrong_format":
        (folder / "config.json").write_text(json.dumps({**cfg, "format": "other/1"}))
    elif damage == "wrong_shape":
        (folder / "config.json").write_text(json.dumps({**cfg, "net": {**cfg["net"], "hidden": 32}}))
    elif damage == "missing_key":
        (folder / "config.json").write_text(json.dumps({k: v for k, v in cfg.items() if k != "history"}))
    with pytest.raises(ModelError, match=words):
        load_log_model(folder)
