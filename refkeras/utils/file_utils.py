"""Downloading, caching, hashing and extracting files: ``keras.utils.get_file`` and helpers.

Files are cached under ``refkeras_home()/<cache_subdir>`` (``~/.refkeras/datasets`` by default).
A cached file is checked against the expected hash, when one is given, and fetched again if it
does not match.  Downloads are atomic: the data goes to a temporary file in the cache directory,
is checked, and only then renamed over the target with ``os.replace``, so an interrupted or bad
download never leaves a partial file under the final name.  Archives are extracted with every
member checked to stay inside the extraction directory.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import warnings
import zipfile
from collections.abc import Iterable, Iterator

from refkeras.config import refkeras_home

_CHUNK_SIZE = 65535


# --------------------------------------------------------------------------------------------
# Paths
# --------------------------------------------------------------------------------------------


def path_to_string(path):
    """Return ``os.fspath(path)`` for path-like objects, anything else unchanged."""
    if isinstance(path, os.PathLike):
        return os.fspath(path)
    return path


def resolve_path(path: str) -> str:
    """The canonical absolute path, with symlinks resolved."""
    return os.path.realpath(path)


def resolve_sub_path(base_dir: str, relative_path: str) -> str | None:
    """Resolve ``relative_path`` against ``base_dir``; ``None`` if it lands outside it.

    Args:
        base_dir: A directory already passed through ``resolve_path``.
        relative_path: The path to check (e.g. an archive member name).

    Returns:
        The resolved path when it stays inside ``base_dir``, else ``None``.
    """
    path = resolve_path(os.path.join(base_dir, relative_path))
    try:
        return path if os.path.commonpath([path, base_dir]) == base_dir else None
    except ValueError:  # e.g. different drives on Windows
        return None


# --------------------------------------------------------------------------------------------
# Hashes
# --------------------------------------------------------------------------------------------


def resolve_hasher(algorithm: str, file_hash: str | None = None):
    """A fresh ``hashlib`` object for ``algorithm``.

    ``"sha256"`` gives sha256; ``"auto"`` gives sha256 when ``file_hash`` has 64 hex digits;
    anything else gives md5 (kept for legacy hashes).
    """
    if algorithm == "sha256":
        return hashlib.sha256()
    if algorithm == "auto" and file_hash is not None and len(file_hash) == 64:
        return hashlib.sha256()
    return hashlib.md5()


def hash_file(fpath: str, algorithm="sha256", chunk_size: int = _CHUNK_SIZE) -> str:
    """The hex digest of a file.

    Args:
        fpath: Path to the file.
        algorithm: ``"sha256"``, ``"md5"``, ``"auto"`` (md5, there being no hash to go by), or a
            ``hashlib`` object to update.
        chunk_size: Bytes read at a time.

    Returns:
        The hex digest string.
    """
    hasher = resolve_hasher(algorithm) if isinstance(algorithm, str) else algorithm
    with open(fpath, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def validate_file(
    fpath: str, file_hash: str, algorithm: str = "auto", chunk_size: int = _CHUNK_SIZE
) -> bool:
    """Whether a file's sha256 or md5 digest equals ``file_hash``.

    Args:
        fpath: Path to the file.
        file_hash: The expected hex digest (compared case-insensitively).
        algorithm: ``"sha256"``, ``"md5"`` or ``"auto"`` (sha256 for 64-digit hashes, else md5).
        chunk_size: Bytes read at a time.

    Returns:
        ``True`` if the digests match.
    """
    hasher = resolve_hasher(algorithm, file_hash)
    return hash_file(fpath, hasher, chunk_size) == str(file_hash).lower()


def _algorithm_name(algorithm: str, file_hash: str) -> str:
    return resolve_hasher(algorithm, file_hash).name


# --------------------------------------------------------------------------------------------
# Archives
# --------------------------------------------------------------------------------------------


def _tar_link_in_dir(info: tarfile.TarInfo, base_dir: str) -> bool:
    if info.islnk():
        # Hard link targets are named relative to the archive root.
        return (
            resolve_sub_path(base_dir, info.name) is not None
            and resolve_sub_path(base_dir, info.linkname) is not None
        )
    # Symlink targets are relative to the directory holding the link.
    destination = resolve_sub_path(base_dir, info.name)
    if destination is None:
        return False
    target = os.path.join(os.path.dirname(destination), info.linkname)
    return resolve_sub_path(base_dir, target) is not None


def _has_tar_data_filter() -> bool:
    # The ``filter="data"`` argument exists from Python 3.12 and 3.11.4.
    return hasattr(tarfile, "data_filter")


def filter_safe_tarinfos(
    members: Iterable[tarfile.TarInfo], base_dir: str
) -> Iterator[tarfile.TarInfo]:
    """Yield the tar members that stay inside ``base_dir``; warn about and skip the others.

    Members named with ``..`` or an absolute path, and links pointing outside, are skipped.
    Without ``tarfile``'s ``"data"`` filter (Python < 3.11.4) every link is skipped.
    """
    base_dir = resolve_path(base_dir)
    for info in members:
        if info.issym() or info.islnk():
            ok = _has_tar_data_filter() and _tar_link_in_dir(info, base_dir)
        else:
            ok = resolve_sub_path(base_dir, info.name) is not None
        if ok:
            yield info
        else:
            warnings.warn(
                f"Skipping invalid path during archive extraction: '{info.name}'.", stacklevel=2
            )


def filter_safe_zipinfos(
    members: Iterable[zipfile.ZipInfo], base_dir: str
) -> Iterator[zipfile.ZipInfo]:
    """Yield the zip members that stay inside ``base_dir``; warn about and skip the others."""
    base_dir = resolve_path(base_dir)
    for info in members:
        if resolve_sub_path(base_dir, info.filename) is not None:
            yield info
        else:
            warnings.warn(
                f"Skipping invalid path during archive extraction: '{info.filename}'.",
                stacklevel=2,
            )


def extract_open_archive(archive, path: str = ".") -> None:
    """Extract an open ``TarFile`` or ``ZipFile`` into ``path``, skipping unsafe members."""
    if isinstance(archive, zipfile.ZipFile):
        archive.extractall(path, members=list(filter_safe_zipinfos(archive.infolist(), path)))
        return
    kwargs = {"filter": "data"} if _has_tar_data_filter() else {}
    # The "data" filter re-checks each member at extraction time, which also catches paths
    # that only escape through a link extracted earlier from the same archive.
    archive.extractall(path, members=list(filter_safe_tarinfos(archive, path)), **kwargs)


def extract_archive(file_path, path=".", archive_format="auto") -> bool:
    """Extract a tar (``.tar``, ``.tar.gz``, ``.tar.bz2``...) or zip archive.

    Args:
        file_path: Path to the archive.
        path: Directory to extract into.
        archive_format: ``"auto"`` (try ``["tar", "zip"]``), ``"tar"``, ``"zip"``, a list of
            those, or ``None`` (extract nothing).

    Returns:
        ``True`` if the file matched a format and was extracted, else ``False``.
    """
    if archive_format is None:
        return False
    if archive_format == "auto":
        archive_format = ["tar", "zip"]
    if isinstance(archive_format, str):
        archive_format = [archive_format]
    file_path = path_to_string(file_path)
    path = path_to_string(path)

    for archive_type in archive_format:
        if archive_type == "tar":
            open_fn, is_match_fn = tarfile.open, tarfile.is_tarfile
        elif archive_type == "zip":
            open_fn, is_match_fn = zipfile.ZipFile, zipfile.is_zipfile
        else:
            raise NotImplementedError(archive_type)
        if is_match_fn(file_path):
            with open_fn(file_path) as archive:
                try:
                    extract_open_archive(archive, path)
                except (tarfile.TarError, zipfile.BadZipFile, RuntimeError, KeyboardInterrupt):
                    if os.path.isfile(path):
                        os.remove(path)
                    elif os.path.exists(path):
                        shutil.rmtree(path)
                    raise
            return True
    return False


# --------------------------------------------------------------------------------------------
# Downloading
# --------------------------------------------------------------------------------------------


def _download(origin: str, target: str) -> str:
    """Fetch ``origin`` into a new temporary file next to ``target``; return its path.

    The temporary file is removed again if anything goes wrong.
    """
    directory, name = os.path.split(target)
    tmp_path = os.path.join(directory, f".{name}.{os.getpid()}.{secrets.token_hex(4)}.part")
    error_msg = "URL fetch failure on {}: {} -- {}"
    try:
        try:
            with urllib.request.urlopen(origin) as response, open(tmp_path, "xb") as out:
                expected = response.headers.get("Content-Length")
                received = 0
                for chunk in iter(lambda: response.read(_CHUNK_SIZE), b""):
                    out.write(chunk)
                    received += len(chunk)
            if expected is not None and received < int(expected):
                raise urllib.error.ContentTooShortError(
                    f"retrieval incomplete: got only {received} out of {expected} bytes", None
                )
        except urllib.error.HTTPError as e:
            raise OSError(error_msg.format(origin, e.code, e.msg)) from e
        except urllib.error.URLError as e:
            raise OSError(error_msg.format(origin, e.errno, e.reason)) from e
    except BaseException:
        if os.path.exists(tmp_path):
            os.remove(tmp_path)
        raise
    return tmp_path


def _cache_base(cache_dir) -> str:
    base = os.path.expanduser(path_to_string(cache_dir))
    try:
        os.makedirs(base, exist_ok=True)
    except OSError:
        pass
    if not os.access(base, os.W_OK):
        base = os.path.join("/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir(), ".refkeras")
    return base


def get_file(
    fname=None,
    origin: str | None = None,
    untar: bool = False,
    md5_hash: str | None = None,
    file_hash: str | None = None,
    cache_subdir: str = "datasets",
    hash_algorithm: str = "auto",
    extract: bool = False,
    archive_format="auto",
    cache_dir=None,
    force_download: bool = False,
) -> str:
    """Download a file from a URL unless it is already in the cache.

    The file lands in ``<cache_dir>/<cache_subdir>/<fname>``, by default
    ``~/.refkeras/datasets/<fname>``.  Origins may be ``http(s)://`` or ``file://`` URLs.

    Args:
        fname: Local file name; the last component of ``origin`` when ``None``.  With
            ``extract=True`` a name without extension names the extraction directory.
        origin: URL of the file.
        untar: Deprecated; same as ``extract=True, archive_format="tar"``.
        md5_hash: Deprecated; an md5 ``file_hash``.
        file_hash: Expected sha256 or md5 hex digest.  A cached file that does not match is
            fetched again; a downloaded file that does not match is deleted and a
            ``ValueError`` raised.
        cache_subdir: Subdirectory of the cache directory (an absolute path is used as is).
        hash_algorithm: ``"auto"``, ``"sha256"`` or ``"md5"``.
        extract: Whether to extract the file as an archive.
        archive_format: ``"auto"``, ``"tar"``, ``"zip"``, a list of those, or ``None``.
        cache_dir: Cache root; ``refkeras_home()`` when ``None``.
        force_download: Download even if the file is cached.

    Returns:
        The path to the downloaded file, or to the extraction directory when extracting.
    """
    if origin is None:
        raise ValueError('Please specify the "origin" argument (URL of the file to download).')
    if cache_dir is None:
        cache_dir = refkeras_home()
    if md5_hash is not None and file_hash is None:
        file_hash = md5_hash
        hash_algorithm = "md5"
    datadir = os.path.join(_cache_base(cache_dir), cache_subdir)
    os.makedirs(datadir, exist_ok=True)

    provided_fname = fname
    fname = path_to_string(fname)
    if not fname:
        fname = os.path.basename(urllib.parse.urlsplit(origin).path)
        if not fname:
            raise ValueError(
                f"Can't parse the file name from the origin provided: '{origin}'. "
                "Please specify the `fname` argument."
            )
    elif os.sep in fname or (os.altsep and os.altsep in fname):
        raise ValueError(
            "Paths are no longer accepted as the `fname` argument. To specify the file's "
            f"parent directory, use the `cache_dir` argument. Received: fname={fname}"
        )

    if extract or untar:
        if provided_fname and "." in fname:
            download_target = os.path.join(datadir, fname)
            extraction_dir = os.path.join(datadir, f"{fname[: fname.find('.')]}_extracted")
        else:
            extraction_dir = os.path.join(datadir, fname)
            download_target = os.path.join(datadir, f"{fname}_archive")
    else:
        download_target = os.path.join(datadir, fname)

    stale_cache = False
    if force_download or not os.path.exists(download_target):
        download = True
    elif file_hash is not None and not validate_file(download_target, file_hash, hash_algorithm):
        print(
            "A local file was found, but it seems to be incomplete or outdated because the "
            f"{_algorithm_name(hash_algorithm, file_hash)} file hash does not match the "
            f"original value of {file_hash} so we will re-download the data."
        )
        download = True
        stale_cache = True
    else:
        download = False

    if download:
        print(f"Downloading data from {origin}")
        tmp_path = _download(origin, download_target)
        if file_hash is not None:
            hasher = resolve_hasher(hash_algorithm, file_hash)
            received = hash_file(tmp_path, hasher)
            if received != str(file_hash).lower():
                os.remove(tmp_path)
                if stale_cache:
                    os.remove(download_target)
                raise ValueError(
                    f"Incomplete or corrupted file detected: '{fname}' downloaded from "
                    f"{origin} does not match the expected {hasher.name} hash. "
                    f"Expected: {file_hash}. Received: {received}."
                )
        os.replace(tmp_path, download_target)

    if extract or untar:
        if untar:
            archive_format = "tar"
        if not extract_archive(download_target, extraction_dir, archive_format):
            warnings.warn("Could not extract archive.", stacklevel=2)
        return extraction_dir
    return download_target
