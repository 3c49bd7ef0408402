"""deepfab.scratch.linear: the linear models of lecture 0 as scikit-learn estimators.

``LeastSquares`` (normal equations / pseudo-inverse), ``Perceptron`` (the seed's algorithm) with
``novikoff_bound``, and ``LogisticRegression`` (Newton's method on scikit-learn's objective). All
pass ``sklearn.utils.estimator_checks.check_estimator``; see tests/scratch/test_linear.py.

References: see each module.
"""
from deepfab.scratch.linear.least_squares import LeastSquares
from deepfab.scratch.linear.logistic import LogisticRegression
from deepfab.scratch.linear.perceptron import Perceptron, novikoff_bound

__all__ = ["LeastSquares", "LogisticRegression", "Perceptron", "novikoff_bound"]
