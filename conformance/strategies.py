"""Shared hypothesis strategies: shapes, broadcastable shape pairs, arrays with controlled
magnitudes and edge-case fills, dtypes, and window (conv/pool) configurations.

Array *values* come from a NumPy generator seeded by hypothesis rather than element by element:
drawing hundreds of floats through hypothesis is slow, and shrinking individual float values
rarely helps with numerical discrepancies.  Hypothesis still chooses and shrinks everything
structural (shapes, parameters, the fill style, the scale), and a failing case's inputs are saved
verbatim (see :mod:`conformance.repro`), so nothing is lost for reproduction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

from conformance.tolerances import as_dtype, largest


@dataclass(frozen=True)
class Domain:
    """Where a function's float inputs are drawn: ``[low, high]``, keeping ``|x| >= away``
    from ``avoid`` points (poles, kinks: 0 for ``log``/``divide``, integers for ``floor``)."""

    low: float = -3.0
    high: float = 3.0
    avoid: tuple[float, ...] = ()
    away: float = 0.0
    #: fill styles allowed besides "uniform"/"normal": "ties" (few distinct values), "zeros"
    styles: tuple[str, ...] = ("uniform", "normal", "ties", "zeros")


DEFAULT = Domain()
POSITIVE = Domain(0.05, 4.0, styles=("uniform", "normal", "ties"))


def fill(rng: np.random.Generator, shape, domain: Domain, style: str) -> np.ndarray:
    """Float64 values for ``shape`` in ``domain``, in the given fill ``style``."""
    lo, hi = domain.low, domain.high
    if style == "zeros" and lo <= 0 <= hi and not (0 in domain.avoid and domain.away > 0):
        return np.zeros(shape)
    if style == "ties":
        # Few distinct values, so maxima/minima tie and sorts are unstable.
        choices = rng.uniform(lo, hi, size=3)
        x = rng.choice(choices, size=shape)
    elif style == "normal":
        mid, half = (lo + hi) / 2, (hi - lo) / 2
        x = np.clip(mid + half / 2.5 * rng.standard_normal(shape), lo, hi)
    else:
        x = rng.uniform(lo, hi, size=shape)
    for point in domain.avoid:
        near = np.abs(x - point) < domain.away
        x = np.where(near, point + np.where(x >= point, 1, -1) * domain.away, x)
        x = np.clip(x, lo, hi)
    return np.asarray(x, dtype=np.float64)


def fit_domain(domain: Domain, dtype) -> Domain:
    """``domain`` clipped to what ``dtype`` can hold."""
    top = largest(as_dtype(dtype)) / 4
    return Domain(
        max(domain.low, -top), min(domain.high, top), domain.avoid, domain.away, domain.styles
    )


@st.composite
def arrays(draw, shape, dtype, domain: Domain = DEFAULT, style: str | None = None) -> np.ndarray:
    """An array of ``shape`` in ``dtype`` with values in ``domain``.  Drawing
    ``dtype`` values from float64 ones rounds them: the array handed to the backend and the
    float64 upcast handed to the reference hold the same numbers."""
    dtype = as_dtype(dtype)
    domain = fit_domain(domain, dtype)
    style = style or draw(st.sampled_from(domain.styles), label="fill")
    seed = draw(st.integers(0, 2**32 - 1), label="values seed")
    x = fill(np.random.default_rng(seed), tuple(shape), domain, style)
    for point in domain.avoid:  # rounding to dtype must not land back on a pole
        x = np.where(
            np.abs(x.astype(dtype).astype(np.float64) - point) < domain.away / 2,
            point + domain.away,
            x,
        )
    return x.astype(dtype)


def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 5):
    """Array shapes (tuples of ints)."""
    return st.lists(st.integers(min_side, max_side), min_size=min_dims, max_size=max_dims).map(
        tuple
    )


@st.composite
def broadcastable_shapes(draw, max_dims: int = 3, max_side: int = 4) -> tuple[tuple, tuple]:
    """Two shapes that broadcast together: each axis of the result is kept in one operand,
    set to 1 in it, or dropped from the front of it."""
    full = draw(shapes(0, max_dims, 1, max_side))
    out = []
    for _ in range(2):
        shape = [n if draw(st.booleans()) else 1 for n in full]
        drop = draw(st.integers(0, len(shape)))
        out.append(tuple(shape[drop:]))
    return tuple(out)


def axes(ndim: int, allow_none: bool = True, allow_tuple: bool = True):
    """A reduction ``axis``: None, one axis (possibly negative) or a tuple of distinct axes."""
    options = []
    if allow_none:
        options.append(st.none())
    if ndim:
        options.append(st.integers(-ndim, ndim - 1))
        if allow_tuple:
            options.append(
                st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).map(
                    tuple
                )
            )
    return st.one_of(options) if options else st.none()


def float_dtypes(names=("float32", "float64", "float16", "bfloat16")):
    return st.sampled_from([as_dtype(n) for n in names])


# --- window operations -------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """A conv/pool configuration: ``rank`` spatial dims, input ``spatial`` size, ``window``
    (kernel or pool size), ``strides``, ``dilation``, ``padding`` and the Keras
    ``data_format``."""

    rank: int
    batch: int
    spatial: tuple[int, ...]
    window: tuple[int, ...]
    strides: tuple[int, ...]
    dilation: tuple[int, ...]
    padding: str
    data_format: str = "channels_last"


@st.composite
def windows(
    draw,
    ranks=(1, 2, 3),
    max_window: int = 3,
    max_spatial: int = 6,
    paddings=("valid", "same", "causal"),
    dilation: bool = True,
    data_formats=("channels_last",),
    max_batch: int = 2,
) -> Window:
    """A window geometry whose output is not empty.  ``"causal"`` only for rank 1; dilation and
    strides above 1 are never combined (XLA allows it, Keras refuses it)."""
    rank = draw(st.sampled_from(ranks))
    padding = draw(st.sampled_from([p for p in paddings if p != "causal" or rank == 1]))
    window = tuple(draw(st.integers(1, max_window)) for _ in range(rank))
    use_dilation = dilation and draw(st.booleans())
    if use_dilation:
        dil = tuple(draw(st.integers(1, 2)) for _ in range(rank))
        strides = (1,) * rank
    else:
        dil = (1,) * rank
        strides = tuple(draw(st.integers(1, 3)) for _ in range(rank))
    span = [(k - 1) * d + 1 for k, d in zip(window, dil)]
    low = [1 if padding != "valid" else s for s in span]
    spatial = tuple(draw(st.integers(lo, max(lo, max_spatial))) for lo in low)
    batch = draw(st.integers(1, max_batch))
    data_format = draw(st.sampled_from(data_formats))
    return Window(rank, batch, spatial, window, strides, dil, padding, data_format)
