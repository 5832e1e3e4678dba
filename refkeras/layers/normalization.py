"""``BatchNormalization`` and ``LayerNormalization`` (Keras 3's
``keras/src/layers/normalization/``).

Both compute, with statistics ``mean`` and biased ``var`` and learned ``gamma``/``beta``::

    y = x * inv + (beta - mean * inv),    inv = gamma / sqrt(var + epsilon)

BatchNormalization takes the statistics over every axis except ``axis`` (the batch ones) in
training, and from its moving averages otherwise; LayerNormalization over ``axis`` of each sample.
"""

from __future__ import annotations

import warnings

from refkeras import config, constraints, initializers, ops, regularizers
from refkeras.backend.dtypes import result_type
from refkeras.layers.input_spec import InputSpec
from refkeras.layers.layer import Layer
from refkeras.saving.object_registration import register_builtin


@register_builtin("keras.layers")
class BatchNormalization(Layer):
    """Normalizes with the batch statistics in training and the moving statistics in inference.

    Args:
        axis: the features axis (default ``-1``); statistics are per feature.
        momentum: default ``0.99``. After each training call::

            moving_mean = moving_mean * momentum + mean * (1 - momentum)
            moving_variance = moving_variance * momentum + var * (1 - momentum)

          with ``var`` the biased batch variance.
        epsilon: default ``1e-3``.
        center, scale: create ``beta`` / ``gamma`` (default ``True``).
        beta_initializer ``"zeros"``, gamma_initializer ``"ones"``, moving_mean_initializer
        ``"zeros"``, moving_variance_initializer ``"ones"``; regularizers and constraints
        ``None``.
        renorm, renorm_clipping, renorm_momentum: batch renormalization (default off).
        synchronized: only ``False`` (cross-replica statistics need TensorFlow in Keras).

    Weights, in order: ``gamma``, ``beta`` (trainable), ``moving_mean``, ``moving_variance``
    (non-trainable). A layer with ``trainable=False`` always runs in inference mode, even with
    ``training=True`` (the Keras 3 behaviour for fine-tuning).

    A mask ``(batch, ...)`` (one axis fewer than the inputs) leaves masked positions out of the
    batch statistics.
    """

    def __init__(
        self,
        axis: int = -1,
        momentum: float = 0.99,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        moving_mean_initializer="zeros",
        moving_variance_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        renorm: bool = False,
        renorm_clipping: dict | None = None,
        renorm_momentum: float = 0.99,
        synchronized: bool = False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.axis = int(axis)
        if synchronized:
            raise ValueError(
                "Argument synchronized=True is only supported with the TensorFlow backend."
            )
        self.synchronized = synchronized
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.center = center
        self.scale = scale
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.supports_masking = True
        self.renorm = renorm
        if renorm:
            _check_renorm_clipping(renorm_clipping or {})
            renorm_clipping = renorm_clipping or {}
        self.renorm_clipping = renorm_clipping
        self.renorm_momentum = renorm_momentum
        self.gamma = None
        self.beta = None
        self.moving_mean = None
        self.moving_variance = None
        self._reduction_axes = None

    def build(self, input_shape) -> None:
        shape = (input_shape[self.axis],)
        if self.scale:
            self.gamma = self.add_weight(
                shape=shape,
                name="gamma",
                initializer=self.gamma_initializer,
                regularizer=self.gamma_regularizer,
                constraint=self.gamma_constraint,
                trainable=True,
                autocast=False,
            )
        if self.center:
            self.beta = self.add_weight(
                shape=shape,
                name="beta",
                initializer=self.beta_initializer,
                regularizer=self.beta_regularizer,
                constraint=self.beta_constraint,
                trainable=True,
                autocast=False,
            )
        self.moving_mean = self.add_weight(
            shape=shape,
            name="moving_mean",
            initializer=self.moving_mean_initializer,
            trainable=False,
            autocast=False,
        )
        self.moving_variance = self.add_weight(
            shape=shape,
            name="moving_variance",
            initializer=self.moving_variance_initializer,
            trainable=False,
            autocast=False,
        )
        if self.renorm:
            # Renorm tracks the moving stddev, initialized as sqrt of the variance initializer.
            def moving_stddev_initializer(shape, dtype=None):
                value = _clone(self.moving_variance_initializer)(shape, dtype=dtype)
                return ops.sqrt(value)

            self.moving_stddev = self.add_weight(
                shape=shape,
                name="moving_stddev",
                initializer=moving_stddev_initializer,
                trainable=False,
                autocast=False,
            )
            self.renorm_mean = self.add_weight(
                shape=shape,
                name="renorm_mean",
                initializer=_clone(self.moving_mean_initializer),
                trainable=False,
                autocast=False,
            )
            self.renorm_stddev = self.add_weight(
                shape=shape,
                name="renorm_stddev",
                initializer=moving_stddev_initializer,
                trainable=False,
                autocast=False,
            )
        self.input_spec = InputSpec(ndim=len(input_shape), axes={self.axis: input_shape[self.axis]})
        reduction_axes = list(range(len(input_shape)))
        del reduction_axes[self.axis]
        self._reduction_axes = reduction_axes
        self.built = True

    def compute_output_shape(self, input_shape):
        if self.axis >= len(input_shape) or self.axis < -len(input_shape):
            raise ValueError(
                f"Axis {self.axis} is out of bounds for input shape {input_shape}. "
                f"Received: axis={self.axis}"
            )
        return input_shape

    def call(self, inputs, training=None, mask=None):
        if mask is not None and len(mask.shape) != len(inputs.shape) - 1:
            raise ValueError(
                "The mask provided should be one dimension less than the inputs. Received: "
                f"mask.shape={mask.shape}, inputs.shape={inputs.shape}"
            )
        # float16/bfloat16 inputs are normalized in float32.
        inputs = ops.cast(inputs, result_type(inputs.dtype, "float32"))
        moving_mean = ops.cast(self.moving_mean, inputs.dtype)
        moving_variance = ops.cast(self.moving_variance, inputs.dtype)
        gamma = ops.cast(self.gamma, inputs.dtype) if self.scale else None
        beta = ops.cast(self.beta, inputs.dtype) if self.center else None

        if training and self.trainable:
            mean, variance = self._moments(inputs, mask)
            if self.renorm:
                r, d = self._renorm_correction(mean, variance)
                # (x * r + d) * gamma + beta = x * (r * gamma) + (d * gamma + beta)
                gamma, beta = _compose_transforms(r, d, gamma, beta, inputs.dtype)
                self._update_renorm_statistics(mean, variance)
            else:
                m = self.momentum
                self.moving_mean.assign(moving_mean * m + mean * (1.0 - m))
                self.moving_variance.assign(moving_variance * m + variance * (1.0 - m))
        else:
            mean, variance = moving_mean, moving_variance

        outputs = ops.batch_normalization(
            inputs,
            mean=mean,
            variance=variance,
            axis=self.axis,
            offset=beta,
            scale=gamma,
            epsilon=self.epsilon,
        )
        return ops.cast(outputs, self.compute_dtype)

    def _moments(self, inputs, mask):
        """Batch mean and biased variance per feature; with a mask, weighted by it::

        mean = sum(mask * x) / (sum(mask) + eps)
        var = sum(mask * (x - mean)^2) / (sum(mask) + eps)
        """
        if mask is None:
            return ops.moments(inputs, axes=self._reduction_axes)
        m = ops.broadcast_to(ops.expand_dims(mask, axis=-1), inputs.shape)
        m = ops.cast(m, "bool")
        axes = self._reduction_axes
        weight = ops.sum(ops.cast(m, inputs.dtype), axes, keepdims=True) + config.epsilon()
        mean = ops.sum(ops.where(m, inputs, 0), axes, keepdims=True) / weight
        sq = ops.square(ops.where(m, inputs - mean, 0))
        variance = ops.sum(sq, axes, keepdims=True) / weight
        return ops.squeeze(mean, axes), ops.squeeze(variance, axes)

    def _renorm_correction(self, mean, variance):
        """``r = stddev / renorm_stddev`` and ``d = (mean - renorm_mean) / renorm_stddev``,
        clipped to ``[rmin, rmax]`` and ``[-dmax, dmax]``."""
        stddev = ops.sqrt(variance + self.epsilon)
        renorm_mean = ops.cast(self.renorm_mean, mean.dtype)
        renorm_stddev = ops.maximum(
            ops.cast(self.renorm_stddev, mean.dtype), ops.sqrt(ops.cast(self.epsilon, mean.dtype))
        )
        r = ops.divide(stddev, renorm_stddev)
        d = ops.divide(ops.subtract(mean, renorm_mean), renorm_stddev)
        rmin = self.renorm_clipping.get("rmin")
        rmax = self.renorm_clipping.get("rmax")
        dmax = self.renorm_clipping.get("dmax")
        if rmin is not None:
            r = ops.maximum(r, rmin)
        if rmax is not None:
            r = ops.minimum(r, rmax)
        if dmax is not None:
            d = ops.clip(d, -dmax, dmax)
        return r, d

    def _update_renorm_statistics(self, mean, variance) -> None:
        stddev = ops.sqrt(variance + self.epsilon)
        rm = self.renorm_momentum
        renorm_mean = ops.cast(self.renorm_mean, mean.dtype)
        renorm_stddev = ops.cast(self.renorm_stddev, mean.dtype)
        self.renorm_mean.assign(renorm_mean * rm + mean * (1.0 - rm))
        self.renorm_stddev.assign(renorm_stddev * rm + stddev * (1.0 - rm))
        m = self.momentum
        moving_mean = ops.cast(self.moving_mean, mean.dtype)
        moving_stddev = ops.cast(self.moving_stddev, mean.dtype)
        self.moving_mean.assign(moving_mean * m + mean * (1.0 - m))
        new_stddev = moving_stddev * m + stddev * (1.0 - m)
        self.moving_stddev.assign(new_stddev)
        # relu: rounding could make stddev^2 - epsilon slightly negative.
        self.moving_variance.assign(ops.relu(new_stddev * new_stddev - self.epsilon))

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "axis": self.axis,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
            "moving_variance_initializer": initializers.serialize(self.moving_variance_initializer),
            "beta_regularizer": regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
            "beta_constraint": constraints.serialize(self.beta_constraint),
            "gamma_constraint": constraints.serialize(self.gamma_constraint),
            "synchronized": self.synchronized,
            "renorm": self.renorm,
            "renorm_clipping": self.renorm_clipping,
            "renorm_momentum": self.renorm_momentum,
        }


