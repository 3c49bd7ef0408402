"""Windows, PCA (SPE), count rules and DeepLog of ``deepfab.aiops.logwindows``, ``deeplog`` and
``loganomaly`` against brute force, scikit-learn and scipy.

Run: .venv/bin/python -m pytest tests/aiops/test_loganomaly.py -q -p no:cacheprovider
"""
from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import torch

from deepfab.aiops.deeplog import DeepLog, history_pairs, ranks
from deepfab.aiops.loganomaly import inject
from deepfab.aiops.logwindows import (
    PAD,
    UNSEEN,
    CountRules,
    PCADetector,
    count_matrix,
    encode_events,
    line_windows,
    time_windows,
    window_labels,
    window_prf,
)
from deepfab.errors import DataError, UsageError


def test_encode_events_builds_and_applies_a_vocabulary():
    codes, vocab = encode_events(["E3", "E1", "E3", "E7"])
    assert vocab == {"E3": 2, "E1": 3, "E7": 4} and codes.tolist() == [2, 3, 2, 4]
    later, same = encode_events(["E1", "E9", "E7"], vocab)
    assert later.tolist() == [3, UNSEEN, 4] and same is vocab


def test_line_windows_fixed_sliding_and_short():
    assert line_windows(10, 4).tolist() == [[0, 4], [4, 8], [6, 10]]               # the tail window ends at the end
    assert line_windows(10, 4, 3).tolist() == [[0, 4], [3, 7], [6, 10]]
    assert line_windows(9, 4, 2).tolist() == [[0, 4], [2, 6], [4, 8], [5, 9]]
    assert line_windows(3, 20, 5).tolist() == [[0, 3]]
    covered = np.zeros(103, bool)
    for a, b in line_windows(103, 20, 7):
        assert b - a == 20
        covered[a:b] = True
    assert covered.all()
    with pytest.raises(UsageError, match="at least 1"):
        line_windows(10, 0)
    with pytest.raises(DataError, match="no lines"):
        line_windows(0, 5)


