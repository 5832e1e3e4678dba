"""Dtype names and the promotion rule used by binary ops."""

from __future__ import annotations

import numpy as np

_ALIASES = {"float": "float32", "int": "int64", "double": "float64", "half": "float16"}


_cache: dict = {}


def standardize_dtype(dtype) -> str:
    """A dtype name as Keras spells it (``"float32"``, ``"int64"``, ``"bool"``...)."""
    try:
        return _cache[dtype]
    except (KeyError, TypeError):
        pass
    name = _standardize(dtype)
    if dtype is not None:
        try:
            _cache[dtype] = name
        except TypeError:
            pass
    return name


def _standardize(dtype) -> str:
    if isinstance(dtype, str) and dtype == "bfloat16":
        return dtype  # NumPy has no bfloat16; ml_dtypes provides it where needed
    if dtype is None:
        from refkeras import config

        return config.floatx()
    if isinstance(dtype, str) and dtype in _ALIASES:
        return _ALIASES[dtype]
    if dtype is float:
        return "float32"
    if dtype is int:
        return "int64"
    if dtype is bool:
        return "bool"
    name = getattr(dtype, "name", None)
    if name is None or not isinstance(name, str):
        name = np.dtype(dtype).name
    if name == "bfloat16":
        return name
    return np.dtype(name).name


def is_float(dtype) -> bool:
    return standardize_dtype(dtype).startswith(("float", "bfloat"))


def is_int(dtype) -> bool:
    return standardize_dtype(dtype).startswith(("int", "uint"))


def result_type(*dtypes) -> str:
    """Keras's promotion for arrays: floats win over integers and bools (``int64 + float32 ->
    float32``, unlike NumPy's ``float64``); otherwise NumPy's rule."""
    names = [standardize_dtype(d) for d in dtypes]
    floats = [n for n in names if is_float(n)]
    if floats and len(floats) < len(names):
        return np.result_type(*floats).name if len(floats) > 1 else floats[0]
    return np.result_type(*names).name
