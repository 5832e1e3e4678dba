"""Checks run on untrusted model files before anything in them is extracted or read.

Two container formats reach refkeras: zip archives (``.keras``) and HDF5 files (``.h5``,
``.weights.h5``).  Both describe their contents in a directory (the zip central directory, the HDF5
object headers) that can be inspected without touching the data.  The functions here inspect those
directories and raise ``ValueError`` naming the offending member when a file

* writes outside the extraction root (``../x``, ``/x``, ``C:x``, ``a\\b``, NUL bytes),
* declares more data than a model file can plausibly hold (zip bombs, HDF5 datasets whose
  never-written fill value would expand to terabytes),
* makes the reader open other files (HDF5 external links, external storage, virtual datasets),
* or is not a readable file of that format at all (empty, truncated, random bytes).

The limits are module constants so a caller (or a test) can change them.
"""

from __future__ import annotations

import contextlib
import io
import math
import mmap
import os
import posixpath
import re
import struct
import zipfile

import h5py
import numpy as np

# --- zip archives --------------------------------------------------------------------------------

#: Largest total uncompressed size of all members together.
MAX_ARCHIVE_UNCOMPRESSED_BYTES = 4 * 2**30
#: Largest uncompressed:compressed ratio of a member (deflate itself cannot exceed ~1032:1)...
MAX_COMPRESSION_RATIO = 1000
#: ...checked for members larger than this (tiny members compress absurdly well legitimately).
COMPRESSION_RATIO_MIN_BYTES = 2**20
#: Most members an archive may hold (a ``.keras`` file has three).
MAX_ARCHIVE_MEMBERS = 10_000
#: Compression methods whose decompression ``zipfile`` bounds per read (bz2/lzma are not bounded).
ALLOWED_COMPRESSION = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
_CHUNK = 2**20

_DRIVE = re.compile(r"^[A-Za-z]:")


def _member_problem(name: str) -> str | None:
    """Why the member name ``name`` could escape the extraction root, or ``None``."""
    if name == "":
        return "empty name"
    if "\x00" in name:
        return "NUL byte in name"
    if "\\" in name:
        return "backslash in name (a path separator on Windows)"
    if name.startswith("/"):
        return "absolute path"
    if _DRIVE.match(name):
        return "drive letter"
    if any(part == ".." for part in name.split("/")):
        return "'..' component"
    if any(ord(c) < 32 for c in name):
        return "control character in name"
    return None


def _normalized(name: str) -> str:
    parts = [p for p in name.split("/") if p not in ("", ".")]
    return "/".join(parts) + ("/" if name.endswith("/") else "")


