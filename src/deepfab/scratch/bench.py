"""What automatic differentiation costs, measured (lecture 0 and benchmarks/bench_autodiff.py).

* ``grad_eval_cost_ratio``: time of value + gradient of the seed's
  f(x, y, z) = sin((cosh(y² + x/z) + tanh(xyz)) / log(1 + eˣ)) over the time of evaluating f alone,
  vectorised over n points, for the scratch Tensor and for torch.autograd. Reverse mode promises
  a small constant ratio independent of the number of inputs (the seed: "roughly 5×").
* ``mlp_step_times``: one training step (forward, cross-entropy, backward, Adam) of the same MLP in
  scratch and in torch, float64 both.
* ``micrograd_step_times``: the same step for a small MLP in micrograd (a scalar-valued engine:
  one graph node per number) and in the scratch Tensor (one node per array).

All run single-threaded (numpy's BLAS and torch) so the ratios compare the engines, not the
thread counts, and report the best of ``repeats`` timings (the least disturbed by other load).

References: Griewank & Walther, "Evaluating Derivatives", 2008, §3.3 (the cheap gradient
principle); A. Karpathy, micrograd; PyTorch autograd.
"""
from __future__ import annotations

import random
import time

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from deepfab.scratch import optim
from deepfab.scratch.nn import MLP, mse_loss, softmax_cross_entropy
from deepfab.scratch.tensor import Tensor


def best_time(fn, repeats: int = 5, number: int = 1) -> float:
    """Seconds per call of ``fn()``: the minimum over ``repeats`` runs of ``number`` calls."""
    fn()  # warm-up: allocations, lazy imports
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - start) / number)
    return best


def seed_f(x, y, z, log1p_exp):
    """The seed's f on numpy arrays, scratch Tensors or torch tensors (``log1p_exp`` = log(1 + eˣ))."""
    return ((y * y + x / z).cosh() + (x * y * z).tanh()) / log1p_exp(x)


def grad_eval_cost_ratio(n: int = 1_000_000, repeats: int = 5, seed: int = 0) -> dict:
    """Cost of f + ∇f over the cost of f at n points, for the scratch Tensor and for torch."""
    rng = np.random.default_rng(seed)
    x, y, z = rng.uniform(0.5, 1.5, size=(3, n))

    def numpy_eval():
        return np.sin((np.cosh(y * y + x / z) + np.tanh(x * y * z)) / np.log1p(np.exp(x)))

    def scratch_grad():
        ts = [Tensor(v) for v in (x, y, z)]
        seed_f(*ts, lambda t: (t.exp() + 1.0).log()).sin().sum().backward()
        return [t.grad for t in ts]

    tx, ty, tz = (torch.from_numpy(v) for v in (x, y, z))

    def torch_eval():
        with torch.no_grad():
            return torch.sin(seed_f(tx, ty, tz, lambda t: torch.log1p(torch.exp(t))))

    def torch_grad():
        ts = [v.clone().requires_grad_(True) for v in (tx, ty, tz)]
        torch.sin(seed_f(*ts, lambda t: torch.log1p(torch.exp(t)))).sum().backward()
        return [t.grad for t in ts]

    gap = max(float(np.max(np.abs(a - b.numpy()))) for a, b in zip(scratch_grad(), torch_grad()))
    with threadpool_limits(1), _torch_threads(1):
        t = {name: best_time(fn, repeats) for name, fn in
             [("numpy_eval_s", numpy_eval), ("scratch_grad_s", scratch_grad),
              ("torch_eval_s", torch_eval), ("torch_grad_s", torch_grad)]}
    return dict(n=n, **t, scratch_ratio=t["scratch_grad_s"] / t["numpy_eval_s"],
                torch_ratio=t["torch_grad_s"] / t["torch_eval_s"], max_grad_gap=gap)


