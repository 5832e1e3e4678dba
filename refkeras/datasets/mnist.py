"""MNIST handwritten digits: 60,000 training and 10,000 test 28x28 grayscale images.

Downloaded on first use (11 MB) and cached as ``~/.refkeras/datasets/mnist.npz``.  The origin and
the expected sha256 are module constants so that tests can point them at a local file.

License: Yann LeCun and Corinna Cortes hold the copyright of MNIST, a derivative work of the
NIST datasets, made available under CC BY-SA 3.0.
"""

from __future__ import annotations

import numpy as np

from refkeras.utils.file_utils import get_file

ORIGIN_FOLDER = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
FILE_NAME = "mnist.npz"
FILE_HASH = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"


def load_data(path: str = "mnist.npz") -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """Load MNIST, downloading it into the cache if needed.

    Args:
        path: File name to cache the data set under, inside ``~/.refkeras/datasets``.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 images of shape ``(60000, 28, 28)`` and
        ``(10000, 28, 28)`` with values 0..255, and uint8 labels 0..9 of shape ``(60000,)`` and
        ``(10000,)``.
    """
    path = get_file(fname=path, origin=f"{ORIGIN_FOLDER}{FILE_NAME}", file_hash=FILE_HASH)
    with np.load(path, allow_pickle=False) as f:
        x_train, y_train = f["x_train"], f["y_train"]
        x_test, y_test = f["x_test"], f["y_test"]
    return (x_train, y_train), (x_test, y_test)
