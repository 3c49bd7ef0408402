"""``deepfab.wafer.prior``: the none share per die grid, checked against maximising the likelihood.

Run: .venv/bin/python -m pytest tests/wafer/test_prior.py -q
"""
from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from deepfab.errors import DataError, UsageError
from deepfab.wafer.prior import (
    as_deployed,
    balance,
    class_shares,
    fail_free,
    none_share,
    product_prior,
    reweight,
    summary,
    trained_none_share,
    trained_shares,
)

NONE = 2                                                      # classes: Center, Loc, none


def _maps(shapes):
    return [np.ones(s, np.uint8) for s in shapes]


def _probs(q_none, rng):
    """(n, 3): the none column q_none, the rest split at random between the two defects."""
    q = np.asarray(q_none, float)
    split = rng.uniform(0.2, 0.8, len(q))
    return np.stack([(1 - q) * split, (1 - q) * (1 - split), q], 1)


@pytest.mark.parametrize("pseudo", [0.0, 5.0])
def test_em_estimate_maximises_the_penalised_likelihood(pseudo):
    """EM's fixed point is the maximum over pi of sum_i log(q_i pi/pi0 + (1 - q_i)(1 - pi)/(1 - pi0))
    plus the pseudo-count term pseudo * (pi0 log pi + (1 - pi0) log(1 - pi)), found here by scipy."""
    rng = np.random.default_rng(0)
    q, pi0 = rng.beta(0.6, 1.2, 300), 0.55

    def neg(pi):
        like = np.log(q * pi / pi0 + (1 - q) * (1 - pi) / (1 - pi0)).sum()
        return -(like + pseudo * (pi0 * np.log(pi) + (1 - pi0) * np.log(1 - pi)))

    best = minimize_scalar(neg, bounds=(1e-9, 1 - 1e-9), method="bounded", options={"xatol": 1e-12}).x
    assert none_share(q, pi0, pseudo, iters=5000) == pytest.approx(best, abs=1e-6)


def test_em_recovers_the_none_share_of_a_label_shifted_group():
    """Calibrated posteriors at training share 0.5, a group drawn with none share 0.2: the estimate
    lands near 0.2 (binomial noise of 2,000 maps), far from the training 0.5."""
    rng = np.random.default_rng(1)
    y = rng.random(2000) < 0.2                                  # True: none
    s = rng.normal(np.where(y, 1.0, -1.0), 1.0)                 # a score; p(none | s) at prior 0.5 is sigmoid(2 s)
    q = 1 / (1 + np.exp(-2 * s))
    assert none_share(q, 0.5, pseudo=0) == pytest.approx(0.2, abs=0.03)


def test_reweight_is_bayes_rule_with_new_priors():
    p = np.array([[0.2, 0.3, 0.5], [0.05, 0.05, 0.9]])
    pi, pi0 = 0.1, 0.6
    prior_ratio = np.array([(1 - pi) / (1 - pi0)] * 2 + [pi / pi0])
    want = p * prior_ratio / (p * prior_ratio).sum(1, keepdims=True)
    got = reweight(p, NONE, pi, pi0)
    np.testing.assert_allclose(got, want)
    np.testing.assert_allclose(got.sum(1), 1.0)
    np.testing.assert_allclose(got[:, 0] / got[:, 1], p[:, 0] / p[:, 1])    # defects keep their ratio


def test_only_large_defect_heavy_grids_are_lowered():
    rng = np.random.default_rng(2)
    grids = [(30, 30)] * 60 + [(40, 40)] * 60 + [(50, 50)] * 19
    q = np.concatenate([rng.uniform(0.3, 0.7, 60),        # 30x30: ambiguous, a defect-heavy product
                        rng.uniform(0.9, 1.0, 60),        # 40x40: nearly all none
                        rng.uniform(0.3, 0.7, 19)])       # 50x50: too few maps
    P = _probs(q, rng)
    out, rows = product_prior(P, _maps(grids), NONE, pi0=0.6)
    by = {r["grid"]: r for r in rows}
    assert [r["grid"] for r in rows] == ["30x30", "40x40", "50x50"]
    assert by["30x30"]["lowered"] and by["30x30"]["none_estimated"] < 0.6
    assert not by["40x40"]["lowered"] and by["40x40"]["none_estimated"] > 0.6      # would be raised: left alone
    assert by["50x50"]["none_estimated"] is None and not by["50x50"]["lowered"]
    np.testing.assert_array_equal(out[60:], P[60:])
    assert (out[:60, NONE] < P[:60, NONE]).all()
    # more maps called a defect on the lowered grid, and the switch is the argmax of Bayes' rule
    assert (out[:60].argmax(1) != NONE).sum() > (P[:60].argmax(1) != NONE).sum()
    assert "1 of 3 die grids: 30x30 (60 maps)" in summary(rows)


