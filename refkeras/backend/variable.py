"""``refkeras.Variable``: named, mutable state (weights, optimizer slots, metric accumulators).

A variable holds a backend array.  Reading it (``variable.value``, or using it in any op) gives a
Tensor; inside a :class:`~refkeras.GradientTape` a read of a trainable (or watched) variable is a
leaf of the autodiff graph, so gradients flow to the variable.

Inside a :class:`StatelessScope` reads return the values given to the scope and assignments are
collected in the scope instead of changing the variable: this is how a training step runs as a pure
function of ``(trainable values, non-trainable values, optimizer state, metric state, batch, RNG
state)`` — the form a compiling backend traces.
"""

from __future__ import annotations

import numpy as np

from refkeras import autodiff
from refkeras.backend.operators import OperatorMixin
from refkeras.backend.tensor import Tensor
from refkeras.utils.naming import auto_name, current_path

_scopes: list[StatelessScope] = []


class StatelessScope:
    """Within ``with StatelessScope(state_mapping=[(variable, value), ...])``: reads of the mapped
    variables return the given values, and ``assign`` records the new value in the scope
    (``scope.get_current_value(variable)``) without touching the variable."""

    def __init__(self, state_mapping=()):
        self._values = {id(v): (v, _to_array(val, v.dtype)) for v, val in state_mapping}

    def __enter__(self) -> StatelessScope:
        _scopes.append(self)
        return self

    def __exit__(self, *exc) -> None:
        _scopes.remove(self)

    def get_current_value(self, variable):
        entry = self._values.get(id(variable))
        return None if entry is None else entry[1]

    def add_update(self, variable, value) -> None:
        self._values[id(variable)] = (variable, value)


def _to_array(value, dtype):
    """``value`` as an array of the active backend with ``dtype``: a private copy for NumPy
    arrays (which are mutable), ``Backend.asarray`` for other backends (whose arrays may be
    traced values inside a compiled step)."""
    from refkeras.backend import dispatch

    if isinstance(value, Variable):
        value = value.numpy()
    value = getattr(value, "value", value)
    array = dispatch.active_backend().asarray(value, dtype=dtype)
    return array.copy() if array is value else array


def _is_backend_array(value) -> bool:
    from refkeras.backend import dispatch

    return isinstance(value, dispatch.active_backend().array_types)


def _host(array) -> np.ndarray:
    """The value of a backend array as a NumPy array (a device-to-host copy on GPUs)."""
    from refkeras.backend import dispatch

    return dispatch.active_backend().to_numpy(array)


