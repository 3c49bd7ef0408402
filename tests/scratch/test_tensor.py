"""Oracle tests for deepfab.scratch.Tensor: values and gradients vs torch.autograd and finite differences.

Run: .venv/bin/python -m pytest tests/scratch/test_tensor.py -q
"""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

from deepfab.scratch import Tensor

torch.set_num_threads(1)
RNG = np.random.default_rng(0)


def _run_both(fn, *arrays):
    """Apply ``fn`` to scratch Tensors and to torch tensors; return values and grads of both."""
    ts = [Tensor(a) for a in arrays]
    out = fn(*ts)
    out.sum().backward() if out.data.size != 1 else out.backward()
    qs = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    ref = fn(*qs)
    ref.sum().backward()
    return (out.data, [t.grad for t in ts]), (ref.detach().numpy(), [q.grad.numpy() for q in qs])


BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "matmul": lambda a, b: a @ b,
    "chain": lambda a, b: ((a * b).tanh() + a / (b * b + 1.0)).exp(),
}
SHAPES = [  # broadcasting cases: (shape a, shape b)
    ((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 1), (1, 4)), ((2, 3, 4), (3, 1)), ((), (2, 3)), ((5,), ()),
]
MATMUL_SHAPES = [((3, 4), (4, 5)), ((4,), (4, 5)), ((3, 4), (4,)), ((4,), (4,)),
                 ((2, 3, 4), (4, 5)), ((4,), (2, 4, 5)), ((2, 3, 4), (2, 4, 5)), ((1, 3, 4), (2, 4, 2))]


@pytest.mark.parametrize("name", [k for k in BINARY if k != "matmul"])
@pytest.mark.parametrize("shapes", SHAPES)
def test_binary_broadcast_vs_torch(name, shapes):
    a = RNG.normal(size=shapes[0])
    b = RNG.uniform(0.5, 2.0, size=shapes[1])  # away from 0 for the division
    (v, g), (rv, rg) = _run_both(BINARY[name], a, b)
    np.testing.assert_allclose(v, rv, rtol=1e-12, atol=1e-14)
    for got, ref, arr in zip(g, rg, (a, b)):
        assert got.shape == np.shape(arr)
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("shapes", MATMUL_SHAPES)
def test_matmul_vs_torch(shapes):
    a, b = RNG.normal(size=shapes[0]), RNG.normal(size=shapes[1])
    (v, g), (rv, rg) = _run_both(lambda x, y: x @ y, a, b)
    np.testing.assert_allclose(v, rv, rtol=1e-12)
    for got, ref, arr in zip(g, rg, (a, b)):
        assert got.shape == np.shape(arr)
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-13)


UNARY = {
    "exp": (lambda t: t.exp(), lambda q: q.exp()),
    "log": (lambda t: t.log(), lambda q: q.log()),
    "sin": (lambda t: t.sin(), lambda q: q.sin()),
    "cos": (lambda t: t.cos(), lambda q: q.cos()),
    "tanh": (lambda t: t.tanh(), lambda q: q.tanh()),
    "cosh": (lambda t: t.cosh(), lambda q: q.cosh()),
    "relu": (lambda t: t.relu(), lambda q: q.relu()),
    "sigmoid": (lambda t: t.sigmoid(), lambda q: q.sigmoid()),
    "softplus": (lambda t: t.softplus(), lambda q: torch.nn.functional.softplus(q)),
    "neg": (lambda t: -t, lambda q: -q),
    "pow3": (lambda t: t ** 3, lambda q: q ** 3),
    "pow_half": (lambda t: t ** 0.5, lambda q: q ** 0.5),
    "rsub": (lambda t: 2 - t, lambda q: 2 - q),
    "rdiv": (lambda t: 1 / t, lambda q: 1 / q),
    "rmul_radd": (lambda t: 3 * t + 1, lambda q: 3 * q + 1),
    "rpow": (lambda t: 2 ** t, lambda q: 2 ** q),
}


