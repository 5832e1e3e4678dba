"""Neural-network ops (``keras.ops.relu``, ``softmax``, ``conv``, the crossentropies...), written as
Keras 3 computes them (``keras/src/backend/jax/nn.py``)."""

from __future__ import annotations

import math

import numpy as np

from refkeras import config
from refkeras.backend import asarray
from refkeras.backend.tensor import Tensor
from refkeras.ops import numpy as knp
from refkeras.ops.core import call, float_operand, op, to_tensor


@op
def relu(x):
    """max(x, 0) (integers stay integers, as in Keras)"""
    return call("relu", to_tensor(x))


@op
def relu6(x):
    """min(max(x, 0), 6); the gradient is 0 at both kinks, as ``jax.nn.relu6``."""
    x = float_operand(x)
    return knp.where(x > 0, knp.where(x < 6, x, 6.0), 0.0)


@op
def sigmoid(x):
    """1 / (1 + e^-x)"""
    return call("sigmoid", float_operand(x))


@op
def softplus(x):
    """ln(1 + e^x)"""
    return call("softplus", float_operand(x))


@op
def softsign(x):
    """x / (|x| + 1)"""
    x = float_operand(x)
    return x / (knp.absolute(x) + 1.0)


@op
def silu(x):
    """x * sigmoid(x) (also called swish)"""
    x = float_operand(x)
    return x * sigmoid(x)


swish = silu


@op
def log_sigmoid(x):
    """ln sigmoid(x) = -softplus(-x)"""
    return -softplus(-float_operand(x))


@op
def leaky_relu(x, negative_slope=0.2):
    """x where x >= 0 else negative_slope * x"""
    x = float_operand(x)
    return knp.where(x >= 0, x, x * negative_slope)


@op
def hard_sigmoid(x):
    """relu6(x + 3) / 6"""
    return relu6(float_operand(x) + 3.0) / 6.0


@op
def hard_silu(x):
    """x * hard_sigmoid(x)"""
    x = float_operand(x)
    return x * hard_sigmoid(x)


hard_swish = hard_silu


@op
def elu(x, alpha=1.0):
    """x where x > 0 else alpha * (e^x - 1)"""
    x = float_operand(x)
    positive = x > 0
    return knp.where(positive, x, alpha * knp.expm1(knp.where(positive, 0.0, x)))


@op
def selu(x):
    """scale * elu(x, alpha), alpha = 1.67326324, scale = 1.05070098"""
    return 1.0507009873554805 * elu(x, 1.6732632423543772)


@op
def celu(x, alpha=1.0):
    """max(x, 0) + alpha * (e^(min(x, 0) / alpha) - 1)  (the min inside keeps e^x finite)"""
    x = float_operand(x)
    return knp.maximum(x, 0.0) + alpha * knp.expm1(knp.minimum(x, 0.0) / alpha)


@op
def gelu(x, approximate=True):
    """Approximate: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))); exact: 0.5 x (1 +
    erf(x/√2))."""
    x = float_operand(x)
    if approximate:
        inner = math.sqrt(2 / math.pi) * (x + 0.044715 * x * x * x)
        return 0.5 * x * (1.0 + knp.tanh(inner))
    return 0.5 * x * (1.0 + call("erf", x / math.sqrt(2)))


@op
def tanh_shrink(x):
    x = float_operand(x)
    return x - knp.tanh(x)


@op
def softmax(x, axis=-1):
    """e^x / sum(e^x) along ``axis``, shifted by the max for stability."""
    x = float_operand(x)
    if isinstance(axis, tuple | list):
        moved = knp.moveaxis(x, axis, list(range(x.ndim - len(axis), x.ndim)))
        flat = knp.reshape(moved, moved.shape[: x.ndim - len(axis)] + (-1,))
        out = knp.reshape(call("softmax", flat, axis=-1), moved.shape)
        return knp.moveaxis(out, list(range(x.ndim - len(axis), x.ndim)), axis)
    return call("softmax", x, axis=axis)


