"""deepfab.wafer.options: one dataclass gives the train flags, config.json's options and the command.

Run: .venv/bin/python -m pytest tests/wafer/test_options.py -q
"""
from __future__ import annotations

import argparse
import json
import shlex
from dataclasses import fields

import pytest

from deepfab.errors import UsageError
from deepfab.wafer import DEFAULT_DIR
from deepfab.wafer.options import TrainOptions, flag


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="deepfab wafer train")
    TrainOptions.add_arguments(p)
    return p


def parse(command: str) -> TrainOptions:
    words = shlex.split(command)
    assert words[:3] == ["deepfab", "wafer", "train"]
    return TrainOptions.from_args(parser().parse_args(words[3:]))


def test_every_field_is_a_flag_with_its_help():
    actions = {a.dest: a for a in parser()._actions}
    for f in fields(TrainOptions):
        a = actions[f.name]
        assert f.metadata["help"] and a.help.startswith(f.metadata["help"]), f.name
        assert flag(f.name) in a.option_strings
    assert actions["data"].required and actions["out"].required and actions["data"].nargs == "+"
    assert "--no-density" in actions["density"].option_strings and actions["class_weights"].choices == ("none", "sqrt")
    assert actions["batch_size"].default == 128 and "(default 128)" in actions["batch_size"].help


def test_the_shipped_models_command_round_trips():
    """The default model's command, parsed and written again, is the same string (older folder, no "options")."""
    cfg = json.loads((DEFAULT_DIR / "config.json").read_text())
    opts = parse(cfg["command"])
    assert opts.command() == cfg["command"]
    assert (opts.arch, opts.arch_kwargs, opts.size, opts.density) == (cfg["arch"], cfg["arch_kwargs"],
                                                                       cfg["input_size"], cfg["density"])
    train = cfg["train_config"]
    for name in ("epochs", "batch_size", "lr", "weight_decay", "label_smoothing", "seed", "amp"):
        assert getattr(opts, name) == train[name], name
    assert [d["spec"] for d in cfg["data"]] == opts.data


def test_command_and_dict_come_from_the_fields():
    opts = TrainOptions(data=["a b.npz", "wm811k:val"], out="runs/m", holdout_lots=0.15, max_per_class=50,
                        density=False, class_weights="sqrt", device="cpu", resume=True)
    cmd = opts.command()
    assert cmd.startswith("deepfab wafer train --data 'a b.npz' wm811k:val --holdout-lots 0.15 --arch resnet ")
    assert "--max-per-class 50" in cmd and cmd.endswith("--no-density --class-weights sqrt --out runs/m")
    assert "--device" not in cmd and "--resume" not in cmd and "--val" not in cmd and "--width" not in cmd
    assert parse(cmd) == TrainOptions(**{**opts.to_dict()})            # run-time fields back at their defaults
    assert set(opts.to_dict()) == {f.name for f in fields(TrainOptions)} - {"device", "resume", "force"}


@pytest.mark.parametrize("kw, words", [
    (dict(max_per_class=0), "--max-per-class must be a positive int; got 0"),
    (dict(holdout_lots=1.5), "--holdout-lots must be a fraction in [0, 1); got 1.5"),
    (dict(val="v.npz", holdout_lots=0.2), "either --val FILE or --holdout-lots F"),
    (dict(class_weights="inverse"), "--class-weights must be one of none, sqrt; got 'inverse'"),
    (dict(amp="fp8"), "--amp must be one of auto, off, bf16, fp16; got 'fp8'"),
    (dict(keep="final"), "--keep must be one of best, last; got 'final'"),
    (dict(data="a.npz"), "--data needs a list"),
])
def test_bad_options_raise_usage_errors(kw, words):
    with pytest.raises(UsageError) as exc:
        TrainOptions(**{"data": ["a.npz"], "out": "m", **kw})
    assert words in str(exc.value)


def test_bad_flags_exit_2_with_one_line(tmp_path, capsys):
    from deepfab.cli import main

    assert main(["wafer", "train", "--data", "wm811k:train_1", "--max-per-class", "0", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "deepfab: error: --max-per-class must be a positive int; got 0"