def test_time_windows_match_a_brute_force_scan():
    rng = np.random.default_rng(0)
    t = np.sort(rng.uniform(0, 1000, 300)) + 50
    got = time_windows(t, 60.0, 25.0)
    want = []
    for lo in t[0] + 25.0 * np.arange(int((t[-1] - t[0]) // 25) + 1):
        idx = np.flatnonzero((t >= lo) & (t < lo + 60))
        if idx.size:
            want.append([idx[0], idx[-1] + 1])
    assert got.tolist() == want
    with pytest.raises(DataError, match="non-decreasing"):
        time_windows([3.0, 1.0], 1.0)


def test_counts_labels_and_precision_recall_against_brute_force_and_sklearn():
    from sklearn.metrics import precision_recall_fscore_support

    rng = np.random.default_rng(1)
    codes = rng.integers(0, 7, 200)
    win = line_windows(200, 15, 4)
    C = count_matrix(codes, win, 7)
    for w, (a, b) in enumerate(win):
        assert C[w].tolist() == [Counter(codes[a:b].tolist()).get(e, 0) for e in range(7)]
    y = (rng.random(200) < 0.02).astype(int)
    wy = window_labels(y, win)
    assert wy.tolist() == [int(y[a:b].max()) for a, b in win]
    flags = rng.random(len(win)) < 0.3
    p, r, f, _ = precision_recall_fscore_support(wy, flags, average="binary", zero_division=0)
    m = window_prf(wy, flags)
    assert np.allclose([m["precision"], m["recall"], m["f1"]], [p, r, f])
    assert m["tp"] + m["fp"] + m["fn"] + m["tn"] == len(win) and m["tp"] + m["fn"] == wy.sum()


def test_pca_subspace_and_spe_match_sklearn():
    from sklearn.decomposition import PCA

    rng = np.random.default_rng(2)
    X = rng.poisson(3.0, size=(300, 12)) @ rng.uniform(0, 1, (12, 12))       # correlated counts
    det = PCADetector(variance=0.9, tfidf=False).fit(X)
    ref = PCA(n_components=0.9, svd_solver="full").fit(X)
    assert det.n_components_ == ref.n_components_
    P, Q = det.components_.T @ det.components_, ref.components_.T @ ref.components_
    assert np.allclose(P, Q, atol=1e-8)                                         # the same normal subspace
    Xn = X[:40] + rng.normal(0, 2, (40, 12))
    brute = ((Xn - ref.inverse_transform(ref.transform(Xn))) ** 2).sum(1)
    assert np.allclose(det.spe(Xn), brute)
    assert np.allclose(det.eigenvalues_[: ref.n_components_], ref.explained_variance_)
    t = PCADetector(tfidf=True).fit(X)
    df = (X > 0).sum(0)
    assert np.allclose(t.idf_, np.log((1 + len(X)) / (1 + df)))


def test_the_spe_limit_gives_its_false_alarm_rate_on_gaussian_windows():
    from deepfab.aiops.fdc import spe_limit

    rng = np.random.default_rng(3)
    scale = np.array([10, 8, 6, 1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    X = rng.normal(size=(40000, 10)) * scale
    det = PCADetector(variance=0.9, alpha=0.05, tfidf=False).fit(X[:20000])
    assert det.n_components_ == 3 and det.limit_ == spe_limit(det.eigenvalues_[3:], 0.05)
    rank_one = PCADetector(variance=0.9, tfidf=False).fit(np.outer(np.arange(10.0), [1.0, 2.0]))
    assert rank_one.predict(np.array([[1.0, 2.0], [1.0, 0.0]])).tolist() == [False, True]
    rate = det.predict(X[20000:]).mean()
    assert abs(rate - 0.05) < 0.01, rate


def test_count_rules_thresholds_and_invariants_by_hand():
    train = np.array([[1, 1, 0, 2], [2, 2, 1, 0], [0, 0, 1, 1], [3, 3, 0, 1]])
    rules = CountRules(support=2).fit(train)
    assert rules.max_.tolist() == [3, 3, 1, 2]
    assert rules.invariants_.tolist() == [[0, 1]]                    # c0 = c1 in every window
    new = np.array([[1, 1, 0, 0], [1, 2, 0, 0], [4, 4, 0, 0], [0, 0, 2, 3]])
    assert rules.score(new).tolist() == [0, 1, 2, 2] and rules.predict(new).tolist() == [False, True, True, True]


def test_history_pairs_and_ranks_against_brute_force():
    codes = np.array([2, 3, 4, 2, 3, 5, 1, 2])
    X, y = history_pairs(codes, 3)
    want = [([codes[j] if j >= 0 else PAD for j in range(t - 3, t)], codes[t]) for t in range(len(codes))]
    assert [(list(x), int(t)) for x, t in zip(X, y)] == want
    logits = torch.randn(len(y), 4, generator=torch.Generator().manual_seed(0))
    got = ranks(logits, torch.as_tensor(y))
    for i, code in enumerate(y):
        order = torch.argsort(logits[i], descending=True).tolist()
        assert got[i] == (order.index(code - 2) + 1 if code >= 2 else 5)


def test_deeplog_learns_a_cycle_and_flags_swaps_and_unseen_events():
    cycle = np.tile([2, 3, 4, 5, 6], 80)                                    # A B C D E A B C D E ...
    win = line_windows(len(cycle), 10, 5)
    dl = DeepLog(history=4, top_k=1, hidden=16, layers=1, embed=8, epochs=30, lr=1e-2, seed=0).fit(cycle, win, 7)
    again = DeepLog(history=4, top_k=1, hidden=16, layers=1, embed=8, epochs=30, lr=1e-2, seed=0).fit(cycle, win, 7)
    assert dl.losses_ == again.losses_ and dl.losses_[-1] < dl.losses_[0] / 5
    test = cycle[:40].copy()
    test[12], test[13] = test[13], test[12]                                 # a swapped pair in window 1 (10..20)
    test[33] = UNSEEN                                                        # an unseen event in window 3 (30..40)
    tw = line_windows(40, 10)
    s = dl.score(test, tw)
    assert s[1] > 1 and s[3] == 6 and s[2] <= 1                             # unseen ranks n_known + 1 = 6
    assert dl.predict(test, tw).tolist() == [s[0] > 1, True, False, True]
    assert (dl.line_ranks(cycle)[4:] == 1).all()                            # with a full history, always right


def test_inject_each_kind():
    codes = np.arange(2, 102) % 7 + 2
    for kind, length in (("unseen", 101), ("burst", 105), ("order", 100), ("missing", 99)):
        out, lab, kinds = inject(codes, {kind: 1}, 50, np.random.default_rng(0))
        assert len(out) == len(lab) == len(kinds) == length
        assert lab.sum() == {"unseen": 1, "burst": 5, "order": 6, "missing": 1}[kind]
        assert set(kinds[lab == 1]) == {kind} and set(kinds[lab == 0]) == {""}
        if kind == "unseen":
            assert (out == UNSEEN).sum() == 1
        if kind == "order":
            assert sorted(out.tolist()) == sorted(codes.tolist()) and not np.array_equal(out, codes)
    with pytest.raises(UsageError, match="injection kinds"):
        inject(codes, {"bogus": 1}, 50, np.random.default_rng(0))
    with pytest.raises(DataError, match="lines apart"):
        inject(codes, {"burst": 5}, 50, np.random.default_rng(0))
