"""Untrusted-file checks: zip archives that escape the extraction root or decompress to bombs,
HDF5 files that reach other files or declare absurd sizes, and a corpus of damaged files."""

import io
import json
import os
import random
import subprocess
import sys
import textwrap
import zipfile

import h5py
import numpy as np
import pytest

from refkeras.saving import safety

# --- zip archives --------------------------------------------------------------------------------


def _zip(members, compression=zipfile.ZIP_STORED):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as zf:
        for name, data in members:
            zf.writestr(zipfile.ZipInfo(name), data, compress_type=compression)
    buf.seek(0)
    return buf


def test_valid_archive_passes_and_reads():
    buf = _zip([("config.json", b"{}"), ("assets/", b""), ("model.weights.h5", b"x" * 100)])
    with safety.safe_open_archive(buf) as zf:
        assert safety.read_member(zf, "model.weights.h5") == b"x" * 100


@pytest.mark.parametrize(
    "name, reason",
    [
        ("../evil", "'..'"),
        ("a/../../evil", "'..'"),
        ("/abs/path", "absolute"),
        ("C:/windows/evil", "drive letter"),
        ("c:evil", "drive letter"),
        ("a\\b", "backslash"),
        ("..\\evil", "backslash"),
        ("bad\x01name", "control"),
    ],
)
def test_escaping_member_names_rejected(name, reason):
    buf = _zip([("config.json", b"{}"), (name, b"evil")])
    with zipfile.ZipFile(buf) as zf, pytest.raises(ValueError, match=reason) as err:
        safety.validate_archive(zf)
    assert repr(name) in str(err.value) or name in str(err.value)


def test_nul_byte_in_member_name_rejected():
    # zipfile truncates the visible name at the NUL; the original name still carries it.
    buf = _zip([("config.json", b"{}")])
    raw = buf.getvalue().replace(b"config.json", b"config\x00json")
    with zipfile.ZipFile(io.BytesIO(raw)) as zf, pytest.raises(ValueError, match="NUL"):
        safety.validate_archive(zf)


def test_duplicate_members_rejected():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("config.json", b"{}")
        with pytest.warns(UserWarning, match="Duplicate"):
            zf.writestr("config.json", b'{"evil": 1}')
    with zipfile.ZipFile(buf) as zf, pytest.raises(ValueError, match="duplicate"):
        safety.validate_archive(zf)
    buf = _zip([("a/b.json", b"{}"), ("a/./b.json", b"{}")])
    with zipfile.ZipFile(buf) as zf, pytest.raises(ValueError, match="duplicate"):
        safety.validate_archive(zf)


def test_zip_bomb_ratio_rejected():
    buf = _zip([("model.weights.h5", bytes(8 * 2**20))], compression=zipfile.ZIP_DEFLATED)
    assert len(buf.getvalue()) < 64 * 2**10
    with zipfile.ZipFile(buf) as zf, pytest.raises(ValueError, match="zip bomb.*ratio"):
        safety.validate_archive(zf)


def test_zip_bomb_total_size_rejected(monkeypatch):
    rng = np.random.default_rng(0)
    members = [
        (f"part{i}", rng.integers(0, 4, 300_000, dtype=np.uint8).tobytes()) for i in range(4)
    ]
    buf = _zip(members, compression=zipfile.ZIP_DEFLATED)
    with zipfile.ZipFile(buf) as zf:
        safety.validate_archive(zf)  # fine under the default 4 GiB limit
        monkeypatch.setattr(safety, "MAX_ARCHIVE_UNCOMPRESSED_BYTES", 1_000_000)
        with pytest.raises(ValueError, match="'part3'.*1200000 bytes"):
            safety.validate_archive(zf)


