"""``PyDataset`` (alias ``Sequence``): a dataset defined by ``__len__`` and ``__getitem__``."""

from __future__ import annotations


class PyDataset:
    """Subclass and implement ``__getitem__(index)`` (one batch: ``x``, ``(x, y)`` or
    ``(x, y, sample_weight)``) and ``__len__`` (the number of batches); ``on_epoch_end`` is called
    after every epoch (e.g. to reshuffle).  ``workers``/``use_multiprocessing``/``max_queue_size``
    are accepted for compatibility; batches are read in the calling thread.
    """

    def __init__(
        self, workers: int = 1, use_multiprocessing: bool = False, max_queue_size: int = 10
    ):
        self._workers = workers
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = max_queue_size

    @property
    def workers(self):
        return getattr(self, "_workers", 1)

    @property
    def use_multiprocessing(self):
        return getattr(self, "_use_multiprocessing", False)

    @property
    def max_queue_size(self):
        return getattr(self, "_max_queue_size", 10)

    def __getitem__(self, index):
        raise NotImplementedError(
            f"PyDataset {type(self).__name__} must implement `__getitem__(self, index)` "
            "(abstract method)."
        )

    @property
    def num_batches(self) -> int | None:
        if hasattr(self, "__len__"):
            return len(self)
        return None

    def on_epoch_begin(self):
        pass

    def on_epoch_end(self):
        pass


Sequence = PyDataset
