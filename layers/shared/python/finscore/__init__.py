"""FinScore: the shared package every function, the training pipelines and the local run import."""

__version__ = "0.1.0"
