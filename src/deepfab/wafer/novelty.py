"""The novelty score of ``deepfab wafer``: does a map look like anything the classifier was trained on?

A classifier of nine classes calls every map one of the nine, also a failure signature it has
never seen (a reticle repeat, a bad probe-card site, half a wafer). ``predict`` therefore writes,
beside the class, an ``ood_score`` (higher = more unusual) and an ``ood`` flag. The score is a
``deepfab.ood.Combined`` of three parts, each scaled so that 1 is the 95th percentile of ordinary
maps (lecture 5 derives them):

    map texture    the map's own fail autocorrelation at lags up to 5 dies and its strongest one
                   at lags of 6 to 8, its distance to the 10th nearest of a bank of training
                   maps: 5,000 at random, then each class topped up to 1,000 of its own maps (or
                   all of them), so that a rare class is not unusual for being rare
                   (``MapTexture(floor=1000)``; no network)
    Mahalanobis    the squared Mahalanobis distance of every stage of the network (its channels'
                   spatial means and standard deviations) to its closest class mean, each class
                   with its own covariance (shrunk by 0.1 towards the shared one), summed over the
                   stages with weights 1 / std (``MultiLayerMahalanobis(spread=True)``), averaged
                   over the 8 symmetries of the square
    likelihood     -log p(x) of the encoded map under a small VAE trained on the same training
                   maps (``MapLikelihood``, lecture 6's ``WaferVAE``; no classifier)

chosen on held-out generator families (``benchmarks/bench_wafer_novelty.py``). A map is flagged
when its score exceeds a threshold that flags at most 5 % of in-distribution maps:

- with a validation split (``--val`` or ``--holdout-lots``): the statistics are fitted on the
  training maps, the threshold is the 95th percentile of the validation maps' scores;
- without one: k-fold out-of-fold scores of the training maps (fit on k-1 folds, score the
  held-out fold, folds stratified by class); the statistics are then fitted on all of them.

The model folder carries it as ``ood.pt`` (``deepfab.ood.save_ood``, read with
``weights_only=True``), with the calibration in ``config.json["novelty"]`` and
``metrics.json["novelty"]``:

    nov = calibrate_model(wm, train.maps, train.labels)       # k-fold: no validation maps needed
    save_novelty(wm, nov)                                      # DIR/ood.pt, config.json, metrics.json
    nov = load_novelty(wm)                                     # None for a folder without ood.pt
    probs, s = nov.predict(wm, maps)                           # one network pass for both
    flags = s > nov.threshold

``deepfab wafer calibrate --model DIR`` computes it for a model folder; ``deepfab wafer train``
does it after training (``--no-novelty`` skips it).

Introduced with the ``deepfab wafer`` tool; lecture 5 teaches the scores.

References: K. Lee et al., NeurIPS 2018 (Mahalanobis on several layers); Y. Sun et al., ICML 2022
(k-th nearest-neighbour distance); D. Hendrycks et al., ICML 2022 (combining detectors);
S. Geisser, JASA 70, 1975 (out-of-fold prediction).
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from ..augment.invariance import tta_proba
from ..errors import DataError, ModelError, UsageError
from ..io import write_json_atomic
from ..ood import Combined, Outputs, extract, stage_names, wafer_score
from ..ood.state import MODEL_FREE, load_ood, ood_state, save_ood, state_bytes
from .model_io import sha256

FILE = "ood.pt"
SHARE = 0.05
FOLDS = 5
MIN_FIT = 50                  # maps a score is fitted on: 80 % for its statistics, 20 % for its scale
CHUNK = 4096                  # maps per extraction chunk: the features are averaged over the views per chunk


def novelty_score(wm, seed: int = 0) -> Combined:
    """The unfitted score of the module docstring, bound to ``wm``'s inference network."""
    return wafer_score(wm.fast_net, size=wm.size, views=8, bank=5000, seed=seed, layers=stage_names(wm.net))


def _components(score) -> list:
    return list(score.components) if isinstance(score, Combined) else [score]


def _net_parts(score) -> tuple[tuple[str, ...], int]:
    """(layers, views) that the network-reading components need; they must agree on the views."""
    nets = [c for c in _components(score) if not isinstance(c, MODEL_FREE)]
    views = {c.views for c in nets}
    if len(views) > 1:
        raise UsageError(f"the components of a wafer novelty score must read the same views; got {sorted(views)}")
    return tuple(dict.fromkeys(n for c in nets for n in c.layers)), (views.pop() if views else 1)


def model_outputs(wm, maps, layers, views: int, tta_views: int | None = None) -> Outputs:
    """One pass of ``wm``'s inference network over ``maps``: logits (V, N, K), features and the
    statistics of ``layers`` (``extract``) averaged over the V views ((1, N, D) each, as the scores
    average them)."""
    parts: dict[str, list] = {"logits": [], "features": []}
    layer_parts: dict[str, list] = {n: [] for n in layers}
    for i in range(0, len(maps), CHUNK):
        o = extract(wm.fast_net, wm.encode(maps[i:i + CHUNK]), layers, views, wm.images_per_pass)
        parts["logits"].append(o.logits)
        parts["features"].append(o.features.mean(0, keepdim=True))
        for n in layers:
            layer_parts[n].append(o.layers[n].mean(0, keepdim=True))
    return Outputs(torch.cat(parts["logits"], 1), torch.cat(parts["features"], 1),
                   {n: torch.cat(v, 1) for n, v in layer_parts.items()})


