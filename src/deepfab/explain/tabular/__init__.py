"""deepfab.explain.tabular: explaining a model of a sensor table, and measuring how far to trust it.

    from deepfab.explain.tabular import shapley_values, permutation_importance, partial_dependence
    from deepfab.explain.tabular import lime_tabular, deletion_curve, label_randomization, secom_pipeline
    phi, base = shapley_values(predict, X_test, background, features=[3, 17, 42])  # exact, 2^K coalitions
    imp = permutation_importance(score, X_test, y_test, n_repeats=10, seed=0)      # imp.mean (F,)
    pd = partial_dependence(predict, X_test, j, feature_grid(X_train[:, j]))       # pd.ice (N, G)
    res = lime_tabular(predict, x, X_train, n_samples=5000, seed=0)                # res.coef (F,)

Modules: ``shapley`` (exact Shapley values by enumerating coalitions), ``permutation``
(permutation importance), ``pdp`` (partial dependence and ICE), ``lime`` (LIME's weighted ridge
surrogate), ``trust`` (model and label randomization, deletion and insertion curves, stability,
duplicated sensors), ``secom_model`` (a leakage-free SECOM pipeline, its cross-validation and
TreeSHAP), ``plots`` (figures). Each is checked against shap, scikit-learn or lime in
``tests/explain/test_tabular_*.py``.

Introduced in lecture 15 (data interpretation, XAI), which also extends the wafer-map methods of
lecture 3 with ``deepfab.explain.occlusion``.

References: see each module.
"""
from .lime import LimeResult, lime_tabular, local_surrogate, training_stats
from .pdp import PartialDependence, feature_grid, partial_dependence
from .permutation import Importance, permutation_importance, row_permutations, sklearn_permutations
from .secom_model import (
    CVResult,
    auc_scorer,
    cross_validate,
    fail_probability,
    kept_columns,
    leaky_cross_validate,
    log_odds,
    mean_abs_shap,
    permutation_means,
    secom_pipeline,
    tree_shap,
)
from .shapley import brute_force_shapley, shapley_values
from .trust import (
    SanityResult,
    bootstrap_importances,
    curve_area,
    deletion_curve,
    insertion_curve,
    label_randomization,
    model_randomization,
    randomize_coefficients,
    rank_agreement,
    stability,
    top_k_overlap,
    wafer_curves,
    with_duplicate,
)

__all__ = ["LimeResult", "lime_tabular", "local_surrogate", "training_stats", "PartialDependence", "feature_grid",
           "partial_dependence", "Importance", "permutation_importance", "row_permutations", "sklearn_permutations",
           "CVResult", "cross_validate", "kept_columns", "leaky_cross_validate", "log_odds", "secom_pipeline",
           "tree_shap", "brute_force_shapley", "shapley_values", "SanityResult", "bootstrap_importances",
           "curve_area",
           "deletion_curve", "insertion_curve", "label_randomization", "model_randomization",
           "randomize_coefficients", "rank_agreement", "stability", "top_k_overlap", "wafer_curves",
           "with_duplicate", "auc_scorer", "fail_probability",
           "mean_abs_shap", "permutation_means"]
