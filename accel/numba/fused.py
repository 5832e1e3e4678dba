"""Fused kernels of the Numba backend (see :mod:`refkeras.backend.fused`).

Optimizer updates: each variable's whole update (slots and weights) is one Numba loop instead of
a dozen ops through the dispatcher.  The scalars (learning rate, bias corrections, ``1 - beta``)
are computed exactly as the composition computes them, in the variable's dtype, and the loops do
the composition's operations in the composition's order, so float32 results match to rounding.
A kernel declines (``NotImplemented``) anything it does not reproduce: a subclass that overrides
``update_step``, or variables that are not float32/float64.
"""

from __future__ import annotations

import numpy as np

from accel.numba._common import njit
from refkeras.optimizers.adam import Adam
from refkeras.optimizers.rmsprop import RMSprop
from refkeras.optimizers.sgd import SGD


def _array(x, dtype):
    x = getattr(x, "value", x)
    x = getattr(x, "value", x)  # Variable -> Tensor -> array
    return np.ascontiguousarray(np.asarray(x), dtype=dtype).reshape(-1)


def _prepare(optimizer, cls, grads, variables, learning_rate):
    """``(dtype, lr, [(variable, index, flat grad, flat value)])`` or ``None`` to decline."""
    if type(optimizer).update_step is not cls.update_step:
        return None
    dtypes = {np.dtype(v.dtype) for v in variables}
    if len(dtypes) != 1 or not dtypes <= {np.dtype(np.float32), np.dtype(np.float64)}:
        return None
    dtype = dtypes.pop()
    lr = _array(learning_rate, dtype)[0]
    items = [
        (v, optimizer._get_variable_index(v), _array(g, dtype), _array(v, dtype))
        for g, v in zip(grads, variables)
    ]
    return dtype, lr, items


def _assign(optimizer, variable, flat):
    optimizer.assign(variable, flat.reshape(variable.shape))


# --- SGD ---------------------------------------------------------------------------------------


@njit
def _sgd_kernel(w, g, m, lr, momentum, nesterov, use_momentum):
    for i in range(w.shape[0]):
        if not use_momentum:
            w[i] = w[i] - g[i] * lr
        else:
            m[i] = m[i] * momentum - g[i] * lr
            w[i] = w[i] + (m[i] * momentum - g[i] * lr if nesterov else m[i])


def sgd(optimizer, grads, variables, learning_rate):
    """``"optimizer.sgd"``: ``m = m * momentum - g * lr; w = w + m`` (Nesterov: ``w = w +
    m * momentum - g * lr``), or ``w = w - g * lr`` without momentum."""
    prepared = _prepare(optimizer, SGD, grads, variables, learning_rate)
    if prepared is None:
        return NotImplemented
    dtype, lr, items = prepared
    use_momentum = optimizer.momentum != 0
    momentum = dtype.type(optimizer.momentum)
    for v, i, g, w in items:
        m = _array(optimizer.momentums[i], dtype) if use_momentum else w[:0]
        w = w.copy()
        m = m.copy()
        _sgd_kernel(w, g, m, lr, momentum, bool(optimizer.nesterov), use_momentum)
        if use_momentum:
            _assign(optimizer, optimizer.momentums[i], m)
        _assign(optimizer, v, w)
    return None


# --- Adam --------------------------------------------------------------------------------------


@njit
def _adam_kernel(w, g, m, v, v_hat, alpha, one_minus_beta_1, one_minus_beta_2, epsilon, amsgrad):
    for i in range(w.shape[0]):
        m[i] = m[i] + (g[i] - m[i]) * one_minus_beta_1
        v[i] = v[i] + (g[i] * g[i] - v[i]) * one_minus_beta_2
        vi = v[i]
        if amsgrad:
            v_hat[i] = max(v_hat[i], v[i])
            vi = v_hat[i]
        w[i] = w[i] - (m[i] * alpha) / (np.sqrt(vi) + epsilon)


