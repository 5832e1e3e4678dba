"""Cases for the conv, pool and rnn primitives: ranks 1-3, odd/even kernels (asymmetric "same"
padding), strides and dilations, groups, depthwise multipliers; pooling with ties, -inf and NaN;
recurrences with masks, go_backwards and every activation (record format of ``jax_cases.py``)."""

from __future__ import annotations

import numpy as np
from jax_cases import normal

TIES_POOL = np.array([1.0, 3.0, 3.0, 2.0, -np.inf, -np.inf, 5.0, 5.0], np.float32).reshape(1, 8, 1)
NAN_POOL = np.array([1.0, np.nan, 3.0, 0.0, 2.0, np.nan], np.float32).reshape(1, 6, 1)


def _conv(x_shape, k_shape, strides, padding, dilation, groups=1):
    return (
        "conv",
        [normal(*x_shape), normal(*k_shape)],
        {"strides": strides, "padding": padding, "dilation_rate": dilation, "groups": groups},
        f"conv-{len(x_shape) - 2}d-{padding}-s{strides}-d{dilation}-g{groups}",
    )


def _pool(name, x, pool_size, strides, padding, tag=""):
    params = {"pool_size": pool_size, "strides": strides, "padding": padding}
    return (name, [x], params, f"{name}-{x.ndim - 2}d-{padding}-p{pool_size}-s{strides}{tag}")


def _rnn(name, batch=3, time=5, features=4, units=3, mask=False, **static):
    blocks = {"lstm": 4, "gru": 3, "simple_rnn": 1}[name]
    arrays = [normal(batch, time, features), normal(batch, units)]
    if name == "lstm":
        arrays.append(normal(batch, units))
    arrays += [normal(features, blocks * units) * 0.5, normal(units, blocks * units) * 0.5]
    arrays.append(normal(2, 3 * units) * 0.1 if name == "gru" else normal(blocks * units) * 0.1)
    if mask:
        m = np.ones((batch, time), bool)
        m[0, 0] = m[1, 2:] = m[2, ::2] = False
        arrays.append(m)
    tag = "-".join(f"{k}={v}" for k, v in static.items())
    return name, arrays, static, f"{name}-mask{int(mask)}-{tag}"


WINDOW_CASES = [
    _conv((2, 7, 3), (3, 3, 4), 1, "valid", 1),
    _conv((1, 8, 3), (2, 3, 4), 1, "same", 1),
    _conv((2, 11, 3), (3, 3, 2), 2, "same", 2),
    _conv((2, 9, 3), (3, 3, 2), 1, "causal", 2),
    _conv((2, 9, 4), (3, 2, 6), 1, "same", 1, groups=2),
    _conv((2, 7, 6, 3), (3, 2, 3, 4), (2, 1), "same", 1),
    _conv((2, 8, 7, 3), (3, 3, 3, 2), 1, "same", (2, 1)),
    _conv((1, 6, 7, 6), (3, 2, 2, 6), 1, "valid", 2, groups=3),
    _conv((1, 5, 6, 5, 2), (3, 2, 3, 2, 3), (2, 1, 2), "same", 1),
    (
        "depthwise_conv",
        [normal(2, 7, 6, 3), normal(3, 2, 3, 2)],
        {"strides": (2, 1), "padding": "same", "dilation_rate": 1},
        "depthwise-2d-same",
    ),
    (
        "depthwise_conv",
        [normal(2, 9, 4), normal(3, 4, 1)],
        {"strides": 1, "padding": "valid", "dilation_rate": 2},
        "depthwise-1d-valid-dil",
    ),
    _pool("max_pool", normal(2, 7, 6, 3), 2, None, "valid"),
    _pool("max_pool", normal(2, 7, 6, 3), (3, 2), (2, 1), "same"),
    _pool("max_pool", normal(2, 5, 4, 3, 2), 2, 1, "same"),
    _pool("max_pool", TIES_POOL, 3, 1, "same", "-ties-inf"),
    _pool("max_pool", TIES_POOL, 2, 2, "valid", "-ties"),
    _pool("max_pool", np.round(normal(2, 6, 6, 2)), 3, 1, "same", "-rounded"),
    _pool("max_pool", NAN_POOL, 3, 1, "valid", "-nan"),
    _pool("average_pool", normal(2, 7, 6, 3), 2, None, "valid"),
    _pool("average_pool", normal(2, 7, 6, 3), (3, 2), (2, 1), "same"),
    _pool("average_pool", normal(2, 5, 4, 3, 2), 2, 1, "same"),
    _rnn("lstm", mask=True, go_backwards=True),
    _rnn("lstm", activation="relu", recurrent_activation="hard_sigmoid"),
    _rnn("gru", mask=True, go_backwards=True),
    _rnn("gru", activation="linear", recurrent_activation="sigmoid"),
    _rnn("simple_rnn", mask=True, go_backwards=True),
    _rnn("simple_rnn", activation="relu"),
]
