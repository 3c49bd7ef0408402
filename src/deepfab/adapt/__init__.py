"""Models that move and keep up: transfer learning, online learning under drift, and AutoML (lecture 14).

Modules: ``transfer`` (fine-tuning a pretrained wafer network with few labels, linear probes, later-lot
adaptation), ``online`` and ``drift`` (prequential evaluation of streaming models and drift detectors),
``automl`` (Optuna studies for the wafer classifier; ``deepfab wafer tune`` runs them), ``plots`` and
``automl_plots`` (figures).
"""
