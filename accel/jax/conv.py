"""Convolution primitives with ``lax.conv_general_dilated`` (mirrors
:mod:`refkeras.primitives.conv`).

Layouts are Keras's: ``x`` is ``(batch, *spatial, in_channels)``, ``kernel`` is
``(*kernel_size, in_channels // groups, out_channels)``, and output position ``o`` with kernel
tap ``t`` reads input position ``p = o * strides + t * dilation_rate - pad_before``::

    out[b, o, g*Og + j] = sum_t sum_c  x[b, p, g*Cg + c] * kernel[t, c, g*Og + j]

The padding amounts (``"valid"``, XLA ``"same"``, 1-D ``"causal"``) come from the reference's
``window_geometry``: pure integer geometry, shared so that both backends pad identically.  The
VJPs are ``jax.vjp`` of the forward (XLA's transposed convolutions).

The implementations are ``jax.jit``-compiled with the geometry static, so that eager calls reuse
one compiled program per shape instead of dispatching op by op; inside an enclosing ``jax.jit``
they are simply inlined.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import jax
from jax import lax

from refkeras.primitives.conv import _check_channels, as_tuple, window_geometry

_PRECISION = lax.Precision.HIGHEST  # full float32 on GPU/TPU too (no tf32/bf16 passes)


def _dimension_numbers(ndim: int) -> lax.ConvDimensionNumbers:
    """channels_last ``x``/output and ``(*spatial, in, out)`` kernel, for any spatial rank."""
    spatial = tuple(range(1, ndim - 1))
    return lax.ConvDimensionNumbers(
        lhs_spec=(0, ndim - 1, *spatial),
        rhs_spec=(ndim - 1, ndim - 2, *range(ndim - 2)),
        out_spec=(0, ndim - 1, *spatial),
    )


def _static(kernel_shape, strides, dilation_rate):
    rank = len(kernel_shape) - 2
    return as_tuple(strides, rank, "strides"), as_tuple(dilation_rate, rank, "dilation_rate")


@functools.partial(jax.jit, static_argnames=("strides", "padding", "dilation_rate", "groups"))
def _conv(x, kernel, *, strides, padding, dilation_rate, groups):
    _, _, pads, _ = window_geometry(x.shape, kernel.shape[:-2], strides, padding, dilation_rate)
    return lax.conv_general_dilated(
        x.astype(kernel.dtype),
        kernel,
        window_strides=strides,
        padding=pads,
        rhs_dilation=dilation_rate,
        dimension_numbers=_dimension_numbers(x.ndim),
        feature_group_count=groups,
        precision=_PRECISION,
    )


@functools.partial(jax.jit, static_argnames=("strides", "padding", "dilation_rate", "groups"))
def _conv_vjp(g, x, kernel, *, strides, padding, dilation_rate, groups):
    def f(xc, k):
        return _conv(
            xc, k, strides=strides, padding=padding, dilation_rate=dilation_rate, groups=groups
        )

    _, pullback = jax.vjp(f, x.astype(kernel.dtype), kernel)
    dx, dkernel = pullback(g.astype(kernel.dtype))
    return dx.astype(x.dtype), dkernel


def conv(
    x,
    kernel,
    *,
    strides: int | Sequence[int],
    padding: str,
    dilation_rate: int | Sequence[int],
    groups: int = 1,
):
    """N-D grouped, strided, dilated convolution (cross-correlation), channels_last.

    ``x`` is cast to ``kernel.dtype`` (as Keras does); returns
    ``(batch, *out_spatial, out_channels)`` in ``kernel.dtype``.
    """
    _check_channels(x, kernel, groups)
    strides, dilation_rate = _static(kernel.shape, strides, dilation_rate)
    return _conv(
        x, kernel, strides=strides, padding=padding, dilation_rate=dilation_rate, groups=groups
    )


def conv_vjp(g, out, x, kernel, *, strides, padding, dilation_rate, groups=1):
    """VJP of ``conv``: ``(dx, dkernel)``, ``dx`` in ``x.dtype`` and ``dkernel`` in
    ``kernel.dtype``."""
    _check_channels(x, kernel, groups)
    strides, dilation_rate = _static(kernel.shape, strides, dilation_rate)
    return _conv_vjp(
        g, x, kernel, strides=strides, padding=padding, dilation_rate=dilation_rate, groups=groups
    )


def _grouped_kernel(kernel):
    """Depthwise kernel ``(*k, C, M)`` as the grouped-conv kernel ``(*k, 1, C*M)``: output
    channel ``c*M + m`` is input channel ``c``'s ``m``-th filter (Keras's order)."""
    *kernel_size, c, mult = kernel.shape
    return kernel.reshape(*kernel_size, 1, c * mult), c


def depthwise_conv(x, kernel, *, strides, padding, dilation_rate):
    """Depthwise convolution ``out[b, o, c*M + m] = sum_t xpad[b, o*s + t*d, c] * kernel[t, c, m]``
    as a grouped conv with one input channel per group (what Keras's JAX backend does)."""
    grouped, c = _grouped_kernel(kernel)
    return conv(x, grouped, strides=strides, padding=padding, dilation_rate=dilation_rate, groups=c)


def depthwise_conv_vjp(g, out, x, kernel, *, strides, padding, dilation_rate):
    """VJP of ``depthwise_conv``: ``(dx, dkernel)`` through the grouped conv."""
    grouped, c = _grouped_kernel(kernel)
    dx, dgrouped = conv_vjp(
        g, out, x, grouped, strides=strides, padding=padding, dilation_rate=dilation_rate, groups=c
    )
    return dx, dgrouped.reshape(kernel.shape)
