"""``refkeras.activations``: the Keras 3 activation functions.

Every activation is written with :mod:`refkeras.ops`, so it is differentiable through
:class:`refkeras.GradientTape` and accepts symbolic ``KerasTensor`` inputs.  The formulas are the
ones Keras 3 computes on the JAX backend (``keras/src/activations/activations.py`` calling
``jax.nn``), including the gradient conventions at the kinks:

* ``relu``, ``relu6`` (and so ``hard_sigmoid``/``hard_silu``) have gradient 0 exactly at a kink
  (JAX's custom derivatives);
* ``max``/``min``/``clip`` send half the gradient each way on a tie (``jnp.maximum``), so
  ``relu(x, max_value=m)`` has gradient 1/2 at ``x == m``.

``get``, ``serialize`` and ``deserialize`` behave as Keras's: built-in activations serialize to
their name (``"relu"``), ``get(None)`` is ``linear``.
"""

from __future__ import annotations

import math
import types
from collections.abc import Callable

from refkeras import ops
from refkeras.ops.core import float_operand, op
from refkeras.saving import object_registration, serialization_lib

_MODULE = "keras.activations"


def _builtin(fn: Callable) -> Callable:
    """Register ``fn`` as ``keras.activations.<name>`` and tag it for serialization."""
    fn._keras_module = _MODULE
    return object_registration.register_builtin(_MODULE)(fn)


def _relu6(x):
    """min(max(x, 0), 6) with gradient 1 for 0 < x < 6 and 0 elsewhere (``jax.nn.relu6``)."""
    inside = ops.logical_and(ops.greater(x, 0.0), ops.less(x, 6.0))
    outside = ops.where(ops.greater_equal(x, 6.0), 6.0, 0.0)
    return ops.where(inside, x, ops.cast(outside, x.dtype))


def _clip(x, low, high):
    """min(max(x, low), high): ``jnp.clip``'s gradient (1/2 at either bound)."""
    return ops.minimum(ops.maximum(x, low), high)


# --- rectifiers --------------------------------------------------------------------------------


@_builtin
@op
def relu(x, negative_slope: float = 0.0, max_value: float | None = None, threshold: float = 0.0):
    """Rectified linear unit, Keras 3's generalised form.

    With the defaults, ``max(x, 0)``.  Otherwise::

        y = x                              if x > threshold (x >= 0 when threshold == 0)
        y = negative_slope * (x - threshold) below it
        y is clipped to [0, max_value] before the negative part is added back.

    Computed exactly as ``keras.activations.ReLU.static_call``: ``x' = x if x > threshold else
    0`` (or ``relu(x)``/``relu6(x)`` when ``threshold == 0``), clipped to ``[0, max_value]``, minus
    ``negative_slope * relu(threshold - x)``.

    Args:
        x: input tensor.
        negative_slope: slope below the threshold. Defaults to 0.
        max_value: saturation value, or ``None`` (no saturation).
        threshold: values at or below it are damped. Defaults to 0.
    """
    x = float_operand(x)
    if negative_slope != 0.0:
        if max_value is None and threshold == 0:
            return ops.leaky_relu(x, negative_slope=negative_slope)
        if threshold != 0:
            negative_part = ops.relu(-x + threshold)
        else:
            negative_part = ops.relu(-x)
    else:
        negative_part = 1
    clip_max = max_value is not None
    if threshold != 0:
        x = ops.where(ops.greater(x, ops.cast(threshold, x.dtype)), x, 0.0)
    elif max_value == 6:
        x = _relu6(x)
        clip_max = False
    else:
        x = ops.relu(x)
    if clip_max:
        x = _clip(x, 0.0, max_value)
    if negative_slope != 0.0:
        x = x - negative_slope * negative_part
    return x


@_builtin
@op
def leaky_relu(x, negative_slope: float = 0.2):
    """``x if x >= 0 else negative_slope * x``; ``negative_slope`` defaults to 0.2."""
    return ops.leaky_relu(x, negative_slope=negative_slope)


