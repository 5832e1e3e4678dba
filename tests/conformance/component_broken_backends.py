"""Deliberately wrong backends: the NumPy reference with one primitive subtly broken.  The
component checks must catch each (tests/conformance/test_components_broken.py)."""

from __future__ import annotations

import numpy as np

from refkeras.backend.base import NumpyBackend
from refkeras.primitives import elementwise


class _OnePrimitiveBroken(NumpyBackend):
    broken: dict = {}

    def primitives(self):
        from refkeras.primitives.interface import ALL_PRIMITIVES

        reference = super().primitives()
        return {n: self.broken.get(n) or reference[n] for n in ALL_PRIMITIVES}


def _relu_leaky(x):
    """relu that lets 1e-3 of negative inputs through (invisible in most printed outputs)."""
    return np.where(x > 0, x, 1e-3 * x).astype(x.dtype, copy=False)


class BrokenReluBackend(_OnePrimitiveBroken):
    name = "numpy-broken-relu"
    broken = {"relu": (_relu_leaky, elementwise.relu_vjp)}


def _sqrt_off(x):
    """sqrt 0.1% too large."""
    return (np.sqrt(x) * 1.001).astype(np.asarray(x).dtype, copy=False)


class BrokenSqrtBackend(_OnePrimitiveBroken):
    name = "numpy-broken-sqrt"
    broken = {"sqrt": (_sqrt_off, elementwise.sqrt_vjp)}


def _relu_vjp_half(g, out, x):
    """the gradient of relu halved at x in (0, 0.5)"""
    return (g * (x > 0) * np.where(x < 0.5, 0.5, 1.0).astype(g.dtype),)


class BrokenReluGradBackend(_OnePrimitiveBroken):
    name = "numpy-broken-relu-vjp"
    broken = {"relu": (elementwise.relu, _relu_vjp_half)}


def _adam_kernel_without_bias_correction(optimizer, grads, variables, learning_rate):
    """Adam's update with the second-moment bias correction forgotten (a classic fused-kernel
    slip: the step is sqrt(1 - beta_2^t) too large... here: missing)."""
    from refkeras import ops

    t = ops.cast(optimizer.iterations + 1, "float32")
    lr = ops.cast(learning_rate, "float32")
    alpha = lr / (1 - ops.power(optimizer.beta_1, t))
    for g, v in zip(grads, variables):
        m = optimizer._momentums[optimizer._get_variable_index(v)]
        u = optimizer._velocities[optimizer._get_variable_index(v)]
        m.assign(m + (g - m) * (1 - optimizer.beta_1))
        u.assign(u + (g * g - u) * (1 - optimizer.beta_2))
        v.assign(v - ops.cast(m * alpha, v.dtype) / (ops.sqrt(u) + optimizer.epsilon))


class BrokenAdamKernelBackend(NumpyBackend):
    name = "numpy-broken-adam-kernel"

    def fused_kernels(self):
        return {"optimizer.adam": _adam_kernel_without_bias_correction}
