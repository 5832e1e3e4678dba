"""``refkeras.ops``: the Keras 3 ops API, differentiable through :class:`refkeras.GradientTape`."""

from refkeras.backend import operators as _operators
from refkeras.ops.core import (  # noqa: F401
    cast,
    convert_to_numpy,
    convert_to_tensor,
    dtype,
    is_tensor,
    shape,
    stop_gradient,
)
from refkeras.ops.math import erf, in_top_k, logsumexp, rsqrt, top_k  # noqa: F401
from refkeras.ops.nn import *  # noqa: F401,F403
from refkeras.ops.nn import (  # noqa: F401
    batch_normalization,
    binary_crossentropy,
    categorical_crossentropy,
    conv,
    moments,
    one_hot,
    sparse_categorical_crossentropy,
)
from refkeras.ops.numpy import *  # noqa: F401,F403
from refkeras.ops.numpy import (  # noqa: F401
    abs,
    all,
    any,
    max,
    min,
    round,
    sum,
)

_operators._ops = __import__("refkeras.ops", fromlist=["_"])
