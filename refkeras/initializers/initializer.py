"""The :class:`Initializer` base class."""

from __future__ import annotations


class Initializer:
    """Base class of all initializers: a callable ``(shape, dtype=None) -> tensor``.

    Subclasses implement ``__call__`` and, when their constructor takes arguments, ``get_config``
    returning them; the default :meth:`from_config` passes the config back to the constructor::

        class ExampleRandomNormal(Initializer):
            def __init__(self, mean, stddev):
                self.mean, self.stddev = mean, stddev

            def __call__(self, shape, dtype=None):
                return refkeras.random.normal(shape, self.mean, self.stddev, dtype=dtype)

            def get_config(self):
                return {"mean": self.mean, "stddev": self.stddev}

    ``dtype=None`` means ``refkeras.config.floatx()``.
    """

    _keras_module = "keras.initializers"

    def __call__(self, shape, dtype=None):
        """A tensor of ``shape`` and ``dtype`` holding the initial values."""
        raise NotImplementedError("Initializer subclasses must implement the `__call__()` method.")

    def get_config(self) -> dict:
        """The constructor arguments, as a JSON-serializable dict."""
        return {}

    @classmethod
    def from_config(cls, config: dict) -> Initializer:
        """The initializer built from ``get_config()``'s output: ``cls(**config)``."""
        return cls(**config)

    def clone(self) -> Initializer:
        """A new initializer with the same configuration."""
        return self.__class__.from_config(self.get_config())
