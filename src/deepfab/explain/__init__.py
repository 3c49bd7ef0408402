"""deepfab.explain: looking inside a trained CNN, and measuring whether the explanations are right.

    from deepfab.explain import vanilla_gradient, smoothgrad, integrated_gradients, saliency_map
    from deepfab.explain import grad_cam, capture, embed, class_model, pointing_game, attribution_maps
    cam = grad_cam(model, x, target)                 # (N, H, W) Grad-CAM, upsampled
    hits = pointing_game(cam, masks, valid=wafer)     # does its maximum fall on the defect?
    maps = attribution_maps(model, x, target, ["Grad-CAM", "gradient", "SmoothGrad"])

Modules: ``saliency`` (gradient, SmoothGrad, integrated gradients), ``gradcam`` (Grad-CAM),
``attribution`` (several methods in one call, agreement with a reference), ``features``
(filters, activations and embeddings through forward hooks), ``actmax`` (class-model
visualization), ``pointing`` (the pointing game), ``sanity`` (model-randomization check),
``occlusion`` (occlusion sensitivity, lecture 15), ``tabular`` (Shapley values, permutation
importance, PDP/ICE, LIME, sanity and faithfulness checks, the SECOM model of lecture 15),
``recipe`` (the classifier lecture 3 explains), ``plots`` (figures). Each is checked against
captum or a hand computation in ``tests/explain/``.

Introduced in lecture 3 (network visualization); lecture 15 (XAI) builds on it.

References: see each module.
"""
from .actmax import ClassModel, class_model, total_variation
from .attribution import METHODS, agreement, attribution_maps
from .features import capture, embed, first_conv_weights, knn_accuracy, last_linear, named_module, top_channels
from .gradcam import grad_cam, last_spatial_layer, normalize_maps
from .occlusion import occlusion, wafer_baseline, window_starts
from .pointing import dilate, peak_location, pointing_game, random_hit_rate, rates_by_group
from .recipe import train_wafer_cnn
from .saliency import integrated_gradients, saliency_map, smoothgrad, vanilla_gradient
from .sanity import randomized_copy, rank_correlation

__all__ = ["occlusion", "wafer_baseline", "window_starts",
           "ClassModel", "class_model", "total_variation", "METHODS", "agreement", "attribution_maps", "capture",
           "embed", "first_conv_weights", "knn_accuracy", "last_linear", "named_module", "top_channels", "grad_cam",
           "last_spatial_layer", "normalize_maps", "dilate", "peak_location", "pointing_game", "random_hit_rate",
           "rates_by_group", "train_wafer_cnn", "integrated_gradients", "saliency_map", "smoothgrad",
           "vanilla_gradient", "randomized_copy", "rank_correlation"]
