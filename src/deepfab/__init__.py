"""deepfab: an advanced deep-learning curriculum for semiconductor data scientists."""
__version__ = "0.1.0"
