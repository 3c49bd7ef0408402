"""A DeepLog model folder: train on a normal log, save, load, and score the windows of a new log.

    DIR/config.json   format tag, the log format, the parser settings, the vocabulary (the event
                      templates of the training log, code = place + 2), window, step, history, top_k,
                      the network's config, training settings and losses
    DIR/model.pt      the LSTM's weights, a plain state_dict (read with torch.load(weights_only=True))

A new log's lines are split by the log format and matched to the vocabulary by a parser seeded with
the training templates (``deepfab.aiops.drain.LogParser``, the one generic configuration): a line
that joins a seeded template gets its code, a line that starts a template of its own is ``UNSEEN``,
ranks last in every prediction, and so makes its window anomalous. A window's score is its worst
rank (``deepfab.aiops.deeplog.DeepLog``); it is flagged when score > top_k.

    from deepfab.aiops.logmodel import train_log_model, load_log_model
    lm = train_log_model(normal_lines, "<Date> <Time> <Level> <Component>: <Content>", window=20)
    lm.save("models/logs")                     # refuses to replace a model unless force=True
    table = load_log_model("models/logs").score_lines(new_lines)   # one row per window

``deepfab logs detect`` is the command line for it. Introduced in lecture 16 (AIOps).

References: M. Du, F. Li, G. Zheng, V. Srikumar, "DeepLog: Anomaly Detection and Diagnosis from System
Logs through Deep Learning", CCS 2017; PyTorch, "Saving and loading models" (state_dict,
torch.load(weights_only=True)).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..errors import DataError, ModelError, UsageError
from ..io import save_torch_atomic, write_json_atomic
from .deeplog import DeepLog, DeepLogNet
from .drain import DEFAULTS, LogParser
from .logformat import LogFormat
from .logwindows import UNSEEN, line_windows

FORMAT = "deepfab-logs-model/1"
NET_KEYS = ("n_codes", "hidden", "layers", "embed")


@dataclass
class LogModel:
    """A trained DeepLog with everything needed to score a new log (module docstring)."""

    detector: DeepLog
    templates: list[str]               # the vocabulary: code = index + 2
    log_format: str = "<Content>"
    window: int = 20
    step: int = 20
    parser: dict = field(default_factory=lambda: dict(DEFAULTS))
    info: dict = field(default_factory=dict)   # training lines, losses, seed: stored in config.json

    def codes(self, lines) -> tuple[np.ndarray, list[str], list[str]]:
        """(codes (N,), template of each line as the seeded parser sees it, Content of each line)."""
        fmt, p = LogFormat(self.log_format), LogParser("<Content>", **self.parser)
        known: dict[int, int] = {}
        for code, t in enumerate(self.templates, start=2):
            known.setdefault(p.add_content(t), code)             # the cluster each training template seeds
        clusters, contents = [], []
        for line in lines:
            content = fmt.fields(line)[0]["Content"]
            clusters.append(p.add_content(content))
            contents.append(content)
        codes = np.array([known.get(c, UNSEEN) for c in clusters], dtype=np.int64)
        return codes, [p.template(c) for c in clusters], contents

    def score_lines(self, lines, line_ids=None, step: int | None = None, top_k: int | None = None):
        """One row per window of ``lines``: window, first_line, last_line (``line_ids``, default 1..N),
        score (the worst rank; an unseen event ranks n_known + 1), flag (score > top_k) and the
        unexpected events (templates of the lines ranked past top_k, '|'-separated, each once)."""
        import pandas as pd

        lines = list(lines)
        if not lines:
            raise DataError("no log lines to score; expected at least one line")
        ids = np.arange(1, len(lines) + 1) if line_ids is None else np.asarray(line_ids)
        k = self.detector.top_k if top_k is None else top_k
        if k < 1:
            raise UsageError(f"top-k must be at least 1; got {k}")
        codes, templates, _ = self.codes(lines)
        win = line_windows(len(codes), self.window, step or self.step)
        r = self.detector.line_ranks(codes)                               # (N,) one rank per line
        score = np.array([r[a:b].max() for a, b in win], dtype=np.int64)
        odd: list[list[str]] = []
        for a, b in win:
            names = [("(unseen) " if codes[i] == UNSEEN else "") + templates[i] for i in range(a, b) if r[i] > k]
            odd.append(list(dict.fromkeys(names)))
        return pd.DataFrame({"window": np.arange(1, len(win) + 1), "first_line": ids[win[:, 0]],
                             "last_line": ids[win[:, 1] - 1], "score": score, "flag": (score > k).astype(int),
                             "unexpected": [" | ".join(o) for o in odd]})

    def config(self) -> dict:
        d = self.detector
        return {"format": FORMAT, "log_format": self.log_format, "parser": self.parser, "templates": self.templates,
                "window": self.window, "step": self.step, "history": d.history, "top_k": d.top_k,
                "net": d.net_.config, "train": {"epochs": d.epochs, "batch_size": d.batch_size, "lr": d.lr,
                                                "seed": d.seed, **self.info}}

    def save(self, folder, force: bool = False) -> Path:
        """Write config.json and model.pt into ``folder``; an existing model there only with ``force``."""
        folder = Path(folder)
        if folder.exists() and not folder.is_dir():
            raise UsageError(f"{folder} is a file; expected a folder for the model")
        if (folder / "config.json").exists() and not force:
            raise UsageError(f"{folder} already holds a model; choose another folder, or pass --force to replace it")
        folder.mkdir(parents=True, exist_ok=True)
        save_torch_atomic({k: v.detach().cpu() for k, v in self.detector.net_.state_dict().items()},
                          folder / "model.pt")
        write_json_atomic(folder / "config.json", self.config())
        return folder


def train_log_model(lines, log_format: str = "<Content>", window: int = 20, step: int | None = None,
                    history: int = 10, top_k: int = 9, epochs: int = 30, seed: int = 0, device="cpu",
                    **net) -> LogModel:
    """Parse ``lines`` (all taken as normal), take their templates as the vocabulary and train DeepLog
    on every window of ``window`` lines every ``step`` (default ``window // 4``)."""
    lines = list(lines)
    step = step or max(window // 4, 1)
    if window < 2:
        raise UsageError(f"a window holds at least 2 lines; got --window {window}")
    if len(lines) < window:
        raise DataError(f"the training log has {len(lines)} lines; expected at least one window ({window} lines)")
    fmt, p = LogFormat(log_format), LogParser("<Content>")
    clusters = [p.add_content(fmt.fields(line)[0]["Content"]) for line in lines]
    templates: dict[str, int] = {}
    for c in clusters:
        templates.setdefault(p.template(c), len(templates))
    lm = LogModel(DeepLog(history=history, top_k=top_k, epochs=epochs, seed=seed, device=device, **net),
                  list(templates), log_format, window, step, info={"lines": len(lines)})
    codes, _, _ = lm.codes(lines)                               # the codes detection will see for these lines
    lm.detector.fit(codes, line_windows(len(codes), window, step), len(templates) + 2)
    lm.detector.net_.cpu()
    lm.info["losses"] = [round(x, 6) for x in lm.detector.losses_]
    lm.info["unseen_share"] = float(np.mean(codes == UNSEEN))
    return lm


def load_log_model(folder) -> LogModel:
    """The model in ``folder`` (config.json + model.pt), every key and shape checked; ``ModelError`` if not usable."""
    folder = Path(folder)
    if not (folder / "config.json").is_file() or not (folder / "model.pt").is_file():
        raise ModelError(f"{folder}: expected a log model folder with config.json and model.pt "
                         f"(written by deepfab logs detect --save-model)")
    try:
        cfg = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelError(f"{folder / 'config.json'} is not valid JSON ({exc})") from None
    if not isinstance(cfg, dict) or cfg.get("format") != FORMAT:
        got = cfg.get("format") if isinstance(cfg, dict) else type(cfg).__name__
        raise ModelError(f"{folder / 'config.json'}: expected format {FORMAT!r}; got {got!r}")
    try:
        net_cfg = {k: int(cfg["net"][k]) for k in NET_KEYS}
        net = DeepLogNet(**net_cfg)
        state = torch.load(folder / "model.pt", map_location="cpu", weights_only=True)
        want = {k: tuple(v.shape) for k, v in net.state_dict().items()}
        got = {k: tuple(v.shape) for k, v in state.items()} if isinstance(state, dict) else None
        if got != want:
            raise ModelError(f"{folder / 'model.pt'}: its weights do not fit the network in config.json")
        net.load_state_dict(state)
        if len(cfg["templates"]) + 2 != net_cfg["n_codes"]:
            raise ModelError(f"{folder / 'config.json'}: {len(cfg['templates'])} templates do not fit "
                             f"{net_cfg['n_codes']} event codes")
        train = cfg.get("train", {})
        det = DeepLog(history=int(cfg["history"]), top_k=int(cfg["top_k"]), hidden=net_cfg["hidden"],
                      layers=net_cfg["layers"], embed=net_cfg["embed"], epochs=int(train.get("epochs", 1)),
                      seed=int(train.get("seed", 0)))
        LogFormat(cfg["log_format"])
    except ModelError:
        raise
    except (KeyError, TypeError, ValueError, RuntimeError, EOFError, OSError) as exc:
        raise ModelError(f"{folder}: not a usable log model ({type(exc).__name__}: {exc})") from None
    det.net_ = net.eval()
    info = {k: v for k, v in train.items() if k not in ("epochs", "batch_size", "lr", "seed")}
    return LogModel(det, list(cfg["templates"]), cfg["log_format"], int(cfg["window"]), int(cfg["step"]),
                    dict(cfg.get("parser", DEFAULTS)), info)
