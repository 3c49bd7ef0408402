"""deepfab.adapt.transfer against scikit-learn (metrics, logistic regression) and torch by hand."""
import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, hamming_loss, precision_score, recall_score

from deepfab.adapt.transfer import (
    MultiLabelLoss,
    body_features,
    fit_linear_probe,
    last_linear,
    later_half,
    lot_adaptation_rows,
    multilabel_metrics,
    predict_multilabel,
    repeat_rows,
    with_new_head,
)
from deepfab.errors import DataError, ModelError, UsageError
from deepfab.models import ResNet
from deepfab.train import TrainConfig, fit


def _multilabel(n=300, d=6, labels=4, seed=0):
    rng = np.random.default_rng(seed)
    F = rng.normal(size=(n, d))
    W = rng.normal(size=(d, labels)) * 2
    Y = (F @ W + rng.normal(size=(n, labels)) > 0.5).astype(np.int64)
    return F, Y


def test_multilabel_metrics_match_sklearn():
    rng = np.random.default_rng(1)
    yt = (rng.random((200, 5)) < 0.3).astype(int)
    yp = np.where(rng.random((200, 5)) < 0.8, yt, 1 - yt)
    yp[:, 4] = 0                                            # a label never predicted: its F1 is 0, as zero_division=0
    m = multilabel_metrics(yt, yp, list("abcde"))
    assert m["macro_f1"] == pytest.approx(f1_score(yt, yp, average="macro", zero_division=0), abs=1e-12)
    assert m["micro_f1"] == pytest.approx(f1_score(yt, yp, average="micro", zero_division=0), abs=1e-12)
    assert m["exact_match"] == pytest.approx(accuracy_score(yt, yp), abs=1e-12)
    assert m["hamming_accuracy"] == pytest.approx(1 - hamming_loss(yt, yp), abs=1e-12)
    np.testing.assert_allclose(list(m["per_label_recall"].values()), recall_score(yt, yp, average=None,
                                                                                  zero_division=0), atol=1e-12)
    np.testing.assert_allclose(list(m["per_label_precision"].values()), precision_score(yt, yp, average=None,
                                                                                        zero_division=0), atol=1e-12)
    np.testing.assert_allclose(list(m["per_label_f1"].values()), f1_score(yt, yp, average=None, zero_division=0))
    assert m["per_label_f1"]["e"] == 0.0 and m["support"]["a"] == int(yt[:, 0].sum())
    with pytest.raises(DataError, match="0 or 1"):
        multilabel_metrics(yt, yp * 0.7)
    with pytest.raises(DataError, match="one shape"):
        multilabel_metrics(yt, yp[:, :3])


def test_linear_probe_matches_sklearn_multilabel_and_multiclass():
    F, Y = _multilabel(n=200, d=5, labels=3)
    head = fit_linear_probe(F, Y, C=0.5)
    for j in range(Y.shape[1]):
        sk = LogisticRegression(C=0.5, tol=1e-10, max_iter=10000).fit(F, Y[:, j])
        np.testing.assert_allclose(head.weight[j].detach().numpy(), sk.coef_[0], atol=1e-5)
        np.testing.assert_allclose(head.bias[j].item(), sk.intercept_[0], atol=1e-5)
    y = np.argmax(F[:, :3], 1)                               # three classes, multinomial softmax
    head = fit_linear_probe(F, y, C=2.0)
    sk = LogisticRegression(C=2.0, tol=1e-10, max_iter=10000).fit(F, y)
    p = torch.softmax(head(torch.as_tensor(F, dtype=torch.float32)), 1).detach().numpy()
    np.testing.assert_allclose(p, sk.predict_proba(F), atol=1e-5)
    with pytest.raises(UsageError, match="C must be"):
        fit_linear_probe(F, Y, C=0)
    with pytest.raises(DataError, match="0 or 1"):
        fit_linear_probe(F, Y * 2)


