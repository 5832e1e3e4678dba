"""``CSVLogger``: write one CSV row of logs per epoch.

The format is Keras's, byte for byte: the header is ``epoch`` then the first epoch's log keys
sorted; when none of them starts with ``val_``, a ``val_<key>`` column is added for every key (so
validation that starts later still has a column). Missing values are written ``NA``. Rows come
from :class:`csv.DictWriter` with the ``excel`` dialect, so lines end in ``\\r\\n``; an iterable
value is written ``"[a, b]"`` including the quotes, which the CSV writer then escapes
(``\"\"\"[a, b]\"\"\"``).
"""

from __future__ import annotations

import collections
import csv
import os

import numpy as np

from refkeras.callbacks.callback import Callback
from refkeras.saving.object_registration import register_builtin
from refkeras.utils.file_utils import path_to_string


def _format_value(value):
    """Strings and scalars as they are; iterables (lists, 1-D arrays) as ``"[a, b, ...]"``."""
    if isinstance(value, str):
        return value
    if isinstance(value, collections.abc.Iterable) and not (
        isinstance(value, np.ndarray) and value.ndim == 0
    ):
        return f'"[{", ".join(map(str, value))}]"'
    return value


@register_builtin("keras.callbacks")
class CSVLogger(Callback):
    """Stream epoch results to a CSV file.

    Args:
        filename: the CSV file, e.g. ``"run/log.csv"`` (str or path-like).
        separator: the field delimiter. Defaults to ``","``.
        append: ``True`` appends to an existing file (writing the header only if the file is
            empty); ``False`` overwrites. Defaults to ``False``.
    """

    def __init__(self, filename, separator: str = ",", append: bool = False):
        super().__init__()
        self.sep = separator
        self.filename = path_to_string(filename)
        self.append = append
        self.writer = None
        self.keys = None
        self.append_header = True
        self.csv_file = None

    def on_train_begin(self, logs=None):
        if self.append:
            if os.path.exists(self.filename):
                with open(self.filename) as f:
                    self.append_header = not bool(len(f.readline()))
            mode = "a"
        else:
            mode = "w"
        if self.csv_file and not self.csv_file.closed:
            self.csv_file.close()
        self.csv_file = open(self.filename, mode)  # closed in on_train_end
        self.writer = None
        self.keys = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs.keys())
            if self.keys and not any(key.startswith("val_") for key in self.keys):
                self.keys.extend([f"val_{k}" for k in self.keys])

        if not self.writer:

            class CustomDialect(csv.excel):
                delimiter = self.sep

            self.writer = csv.DictWriter(
                self.csv_file, fieldnames=["epoch"] + self.keys, dialect=CustomDialect
            )
            if self.append_header:
                self.writer.writeheader()

        row = {"epoch": epoch}
        row.update((key, _format_value(logs.get(key, "NA"))) for key in self.keys)
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs=None):
        if self.csv_file and not self.csv_file.closed:
            self.csv_file.close()
        self.writer = None