def test_trained_none_share_and_bad_input():
    assert trained_none_share({"class_counts": {"Loc": 30, "none": 70}}) == pytest.approx(0.7)
    assert trained_none_share({}) is None and trained_none_share({"class_counts": {"Loc": 3, "Center": 1}}) is None
    assert trained_none_share({"class_counts": {"Loc": 0, "none": 5}}) is None      # a share of 1: nothing to shift
    weighted = {"class_counts": {"Loc": 30, "none": 70}, "train_config": {"class_weights": [2.0, 0.5]}}
    assert trained_none_share(weighted) == pytest.approx(35 / (60 + 35))               # the loss's mix
    compressed = {"class_counts": weighted["class_counts"], "class_weights": [2.0, 0.5]}   # the parent's weights
    assert trained_none_share(compressed) == pytest.approx(35 / 95)
    with pytest.raises(DataError, match="probabilities .N, C. for N maps"):
        product_prior(np.ones((3, 3)) / 3, _maps([(5, 5)] * 2), NONE, 0.5)
    with pytest.raises(UsageError, match="training share of none must be in"):
        product_prior(np.ones((2, 3)) / 3, _maps([(5, 5)] * 2), NONE, 1.0)


def test_fail_free_maps_are_none_and_the_rest_untouched():
    """A map without a fail die (2) is none with probability 1; a map with one fail keeps its row; off-wafer
    (0) and pass (1) dies alone are fail-free whatever the shape."""
    rng = np.random.default_rng(3)
    probs = _probs(rng.uniform(0, 1, 4), rng)
    one_fail = np.ones((5, 6), np.uint8)
    one_fail[2, 3] = 2
    maps = [np.ones((5, 6), np.uint8), one_fail, np.array([[0, 1], [1, 0]], np.uint8), np.full((3, 3), 2, np.uint8)]
    out, clean = fail_free(probs, maps, NONE)
    assert clean.tolist() == [True, False, True, False]
    np.testing.assert_array_equal(out[clean], [[0.0, 0.0, 1.0]] * 2)
    np.testing.assert_array_equal(out[~clean], probs[~clean])
    assert not np.shares_memory(out, probs)
    with pytest.raises(DataError, match="fail_free needs probabilities"):
        fail_free(probs[:3], maps, NONE)


def test_balance_gives_the_posterior_under_a_flatter_prior():
    """Oracle: for three 1-D Gaussian classes with training priors pi, the exact posterior p(y | x) divided
    by pi ** tau and renormalised equals the posterior computed from the likelihoods with the prior
    pi ** (1 - tau) (tau 1: uniform, the balanced-error rule); tau 0 changes nothing; a class of share 0
    is left undivided."""
    from scipy.stats import norm

    x = np.linspace(-4, 6, 41)
    lik = np.stack([norm.pdf(x, m, 1.0) for m in (0.0, 1.0, 2.5)], 1)        # (41, 3) p(x | y)
    pi = np.array([0.7, 0.25, 0.05])
    post = lik * pi / (lik * pi).sum(1, keepdims=True)
    for tau in (0.0, 0.2, 1.0):
        flat = lik * pi ** (1 - tau)
        np.testing.assert_allclose(balance(post, pi, tau), flat / flat.sum(1, keepdims=True), rtol=1e-12)
    np.testing.assert_allclose(balance(post, pi, 0.0), post, rtol=1e-12)
    assert (balance(post, pi, 1.0).argmax(1) == 2).sum() > (post.argmax(1) == 2).sum()   # the rare class gains
    with_empty = balance(np.full((2, 4), 0.25), np.array([0.5, 0.25, 0.25, 0.0]), 1.0)
    np.testing.assert_allclose(with_empty[0], np.array([2, 4, 4, 1]) / 11)
    with pytest.raises(UsageError, match="exponent must be a number in .0, 1."):
        balance(post, pi, 1.5)
    with pytest.raises(DataError, match="C class shares"):
        balance(post, pi[:2], 0.2)


def test_trained_shares_follow_the_loss():
    assert trained_shares({"class_counts": {"Loc": 30, "none": 70}}) == pytest.approx({"Loc": 0.3, "none": 0.7})
    weighted = {"class_counts": {"Loc": 30, "none": 70}, "train_config": {"class_weights": [2.0, 0.5]}}
    assert trained_shares(weighted) == pytest.approx({"Loc": 60 / 95, "none": 35 / 95})
    assert trained_shares({}) is None and trained_shares({"class_counts": {"Loc": 0}}) is None


def test_as_deployed_is_fail_free_then_the_product_prior_then_the_balance():
    rng = np.random.default_rng(3)
    maps = _maps([(6, 6)] * 30)
    for m in maps[1:]:
        m[2, 3] = 2                                                       # every map but the first has a fail
    P = _probs(rng.uniform(0.2, 0.6, 30), rng)
    names, config = ["Loc", "Center", "none"], {"class_counts": {"Loc": 10, "Center": 30, "none": 60}}
    pi = class_shares(config, names)
    np.testing.assert_allclose(pi, [0.1, 0.3, 0.6])
    got, rows, clean, lines = as_deployed(P, maps, names, config)
    step = product_prior(fail_free(P, maps, NONE)[0], maps, NONE, 0.6)[0]
    np.testing.assert_allclose(got, balance(step, pi), rtol=1e-12)
    assert clean.tolist() == [True] + [False] * 29 and rows[0]["lowered"] and len(lines) == 3
    off = as_deployed(P, maps, names, config, product=False, tau=0.0)[0]
    np.testing.assert_allclose(off, fail_free(P, maps, NONE)[0])
    no_none = as_deployed(P[:, :2] / P[:, :2].sum(1, keepdims=True), maps, names[:2], config)
    assert no_none[1] is None and not no_none[2].any() and "no none class" in no_none[3][0]
    assert class_shares({}, names) is None and "off (no class_counts)" in as_deployed(P, maps, names, {})[3][-1]
