"""Deterministic initializers: :class:`Zeros`, :class:`Ones`, :class:`Constant`,
:class:`Identity` and :class:`STFT`."""

from __future__ import annotations

import numpy as np

from refkeras import ops
from refkeras.backend.dtypes import standardize_dtype
from refkeras.backend.tensor import Tensor
from refkeras.initializers.initializer import Initializer
from refkeras.saving import serialization_lib


class Constant(Initializer):
    """Every entry equal to ``value`` (default 0.0); an array ``value`` is broadcast to the shape.

    ``Constant(value)(shape, dtype) = cast(value, dtype) * ones(shape, dtype)``.
    """

    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype=None) -> Tensor:
        dtype = standardize_dtype(dtype)
        return ops.cast(self.value, dtype=dtype) * ops.ones(shape=shape, dtype=dtype)

    def get_config(self) -> dict:
        return {"value": serialization_lib.serialize_keras_object(self.value)}

    @classmethod
    def from_config(cls, config: dict) -> Constant:
        return cls(serialization_lib.deserialize_keras_object(config["value"]))


class Zeros(Initializer):
    """All zeros."""

    def __call__(self, shape, dtype=None) -> Tensor:
        return ops.zeros(shape, dtype=standardize_dtype(dtype))


class Ones(Initializer):
    """All ones."""

    def __call__(self, shape, dtype=None) -> Tensor:
        return ops.ones(shape, dtype=standardize_dtype(dtype))


class Identity(Initializer):
    """``gain * eye(rows, cols)`` for a 2-D shape; ``gain`` defaults to 1.0."""

    def __init__(self, gain: float = 1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None) -> Tensor:
        if len(shape) != 2:
            raise ValueError(
                "Identity matrix initializer can only be used for 2D matrices. "
                f"Received: shape={shape} of rank {len(shape)}."
            )
        return self.gain * ops.eye(*shape, dtype=standardize_dtype(dtype))

    def get_config(self) -> dict:
        return {"gain": self.gain}


# Generalised cosine windows a0 - a1 cos(2 pi n / N) + a2 cos(4 pi n / N), as scipy.signal names
# them (N = M - 1 for the symmetric window, M for the periodic one).
_COSINE_WINDOWS = {
    "boxcar": (1.0, 0.0, 0.0),
    "hann": (0.5, 0.5, 0.0),
    "hamming": (0.54, 0.46, 0.0),
    "blackman": (0.42, 0.5, 0.08),
}


def _window(name: str, length: int, periodic: bool) -> np.ndarray:
    """The window ``scipy.signal.get_window(name, length, fftbins=periodic)`` for the cosine
    windows refkeras knows (``hann``, ``hamming``, ``blackman``, ``boxcar``)."""
    if name not in _COSINE_WINDOWS:
        raise ValueError(
            f"Unknown window type: {name!r}. refkeras supports the windows "
            f"{sorted(_COSINE_WINDOWS)} or an explicit array."
        )
    if length == 1:
        return np.ones(1)
    a0, a1, a2 = _COSINE_WINDOWS[name]
    period = length if periodic else length - 1
    n = np.arange(length)
    return a0 - a1 * np.cos(2 * np.pi * n / period) + a2 * np.cos(4 * np.pi * n / period)


class STFT(Initializer):
    """The real or imaginary part of the DFT matrix, optionally windowed: the kernel of a 1-D
    convolution computing a short-time Fourier transform.

    For ``shape = (frame_length, input_channels, fft_length)`` the kernel (of shape
    ``(frame_length, 1, fft_length)``) is ``cos(-2 pi t f / N)`` (``side="real"``) or
    ``sin(-2 pi t f / N)`` (``side="imag"``), ``N = 2 (fft_length - 1)``, multiplied by
    ``window[t] / scaling`` where ``scaling`` is ``sqrt(sum(window^2))`` (``"density"``, default),
    ``sum(|window|)`` (``"spectrum"``) or 1 (``None``).

    Args:
        side: ``"real"`` (default) or ``"imag"``.
        window: a window name (``"hann"`` by default, ``"hamming"``, ``"blackman"``,
            ``"boxcar"``), an array of length ``frame_length``, or ``None``.
        scaling: ``"density"``, ``"spectrum"`` or ``None``.
        periodic: use the periodic (DFT-even) form of a named window. Defaults to False.
    """

    def __init__(self, side="real", window="hann", scaling="density", periodic=False):
        if side not in ["real", "imag"]:
            raise ValueError(f"side should be 'real' or 'imag', not {side}")
        if isinstance(window, str):
            _window(window, 1, periodic)  # raises for an unknown window
        if scaling is not None and scaling not in ["density", "spectrum"]:
            raise ValueError(
                "Scaling is invalid, it must be `None`, 'density' or 'spectrum'. "
                f"Received scaling={scaling}"
            )
        self.side = side
        self.window = window
        self.scaling = scaling
        self.periodic = periodic

    def __call__(self, shape, dtype=None) -> Tensor:
        dtype = standardize_dtype(dtype)
        frame_length, _input_channels, fft_length = shape
        win = None
        scaling = 1
        if self.window is not None:
            win = self.window
            if isinstance(win, str):
                win = _window(win, frame_length, self.periodic)
            win = ops.convert_to_tensor(np.asarray(win), dtype=dtype)
            if len(win.shape) != 1 or win.shape[-1] != frame_length:
                raise ValueError(
                    "The shape of `window` must be equal to [frame_length]."
                    f"Received: window shape={win.shape}"
                )
            win = ops.reshape(win, [frame_length, 1, 1])
            if self.scaling == "density":
                scaling = ops.sqrt(ops.sum(ops.square(win)))
            elif self.scaling == "spectrum":
                scaling = ops.sum(ops.abs(win))
        n_fft = (fft_length - 1) * 2
        freq = ops.reshape(ops.arange(fft_length, dtype=dtype), (1, 1, fft_length)) / n_fft
        time = ops.reshape(ops.arange(frame_length, dtype=dtype), (frame_length, 1, 1))
        args = -2 * time * freq * np.asarray(np.pi, dtype=dtype)
        kernel = ops.cos(args) if self.side == "real" else ops.sin(args)
        if win is not None:
            kernel = kernel * win / scaling
        return kernel

    def get_config(self) -> dict:
        return {
            "side": self.side,
            "window": self.window,
            "periodic": self.periodic,
            "scaling": self.scaling,
        }
