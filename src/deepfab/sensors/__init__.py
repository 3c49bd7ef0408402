"""``deepfab sensors``: fault detection on your own tool-sensor runs.

    deepfab sensors detect --train NORMAL.csv --data NEW.csv --out SCORES.csv [--method pca|ae] ...

The monitors are ``deepfab.aiops.fdc`` (PCA with Hotelling T^2 and SPE) and ``deepfab.aiops.autoencoder``;
the CSV layout is ``deepfab.aiops.sensor_table``. Lecture 16 (AIOps) teaches them.
"""