@pytest.mark.parametrize("name", list(UNARY))
def test_unary_vs_torch(name):
    mine, theirs = UNARY[name]
    x = RNG.uniform(0.1, 3.0, size=(4, 3)) * RNG.choice([-1, 1], size=(4, 3))
    if name in ("log", "pow_half"):
        x = np.abs(x)
    t = Tensor(x)
    mine(t).sum().backward()
    q = torch.tensor(x, requires_grad=True)
    ref = theirs(q)
    ref.sum().backward()
    np.testing.assert_allclose(mine(Tensor(x)).data, ref.detach().numpy(), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(t.grad, q.grad.numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 2), (2, 0, 1)])
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("op", ["sum", "mean"])
def test_reductions_vs_torch(axis, keepdims, op):
    x = RNG.normal(size=(2, 3, 4))
    w = RNG.normal(size=np.sum(x, axis=axis, keepdims=keepdims).shape)  # non-uniform upstream grad
    t = Tensor(x)
    (getattr(t, op)(axis=axis, keepdims=keepdims) * w).sum().backward()
    q = torch.tensor(x, requires_grad=True)
    dim = tuple(range(3)) if axis is None else axis
    (getattr(q, op)(dim=dim, keepdim=keepdims) * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(t.grad, q.grad.numpy(), rtol=1e-13)
    ours = getattr(Tensor(x), op)(axis=axis, keepdims=keepdims)
    assert ours.shape == getattr(x, op)(axis=axis, keepdims=keepdims).shape


def test_shape_ops_and_indexing_vs_torch():
    x = RNG.normal(size=(3, 4))
    idx = np.array([0, 2, 2, 1])
    w = RNG.normal(size=(4, 2, 2))
    t = Tensor(x)
    y = (t.T.reshape(2, 6).transpose(1, 0).reshape(3, 4)[idx] * 1.0)[:, :4]
    (y.reshape(4, 2, 2) * w).sum().backward()
    q = torch.tensor(x, requires_grad=True)
    r = q.T.reshape(2, 6).permute(1, 0).reshape(3, 4)[torch.tensor(idx)][:, :4]
    (r.reshape(4, 2, 2) * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(y.data, r.detach().numpy())
    np.testing.assert_allclose(t.grad, q.grad.numpy(), rtol=1e-13)  # repeated row 2 accumulates


def seed_f(x, y, z):
    """The seed's f(x, y, z) = sin((cosh(y^2 + x/z) + tanh(xyz)) / log(1 + e^x)); works on both libraries."""
    return ((y * y + x / z).cosh() + (x * y * z).tanh()) / (x.exp() + 1.0).log()


def seed_f_full(x, y, z):
    return seed_f(x, y, z).sin()


def test_seed_function_gradient_vs_torch_and_fd():
    pts = RNG.uniform(0.3, 1.5, size=(3, 50))  # rows x, y, z; z away from 0
    (v, g), (rv, rg) = _run_both(seed_f_full, *pts)
    np.testing.assert_allclose(v, rv, rtol=1e-12)
    for got, ref in zip(g, rg):
        np.testing.assert_allclose(got, ref, rtol=1e-11, atol=1e-13)
    # central differences, step h: error O(h^2) ~ 1e-10 relative at h = 1e-5
    h = 1e-5
    f = lambda *a: np.sin((np.cosh(a[1] ** 2 + a[0] / a[2]) + np.tanh(a[0] * a[1] * a[2])) / np.log1p(np.exp(a[0])))
    for k in range(3):
        up, dn = [p.copy() for p in pts], [p.copy() for p in pts]
        up[k] += h
        dn[k] -= h
        np.testing.assert_allclose(g[k], (f(*up) - f(*dn)) / (2 * h), rtol=1e-6, atol=1e-8)


def test_finite_differences_mlp_like_graph():
    """Gradient of a small two-layer network loss vs central differences, entry by entry."""
    x, w1, w2 = RNG.normal(size=(5, 3)), RNG.normal(size=(3, 4)), RNG.normal(size=(4,))
    loss = lambda a, b, c: ((a @ b).tanh() @ c).softplus().mean()
    params = [Tensor(w1), Tensor(w2)]
    loss(Tensor(x), *params).backward()
    h = 1e-6
    for p, arr in zip(params, (w1, w2)):
        fd = np.zeros_like(arr)
        for i in np.ndindex(arr.shape):
            up, dn = arr.copy(), arr.copy()
            up[i] += h
            dn[i] -= h
            args = [Tensor(up) if a is arr else Tensor(a) for a in (w1, w2)]
            args_dn = [Tensor(dn) if a is arr else Tensor(a) for a in (w1, w2)]
            fd[i] = (loss(Tensor(x), *args).item() - loss(Tensor(x), *args_dn).item()) / (2 * h)
        np.testing.assert_allclose(p.grad, fd, rtol=1e-6, atol=1e-9)


def test_softplus_extremes_match_torch():
    x = np.array([-1e3, -50.0, -1.0, 0.0, 1.0, 50.0, 1e3])
    t = Tensor(x)
    with np.errstate(over="raise", invalid="raise"):
        y = t.softplus()
        y.sum().backward()
    q = torch.tensor(x, requires_grad=True)
    r = torch.nn.functional.softplus(q)
    r.sum().backward()
    assert np.all(np.isfinite(y.data)) and np.all(np.isfinite(t.grad))
    np.testing.assert_allclose(y.data, r.detach().numpy(), rtol=1e-15, atol=0)
    np.testing.assert_allclose(t.grad, q.grad.numpy(), rtol=1e-15, atol=0)
    assert y.data[-1] == 1e3 and y.data[0] == 0.0 and t.grad[-1] == 1.0
    s = Tensor(x).sigmoid()
    np.testing.assert_allclose(s.data, torch.sigmoid(torch.tensor(x)).numpy(), rtol=1e-15)


def test_grad_accumulates_on_leaves_and_reused_nodes():
    x = Tensor(2.0)
    y = x * x + x  # x used three times
    y.backward()
    assert x.grad == pytest.approx(5.0)
    y.backward()  # leaves accumulate like torch; intermediate nodes are recomputed from zero
    assert x.grad == pytest.approx(10.0)


def test_numpy_on_the_left_and_errors():
    t = Tensor([1.0, 2.0])
    out = np.array([3.0, 4.0]) * t
    assert isinstance(out, Tensor)
    out.sum().backward()
    np.testing.assert_allclose(t.grad, [3.0, 4.0])
    m = Tensor(np.eye(2))
    (np.array([[1.0, 2.0], [3.0, 4.0]]) @ m).sum().backward()  # ndarray @ Tensor -> __rmatmul__
    np.testing.assert_allclose(m.grad, [[4.0, 4.0], [6.0, 6.0]])
    np.testing.assert_allclose((t ** np.int64(2)).data, [1.0, 4.0])
    assert Tensor(t).data is not t.data  # a new leaf owns a copy
    with pytest.raises(ValueError, match="scalar"):
        (t * 2).backward()
    with pytest.raises(TypeError, match="Python number"):
        t ** t
    with pytest.raises(ValueError, match="positive"):
        (-2) ** t


# -- property-based: random broadcastable shapes through a chain of ops --
@settings(max_examples=40, deadline=None)
@given(shapes=mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, max_side=3),
       seed=st.integers(0, 2 ** 16))
def test_random_broadcast_chain_vs_torch(shapes, seed):
    rng = np.random.default_rng(seed)
    a, b, c = (rng.normal(size=s) for s in shapes.input_shapes)
    c = np.abs(c) + 0.5
    fn = lambda x, y, z: ((x * y - z).sigmoid() / z + (x + 1.0).cos() * y ** 2).sum()
    (v, g), (rv, rg) = _run_both(fn, a, b, c)
    np.testing.assert_allclose(v, rv, rtol=1e-12)
    for got, ref, arr in zip(g, rg, (a, b, c)):
        assert got.shape == np.shape(arr)
        np.testing.assert_allclose(got, ref, rtol=1e-11, atol=1e-13)
