"""Unstructured magnitude pruning and lottery tickets, with ``torch.nn.utils.prune``.

Global magnitude pruning zeroes the share ``amount`` of all conv and linear weights with the
smallest |w|, ranked across layers at once (one threshold for the whole net), so layers with
many small weights lose more. ``torch.nn.utils.prune`` keeps ``weight_orig`` and a 0/1
``weight_mask`` and recomputes ``weight = weight_orig * mask`` before each forward, so pruned
weights stay zero while the net trains; ``make_permanent`` folds the mask into the weight.

    from deepfab.compress import global_magnitude_prune, sparsity, make_permanent, lottery_ticket
    global_magnitude_prune(net, 0.8)          # 80 % of the prunable weights zero (in place)
    sparsity(net)                             # 0.8
    make_permanent(net)                       # plain weights again (with their zeros)
    rows = lottery_ticket(net, train, [0.5, 0.75, 0.9], rewind_state, control_seed=1)

**Lottery tickets** (Frankle & Carbin 2019): train, prune the smallest weights, reset the rest to
their values at initialisation, train again; repeated, the sparse sub-network ("winning ticket")
trains to the dense accuracy, while the same mask with *new* random weights does not. For deeper
nets the reset must go to an early iterate of training rather than to initialisation
(rewinding, Frankle et al. 2020). ``lottery_ticket`` runs that loop with a ``train(net) -> score``
callback and, with ``control_seed``, the random-reinitialisation control at each sparsity.

A zero weight is still multiplied: dense kernels do not get faster, and a state_dict with zeros
(or with masks) is not smaller unless stored sparse (``compress.measure``); lecture 12 measures both.

Introduced in lecture 12 (pruning and compression).

References:
    Y. LeCun, J. Denker, S. Solla, "Optimal Brain Damage", NIPS 1989.
    S. Han, J. Pool, J. Tran, W. Dally, "Learning both Weights and Connections for Efficient Neural
    Networks", NIPS 2015.
    J. Frankle, M. Carbin, "The Lottery Ticket Hypothesis: Finding Sparse, Trainable Neural Networks", ICLR 2019.
    J. Frankle, G. K. Dziugaite, D. M. Roy, M. Carbin, "Linear Mode Connectivity and the Lottery Ticket
    Hypothesis", ICML 2020.
"""
from __future__ import annotations

import copy
from collections.abc import Callable

import torch
from torch import nn
from torch.nn.utils import prune

from ..errors import ModelError, UsageError

PRUNABLE = (nn.Conv2d, nn.Linear)


def _pruned(m: nn.Module) -> bool:
    """Whether ``m`` itself has a pruned weight (``prune.is_pruned`` also says yes for its containers)."""
    return "weight_orig" in m._parameters


@torch.no_grad()
def _refresh(net: nn.Module) -> None:
    """weight = weight_orig * mask now (torch recomputes it only before a forward pass)."""
    for m in net.modules():
        if _pruned(m):
            m.weight = m.weight_orig * m.weight_mask


def prunable(net: nn.Module) -> list[tuple[nn.Module, str]]:
    """(module, "weight") of every conv and linear layer: the weights magnitude pruning ranks."""
    params = [(m, "weight") for m in net.modules() if isinstance(m, PRUNABLE)]
    if not params:
        raise ModelError(f"{type(net).__name__} has no conv or linear layer to prune")
    return params


def sparsity(net: nn.Module) -> float:
    """Share of zero weights among the prunable weights (masked ones count as zero)."""
    params = prunable(net)
    _refresh(net)
    zeros = sum(int((getattr(m, n) == 0).sum()) for m, n in params)
    return zeros / sum(getattr(m, n).numel() for m, n in params)