def test_declared_size_checked_without_decompressing(monkeypatch):
    # The central directory claims a size the data never reaches: nothing is decompressed.
    buf = _zip([("big", b"abc")])
    with zipfile.ZipFile(buf) as zf:
        zf.infolist()[0].file_size = 10 * 2**40
        with pytest.raises(ValueError, match="zip bomb"):
            safety.validate_archive(zf)


def test_overlapping_members_rejected():
    buf = _zip([("a", b"x" * 1000), ("b", b"y" * 1000)])
    with zipfile.ZipFile(buf) as zf:
        zf.infolist()[1].header_offset = 40  # points into a's data
        with pytest.raises(ValueError, match="overlap"):
            safety.validate_archive(zf)


def test_unsupported_compression_and_corrupt_archive():
    buf = _zip([("a", b"x" * 1000)], compression=zipfile.ZIP_BZIP2)
    with zipfile.ZipFile(buf) as zf, pytest.raises(ValueError, match="compression method"):
        safety.validate_archive(zf)
    with pytest.raises(ValueError, match="corrupt or not a zip"):
        safety.safe_open_archive(io.BytesIO(b"PK\x03\x04 not really"))
    good = _zip([("a", b"x" * 1000)]).getvalue()
    damaged = good.replace(b"x" * 10, b"y" * 10, 1)
    with zipfile.ZipFile(io.BytesIO(damaged)) as zf, pytest.raises(ValueError, match="corrupt"):
        safety.read_member(zf, "a")


# --- HDF5 files ----------------------------------------------------------------------------------


def _weights_file(path, libver="earliest"):
    with h5py.File(path, "w", libver=libver) as f:
        f.attrs["model_config"] = json.dumps({"class_name": "Sequential", "config": {}})
        g = f.create_group("model_weights")
        g.attrs["layer_names"] = [b"dense", b"dense_1"]
        for i, name in enumerate(["dense", "dense_1"]):
            h = g.create_group(name)
            h.attrs["weight_names"] = [f"{name}/kernel:0".encode(), f"{name}/bias:0".encode()]
            h.create_dataset(f"{name}/kernel:0", data=np.arange(64, dtype="f4").reshape(8, 8) + i)
            h.create_dataset(f"{name}/bias:0", data=np.ones(8, "f4"))


def test_valid_h5_passes(tmp_path):
    path = tmp_path / "ok.h5"
    _weights_file(path)
    with safety.safe_open_h5(path) as f:
        assert f["model_weights/dense/dense/bias:0"].shape == (8,)
        np.testing.assert_array_equal(safety.read_dataset(f["model_weights/dense/dense/bias:0"]), 1)
    with open(path, "rb") as fh:  # file objects work too (archive members)
        with safety.safe_open_h5(io.BytesIO(fh.read())) as f:
            assert "model_weights" in f


def test_external_link_rejected(tmp_path):
    _weights_file(tmp_path / "other.h5")
    path = tmp_path / "evil.h5"
    with h5py.File(path, "w") as f:
        f.create_group("model_weights")["dense"] = h5py.ExternalLink(
            str(tmp_path / "other.h5"), "/model_weights"
        )
    with pytest.raises(ValueError, match="/model_weights/dense is an external link"):
        safety.safe_open_h5(path)


def test_external_storage_rejected(tmp_path):
    secret = tmp_path / "secret.bin"
    secret.write_bytes(b"\x00" * 64)
    path = tmp_path / "evil.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("w", shape=(16,), dtype="f4", external=[(str(secret), 0, 64)])
    with pytest.raises(ValueError, match="/w keeps its data in external files"):
        safety.safe_open_h5(path)


def test_virtual_dataset_rejected(tmp_path):
    _weights_file(tmp_path / "other.h5")
    path = tmp_path / "evil.h5"
    layout = h5py.VirtualLayout(shape=(8,), dtype="f4")
    layout[:] = h5py.VirtualSource(str(tmp_path / "other.h5"), "model_weights/dense/dense/bias:0",
                                   shape=(8,))  # fmt: skip
    with h5py.File(path, "w") as f:
        f.create_virtual_dataset("w", layout)
    with pytest.raises(ValueError, match="/w is a virtual dataset"):
        safety.safe_open_h5(path)


