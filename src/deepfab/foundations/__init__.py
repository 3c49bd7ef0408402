"""Small, reusable pieces of theory that lecture 0 (supervised learning foundation) demonstrates.

    risk         empirical vs expected risk, minimax vs average fits (the seed's Issues #1-#3)
    lsq          least squares by normal equations, lstsq and pseudo-inverse; the singular case
    kl           the properties of the KL divergence, measured on random distributions
    logistic     the KL objective and the logistic loss; torch logistic regression
    mlp          a torch MLP and its training loop (with a class weight for imbalanced data)
    mlp_check    the scratch MLP trained beside the same torch MLP, step for step
    sgd          the plain SGD update rule on a finite sum, with a step-size schedule
    optim_paths  optimizer trajectories on 2-D test functions (torch.optim and the scratch layer)
    autodiff     the seed's f(x, y, z): scratch, torch.autograd and finite differences
    gpu          x^100 = A^100 x^0 with the host/device pattern, copies timed apart from compute
    tabular      tabular preparation (split, impute, drop constant columns, standardize)
    datasets     synthetic 2-D data: linearly separable points with a margin, rings
    metrics      imbalanced-class report (accuracy, balanced accuracy, macro-F1, per-class recall)
    plots        drawing helpers that take an ``ax`` (compute and draw stay apart)

Run ``deepfab run L00`` to see them in the lecture.

References:
    E. K. Ryu, "Supervised learning foundation", deep-learning curriculum lecture 0 (2020).
"""
