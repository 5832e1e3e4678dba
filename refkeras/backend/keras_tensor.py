"""``KerasTensor``: a symbolic tensor (shape with ``None`` for unknown sizes, dtype) flowing through
the functional API.  ``keras.Input`` returns one; calling a layer or an op on one returns another
and records a node of the graph that :class:`~refkeras.models.Functional` later runs."""

from __future__ import annotations

from refkeras.backend.operators import OperatorMixin


class KerasTensor(OperatorMixin):
    """A symbolic tensor: ``shape`` (tuple, ``None`` where unknown), ``dtype`` (string), ``name``.

    ``_keras_history`` is ``(operation, node_index, tensor_index)``: which layer call produced it.
    """

    def __init__(
        self, shape, dtype: str = "float32", sparse: bool = False, name: str | None = None
    ):
        from refkeras.backend.dtypes import standardize_dtype

        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = standardize_dtype(dtype)
        self.sparse = sparse
        self.name = name
        self._keras_history = None

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"

    def __array__(self, *args, **kwargs):
        raise ValueError(
            "A KerasTensor is symbolic: it's a placeholder for a shape and a dtype. It doesn't "
            "have any actual numerical value. You cannot convert it to a NumPy array."
        )

    def __bool__(self):
        raise TypeError("A symbolic KerasTensor cannot be used as a Python boolean.")

    def __iter__(self):
        raise TypeError("Iterating over a symbolic KerasTensor is not supported.")


def any_symbolic(args) -> bool:
    """Whether ``args`` (a sequence, possibly holding lists/tuples/dicts) contains a KerasTensor."""
    for a in args:
        t = type(a)
        if t is KerasTensor:
            return True
        if t is list or t is tuple:
            if any_symbolic(a):
                return True
        elif t is dict:
            if any_symbolic(list(a.values())):
                return True
        elif isinstance(a, KerasTensor):
            return True
    return False
