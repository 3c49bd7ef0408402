"""First-order optimizers for scratch Tensors, with torch.optim's arguments and update rules.

Lecture 0 trains its MLP with these and checks them step for step against ``torch.optim``. Each
optimizer is a few small pure update rules (functions of numpy arrays, maths in the docstring)
applied per parameter; ``step()`` reads ``p.grad`` and updates ``p.data`` in place, skipping
parameters whose ``grad`` is None; ``zero_grad()`` sets the gradients to None; ``state[p]`` holds
each parameter's buffers. Notation: g gradient, θ parameter, γ learning rate, λ weight decay, t step.

References: PyTorch torch/optim/{sgd,adam,adamw,rmsprop}.py (algorithms in their docstrings);
fastai optimizer.py (optimizers from update-rule functions); Kingma & Ba, "Adam", ICLR 2015;
Loshchilov & Hutter, "Decoupled Weight Decay Regularization", ICLR 2019; Reddi et al., "On the
Convergence of Adam and Beyond" (AMSGrad), ICLR 2018; Tieleman & Hinton, RMSprop, lecture 6.5 (2012).
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np


# -- update rules: pure functions of arrays --
def l2_penalty(g, theta, wd):
    """Coupled weight decay (L2 regularization folded into the gradient): g ← g + λ θ."""
    return g + wd * theta if wd != 0 else g


def heavy_ball(buf, g, momentum, dampening):
    """Momentum buffer b ← μ b + (1 − τ) g; as in PyTorch (unlike Sutskever et al.) b₁ = g."""
    return g.copy() if buf is None else momentum * buf + (1.0 - dampening) * g


def ema(avg, x, weight):
    """Exponential moving average avg ← avg + w (x − avg) = (1 − w) avg + w x (torch's lerp)."""
    return avg + weight * (x - avg)


def adam_step(m, v, t, lr, beta1, beta2, eps):
    """Adam's step −γ m̂ / (√v̂ + ε), with m̂ = m / (1 − β₁ᵗ), √v̂ = √v / √(1 − β₂ᵗ)."""
    return -(lr / (1.0 - beta1 ** t)) * m / (np.sqrt(v) / np.sqrt(1.0 - beta2 ** t) + eps)


def _check(name, value, ok, rule):
    if not ok:
        raise ValueError(f"Invalid {name}: expected {rule}; got {value!r}")


class Optimizer:
    """Holds the parameter list, hyperparameters and per-parameter ``state``."""

    def __init__(self, params, defaults: dict):
        self.params = list(params)
        if not self.params:
            raise ValueError("optimizer got an empty parameter list")
        self.defaults = defaults
        self.state: dict = defaultdict(dict)  # keyed by the Tensor itself

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.params:
            p.grad = None if set_to_none or p.grad is None else np.zeros_like(p.data)

    def step(self) -> None:
        for p in self.params:
            if p.grad is not None:
                delta = self._update(p, p.grad, self.state[p])  # may decay p.data in place first (AdamW)
                p.data += delta

    def _update(self, p, g, state):  # returns Δθ for one parameter
        raise NotImplementedError


class SGD(Optimizer):
    """g ← g + λθ; b ← μb + (1−τ)g (b₁ = g); g ← g + μb if nesterov else b; θ ← θ − γg."""

    def __init__(self, params, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
        _check("learning rate", lr, lr >= 0, "lr >= 0")
        _check("momentum value", momentum, momentum >= 0, "momentum >= 0")
        _check("weight_decay value", weight_decay, weight_decay >= 0, "weight_decay >= 0")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(f"Nesterov momentum requires momentum > 0 and dampening = 0; "
                             f"got momentum={momentum!r}, dampening={dampening!r}")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov))

    def _update(self, p, g, state):
        d = self.defaults
        g = l2_penalty(g, p.data, d["weight_decay"])
        if d["momentum"] != 0:
            state["momentum_buffer"] = buf = heavy_ball(state.get("momentum_buffer"), g, d["momentum"], d["dampening"])
            g = g + d["momentum"] * buf if d["nesterov"] else buf
        return -d["lr"] * g