def test_soft_links(tmp_path):
    path = tmp_path / "links.h5"
    with h5py.File(path, "w") as f:
        f.create_group("a/b").create_dataset("w", data=np.ones(3))
        f["alias"] = h5py.SoftLink("/a/b")
    with safety.safe_open_h5(path) as f:  # an in-file link to an existing object is harmless
        safety.validate_h5(f["a"], file_size=os.path.getsize(path))
    with h5py.File(path, "a") as f:
        f["a/up"] = h5py.SoftLink("/alias")
    with h5py.File(path, "r") as f, pytest.raises(ValueError, match="outside /a"):
        safety.validate_h5(f["a"], file_size=os.path.getsize(path))
    with h5py.File(path, "a") as f:
        f["dangling"] = h5py.SoftLink("/nowhere")
    with pytest.raises(ValueError, match="/dangling points to missing object /nowhere"):
        safety.safe_open_h5(path)


@pytest.mark.parametrize("kind", ["contiguous", "chunked", "compressed", "attribute"])
def test_huge_declared_size_rejected(tmp_path, kind, monkeypatch):
    path = tmp_path / "bomb.h5"
    with h5py.File(path, "w") as f:
        if kind == "contiguous":  # never written: reading would allocate 8 TB of fill value
            f.create_dataset("w", shape=(2**40,), dtype="f8", fillvalue=1.0)
        elif kind == "chunked":
            f.create_dataset("w", shape=(2**20, 2**20), dtype="f4", chunks=(64, 64),
                             maxshape=(None, None))  # fmt: skip
        elif kind == "compressed":
            f.create_dataset("w", shape=(2**36,), dtype="u1", chunks=(2**20,), compression="gzip")
        else:
            f.attrs.create("a", data=np.zeros(4, "u1"))
    if kind == "attribute":  # an attribute is checked through its declared dataspace only
        monkeypatch.setattr(safety, "H5_SLACK_BYTES", 0)
        with h5py.File(path, "r") as f, pytest.raises(ValueError, match="attribute /@'a'"):
            safety.validate_h5(f, file_size=1)
        return
    assert os.path.getsize(path) < 100_000
    with pytest.raises(ValueError, match="/w declares shape"):
        safety.safe_open_h5(path)


def test_moderately_compressed_dataset_allowed(tmp_path):
    path = tmp_path / "zeros.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("w", data=np.zeros(2**22, "f4"), chunks=(2**18,), compression="gzip")
    with safety.safe_open_h5(path) as f:
        assert safety.read_dataset(f["w"]).sum() == 0


def _heap_flip(data: bytes) -> bytes:
    """One flipped bit in the size of a variable-length string's global heap object: HDF5 2.0
    then loops forever decoding the heap (found by the corpus below)."""
    data = bytearray(data)
    heap = data.index(b"GCOL")
    obj = data.index(b"dense_1/bias:0", heap) - 8  # the object's size field
    data[obj + 1] ^= 2
    return bytes(data)


def _type_flip(data: bytes) -> bytes:
    """One damaged byte in the datatype of the ``model_config`` attribute turns a variable-length
    string into a variable-length sequence: HDF5 2.0 then crashes (SIGSEGV) reading it."""
    data = bytearray(data)
    name = data.index(b"model_config")
    vlen_string = data.index(b"\x19\x01\x00\x00\x10\x00\x00\x00", name)
    data[vlen_string + 1] = 0xB7
    return bytes(data)


def test_global_heap_check(tmp_path):
    path = tmp_path / "ok.h5"
    _weights_file(path, libver="latest")
    safety.validate_global_heaps(path.read_bytes())
    with pytest.raises(ValueError, match="global heap collection at byte"):
        safety.validate_global_heaps(_heap_flip(path.read_bytes()))


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        safety.safe_open_h5(tmp_path / "missing.h5")


