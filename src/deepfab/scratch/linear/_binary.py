"""Shared plumbing of the two binary linear classifiers (lecture 0): labels and predictions.

Any two labels (e.g. {-1, +1}, {0, 1} or strings) are accepted; ``classes_`` holds them sorted and
internally ``classes_[1]`` is +1 and ``classes_[0]`` is -1, the seed's convention. The decision rule
is the seed's: predict ``classes_[1]`` where aᵀx + b > 0, else ``classes_[0]``.

References: scikit-learn developer guide, "Developing scikit-learn estimators" (tags, validation).
"""
from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data


class BinaryLinearClassifier(ClassifierMixin, BaseEstimator):
    """Base class: subclasses set ``coef_`` (n_features,) and ``intercept_`` (float) in ``fit``."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False  # the seed's setting: Y = {-1, +1}
        return tags

    def _validate_binary(self, X, y) -> tuple[np.ndarray, np.ndarray]:
        """Validate X, y; set ``classes_``; return X (n, p) float64 and y as ±1 floats (n,)."""
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise ValueError(f"{type(self).__name__} needs samples of two classes; got 1 class: {self.classes_!r}")
        y_type = type_of_target(y, input_name="y")
        if y_type != "binary":
            raise ValueError(f"Only binary classification is supported. The type of the target is {y_type} "
                             f"with {len(self.classes_)} classes; fit one model per class (one-vs-rest) instead.")
        return X, np.where(y == self.classes_[1], 1.0, -1.0)

    def decision_function(self, X) -> np.ndarray:
        """Signed score aᵀx + b, shape (n_samples,); positive means ``classes_[1]``."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return X @ self.coef_ + self.intercept_

    def predict(self, X) -> np.ndarray:
        positive = self.decision_function(X) > 0  # checks fitted before classes_ is read
        return self.classes_[positive.astype(np.intp)]
