"""Math ops (``keras.ops.logsumexp``, ``top_k``, ``in_top_k``, ``erf``, ``rsqrt``)."""

from __future__ import annotations

import numpy as np

from refkeras.backend import asarray, to_numpy
from refkeras.backend.tensor import Tensor
from refkeras.ops import numpy as knp
from refkeras.ops.core import call, float_operand, op, stop_gradient, to_tensor


@op
def logsumexp(x, axis=None, keepdims=False):
    """ln sum(e^x) = m + ln sum(e^(x - m)) with m = max(x) (held constant: it cancels)."""
    x = float_operand(x)
    m = stop_gradient(knp.max(x, axis=axis, keepdims=True))
    m = knp.where(knp.isfinite(m), m, 0.0)
    out = knp.log(knp.sum(knp.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else knp.squeeze(out, axis)


@op
def erf(x):
    return call("erf", float_operand(x))


@op
def rsqrt(x):
    return 1.0 / knp.sqrt(x)


@op
def top_k(x, k, sorted=True):  # noqa: A002
    """(values, indices) of the ``k`` largest entries along the last axis (first index wins
    ties)."""
    x = to_tensor(x)
    idx = np.argsort(-to_numpy(x.value), axis=-1, kind="stable")[..., :k].astype(np.int32)
    return knp.take_along_axis(x, idx, axis=-1), Tensor(asarray(idx))


@op
def in_top_k(targets, predictions, k):
    """Whether each target's score is among the ``k`` largest: its rank ``1 + #(scores strictly
    larger)`` is at most ``k`` (so ties count as in); a NaN score counts as -inf (Keras/JAX)."""
    preds = to_numpy(to_tensor(predictions).value)
    t = to_numpy(to_tensor(targets).value).astype(np.int64).reshape(-1)
    target_score = preds[np.arange(preds.shape[0]), t]
    target_score = np.where(np.isnan(target_score), -np.inf, target_score)
    rank = 1 + np.sum(preds > target_score[:, None], axis=-1)
    return Tensor(asarray(rank <= k))
