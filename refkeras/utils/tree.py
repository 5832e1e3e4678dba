"""Nested structures (lists, tuples, dicts, None leaves excluded from nothing): flatten and rebuild.

Dicts are traversed in sorted key order, as ``keras.tree`` (optree) does.
"""

from __future__ import annotations

from collections.abc import Callable


def _is_nest(x) -> bool:
    return isinstance(x, list | tuple | dict)


def flatten(structure) -> list:
    """The leaves of ``structure`` in order (a non-nested value is its own single leaf)."""
    if isinstance(structure, dict):
        return [leaf for k in sorted(structure) for leaf in flatten(structure[k])]
    if isinstance(structure, list | tuple):
        return [leaf for item in structure for leaf in flatten(item)]
    return [structure]


def pack_sequence_as(structure, flat):
    """Rebuild ``structure`` with its leaves replaced, in order, by the items of ``flat``."""
    it = iter(flat)

    def build(s):
        if isinstance(s, dict):
            built = {k: build(s[k]) for k in sorted(s)}
            return (
                type(s)((k, built[k]) for k in s)
                if type(s) is not dict
                else {k: built[k] for k in s}
            )
        if isinstance(s, list | tuple):
            items = [build(item) for item in s]
            if hasattr(s, "_fields"):
                return type(s)(*items)
            return type(s)(items)
        return next(it)

    return build(structure)


def map_structure(fn: Callable, *structures):
    """Apply ``fn`` to corresponding leaves of ``structures``; the first gives the structure."""
    flats = [flatten(s) for s in structures]
    return pack_sequence_as(structures[0], [fn(*leaves) for leaves in zip(*flats)])


def is_nested(x) -> bool:
    return _is_nest(x)


def is_shape(x) -> bool:
    """A shape: a tuple/list of ints and ``None`` (``()`` included)."""
    return isinstance(x, tuple | list) and all(
        d is None or (isinstance(d, int) and not isinstance(d, bool)) for d in x
    )


def map_shape_structure(fn: Callable, structure):
    """Apply ``fn`` to each shape in a structure of shapes (shapes are leaves, not nests)."""
    if is_shape(structure):
        return fn(tuple(structure))
    if isinstance(structure, dict):
        return {k: map_shape_structure(fn, v) for k, v in structure.items()}
    if isinstance(structure, list | tuple):
        return type(structure)(map_shape_structure(fn, s) for s in structure)
    return fn(structure)
