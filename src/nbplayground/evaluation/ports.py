"""Ports of the evaluation context: what scoring needs from outside (embeddings for cosine)."""

from nbplayground.evaluation.metrics import Embedder

__all__ = ["Embedder"]