def validate_archive(zf: zipfile.ZipFile) -> None:
    """Reject ``zf`` (``ValueError`` naming the member) before anything is extracted.

    Checks every central-directory entry: member names that escape the extraction root or repeat,
    encrypted members, compression methods other than stored/deflate, a total declared
    uncompressed size above :data:`MAX_ARCHIVE_UNCOMPRESSED_BYTES`, per-member compression ratios
    above :data:`MAX_COMPRESSION_RATIO`, and members whose data overlaps another's (the
    "overlapping files" zip bomb).  Declared sizes bound what ``zipfile`` will ever return for a
    member, so checking them is enough as long as members are read in chunks
    (:func:`read_member`).
    """
    infos = zf.infolist()
    if len(infos) > MAX_ARCHIVE_MEMBERS:
        raise ValueError(
            f"Archive has {len(infos)} members; at most {MAX_ARCHIVE_MEMBERS} are allowed."
        )
    seen: set[str] = set()
    total = 0
    for info in infos:
        shown = repr(info.orig_filename)
        for name in {info.filename, info.orig_filename}:
            problem = _member_problem(name)
            if problem:
                raise ValueError(f"Unsafe archive member {shown}: {problem}.")
        key = _normalized(info.orig_filename)
        if key in seen:
            raise ValueError(f"Unsafe archive member {shown}: duplicate member name.")
        seen.add(key)
        if info.flag_bits & 0x1:
            raise ValueError(f"Unsupported archive member {shown}: encrypted.")
        if info.compress_type not in ALLOWED_COMPRESSION:
            raise ValueError(
                f"Unsupported archive member {shown}: compression method {info.compress_type} "
                "(only stored and deflate are allowed)."
            )
        if info.file_size > COMPRESSION_RATIO_MIN_BYTES:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > MAX_COMPRESSION_RATIO:
                raise ValueError(
                    f"Archive member {shown} looks like a zip bomb: {info.file_size} bytes "
                    f"compressed to {info.compress_size} (ratio {ratio:.0f}:1 > "
                    f"{MAX_COMPRESSION_RATIO}:1)."
                )
        total += info.file_size
        if total > MAX_ARCHIVE_UNCOMPRESSED_BYTES:
            raise ValueError(
                f"Archive looks like a zip bomb: at member {shown} the declared uncompressed "
                f"size reaches {total} bytes (limit {MAX_ARCHIVE_UNCOMPRESSED_BYTES})."
            )
    # Each member's data must lie between its local header and the next member's header.
    ordered = sorted(infos, key=lambda i: i.header_offset)
    for prev, nxt in zip(ordered, ordered[1:]):
        end = prev.header_offset + 30 + prev.compress_size  # 30 = fixed local header length
        if nxt.header_offset < end:
            raise ValueError(
                f"Archive members {prev.orig_filename!r} and {nxt.orig_filename!r} overlap "
                "(an overlapping-entries zip bomb or a corrupt archive)."
            )


def safe_open_archive(file: str | os.PathLike | io.IOBase) -> zipfile.ZipFile:
    """Open a zip archive for reading and :func:`validate_archive` it; ``ValueError`` if the file
    is corrupt, not a zip archive, or unsafe."""
    try:
        zf = zipfile.ZipFile(file, "r")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, OSError) as e:
        raise ValueError(f"{_describe(file)} is corrupt or not a zip archive: {e}") from None
    try:
        validate_archive(zf)
    except BaseException:
        zf.close()
        raise
    return zf


def read_member(zf: zipfile.ZipFile, name: str) -> bytes:
    """The bytes of member ``name``, decompressed in bounded chunks (never more than the declared
    size); ``ValueError`` if the member's data is corrupt (bad CRC, truncated stream)."""
    info = zf.getinfo(name)
    out = bytearray()
    try:
        with zf.open(info) as fh:
            while chunk := fh.read(_CHUNK):
                out += chunk
                if len(out) > info.file_size:  # cannot happen with zipfile, but be explicit
                    raise ValueError(f"Archive member {name!r} is larger than declared.")
    except (zipfile.BadZipFile, EOFError, OSError, RuntimeError) as e:
        raise ValueError(f"Archive member {name!r} is corrupt: {e}") from None
    except Exception as e:  # zlib.error and friends
        if isinstance(e, ValueError):
            raise
        raise ValueError(f"Archive member {name!r} is corrupt: {e}") from None
    if len(out) != info.file_size:
        raise ValueError(
            f"Archive member {name!r} is corrupt: {len(out)} bytes, {info.file_size} declared."
        )
    return bytes(out)


# --- HDF5 files ----------------------------------------------------------------------------------

#: Uncompressed datasets must be stored in the file, so together they may declare at most the file
#: size plus this slack (room for small datasets that were created but never written).
H5_SLACK_BYTES = 16 * 2**20
#: Compressed (filtered) datasets may together declare at most this many times the file size...
MAX_H5_EXPANSION = 1000
#: ...and no file may declare more than this in total (16 GiB).
MAX_H5_DECLARED_BYTES = 2**34
#: Deepest group nesting and most objects walked (a Keras file is ~10 deep, a few 1000 objects).
MAX_H5_DEPTH = 256
MAX_H5_OBJECTS = 1_000_000


