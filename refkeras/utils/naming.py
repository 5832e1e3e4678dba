"""Unique default names (``dense``, ``dense_1``, ...) and the name scope used for variable paths."""

from __future__ import annotations

import re
from collections import defaultdict

_counts: dict[str, int] = defaultdict(int)
_path: list[str] = []


def to_snake_case(name: str) -> str:
    """``"BatchNormalization"`` -> ``"batch_normalization"``, as Keras names layers."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    name = re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()
    return name


def auto_name(prefix: str) -> str:
    """``prefix`` the first time, then ``prefix_1``, ``prefix_2``..."""
    n = _counts[prefix]
    _counts[prefix] += 1
    return prefix if n == 0 else f"{prefix}_{n}"


def reset_uids() -> None:
    _counts.clear()


class name_scope:
    """Pushes ``name`` onto the path used to prefix variable paths (``dense/kernel``)."""

    def __init__(self, name: str):
        self.name = name

    def __enter__(self):
        _path.append(self.name)
        return self

    def __exit__(self, *exc):
        _path.pop()


def current_path() -> str:
    return "/".join(_path)
