"""Deliberately wrong third-party backends: subclasses of the NumPy reference that override one
primitive each, as a backend author might get it wrong.  The suite must fail every one of them.
(Imported by the tests as ``mutants:<Class>``, the ``package.module:attr`` form.)"""

import numpy as np

from refkeras.backend.base import NumpyBackend
from refkeras.primitives import elementwise, pool, reduce


class _Override(NumpyBackend):
    name = "mutant"
    overrides: dict = {}

    def primitives(self):
        table = super().primitives()
        for name, (fwd, vjp) in self.overrides.items():
            ref_fwd, ref_vjp = table[name]
            table[name] = (fwd or ref_fwd, vjp or ref_vjp)
        return table


class WrongMultiply(_Override):
    """a * b plus a small wrong term."""

    overrides = {"multiply": (lambda a, b: a * b + 1e-3 * a, None)}


class NaiveLog1p(_Override):
    """log(1 + x): loses every digit for tiny x."""

    overrides = {"log1p": (lambda x: np.log(1 + x), None)}


class NaiveSoftplus(_Override):
    """log(1 + e^x): overflows for large x."""

    overrides = {"softplus": (lambda x: np.log(1 + np.exp(x)), None)}


class LastArgmax(_Override):
    """Ties resolved to the last index."""

    @staticmethod
    def _argmax(x, *, axis=None, keepdims=False):
        flipped = np.flip(x, axis=axis)
        idx = np.argmax(flipped, axis=axis, keepdims=keepdims)
        n = x.size if axis is None else x.shape[axis]
        return (n - 1 - idx).astype(np.int32)

    overrides = {"argmax": (_argmax, None)}


class MaximumVjpNoSplit(_Override):
    """Ties send the whole cotangent to ``a`` instead of half to each side."""

    @staticmethod
    def _vjp(g, out, a, b):
        from refkeras.primitives._util import unbroadcast

        wa = (a >= b).astype(g.dtype)
        return unbroadcast(g * wa, a.shape), unbroadcast(g * (1 - wa), b.shape)

    overrides = {"maximum": (None, _vjp)}


class HalfPrecisionSum(_Override):
    """Accumulates float32 sums in float16."""

    @staticmethod
    def _sum(x, *, axis=None, keepdims=False):
        if x.dtype == np.float32:
            return np.sum(x.astype(np.float16), axis=axis, keepdims=keepdims).astype(np.float32)
        return reduce.sum(x, axis=axis, keepdims=keepdims)

    overrides = {"sum": (_sum, None)}


class MeanVjpNotDivided(_Override):
    overrides = {"mean": (None, lambda g, out, x, **p: reduce.sum_vjp(g, out, x, **p))}


class MaxPoolClampsAtZero(_Override):
    """max(pool, 0): as if padding (or an initial value) were 0 instead of -inf."""

    overrides = {
        "max_pool": (lambda x, **p: np.maximum(pool.max_pool(x, **p), 0).astype(x.dtype), None)
    }


class WrongDtypeTanh(_Override):
    """Returns float64 for float32 inputs."""

    overrides = {"tanh": (lambda x: np.tanh(x.astype(np.float64)), None)}


class RaisingErf(_Override):
    @staticmethod
    def _erf(x):
        raise NotImplementedError("erf is not implemented")

    overrides = {"erf": (_erf, elementwise.erf_vjp)}