def _rows(out: Outputs, idx) -> Outputs:
    i = torch.as_tensor(np.asarray(idx))
    return Outputs(out.logits[:, i], out.features[:, i], {n: v[:, i] for n, v in out.layers.items()})


def descriptors(score, maps) -> dict:
    """{descriptor: what it reads} of the components that read the maps themselves (``MODEL_FREE``)."""
    return {c.descriptor: c.describe(maps) for c in _components(score) if isinstance(c, MODEL_FREE)}


def _component_scores(c, out: Outputs, desc: dict, maps=None) -> np.ndarray:
    if isinstance(c, MODEL_FREE):
        return c.score_descriptors(desc[c.descriptor] if maps is None else c.describe(maps))
    return c.score_outputs(out)


def fit_rows(score, out: Outputs, desc: dict, y: np.ndarray, idx: np.ndarray):
    """``score`` fitted on the maps ``idx`` as ``Combined.fit`` fits it (its ``split`` and ``set_scales``),
    from network outputs ``out`` and the descriptors of the map-reading components (``descriptors``:
    {descriptor: (N, ...)}) computed once for all maps. Classes absent from the fitting maps are left
    out of the class means (labels renumbered)."""
    comps = _components(score)
    fit_i, ref_i = idx, None
    if isinstance(score, Combined):
        try:
            f, r = score.split(len(idx))
        except DataError:
            raise ModelError(f"the novelty score needs at least {MIN_FIT} training maps; got {len(idx)}") from None
        fit_i, ref_i = idx[f], idx[r]
    y_fit = torch.from_numpy(np.unique(y[fit_i], return_inverse=True)[1].reshape(-1))
    for c in comps:
        if isinstance(c, MODEL_FREE):
            c.fit_descriptors(desc[c.descriptor][fit_i], y_fit.numpy())
        else:
            c.fit_outputs(_rows(out, fit_i), y_fit)
    if ref_i is not None:
        ref_desc = {r: d[ref_i] for r, d in desc.items()}
        score.set_scales(np.stack([_component_scores(c, _rows(out, ref_i), ref_desc) for c in comps]))
    return score


def score_parts(score, out: Outputs, desc: dict | None = None, maps=None) -> np.ndarray:
    """(parts, N) standardised component scores (``Combined.parts``) from outputs already computed."""
    s = np.stack([_component_scores(c, out, desc or {}, maps) for c in _components(score)])
    if isinstance(score, Combined):
        return (s - score.center_[:, None]) / score.scale_[:, None]
    return s


def total(score, parts: np.ndarray) -> np.ndarray:
    if isinstance(score, Combined) and score.how == "max":
        return parts.max(0)
    return parts.sum(0)


def stratified_folds(y: np.ndarray, k: int, seed: int) -> np.ndarray:
    """(N,) fold index in 0..k-1: each class's maps dealt round-robin over the folds in a seeded order."""
    rng = np.random.default_rng(seed)
    fold = np.empty(len(y), np.int64)
    start = 0
    for c in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == c))
        fold[members] = (start + np.arange(len(members))) % k
        start += len(members)
    return fold