def mlp_step_times(batch: int = 256, sizes=(64, 256, 256, 10), repeats: int = 5, seed: int = 0) -> dict:
    """Seconds per Adam training step of the same ReLU MLP in scratch and in torch (float64)."""
    rng = np.random.default_rng(seed)
    X, labels = rng.normal(size=(batch, sizes[0])), rng.integers(0, sizes[-1], size=batch)
    net = MLP(list(sizes), activation="relu", rng=rng)
    opt = optim.Adam(net.parameters(), lr=1e-3)
    layers = []
    for layer in net.layers:
        lin = torch.nn.Linear(*layer.weight.shape, dtype=torch.float64)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(layer.weight.data.T))
            lin.bias.copy_(torch.from_numpy(layer.bias.data))
        layers += [lin, torch.nn.ReLU()]
    tnet = torch.nn.Sequential(*layers[:-1])
    topt = torch.optim.Adam(tnet.parameters(), lr=1e-3)
    tX, ty = torch.from_numpy(X), torch.from_numpy(labels)

    def scratch_step():
        opt.zero_grad()
        loss = softmax_cross_entropy(net(X), labels)
        loss.backward()
        opt.step()
        return loss.item()

    def torch_step():
        topt.zero_grad()
        loss = torch.nn.functional.cross_entropy(tnet(tX), ty)
        loss.backward()
        topt.step()
        return loss.item()

    first = (scratch_step(), torch_step())  # same weights: the first losses agree
    with threadpool_limits(1), _torch_threads(1):
        t_s, t_t = best_time(scratch_step, repeats, 5), best_time(torch_step, repeats, 5)
    return dict(batch=batch, sizes=list(sizes), scratch_s=t_s, torch_s=t_t, ratio=t_s / t_t,
                first_loss_gap=abs(first[0] - first[1]))


def micrograd_step_times(batch: int = 16, sizes=(4, 16, 16, 1), repeats: int = 3, seed: int = 0) -> dict:
    """Seconds per SGD step (MSE loss) of one ReLU MLP in micrograd and in scratch, same weights."""
    from micrograd.nn import MLP as MicroMLP  # dev dependency, imported only here

    rng = np.random.default_rng(seed)
    X, target = rng.normal(size=(batch, sizes[0])), rng.normal(size=(batch, 1))
    random.seed(seed)  # micrograd draws its weights from Python's random module
    micro = MicroMLP(sizes[0], list(sizes[1:]))
    net = MLP(list(sizes), activation="relu", rng=rng)
    for layer, mlayer in zip(net.layers, micro.layers):  # copy: W[j, i] = neuron i's weight j
        layer.weight.data[...] = [[n.w[j].data for n in mlayer.neurons] for j in range(layer.weight.shape[0])]
        layer.bias.data[...] = [n.b.data for n in mlayer.neurons]
    rows = X.tolist()

    def micro_step(lr=1e-3):
        micro.zero_grad()
        preds = [micro(row) for row in rows]
        loss = sum((p - float(t)) ** 2 for p, t in zip(preds, target[:, 0])) * (1.0 / batch)
        loss.backward()
        for p in micro.parameters():
            p.data -= lr * p.grad
        return loss.data

    opt = optim.SGD(net.parameters(), lr=1e-3)

    def scratch_step():
        opt.zero_grad()
        loss = mse_loss(net(X), target)
        loss.backward()
        opt.step()
        return loss.item()

    first = (micro_step(), scratch_step())  # same weights: the first losses agree
    with threadpool_limits(1):
        t_m, t_s = best_time(micro_step, repeats), best_time(scratch_step, repeats, 20)
    return dict(batch=batch, sizes=list(sizes), micrograd_s=t_m, scratch_s=t_s, ratio=t_m / t_s,
                first_loss_gap=abs(first[0] - first[1]))


class _torch_threads:
    """Context manager: run torch with ``n`` intra-op threads, restore the previous count after."""

    def __init__(self, n: int):
        self.n, self.old = n, None

    def __enter__(self):
        self.old = torch.get_num_threads()
        torch.set_num_threads(self.n)

    def __exit__(self, *exc):
        torch.set_num_threads(self.old)
