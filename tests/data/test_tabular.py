"""SECOM and UCR Wafer loaders: shapes, label conventions, raw missing values, bad names."""
import numpy as np
import pytest

from deepfab.data import DataError, load_secom, load_ucr_wafer


def test_secom_431_shape_labels_and_raw_nan():
    s = load_secom()
    assert s.X.shape == (1567, 431) and s.X.dtype == np.float64
    assert s.y.dtype == np.int64 and set(np.unique(s.y).tolist()) == {-1, 1}
    assert int((s.y == 1).sum()) == 104  # UCI: 104 fails, 1463 passes
    assert len(s.feature_names) == 431 and s.feature_names[0] == "f0"
    assert np.isnan(s.X).any()  # missing values are kept, not imputed
    assert np.all(np.diff(s.rows) > 0) and np.all(np.diff(s.timestamps.astype(np.int64)) >= 0)
    # first row of the UCI table
    assert s.X[0, 0] == pytest.approx(3030.93) and s.y[0] == -1


def test_secom_590_joins_the_same_rows():
    full, part = load_secom("590"), load_secom("431")
    assert full.X.shape == (392, 590)
    assert [int(f[1:]) for f in full.feature_names] == list(range(590))
    # the 431 shared columns of the 392 rows equal the 431-column table, NaN pattern included
    cols = [full.feature_names.index(f) for f in part.feature_names]
    a, b = full.X[:, cols], part.X[full.rows]
    assert np.array_equal(np.isnan(a), np.isnan(b))
    assert np.allclose(np.nan_to_num(a), np.nan_to_num(b))
    assert np.array_equal(full.y, part.y[full.rows])


def test_secom_unknown_variant():
    with pytest.raises(DataError, match="unknown SECOM variant"):
        load_secom("600")


def test_ucr_wafer_counts_and_unpacking():
    w = load_ucr_wafer()
    X_tr, y_tr, X_te, y_te = w
    assert X_tr.shape == (1000, 152) and X_te.shape == (6164, 152)
    assert int(y_tr.sum()) == 97 and int(y_te.sum()) == 665  # abnormal = 1
    assert np.allclose(X_tr.mean(1), 0, atol=1e-3)  # z-normalised per series
    assert set(w.to_ucr(y_tr).tolist()) == {-1, 1} and w.to_ucr(y_tr)[y_tr == 1][0] == -1


def test_lam_etch_wafers_faults_and_experiments():
    from deepfab.data import load_lam_etch

    lam = load_lam_etch()
    assert len(lam) == 129 and len(lam.variables) == 19
    assert all(s.ndim == 2 and s.shape[1] == 19 and len(s) == len(t) for s, t in zip(lam.series, lam.time))
    assert (lam.status == "normal").sum() == 108 and (lam.status == "fault").sum() == 21
    assert set(lam.experiment.tolist()) == {29, 31, 33}
    assert all(f for f in lam.fault[lam.status == "fault"]) and not any(lam.fault[lam.status == "normal"])
    assert "He Chuck" in lam.fault.tolist()


def test_mixedwm38_multilabel_and_splits():
    from deepfab.data import load_mixedwm38

    m = load_mixedwm38("train_1")
    assert m.X.shape == (381, 52, 52) and m.Y.shape == (381, 8) and m.X.max() == 2
    normal = m.pattern == "Normal"
    assert normal.sum() == 10 and (m.Y[normal].sum(1) == 0).all() and (m.Y[~normal].sum(1) >= 1).all()
    with pytest.raises(DataError, match="unknown MixedWM38 split"):
        load_mixedwm38("train")


def test_loghub_templates_and_labels():
    from deepfab.data import load_loghub

    bgl = load_loghub("BGL")
    assert len(bgl.raw) == 2000 and len(bgl.structured) == 2000
    assert int(bgl.labels.sum()) == 143  # Loghub: 143 alert lines in BGL_2k
    assert set(bgl.structured.EventId) <= set(bgl.templates.EventId)
    assert bgl.raw[0].split()[-1] == bgl.structured.Content[0].split()[-1]
    assert load_loghub("HDFS").labels is None
    with pytest.raises(DataError, match="unknown Loghub system"):
        load_loghub("bgl")


def test_smt2020_routes_tools_wip():
    from deepfab.data import load_smt2020

    hv, lv = load_smt2020("HVLM"), load_smt2020("LVHM")
    assert set(hv.routes) == {"r_3", "r_4"} and len(lv.routes) == 10
    assert hv.routes["r_3"].equals(lv.routes["r_3"])  # shared route, stored once
    r = hv.routes["r_3"]
    assert list(r.STEP) == list(range(1, len(r) + 1))
    assert set(r.STNFAM) <= set(hv.tools.STNFAM)  # every step runs on a known tool group
    assert set(hv.wip.PART) <= set(hv.parts.PART)
    assert hv.setup_groups.SETUPGRP.notna().all()