def _describe(file) -> str:
    if isinstance(file, str | os.PathLike):
        return os.fspath(file)
    return getattr(file, "name", None) or repr(file)


def _declared_bytes(shape, dtype: np.dtype) -> int:
    if shape is None:  # null dataspace
        return 0
    return int(dtype.itemsize) * math.prod(int(s) for s in shape)


def _is_filtered(dset: h5py.Dataset) -> bool:
    return dset.id.get_create_plist().get_nfilters() > 0


_ALLOWED_TYPE_CLASSES = frozenset(
    (h5py.h5t.INTEGER, h5py.h5t.FLOAT, h5py.h5t.STRING, h5py.h5t.ENUM, h5py.h5t.COMPOUND,
     h5py.h5t.ARRAY, h5py.h5t.BITFIELD, h5py.h5t.OPAQUE)
)  # fmt: skip


def _check_type(tid, where: str) -> None:
    """Only plain data types: numbers, strings and compounds/arrays of them.  Variable-length
    sequences and references never occur in Keras files; a damaged variable-length string type
    decodes as a sequence type, and HDF5 2.0 crashes (SIGSEGV) reading it."""
    cls = tid.get_class()
    if cls not in _ALLOWED_TYPE_CLASSES:
        kinds = {h5py.h5t.VLEN: "variable-length sequence", h5py.h5t.REFERENCE: "reference"}
        raise ValueError(f"{where} has an unsupported {kinds.get(cls, f'class {cls}')} type.")
    if cls == h5py.h5t.COMPOUND:
        for i in range(tid.get_nmembers()):
            _check_type(tid.get_member_type(i), where)
    elif cls in (h5py.h5t.ARRAY, h5py.h5t.ENUM):
        _check_type(tid.get_super(), where)


def _check_attrs(obj, path: str, limit: int) -> None:
    for attr_name in obj.attrs:
        aid = obj.attrs.get_id(attr_name)
        _check_type(aid.get_type(), f"HDF5 attribute {path}@{attr_name!r}")
        nbytes = _declared_bytes(aid.shape, aid.dtype)
        if nbytes > limit:
            raise ValueError(
                f"HDF5 attribute {path}@{attr_name!r} declares {nbytes} bytes, more than the "
                f"file could hold (limit {limit})."
            )


def _resolve_soft(group_path: str, target: str) -> str:
    base = target if target.startswith("/") else posixpath.join(group_path, target)
    return posixpath.normpath("/" + base.lstrip("/"))


