"""Small data sets: ``mnist`` (downloaded and cached) and ``digits`` (shipped)."""

from refkeras.datasets import digits, mnist

__all__ = ["digits", "mnist"]
