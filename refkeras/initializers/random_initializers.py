"""Random initializers: uniform, normal, truncated normal, variance scaling (Glorot, He, LeCun)
and orthogonal.

Seeds follow Keras 3: an int ``seed`` makes the initializer return the same values on every call;
a :class:`~refkeras.random.SeedGenerator` advances on each call; ``seed=None`` draws an int seed
from the global stream when the initializer is built (so two unseeded initializers differ, and
``refkeras.random.set_random_seed`` makes a program's initial weights reproducible).
"""

from __future__ import annotations

import math

import numpy as np

from refkeras import random
from refkeras.backend.dtypes import standardize_dtype
from refkeras.backend.tensor import Tensor
from refkeras.initializers.initializer import Initializer
from refkeras.random.seed_generator import SeedGenerator, _fresh_seed

# The standard deviation of a standard normal truncated to [-2, 2]; dividing by it makes a
# truncated normal draw have the intended variance.
TRUNCATED_NORMAL_STDDEV = 0.87962566103423978


def _serialize_seed(seed):
    """``None``/int as is; a SeedGenerator as Keras's ``keras.random.SeedGenerator`` config."""
    if isinstance(seed, SeedGenerator):
        return {
            "module": "keras.random",
            "class_name": "SeedGenerator",
            "config": {"seed": seed._initial_seed, "name": seed.name},
            "registered_name": None,
        }
    return seed


def _deserialize_seed(config: dict) -> SeedGenerator:
    if config.get("class_name") != "SeedGenerator":
        raise ValueError(f"Could not deserialize seed: {config}")
    return SeedGenerator(**config.get("config", {}))


class RandomInitializer(Initializer):
    """Base of the random initializers: resolves the ``seed`` argument.

    Args:
        seed: an int (the same values on every call), a ``SeedGenerator`` (new values on every
            call), a serialized ``SeedGenerator`` dict, or ``None`` (an int drawn from the global
            stream now).
    """

    def __init__(self, seed=None):
        self._init_seed = seed
        if seed is None:
            seed = _fresh_seed()
        elif isinstance(seed, dict):
            seed = _deserialize_seed(seed)
        elif isinstance(seed, bool) or not isinstance(seed, int | np.integer | SeedGenerator):
            raise ValueError(
                "`seed` argument should be an instance of `keras.random.SeedGenerator()` or an "
                f"integer. Received: seed={seed}"
            )
        self.seed = int(seed) if isinstance(seed, np.integer) else seed

    def get_config(self) -> dict:
        return {"seed": _serialize_seed(self._init_seed)}


class RandomNormal(RandomInitializer):
    """Normal draws with ``mean`` (default 0.0) and ``stddev`` (default 0.05)."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed=None):
        self.mean = mean
        self.stddev = stddev
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None) -> Tensor:
        return random.normal(
            shape=shape, mean=self.mean, stddev=self.stddev, seed=self.seed, dtype=dtype
        )

    def get_config(self) -> dict:
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


class TruncatedNormal(RandomInitializer):
    """Normal draws with ``mean`` (default 0.0) and ``stddev`` (default 0.05), where values more
    than two standard deviations from the mean are redrawn (so the actual standard deviation is
    ``0.8796 * stddev``)."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed=None):
        self.mean = mean
        self.stddev = stddev
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None) -> Tensor:
        return random.truncated_normal(
            shape=shape, mean=self.mean, stddev=self.stddev, seed=self.seed, dtype=dtype
        )

    def get_config(self) -> dict:
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


class RandomUniform(RandomInitializer):
    """Uniform draws in ``[minval, maxval)``, by default ``[-0.05, 0.05)``."""

    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed=None):
        self.minval = minval
        self.maxval = maxval
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None) -> Tensor:
        return random.uniform(
            shape=shape, minval=self.minval, maxval=self.maxval, seed=self.seed, dtype=dtype
        )

    def get_config(self) -> dict:
        return {**super().get_config(), "minval": self.minval, "maxval": self.maxval}