@dataclass
class Novelty:
    """A fitted novelty score of a wafer model, its threshold and what it was calibrated on."""

    score: object
    state: dict

    @property
    def threshold(self) -> float:
        return float(self.state["threshold"])

    @property
    def part_names(self) -> list[str]:
        return [c.name for c in _components(self.score)]

    def predict(self, wm, maps, tta: bool | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(probabilities (N, C) as ``wm.predict_proba`` gives them, novelty scores (N,)): one network pass."""
        probs, parts = self.predict_parts(wm, maps, tta)
        return probs, total(self.score, parts)

    def predict_parts(self, wm, maps, tta: bool | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(probabilities (N, C), standardised parts (n_parts, N))."""
        layers, views = _net_parts(self.score)
        out = model_outputs(wm, list(maps), layers, max(views, 8 if (wm.tta if tta is None else tta) else 1))
        probs = tta_proba(out.logits if (wm.tta if tta is None else tta) else out.logits[:1]).numpy()
        if views != out.logits.shape[0]:   # the score reads fewer views than the prediction: recompute them
            out = model_outputs(wm, list(maps), layers, views)
        return probs, score_parts(self.score, out, maps=list(maps))


def calibrate_model(wm, maps, labels, val_maps=None, folds: int = FOLDS, share: float = SHARE, seed: int = 0,
                    calibrated_on: str = "", log=None) -> Novelty:
    """Fit the score on the training ``maps`` (labels in the model's classes) and set its threshold on the
    validation maps, or, without them, on ``folds``-fold out-of-fold scores of the training maps.
    ``log(line)``, when given, hears of each fit as it ends (a fit takes minutes on large sets)."""
    say = log if log is not None else (lambda line: None)
    t0 = time.perf_counter()
    maps, y = list(maps), np.asarray(labels, dtype=np.int64)
    if isinstance(folds, bool) or not isinstance(folds, int) or folds < 2:
        raise UsageError(f"--folds must be an int >= 2; got {folds!r}")
    need = MIN_FIT if val_maps is not None else -(-MIN_FIT * folds // (folds - 1))   # each fold fit: >= MIN_FIT
    if len(maps) != len(y) or len(maps) < need:
        how = "" if val_maps is not None else f" ({folds}-fold: each fold is fitted on the other {folds - 1})"
        raise ModelError(f"calibrating the novelty score needs at least {need} labelled training maps{how}; "
                         f"got {len(maps)}")
    score = novelty_score(wm, seed)
    layers, views = _net_parts(score)
    out = model_outputs(wm, maps, layers, views)
    desc = descriptors(score, maps)
    if val_maps is not None:
        how = "validation"
        fit_rows(score, out, desc, y, np.arange(len(maps)))
        s_cal = total(score, score_parts(score, model_outputs(wm, list(val_maps), layers, views), maps=list(val_maps)))
    else:
        how = f"{folds}-fold out-of-fold"
        fold = stratified_folds(y, folds, seed)
        s_cal = np.empty(len(maps))
        for j in range(folds):
            held = np.flatnonzero(fold == j)
            part = fit_rows(novelty_score(wm, seed), out, desc, y, np.flatnonzero(fold != j))
            s_cal[held] = total(part, score_parts(part, _rows(out, held), {r: d[held] for r, d in desc.items()}))
            say(f"  fold {j + 1}/{folds}: {len(held)} maps scored ({time.perf_counter() - t0:.0f} s)")
        fit_rows(score, out, desc, y, np.arange(len(maps)))
        say(f"  fitted on all {len(maps)} maps ({time.perf_counter() - t0:.0f} s)")
    state = ood_state(score, s_cal, share=share, calibrated_on=calibrated_on)
    state.update(method=how, folds=folds if val_maps is None else None, model_sha256=sha256(wm.path / "model.pt"),
                 n_train=len(maps), seconds=round(time.perf_counter() - t0, 1))
    return Novelty(score, state)


def describe(nov: Novelty) -> dict:
    """What config.json and metrics.json record of a calibration (plain values)."""
    st = nov.state
    return {"file": FILE, "score": repr(nov.score), "method": st["method"], "folds": st["folds"],
            "calibrated_on": st["calibrated_on"], "n_calibration": st["n_calibration"], "n_train": st["n_train"],
            "share": st["share"], "threshold": st["threshold"], "flagged_share": st["flagged_share"],
            "bytes": state_bytes(st), "seconds": st["seconds"]}


def save_novelty(wm, nov: Novelty) -> dict:
    """Write ``ood.pt`` into the model folder and record the calibration in config.json and metrics.json."""
    import json

    save_ood(wm.path / FILE, nov.state)
    info = describe(nov)
    wm.config["novelty"] = {k: info[k] for k in ("file", "score", "method", "folds", "calibrated_on",
                                                   "n_calibration", "share", "threshold")}
    write_json_atomic(wm.path / "config.json", wm.config)
    mpath = wm.path / "metrics.json"
    metrics = json.loads(mpath.read_text()) if mpath.is_file() else {}
    metrics["novelty"] = info
    write_json_atomic(mpath, metrics)
    return info


def load_novelty(wm) -> Novelty | None:
    """The novelty score of ``wm``'s folder; None when the folder has no ``ood.pt`` (made before it existed)."""
    path = wm.path / FILE
    if not path.exists():
        return None
    score, state = load_ood(path, wm.fast_net)
    want = state.get("model_sha256")
    if want is not None and want != sha256(wm.path / "model.pt"):
        raise ModelError(f"{path}: calibrated for another model.pt; run `deepfab wafer calibrate --model "
                         f"{wm.path} --force` to fit it again")
    if not isinstance(state.get("threshold"), float) or not np.isfinite(state["threshold"]):
        raise ModelError(f"{path}: has no finite threshold; got {state.get('threshold')!r}")
    return Novelty(score, state)


def flag_summary(nov: Novelty, s: np.ndarray) -> str:
    """One line: how many maps the threshold flags."""
    n = int((s > nov.threshold).sum())
    return (f"novelty: {n} of {len(s)} maps flagged as unlike the training maps ({100 * n / len(s):.1f} %; "
            f"threshold {nov.threshold:.3f}, set to flag {100 * nov.state['share']:.0f} % of "
            f"{nov.state['calibrated_on']})")


__all__ = ["FILE", "Novelty", "calibrate_model", "describe", "descriptors", "fit_rows", "flag_summary", "load_novelty",
           "model_outputs", "novelty_score", "save_novelty", "score_parts", "stratified_folds", "total"]
