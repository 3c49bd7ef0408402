"""Oracle tests of deepfab.scratch.nn: losses vs torch.nn.functional, and a whole MLP trained with
scratch optimizers vs the same MLP (weights copied) trained with torch.optim.

Run: .venv/bin/python -m pytest tests/scratch/test_nn.py -q
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from deepfab.scratch import Tensor, optim
from deepfab.scratch.nn import MLP, Linear, binary_cross_entropy_with_logits, mse_loss, softmax_cross_entropy

torch.set_num_threads(1)


def _torch_copy(net: MLP) -> torch.nn.Sequential:
    """The same network in torch: nn.Linear stores Wᵀ."""
    act = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid}[net.activation]
    mods = []
    for i, layer in enumerate(net.layers):
        lin = torch.nn.Linear(*layer.weight.shape, dtype=torch.float64)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(layer.weight.data.T))
            lin.bias.copy_(torch.from_numpy(layer.bias.data))
        mods += [lin] + ([act()] if i < len(net.layers) - 1 else [])
    return torch.nn.Sequential(*mods)


@pytest.mark.parametrize("activation, opt_name, kwargs, task", [
    ("relu", "Adam", dict(lr=1e-2), "multiclass"),
    ("relu", "AdamW", dict(lr=1e-2, weight_decay=0.1, amsgrad=True), "multiclass"),
    ("tanh", "SGD", dict(lr=0.1, momentum=0.9, nesterov=True), "binary"),
    ("sigmoid", "RMSprop", dict(lr=1e-2, momentum=0.5, centered=True), "binary"),
])
def test_mlp_training_matches_torch(activation, opt_name, kwargs, task):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(32, 6))
    out = 4 if task == "multiclass" else 1
    y = rng.integers(0, out, size=32) if task == "multiclass" else rng.integers(0, 2, size=32)
    net = MLP([6, 16, 16, out], activation=activation, rng=rng)
    tnet = _torch_copy(net)
    opt = getattr(optim, opt_name)(net.parameters(), **kwargs)
    topt = getattr(torch.optim, opt_name)(tnet.parameters(), **kwargs)
    tX, ty = torch.from_numpy(X), torch.from_numpy(y)
    losses = []
    for step in range(10):
        opt.zero_grad()
        logits = net(X)
        loss = softmax_cross_entropy(logits, y) if task == "multiclass" else \
            binary_cross_entropy_with_logits(logits.reshape(-1), y)
        loss.backward()
        opt.step()
        topt.zero_grad()
        tlogits = tnet(tX)
        tloss = F.cross_entropy(tlogits, ty) if task == "multiclass" else \
            F.binary_cross_entropy_with_logits(tlogits.reshape(-1), ty.double())
        tloss.backward()
        topt.step()
        assert loss.item() == pytest.approx(tloss.item(), rel=1e-10), f"step {step}"
        losses.append(loss.item())
        for layer, tlin in zip(net.layers, [m for m in tnet if isinstance(m, torch.nn.Linear)]):
            np.testing.assert_allclose(layer.weight.data, tlin.weight.detach().numpy().T, rtol=1e-8, atol=1e-10)
            np.testing.assert_allclose(layer.bias.data, tlin.bias.detach().numpy(), rtol=1e-8, atol=1e-10)
    assert losses[-1] < losses[0]  # it trains


def test_losses_match_torch_at_extreme_logits():
    rng = np.random.default_rng(1)
    z = rng.normal(size=(8, 5)) * np.array([1, 10, 100, 800, 1])  # large logits: no overflow
    y = rng.integers(0, 5, size=8)
    t = Tensor(z)
    loss = softmax_cross_entropy(t, y)
    loss.backward()
    q = torch.tensor(z, requires_grad=True)
    ref = F.cross_entropy(q, torch.from_numpy(y))
    ref.backward()
    assert loss.item() == pytest.approx(ref.item(), rel=1e-12)
    np.testing.assert_allclose(t.grad, q.grad.numpy(), rtol=1e-10, atol=1e-15)
    s = np.array([-1e3, -30.0, 0.0, 2.0, 30.0, 1e3])
    yb = np.array([1, 0, 1, 0, 1, 0])
    t = Tensor(s)
    loss = binary_cross_entropy_with_logits(t, yb)
    loss.backward()
    q = torch.tensor(s, requires_grad=True)
    ref = F.binary_cross_entropy_with_logits(q, torch.tensor(yb, dtype=torch.float64))
    ref.backward()
    assert loss.item() == pytest.approx(ref.item(), rel=1e-12)
    np.testing.assert_allclose(t.grad, q.grad.numpy(), rtol=1e-12, atol=1e-16)  # σ(z) − 1 cancels at z = 30
    p = Tensor(s[:3])
    mse_loss(p, np.ones(3)).backward()
    np.testing.assert_allclose(p.grad, 2 * (s[:3] - 1) / 3)


def test_init_statistics_and_seeding():
    rng = np.random.default_rng(0)
    k = Linear(512, 256, rng, init="kaiming").weight.data
    x = Linear(512, 256, rng, init="xavier").weight.data
    assert k.std() == pytest.approx(np.sqrt(2 / 512), rel=0.02)
    assert x.std() == pytest.approx(np.sqrt(2 / (512 + 256)), rel=0.02)  # var of U(±a) is a²/3
    assert np.abs(x).max() <= np.sqrt(6 / 768)
    a = MLP([3, 4, 2], rng=np.random.default_rng(7)).parameters()
    b = MLP([3, 4, 2], rng=7).parameters()
    assert len(a) == 4 and all(np.array_equal(p.data, q.data) for p, q in zip(a, b))


def test_errors():
    with pytest.raises(TypeError, match="Generator"):
        Linear(2, 2, rng=None)
    with pytest.raises(ValueError, match="activation"):
        MLP([2, 2], activation="gelu", rng=0)
    with pytest.raises(ValueError, match="labels must be integers"):
        softmax_cross_entropy(Tensor(np.zeros((2, 3))), [0, 3])
    with pytest.raises(ValueError, match="same shape"):
        binary_cross_entropy_with_logits(Tensor(np.zeros((2, 1))), [0, 1])
