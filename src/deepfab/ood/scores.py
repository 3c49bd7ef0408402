"""Novelty scores from a classifier's outputs: maximum softmax probability, energy and ODIN.

A score maps each input to one number, higher = more unusual, so that a threshold flags maps
the classifier has not seen the like of. These three read only the logits z (N, K):

    MSP      1 - max_k softmax(z / T)_k                       Hendrycks & Gimpel (2017)
    energy   -T log sum_k exp(z_k / T)                         Liu et al. (2020)
    ODIN     1 - max_k softmax(f(x~) / T)_k,  x~ = x - eps sign(grad_x CE(f(x) / T, argmax))
                                                               Liang et al. (2018), T = 1000

ODIN's step moves x to raise its top softmax probability; an in-distribution input gains more
than an unusual one. Every score is bound to a model and called on encoded maps; with ``views=8``
it averages over the eight symmetries of the square as ``deepfab wafer`` predicts (MSP on the
mean softmax, energy and ODIN as the mean over views).

    s = MaxSoftmax(model)                    # nothing to fit
    u = s(x)                                 # (N,) float64, higher = more unusual
    e = Energy(model, views=8)(x)
    o = ODIN(model, temperature=1000, eps=0.0014)(x)

Introduced in lecture 5 (out-of-distribution detection); checked against pytorch-ood's
MaxSoftmax, EnergyBased and ODIN in ``tests/ood/test_scores.py``.

References: D. Hendrycks, K. Gimpel, "A Baseline for Detecting Misclassified and
Out-of-Distribution Examples in Neural Networks", ICLR 2017; S. Liang, Y. Li, R. Srikant,
"Enhancing the Reliability of Out-of-distribution Image Detection in Neural Networks", ICLR 2018;
W. Liu, X. Wang, J. Owens, Y. Li, "Energy-based Out-of-distribution Detection", NeurIPS 2020.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..augment.dihedral import dihedral
from ..data import encode_maps
from ..errors import UsageError
from ..models import eval_mode
from .features import Outputs, check_inputs, extract


class Score:
    """Base class: bound to ``model``; ``fit`` on in-distribution maps if the score has statistics,
    then call it on maps (``score(x)``), or on outputs already extracted (``score_outputs``).

    Subclasses set ``name``, may set ``layers`` (modules whose spatial statistics they read, as
    ``extract`` names them) and implement ``score_outputs``; fitted ones implement ``fit_outputs``,
    ``state_tensors`` and ``load_tensors`` so that a model folder can carry them (``deepfab.ood.state``).
    """

    name = "score"
    needs_fit = False

    def __init__(self, model: nn.Module, views: int = 1, batch_size: int = 256, size: int = 32):
        self.model, self.views, self.batch_size, self.size = model, int(views), int(batch_size), int(size)
        self.layers: tuple[str, ...] = ()
        self.fitted_ = not self.needs_fit

    def inputs(self, data) -> torch.Tensor:
        """Encoded maps (N, C, S, S) as they are, or wafer maps (a list of (H, W) arrays in 0/1/2)
        encoded with ``encode_maps`` at ``size``, with the fail-share channel when the model reads 3."""
        if isinstance(data, torch.Tensor) or (isinstance(data, np.ndarray) and data.ndim == 4):
            return check_inputs(data)
        density = getattr(self.model, "in_channels", 2) == 3
        return torch.from_numpy(encode_maps(list(data), self.size, density=density))

    def options(self) -> dict:
        """The constructor options that rebuild this score (besides the model), as plain values."""
        return {"views": self.views, "size": self.size}

    def outputs(self, data) -> Outputs:
        return extract(self.model, self.inputs(data), self.layers, self.views, self.batch_size)

    def fit(self, data, y=None) -> Score:
        """Fit the score's statistics on in-distribution maps (encoded or not) with labels ``y`` (N,)."""
        return self.fit_outputs(self.outputs(data), None if y is None else torch.as_tensor(y))

    def fit_outputs(self, out: Outputs, y) -> Score:
        self.fitted_ = True
        return self

    def score_outputs(self, out: Outputs) -> np.ndarray:
        raise NotImplementedError

    def __call__(self, data) -> np.ndarray:
        """(N,) float64 novelty scores of maps (encoded or not); higher = more unusual."""
        if not self.fitted_:
            raise UsageError(f"{type(self).__name__} is not fitted yet; call fit(x_train, y_train) first")
        return self.score_outputs(self.outputs(data))

    def state_tensors(self) -> dict[str, torch.Tensor]:
        return {}

    def load_tensors(self, tensors: dict) -> Score:
        self.fitted_ = True
        return self

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self.options().items())
        return f"{type(self).__name__}({opts})"


