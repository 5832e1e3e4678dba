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


def test_unknown_backend_gives_a_clear_error(tmp_path):
    out = subprocess.run(
        [sys.executable, "-c", "import refkeras"],
        capture_output=True,
        text=True,
        env={**os.environ, "REFKERAS_HOME": str(tmp_path), "REFKERAS_BACKEND": "tensorflow"},
        timeout=120,
    )
    assert out.returncode != 0 and "Unknown backend: 'tensorflow'" in out.stderr


def test_missing_backend_package_names_the_extra(tmp_path):
    """A shipped backend whose package is absent says which extra to install."""
    code = (
        "import sys; sys.modules['numba'] = None\n"  # makes `import numba` fail
        "from refkeras import config\n"
        "try:\n    config.set_backend('numba')\nexcept ImportError as e:\n    print(e)\n"
        "print(config.backend())"
    )
    out = _run(code, {"REFKERAS_HOME": str(tmp_path)})
    assert 'pip install "refkeras[numba]"' in out
    assert out.splitlines()[-1] == "numpy"  # nothing changed


def test_third_party_backend_by_module_and_attribute(tmp_path):
    code = (
        "import refkeras, numpy as np\n"
        "from refkeras import config, ops\n"
        "config.set_backend('refkeras.backend.base:NumpyBackend')\n"
        "print(refkeras.backend.backend(), float(ops.sum(ops.ones((3,)))))"
    )
    assert _run(code, {"REFKERAS_HOME": str(tmp_path)}) == "numpy 3.0"


def test_bad_backend_object_is_refused():
    with pytest.raises(ValueError, match="package.module:attr"):
        config.set_backend("no_such_module_xyz:Backend")
    assert config.backend() == "numpy"


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
