"""A checkpoint of the *whole* training state, for exact resumption (``BackupAndRestore``).

One HDF5 file, written with :func:`~refkeras.saving.atomic.atomic_write` (a crash leaves the
previous file whole), holding everything that decides what the rest of ``fit`` computes::

    /                    attrs: format, version, epoch, step, history (JSON), extra (JSON)
    /variables/<i>       model.state_variables()[i]: weights, optimizer slots and iterations,
                         metric totals, every layer's SeedGenerator state; attrs path, shape, dtype
    /shuffle_seed        the trainer's shuffle SeedGenerator state (not a tracked variable)
    /data                where the current pass over the data stands (EpochIterator.position()):
                         attrs pass_active, pass_position; dataset pass_seed_state
    /random              the global streams: refkeras's seed stream (``set_random_seed``), the
                         SeedGenerator behind ``seed=None`` draws, NumPy's and Python's generators

``epoch`` is the epoch to continue in (0-based) and ``step`` the number of its batches already
trained on.  Loading validates the file against the model (the number of variables, then each
one's path, shape and dtype) before it assigns anything.  Paths are compared without the ``_N``
suffixes of automatic names, so a model rebuilt in the same process (``dense_1`` instead of
``dense``) still matches.  No pickle: arrays are datasets, the rest is JSON or numbers.
"""

from __future__ import annotations

import json
import os
import random as _py_random
import re

import h5py
import numpy as np

from refkeras.random import seed_generator as seed_module
from refkeras.saving.atomic import atomic_write

FORMAT = "refkeras.training_state"
VERSION = 1
_NO_POSITION = {"pass_active": False, "pass_seed_state": None, "pass_position": 0}  # outside fit


def save_training_state(
    path: str | os.PathLike,
    model,
    *,
    epoch: int,
    step: int,
    history: dict | None = None,
    extra: dict | None = None,
) -> None:
    """Write the training state of ``model`` to ``path`` atomically.

    Args:
        path: the ``.h5`` file to write (replaced whole, or not at all).
        model: a compiled model.
        epoch: the epoch training continues in (0-based).
        step: the number of that epoch's batches already trained on.
        history: ``{"history": {key: [values]}, "epoch": [indices]}``, the History so far.
        extra: any JSON-serializable dict for the caller (e.g. a callback's counters).
    """
    shuffle = model._shuffle_seed_generator()  # created now if fit has not created it yet
    variables = model.state_variables()
    iterator = getattr(model, "_epoch_iterator", None)
    position = iterator.position() if iterator is not None else _NO_POSITION
    with atomic_write(path) as tmp:
        with h5py.File(tmp, "w") as f:
            f.attrs["format"] = FORMAT
            f.attrs["version"] = VERSION
            f.attrs["epoch"] = int(epoch)
            f.attrs["step"] = int(step)
            f.attrs["history"] = _to_json(history or {"history": {}, "epoch": []})
            f.attrs["extra"] = _to_json(extra or {})
            group = f.create_group("variables")
            group.attrs["count"] = len(variables)
            for i, v in enumerate(variables):
                dataset = group.create_dataset(str(i), data=np.asarray(v.numpy()))
                dataset.attrs["path"] = v.path
                dataset.attrs["shape"] = np.asarray(v.shape, dtype=np.int64)
                dataset.attrs["dtype"] = str(np.dtype(v.dtype))
            f.create_dataset("shuffle_seed", data=shuffle.state.numpy())
            data = f.create_group("data")
            data.attrs["pass_active"] = bool(position["pass_active"])
            data.attrs["pass_position"] = int(position["pass_position"])
            if position["pass_seed_state"] is not None:
                data.create_dataset("pass_seed_state", data=position["pass_seed_state"])
            _write_random(f.create_group("random"))