class Adam(Optimizer):
    """g ← g + λθ; m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²; v_max ← max(v_max, v) if amsgrad;
    θ ← θ − γ m̂ / (√v̂ + ε) with the bias corrections of ``adam_step``."""

    decoupled = False  # AdamW: decay θ ← θ(1 − γλ) instead of adding λθ to g

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False):
        _check("learning rate", lr, lr >= 0, "lr >= 0")
        _check("epsilon value", eps, eps >= 0, "eps >= 0")
        _check("beta parameter at index 0", betas[0], 0 <= betas[0] < 1, "0 <= beta1 < 1")
        _check("beta parameter at index 1", betas[1], 0 <= betas[1] < 1, "0 <= beta2 < 1")
        _check("weight_decay value", weight_decay, weight_decay >= 0, "weight_decay >= 0")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad))

    def _update(self, p, g, state):
        d = self.defaults
        (b1, b2), lr, wd = d["betas"], d["lr"], d["weight_decay"]
        if not state:
            state.update(step=0, exp_avg=np.zeros_like(p.data), exp_avg_sq=np.zeros_like(p.data))
            if d["amsgrad"]:
                state["max_exp_avg_sq"] = np.zeros_like(p.data)
        state["step"] += 1
        if self.decoupled and wd != 0:
            p.data *= 1.0 - lr * wd
        elif not self.decoupled:
            g = l2_penalty(g, p.data, wd)
        state["exp_avg"] = ema(state["exp_avg"], g, 1.0 - b1)
        state["exp_avg_sq"] = b2 * state["exp_avg_sq"] + (1.0 - b2) * g * g
        v = state["exp_avg_sq"]
        if d["amsgrad"]:
            state["max_exp_avg_sq"] = v = np.maximum(state["max_exp_avg_sq"], v)
        return adam_step(state["exp_avg"], v, state["step"], lr, b1, b2, d["eps"])


class AdamW(Adam):
    """Adam with decoupled weight decay: θ ← θ(1 − γλ) before the Adam step (default λ = 0.01)."""

    decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)


class RMSprop(Optimizer):
    """g ← g + λθ; v ← αv + (1−α)g²; if centered: ḡ ← αḡ + (1−α)g, v̄ = v − ḡ² else v̄ = v;
    b ← μb + g / (√v̄ + ε) (b₀ = 0), θ ← θ − γb if μ > 0, else θ ← θ − γ g / (√v̄ + ε)."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
        _check("learning rate", lr, lr >= 0, "lr >= 0")
        _check("epsilon value", eps, eps >= 0, "eps >= 0")
        _check("momentum value", momentum, momentum >= 0, "momentum >= 0")
        _check("weight_decay value", weight_decay, weight_decay >= 0, "weight_decay >= 0")
        _check("alpha value", alpha, alpha >= 0, "alpha >= 0")
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered))

    def _update(self, p, g, state):
        d = self.defaults
        if not state:
            state.update(step=0, square_avg=np.zeros_like(p.data))
            if d["momentum"] > 0:
                state["momentum_buffer"] = np.zeros_like(p.data)
            if d["centered"]:
                state["grad_avg"] = np.zeros_like(p.data)
        state["step"] += 1
        g = l2_penalty(g, p.data, d["weight_decay"])
        state["square_avg"] = d["alpha"] * state["square_avg"] + (1.0 - d["alpha"]) * g * g
        v = state["square_avg"]
        if d["centered"]:
            state["grad_avg"] = ema(state["grad_avg"], g, 1.0 - d["alpha"])
            v = v - state["grad_avg"] ** 2
        direction = g / (np.sqrt(v) + d["eps"])
        if d["momentum"] > 0:
            state["momentum_buffer"] = direction = d["momentum"] * state["momentum_buffer"] + direction
        return -d["lr"] * direction