def compute_fans(shape, input_axes=None, output_axes=None) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight shape, as Keras computes them.

    * explicit ``input_axes`` and ``output_axes``: the products of those dimensions;
    * rank 0: ``(1, 1)``; rank 1: ``(n, n)``; rank 2 ``(in, out)``: ``(in, out)``;
    * a convolution kernel ``(*spatial, in, out)``: ``(in * r, out * r)`` with ``r`` the product
      of the spatial (receptive field) sizes.
    """
    shape = tuple(shape)
    if input_axes is not None and output_axes is not None:
        fan_in = 1
        for axis in input_axes:
            fan_in *= shape[axis]
        fan_out = 1
        for axis in output_axes:
            fan_out *= shape[axis]
        return int(fan_in), int(fan_out)
    if len(shape) < 1:
        fan_in = fan_out = 1
    elif len(shape) == 1:
        fan_in = fan_out = shape[0]
    elif len(shape) == 2:
        fan_in, fan_out = shape
    else:
        receptive_field_size = 1
        for dim in shape[:-2]:
            receptive_field_size *= dim
        fan_in = shape[-2] * receptive_field_size
        fan_out = shape[-1] * receptive_field_size
    return int(fan_in), int(fan_out)


class VarianceScaling(RandomInitializer):
    """Draws whose variance is ``scale / n``, with ``n`` the fan-in, the fan-out or their average.

    * ``"truncated_normal"`` (default; ``"normal"`` means the same): a truncated normal with
      ``stddev = sqrt(scale / n) / 0.87962566103423978`` (the correction for the truncation);
    * ``"untruncated_normal"``: a normal with ``stddev = sqrt(scale / n)``;
    * ``"uniform"``: uniform in ``[-limit, limit)`` with ``limit = sqrt(3 scale / n)``.

    ``n`` is at least 1.  Args: ``scale=1.0`` (positive), ``mode="fan_in"`` (or ``"fan_out"``,
    ``"fan_avg"``), ``distribution="truncated_normal"``, ``seed=None``, and
    ``input_axes``/``output_axes`` to name the fan axes explicitly (see :func:`compute_fans`).
    """

    def __init__(
        self,
        scale: float = 1.0,
        mode: str = "fan_in",
        distribution: str = "truncated_normal",
        seed=None,
        input_axes=None,
        output_axes=None,
    ):
        if scale <= 0.0:
            raise ValueError(f"Argument `scale` must be positive float. Received: scale={scale}")
        allowed_modes = {"fan_in", "fan_out", "fan_avg"}
        if mode not in allowed_modes:
            raise ValueError(f"Invalid `mode` argument: {mode}. Please use one of {allowed_modes}")
        distribution = distribution.lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        allowed_distributions = {"uniform", "truncated_normal", "untruncated_normal"}
        if distribution not in allowed_distributions:
            raise ValueError(
                f"Invalid `distribution` argument: {distribution}. "
                f"Please use one of {allowed_distributions}"
            )
        self.scale = scale
        self.mode = mode
        self.distribution = distribution
        self.input_axes = input_axes
        self.output_axes = output_axes
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None) -> Tensor:
        scale = self.scale
        fan_in, fan_out = compute_fans(
            shape, input_axes=self.input_axes, output_axes=self.output_axes
        )
        if self.mode == "fan_in":
            scale /= max(1.0, fan_in)
        elif self.mode == "fan_out":
            scale /= max(1.0, fan_out)
        else:
            scale /= max(1.0, (fan_in + fan_out) / 2.0)
        if self.distribution == "truncated_normal":
            stddev = math.sqrt(scale) / TRUNCATED_NORMAL_STDDEV
            return random.truncated_normal(
                shape, mean=0.0, stddev=stddev, dtype=dtype, seed=self.seed
            )
        if self.distribution == "untruncated_normal":
            stddev = math.sqrt(scale)
            return random.normal(shape, mean=0.0, stddev=stddev, dtype=dtype, seed=self.seed)
        limit = math.sqrt(3.0 * scale)
        return random.uniform(shape, minval=-limit, maxval=limit, dtype=dtype, seed=self.seed)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
            "input_axes": self.input_axes,
            "output_axes": self.output_axes,
        }


class _FixedVarianceScaling(VarianceScaling):
    """A :class:`VarianceScaling` preset; its config holds only the seed and the fan axes."""

    _scale: float
    _mode: str
    _distribution: str

    def __init__(self, seed=None, input_axes=None, output_axes=None):
        super().__init__(
            scale=self._scale,
            mode=self._mode,
            distribution=self._distribution,
            seed=seed,
            input_axes=input_axes,
            output_axes=output_axes,
        )

    def get_config(self) -> dict:
        return {
            "seed": _serialize_seed(self._init_seed),
            "input_axes": self.input_axes,
            "output_axes": self.output_axes,
        }


class GlorotUniform(_FixedVarianceScaling):
    """Glorot (Xavier) uniform: uniform in ``[-limit, limit)``,
    ``limit = sqrt(6 / (fan_in + fan_out))`` (VarianceScaling(1.0, "fan_avg", "uniform"))."""

    _scale, _mode, _distribution = 1.0, "fan_avg", "uniform"


class GlorotNormal(_FixedVarianceScaling):
    """Glorot (Xavier) normal: truncated normal with ``stddev = sqrt(2 / (fan_in + fan_out))``
    (VarianceScaling(1.0, "fan_avg", "truncated_normal"))."""

    _scale, _mode, _distribution = 1.0, "fan_avg", "truncated_normal"


class LecunNormal(_FixedVarianceScaling):
    """LeCun normal: truncated normal with ``stddev = sqrt(1 / fan_in)``
    (VarianceScaling(1.0, "fan_in", "truncated_normal"))."""

    _scale, _mode, _distribution = 1.0, "fan_in", "truncated_normal"


class LecunUniform(_FixedVarianceScaling):
    """LeCun uniform: uniform in ``[-limit, limit)``, ``limit = sqrt(3 / fan_in)``
    (VarianceScaling(1.0, "fan_in", "uniform"))."""

    _scale, _mode, _distribution = 1.0, "fan_in", "uniform"


class HeNormal(_FixedVarianceScaling):
    """He normal: truncated normal with ``stddev = sqrt(2 / fan_in)``
    (VarianceScaling(2.0, "fan_in", "truncated_normal"))."""

    _scale, _mode, _distribution = 2.0, "fan_in", "truncated_normal"


class HeUniform(_FixedVarianceScaling):
    """He uniform: uniform in ``[-limit, limit)``, ``limit = sqrt(6 / fan_in)``
    (VarianceScaling(2.0, "fan_in", "uniform"))."""

    _scale, _mode, _distribution = 2.0, "fan_in", "uniform"


class Orthogonal(RandomInitializer):
    """A random orthogonal matrix times ``gain`` (default 1.0).

    The shape is flattened to ``(rows, cols) = (prod(shape[:-1]), shape[-1])``.  A standard normal
    matrix of shape ``(max(rows, cols), min(rows, cols))`` is factored ``Q R``; ``Q`` times the
    signs of ``diag(R)`` (making the distribution uniform over orthogonal matrices) has orthonormal
    columns, and is transposed when ``rows < cols``.  So the result has orthonormal rows or
    columns, whichever are fewer.
    """

    def __init__(self, gain: float = 1.0, seed=None):
        self.gain = gain
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None) -> Tensor:
        if len(shape) < 2:
            raise ValueError(
                "The tensor to initialize must be at least two-dimensional. Received: "
                f"shape={shape} of rank {len(shape)}."
            )
        dtype = standardize_dtype(dtype)
        num_rows = 1
        for dim in shape[:-1]:
            num_rows *= dim
        num_cols = shape[-1]
        flat_shape = (max(num_cols, num_rows), min(num_cols, num_rows))
        a = np.asarray(random.normal(flat_shape, seed=self.seed, dtype=dtype), dtype=np.float64)
        q, r = np.linalg.qr(a)
        q = q * np.sign(np.diag(r))
        if num_rows < num_cols:
            q = q.T
        return Tensor((self.gain * q.reshape(shape)).astype(dtype))

    def get_config(self) -> dict:
        return {**super().get_config(), "gain": self.gain}
