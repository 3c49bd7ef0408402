"""deepfab.foundations: the supervised-learning foundations that lecture 0 demonstrates.

Each module is one idea, measured against an oracle (numpy, scipy, scikit-learn or torch):

    risk         empirical vs expected risk, minimax vs average fits (the seed's Issues #1-#3)
    lsq          least squares by normal equations, lstsq and pseudo-inverse; the singular case
    perceptron   the perceptron's update count against Novikoff's bound
    kl           the properties of the KL divergence, measured on random distributions
    logistic     the KL objective, the cross entropy and the logistic loss have one minimizer
    mlp          a torch MLP with one logit, trained by ``deepfab.train.fit``
    mlp_check    the scratch MLP trained beside the same torch MLP, step for step
    sgd          the plain SGD update rule on a finite sum, with a step-size schedule
    optim_paths  optimizer trajectories on 2-D test functions (torch.optim and the scratch layer)
    autodiff     the seed's f(x, y, z): scratch, torch.autograd and finite differences
    gpu          x^100 = A^100 x^0 with the host/device pattern, copies timed apart from compute
    tabular      tabular preparation (split, impute, drop constant columns, standardize)
    plots        the lecture's figures, composed from ``deepfab.plots``

The toy 2-D data (separable points, rings) is ``deepfab.data.toy``; the pass/fail report is
``deepfab.train.metrics.binary_report``.

    from deepfab.foundations import lsq
    r = lsq.compare_solvers(lsq.add_intercept(X), y)

Run ``deepfab run L00`` to see them in the lecture.

References:
    E. K. Ryu, "Supervised learning foundation", deep-learning curriculum lecture 0 (2020).
"""