@_builtin
@op
def relu6(x):
    """``min(max(x, 0), 6)``; gradient 1 on the open interval (0, 6), else 0."""
    return _relu6(float_operand(x))


@_builtin
@op
def elu(x, alpha: float = 1.0):
    """Exponential linear unit: ``x if x > 0 else alpha * (e^x - 1)``; ``alpha`` defaults to 1."""
    return ops.elu(x, alpha=alpha)


@_builtin
@op
def selu(x):
    """Scaled ELU: ``scale * elu(x, alpha)`` with ``alpha = 1.6732632423543772`` and
    ``scale = 1.0507009873554805`` (Klambauer et al., 2017)."""
    return ops.selu(x)


@_builtin
@op
def celu(x, alpha: float = 1.0):
    """Continuously differentiable ELU: ``max(x, 0) + alpha * (e^(min(x, 0) / alpha) - 1)``;
    ``alpha`` defaults to 1.  (The exponential only sees ``min(x, 0)``, so it never overflows.)"""
    x = float_operand(x)
    return ops.maximum(x, 0.0) + alpha * ops.expm1(ops.minimum(x, 0.0) / alpha)


@_builtin
@op
def threshold(x, threshold: float, default_value: float):
    """``x if x > threshold else default_value``."""
    x = float_operand(x)
    return ops.where(ops.greater(x, threshold), x, default_value)


# --- smooth rectifiers and sigmoids ------------------------------------------------------------


@_builtin
@op
def softplus(x):
    """``ln(1 + e^x)``, computed as ``max(x, 0) + ln(1 + e^-|x|)``."""
    return ops.softplus(x)


@_builtin
@op
def softsign(x):
    """``x / (|x| + 1)``."""
    return ops.softsign(x)


@_builtin
@op
def sparse_plus(x):
    """``0`` for ``x <= -1``, ``(x + 1)^2 / 4`` for ``-1 < x < 1``, ``x`` for ``x >= 1``."""
    x = float_operand(x)
    quadratic = ops.square(x + 1.0) / 4.0
    linear_or_quadratic = ops.where(ops.greater_equal(x, 1.0), x, quadratic)
    return ops.where(ops.less_equal(x, -1.0), 0.0, linear_or_quadratic)


@_builtin
@op
def silu(x):
    """Sigmoid linear unit (swish): ``x * sigmoid(x)``."""
    return ops.silu(x)


swish = silu


@_builtin
@op
def squareplus(x, b: float = 4):
    """``(x + sqrt(x^2 + b)) / 2``; the smoothness ``b`` defaults to 4."""
    x = float_operand(x)
    return (x + ops.sqrt(ops.square(x) + b)) / 2.0


@_builtin
@op
def gelu(x, approximate: bool = False):
    """Gaussian error linear unit, ``x * P(X <= x)`` for ``X ~ N(0, 1)``.

    Exact (the default): ``0.5 x (1 + erf(x / sqrt(2)))``.  With ``approximate=True``:
    ``x * 0.5 (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))``.
    """
    x = float_operand(x)
    if approximate:
        inner = math.sqrt(2.0 / math.pi) * (x + 0.044715 * (x * x * x))
        return x * (0.5 * (1.0 + ops.tanh(inner)))
    return 0.5 * x * (1.0 + ops.erf(x * math.sqrt(0.5)))


@_builtin
@op
def mish(x):
    """``x * tanh(softplus(x))`` (Misra, 2019)."""
    x = float_operand(x)
    return x * ops.tanh(ops.softplus(x))


@_builtin
@op
def sigmoid(x):
    """``1 / (1 + e^-x)``."""
    return ops.sigmoid(x)


@_builtin
@op
def sparse_sigmoid(x):
    """``0.5 * clip(x + 1, 0, 2)``: 0 for ``x <= -1``, ``(x + 1) / 2`` in between, 1 for
    ``x >= 1``."""
    x = float_operand(x)
    return 0.5 * _clip(x + 1.0, 0.0, 2.0)


