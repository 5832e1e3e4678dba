"""Turning what users pass to ``fit``/``evaluate``/``predict`` into batches.

Accepted: NumPy arrays (or lists/dicts of them, or tensors), h5py datasets (read batch by batch,
never loaded whole), Python generators yielding ``(x, y[, sample_weight])`` and
:class:`~refkeras.utils.PyDataset` (alias ``Sequence``).  Every adapter yields
``(x, y, sample_weight)`` batches as NumPy structures.
"""

from __future__ import annotations

import math
import types

import numpy as np

from refkeras.utils import tree
from refkeras.utils.py_dataset import PyDataset


def _is_h5(x) -> bool:
    return isinstance(x, LazyRows) or (
        type(x).__module__.startswith("h5py") and hasattr(x, "shape")
    )


class LazyRows:
    """Rows ``start:stop`` of an on-disk array (an h5py dataset), read only when indexed, so that
    ``validation_split`` does not load the file."""

    def __init__(self, base, start: int, stop: int):
        self.base, self.start, self.stop = base, start, stop
        self.shape = (stop - start, *base.shape[1:])
        self.dtype = base.dtype

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key):
        if isinstance(key, slice):
            lo, hi, step = key.indices(self.shape[0])
            return self.base[self.start + lo : self.start + hi : step]
        return self.base[np.asarray(key) + self.start]


def is_array(x) -> bool:
    return isinstance(x, np.ndarray) or _is_h5(x) or hasattr(x, "__array__") and hasattr(x, "shape")


def _check_numeric(x, name):
    dtype = getattr(x, "dtype", None)
    if dtype is not None and np.dtype(dtype).kind not in "biuf":
        raise ValueError(
            f"Invalid dtype for `{name}`: expected numeric (bool, int or float) data, "
            f"received dtype={dtype}."
        )


def to_arrays(structure, name):
    """Lists of numbers become arrays; NumPy arrays and h5py datasets are kept; tensors and
    device arrays of the active backend are copied to the host (batches are cut on the host and
    enter the step through ``backend.asarray``)."""

    def convert(v):
        if v is None or _is_h5(v) or isinstance(v, np.ndarray):
            out = v
        else:
            from refkeras import backend

            out = backend.to_numpy(v)
        if out is not None:
            _check_numeric(out, name)
        return out

    if (
        isinstance(structure, list)
        and structure
        and not all(is_array(v) or isinstance(v, list | dict) for v in structure)
    ):
        return convert(structure)  # a plain list of numbers
    return tree.map_structure(convert, structure)


def class_weight_to_sample_weights(y, class_weight: dict) -> np.ndarray:
    """Per-sample weights ``class_weight[class of y_i]`` (1.0 for classes not listed); the class is
    ``argmax`` for one-hot targets."""
    y = np.asarray(y)
    if y.ndim > 1:
        y = np.argmax(y, axis=-1) if y.shape[-1] != 1 else np.squeeze(y, axis=-1)
    y = np.round(y).astype("int32")
    from refkeras import config

    return np.array([class_weight.get(int(c), 1.0) for c in y], dtype=config.floatx())


class ArrayAdapter:
    """Batches of arrays, shuffled each epoch with ``refkeras.random.permutation`` when
    ``shuffle`` is true (``"batch"``: shuffle the batch order only, as for HDF5)."""

    def __init__(
        self,
        x,
        y=None,
        sample_weight=None,
        batch_size=None,
        steps=None,
        shuffle=False,
        class_weight=None,
    ):
        x = to_arrays(x, "x")
        y = to_arrays(y, "y") if y is not None else None
        if sample_weight is not None:
            if class_weight is not None:
                raise ValueError("You cannot `class_weight` and `sample_weight` at the same time.")
            sample_weight = to_arrays(sample_weight, "sample_weight")
            if tree.is_nested(y) and not tree.is_nested(sample_weight):
                sample_weight = tree.map_structure(lambda _: sample_weight, y)
        if class_weight is not None:
            if tree.is_nested(y):
                raise ValueError(
                    "`class_weight` is only supported for Models with a single output."
                )
            sample_weight = class_weight_to_sample_weights(y, class_weight)
        self.data = (x, y, sample_weight)
        sizes = {}
        for name, part in (("x", x), ("y", y), ("sample_weight", sample_weight)):
            for a in tree.flatten(part):
                if a is not None:
                    sizes.setdefault(name, set()).add(int(a.shape[0]))
        all_sizes = set().union(*sizes.values()) if sizes else set()
        if len(all_sizes) > 1:
            detail = ", ".join(
                f"{k} sizes: {', '.join(map(str, sorted(v)))}" for k, v in sizes.items()
            )
            raise ValueError(
                "Data cardinality is ambiguous. Make sure all arrays contain the same number "
                f"of samples. {detail}"
            )
        if not all_sizes:
            raise ValueError("Expected `x` to contain data; received no arrays.")
        self.num_samples = all_sizes.pop()
        if self.num_samples == 0:
            raise ValueError("Expected input data to be non-empty: `x` has 0 samples.")
        if not batch_size:
            batch_size = int(math.ceil(self.num_samples / steps)) if steps else 32
        self.batch_size = int(batch_size)
        self.num_batches = int(math.ceil(self.num_samples / self.batch_size))
        self.shuffle = shuffle
        self._h5 = any(_is_h5(a) for a in tree.flatten(self.data) if a is not None)

    def epoch_batches(self, seed=None):
        """The batches of one epoch (``seed`` is the SeedGenerator used for shuffling)."""
        if self.shuffle == "batch" or (self.shuffle and self._h5):
            order = np.arange(self.num_samples)
            batch_order = _permutation(self.num_batches, seed)
        else:
            order = (
                _permutation(self.num_samples, seed)
                if self.shuffle
                else np.arange(self.num_samples)
            )
            batch_order = np.arange(self.num_batches)
        for b in batch_order:
            idx = order[b * self.batch_size : (b + 1) * self.batch_size]
            x, y, sw = tree.map_structure(lambda a, idx=idx: _take(a, idx), self.data)
            yield pack_x_y_sample_weight(x, y, sw)

    def __len__(self) -> int:
        return self.num_batches


