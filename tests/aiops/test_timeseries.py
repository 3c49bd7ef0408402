"""UCR Wafer classification (``deepfab.aiops.timeseries``): DTW against a plain dynamic program and a known value,
LB_Keogh and the pruned 1-NN search against brute force, MiniRocket's convolutions and features against plain
loops, the ridge classifier against scikit-learn's RidgeClassifierCV, the 1-D CNN, and the study in smoke mode.

Run: .venv/bin/python -m pytest tests/aiops/test_timeseries.py -q -p no:cacheprovider
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from deepfab.aiops.timeseries import (
    KERNELS,
    MiniRocket,
    RidgeClassifierCV,
    TraceCNN,
    _conv,
    dtw,
    envelope,
    lb_keogh,
    minirocket_dilations,
    nearest_dtw,
    ucr_study,
    window_steps,
)
from deepfab.data import load_ucr_wafer
from deepfab.errors import DataError, UsageError


def dtw_brute(a, b, r):
    """The textbook dynamic program over the full (T+1) x (T+1) matrix, cells outside the window left inf."""
    T = len(a)
    D = np.full((T + 1, T + 1), np.inf)
    D[0, 0] = 0.0
    for i in range(1, T + 1):
        for j in range(max(1, i - r), min(T, i + r) + 1):
            D[i, j] = (a[i - 1] - b[j - 1]) ** 2 + min(D[i - 1, j - 1], D[i - 1, j], D[i, j - 1])
    return np.sqrt(D[T, T])


@pytest.mark.parametrize("T, r", [(1, 0), (2, 1), (10, 0), (10, 1), (10, 3), (12, 11), (30, 5)])
def test_dtw_matches_the_plain_dynamic_program(T, r):
    rng = np.random.default_rng(T * 100 + r)
    A, B = rng.normal(size=(6, T)), rng.normal(size=(6, T))
    np.testing.assert_allclose(dtw(A, B, r), [dtw_brute(a, b, r) for a, b in zip(A, B)], rtol=1e-12, atol=1e-12)


def test_dtw_known_values():
    x = np.array([0.0, 0.0, 1.0, 2.0, 1.0, 0.0])
    y = np.array([0.0, 1.0, 2.0, 1.0, 0.0, 0.0])                      # x one step later
    assert dtw(x, y, 0) == pytest.approx(2.0)                          # window 0: the Euclidean distance
    assert dtw(x, y, 1) == 0.0 and dtw(x, y) == 0.0                   # one step of warping aligns them exactly
    rng = np.random.default_rng(1)
    A, B = rng.normal(size=(5, 40)), rng.normal(size=(5, 40))
    np.testing.assert_allclose(dtw(A, B, 0), np.linalg.norm(A - B, axis=1), rtol=1e-12)
    assert window_steps(0.05, 152) == 8 and window_steps(3, 152) == 3


def test_early_abandoning_keeps_every_distance_below_the_threshold():
    rng = np.random.default_rng(2)
    A, B = rng.normal(size=(200, 50)), rng.normal(size=(200, 50))
    full = dtw(A, B, 5)
    cut = np.quantile(full, 0.2)
    got = dtw(A, B, 5, abandon=np.full(200, cut))
    np.testing.assert_allclose(got[full <= cut], full[full <= cut], rtol=1e-12)
    assert np.isinf(got[full > cut]).mean() > 0.5 and (np.isinf(got) | (got == full)).all()


def test_lb_keogh_is_a_lower_bound_and_the_envelope_is_a_running_max():
    rng = np.random.default_rng(3)
    Q, C = rng.normal(size=(20, 30)).cumsum(1), rng.normal(size=(15, 30)).cumsum(1)
    U, L = envelope(C, 3)
    for t in range(30):
        np.testing.assert_allclose(U[:, t], C[:, max(0, t - 3):t + 4].max(1))
        np.testing.assert_allclose(L[:, t], C[:, max(0, t - 3):t + 4].min(1))
    lb = lb_keogh(Q, U, L)
    d = np.array([[dtw_brute(q, c, 3) for c in C] for q in Q])
    assert (lb <= d + 1e-5).all() and (lb > 0).mean() > 0.5


def test_pruned_nearest_neighbour_search_equals_brute_force():
    X_train, y_train, X_test, _ = load_ucr_wafer()
    A, y, B = X_train[:80].astype(np.float64), y_train[:80], X_test[:30].astype(np.float64)
    labels, info = nearest_dtw(A, y, B, window=8)
    D = np.array([dtw(np.repeat(b[None], len(A), 0), A, 8) for b in B])    # (30, 80) every distance
    np.testing.assert_allclose(info["distance"], D.min(1), rtol=1e-12)
    assert (labels == y[D.argmin(1)]).all() and info["dtw_share"] < 1.0


def test_minirocket_convolution_and_features_match_plain_loops():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(3, 30)).astype(np.float32)

    def conv(x, kernel, d):
        w = -np.ones(9)
        w[list(kernel)] = 2.0
        return np.array([sum(w[m] * x[t + (m - 4) * d] for m in range(9) if 0 <= t + (m - 4) * d < len(x))
                         for t in range(len(x))])

    C = _conv(torch.as_tensor(X), 2).numpy()                              # (3, 84, 30)
    for n in range(3):
        for k in (0, 17, 83):
            np.testing.assert_allclose(C[n, k], conv(X[n].astype(np.float64), KERNELS[k], 2), atol=1e-5)
    mr = MiniRocket(num_features=168, seed=0).fit(rng.normal(size=(10, 30)))
    X_new = rng.normal(size=(4, 30)).astype(np.float32)
    got, want, at = mr.transform(X_new), [], 0
    for i, (d, c) in enumerate(zip(mr.dilations_, mr.counts_)):              # plain loops over the paper's order
        for k in range(84):
            b = mr.biases_[at:at + c]
            at += c
            rows = []
            for x in X_new:
                out = conv(x.astype(np.float64), KERNELS[k], d)
                pad = 4 * d
                out = out[pad:len(out) - pad] if (i + k) % 2 and len(out) > 2 * pad else out
                rows.append([(out > bj).mean() for bj in b])
            want.append(np.array(rows))
    want = np.concatenate(want, 1)
    assert got.shape == want.shape == (4, 168)
    close = np.abs(got - want) < 1e-6                                     # float32 features
    assert np.abs(got - want).max() <= 1 / 14 + 1e-6 and close.mean() > 0.99   # a float32 tie may flip one step


def test_minirocket_dilations():
    d, counts = minirocket_dilations(152)
    assert counts.sum() == 10_000 // 84 and d.max() <= (152 - 1) / 8 and d[0] == 1 and (np.diff(d) > 0).all()
    d, counts = minirocket_dilations(9)
    assert d.tolist() == [1] and counts.tolist() == [119]
    with pytest.raises(UsageError, match="at least 9 steps"):
        minirocket_dilations(8)


@pytest.mark.parametrize("n, p, classes", [(60, 200, 2), (60, 200, 3), (200, 30, 2), (200, 30, 3)])
def test_ridge_classifier_matches_sklearn(n, p, classes):
    from sklearn.linear_model import RidgeClassifierCV as SkRidge
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(n + p + classes)
    X = rng.normal(size=(n, p)) * rng.uniform(0.5, 3, p) + rng.normal(size=p)
    y = np.digitize(X[:, 0] / 3 + X[:, 1] / 3 + rng.normal(size=n), [-0.5, 0.5][:classes - 1])
    ours = RidgeClassifierCV().fit(X, y)
    Z = StandardScaler().fit_transform(X)
    sk = SkRidge(alphas=np.logspace(-3, 3, 10)).fit(Z, y)
    assert ours.alpha_ == pytest.approx(sk.alpha_)
    np.testing.assert_allclose(ours.coef_.T.reshape(sk.coef_.shape), sk.coef_, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(ours.intercept_.reshape(np.shape(sk.intercept_)), sk.intercept_, atol=1e-9)
    assert (ours.predict(X) == sk.predict(Z)).all()


def test_trace_cnn_shapes_and_config():
    net = TraceCNN(num_classes=3, width=8)
    assert net(torch.zeros(5, 1, 40)).shape == (5, 3)
    again = TraceCNN(**net.config)
    again.load_state_dict(net.state_dict())


def test_bad_input_is_one_clear_error():
    with pytest.raises(DataError, match="one length"):
        dtw(np.zeros(5), np.zeros(6))
    with pytest.raises(UsageError, match="window"):
        dtw(np.zeros(5), np.zeros(5), -1)
    with pytest.raises(DataError, match="nearest_dtw needs"):
        nearest_dtw(np.zeros((3, 5)), [0, 1], np.zeros((2, 5)), 1)
    with pytest.raises(UsageError, match="not fitted"):
        MiniRocket().transform(np.zeros((2, 20)))
    with pytest.raises(DataError, match="two classes"):
        RidgeClassifierCV().fit(np.zeros((4, 3)), [1, 1, 1, 1])


def test_ucr_study_smoke_and_its_figure(tmp_path):
    import matplotlib
    matplotlib.use("Agg")

    from deepfab.aiops.fdc_plots import ucr_figure

    r = ucr_study(smoke=True)
    ucr_figure(r).savefig(tmp_path / "ucr.png")
    assert (tmp_path / "ucr.png").stat().st_size > 5000
    by = {row["method"]: row for row in r["rows"]}
    assert list(by) == ["1-NN Euclidean", "1-NN DTW, window 5%", "1-D CNN", "MiniRocket + ridge"]
    assert r["n_test"] == 300 and r["dtw_window_steps"] == 8 and r["minirocket_features"] == 840
    assert by["1-NN Euclidean"]["published"] == 0.0045
    assert all(0 <= row["error"] <= 1 for row in r["rows"])
    assert by["MiniRocket + ridge"]["error"] < 0.05 and by["1-NN Euclidean"]["error"] < 0.05
