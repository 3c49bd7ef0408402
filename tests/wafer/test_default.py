"""The shipped default wafer classifier: small, documented, and good on the de-duplicated test split.

Run: .venv/bin/python -m pytest tests/wafer/test_default.py -q
"""
from __future__ import annotations

import json

import pytest

from deepfab.data import lot_ordered_split, map_digest
from deepfab.train.metrics import classification_metrics
from deepfab.wafer import DEFAULT_DIR, load_model, open_data
from deepfab.wafer.model_io import training_digests


def test_default_is_small_and_documents_its_command():
    size = sum(p.stat().st_size for p in DEFAULT_DIR.iterdir() if p.is_file())
    assert size < 4_000_000, f"shipped model folder is {size} bytes"
    cfg = json.loads((DEFAULT_DIR / "config.json").read_text())
    readme = (DEFAULT_DIR / "README.md").read_text()
    assert cfg["command"].startswith("deepfab wafer train ") and cfg["command"] in readme
    assert not (DEFAULT_DIR / "checkpoints").exists()


@pytest.fixture(scope="module")
def dedup_test():
    """The default model and the test split without the copies of its training maps."""
    wm = load_model("default", device="cpu")
    test, _ = open_data("wm811k:test")
    seen = training_digests(wm.config)
    keep = [i for i, m in enumerate(test.maps) if map_digest(m) not in seen]
    assert len(test) - len(keep) > 0            # the split really holds copies of training maps
    return wm, test.subset(keep)


@pytest.fixture(scope="module")
def probs(dedup_test):
    """The default model's probabilities (with its 8-view averaging) on the de-duplicated test split."""
    wm, test = dedup_test
    return wm.predict_proba(test.maps)


@pytest.fixture(scope="module")
def scores(dedup_test, probs):
    """Metrics of the default model on the de-duplicated test split."""
    wm, test = dedup_test
    return classification_metrics(test.labels, probs.argmax(1), wm.label_names)


def test_default_reaches_the_macro_f1_target(scores):
    """The target is macro-F1 0.90 on the de-duplicated test split (measured 0.930, default/README.md)."""
    assert scores["macro_f1"] >= 0.90, scores
    assert scores["accuracy"] >= 0.95, scores


def test_default_recalls_every_class(scores):
    assert min(scores["per_class_recall"].values()) >= 0.8, scores["per_class_recall"]


def test_default_holds_up_on_the_latest_lots_test_maps(dedup_test, probs):
    """The 20 % of test maps from the latest lots (mostly 27 x 27 maps, mostly none): measured 0.888."""
    import numpy as np

    wm, test = dedup_test
    late = lot_ordered_split(test, 0.2)[1]
    assert len(late) > 2000 and len(set(late.labels.tolist())) == 9
    rows = np.flatnonzero(np.isin(test.source_index, late.source_index))       # source_index: one per map
    assert len(rows) == len(late) and (test.labels[rows] == late.labels).all()
    m = classification_metrics(late.labels, probs[rows].argmax(1), wm.label_names)
    assert m["macro_f1"] >= 0.85 and m["per_class_recall"]["none"] >= 0.99, m


@pytest.fixture(scope="module")
def novelty_scores(dedup_test, probs):
    """(novelty, scores of 1,500 de-duplicated test maps, scores of 160 maps of the four report families of
    benchmarks/bench_wafer_novelty.py, never used to design or choose the score, drawn on those test maps'
    none wafers)."""
    import numpy as np

    from deepfab.data.novel import REPORT_FAMILIES, make_novel_set
    from deepfab.wafer import load_novelty

    wm, test = dedup_test
    nov = load_novelty(wm)
    rows = np.sort(np.random.default_rng(1).choice(len(test), 1500, replace=False))
    sample = test.subset(rows)
    sample_probs, s_in = nov.predict(wm, sample.maps)
    np.testing.assert_allclose(sample_probs, probs[rows], atol=1e-6)              # predictions unchanged
    bases = [m for m, y in zip(sample.maps, sample.labels) if y == wm.label_names.index("none")]
    novel, _, _ = make_novel_set(40, families=REPORT_FAMILIES, seed=11, bases=bases)
    return nov, s_in, nov.predict(wm, novel)[1]


def test_default_carries_a_small_calibrated_novelty_score(novelty_scores):
    """ood.pt: weights-only, under 2.5 MB, recorded in config.json; it flags about 5 % of test maps and
    ranks unseen failure families above them (measured 0.923 on 200 maps per family, default/README.md;
    the max softmax probability gave 0.877)."""
    import numpy as np
    import torch

    from deepfab.ood import ood_auroc

    nov, s_in, s_out = novelty_scores
    path = DEFAULT_DIR / "ood.pt"
    assert path.stat().st_size < 2_500_000 and torch.load(path, weights_only=True)["format"] == "deepfab-ood/1"
    cfg = json.loads((DEFAULT_DIR / "config.json").read_text())["novelty"]
    assert cfg["threshold"] == nov.threshold and cfg["method"] == "5-fold out-of-fold" and cfg["share"] == 0.05
    assert 0.02 <= np.mean(s_in > nov.threshold) <= 0.08
    assert ood_auroc(s_in, s_out) >= 0.88


@pytest.mark.xfail(strict=True, reason="target not met: on the four report families 0.923 (shot 0.79: a few failing "
                   "exposure fields look like Loc clusters)")
def test_default_novelty_reaches_the_auroc_target(novelty_scores):
    from deepfab.ood import ood_auroc

    _, s_in, s_out = novelty_scores
    assert ood_auroc(s_in, s_out) >= 0.95
