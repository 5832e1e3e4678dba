"""Configuration: the JSON file, the /tmp fallback, REFKERAS_BACKEND, getters and setters."""

import json
import os
import subprocess
import sys

import pytest

from refkeras import config


def _run(code, env):
    full_env = {**os.environ, **env}
    out = subprocess.run(
        [sys.executable, "-c", code], env=full_env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_first_import_writes_the_defaults(tmp_path):
    home = tmp_path / "home"
    _run("import refkeras", {"REFKERAS_HOME": str(home)})
    stored = json.loads((home / "refkeras.json").read_text())
    assert stored == {
        "floatx": "float32",
        "epsilon": 1e-7,
        "image_data_format": "channels_last",
        "backend": "numpy",
    }


def test_the_file_is_read(tmp_path):
    (tmp_path / "refkeras.json").write_text(json.dumps({"floatx": "float64", "epsilon": 1e-5}))
    out = _run(
        "from refkeras import config; print(config.floatx(), config.epsilon())",
        {"REFKERAS_HOME": str(tmp_path)},
    )
    assert out == "float64 1e-05"


def test_environment_variable_overrides_the_backend(tmp_path):
    (tmp_path / "refkeras.json").write_text(json.dumps({"backend": "numpy"}))
    code = "from refkeras import config; print(config.backend())"
    env = {"REFKERAS_HOME": str(tmp_path), "REFKERAS_BACKEND": "numpy"}
    assert _run(code, env) == "numpy"


def test_unavailable_backend_gives_a_clear_error(tmp_path):
    out = subprocess.run(
        [sys.executable, "-c", "import refkeras"],
        capture_output=True,
        text=True,
        env={**os.environ, "REFKERAS_HOME": str(tmp_path), "REFKERAS_BACKEND": "jax"},
        timeout=120,
    )
    assert out.returncode != 0 and "'jax' backend is not available" in out.stderr


def test_home_falls_back_to_tmp_when_home_is_not_writable(monkeypatch):
    monkeypatch.delenv("REFKERAS_HOME", raising=False)
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    assert config.refkeras_home() == os.path.join("/tmp", ".refkeras")


def test_setters_validate_and_restore():
    before = (config.floatx(), config.epsilon(), config.image_data_format())
    try:
        config.set_floatx("float64")
        config.set_epsilon(1e-3)
        config.set_image_data_format("channels_first")
        assert (config.floatx(), config.epsilon(), config.image_data_format()) == (
            "float64",
            1e-3,
            "channels_first",
        )
        with pytest.raises(ValueError, match="floatx"):
            config.set_floatx("float17")
        with pytest.raises(ValueError, match="data_format"):
            config.set_image_data_format("channels_middle")
        with pytest.raises(ValueError, match="backend"):
            config.set_backend("tensorflow")
    finally:
        config.set_floatx(before[0])
        config.set_epsilon(before[1])
        config.set_image_data_format(before[2])
