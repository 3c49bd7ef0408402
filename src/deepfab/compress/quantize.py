"""int8 quantization on the CPU: post-training static quantization and quantization-aware training.

A float tensor x is stored as 8-bit integers q with a scale S and a zero point Z (uniform affine
quantization, Jacob et al. 2018):

    q = clamp(round(x / S) + Z, q_min, q_max),   x_hat = S (q - Z),   |x - x_hat| <= S / 2 inside the range

Weights get one (S, Z) per output channel (symmetric, int8), activations one per tensor (uint8),
chosen from the ranges an observer records. The convolutions then run in integer arithmetic
(fbgemm / onednn kernels, engine "x86"), with batch norm folded into the conv and ReLU fused.

    from deepfab.compress import quantize_int8, prepare_qat, convert_qat, quantized_skeleton
    q = quantize_int8(net, X_calib)                 # PTQ: observe activations on X_calib, then convert
    qat = prepare_qat(net, X[:1]); fit(qat, ...)    # QAT: train with fake quantization (straight-through)
    q = convert_qat(qat)
    torch.save(q.state_dict(), "model.pt")          # loads back without pickle:
    q2 = quantized_skeleton(rebuild(config), X[:1]); q2.load_state_dict(load_state("model.pt"))

QAT inserts fake quantizers, x -> S (clamp(round(x / S) + Z) - Z), into the training graph;
round() has zero gradient almost everywhere, so backpropagation treats it as the identity inside
the clamp range (the straight-through estimator, Bengio et al. 2013) and the weights learn to sit
where rounding costs little.

This uses torch's FX graph-mode API (``torch.ao.quantization.quantize_fx``), deprecated in favour
of torchao but present in torch 2.x; its deprecation warnings are silenced inside these functions.
A quantized model runs on the CPU only. The model is traced with ``torch.fx`` (the zoo's input
check steps aside while tracing); the input net is copied, never changed.

Introduced in lecture 12 (pruning and compression).

References:
    B. Jacob et al., "Quantization and Training of Neural Networks for Efficient Integer-Arithmetic-Only
    Inference", CVPR 2018.
    R. Krishnamoorthi, "Quantizing deep convolutional networks for efficient inference: A whitepaper",
    arXiv:1806.08342, 2018.
    Y. Bengio, N. Leonard, A. Courville, "Estimating or Propagating Gradients Through Stochastic Neurons
    for Conditional Computation", arXiv:1308.3432, 2013.
"""
from __future__ import annotations

import copy
import warnings
from contextlib import contextmanager

import torch

from ..errors import DataError, UsageError
from ..models import eval_mode


def affine_qparams(x_min: float, x_max: float, q_min: int = 0, q_max: int = 255) -> tuple[float, int]:
    """(S, Z) mapping [x_min, x_max] (widened to hold 0, so that 0 is exact) onto the integers [q_min, q_max]."""
    lo, hi = min(float(x_min), 0.0), max(float(x_max), 0.0)
    scale = max((hi - lo) / (q_max - q_min), 1e-12)
    zero = int(min(max(q_min - round(lo / scale), q_min), q_max))
    return scale, zero


def affine_quantize(x: torch.Tensor, scale: float, zero_point: int, q_min: int = 0, q_max: int = 255):
    """(q, x_hat): the integers q = clamp(round(x / S) + Z) and their dequantized values S (q - Z)."""
    q = torch.clamp(torch.round(x.float() / scale) + zero_point, q_min, q_max)   # round half to even
    return q.to(torch.int64), (q - zero_point) * scale


def engine() -> str:
    """The quantized engine used (``"x86"`` where torch has it, else ``"qnnpack"``), set for the process."""
    supported = torch.backends.quantized.supported_engines
    name = "x86" if "x86" in supported else "qnnpack"
    if name not in supported:
        raise UsageError(f"this torch build has no int8 CPU engine; supported: {supported}")
    if torch.backends.quantized.engine != name:
        torch.backends.quantized.engine = name
    return name


@contextmanager
def _quiet():
    """torch.ao's deprecation warnings off, and fx tracing without a stack trace per node (a trace per
    node costs about 3 s of CPU per ResNet; without them tracing takes about 0.5 s)."""
    import torch.fx.config as fx_config

    traces = fx_config.do_not_emit_stack_traces
    fx_config.do_not_emit_stack_traces = True
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", FutureWarning)
            yield
    finally:
        fx_config.do_not_emit_stack_traces = traces


