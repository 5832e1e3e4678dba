"""UCI Optical Recognition of Handwritten Digits: 1,797 8x8 images with pixel values 0..16.

Shipped with refkeras (``datasets/data/digits.csv.gz``, 56 KB, the file scikit-learn ships as
``sklearn/datasets/data/digits.csv.gz``), so it loads offline.  Each csv row holds 64 pixel values,
row by row, then the label.  Source: E. Alpaydin and C. Kaynak, UCI Machine Learning Repository,
https://doi.org/10.24432/C50P49, licensed CC BY 4.0 (see ``datasets/data/DIGITS_LICENSE.txt``).
"""

from __future__ import annotations

import os

import numpy as np

DATA_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "digits.csv.gz")


def load_data(
    test_split: float = 0.2, seed: int = 113
) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """Load the digits data set, shuffled and split into training and test parts.

    The rows are shuffled with ``np.random.RandomState(seed)``; the first
    ``int(n * (1 - test_split))`` go to training, the rest to test.

    Args:
        test_split: Fraction of the 1,797 samples to hold out for testing, in ``[0, 1)``.
        seed: Seed of the shuffle.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 images of shape ``(n, 8, 8)`` with values
        0..16 and uint8 labels 0..9 of shape ``(n,)``.  The default split gives 1,437 and 360.
    """
    if not 0 <= test_split < 1:
        raise ValueError(f"`test_split` must be in [0, 1). Received: test_split={test_split}")
    data = np.loadtxt(DATA_PATH, delimiter=",", dtype=np.uint8)
    x = data[:, :64].reshape(-1, 8, 8)
    y = data[:, 64]

    indices = np.arange(len(x))
    np.random.RandomState(seed).shuffle(indices)
    x, y = x[indices], y[indices]

    num_train = int(len(x) * (1 - test_split))
    return (x[:num_train], y[:num_train]), (x[num_train:], y[num_train:])