def validate_h5(f: h5py.File | h5py.Group, *, file_size: int) -> None:
    """Reject the HDF5 file (or group) ``f`` before any dataset is read.

    Walks every link without following it first and raises ``ValueError`` naming the object for
    external links and unknown link types, soft links whose target is missing or outside ``f``,
    datasets with external storage or virtual (multi-file) layout, datasets and attributes of
    variable-length sequence or reference types (see :func:`_check_type`), and declared sizes
    (item size x number of elements; nothing is read) that ``file_size`` cannot account for:
    uncompressed datasets beyond ``file_size + H5_SLACK_BYTES`` in total, compressed ones beyond
    ``MAX_H5_EXPANSION * file_size``, anything beyond ``MAX_H5_DECLARED_BYTES``.
    """
    root = f.name if f.name != "/" else ""
    uncompressed_limit = file_size + H5_SLACK_BYTES
    total_limit = min(MAX_H5_EXPANSION * file_size + H5_SLACK_BYTES, MAX_H5_DECLARED_BYTES)
    uncompressed = total = 0
    visited: set = set()
    soft_links: list[tuple[str, str]] = []
    stack: list[tuple[h5py.Group, int]] = [(f, 0)]
    count = 0
    _check_attrs(f, f.name, uncompressed_limit)
    visited.add(f.id)
    while stack:
        group, depth = stack.pop()
        if depth > MAX_H5_DEPTH:
            raise ValueError(f"HDF5 group {group.name} is nested deeper than {MAX_H5_DEPTH}.")
        for key in group.keys():
            count += 1
            if count > MAX_H5_OBJECTS:
                raise ValueError(f"HDF5 file has more than {MAX_H5_OBJECTS} objects.")
            path = posixpath.join(group.name, key)
            try:
                link = group.get(key, getlink=True)
            except TypeError as e:  # h5py: "Unknown link type" (user-defined links)
                raise ValueError(f"HDF5 object {path}: unsupported link ({e}).") from None
            if isinstance(link, h5py.ExternalLink):
                raise ValueError(
                    f"HDF5 object {path} is an external link to {link.filename}:{link.path}; "
                    "external links are not allowed."
                )
            if isinstance(link, h5py.SoftLink):
                soft_links.append((path, _resolve_soft(group.name, link.path)))
                continue
            if not isinstance(link, h5py.HardLink):
                raise ValueError(f"HDF5 object {path}: damaged or unsupported link ({link!r}).")
            obj = group.get(key)
            if obj is None:
                raise ValueError(f"HDF5 object {path} cannot be opened (damaged object header).")
            if obj.id in visited:  # a second hard link to an object already checked
                continue
            visited.add(obj.id)
            _check_attrs(obj, path, uncompressed_limit)
            if isinstance(obj, h5py.Group):
                stack.append((obj, depth + 1))
            elif isinstance(obj, h5py.Dataset):
                if obj.is_virtual:
                    raise ValueError(
                        f"HDF5 dataset {path} is a virtual dataset (it reads other files); "
                        "virtual datasets are not allowed."
                    )
                if obj.external:
                    files = [e[0] for e in obj.external]
                    raise ValueError(
                        f"HDF5 dataset {path} keeps its data in external files {files}; "
                        "external storage is not allowed."
                    )
                _check_type(obj.id.get_type(), f"HDF5 dataset {path}")
                nbytes = _declared_bytes(obj.shape, obj.dtype)
                total += nbytes
                if not _is_filtered(obj):
                    uncompressed += nbytes
                if uncompressed > uncompressed_limit or total > total_limit:
                    raise ValueError(
                        f"HDF5 dataset {path} declares shape {obj.shape} of {obj.dtype} "
                        f"({nbytes} bytes), more than a {file_size}-byte file can hold "
                        f"(declared so far: {total} bytes, {uncompressed} uncompressed)."
                    )
    for path, target in soft_links:
        if root and not (target == root or target.startswith(root + "/")):
            raise ValueError(f"HDF5 soft link {path} points outside {root}: {target}.")
        if target not in f.file:
            raise ValueError(f"HDF5 soft link {path} points to missing object {target}.")


_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def _sizeof_lengths(buf) -> int:
    """The "size of lengths" field of the superblock (at offset 0, 512, 1024, ...)."""
    offset = 0
    while offset + 16 <= len(buf):
        if buf[offset : offset + 8] == _HDF5_SIGNATURE:
            version = buf[offset + 8]
            return buf[offset + (14 if version < 2 else 10)]
        offset = 512 if offset == 0 else offset * 2
    raise ValueError("no HDF5 superblock")


