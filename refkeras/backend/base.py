"""What a backend is: a primitive table, plus how its arrays cross to and from NumPy.

The NumPy reference (:class:`NumpyBackend`) is the oracle.  Accelerated backends in ``accel/``
subclass :class:`Backend`; a third-party backend is any object with the same attributes, loaded with
``refkeras.config.set_backend("package.module:attr")`` (for example a subclass of a shipped backend
that overrides one primitive in :meth:`Backend.primitives`).

Optional parts:

- ``fused_kernels()`` maps the name of a *reference composition* (``"optimizer.adam"``,
  ``"nn.softmax_crossentropy"``, ...; see :mod:`refkeras.backend.fused`) to a kernel that computes
  the same thing in one call.  The core asks :func:`refkeras.backend.fused.kernel` for it and falls
  back to the composition written in plain ops when the backend has none; the conformance suite
  checks each kernel against the composition it replaces.
- ``random()``: a module of Philox functions (``uniform01``, ``normal01``,
  ``truncated_normal01``, ``permutation``, ``random_bits`` with the signatures of
  :mod:`refkeras.primitives.random`) on the backend's arrays.  ``refkeras.random`` uses it for
  draws whose seed state is an array (traced inside a compiled step); eager draws, with int
  keys, always use the reference.  The default is the NumPy reference generator.
- ``make_train_function(trainer)`` / ``make_test_function`` / ``make_predict_function``: compiled
  steps.  ``None`` means the trainer's eager loop.
"""

from __future__ import annotations

import numpy as np


class Backend:
    """A backend of refkeras (subclass it; the defaults describe NumPy arrays)."""

    #: the name shown by ``model.summary()`` and ``refkeras info``
    name: str = "numpy"
    #: ``pip install "refkeras[<extra>]"`` installs what it needs
    extra: str | None = None
    #: the type(s) of the backend's arrays
    array_types: tuple[type, ...] = (np.ndarray, np.generic)

    def primitives(self) -> dict[str, tuple]:
        """``{primitive name: (forward, vjp)}`` for every primitive of
        :data:`refkeras.primitives.interface.ALL_PRIMITIVES`."""
        raise NotImplementedError(f"{type(self).__name__} must define primitives()")

    def fused_kernels(self) -> dict[str, object]:
        """``{composition name: kernel}`` (empty: the core runs the plain compositions)."""
        return {}

    def asarray(self, x, dtype=None):
        """A backend array holding ``x`` (a NumPy array, Python scalar or backend array)."""
        return np.asarray(x, dtype=dtype)

    def to_numpy(self, x) -> np.ndarray:
        """A NumPy array with the value of backend array ``x`` (a copy off the device)."""
        return np.asarray(x)

    def describe(self) -> str:
        """One line for diagnostics: versions and devices."""
        return f"numpy {np.__version__} (CPU)"

    def random(self):
        """The Philox generator module random ops draw from (default: the NumPy reference)."""
        from refkeras.primitives import random

        return random

    def make_train_function(self, trainer):
        return None

    def make_test_function(self, trainer):
        return None

    def make_predict_function(self, trainer):
        return None

    def __repr__(self) -> str:
        return f"<refkeras backend {self.name!r}>"


class NumpyBackend(Backend):
    """The reference: ``refkeras/primitives/<family>.py``, plain NumPy, forward and VJP side by
    side.  No fused kernels and no compiled steps: what it computes is what the code says."""

    name = "numpy"

    def primitives(self) -> dict[str, tuple]:
        from refkeras.primitives.interface import reference_table

        return reference_table()