def global_magnitude_prune(net: nn.Module, amount: float) -> nn.Module:
    """Prune ``net`` in place until a share ``amount`` of its prunable weights is masked (smallest |w|
    over all layers). A net pruned before keeps its masks and loses more; returns ``net``."""
    if isinstance(amount, bool) or not isinstance(amount, (int, float)) or not 0.0 <= amount < 1.0:
        raise UsageError(f"amount must be a share of weights in [0, 1); got {amount!r}")
    params = prunable(net)
    _refresh(net)                                              # rank the current weights, not last forward's
    total = sum(getattr(m, n).numel() for m, n in params)
    masked = sum(int((getattr(m, n + "_mask") == 0).sum()) if _pruned(m) else 0 for m, n in params)
    more = int(round(amount * total)) - masked
    if more < 0:
        raise UsageError(f"net already has {masked / total:.3f} of its weights pruned; amount {amount} is less")
    # an int amount prunes that many of the still-unmasked weights, ranked by |w| across every layer
    prune.global_unstructured(params, pruning_method=prune.L1Unstructured, amount=more)
    return net


def masks(net: nn.Module) -> dict[str, torch.Tensor]:
    """The 0/1 masks of a pruned net, by module name (copies)."""
    return {name: m.weight_mask.detach().clone() for name, m in net.named_modules() if _pruned(m)}


def make_permanent(net: nn.Module) -> nn.Module:
    """Fold every mask into its weight (``prune.remove``): plain parameters with zeros; returns ``net``."""
    for m in net.modules():
        if _pruned(m):
            _refresh(m)
            prune.remove(m, "weight")
    return net


@torch.no_grad()
def rewind(net: nn.Module, state: dict) -> nn.Module:
    """Set every parameter and buffer of a (pruned) net to ``state`` (a state_dict of the unpruned net),
    keeping the masks; returns ``net``."""
    for key, value in net.state_dict().items():
        if key.endswith("_mask"):
            continue
        src = key[:-len("_orig")] if key.endswith("_orig") else key
        if src not in state or state[src].shape != value.shape:
            raise ModelError(f"rewind: state has no {src!r} of shape {tuple(value.shape)}")
        value.copy_(state[src])
    _refresh(net)
    return net


def with_masks(template: nn.Module, mask_by_name: dict, seed: int) -> nn.Module:
    """A copy of ``template`` re-initialised from ``seed`` (each layer's ``reset_parameters``) with the masks."""
    net = copy.deepcopy(template)
    torch.manual_seed(seed)
    for m in net.modules():
        if hasattr(m, "reset_parameters") and not _pruned(m):
            m.reset_parameters()
    modules = dict(net.named_modules())
    for name, mask in mask_by_name.items():
        prune.custom_from_mask(modules[name], "weight", mask)
    _refresh(net)
    return net


class RewindPoint:
    """An ``on_epoch_end`` callback for ``fit`` that keeps a copy of ``net``'s state_dict after epoch ``epoch``.

        point = RewindPoint(net, epoch=1); fit(net, ..., on_epoch_end=point); point.state
    """

    def __init__(self, net: nn.Module, epoch: int = 1):
        if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 1:
            raise UsageError(f"RewindPoint: epoch must be a positive int; got {epoch!r}")
        self.net, self.epoch, self.state = net, epoch, None

    def __call__(self, record: dict) -> None:
        if record.get("epoch") == self.epoch:
            self.state = {k: v.detach().cpu().clone() for k, v in self.net.state_dict().items()}


def lottery_ticket(net: nn.Module, train: Callable[[nn.Module], object], sparsities, rewind_state: dict,
                   control_seed: int | None = None) -> list[dict]:
    """Iterative magnitude pruning with rewinding. ``net`` is trained and dense; for each target sparsity
    (increasing): prune globally to it, rewind the survivors to ``rewind_state``, ``train(net)``.

    Returns one dict per sparsity: sparsity, ``ticket`` (what ``train`` returned) and, with
    ``control_seed``, ``random`` (``train`` of the same mask on fresh random weights). ``net`` ends as
    the last ticket, pruned (masks attached) and trained."""
    levels = [float(s) for s in sparsities]
    if not levels or any(b <= a for a, b in zip(levels, levels[1:])) or not 0 < levels[0] or levels[-1] >= 1:
        raise UsageError(f"sparsities must increase within (0, 1); got {list(sparsities)}")
    template = copy.deepcopy(net)
    rows = []
    for i, s in enumerate(levels):
        global_magnitude_prune(net, s)
        rewind(net, rewind_state)
        row = {"sparsity": sparsity(net), "ticket": train(net)}
        if control_seed is not None:
            row["random"] = train(with_masks(template, masks(net), control_seed + i))
        rows.append(row)
    return rows
