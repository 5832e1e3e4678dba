"""Distribution objects (``keras/src/distribution/distribution_lib.py``): device lists, the device
mesh, and :class:`DataParallel`.

Only data parallelism exists in refkeras, and only the JAX backend runs it: the compiled step of
``accel/jax/trainer.py`` shards every batch along its first axis over a 1-D mesh and replicates the
weights, so each device computes the step on ``batch / devices`` samples and XLA sums the gradients
(the result equals the single-device step up to float rounding).  The NumPy reference and the other
backends have one device; training with a distribution set raises there (see
:func:`check_backend`).

Which devices: the JAX backend's (``jax.devices()``: every process's devices after
``initialize``); a device is a ``jax.Device`` or a string ``"cpu:0"``.
"""

from __future__ import annotations

import contextlib
import os
import warnings

import numpy as np

DEFAULT_BATCH_DIM_NAME = "batch"
_state: dict = {"distribution": None}


def _jax_distribution():
    """The JAX side (imported only when a distribution is used, with the jax backend)."""
    from refkeras.backend import backend

    if backend() != "jax":
        raise ValueError(
            "refkeras.distribution needs the 'jax' backend (set it with "
            "refkeras.config.set_backend('jax') or REFKERAS_BACKEND=jax); the active backend is "
            f"{backend()!r}, which runs on one device."
        )
    from accel.jax import distribution as jax_distribution

    return jax_distribution


def list_devices(device_type: str | None = None) -> list[str]:
    """The available devices as strings ``"<type>:<id>"`` (global devices after ``initialize``);
    ``device_type`` is ``"cpu"``, ``"gpu"`` or ``"tpu"`` (default: accelerators if any, else
    CPUs)."""
    return _jax_distribution().list_devices(device_type)


def get_device_count(device_type: str | None = None) -> int:
    """How many devices :func:`list_devices` returns."""
    return len(list_devices(device_type))


def initialize(job_addresses=None, num_processes=None, process_id=None) -> None:
    """Join a multi-process run (``jax.distributed.initialize``): ``job_addresses`` is the
    coordinator's ``"host:port"`` (only the first of a comma-separated list is used, as Keras's
    JAX backend does).  Defaults come from ``KERAS_DISTRIBUTION_JOB_ADDRESSES``,
    ``KERAS_DISTRIBUTION_NUM_PROCESSES`` and ``KERAS_DISTRIBUTION_PROCESS_ID``."""
    if job_addresses is None:
        job_addresses = os.environ.get("KERAS_DISTRIBUTION_JOB_ADDRESSES")
    if num_processes is None and "KERAS_DISTRIBUTION_NUM_PROCESSES" in os.environ:
        num_processes = int(os.environ["KERAS_DISTRIBUTION_NUM_PROCESSES"])
    if process_id is None and "KERAS_DISTRIBUTION_PROCESS_ID" in os.environ:
        process_id = int(os.environ["KERAS_DISTRIBUTION_PROCESS_ID"])
    _jax_distribution().initialize(job_addresses, num_processes, process_id)


class DeviceMesh:
    """Devices laid out on named axes (aligned with ``jax.sharding.Mesh``).

    Args:
        shape: the mesh shape, e.g. ``(8,)``.
        axis_names: one name per axis, e.g. ``["batch"]``.
        devices: devices (``jax.Device`` or ``"cpu:0"`` strings), as many as ``prod(shape)``;
            default: :func:`list_devices`.
    """

    def __init__(self, shape, axis_names, devices=None):
        if not shape or not axis_names:
            raise ValueError(
                "Shape and axis_names cannot be empty. Received: "
                f"shape={shape}, axis_names={axis_names}"
            )
        if len(shape) != len(axis_names):
            raise ValueError(
                "Shape and axis_names should have same size. "
                f"Received: shape={shape}, axis_names={axis_names}"
            )
        if devices is None:
            devices = list_devices()
        devices = np.array(devices, dtype=object)
        if int(np.prod(shape)) != devices.size:
            raise ValueError(
                "Shape does not match the number of devices. "
                f"Received: shape={shape}; devices.shape={devices.shape}"
            )
        self._shape = tuple(shape)
        self._axis_names = list(axis_names)
        self._devices = devices.reshape(self._shape)
        self._backend_mesh = None

    @property
    def shape(self) -> tuple:
        return self._shape

    @property
    def axis_names(self) -> list:
        return self._axis_names

    @property
    def devices(self) -> np.ndarray:
        return self._devices

    @property
    def backend_mesh(self):
        """The ``jax.sharding.Mesh`` of these devices (made on first use)."""
        if self._backend_mesh is None:
            self._backend_mesh = _jax_distribution().to_backend_mesh(self)
        return self._backend_mesh

    def __repr__(self) -> str:
        return f"<DeviceMesh shape={self.shape}, axis_names={self.axis_names}>"