def _clone(initializer):
    """A fresh copy of an ``Initializer`` (so that seeded ones draw the same values again)."""
    return initializer.clone() if isinstance(initializer, initializers.Initializer) else initializer


def _check_renorm_clipping(clipping: dict) -> None:
    keys = ["rmax", "rmin", "dmax"]
    if set(clipping) - set(keys):
        raise ValueError(
            f"Received invalid keys for `renorm_clipping` argument: {clipping}. "
            f"Supported values: {keys}."
        )
    rmax, rmin, dmax = clipping.get("rmax"), clipping.get("rmin"), clipping.get("dmax")
    if rmax is not None and rmin is not None and rmax < rmin:
        raise ValueError(
            "rmax should be greater than rmin in the `renorm_clipping` argument. "
            f"Received: rmax={rmax}, rmin={rmin}."
        )
    if dmax is not None and dmax < 0:
        raise ValueError(
            f"dmax should be non-negative in the `renorm_clipping` argument. Received: dmax={dmax}."
        )


def _compose_transforms(r, d, gamma, beta, dtype):
    """Fold the renorm correction (held constant: no gradient) into gamma and beta."""
    r, d = ops.stop_gradient(r), ops.stop_gradient(d)
    if gamma is not None:
        new_gamma, new_beta = ops.multiply(r, gamma), ops.multiply(d, gamma)
    else:
        new_gamma, new_beta = ops.cast(r, dtype), ops.cast(d, dtype)
    if beta is not None:
        new_beta = ops.add(new_beta, beta)
    return new_gamma, new_beta


