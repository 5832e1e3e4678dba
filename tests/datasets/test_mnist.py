"""Tests for ``refkeras.datasets.mnist``: the real download-and-cache path, run against a small
fake ``mnist.npz`` served from 127.0.0.1 (no internet)."""

import hashlib
import http.server
import pathlib
import threading

import numpy as np
import pytest

from refkeras.datasets import mnist


class _Server:
    """Serves ``files`` (url path -> bytes) over HTTP and records the requested paths."""

    def __init__(self):
        self.files: dict[str, bytes] = {}
        self.requests: list[str] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append(self.path)
                body = server.files.get(self.path)
                if body is None:
                    self.send_error(404, "Not Found")
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def _fake_mnist(tmp_path):
    rng = np.random.RandomState(0)
    arrays = {
        "x_train": rng.randint(0, 256, size=(50, 28, 28)).astype(np.uint8),
        "y_train": rng.randint(0, 10, size=(50,)).astype(np.uint8),
        "x_test": rng.randint(0, 256, size=(20, 28, 28)).astype(np.uint8),
        "y_test": rng.randint(0, 10, size=(20,)).astype(np.uint8),
    }
    path = tmp_path / "served_mnist.npz"
    np.savez_compressed(path, **arrays)
    return arrays, path.read_bytes()


@pytest.fixture
def env(tmp_path, monkeypatch):
    """A fake mnist.npz served at <server>/folder/mnist.npz, with refkeras' cache in tmp_path."""
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("REFKERAS_HOME", str(tmp_path / "home"))
    arrays, data = _fake_mnist(tmp_path)
    server = _Server()
    server.files["/folder/mnist.npz"] = data
    monkeypatch.setattr(mnist, "ORIGIN_FOLDER", f"{server.url}/folder/")
    monkeypatch.setattr(mnist, "FILE_HASH", hashlib.sha256(data).hexdigest())
    yield arrays, server, tmp_path / "home" / "datasets"
    server.close()


def _check(result, arrays):
    (x_train, y_train), (x_test, y_test) = result
    for name, got in zip(("x_train", "y_train", "x_test", "y_test"), result[0] + result[1]):
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, arrays[name])
    assert x_train.shape == (50, 28, 28) and y_train.shape == (50,)
    assert x_test.shape == (20, 28, 28) and y_test.shape == (20,)


def test_constants_match_keras():
    assert mnist.ORIGIN_FOLDER == "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
    assert mnist.FILE_NAME == "mnist.npz"
    assert mnist.FILE_HASH == "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"


def test_download_then_cache(env):
    arrays, server, cache = env
    _check(mnist.load_data(), arrays)
    assert server.requests == ["/folder/mnist.npz"]
    assert sorted(p.name for p in cache.iterdir()) == ["mnist.npz"]

    _check(mnist.load_data(), arrays)
    assert server.requests == ["/folder/mnist.npz"]  # second call: no request


def test_custom_cache_name(env):
    arrays, server, cache = env
    _check(mnist.load_data(path="my_mnist.npz"), arrays)
    assert server.requests == ["/folder/mnist.npz"]  # the origin keeps the canonical name
    assert sorted(p.name for p in cache.iterdir()) == ["my_mnist.npz"]


def test_hash_mismatch_raises_and_leaves_no_file(env, monkeypatch):
    _, _, cache = env
    monkeypatch.setattr(mnist, "FILE_HASH", "0" * 64)
    with pytest.raises(ValueError, match="mnist.npz") as info:
        mnist.load_data()
    assert "0" * 64 in str(info.value)
    assert list(cache.iterdir()) == []


def test_corrupted_cache_is_downloaded_again(env):
    arrays, server, cache = env
    cache.mkdir(parents=True)
    (cache / "mnist.npz").write_bytes(b"not an npz")
    _check(mnist.load_data(), arrays)
    assert server.requests == ["/folder/mnist.npz"]
    assert sorted(p.name for p in cache.iterdir()) == ["mnist.npz"]


def test_file_origin(tmp_path, monkeypatch):
    monkeypatch.setenv("REFKERAS_HOME", str(tmp_path / "home"))
    arrays, data = _fake_mnist(tmp_path)
    folder = tmp_path / "mirror"
    folder.mkdir()
    (folder / "mnist.npz").write_bytes(data)
    monkeypatch.setattr(mnist, "ORIGIN_FOLDER", folder.as_uri() + "/")
    monkeypatch.setattr(mnist, "FILE_HASH", hashlib.sha256(data).hexdigest())
    _check(mnist.load_data(), arrays)
    assert pathlib.Path(tmp_path / "home" / "datasets" / "mnist.npz").read_bytes() == data
