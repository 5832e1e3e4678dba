"""Pooling primitives: N-D, channels_last, forward and VJP side by side.

``x`` is ``(batch, *spatial, channels)``; each channel is pooled independently.  Output position
``o`` covers the input positions ``p = o * strides + t - pad_before`` for window taps
``t in [0, pool_size)``.  Padding (``"valid"`` or ``"same"``, the latter XLA SAME exactly as
Keras 3 on the JAX backend; see ``conv.padding_amounts``) never contributes to a value:

* max pooling pads with ``-inf`` (Keras/JAX: ``lax.reduce_window`` with init ``-inf``);
* average pooling divides by the number of *unpadded* elements in each window (Keras/JAX divides
  a zero-padded window sum by a window count computed the same way).

Max-pool gradient routing (verified against ``jax.vjp`` of ``keras.ops.max_pool``): JAX
transposes ``reduce_window(max)`` into XLA's ``select_and_scatter`` with ``select = ge``, which
scans each window in row-major order and moves to a candidate only when
``not (current >= candidate)``.  So

* on ties, the whole cotangent goes to the *first* maximal element of the window;
* padded positions take part in the scan as ``-inf``: a window that is all ``-inf`` and starts
  in the padding sends its cotangent into the padding (it is lost);
* after a NaN the scan always moves on (``nan >= c`` is false), so the cotangent goes to the
  first maximum of the elements after the window's last NaN, or to that NaN if it ends the
  window (the forward output is NaN either way).

``max_pool_vjp`` implements exactly that scan; the ``*_naive`` versions restate everything as
python loops over output positions and are used only by the tests.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from refkeras.primitives.conv import as_tuple, crop_padding, tap_slices, window_geometry

__all__ = [
    "max_pool",
    "max_pool_vjp",
    "average_pool",
    "average_pool_vjp",
    "max_pool_naive",
    "max_pool_vjp_naive",
    "average_pool_naive",
    "average_pool_vjp_naive",
]


def _geometry(x, pool_size, strides, padding):
    """``(pool_size, strides, pads, out_shape)``; ``strides=None`` means ``pool_size`` (Keras)."""
    if padding.lower() not in ("valid", "same"):
        raise ValueError(f"Invalid padding {padding!r} for pooling; expected 'valid' or 'same'.")
    rank = x.ndim - 2
    pool_size = as_tuple(pool_size, rank, "pool_size")
    strides = pool_size if strides is None else strides
    strides, _, pads, out_shape = window_geometry(x.shape, pool_size, strides, padding, 1)
    return pool_size, strides, pads, out_shape


def _windows(xp, pool_size, strides, out_shape):
    """Yield, per window tap in row-major order, the ``(batch, *out, channels)`` index into the
    padded input that every output position reads at that tap."""
    ones = (1,) * len(pool_size)
    for tap in itertools.product(*map(range, pool_size)):
        yield tap_slices(tap, out_shape, strides, ones)


# ----------------------------------------------------------------------------------------------
# Max pooling
# ----------------------------------------------------------------------------------------------


def max_pool(
    x: np.ndarray,
    *,
    pool_size: int | Sequence[int],
    strides: int | Sequence[int] | None,
    padding: str,
) -> np.ndarray:
    """N-D max pooling: ``out[b, o, c] = max_t xpad[b, o*s + t, c]`` with ``-inf`` padding.

    Parameters
    ----------
    x : ``(batch, *spatial, channels)``, floating point.
    pool_size : int or tuple of length ``rank``.
    strides : int, tuple of length ``rank``, or None (= ``pool_size``).
    padding : ``"valid"`` or ``"same"``.

    Returns
    -------
    ``(batch, *out_spatial, channels)``, same dtype as ``x``.  NaNs propagate.
    """
    pool_size, strides, pads, out_shape = _geometry(x, pool_size, strides, padding)
    xp = np.pad(x, [(0, 0), *pads, (0, 0)], constant_values=-np.inf)
    out = None
    for idx in _windows(xp, pool_size, strides, out_shape):
        out = xp[idx].copy() if out is None else np.maximum(out, xp[idx], out=out)
    return out


def _first_max_tap(xp, pool_size, strides, out_shape):
    """Index (row-major within the window) of the tap that XLA's ``select_and_scatter(ge)``
    picks for each output: the first maximum, with the NaN behaviour described above."""
    best = choice = None
    for i, idx in enumerate(_windows(xp, pool_size, strides, out_shape)):
        cand = xp[idx]
        if best is None:
            best, choice = cand, np.zeros(cand.shape, dtype=np.int32)
            continue
        move = ~(best >= cand)
        # Branch-free forms of ``np.where(move, cand, best)`` and ``np.where(move, i, choice)``,
        # several times faster on random data.  maximum(cand, fmax(best, cand)) is cand when
        # either is NaN (as the scan moves) and max(best, cand) otherwise.
        best = np.maximum(cand, np.fmax(best, cand))
        choice += move * (i - choice)
    return choice


def max_pool_vjp(
    g: np.ndarray,
    out: np.ndarray,
    x: np.ndarray,
    *,
    pool_size: int | Sequence[int],
    strides: int | Sequence[int] | None,
    padding: str,
) -> tuple[np.ndarray]:
    """VJP of ``max_pool``: each window's cotangent ``g[b, o, c]`` goes to its selected element.

    ``dx[p] = sum over windows o whose selected tap reads p of g[o]`` (windows may overlap, so
    one element can collect from several windows).  Selection = first maximum in row-major
    window order, as JAX/XLA does (see the module docstring).  Returns ``(dx,)``.
    """
    pool_size, strides, pads, out_shape = _geometry(x, pool_size, strides, padding)
    xp = np.pad(x, [(0, 0), *pads, (0, 0)], constant_values=-np.inf)
    choice = _first_max_tap(xp, pool_size, strides, out_shape)
    g = np.asarray(g, dtype=x.dtype)
    # ``g * mask`` is a branch-free select, exact unless g holds inf/nan (inf * 0 = nan).
    finite = bool(np.isfinite(g).all())
    dxp = np.zeros(xp.shape, dtype=x.dtype)
    for i, idx in enumerate(_windows(xp, pool_size, strides, out_shape)):
        mask = choice == i
        dxp[idx] += g * mask if finite else np.where(mask, g, 0)
    return (crop_padding(dxp, pads),)


# ----------------------------------------------------------------------------------------------
# Average pooling
# ----------------------------------------------------------------------------------------------


def _window_counts(x_shape, pool_size, strides, pads, out_shape, dtype):
    """Number of unpadded elements in each window, ``(1, *out_spatial, 1)``.

    A window's valid region is a box, so its size is the product of per-dimension lengths
    ``min(start + k, n) - max(start, 0)`` with ``start = o * s - pad_before``.
    """
    counts = np.ones((1,) * (len(pool_size) + 2), dtype=dtype)
    for axis, (n, k, s, (lo, _), n_out) in enumerate(
        zip(x_shape[1:-1], pool_size, strides, pads, out_shape), start=1
    ):
        start = np.arange(n_out) * s - lo
        length = np.minimum(start + k, n) - np.maximum(start, 0)
        shape = [1] * counts.ndim
        shape[axis] = n_out
        counts = counts * length.astype(dtype).reshape(shape)
    return counts


def average_pool(
    x: np.ndarray,
    *,
    pool_size: int | Sequence[int],
    strides: int | Sequence[int] | None,
    padding: str,
) -> np.ndarray:
    """N-D average pooling over the unpadded part of each window.

    ``out[b, o, c] = sum_{t : p valid} x[b, p, c] / count(o)``, ``p = o*s + t - pad_before``,
    ``count(o)`` the number of valid ``p`` (``prod(pool_size)`` everywhere for ``"valid"``).

    Parameters and returns as for ``max_pool``.
    """
    pool_size, strides, pads, out_shape = _geometry(x, pool_size, strides, padding)
    xp = np.pad(x, [(0, 0), *pads, (0, 0)])
    total = None
    for idx in _windows(xp, pool_size, strides, out_shape):
        total = xp[idx].copy() if total is None else np.add(total, xp[idx], out=total)
    return total / _window_counts(x.shape, pool_size, strides, pads, out_shape, x.dtype)


def average_pool_vjp(
    g: np.ndarray,
    out: np.ndarray,
    x: np.ndarray,
    *,
    pool_size: int | Sequence[int],
    strides: int | Sequence[int] | None,
    padding: str,
) -> tuple[np.ndarray]:
    """VJP of ``average_pool``: ``dx[p] = sum over windows o containing p of g[o] / count(o)``.

    Returns ``(dx,)``.
    """
    pool_size, strides, pads, out_shape = _geometry(x, pool_size, strides, padding)
    counts = _window_counts(x.shape, pool_size, strides, pads, out_shape, x.dtype)
    share = np.asarray(g, dtype=x.dtype) / counts
    padded_shape = [n + lo + hi for n, (lo, hi) in zip(x.shape[1:-1], pads)]
    dxp = np.zeros((x.shape[0], *padded_shape, x.shape[-1]), dtype=x.dtype)
    for idx in _windows(dxp, pool_size, strides, out_shape):
        dxp[idx] += share
    return (crop_padding(dxp, pads),)


# ----------------------------------------------------------------------------------------------
# Naive versions: the definitions, as loops over output positions
# ----------------------------------------------------------------------------------------------


def _naive_windows(x, pool_size, strides, padding):
    """Yield ``(b, o, positions)``: for each output position, the window's input positions in
    row-major tap order, with ``None`` for taps that fall in the padding."""
    pool_size, strides, pads, out_shape = _geometry(x, pool_size, strides, padding)
    for b in range(x.shape[0]):
        for o in itertools.product(*map(range, out_shape)):
            positions = []
            for t in itertools.product(*map(range, pool_size)):
                p = tuple(oi * s + ti - lo for oi, ti, s, (lo, _) in zip(o, t, strides, pads))
                inside = all(0 <= pi < n for pi, n in zip(p, x.shape[1:-1]))
                positions.append(p if inside else None)
            yield b, o, positions


def _out_shape(x, pool_size, strides, padding):
    return (x.shape[0], *_geometry(x, pool_size, strides, padding)[3], x.shape[-1])


def max_pool_naive(
    x: np.ndarray,
    *,
    pool_size: int | Sequence[int],
    strides: int | Sequence[int] | None,
    padding: str,
) -> np.ndarray:
    """Loop version of ``max_pool``; for reading and testing only."""
    out = np.empty(_out_shape(x, pool_size, strides, padding), dtype=x.dtype)
    for b, o, positions in _naive_windows(x, pool_size, strides, padding):
        values = [x[(b, *p)] if p is not None else np.full(x.shape[-1], -np.inf) for p in positions]
        out[(b, *o)] = np.max(values, axis=0)
    return out


def max_pool_vjp_naive(
    g: np.ndarray,
    out: np.ndarray,
    x: np.ndarray,
    *,
    pool_size: int | Sequence[int],
    strides: int | Sequence[int] | None,
    padding: str,
) -> tuple[np.ndarray]:
    """Loop version of ``max_pool_vjp``: the XLA ``select_and_scatter(ge)`` scan, per channel."""
    dx = np.zeros(x.shape, dtype=x.dtype)
    for b, o, positions in _naive_windows(x, pool_size, strides, padding):
        for c in range(x.shape[-1]):
            best, chosen = None, None
            for p in positions:
                value = x[(b, *p, c)] if p is not None else -np.inf
                if best is None or not best >= value:
                    best, chosen = value, p
            if chosen is not None:
                dx[(b, *chosen, c)] += g[(b, *o, c)]
    return (dx,)


def average_pool_naive(
    x: np.ndarray,
    *,
    pool_size: int | Sequence[int],
    strides: int | Sequence[int] | None,
    padding: str,
) -> np.ndarray:
    """Loop version of ``average_pool``; for reading and testing only."""
    out = np.empty(_out_shape(x, pool_size, strides, padding), dtype=x.dtype)
    for b, o, positions in _naive_windows(x, pool_size, strides, padding):
        valid = [x[(b, *p)] for p in positions if p is not None]
        out[(b, *o)] = np.sum(valid, axis=0) / len(valid)
    return out


def average_pool_vjp_naive(
    g: np.ndarray,
    out: np.ndarray,
    x: np.ndarray,
    *,
    pool_size: int | Sequence[int],
    strides: int | Sequence[int] | None,
    padding: str,
) -> tuple[np.ndarray]:
    """Loop version of ``average_pool_vjp``."""
    dx = np.zeros(x.shape, dtype=x.dtype)
    for b, o, positions in _naive_windows(x, pool_size, strides, padding):
        valid = [p for p in positions if p is not None]
        for p in valid:
            dx[(b, *p)] += g[(b, *o)] / len(valid)
    return (dx,)