@register_builtin("keras.layers")
class LayerNormalization(Layer):
    """Normalizes each sample over ``axis`` (an int or a list; default ``-1``)::

        mean, var = moments(x, axes=axis, keepdims=True)
        y = x * inv + (beta - mean * inv),   inv = gamma / sqrt(var + epsilon)

    Args:
        axis: default ``-1``; ``gamma``/``beta`` have the shape of the input along ``axis``.
        epsilon: default ``1e-3``.
        center, scale: create ``beta`` / ``gamma`` (default ``True``); weights in the order
            ``gamma``, ``beta``.
        beta_initializer ``"zeros"``, gamma_initializer ``"ones"``; regularizers and constraints
        ``None``. The deprecated ``rms_scaling=True`` computes ``x / sqrt(var + eps) * gamma``.

    Computed in at least float32, returned in the layer's dtype.
    """

    def __init__(
        self,
        axis=-1,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        **kwargs,
    ):
        rms_scaling = kwargs.pop("rms_scaling", False)
        if rms_scaling:
            warnings.warn(
                "You passed `rms_scaling=True`, which is deprecated. This argument incorrectly "
                "scales the input by the variance, not the root mean square. To correctly use "
                "RMS Normalization, please use `keras.layers.RMSNormalization` instead.",
                stacklevel=2,
            )
        super().__init__(**kwargs)
        if isinstance(axis, list | tuple):
            self.axis = list(axis)
        elif isinstance(axis, int):
            self.axis = axis
        else:
            raise TypeError(
                "Expected an int or a list/tuple of ints for the argument 'axis', but "
                f"received: {axis!r}"
            )
        self.epsilon = epsilon
        self.center = center
        self.scale = scale
        self.rms_scaling = rms_scaling
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.supports_masking = True
        self.autocast = False

    def build(self, input_shape) -> None:
        if isinstance(self.axis, list | tuple):
            self.axis = sorted(self.axis)
            shape = tuple(input_shape[dim] for dim in self.axis)
        else:
            shape = (input_shape[self.axis],)
            self.axis = [self.axis]
        if self.scale or self.rms_scaling:
            self.gamma = self.add_weight(
                name="gamma",
                shape=shape,
                initializer=self.gamma_initializer,
                regularizer=self.gamma_regularizer,
                constraint=self.gamma_constraint,
                trainable=True,
                autocast=False,
            )
        else:
            self.gamma = None
        if self.center and not self.rms_scaling:
            self.beta = self.add_weight(
                name="beta",
                shape=shape,
                initializer=self.beta_initializer,
                regularizer=self.beta_regularizer,
                constraint=self.beta_constraint,
                trainable=True,
                autocast=False,
            )
        else:
            self.beta = None
        self.built = True

    def call(self, inputs):
        original_dtype = inputs.dtype
        x = ops.cast(inputs, result_type(inputs.dtype, "float32"))
        ndim = x.ndim
        axis = sorted(a % ndim for a in self.axis)
        # gamma/beta (shape of x along `axis`) broadcast as (1, ..., d_axis, ..., 1).
        broadcast_shape = [x.shape[i] if i in axis else 1 for i in range(ndim)]

        def broadcast(v):
            return None if v is None else ops.reshape(ops.cast(v, x.dtype), broadcast_shape)

        gamma, beta = broadcast(self.gamma), broadcast(self.beta)
        if self.rms_scaling:
            inv = ops.rsqrt(ops.var(x, axis=axis, keepdims=True) + self.epsilon)
            outputs = x * inv if gamma is None else x * inv * gamma
        else:
            mean, variance = ops.moments(x, axes=axis, keepdims=True)
            inv = ops.rsqrt(variance + self.epsilon)
            if gamma is not None:
                inv = inv * gamma
            res = -mean * inv
            if beta is not None:
                res = res + beta
            outputs = x * inv + res
        return ops.cast(ops.cast(outputs, original_dtype), self.compute_dtype)

    def compute_output_shape(self, input_shape):
        axes = [self.axis] if isinstance(self.axis, int) else self.axis
        for axis in axes:
            if axis >= len(input_shape) or axis < -len(input_shape):
                raise ValueError(
                    f"Axis {axis} is out of bounds for input shape {input_shape}. "
                    f"Received: axis={self.axis}"
                )
        return input_shape

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "axis": self.axis,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "rms_scaling": self.rms_scaling,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "beta_regularizer": regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
            "beta_constraint": constraints.serialize(self.beta_constraint),
            "gamma_constraint": constraints.serialize(self.gamma_constraint),
        }