class TensorLayout:
    """How a tensor is laid out on a mesh: one mesh-axis name (or ``None``) per tensor axis."""

    def __init__(self, axes, device_mesh=None):
        self._axes = tuple(axes)
        self.device_mesh = device_mesh

    @property
    def axes(self) -> tuple:
        return self._axes

    def __repr__(self) -> str:
        return f"<TensorLayout axes={self.axes}, device_mesh={self.device_mesh}>"


class Distribution:
    """Base class of distribution strategies: a device mesh and the name of its batch axis."""

    def __init__(self, device_mesh, batch_dim_name=None, auto_shard_dataset=True):
        self._device_mesh = device_mesh
        self._batch_dim_name = batch_dim_name
        self._auto_shard_dataset = auto_shard_dataset

    @property
    def device_mesh(self) -> DeviceMesh:
        return self._device_mesh

    @property
    def batch_dim_name(self):
        return self._batch_dim_name

    @property
    def auto_shard_dataset(self) -> bool:
        return self._auto_shard_dataset

    @contextlib.contextmanager
    def scope(self):
        """Make this distribution current within the block."""
        original = distribution()
        set_distribution(self)
        try:
            yield
        finally:
            set_distribution(original)

    def get_data_layout(self, data_shape):
        raise NotImplementedError

    def get_variable_layout(self, variable):
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} device_mesh={self.device_mesh}>"


class DataParallel(Distribution):
    """Data parallelism: each batch is split along its first axis across the devices, the
    variables are replicated on every device.

    Give ``device_mesh`` (a 1-D :class:`DeviceMesh`; with more axes the first is the batch axis,
    with a warning) or ``devices`` (a list: a 1-D mesh of them), not both; with neither,
    :func:`list_devices` is used.  A batch whose size is not a multiple of the device count (the
    last batch of an epoch, say) runs replicated on every device instead of being split.
    """

    def __init__(self, device_mesh=None, devices=None, auto_shard_dataset=True):
        if device_mesh is not None and devices is not None:
            raise ValueError(
                "Pass either `device_mesh` or `devices` to DataParallel, not both. Received: "
                f"device_mesh={device_mesh}, devices={devices}"
            )
        if device_mesh is not None:
            if not isinstance(device_mesh, DeviceMesh):
                raise ValueError(
                    "Expect `mesh` to be an instance of `DeviceMesh`. "
                    f"Received: mesh={device_mesh} (of type {type(device_mesh)})"
                )
            if device_mesh.devices.ndim != 1:
                warnings.warn(
                    "Expect the input mesh to be 1D, but received mesh.devices.ndim="
                    f"{device_mesh.devices.ndim}. The first axis will be used for data-parallel "
                    "sharding.",
                    stacklevel=2,
                )
            super().__init__(device_mesh, device_mesh.axis_names[0], auto_shard_dataset)
            return
        devices = list(devices) if devices is not None else list_devices()
        if not devices:
            raise ValueError("`devices` must list at least one device. Received: []")
        mesh = DeviceMesh((len(devices),), [DEFAULT_BATCH_DIM_NAME], devices)
        super().__init__(mesh, DEFAULT_BATCH_DIM_NAME, auto_shard_dataset)

    @property
    def num_model_replicas(self) -> int:
        return int(self.device_mesh.devices.size)

    def get_data_layout(self, data_shape) -> TensorLayout:
        """The batch axis split over the mesh, the others whole."""
        axes = [None] * len(data_shape)
        axes[0] = self.batch_dim_name
        return TensorLayout(axes, self.device_mesh)

    def get_variable_layout(self, variable) -> TensorLayout:
        """Variables are replicated."""
        return TensorLayout([None] * len(variable.shape), self.device_mesh)


def distribution() -> Distribution | None:
    """The current distribution (``None``: one device)."""
    return _state["distribution"]


def set_distribution(value: Distribution | None) -> None:
    """Set the global distribution (``None`` to go back to one device)."""
    if value is not None and not isinstance(value, Distribution):
        raise ValueError(
            "`set_distribution` expects a Distribution (such as DataParallel) or None. "
            f"Received: {value!r} (of type {type(value)})"
        )
    _state["distribution"] = value


def check_backend() -> None:
    """Raise when a distribution is set but the active backend cannot run it."""
    if _state["distribution"] is not None:
        _jax_distribution()
