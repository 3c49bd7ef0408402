"""AIOps on fab logs and tool sensors (lecture 16).

Modules: log parsing into templates (``deepfab logs parse``), log anomaly detection, and multivariate
fault detection on per-run sensor tables (``deepfab sensors detect``).
"""
