"""Saving a failing case and rerunning exactly it.

A repro file is an ``.npz`` holding the case's arrays (``array_<i>``; an absent optional
array is recorded as ``None``), the arrays inside its parameters (``param_<k>``) and a JSON
``meta`` entry: the component, check, dtype, backend spec, profile, hypothesis seed, tolerance
factor, the parameters (JSON, with tuples, slices, Ellipsis and arrays tagged) and the failure
message.  Nothing is pickled: loading a repro file cannot run code.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import numpy as np

from conformance.registry import Case
from conformance.tolerances import as_dtype


def _encode(value, arrays: dict):
    if isinstance(value, np.ndarray):
        key = f"param_{len(arrays)}"
        arrays[key] = value
        return {"__array__": key}
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, arrays) for v in value]}
    if isinstance(value, list):
        return [_encode(v, arrays) for v in value]
    if isinstance(value, dict):
        return {"__dict__": [[k, _encode(v, arrays)] for k, v in value.items()]}
    if isinstance(value, slice):
        return {"__slice__": [_encode(v, arrays) for v in (value.start, value.stop, value.step)]}
    if value is Ellipsis:
        return {"__ellipsis__": True}
    if isinstance(value, np.dtype | type) and not isinstance(value, bool):
        return {"__dtype__": str(np.dtype(value))}
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"Cannot save parameter value {value!r} in a repro file")


def _decode(value, npz):
    if isinstance(value, list):
        return [_decode(v, npz) for v in value]
    if not isinstance(value, dict):
        return value
    if "__array__" in value:
        return npz[value["__array__"]]
    if "__tuple__" in value:
        return tuple(_decode(v, npz) for v in value["__tuple__"])
    if "__dict__" in value:
        return {k: _decode(v, npz) for k, v in value["__dict__"]}
    if "__slice__" in value:
        return slice(*(_decode(v, npz) for v in value["__slice__"]))
    if "__ellipsis__" in value:
        return Ellipsis
    if "__dtype__" in value:
        return as_dtype(value["__dtype__"])
    raise ValueError(f"Unknown tagged value in repro file: {value!r}")


def _store(a: np.ndarray) -> tuple[np.ndarray, str]:
    """bfloat16 is not an npz dtype: store its bits as uint16 and the dtype name beside."""
    a = np.asarray(a)
    name = str(a.dtype)
    if name == "bfloat16":
        return a.view(np.uint16), name
    return a, name


def save(path: Path, case: Case, meta: dict) -> Path:
    """Write ``case`` and ``meta`` to ``path`` (``.npz``); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays: dict = {}
    kinds = []
    for i, a in enumerate(case.arrays):
        if a is None:
            kinds.append(None)
            continue
        stored, name = _store(a)
        arrays[f"array_{i}"] = stored
        kinds.append(name)
    params = _encode(dict(case.params), arrays)
    meta = dict(meta, array_dtypes=kinds, params=params)
    np.savez(path, meta=np.array(json.dumps(meta)), **arrays)
    return path


def load(path: str | Path) -> tuple[Case, dict]:
    """``(case, meta)`` from a repro file written by :func:`save`."""
    with np.load(Path(path), allow_pickle=False) as npz:
        meta = json.loads(str(npz["meta"]))
        arrays = []
        for i, name in enumerate(meta["array_dtypes"]):
            if name is None:
                arrays.append(None)
                continue
            a = npz[f"array_{i}"]
            arrays.append(a.view(as_dtype(name)) if name == "bfloat16" else a)
        params = _decode(meta["params"], npz)
    return Case(tuple(arrays), params), meta


def file_name(component: str, check: str, dtype: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", f"{component}-{check}-{dtype}") + ".npz"


def command(spec: str, path: Path, deviations: str | None = None) -> str:
    """The one command that reruns the saved case."""
    parts = ["refkeras", "conformance", "--backend", spec, "--repro", str(path)]
    if deviations:
        parts += ["--deviations", str(deviations)]
    return shlex.join(parts)
