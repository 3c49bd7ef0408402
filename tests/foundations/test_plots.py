"""deepfab.foundations.plots: every figure of lecture 0 builds from small results and draws what it was given."""
import matplotlib.pyplot as plt
import numpy as np

from deepfab.foundations import plots, risk
from deepfab.foundations.gpu import power_sweep
from deepfab.foundations.mlp_check import train_side_by_side
from deepfab.foundations.optim_paths import FUNCTIONS, torch_path
from deepfab.foundations.sgd import logistic_runs
from deepfab.scratch.linear import Perceptron


def _lines(fig) -> int:
    return sum(len(ax.lines) for ax in fig.axes)


def test_every_figure_draws_its_data():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, 20)
    fits = {"avg": risk.erm_fit(x, risk.target(x))}
    curve = risk.erm_curve([5, 20], rng, repeats=2, n_fresh=100)
    X = rng.standard_normal((40, 2))
    y = np.where(X[:, 0] > 0, 1, -1)
    clf = Perceptron().fit(X, y)
    side = train_side_by_side(X, y, hidden=(4,), steps=3)
    runs = logistic_runs(X, y, 0.1, {"a": 0.1, "b": 0.01}, steps=20, seed=0, record_every=5)
    paths = {name: [torch_path(FUNCTIONS[name], (-1.0, 1.0), "sgd", 5, lr=1e-3)] for name in FUNCTIONS}
    figs = {"erm": plots.erm_figure(fits, x, risk.target(x), curve),
            "perceptron": plots.perceptron_figure(X, y, clf, 10.0, np.array([1.0, 0.0]), 0.0),
            "kl": plots.kl_bernoulli_figure(0.3, np.linspace(0.1, 0.9, 5), np.ones(5), np.ones(5)),
            "rings": plots.mlp_rings_figure(X, y, clf.predict, side, 0.5, 0.9),
            "sgd": plots.sgd_figure(runs, 0.0),
            "optim": plots.optimizer_figure(FUNCTIONS, paths),
            "gpu": plots.gpu_figure(power_sweep([8], rng, steps=2, repeats=1))}
    assert len(figs["erm"].axes[1].lines) == 2 and figs["erm"].axes[1].get_xscale() == "log"
    assert len(figs["sgd"].axes[0].lines) == 2 and figs["sgd"].axes[0].get_yscale() == "log"
    assert len(figs["optim"].axes) == 2 * len(FUNCTIONS)
    assert len(figs["gpu"].axes[0].patches) == 3                     # copy in, compute, copy out
    assert all(_lines(f) > 0 for k, f in figs.items() if k != "gpu")
    for f in figs.values():
        plt.close(f)
