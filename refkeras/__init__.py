"""refkeras: Keras 3, written out — a readable pure-NumPy reference implementation of the Keras API.

``import refkeras as keras`` runs Keras code unchanged.
"""

__version__ = "0.1.0"

from refkeras import backend as _backend  # noqa: E402
from refkeras import config  # noqa: E402,F401

_backend.load_backend(config.backend())
config._loaded["done"] = True

from refkeras import (  # noqa: E402,F401
    activations,
    callbacks,
    constraints,
    datasets,
    distribution,
    initializers,
    layers,
    losses,
    metrics,
    models,
    ops,
    optimizers,
    random,
    regularizers,
    saving,
    utils,
)
from refkeras.autodiff import GradientTape  # noqa: E402,F401
from refkeras.backend import KerasTensor, StatelessScope, Variable  # noqa: E402,F401
from refkeras.layers import Input, InputSpec, Layer  # noqa: E402,F401
from refkeras.losses import Loss  # noqa: E402,F401
from refkeras.metrics import Metric  # noqa: E402,F401
from refkeras.models import Functional, Model, Sequential  # noqa: E402,F401
from refkeras.optimizers import Optimizer  # noqa: E402,F401