@op
def log_softmax(x, axis=-1):
    """x - logsumexp(x) along ``axis``"""
    return call("log_softmax", float_operand(x), axis=axis)


@op
def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    """One-hot encoding of integer ``x``; negative or out-of-range indices give all zeros."""
    # Primitives only (no NumPy on the values), so that a compiled backend can trace it.
    x = to_tensor(x)
    if x.value.dtype != np.int64:
        x = Tensor(call("cast", x, dtype=np.dtype("int64")).value)
    classes = asarray(np.arange(num_classes, dtype=np.int64))
    hits = call("equal", Tensor(call("reshape", x, shape=(*x.shape, 1)).value), classes)
    out = Tensor(call("cast", hits, dtype=np.dtype(dtype or config.floatx())).value)
    if axis != -1:
        out = knp.moveaxis(out, -1, axis)
    return out


def _crossentropy_shapes(target, output):
    if target.shape != output.shape:
        raise ValueError(
            "Arguments `target` and `output` must have the same shape. Received: "
            f"target.shape={target.shape}, output.shape={output.shape}"
        )


@op
def binary_crossentropy(target, output, from_logits=False):
    """Elementwise -[t ln p + (1 - t) ln(1 - p)], with p clipped to [eps, 1 - eps]; from logits:
    -[t log_sigmoid(z) + (1 - t) log_sigmoid(-z)]."""
    output = float_operand(output)
    target = to_tensor(target, output.dtype)
    _crossentropy_shapes(target, output)
    if from_logits:
        return -1.0 * target * log_sigmoid(output) - (1.0 - target) * log_sigmoid(-output)
    eps = config.epsilon()
    output = knp.clip(output, eps, 1.0 - eps)
    bce = target * knp.log(output)
    bce = bce + (1.0 - target) * knp.log(1.0 - output)
    return -bce


@op
def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """-sum(t ln p) along ``axis``; p is ``output`` renormalised to sum to 1 and clipped to
    [eps, 1 - eps], or ``log_softmax(output)`` from logits."""
    output = float_operand(output)
    target = to_tensor(target, output.dtype)
    _crossentropy_shapes(target, output)
    if target.ndim < 1:
        raise ValueError(
            "Arguments `target` and `output` must be at least rank 1. Received: "
            f"target.shape={target.shape}, output.shape={output.shape}"
        )
    if from_logits:
        log_prob = log_softmax(output, axis=axis)
    else:
        output = output / knp.sum(output, axis=axis, keepdims=True)
        eps = config.epsilon()
        log_prob = knp.log(knp.clip(output, eps, 1.0 - eps))
    return -knp.sum(target * log_prob, axis=axis)