class Variable(OperatorMixin):
    """A mutable tensor with a name, like ``keras.Variable``.

    Args:
        initializer: an array-like initial value, or a callable ``(shape, dtype) -> value``
            (then ``shape`` is required), or an initializer name such as ``"zeros"``.
        shape: the shape, required with a callable initializer.
        dtype: defaults to the initial value's float dtype or ``floatx()``.
        trainable: whether gradient tapes watch it and optimizers update it.
        name: the variable's name; ``path`` is prefixed by the owning layer's path.
    """

    def __init__(
        self,
        initializer,
        shape=None,
        dtype=None,
        trainable: bool = True,
        autocast: bool = True,
        aggregation: str = "none",
        synchronization: str = "auto",
        name: str | None = None,
    ):
        from refkeras import config
        from refkeras.backend.dtypes import standardize_dtype

        if name is not None and (not isinstance(name, str) or "/" in name):
            raise ValueError(
                "Argument `name` must be a string and cannot contain character `/`. "
                f"Received: name={name}"
            )
        self.name = name or auto_name("variable")
        parent = current_path()
        self.path = f"{parent}/{self.name}" if parent else self.name
        self.trainable = bool(trainable)
        self.autocast = autocast
        self.aggregation = aggregation
        self.synchronization = synchronization
        self._watch_count = 0
        if isinstance(initializer, str):
            from refkeras import initializers

            initializer = initializers.get(initializer)
        if callable(initializer):
            if shape is None:
                raise ValueError(
                    "When creating a Variable from a callable initializer, the `shape` argument "
                    f"should be specified. Received: initializer={initializer} and shape={shape}"
                )
            dtype = standardize_dtype(dtype or config.floatx())
            value = initializer(tuple(shape), dtype=dtype)
        else:
            value = getattr(initializer, "value", initializer)
            if dtype is None:
                arr = value if _is_backend_array(value) else np.asarray(value)
                keep = arr.dtype.kind in "iub" or (
                    arr.dtype.kind == "f"
                    and (isinstance(value, np.ndarray | np.generic) or _is_backend_array(value))
                    and arr.dtype != np.float64
                )
                dtype = arr.dtype if keep else config.floatx()
            dtype = standardize_dtype(dtype)
        value = _to_array(value, dtype)
        if shape is not None and tuple(value.shape) != tuple(shape):
            raise ValueError(
                f"Initial value has shape {value.shape}, which is incompatible with the declared "
                f"shape {tuple(shape)} of variable {self.name!r}."
            )
        self._value = value
        self._dtype = standardize_dtype(value.dtype)

    # --- reading --------------------------------------------------------------------------------

    def _current(self) -> np.ndarray:
        for scope in reversed(_scopes):
            v = scope.get_current_value(self)
            if v is not None:
                return v
        return self._value

    @property
    def value(self) -> Tensor:
        """The current value as a Tensor (a graph leaf when a tape watches this variable)."""
        array = self._current()
        state = autodiff._state
        watched = self._watch_count or (self.trainable and state["auto_watch"])
        if state["tapes"] and not state["paused"] and watched:
            return Tensor(array, autodiff.leaf(self, array), 0)
        return Tensor(array)

    def numpy(self) -> np.ndarray:
        return np.array(_host(self._current()))

    def __array__(self, dtype=None, copy=None):
        a = _host(self._current())
        return a if dtype is None else a.astype(dtype)

    @property
    def shape(self) -> tuple:
        return tuple(self._value.shape)

    @property
    def dtype(self) -> str:
        return self._dtype

    @property
    def ndim(self) -> int:
        return self._value.ndim

    @property
    def size(self) -> int:
        return int(self._value.size)

    def __len__(self) -> int:
        return self.shape[0]

    def __bool__(self) -> bool:
        return bool(self._current())

    def __float__(self) -> float:
        return float(self._current())

    def __int__(self) -> int:
        return int(self._current())

    def __index__(self) -> int:
        return int(self._current())

    def __format__(self, spec: str) -> str:
        return format(_host(self._current()).item() if self.ndim == 0 else str(self), spec)

    def __repr__(self) -> str:
        return (
            f"<Variable path={self.path}, shape={self.shape}, dtype={self.dtype}, "
            f"value={_host(self._current())}>"
        )

    def __pos__(self):
        return self.value  # a snapshot, as keras.Variable: later assigns do not change it

    # --- writing --------------------------------------------------------------------------------

    def assign(self, value) -> Variable:
        """Set the value (same shape; cast to the variable's dtype)."""
        array = _to_array(value, self._dtype)
        if array.shape != self._value.shape:
            raise ValueError(
                "The shape of the target variable and the shape of the target value in "
                "`variable.assign(value)` must match. "
                f"variable.shape={self.shape}, Received: value.shape={array.shape}. "
                f"Target variable: {self}"
            )
        if _scopes:
            _scopes[-1].add_update(self, array)
        else:
            self._value = array
        return self

    def _replace_value(self, array) -> None:
        """Install ``array`` (a backend array of this variable's shape and dtype) as the value,
        without a copy or a check: how a compiled step writes its new state back."""
        self._value = array

    def assign_add(self, value) -> Variable:
        return self.assign(self._current() + _to_array(value, self._dtype))

    def assign_sub(self, value) -> Variable:
        return self.assign(self._current() - _to_array(value, self._dtype))