class EpochIterator:
    """Batches epoch after epoch.  Without ``steps`` an epoch is one pass over the data.  With
    ``steps`` an epoch is ``steps`` batches drawn from a pass that carries on into the next epoch
    (a new, reshuffled pass starts when one runs out), as Keras's ``steps_per_epoch`` does.
    ``restart=True`` (validation, evaluate) starts every epoch from the first batch.

    Resume support (``BackupAndRestore``): :meth:`position` says where the current pass stands —
    the shuffle generator's state *before* the pass drew its order, and how many of its batches
    were taken — and :meth:`restore_position` rebuilds that pass in a new process."""

    def __init__(self, adapter, steps=None, seed=None, restart=False):
        self.adapter = adapter
        self.steps = steps
        self.seed = seed
        self.restart = restart
        self._pass = None
        self._pass_seed_state = None  # resume support: see position()
        self._pass_position = 0

    def epoch(self, start: int = 0):
        """One epoch's batches; ``start`` batches of it were already taken (a resumed epoch)."""
        if self.steps is None:
            if self._pass is None:  # (else: a pass rebuilt by restore_position)
                self._begin_pass()
            try:
                yield from self._pass
            finally:
                self._pass = None
            return
        if self.restart:
            self._pass = None
        count = start
        while count < self.steps:
            if self._pass is None:
                if getattr(self.adapter, "exhausted", False):
                    return
                self._begin_pass()
            try:
                batch = next(self._pass)
            except StopIteration:
                self._pass = None
                if isinstance(self.adapter, GeneratorAdapter) or count == 0 and self._empty():
                    return  # a generator cannot restart
                continue
            yield batch
            count += 1

    def _begin_pass(self) -> None:
        # The pass draws its shuffle order from `seed` when its first batch is taken, so the
        # state recorded here is the one that reproduces the order.
        self._pass_seed_state = None if self.seed is None else self.seed.state.numpy().copy()
        self._pass_position = 0
        self._pass = self._counted(self.adapter.epoch_batches(seed=self.seed))

    def _counted(self, batches):
        for batch in batches:
            self._pass_position += 1
            yield batch

    def position(self) -> dict:
        """Where the data order stands: ``{"pass_active", "pass_seed_state", "pass_position"}``."""
        return {
            "pass_active": self._pass is not None,
            "pass_seed_state": self._pass_seed_state,
            "pass_position": self._pass_position,
        }

    def restore_position(self, position: dict) -> None:
        """Rebuild the pass described by ``position()``: rewind the shuffle generator so the pass
        draws the same order, then skip the batches already taken.  (A Python generator cannot be
        rewound: for one, nothing is skipped.)"""
        if not position["pass_active"] or isinstance(self.adapter, GeneratorAdapter):
            return
        if self.seed is not None and position["pass_seed_state"] is not None:
            self.seed.state.assign(np.asarray(position["pass_seed_state"], dtype=np.uint32))
        self._begin_pass()
        for _ in range(position["pass_position"]):
            next(self._pass)

    def _empty(self) -> bool:
        return not getattr(self.adapter, "num_batches", 0)


def _permutation(n, seed):
    from refkeras.random import permutation

    return permutation(n, seed=seed)


def _take(a, idx):
    if a is None:
        return None
    if _is_h5(a):
        contiguous = len(idx) and np.all(np.diff(idx) == 1)
        if contiguous:
            return np.asarray(a[int(idx[0]) : int(idx[-1]) + 1])
        order = np.argsort(idx)
        data = np.asarray(a[np.sort(idx)])  # h5py needs increasing indices
        out = np.empty_like(data)
        out[order] = data
        return out
    return np.asarray(a)[idx]


def pack_x_y_sample_weight(x, y=None, sample_weight=None) -> tuple:
    """``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)``: the batch form ``train_step`` receives
    (so ``x, y = data`` works when there are no sample weights, as in Keras)."""
    if y is None:
        return (x,)
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


