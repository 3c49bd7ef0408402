"""The perceptron's update count against Novikoff's bound (R / gamma)^2 (lecture 0, section 3).

On separable data with margin gamma (measured with the true line) and radius R = max ||(x, 1)||,
the perceptron makes at most (R / gamma)^2 updates, whatever the number of points. ``update_counts``
draws separable 2-D samples with a chosen margin, runs the scratch ``Perceptron`` to convergence
and puts each update count beside its bound.

    from deepfab.foundations.perceptron import update_counts
    rows = update_counts([0.4, 0.1], repeats=5, rng=rng)
    max(r["updates"] / r["bound (R/gamma)^2"] for r in rows)     # <= 1

References:
    F. Rosenblatt, "The perceptron", Psychological Review 65 (1958);
    A. B. J. Novikoff, "On convergence proofs for perceptrons" (1962).
"""
from __future__ import annotations

import numpy as np

from ..data.toy import separable_2d
from ..scratch.linear import Perceptron, novikoff_bound


def update_counts(margins, repeats: int, rng: np.random.Generator, n: int = 200,
                  max_iter: int = 1_000_000) -> list[dict]:
    """One row per (margin, repeat): the perceptron's update count and the bound (R/gamma)^2.

    Each sample is ``n`` points at distance >= margin from a random true line (``separable_2d``).
    """
    rows = []
    for margin in margins:
        for rep in range(repeats):
            X, y, (a_true, b_true) = separable_2d(n, margin, rng)
            clf = Perceptron(max_iter=max_iter).fit(X, y)
            if not (clf.converged_ and np.all(clf.predict(X) == y)):
                raise RuntimeError(f"the perceptron did not separate the data (margin {margin}) "
                                 f"in max_iter={max_iter} epochs")
            rows.append({"margin": margin, "rep": rep, "updates": clf.n_updates_,
                         "bound (R/gamma)^2": novikoff_bound(X, y, a_true, b_true)})
    return rows