def _check_x(x, name: str) -> torch.Tensor:
    if not isinstance(x, torch.Tensor) or x.ndim < 2 or len(x) == 0 or not x.is_floating_point():
        got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise DataError(f"{name} must be a non-empty float tensor (N, ...); got {got}")
    return x.detach().cpu()


def _cpu_copy(net: torch.nn.Module) -> torch.nn.Module:
    if not isinstance(net, torch.nn.Module):
        raise UsageError(f"expected a torch.nn.Module; got {type(net).__name__}")
    return copy.deepcopy(net).cpu()


@torch.no_grad()
def _observe(prepared, x: torch.Tensor, batch_size: int) -> None:
    for i in range(0, len(x), batch_size):
        prepared(x[i:i + batch_size])


def quantize_int8(net: torch.nn.Module, calibration: torch.Tensor, batch_size: int = 256) -> torch.nn.Module:
    """Post-training static int8 quantization: activation ranges observed on ``calibration`` (N, C, H, W)."""
    from torch.ao.quantization import get_default_qconfig_mapping
    from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

    x = _check_x(calibration, "calibration")
    with _quiet():
        mapping = get_default_qconfig_mapping(engine())
        prepared = prepare_fx(_cpu_copy(net).eval(), mapping, (x[:1],))     # BN folded, ReLU fused, observers
        _observe(prepared, x, batch_size)
        return convert_fx(prepared)


def quantized_skeleton(net: torch.nn.Module, example: torch.Tensor) -> torch.nn.Module:
    """The int8 module structure of ``net`` with placeholder values, for ``load_state_dict`` of a saved
    ``quantize_int8`` or ``convert_qat`` result (its keys and shapes do not depend on the calibration)."""
    return quantize_int8(net, _check_x(example, "example")[:1])


def prepare_qat(net: torch.nn.Module, example: torch.Tensor) -> torch.nn.Module:
    """A copy of ``net`` in training mode with fake quantizers (weights per channel, activations per
    tensor) and conv-BN fused for training; train it like any model, then ``convert_qat``."""
    from torch.ao.quantization import get_default_qat_qconfig_mapping
    from torch.ao.quantization.quantize_fx import prepare_qat_fx

    x = _check_x(example, "example")
    with _quiet():
        return prepare_qat_fx(_cpu_copy(net).train(), get_default_qat_qconfig_mapping(engine()), (x[:1],))


def convert_qat(qat_net: torch.nn.Module) -> torch.nn.Module:
    """The int8 model of a trained ``prepare_qat`` copy (the copy itself is left as it is)."""
    from torch.ao.quantization.quantize_fx import convert_fx

    if not isinstance(qat_net, torch.fx.GraphModule):
        raise UsageError(f"convert_qat needs the model prepare_qat returned (a GraphModule); "
                         f"got {type(qat_net).__name__}")
    with _quiet():
        return convert_fx(_cpu_copy(qat_net).eval())


def freeze_qat(qat_net: torch.nn.Module) -> torch.nn.Module:
    """Stop updating the activation ranges and the batch-norm statistics (the last QAT epochs, as
    Krishnamoorthi 2018 recommends); returns ``qat_net``."""
    from torch.ao.nn.intrinsic import qat as nniqat
    from torch.ao.quantization import disable_observer

    qat_net.apply(disable_observer)
    qat_net.apply(nniqat.freeze_bn_stats)
    return qat_net


def load_state(f) -> dict:
    """``torch.load(f, weights_only=True)`` onto the CPU (no pickled code), quiet about the deprecated
    quantized-tensor storage; ``f`` is a path or a file object."""
    with _quiet():
        return torch.load(f, map_location="cpu", weights_only=True)


@torch.no_grad()
def logit_gap(reference: torch.nn.Module, other: torch.nn.Module, x: torch.Tensor, batch_size: int = 256) -> dict:
    """How close ``other``'s logits are to ``reference``'s on x (CPU, eval mode): the largest absolute
    difference, that over the largest reference logit magnitude, and the share of equal argmax."""
    x = _check_x(x, "x")
    outs = []
    for net in (reference, other):
        with eval_mode(net), _quiet():
            outs.append(torch.cat([net(x[i:i + batch_size]).float() for i in range(0, len(x), batch_size)]))
    a, b = outs
    gap = float((a - b).abs().max())
    return {"max_abs": gap, "relative": gap / max(float(a.abs().max()), 1e-12),
            "argmax_agree": float((a.argmax(1) == b.argmax(1)).double().mean())}
