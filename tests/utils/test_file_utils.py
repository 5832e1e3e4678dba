"""Tests for ``refkeras.utils.file_utils``: hashing, ``get_file`` caching and safe extraction.

Downloads go to a local ``http.server`` on 127.0.0.1 or to ``file://`` URLs; nothing touches
the internet.
"""

import hashlib
import http.server
import io
import os
import pathlib
import tarfile
import threading
import zipfile

import pytest

from refkeras.utils import file_utils
from refkeras.utils.file_utils import get_file, hash_file, validate_file

PAYLOAD = b"refkeras test payload\n" * 100
SHA256 = hashlib.sha256(PAYLOAD).hexdigest()
MD5 = hashlib.md5(PAYLOAD).hexdigest()


# --------------------------------------------------------------------------------------------
# A local HTTP server
# --------------------------------------------------------------------------------------------


class _Server:
    """Serves ``files`` (url path -> bytes) and counts requests per path."""

    def __init__(self):
        self.files: dict[str, bytes] = {}
        self.requests: list[str] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append(self.path)
                if self.path == "/truncated":
                    # Promise more bytes than are sent, then hang up.
                    self.send_response(200)
                    self.send_header("Content-Length", "100000")
                    self.end_headers()
                    self.wfile.write(PAYLOAD[:100])
                    self.wfile.flush()
                    self.close_connection = True
                    return
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


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    s = _Server()
    s.files["/data.bin"] = PAYLOAD
    yield s
    s.close()


def _listing(directory):
    return sorted(
        str(p.relative_to(directory)) for p in pathlib.Path(directory).rglob("*") if p.is_file()
    )


# --------------------------------------------------------------------------------------------
# Hashes
# --------------------------------------------------------------------------------------------


def test_hash_file_known_values(tmp_path):
    path = tmp_path / "abc"
    path.write_bytes(b"abc")
    assert hash_file(path) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert hash_file(path, "md5") == "900150983cd24fb0d6963f7d28e17f72"
    assert hash_file(path, hashlib.sha1()) == "a9993e364706816aba3e25717850c26c9cd0d89d"


