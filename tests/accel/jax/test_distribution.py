"""``refkeras.distribution.DataParallel`` on the JAX backend: 4 CPU devices in one process
(``XLA_FLAGS=--xla_force_host_platform_device_count=4``), and 2 processes joined by
``jax.distributed.initialize`` on 127.0.0.1 -- final weights and History equal the single-device
run.  Each run is a fresh Python process (``distribution_worker.py``): XLA reads its device flags
at start-up and ``jax.distributed`` can be initialized once per process."""

import os
import socket
import subprocess
import sys

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
WORKER = os.path.join(HERE, "distribution_worker.py")
TOL = 1e-5  # sharded reductions add in another order: float32 rounding only


def _env(devices: int | None) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("XLA_FLAGS", None)
    if devices:
        env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={devices}"
    return env


def _start(out, mode, devices=None, *extra):
    return subprocess.Popen(
        [sys.executable, WORKER, str(out), mode, *map(str, extra)],
        env=_env(devices),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _finish(proc, timeout=240):
    try:
        output, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        output, _ = proc.communicate()
        pytest.fail(f"worker timed out:\n{output}")
    assert proc.returncode == 0, output


def _load(path):
    with np.load(path) as f:
        return {k: f[k] for k in f.files}


@pytest.fixture(scope="module")
def single_device_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("single") / "run.npz"
    _finish(_start(out, "single"))
    return _load(out)


def _assert_same_training(got, ref):
    keys = [k for k in ref if k.startswith(("w", "h_"))]
    assert keys and sorted(keys) == sorted(k for k in got if k.startswith(("w", "h_")))
    for k in keys:
        np.testing.assert_allclose(got[k], ref[k], rtol=TOL, atol=TOL, err_msg=k)


def test_data_parallel_on_4_cpu_devices_equals_one_device(single_device_run, tmp_path):
    out = tmp_path / "dp.npz"
    _finish(_start(out, "data_parallel", 4))
    got = _load(out)
    assert int(got["devices"]) == 4
    assert int(got["state_devices"]) == 4  # the weights lived on the 4 devices
    _assert_same_training(got, single_device_run)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_data_parallel_across_2_processes_equals_one_device(single_device_run, tmp_path):
    coordinator = f"127.0.0.1:{_free_port()}"
    procs = [
        _start(tmp_path / f"p{i}.npz", "data_parallel", None, coordinator, 2, i) for i in range(2)
    ]
    for proc in procs:
        _finish(proc)
    for i in range(2):
        got = _load(tmp_path / f"p{i}.npz")
        assert int(got["devices"]) == 2 and int(got["local_devices"]) == 1
        assert int(got["state_devices"]) == 2
        _assert_same_training(got, single_device_run)