# --- a corpus of damaged files, read in a subprocess ---------------------------------------------

_READER = textwrap.dedent(
    """
    import sys, h5py
    from refkeras.saving import safety

    def read_all(f):
        def visit(name, obj):
            for key in obj.attrs:
                obj.attrs[key]
            if isinstance(obj, h5py.Dataset):
                safety.read_dataset(obj)
        f.visititems(visit)

    for path in sys.argv[1:]:
        print("START", path, flush=True)
        try:
            with safety.safe_open_h5(path) as f, safety.h5_errors(path):
                for key in f.attrs:
                    f.attrs[key]
                read_all(f)
            print("OK", path, flush=True)
        except ValueError as e:
            print("VALUEERROR", path, str(e).replace("\\n", " "), flush=True)
    """
)


def _corpus(tmp_path):
    rng = random.Random(0)
    files = {}
    for libver in ("earliest", "latest"):
        src = tmp_path / f"valid-{libver}.h5"
        _weights_file(src, libver=libver)
        data = src.read_bytes()
        files[f"{libver}-empty"] = b""
        for cut in (1, 8, 100, 512, 1000, 2048, len(data) // 2, len(data) - 1):
            files[f"{libver}-truncated-{cut}"] = data[:cut]
        for k in range(3):
            files[f"{libver}-random-{k}"] = rng.randbytes(len(data))
            files[f"{libver}-signature-random-{k}"] = data[:8] + rng.randbytes(len(data) - 8)
        for k in range(150):
            flipped = bytearray(data)
            for _ in range(rng.choice([1, 1, 4, 16])):
                pos = rng.randrange(len(flipped) if k % 2 else min(len(flipped), 4000))
                flipped[pos] ^= 1 << rng.randrange(8)
            files[f"{libver}-flipped-{k}"] = bytes(flipped)
        files[f"{libver}-heap-flip"] = _heap_flip(data)
        files[f"{libver}-type-flip"] = _type_flip(data)
    paths = {}
    for name, data in files.items():
        paths[name] = tmp_path / name
        paths[name].write_bytes(data)
    return paths


def test_damaged_files_fail_cleanly_in_subprocess(tmp_path):
    paths = _corpus(tmp_path)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, PYTHONPATH=root)
    proc = subprocess.run(
        [sys.executable, "-c", _READER, *map(str, paths.values())],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=root,
    )
    started = [
        line.split(" ", 2)[1] for line in proc.stdout.splitlines() if line.startswith("START")
    ]
    assert proc.returncode == 0, (
        f"reader died with {proc.returncode} on {started[-1] if started else None}:\n"
        f"{proc.stderr[-2000:]}"
    )
    results = {}
    for line in proc.stdout.splitlines():
        kind, path, *msg = line.split(" ", 2)
        if kind != "START":
            results[os.path.basename(path)] = (kind, msg[0] if msg else "")
    assert set(results) == set(paths)
    for name, (kind, msg) in results.items():
        if kind == "VALUEERROR":
            assert "corrupt" in msg or "not" in msg, (name, msg)
        else:  # a flipped bit in raw weight data leaves a valid (if wrong) file
            assert "flipped" in name, (name, kind)
    for name, (kind, _) in results.items():
        if "flipped" not in name:
            assert kind == "VALUEERROR", name
    for libver in ("earliest", "latest"):
        assert "global heap" in results[f"{libver}-heap-flip"][1]
    # (the "latest" format checksums object headers, so there the damage is caught earlier)
    assert "variable-length sequence" in results["earliest-type-flip"][1]
    assert results["latest-type-flip"][0] == "VALUEERROR"
    rejected = sum(kind == "VALUEERROR" for name, (kind, _) in results.items() if "flipped" in name)
    assert rejected > 50  # most metadata damage is detected
