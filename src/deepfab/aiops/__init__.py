"""AIOps on fab logs and tool sensors (lecture 16).

Modules: log parsing into templates (``drain``, ``deepfab logs parse``), log anomaly detection
(``logwindows``: windows, PCA and count rules; ``deeplog``; ``loganomaly``: the study with injected
anomalies; ``logmodel``: ``deepfab logs detect``), and multivariate fault detection on per-run sensor
tables (``deepfab sensors detect``).
"""
