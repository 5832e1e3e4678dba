"""``refkeras.distribution``: Keras 3's distribution API (data parallelism on the JAX backend).

As in the Keras FAQ::

    distribution = refkeras.distribution.DataParallel(devices=jax.devices())
    refkeras.distribution.set_distribution(distribution)
    model.fit(...)   # each batch sharded across the devices, weights replicated
"""

from refkeras.distribution.distribution_lib import (  # noqa: F401
    DataParallel,
    DeviceMesh,
    Distribution,
    TensorLayout,
    distribution,
    get_device_count,
    initialize,
    list_devices,
    set_distribution,
)
