"""deepfab.scratch: the from-scratch numpy layer of lecture 0.

``Tensor`` (reverse-mode autodiff), ``optim`` (SGD, Adam, AdamW, RMSprop with torch.optim's
semantics), ``nn`` (Linear, MLP, losses), ``linear`` (least squares, perceptron, logistic
regression as scikit-learn estimators), ``info`` (entropy, cross-entropy, KL divergence) and
``bench`` (autodiff cost measurements). Each piece is checked against its oracle in
``tests/test_scratch_*.py``.

References: see each module.
"""
from deepfab.scratch import optim
from deepfab.scratch.tensor import Tensor

__all__ = ["Tensor", "optim"]
