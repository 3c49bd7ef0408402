"""deepfab.explain.features: hooks give exactly what slicing the network by hand gives; k-NN vs sklearn.

    .venv/bin/python -m pytest tests/explain/test_features.py -q
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.neighbors import KNeighborsClassifier

from deepfab.explain import capture, embed, first_conv_weights, knn_accuracy, last_linear, top_channels
from deepfab.models.small import SmallCNN


def net_and_batch():
    torch.manual_seed(0)
    net = SmallCNN(2, 9, width=4, batchnorm=True, head_pool=2)
    with torch.no_grad():
        net(torch.rand(8, 2, 16, 16))
    return net.eval(), torch.rand(5, 2, 16, 16)


def test_first_conv_weights_is_the_first_conv():
    net, _ = net_and_batch()
    w = first_conv_weights(net)
    assert w.shape == (4, 2, 3, 3) and torch.equal(w, net.features[0].weight)
    with pytest.raises(ValueError, match="no nn.Conv2d"):
        first_conv_weights(torch.nn.Linear(2, 2))


def test_capture_matches_the_sliced_network():
    net, x = net_and_batch()
    acts = capture(net, x, ["features.2", "features.6"], batch_size=2)   # ReLU 1 and ReLU 2
    with torch.no_grad():
        assert torch.allclose(acts["features.2"], net.features[:3](x), atol=1e-6)  # batch-size-dependent kernels
        assert torch.allclose(acts["features.6"], net.features[:7](x), atol=1e-6)
    assert acts["features.6"].shape == (5, 8, 8, 8)
    with pytest.raises(ValueError, match="has no module 'features.99'"):
        capture(net, x, ["features.99"])


def test_embed_is_the_input_of_the_last_linear():
    net, x = net_and_batch()
    z = embed(net, x, batch_size=3)
    with torch.no_grad():
        ref = net.head[:-1](net.features(x))
    assert last_linear(net) is net.head[-1]
    assert z.shape == (5, 16 * 4) and torch.allclose(z, ref, atol=1e-6)
    with torch.no_grad():  # and the logits are a linear function of it
        assert torch.allclose(net(x), z @ net.head[-1].weight.T + net.head[-1].bias, atol=1e-6)


def test_knn_accuracy_matches_sklearn_leave_one_out():
    rng = np.random.default_rng(0)
    z = np.concatenate([rng.normal(0, 1, (30, 4)), rng.normal(1.5, 1, (30, 4))])
    y = np.repeat([0, 1], 30)
    hits = []
    for i in range(len(z)):
        keep = np.arange(len(z)) != i
        clf = KNeighborsClassifier(n_neighbors=3).fit(z[keep], y[keep])
        hits.append(clf.predict(z[i:i + 1])[0] == y[i])
    assert knn_accuracy(z, y, k=3) == pytest.approx(np.mean(hits))
    assert 0.6 < knn_accuracy(z, y, k=3) < 1.0
    with pytest.raises(ValueError, match="k must be in 1..59"):
        knn_accuracy(z, y, k=60)


def test_top_channels_are_each_samples_most_active_by_mean():
    net, x = net_and_batch()
    act = capture(net, x, ["features.6"])["features.6"]            # (5, 8, 8, 8)
    top = top_channels(act, 3)
    assert top.shape == (5, 3, 8, 8)
    for i in range(len(act)):                                      # the per-sample loop it replaces
        order = act[i].flatten(1).mean(1).argsort(descending=True)[:3]
        assert torch.equal(top[i], act[i][order])
    with pytest.raises(ValueError, match="1 <= k <= K"):
        top_channels(act, 9)