def validate_global_heaps(buf) -> None:
    """Check the layout of every global heap collection ("GCOL", where HDF5 keeps variable-length
    strings such as ``model_config``) in the raw bytes ``buf``.

    HDF5 (up to at least 2.0.0) decodes a collection with a loop that never ends when a damaged
    object header has index 0 and size 0, and reads past the collection when an object's size
    overruns it; one flipped bit is enough.  This walks the objects exactly as HDF5 does and raises
    ``ValueError`` for either case, so a damaged file is reported instead of hanging the process.
    Byte runs that merely look like a collection header can in principle cause a false alarm.
    """
    lsize = _sizeof_lengths(buf)
    if lsize not in (2, 4, 8):
        raise ValueError(f"unsupported size of lengths {lsize}")
    fmt = {2: "<H", 4: "<I", 8: "<Q"}[lsize]
    header = 8 + lsize  # signature, version, 3 reserved bytes, collection size
    obj_header = 8 + lsize  # index (2), reference count (2), 4 reserved bytes, object size
    start = buf.find(b"GCOL")
    while start != -1:
        if buf[start + 4 : start + 8] == b"\x01\x00\x00\x00" and start + header <= len(buf):
            (size,) = struct.unpack_from(fmt, buf, start + 8)
            end = start + size
            if size < header or end > len(buf):
                raise ValueError(f"global heap collection at byte {start} has size {size}")
            p = start + header
            while p < end and p + obj_header <= end:
                idx = struct.unpack_from("<H", buf, p)[0]
                (osize,) = struct.unpack_from(fmt, buf, p + 8)
                need = osize if idx == 0 else obj_header + -(-osize // 8) * 8
                if need == 0 or p + need > end:
                    raise ValueError(
                        f"global heap collection at byte {start}: object {idx} at byte {p} "
                        f"has size {osize}, which does not fit the collection"
                    )
                p += need
        start = buf.find(b"GCOL", start + 4)


@contextlib.contextmanager
def _raw_bytes(path):
    if isinstance(path, str | os.PathLike):
        with open(path, "rb") as fh:
            if os.fstat(fh.fileno()).st_size == 0:
                yield b""
                return
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
                yield mm
    elif isinstance(path, io.BytesIO):
        yield path.getbuffer().tobytes()
    else:
        pos = path.tell()
        path.seek(0)
        data = path.read()
        path.seek(pos)
        yield data


@contextlib.contextmanager
def h5_errors(name: str):
    """Turn any error raised by h5py while reading ``name`` (``OSError``, ``RuntimeError``,
    ``KeyError`` from damaged metadata...) into ``ValueError("<name> is corrupt ...")``."""
    try:
        yield
    except (ValueError, FileNotFoundError, PermissionError, IsADirectoryError):
        raise
    except Exception as e:
        raise ValueError(f"{name} is corrupt or not an HDF5 file: {e}") from None


def safe_open_h5(path: str | os.PathLike | io.IOBase) -> h5py.File:
    """Open an HDF5 file read-only and :func:`validate_h5` it.

    ``path`` may also be a binary file object (e.g. an archive member read into ``io.BytesIO``).
    Empty, truncated, random or damaged files raise ``ValueError("<path> is corrupt or not an HDF5
    file: ...")`` instead of an ``OSError``/``KeyError`` from deep inside h5py (or a hang: see
    :func:`validate_global_heaps`).
    """
    name = _describe(path)
    with h5_errors(name):
        if isinstance(path, str | os.PathLike):
            file_size = os.path.getsize(path)
        else:
            pos = path.tell()
            file_size = path.seek(0, io.SEEK_END)
            path.seek(pos)
        f = h5py.File(path, "r")
    try:
        with _raw_bytes(path) as buf:
            try:
                validate_global_heaps(buf)
            except ValueError as e:
                raise ValueError(f"{name} is corrupt or not an HDF5 file: {e}") from None
        with h5_errors(name):
            try:
                validate_h5(f, file_size=file_size)
            except ValueError as e:
                raise ValueError(f"{name} is corrupt or not a safe HDF5 file: {e}") from None
    except BaseException:
        f.close()
        raise
    return f


def read_dataset(dset: h5py.Dataset) -> np.ndarray:
    """``dset[()]`` as an array; errors from damaged data become ``ValueError("... corrupt")``."""
    with h5_errors(f"HDF5 dataset {dset.name}"):
        return np.asarray(dset[()])