@pytest.mark.parametrize("n", [2, 5, 40])
def test_linear_probe_reaches_the_optimum_with_few_separable_maps(n):
    """More features than maps (the 1 % fractions of lecture 14): the data alone are separable and only
    the penalty holds the weights; the gradient of the objective (finite differences) is zero there."""
    rng = np.random.default_rng(n)
    F = rng.normal(size=(n, 30)) * rng.uniform(0.1, 5.0, size=30)             # badly scaled features
    Y = np.stack([np.arange(n) % 2, (np.arange(n) // 2) % 2], 1)
    head = fit_linear_probe(F, Y, C=1.0)
    W = np.c_[head.weight.detach().double().numpy(), head.bias.detach().double().numpy()]
    A = np.c_[F, np.ones(n)]

    def objective(w, y):
        z = A @ w
        return float(np.logaddexp(0, z).sum() - (y * z).sum() + 0.5 * (w[:-1] ** 2).sum())

    for j in range(Y.shape[1]):
        if len(set(Y[:, j])) > 1:
            sk = LogisticRegression(C=1.0, tol=1e-10, max_iter=10000).fit(F, Y[:, j])
            np.testing.assert_allclose(W[j, :-1], sk.coef_[0], atol=1e-5)
        h = 1e-4
        fd = [(objective(W[j] + h * e, Y[:, j]) - objective(W[j] - h * e, Y[:, j])) / (2 * h) for e in np.eye(31)]
        assert np.abs(fd).max() < 1e-3 * max(1.0, np.abs(F).max()), f"label {j}: gradient {np.abs(fd).max():.2e}"


def test_new_head_keeps_the_body_and_features_are_the_head_input():
    torch.manual_seed(0)
    net = ResNet(in_channels=3, num_classes=9, width=4).eval()
    x = torch.randn(5, 3, 32, 32)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    new = with_new_head(net, 8, seed=3)
    assert new.config["num_classes"] == 8 and net.config["num_classes"] == 9
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())        # the original is untouched
    shared = [k for k in before if not k.startswith("head.")]
    assert all(torch.equal(before[k], new.state_dict()[k]) for k in shared)
    assert new(x).shape == (5, 8)
    assert torch.equal(with_new_head(net, 8, seed=3).head[2].weight, new.head[2].weight)   # seeded
    F = body_features(net, x)
    with torch.no_grad():
        by_hand = net.head[1](net.head[0](net.features(net.stem(x))))                   # pooled, flattened
    torch.testing.assert_close(F, by_hand)
    torch.testing.assert_close(net.head[2](F), net(x).detach())
    probe = torch.nn.Linear(F.shape[1], 8)
    lp = with_new_head(net, 8, head=probe)
    torch.testing.assert_close(lp(x).detach(), probe(F).detach())
    with pytest.raises(ModelError, match="Linear"):
        with_new_head(net, 7, head=probe)
    with pytest.raises(ModelError, match="no"):
        last_linear(torch.nn.Conv2d(1, 1, 1))


def test_multilabel_loss_is_bce_and_fit_learns():
    out, tgt = torch.randn(6, 4), (torch.rand(6, 4) > 0.5).float()
    num, den = MultiLabelLoss()(out, tgt)
    torch.testing.assert_close(num / den, torch.nn.functional.binary_cross_entropy_with_logits(out, tgt) * 4)
    F, Y = _multilabel(n=400, d=8, labels=3, seed=2)
    X = torch.as_tensor(F, dtype=torch.float32)
    net = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))
    torch.manual_seed(0)
    cfg = TrainConfig(epochs=12, batch_size=100, lr=2e-2, progress=False, monitor="val_macro_f1", seed=0)
    res = fit(net, (X[:300], torch.as_tensor(Y[:300]).float()), (X[300:], torch.as_tensor(Y[300:]).float()), cfg,
              loss_fn=MultiLabelLoss(list("abc")))
    assert res.history[-1]["train_loss"] < 0.6 * res.history[0]["train_loss"]
    m = multilabel_metrics(Y[300:], predict_multilabel(res.model, X[300:]) >= 0.5)
    assert m["macro_f1"] > 0.8 and m["macro_f1"] == pytest.approx(res.best_metrics["macro_f1"])
    with pytest.raises(UsageError, match="monitor"):
        fit(net, (X, torch.as_tensor(Y).float()), (X, torch.as_tensor(Y).float()),
            TrainConfig(epochs=1, monitor="val_accuracy", progress=False), loss_fn=MultiLabelLoss())


def test_budget_and_later_lot_rows():
    assert repeat_rows(np.array([4, 7, 9]), 7).tolist() == [4, 7, 9, 4, 7, 9, 4]
    assert repeat_rows(np.arange(10), 4).tolist() == list(range(10))
    with pytest.raises(DataError):
        repeat_rows(np.array([], int), 4)
    src = np.random.default_rng(0).permutation(100) * 7
    late = later_half(src)
    assert late.sum() == 50 and src[late].min() > src[~late].max()
    labels = np.arange(100) % 3
    rows = lot_adaptation_rows(labels, src, per_class=4, seed=0)
    assert not late[rows].any() and np.bincount(labels[rows]).tolist() == [4, 4, 4]
    assert np.array_equal(rows, lot_adaptation_rows(labels, src, per_class=4, seed=0))
