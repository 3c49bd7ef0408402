"""Step-for-step oracle tests of deepfab.scratch.optim against torch.optim (every option combination).

Run: .venv/bin/python -m pytest tests/scratch/test_optim.py -q
"""
import itertools

import numpy as np
import pytest
import torch

from deepfab.scratch import Tensor, optim

torch.set_num_threads(1)
STEPS = 25


def _problem(seed=0):
    """A small non-convex regression: loss = mean((tanh(X W) v - y)^2) + 0.1 * sum(W^2 * c)."""
    rng = np.random.default_rng(seed)
    return rng.normal(size=(16, 3)), rng.normal(size=16), rng.normal(size=(3, 4)), rng.normal(size=4)


def _loss(x, y, w, v):
    r = (x @ w).tanh() @ v - y
    return (r * r).mean() + (w * w).sum() * 0.1


def _run(mine_cls, torch_cls, kwargs, steps=STEPS):
    x, y, w0, v0 = _problem()
    params = [Tensor(w0), Tensor(v0)]
    opt = mine_cls(params, **kwargs)
    tparams = [torch.tensor(w0, requires_grad=True), torch.tensor(v0, requires_grad=True)]
    topt = torch_cls(tparams, **kwargs)
    tx, ty = torch.tensor(x), torch.tensor(y)
    for step in range(steps):
        opt.zero_grad()
        _loss(Tensor(x), Tensor(y), *params).backward()
        opt.step()
        topt.zero_grad()
        _loss(tx, ty, *tparams).backward()
        topt.step()
        for p, q in zip(params, tparams):   # float64; torch's fused kernels round differently per CPU, and
            # 25 steps of g / sqrt(v) amplify that to ~1e-10: well inside 1e-9
            np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=1e-9, atol=1e-11,
                                       err_msg=f"step {step} {kwargs}")
    # the parameters really moved (a test that cannot fail would not)
    assert not np.allclose(params[0].data, w0)
    return opt


SGD_GRID = [dict(lr=0.05, momentum=m, dampening=d, weight_decay=wd, nesterov=n)
            for m, d, wd, n in itertools.product([0.0, 0.9], [0.0, 0.3], [0.0, 0.01], [False, True])
            if not (n and (m == 0 or d != 0))]


@pytest.mark.parametrize("kwargs", SGD_GRID, ids=str)
def test_sgd_matches_torch(kwargs):
    opt = _run(optim.SGD, torch.optim.SGD, kwargs)
    if kwargs["momentum"]:
        assert set(opt.state[opt.params[0]]) == {"momentum_buffer"}


ADAM_GRID = [dict(lr=0.02, betas=b, eps=e, weight_decay=wd, amsgrad=a)
             for b, e, wd, a in itertools.product([(0.9, 0.999), (0.5, 0.9)], [1e-8, 1e-3], [0.0, 0.05], [False, True])]


@pytest.mark.parametrize("kwargs", ADAM_GRID, ids=str)
def test_adam_matches_torch(kwargs):
    opt = _run(optim.Adam, torch.optim.Adam, kwargs)
    assert opt.state[opt.params[1]]["step"] == STEPS


@pytest.mark.parametrize("kwargs", ADAM_GRID, ids=str)
def test_adamw_matches_torch(kwargs):
    _run(optim.AdamW, torch.optim.AdamW, kwargs)


RMS_GRID = [dict(lr=0.01, alpha=a, eps=1e-8, weight_decay=wd, momentum=m, centered=c)
            for a, wd, m, c in itertools.product([0.99, 0.8], [0.0, 0.05], [0.0, 0.9], [False, True])]


@pytest.mark.parametrize("kwargs", RMS_GRID, ids=str)
def test_rmsprop_matches_torch(kwargs):
    _run(optim.RMSprop, torch.optim.RMSprop, kwargs)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop"])
def test_defaults_match_torch(name):
    import inspect
    mine = inspect.signature(getattr(optim, name)).parameters
    theirs = inspect.signature(getattr(torch.optim, name)).parameters
    for key, par in mine.items():
        if key != "params" and par.default is not inspect.Parameter.empty:
            assert theirs[key].default == par.default, key
    kwargs = {"lr": 0.01} if name == "SGD" else {}
    _run(getattr(optim, name), getattr(torch.optim, name), kwargs, steps=5)


@pytest.mark.parametrize("cls, kwargs, match", [
    (optim.SGD, dict(lr=-0.1), "learning rate"),
    (optim.SGD, dict(lr=0.1, momentum=-0.5), "momentum"),
    (optim.SGD, dict(lr=0.1, weight_decay=-1.0), "weight_decay"),
    (optim.SGD, dict(lr=0.1, nesterov=True), "Nesterov"),
    (optim.SGD, dict(lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "Nesterov"),
    (optim.Adam, dict(lr=-1e-3), "learning rate"),
    (optim.Adam, dict(betas=(1.0, 0.999)), "beta parameter at index 0"),
    (optim.Adam, dict(betas=(0.9, -0.1)), "beta parameter at index 1"),
    (optim.Adam, dict(eps=-1e-8), "epsilon"),
    (optim.AdamW, dict(weight_decay=-0.01), "weight_decay"),
    (optim.RMSprop, dict(alpha=-0.5), "alpha"),
    (optim.RMSprop, dict(momentum=-0.5), "momentum"),
    (optim.RMSprop, dict(eps=-1.0), "epsilon"),
])
def test_invalid_hyperparameters_raise(cls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cls([Tensor(np.zeros(2))], **kwargs)
    # torch rejects the same settings
    with pytest.raises(ValueError):
        getattr(torch.optim, cls.__name__)([torch.zeros(2, requires_grad=True)], **kwargs)


def test_empty_params_and_none_grads():
    with pytest.raises(ValueError, match="empty"):
        optim.SGD([], lr=0.1)
    a, b = Tensor([1.0, 2.0]), Tensor([3.0])
    opt = optim.SGD([a, b], lr=0.5, weight_decay=0.1)
    (a * a).sum().backward()  # b takes no part: its grad stays None and it must not move
    opt.step()
    np.testing.assert_allclose(a.data, [1.0 - 0.5 * 2.1, 2.0 - 0.5 * 4.2])
    np.testing.assert_allclose(b.data, [3.0])
    opt.zero_grad()
    assert a.grad is None