@_builtin
@op
def hard_sigmoid(x):
    """``relu6(x + 3) / 6``: 0 for ``x <= -3``, ``x / 6 + 0.5`` in between, 1 for ``x >= 3``."""
    return _relu6(float_operand(x) + 3.0) / 6.0


@_builtin
@op
def hard_silu(x):
    """Hard swish: ``x * hard_sigmoid(x)``, i.e. 0 below -3, ``x (x + 3) / 6`` in between and
    ``x`` above 3."""
    x = float_operand(x)
    return x * (_relu6(x + 3.0) / 6.0)


hard_swish = hard_silu


@_builtin
@op
def log_sigmoid(x):
    """``ln sigmoid(x) = -softplus(-x)``."""
    return ops.log_sigmoid(x)


@_builtin
@op
def exponential(x):
    """``e^x``."""
    return ops.exp(x)


# --- tanh family and shrinkage -----------------------------------------------------------------


@_builtin
@op
def tanh(x):
    """``(e^x - e^-x) / (e^x + e^-x)``."""
    return ops.tanh(x)


@_builtin
@op
def tanh_shrink(x):
    """``x - tanh(x)``."""
    x = float_operand(x)
    return x - ops.tanh(x)


@_builtin
@op
def hard_tanh(x):
    """``-1`` for ``x < -1``, ``x`` for ``-1 <= x <= 1``, ``1`` for ``x > 1``."""
    x = float_operand(x)
    return ops.where(ops.greater(x, 1.0), 1.0, ops.where(ops.less(x, -1.0), -1.0, x))


@_builtin
@op
def soft_shrink(x, threshold: float = 0.5):
    """``x - threshold`` above ``threshold``, ``x + threshold`` below ``-threshold``, else 0;
    ``threshold`` defaults to 0.5."""
    x = float_operand(x)
    return ops.where(
        ops.greater(x, threshold),
        x - threshold,
        ops.where(ops.less(x, -threshold), x + threshold, 0.0),
    )


@_builtin
@op
def hard_shrink(x, threshold: float = 0.5):
    """``x`` where ``|x| > threshold``, else 0; ``threshold`` defaults to 0.5."""
    x = float_operand(x)
    return ops.where(ops.greater(ops.abs(x), threshold), x, 0.0)


# --- gating and normalising activations --------------------------------------------------------


@_builtin
@op
def glu(x, axis: int = -1):
    """Gated linear unit: ``a * sigmoid(b)`` where ``a, b`` are the two halves of ``x`` along
    ``axis`` (whose size must be even)."""
    x = float_operand(x)
    if x.shape[axis] % 2 != 0:
        raise ValueError(
            f"axis size must be divisible by 2. Received: x.shape={x.shape} with axis={axis}"
        )
    a, b = ops.split(x, 2, axis=axis)
    return a * ops.sigmoid(b)


def _over_axes(fn, x, axis):
    """``fn(x, axis=axis)``; a tuple of axes is handled as Keras does, by moving those axes last,
    flattening them into one, applying ``fn`` along it and undoing the reshape and transpose."""
    if not isinstance(axis, tuple | list):
        return fn(x, axis=axis)
    axis = tuple(a % x.ndim for a in axis)
    keep = [a for a in range(x.ndim) if a not in axis]
    moved = ops.transpose(x, (*keep, *axis))
    flat = ops.reshape(moved, (*[x.shape[a] for a in keep], -1))
    out = ops.reshape(fn(flat, axis=-1), moved.shape)
    order = [*keep, *axis]
    return ops.transpose(out, sorted(range(x.ndim), key=order.__getitem__))


@_builtin
@op
def softmax(x, axis: int | tuple = -1):
    """``e^x / sum(e^x)`` along ``axis`` (an int or a tuple of axes; default -1), computed with
    the maximum subtracted first."""
    return _over_axes(ops.softmax, float_operand(x), axis)


@_builtin
@op
def log_softmax(x, axis: int | tuple = -1):
    """``x - logsumexp(x)`` along ``axis`` (an int or a tuple of axes; default -1)."""
    return _over_axes(ops.log_softmax, float_operand(x), axis)


