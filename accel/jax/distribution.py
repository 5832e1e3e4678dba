"""The JAX side of ``refkeras.distribution``: devices, meshes, multi-process initialization."""

from __future__ import annotations

import jax
import numpy as np


def list_devices(device_type: str | None = None) -> list[str]:
    """``"<platform>:<id>"`` for each global device of ``device_type`` (default: JAX's default
    platform)."""
    device_type = device_type.lower() if device_type else None
    devices = jax.devices(device_type) if device_type else jax.devices()
    return [f"{d.platform}:{d.id}" for d in devices]


def _device(d):
    """A ``jax.Device`` from a device or a ``"cpu:0"`` string."""
    if isinstance(d, jax.Device):
        return d
    if isinstance(d, str) and ":" in d:
        platform, _, index = d.partition(":")
        for device in jax.devices(platform.lower()):
            if device.id == int(index):
                return device
    raise ValueError(f"Unknown device {d!r}: expected a jax.Device or one of {list_devices()}.")


def to_backend_mesh(device_mesh):
    """The ``jax.sharding.Mesh`` of a :class:`refkeras.distribution.DeviceMesh`."""
    devices = np.vectorize(_device, otypes=[object])(device_mesh.devices)
    return jax.sharding.Mesh(devices, tuple(device_mesh.axis_names))


def initialize(job_addresses, num_processes, process_id) -> None:
    """``jax.distributed.initialize`` with the coordinator = the first job address."""
    coordinator = job_addresses.split(",")[0] if job_addresses else None
    jax.distributed.initialize(
        coordinator_address=coordinator, num_processes=num_processes, process_id=process_id
    )
