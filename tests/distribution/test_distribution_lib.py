"""The backend-independent part of ``refkeras.distribution``: Keras's names and argument checks,
the global distribution, and the clear error on a backend without multi-device support."""

import numpy as np
import pytest

import refkeras
from refkeras import distribution, layers


@pytest.fixture(autouse=True)
def _no_distribution_after():
    yield
    distribution.set_distribution(None)


def test_data_parallel_from_devices_is_a_1d_batch_mesh():
    dp = distribution.DataParallel(devices=["cpu:0", "cpu:1", "cpu:2"])
    assert dp.device_mesh.shape == (3,)
    assert dp.device_mesh.axis_names == ["batch"]
    assert dp.batch_dim_name == "batch"
    assert dp.num_model_replicas == 3
    assert dp.get_data_layout((12, 5)).axes == ("batch", None)
    assert dp.get_variable_layout(refkeras.Variable(np.zeros((2, 3)))).axes == (None, None)


def test_data_parallel_argument_errors():
    mesh = distribution.DeviceMesh((2,), ["batch"], ["cpu:0", "cpu:1"])
    with pytest.raises(ValueError, match="not both"):
        distribution.DataParallel(device_mesh=mesh, devices=["cpu:0"])
    with pytest.raises(ValueError, match="DeviceMesh"):
        distribution.DataParallel(device_mesh="cpu:0")
    with pytest.raises(ValueError, match="number of devices"):
        distribution.DeviceMesh((3,), ["batch"], ["cpu:0", "cpu:1"])
    with pytest.raises(ValueError, match="same size"):
        distribution.DeviceMesh((2,), ["batch", "model"], ["cpu:0", "cpu:1"])
    with pytest.raises(ValueError, match="Distribution"):
        distribution.set_distribution("data_parallel")


def test_scope_sets_and_restores_the_global_distribution():
    dp = distribution.DataParallel(devices=["cpu:0"])
    assert distribution.distribution() is None
    with dp.scope():
        assert distribution.distribution() is dp
    assert distribution.distribution() is None


def test_fit_with_a_distribution_on_the_numpy_backend_raises_naming_the_jax_backend():
    model = refkeras.Sequential([layers.Input((3,)), layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    distribution.set_distribution(distribution.DataParallel(devices=["cpu:0", "cpu:1"]))
    x, y = np.ones((4, 3), "float32"), np.ones((4, 2), "float32")
    with pytest.raises(ValueError, match="needs the 'jax' backend.*'numpy'"):
        model.fit(x, y, verbose=0)
    with pytest.raises(ValueError, match="needs the 'jax' backend"):
        distribution.list_devices()
    distribution.set_distribution(None)
    model.fit(x, y, verbose=0)  # fine again without it