def adam(optimizer, grads, variables, learning_rate):
    """``"optimizer.adam"``: ``alpha = lr sqrt(1 - beta_2^t) / (1 - beta_1^t)``,
    ``m += (g - m)(1 - beta_1)``, ``v += (g^2 - v)(1 - beta_2)``, (AMSGrad:
    ``v_hat = max(v_hat, v)``), ``w -= m alpha / (sqrt(v) + epsilon)``."""
    prepared = _prepare(optimizer, Adam, grads, variables, learning_rate)
    if prepared is None:
        return NotImplemented
    dtype, lr, items = prepared
    one = dtype.type(1)
    step = dtype.type(_array(optimizer.iterations, np.int64)[0] + 1)
    beta_1_power = np.power(dtype.type(optimizer.beta_1), step)
    beta_2_power = np.power(dtype.type(optimizer.beta_2), step)
    alpha = lr * np.sqrt(one - beta_2_power) / (one - beta_1_power)
    scalars = (
        dtype.type(1 - optimizer.beta_1),
        dtype.type(1 - optimizer.beta_2),
        dtype.type(optimizer.epsilon),
    )
    for var, i, g, w in items:
        m = _array(optimizer._momentums[i], dtype).copy()
        v = _array(optimizer._velocities[i], dtype).copy()
        amsgrad = bool(optimizer.amsgrad)
        v_hat = _array(optimizer._velocity_hats[i], dtype).copy() if amsgrad else w[:0]
        w = w.copy()
        _adam_kernel(w, g, m, v, v_hat, alpha, *scalars, amsgrad)
        _assign(optimizer, optimizer._momentums[i], m)
        _assign(optimizer, optimizer._velocities[i], v)
        if amsgrad:
            _assign(optimizer, optimizer._velocity_hats[i], v_hat)
        _assign(optimizer, var, w)
    return None


# --- RMSprop -----------------------------------------------------------------------------------


@njit
def _rmsprop_kernel(w, g, vel, mom, avg, lr, rho, one_minus_rho, epsilon, momentum, centered):
    for i in range(w.shape[0]):
        vel[i] = rho * vel[i] + one_minus_rho * (g[i] * g[i])
        if centered:
            avg[i] = rho * avg[i] + one_minus_rho * g[i]
            denominator = vel[i] - avg[i] * avg[i] + epsilon
        else:
            denominator = vel[i] + epsilon
        increment = (lr * g[i]) / np.sqrt(denominator)
        if mom.shape[0]:
            mom[i] = momentum * mom[i] + increment
            w[i] = w[i] - mom[i]
        else:
            w[i] = w[i] - increment


def rmsprop(optimizer, grads, variables, learning_rate):
    """``"optimizer.rmsprop"``: ``vel = rho vel + (1 - rho) g^2``; centered:
    ``avg = rho avg + (1 - rho) g``, ``den = vel - avg^2 + eps`` (else ``vel + eps``);
    ``inc = lr g / sqrt(den)``; momentum: ``m = momentum m + inc; w -= m``, else ``w -= inc``."""
    prepared = _prepare(optimizer, RMSprop, grads, variables, learning_rate)
    if prepared is None:
        return NotImplemented
    dtype, lr, items = prepared
    rho = dtype.type(optimizer.rho)
    scalars = (
        rho,
        dtype.type(1 - optimizer.rho),
        dtype.type(optimizer.epsilon),
        dtype.type(optimizer.momentum),
        bool(optimizer.centered),
    )
    use_momentum = optimizer.momentum > 0
    for var, i, g, w in items:
        vel = _array(optimizer._velocities[i], dtype).copy()
        mom = _array(optimizer._momentums[i], dtype).copy() if use_momentum else w[:0]
        avg = _array(optimizer._average_gradients[i], dtype).copy() if scalars[-1] else w[:0]
        w = w.copy()
        _rmsprop_kernel(w, g, vel, mom, avg, lr, *scalars)
        _assign(optimizer, optimizer._velocities[i], vel)
        if scalars[-1]:
            _assign(optimizer, optimizer._average_gradients[i], avg)
        if use_momentum:
            _assign(optimizer, optimizer._momentums[i], mom)
        _assign(optimizer, var, w)
    return None


KERNELS = {"optimizer.sgd": sgd, "optimizer.adam": adam, "optimizer.rmsprop": rmsprop}