@_builtin
@op
def sparsemax(x, axis: int = -1):
    """Sparsemax (Martins & Astudillo, 2016): the Euclidean projection of ``x`` onto the
    probability simplex along ``axis``, ``max(x - tau, 0)``.

    With ``z`` the entries sorted in decreasing order, the support size is
    ``k = max{j : 1 + j z_j > z_1 + ... + z_j}`` and ``tau = (z_1 + ... + z_k - 1) / k``, so the
    outputs are non-negative and sum to 1.
    """
    x = float_operand(x)
    n = x.shape[axis]
    z = -ops.sort(-x, axis=axis)  # decreasing
    cumulative = ops.cumsum(z, axis=axis)
    r_shape = [1] * x.ndim
    r_shape[axis] = n
    r = ops.reshape(ops.arange(1, n + 1, dtype=x.dtype), r_shape)
    support = ops.greater(z - (cumulative - 1.0) / r, 0.0)
    k = ops.cast(ops.sum(support, axis=axis, keepdims=True), x.dtype)
    tau = (ops.sum(ops.where(support, z, 0.0), axis=axis, keepdims=True) - 1.0) / k
    return ops.maximum(x - tau, 0.0)


def linear(x):
    """The identity: returns ``x`` unchanged."""
    return x


_builtin(linear)


# --- lookup and serialization ------------------------------------------------------------------

ALL_OBJECTS: tuple[Callable, ...] = (
    relu, leaky_relu, relu6, softmax, celu, elu, selu, softplus, softsign, squareplus,
    soft_shrink, sparse_plus, silu, gelu, glu, tanh, tanh_shrink, threshold, sigmoid,
    sparse_sigmoid, exponential, hard_sigmoid, hard_silu, hard_tanh, hard_shrink, linear, mish,
    log_softmax, log_sigmoid, sparsemax,
)  # fmt: skip

ALL_OBJECTS_DICT: dict[str, Callable] = {fn.__name__: fn for fn in ALL_OBJECTS}
ALL_OBJECTS_DICT["swish"] = silu
ALL_OBJECTS_DICT["hard_swish"] = hard_silu
object_registration.register_builtin(_MODULE, "swish")(silu)
object_registration.register_builtin(_MODULE, "hard_swish")(hard_silu)


def serialize(activation: Callable) -> str | dict:
    """A built-in activation's name (``"relu"``); other callables as a Keras config dict (a
    registered custom function's config is its registered name ``"package>name"``)."""
    name = getattr(activation, "__name__", None)
    if isinstance(activation, types.FunctionType) and ALL_OBJECTS_DICT.get(name) is activation:
        return name
    fn_config = serialization_lib.serialize_keras_object(activation)
    if not isinstance(fn_config, dict) or "config" not in fn_config:
        raise ValueError(
            f"Unknown activation function '{activation}' cannot be serialized due to invalid "
            "function name. Make sure to use an activation name that matches the references "
            "defined in activations.py or use `@keras.saving.register_keras_serializable()` to "
            f"register any custom activations. config={fn_config}"
        )
    if isinstance(activation, types.FunctionType):
        fn_config["config"] = object_registration.get_registered_name(activation)
    return fn_config


def deserialize(config, custom_objects: dict | None = None) -> Callable:
    """The activation named by ``config`` (a name or a serialized config)."""
    return serialization_lib.deserialize_keras_object(
        config, module_objects=ALL_OBJECTS_DICT, custom_objects=custom_objects
    )


def get(identifier) -> Callable:
    """Resolve ``identifier`` to an activation function.

    ``None`` gives :func:`linear`; a string is looked up by name (``"relu"``, ``"swish"``...); a
    dict is deserialized; a callable is returned as is.  Anything else raises ``ValueError``.
    """
    if identifier is None:
        return linear
    if isinstance(identifier, dict):
        obj = deserialize(identifier)
    elif isinstance(identifier, str):
        obj = ALL_OBJECTS_DICT.get(identifier, None)
    else:
        obj = identifier
    if callable(obj):
        return obj
    raise ValueError(f"Could not interpret activation function identifier: {identifier}")
