"""Why overparameterized networks generalize: double descent, memorization, implicit regularization
(lecture 9).

    from deepfab.generalization import ridge_path, random_feature_curve, linear_teacher
    X, y = linear_teacher(200, 40, seed=0); Xt, yt = linear_teacher(2000, 40, seed=1)
    curve = random_feature_curve(X, y, Xt, yt, widths=[50, 200, 800], ridges=(0.0, 0.1), draws=10)

    from deepfab.generalization import flip_labels, width_sweep, sweep_summary
    y_noisy, _ = flip_labels(y_maps, 0.2, num_classes=9, seed=0)
    rows = width_sweep((X_maps, y_noisy), (Xt_maps, yt_maps), widths=(2, 8, 32), config=cfg)

    from deepfab.generalization import descend, limit_from
    run = descend(A, b, lr=0.1, steps=1000)            # -> pinv(A) @ b from zero

Modules: ``minnorm`` (ridge path through one SVD, min-norm solution, the exact weak-features
risk), ``random_features`` (random-ReLU-feature regression and its double-descent curve),
``interpolate`` (a training loop that records train and test error per epoch),
``double_descent`` (label flipping, the CNN width sweep, the largest bump of a curve and its
sentence), ``memorize`` (randomization tests, the Rademacher bound), ``implicit`` (GD/SGD/Adam on
overparameterized least squares and their limits), ``sharpness`` (plain SGD to a target loss, top
Hessian eigenvalue), ``plots``.

References: see each module.
"""
from .double_descent import describe_bump, flip_labels, largest_bump, smooth, sweep_summary, width_sweep
from .implicit import descend, limit_from, max_stable_lr, null_projector, solution_table
from .interpolate import train_recorded
from .memorize import (
    SETS,
    gaussian_like,
    rademacher_bound,
    random_labels,
    randomized_sets,
    shuffle_pixels,
    sign_correlation,
)
from .minnorm import min_norm_solution, ridge_path, weak_features_curve, weak_features_risk
from .random_features import (
    flat_standardized,
    linear_teacher,
    one_hot,
    peak_summary,
    random_feature_curve,
    relu_features,
)
from .sharpness import param_norm, sgd_fit, top_hessian_eigenvalue

__all__ = ["describe_bump", "largest_bump", "smooth", "flip_labels", "sweep_summary", "width_sweep",
           "descend", "limit_from", "max_stable_lr", "null_projector", "solution_table", "train_recorded",
           "SETS", "gaussian_like", "rademacher_bound", "random_labels", "randomized_sets", "shuffle_pixels",
           "sign_correlation", "min_norm_solution", "ridge_path", "weak_features_curve", "weak_features_risk",
           "flat_standardized", "linear_teacher", "one_hot", "peak_summary", "random_feature_curve",
           "relu_features", "param_norm", "sgd_fit", "top_hessian_eigenvalue"]