def test_validate_file_detects_algorithm(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(PAYLOAD)
    assert validate_file(path, SHA256)  # 64 hex digits -> sha256
    assert validate_file(path, MD5)  # otherwise md5
    assert validate_file(path, SHA256.upper())
    assert validate_file(path, SHA256, algorithm="sha256")
    assert validate_file(path, MD5, algorithm="md5")
    assert not validate_file(path, SHA256, algorithm="md5")
    assert not validate_file(path, "0" * 64)
    assert not validate_file(path, "0" * 32)


# --------------------------------------------------------------------------------------------
# get_file: download and cache
# --------------------------------------------------------------------------------------------


def test_download_over_http_then_cache(server, tmp_path, capsys):
    path = get_file("data.bin", f"{server.url}/data.bin", file_hash=SHA256, cache_dir=tmp_path)
    assert path == str(tmp_path / "datasets" / "data.bin")
    assert pathlib.Path(path).read_bytes() == PAYLOAD
    assert server.requests == ["/data.bin"]
    assert "Downloading data from" in capsys.readouterr().out

    again = get_file("data.bin", f"{server.url}/data.bin", file_hash=SHA256, cache_dir=tmp_path)
    assert again == path
    assert server.requests == ["/data.bin"]  # served from the cache
    assert _listing(tmp_path) == ["datasets/data.bin"]  # no temporary files left


def test_file_origin_and_name_from_origin(tmp_path):
    src = tmp_path / "src" / "thing.txt"
    src.parent.mkdir()
    src.write_bytes(PAYLOAD)
    path = get_file(origin=src.as_uri(), cache_dir=tmp_path / "cache", cache_subdir="sub")
    assert path == str(tmp_path / "cache" / "sub" / "thing.txt")
    assert pathlib.Path(path).read_bytes() == PAYLOAD


def test_default_cache_dir_is_refkeras_home(server, tmp_path, monkeypatch):
    monkeypatch.setenv("REFKERAS_HOME", str(tmp_path / "home"))
    path = get_file("data.bin", f"{server.url}/data.bin")
    assert path == str(tmp_path / "home" / "datasets" / "data.bin")


def test_absolute_cache_subdir(server, tmp_path):
    path = get_file("d", f"{server.url}/data.bin", cache_dir=tmp_path, cache_subdir=tmp_path / "x")
    assert path == str(tmp_path / "x" / "d")


def test_hash_mismatch_raises_and_leaves_no_file(server, tmp_path):
    wrong = "f" * 64
    with pytest.raises(ValueError) as info:
        get_file("data.bin", f"{server.url}/data.bin", file_hash=wrong, cache_dir=tmp_path)
    message = str(info.value)
    assert "data.bin" in message and wrong in message and SHA256 in message
    assert _listing(tmp_path) == []


def test_md5_mismatch_names_md5(server, tmp_path):
    with pytest.raises(ValueError, match="md5") as info:
        get_file("data.bin", f"{server.url}/data.bin", md5_hash="0" * 32, cache_dir=tmp_path)
    assert MD5 in str(info.value)
    assert _listing(tmp_path) == []


def test_md5_hash_argument(server, tmp_path):
    path = get_file("data.bin", f"{server.url}/data.bin", md5_hash=MD5, cache_dir=tmp_path)
    assert pathlib.Path(path).read_bytes() == PAYLOAD


def test_corrupted_cache_is_downloaded_again(server, tmp_path, capsys):
    cached = tmp_path / "datasets" / "data.bin"
    cached.parent.mkdir()
    cached.write_bytes(b"truncated")
    path = get_file("data.bin", f"{server.url}/data.bin", file_hash=SHA256, cache_dir=tmp_path)
    assert pathlib.Path(path).read_bytes() == PAYLOAD
    assert server.requests == ["/data.bin"]
    assert "re-download" in capsys.readouterr().out


def test_corrupted_cache_and_bad_download_leave_no_file(server, tmp_path):
    cached = tmp_path / "datasets" / "data.bin"
    cached.parent.mkdir()
    cached.write_bytes(b"truncated")
    with pytest.raises(ValueError):
        get_file("data.bin", f"{server.url}/data.bin", file_hash="e" * 64, cache_dir=tmp_path)
    assert _listing(tmp_path) == []


def test_cache_without_hash_is_trusted(server, tmp_path):
    cached = tmp_path / "datasets" / "data.bin"
    cached.parent.mkdir()
    cached.write_bytes(b"old")
    path = get_file("data.bin", f"{server.url}/data.bin", cache_dir=tmp_path)
    assert pathlib.Path(path).read_bytes() == b"old"
    assert server.requests == []


def test_force_download(server, tmp_path):
    cached = tmp_path / "datasets" / "data.bin"
    cached.parent.mkdir()
    cached.write_bytes(b"old")
    path = get_file("data.bin", f"{server.url}/data.bin", cache_dir=tmp_path, force_download=True)
    assert pathlib.Path(path).read_bytes() == PAYLOAD
    assert server.requests == ["/data.bin"]


def test_http_error_leaves_no_file(server, tmp_path):
    with pytest.raises(OSError, match="URL fetch failure.*404"):
        get_file("missing.bin", f"{server.url}/missing.bin", cache_dir=tmp_path)
    assert _listing(tmp_path) == []


def test_connection_refused_leaves_no_file(server, tmp_path):
    url = f"{server.url}/data.bin"
    server.close()
    with pytest.raises(OSError, match="URL fetch failure"):
        get_file("data.bin", url, cache_dir=tmp_path)
    assert _listing(tmp_path) == []


def test_interrupted_download_keeps_old_cache_intact(server, tmp_path):
    cached = tmp_path / "datasets" / "data.bin"
    cached.parent.mkdir()
    cached.write_bytes(b"old")
    with pytest.raises(Exception):  # noqa: B017 - IncompleteRead or URL fetch failure
        get_file("data.bin", f"{server.url}/truncated", cache_dir=tmp_path, force_download=True)
    assert _listing(tmp_path) == ["datasets/data.bin"]
    assert cached.read_bytes() == b"old"


def test_argument_errors(tmp_path):
    with pytest.raises(ValueError, match="origin"):
        get_file("x", None, cache_dir=tmp_path)
    with pytest.raises(ValueError, match="fname"):
        get_file(os.path.join("a", "b"), "file:///nowhere/b", cache_dir=tmp_path)
    with pytest.raises(ValueError, match="file name"):
        get_file(None, "http://127.0.0.1/", cache_dir=tmp_path)


# --------------------------------------------------------------------------------------------
# Extraction
# --------------------------------------------------------------------------------------------


def _tar_bytes(members, mode="w:gz"):
    """members: list of TarInfo-ready tuples (name, data or None, linkname or None, type)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tar:
        for name, data, linkname, kind in members:
            info = tarfile.TarInfo(name)
            info.type = kind
            if linkname is not None:
                info.linkname = linkname
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def _zip_bytes(members):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members:
            zf.writestr(name, data)
    return buf.getvalue()


SAFE_TAR = _tar_bytes(
    [
        ("pkg/a.txt", b"A", None, tarfile.REGTYPE),
        ("pkg/sub/b.txt", b"B", None, tarfile.REGTYPE),
    ]
)


def test_extract_tar_with_extension_in_fname(server, tmp_path):
    server.files["/pkg.tar.gz"] = SAFE_TAR
    path = get_file("pkg.tar.gz", f"{server.url}/pkg.tar.gz", extract=True, cache_dir=tmp_path)
    assert path == str(tmp_path / "datasets" / "pkg_extracted")
    assert (tmp_path / "datasets" / "pkg.tar.gz").read_bytes() == SAFE_TAR
    assert _listing(path) == ["pkg/a.txt", "pkg/sub/b.txt"]


def test_extract_tar_without_extension_in_fname(server, tmp_path):
    server.files["/pkg.tar.gz"] = SAFE_TAR
    path = get_file("pkg", f"{server.url}/pkg.tar.gz", untar=True, cache_dir=tmp_path)
    assert path == str(tmp_path / "datasets" / "pkg")
    assert (tmp_path / "datasets" / "pkg_archive").exists()
    assert (pathlib.Path(path) / "pkg" / "sub" / "b.txt").read_bytes() == b"B"


def test_extract_zip_name_from_origin(server, tmp_path):
    server.files["/z.zip"] = _zip_bytes([("a.txt", b"A"), ("d/b.txt", b"B")])
    path = get_file(origin=f"{server.url}/z.zip", extract=True, cache_dir=tmp_path)
    assert path == str(tmp_path / "datasets" / "z.zip")
    assert (tmp_path / "datasets" / "z.zip_archive").exists()
    assert _listing(path) == ["a.txt", "d/b.txt"]


def test_extract_non_archive_warns(server, tmp_path):
    with pytest.warns(UserWarning, match="Could not extract"):
        get_file("data.bin", f"{server.url}/data.bin", extract=True, cache_dir=tmp_path)


def test_tar_members_escaping_are_refused(server, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    evil = _tar_bytes(
        [
            ("good.txt", b"ok", None, tarfile.REGTYPE),
            ("../../escaped.txt", b"x", None, tarfile.REGTYPE),
            (str(outside / "absolute.txt"), b"x", None, tarfile.REGTYPE),
            ("link_out", None, str(outside), tarfile.SYMTYPE),
            ("link_in", None, "good.txt", tarfile.SYMTYPE),
        ]
    )
    server.files["/evil.tar.gz"] = evil
    cache = tmp_path / "cache"
    with pytest.warns(UserWarning, match="Skipping invalid path") as record:
        path = get_file("evil.tar.gz", f"{server.url}/evil.tar.gz", extract=True, cache_dir=cache)
    skipped = " ".join(str(w.message) for w in record)
    assert "escaped.txt" in skipped and "absolute.txt" in skipped and "link_out" in skipped
    assert list(outside.iterdir()) == []
    assert not (tmp_path / "escaped.txt").exists() and not (cache / "escaped.txt").exists()
    assert (pathlib.Path(path) / "good.txt").read_bytes() == b"ok"
    assert not os.path.lexists(pathlib.Path(path) / "link_out")
    if file_utils._has_tar_data_filter():
        assert os.path.islink(pathlib.Path(path) / "link_in")


def test_zip_members_escaping_are_refused(server, tmp_path):
    server.files["/evil.zip"] = _zip_bytes(
        [("good.txt", b"ok"), ("../escaped.txt", b"x"), ("/abs.txt", b"x")]
    )
    cache = tmp_path / "cache"
    with pytest.warns(UserWarning, match="Skipping invalid path") as record:
        path = get_file("evil.zip", f"{server.url}/evil.zip", extract=True, cache_dir=cache)
    skipped = " ".join(str(w.message) for w in record)
    assert "escaped.txt" in skipped and "abs.txt" in skipped
    assert _listing(path) == ["good.txt"]
    assert not (cache / "datasets" / "escaped.txt").exists()


# --------------------------------------------------------------------------------------------
# Parity with Keras
# --------------------------------------------------------------------------------------------


def test_paths_match_keras(tmp_path):
    os.environ.setdefault("KERAS_BACKEND", "jax")
    keras_file_utils = pytest.importorskip("keras.src.utils.file_utils")
    src = tmp_path / "src"
    src.mkdir()
    (src / "pkg.tar.gz").write_bytes(SAFE_TAR)
    origin = (src / "pkg.tar.gz").as_uri()
    cases = [
        dict(fname="pkg.tar.gz"),
        dict(fname="pkg.tar.gz", extract=True),
        dict(fname="pkg", extract=True),
        dict(fname=None, extract=True),
        dict(fname="pkg", untar=True),
        dict(fname=None),
    ]
    for i, kwargs in enumerate(cases):
        ours_dir, theirs_dir = tmp_path / f"ours{i}", tmp_path / f"keras{i}"
        ours_dir.mkdir()
        theirs_dir.mkdir()  # Keras falls back to /tmp/.keras for a cache_dir that doesn't exist
        ours = get_file(origin=origin, cache_dir=ours_dir, file_hash=None, **kwargs)
        theirs = keras_file_utils.get_file(origin=origin, cache_dir=theirs_dir, **kwargs)
        assert os.path.relpath(ours, ours_dir) == os.path.relpath(theirs, theirs_dir), kwargs
        assert _listing(ours_dir) == _listing(theirs_dir), kwargs
        assert hash_file(src / "pkg.tar.gz") == keras_file_utils.hash_file(src / "pkg.tar.gz")
