"""Small, reusable pieces of theory that lecture 0 (supervised learning foundation) demonstrates.

    gpu          x^100 = A^100 x^0 with the host/device pattern, copies timed apart from compute
    optim_paths  optimizer trajectories on 2-D test functions (torch.optim and the scratch layer)
    sgd          the plain SGD update rule on a finite sum, with a step-size schedule
    autodiff     the seed's f(x, y, z): torch, finite differences, gradient/evaluation cost
    logistic     the KL objective and the logistic loss, torch logistic regression and MLP fits
    tabular      SECOM-style tabular preparation (impute, drop constant columns, standardize)
    datasets     synthetic 2-D data: linearly separable points with a margin, rings
    metrics      imbalanced-class report (accuracy, balanced accuracy, macro-F1, per-class recall)
    plots        drawing helpers that take an ``ax`` (compute and draw stay apart)

Run ``deepfab run L00`` to see them in the lecture.

References:
    E. K. Ryu, "Supervised learning foundation", deep-learning curriculum lecture 0 (2020).
"""