def load_training_state(path: str | os.PathLike, model) -> dict:
    """Restore the state saved by :func:`save_training_state` into ``model`` (and the global
    random streams) and return ``{"epoch", "step", "history", "history_epochs",
    "data_position", "extra"}``.  Raises ``ValueError`` — having changed nothing — when the file
    does not match the model."""
    variables = model.state_variables()
    with h5py.File(path, "r") as f:
        if f.attrs.get("format") != FORMAT:
            raise ValueError(f"{path} is not a refkeras training state file.")
        group = f["variables"]
        count = int(group.attrs["count"])
        if count != len(variables):
            raise ValueError(
                f"The training state in {path} holds {count} variables but the model has "
                f"{len(variables)}: it was saved from a different model, optimizer or metrics."
            )
        values = []
        for i, v in enumerate(variables):
            dataset = group[str(i)]
            saved_path, saved_dtype = str(dataset.attrs["path"]), str(dataset.attrs["dtype"])
            saved_shape = tuple(int(d) for d in dataset.attrs["shape"])
            if _structural(saved_path) != _structural(v.path):
                raise ValueError(
                    f"Variable {i} of the training state in {path} is {saved_path!r}, the "
                    f"model's is {v.path!r}."
                )
            if saved_shape != tuple(v.shape) or saved_dtype != str(np.dtype(v.dtype)):
                raise ValueError(
                    f"Variable {i} ({v.path!r}) has shape {tuple(v.shape)} and dtype {v.dtype} "
                    f"in the model but {saved_shape} and {saved_dtype} in {path}."
                )
            values.append(dataset[()])
        shuffle_state = f["shuffle_seed"][()]
        data = f["data"]
        position = {
            "pass_active": bool(data.attrs["pass_active"]),
            "pass_position": int(data.attrs["pass_position"]),
            "pass_seed_state": data["pass_seed_state"][()] if "pass_seed_state" in data else None,
        }
        random_state = _read_random(f["random"])
        history = _from_json(f.attrs["history"])
        out = {
            "epoch": int(f.attrs["epoch"]),
            "step": int(f.attrs["step"]),
            "history": history["history"],
            "history_epochs": [int(e) for e in history["epoch"]],
            "data_position": position,
            "extra": _from_json(f.attrs["extra"]),
        }
    # Everything is read and checked: now assign.
    for v, value in zip(variables, values):
        v.assign(value)
    model._shuffle_seed_generator().state.assign(shuffle_state)
    _restore_random(random_state)  # last: creating a SeedGenerator above may draw a seed
    return out


# --- the global random streams ------------------------------------------------------------------


def _write_random(group) -> None:
    g = seed_module._global
    group.attrs["global_has_seed"] = g["seed"] is not None
    group.attrs["global_seed"] = int(g["seed"] or 0)
    group.attrs["global_counter"] = int(g["counter"])
    default = seed_module._default_generator["gen"]
    if default is not None:
        group.create_dataset("default_generator", data=default.state.numpy())
    name, keys, pos, has_gauss, cached = np.random.get_state()
    group.create_dataset("numpy_keys", data=keys)
    group.attrs["numpy_name"] = name
    group.attrs["numpy_pos"] = int(pos)
    group.attrs["numpy_has_gauss"] = int(has_gauss)
    group.attrs["numpy_cached_gaussian"] = float(cached)
    version, internal, gauss_next = _py_random.getstate()
    group.create_dataset("python_state", data=np.asarray(internal, dtype=np.int64))
    group.attrs["python_version"] = int(version)
    group.attrs["python_has_gauss_next"] = gauss_next is not None
    group.attrs["python_gauss_next"] = float(gauss_next or 0.0)


def _read_random(group) -> dict:
    a = group.attrs
    return {
        "global": {
            "seed": int(a["global_seed"]) if a["global_has_seed"] else None,
            "counter": int(a["global_counter"]),
        },
        "default_generator": (
            group["default_generator"][()] if "default_generator" in group else None
        ),
        "numpy": (
            str(a["numpy_name"]),
            group["numpy_keys"][()],
            int(a["numpy_pos"]),
            int(a["numpy_has_gauss"]),
            float(a["numpy_cached_gaussian"]),
        ),
        "python": (
            int(a["python_version"]),
            tuple(int(v) for v in group["python_state"][()]),
            float(a["python_gauss_next"]) if a["python_has_gauss_next"] else None,
        ),
    }


def _restore_random(state: dict) -> None:
    if state["default_generator"] is None:
        seed_module._default_generator["gen"] = None
    else:
        seed_module.global_seed_generator().state.assign(state["default_generator"])
    seed_module._global.update(state["global"])
    np.random.set_state(state["numpy"])
    _py_random.setstate(state["python"])


# --- helpers ------------------------------------------------------------------------------------


def _structural(path: str) -> str:
    """``path`` without automatic-name suffixes: ``adam_1/dense_3_kernel_momentum`` ->
    ``adam/dense_kernel_momentum``."""
    return re.sub(r"_\d+(?=_|/|$)", "", path)


def _to_json(obj) -> str:
    """JSON with NumPy arrays and scalars made plain (arrays marked, to come back as arrays).
    Floats keep every bit: ``json`` writes ``repr(float)``, and NaN/Infinity round-trip."""

    def plain(o):
        if isinstance(o, dict):
            return {str(k): plain(v) for k, v in o.items()}
        if isinstance(o, list | tuple):
            return [plain(v) for v in o]
        if isinstance(o, np.ndarray):
            return {"__ndarray__": o.tolist(), "dtype": str(o.dtype)}
        if isinstance(o, np.generic):
            return o.item()
        return o

    return json.dumps(plain(obj))


def _from_json(text: str):
    def hook(d):
        if "__ndarray__" in d:
            return np.asarray(d["__ndarray__"], dtype=d["dtype"])
        return d

    return json.loads(text, object_hook=hook)