def unpack_x_y_sample_weight(data):
    """``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)`` -> ``(x, y, sample_weight)``."""
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) == 1:
        return data[0], None, None
    if len(data) == 2:
        return data[0], data[1], None
    if len(data) == 3:
        return data
    raise ValueError(
        "Data is expected to be in format `x`, `(x,)`, `(x, y)`, or `(x, y, sample_weight)`, "
        f"found: {data}"
    )


class GeneratorAdapter:
    """A Python generator of batches (or any iterator); ``steps`` bounds each epoch, and an epoch
    without ``steps`` ends when the generator is exhausted (it cannot restart)."""

    def __init__(self, generator, steps=None, class_weight=None):
        self.generator = generator
        self.steps = steps
        self.class_weight = class_weight
        self.num_batches = steps
        self.exhausted = False

    def epoch_batches(self, seed=None):
        """Batches until the generator is exhausted (``EpochIterator`` applies ``steps``)."""
        while True:
            try:
                batch = next(self.generator)
            except StopIteration:
                self.exhausted = True
                return
            yield _standardize_batch(batch, self.class_weight)

    def __len__(self):
        return self.num_batches


class PyDatasetAdapter:
    """A :class:`PyDataset`: ``len(ds)`` batches, ``ds[i]`` each (batch order shuffled when
    ``shuffle``), ``ds.on_epoch_end()`` after each epoch."""

    def __init__(self, dataset: PyDataset, steps=None, shuffle=False, class_weight=None):
        self.dataset = dataset
        self.shuffle = shuffle
        self.class_weight = class_weight
        n = dataset.num_batches
        self.num_batches = min(n, steps) if steps and n is not None else (steps or n)

    def epoch_batches(self, seed=None):
        self.dataset.on_epoch_begin()
        n = self.dataset.num_batches
        order = _permutation(n, seed) if self.shuffle and n else range(n or 0)
        for count, i in enumerate(order):
            if self.num_batches is not None and count >= self.num_batches:
                break
            yield _standardize_batch(self.dataset[int(i)], self.class_weight)

    def on_epoch_end(self):
        self.dataset.on_epoch_end()

    def __len__(self):
        return self.num_batches


def _standardize_batch(batch, class_weight):
    x, y, sw = unpack_x_y_sample_weight(batch)
    x = to_arrays(x, "x")
    y = to_arrays(y, "y") if y is not None else None
    if class_weight is not None and y is not None:
        sw = class_weight_to_sample_weights(y, class_weight)
    return pack_x_y_sample_weight(x, y, to_arrays(sw, "sample_weight") if sw is not None else None)


def get_adapter(
    x, y=None, sample_weight=None, batch_size=None, steps=None, shuffle=False, class_weight=None
):
    """The adapter for ``x`` (see the module docstring)."""
    if isinstance(x, PyDataset):
        if y is not None or sample_weight is not None:
            raise ValueError(
                "When providing `x` as a PyDataset, `y` and `sample_weight` should not be "
                "passed; the PyDataset yields them."
            )
        return PyDatasetAdapter(x, steps=steps, shuffle=shuffle, class_weight=class_weight)
    if isinstance(x, types.GeneratorType) or (
        hasattr(x, "__next__") and not is_array(x) and not isinstance(x, list | tuple | dict)
    ):
        if y is not None or sample_weight is not None:
            raise ValueError(
                "When providing `x` as a generator, `y` and `sample_weight` should not be "
                "passed; the generator yields them."
            )
        return GeneratorAdapter(x, steps=steps, class_weight=class_weight)
    if x is None:
        raise ValueError("Expected `x` to contain data. Received: x=None")
    return ArrayAdapter(
        x,
        y,
        sample_weight,
        batch_size=batch_size,
        steps=steps,
        shuffle=shuffle,
        class_weight=class_weight,
    )


def train_validation_split(arrays, validation_split: float):
    """Split off the last ``validation_split`` fraction (before any shuffling), as Keras:
    ``split_at = floor(n * (1 - validation_split))``."""
    flat = [a for a in tree.flatten(arrays) if a is not None]
    n = int(flat[0].shape[0])
    split_at = int(math.floor(n * (1.0 - validation_split)))
    if split_at == 0 or split_at == n:
        raise ValueError(
            f"Training data contains {n} samples, which is not sufficient to split it into a "
            f"validation and training set as specified by `validation_split={validation_split}`. "
            "Either provide more data, or a different value for the `validation_split` argument."
        )

    def part(a, lo, hi):
        if a is None:
            return None
        if _is_h5(a):
            if isinstance(a, LazyRows):
                return LazyRows(a.base, a.start + lo, a.start + hi)
            return LazyRows(a, lo, hi)
        return a[lo:hi]

    train = tree.map_structure(lambda a: part(a, 0, split_at), arrays)
    val = tree.map_structure(lambda a: part(a, split_at, n), arrays)
    return train, val
