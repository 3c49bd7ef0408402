"""deepfab.compress: make a trained network smaller and faster — pruning, quantization, distillation.

Introduced in lecture 12 (pruning and compression); ``deepfab wafer compress`` applies it to a
wafer model.

    from deepfab.compress import (prune_channels, global_magnitude_prune, lottery_ticket, quantize_int8,
                                  prepare_qat, convert_qat, DistillLoss, state_bytes, latency_ratios)
    small = prune_channels(net, keep=0.5)              # structured: a smaller dense SlimResNet (faster)
    global_magnitude_prune(net, 0.8)                   # unstructured: 80 % zeros (sparser, not faster)
    q = quantize_int8(net, X_calib)                    # int8 post-training quantization (CPU)
    fit(student, train, val, cfg, loss_fn=DistillLoss(teacher, temperature=4.0, alpha=0.9))
    state_bytes(q), latency_ratios({"float32": net, "int8": q}, x, reference="float32")

Modules: ``channels`` (structured channel pruning), ``prune`` (global magnitude pruning, lottery
tickets), ``quantize`` (int8 PTQ and QAT, the affine maths, no-pickle loading), ``distill``
(Hinton distillation as a training objective), ``measure`` (bytes, latency ratios, Pareto front),
``plots`` (the Pareto figure).

References: see each module.
"""
from .channels import prune_channels
from .distill import DistillLoss
from .measure import (
    from_sparse,
    latency_ratios,
    latency_seconds,
    pareto_front,
    sparse_state_bytes,
    state_bytes,
    to_sparse,
)
from .prune import (
    RewindPoint,
    global_magnitude_prune,
    lottery_ticket,
    make_permanent,
    masks,
    rewind,
    sparsity,
    with_masks,
)
from .quantize import (
    affine_qparams,
    affine_quantize,
    convert_qat,
    freeze_qat,
    load_state,
    logit_gap,
    prepare_qat,
    quantize_int8,
    quantized_skeleton,
)

__all__ = ["prune_channels", "DistillLoss", "quantize_int8", "prepare_qat", "convert_qat", "freeze_qat",
           "quantized_skeleton", "load_state", "logit_gap", "affine_qparams", "affine_quantize",
           "global_magnitude_prune", "lottery_ticket", "RewindPoint", "make_permanent", "masks", "rewind", "sparsity",
           "with_masks",
           "state_bytes", "sparse_state_bytes", "to_sparse", "from_sparse", "latency_seconds", "latency_ratios",
           "pareto_front"]
