"""Loading a model file from a stranger runs no code; a full disk during save loses nothing."""

import errno
import json
import os
import zipfile

import numpy as np
import pytest

import refkeras as keras
from refkeras import layers


def _saved_model(tmp_path):
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2, name="d")])
    path = tmp_path / "m.keras"
    model.save(path)
    return model, path


def _rewrite_config(path, mutate):
    with zipfile.ZipFile(path) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    config = json.loads(members["config.json"])
    mutate(config)
    members["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def test_a_config_naming_os_system_is_refused_and_nothing_runs(tmp_path):
    _, path = _saved_model(tmp_path)
    marker = tmp_path / "pwned"

    def mutate(config):
        layer = config["config"]["layers"][1]
        layer["module"], layer["class_name"] = "os", "system"
        layer["config"] = {"command": f"touch {marker}"}
        layer["registered_name"] = None

    _rewrite_config(path, mutate)
    with pytest.raises((ValueError, TypeError), match="system"):
        keras.saving.load_model(path)
    assert not marker.exists()


def test_a_function_from_an_arbitrary_module_is_refused(tmp_path):
    _, path = _saved_model(tmp_path)

    def mutate(config):
        layer = config["config"]["layers"][1]["config"]
        layer["activation"] = {
            "module": "os",
            "class_name": "function",
            "config": "system",
            "registered_name": None,
        }

    _rewrite_config(path, mutate)
    with pytest.raises(ValueError):
        keras.saving.load_model(path)


def test_disk_full_during_save_raises_and_keeps_the_previous_file(tmp_path, monkeypatch):
    model, path = _saved_model(tmp_path)
    before = path.read_bytes()
    model.layers[0].kernel.assign(np.ones((3, 2), "float32"))

    def full_disk(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(zipfile.ZipFile, "writestr", full_disk)
    with pytest.raises(OSError) as info:
        model.save(path)
    assert info.value.errno == errno.ENOSPC
    assert path.read_bytes() == before
    assert [n for n in os.listdir(tmp_path) if n.startswith(".")] == []
    monkeypatch.undo()
    reloaded = keras.saving.load_model(path)
    assert not np.allclose(reloaded.layers[0].kernel.numpy(), 1.0)