@op
def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Categorical crossentropy with integer class ids as the target."""
    output = float_operand(output)
    target = Tensor(call("cast", to_tensor(target), dtype=np.dtype("int32")).value)
    if target.ndim == output.ndim and target.shape[-1] == 1:
        target = knp.squeeze(target, axis=-1)
    if output.ndim < 1:
        raise ValueError(
            f"Argument `output` must be at least rank 1. Received: output.shape={output.shape}"
        )
    if target.shape != output.shape[:-1]:
        raise ValueError(
            "Arguments `target` and `output` must have the same shape up until the last "
            f"dimension: target.shape={target.shape}, output.shape={output.shape}"
        )
    if from_logits:
        log_prob = log_softmax(output, axis=axis)
    else:
        output = output / knp.sum(output, axis=axis, keepdims=True)
        eps = config.epsilon()
        log_prob = knp.log(knp.clip(output, eps, 1.0 - eps))
    t = one_hot(target, output.shape[axis], axis=axis, dtype=log_prob.dtype)
    return -knp.sum(t * log_prob, axis=axis)


@op
def moments(x, axes, keepdims=False, synchronized=False):
    """(mean, biased variance) over ``axes``; float16 inputs are computed in float32."""
    x = float_operand(x)
    orig = x.dtype
    if orig in (np.float16,):
        x = to_tensor(x, "float32")
    mean = knp.mean(x, axis=axes, keepdims=True)
    variance = knp.var(x, axis=axes, keepdims=True)
    if not keepdims:
        mean, variance = knp.squeeze(mean, axes), knp.squeeze(variance, axes)
    if orig != x.dtype:
        mean, variance = to_tensor(mean, orig), to_tensor(variance, orig)
    return mean, variance


@op
def batch_normalization(x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3):
    """y = x * inv + (offset - mean * inv), inv = scale / sqrt(variance + epsilon), with the
    statistics broadcast along ``axis`` (the order of operations Keras uses)."""
    x = float_operand(x)
    shape = [1] * x.ndim
    shape[axis] = to_tensor(mean).shape[0]
    mean = knp.reshape(mean, shape)
    variance = knp.reshape(variance, shape)
    inv = 1.0 / knp.sqrt(variance + epsilon)
    if scale is not None:
        inv = inv * knp.reshape(scale, shape)
    res = -mean * inv
    if offset is not None:
        res = res + knp.reshape(offset, shape)
    return x * inv + res


def _tuple(v, n, name):
    if isinstance(v, int):
        return (v,) * n
    v = tuple(int(i) for i in v)
    if len(v) != n:
        raise ValueError(f"`{name}` must be an int or a tuple of {n} ints. Received: {name}={v}")
    return v


def _check_data_format(data_format):
    data_format = data_format or config.image_data_format()
    if data_format != "channels_last":
        raise ValueError(
            "refkeras computes convolutions and pooling in `channels_last` layout only. "
            f"Received: data_format={data_format}"
        )


@op
def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """N-D convolution (cross-correlation), channels_last: inputs (batch, *spatial, in),
    kernel (*kernel_size, in, out); see ``refkeras.primitives.conv``."""
    _check_data_format(data_format)
    x, k = float_operand(inputs), float_operand(kernel)
    rank = x.ndim - 2
    if x.shape[-1] % k.shape[-2]:
        raise ValueError(
            "The number of input channels must be a multiple of the kernel's input channels. "
            f"Received: inputs.shape={x.shape}, kernel.shape={k.shape}"
        )
    return call(
        "conv",
        to_tensor(x, k.dtype),
        k,
        strides=_tuple(strides, rank, "strides"),
        padding=padding.lower(),
        dilation_rate=_tuple(dilation_rate, rank, "dilation_rate"),
        groups=x.shape[-1] // k.shape[-2],
    )


@op
def depthwise_conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """Depthwise convolution, channels_last: kernel (*kernel_size, in, depth_multiplier)."""
    _check_data_format(data_format)
    x, k = float_operand(inputs), float_operand(kernel)
    rank = x.ndim - 2
    return call(
        "depthwise_conv",
        to_tensor(x, k.dtype),
        k,
        strides=_tuple(strides, rank, "strides"),
        padding=padding.lower(),
        dilation_rate=_tuple(dilation_rate, rank, "dilation_rate"),
    )


@op
def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """N-D max pooling, channels_last; see ``refkeras.primitives.pool``."""
    _check_data_format(data_format)
    x = float_operand(inputs)
    rank = x.ndim - 2
    pool_size = _tuple(pool_size, rank, "pool_size")
    strides = pool_size if strides is None else _tuple(strides, rank, "strides")
    return call("max_pool", x, pool_size=pool_size, strides=strides, padding=padding.lower())


@op
def average_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """N-D average pooling, channels_last; see ``refkeras.primitives.pool``."""
    _check_data_format(data_format)
    x = float_operand(inputs)
    rank = x.ndim - 2
    pool_size = _tuple(pool_size, rank, "pool_size")
    strides = pool_size if strides is None else _tuple(strides, rank, "strides")
    return call("average_pool", x, pool_size=pool_size, strides=strides, padding=padding.lower())


__all__ = [
    name
    for name, value in list(globals().items())
    if callable(value) and not name.startswith("_") and getattr(value, "__module__", "") == __name__
]