def _check_temperature(t) -> float:
    if isinstance(t, bool) or not isinstance(t, (int, float)) or not t > 0:
        raise UsageError(f"temperature must be a positive number; got {t!r}")
    return float(t)


class _TemperedLogits(Score):
    """A score computed from the logits at a temperature T (``score_logits``)."""

    def __init__(self, model, temperature: float = 1.0, views: int = 1, batch_size: int = 256, size: int = 32):
        super().__init__(model, views, batch_size, size)
        self.temperature = _check_temperature(temperature)

    def options(self) -> dict:
        return {"temperature": self.temperature, **super().options()}

    def score_outputs(self, out: Outputs) -> np.ndarray:
        return self.score_logits(out.logits)


class MaxSoftmax(_TemperedLogits):
    """1 - the largest softmax probability at temperature T (of the mean softmax over the views)."""

    name = "MSP"

    def score_logits(self, logits: torch.Tensor) -> np.ndarray:
        """logits (V, N, K) or (N, K) -> (N,)."""
        z = logits if logits.ndim == 3 else logits[None]
        p = (z.double() / self.temperature).softmax(-1).mean(0)                # (N, K)
        return (1.0 - p.max(-1).values).numpy()


class Energy(_TemperedLogits):
    """The free energy -T logsumexp(z / T) of the logits, averaged over the views."""

    name = "energy"

    def score_logits(self, logits: torch.Tensor) -> np.ndarray:
        z = logits if logits.ndim == 3 else logits[None]                      # (V, N, K)
        t = self.temperature
        return (-t * torch.logsumexp(z.double() / t, dim=-1)).mean(0).numpy()


class ODIN(Score):
    """MSP at temperature T after one signed-gradient step of size ``eps`` towards the predicted class."""

    name = "ODIN"

    def __init__(self, model, temperature: float = 1000.0, eps: float = 0.0014, views: int = 1,
                 batch_size: int = 256, size: int = 32):
        super().__init__(model, views, batch_size, size)
        self.temperature = _check_temperature(temperature)
        if isinstance(eps, bool) or not isinstance(eps, (int, float)) or eps < 0:
            raise UsageError(f"eps must be a number >= 0 (the input step); got {eps!r}")
        self.eps = float(eps)

    def options(self) -> dict:
        return {"temperature": self.temperature, "eps": self.eps, **super().options()}

    def perturb(self, x: torch.Tensor) -> torch.Tensor:
        """x~ = x - eps * sign(grad_x CE(f(x) / T, argmax_k f(x)_k)): the input the score reads."""
        x = x.detach().clone().requires_grad_(True)
        with torch.enable_grad():
            z = self.model(x) / self.temperature                              # (B, K)
            loss = F.cross_entropy(z, z.argmax(1))
            (grad,) = torch.autograd.grad(loss, x)                            # only the input's gradient
        return (x - self.eps * grad.sign()).detach()

    def __call__(self, data) -> np.ndarray:
        x = self.inputs(data)
        first = next(self.model.parameters(), None)
        device = first.device if first is not None else torch.device("cpu")
        step = max(1, self.batch_size // self.views)
        out = []
        with eval_mode(self.model):
            for i in range(0, len(x), step):
                xb = x[i:i + step].to(device)
                xv = torch.cat([dihedral(xb, k) for k in range(self.views)])  # (V * B, C, S, S)
                with torch.no_grad():
                    z = self.model(self.perturb(xv)).double().cpu().view(self.views, len(xb), -1)
                p = (z / self.temperature).softmax(-1)                        # (V, B, K)
                out.append((1.0 - p.max(-1).values).mean(0))
        return torch.cat(out).numpy()

