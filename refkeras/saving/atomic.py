"""Atomic file writes: a file is either the complete old version or the complete new one.

``with atomic_write(path) as tmp_path:`` gives a temporary path in the same directory; on success
the temporary file is flushed to disk (fsync) and renamed over ``path`` (an atomic operation on
POSIX), then the directory entry is synced.  On any error — including ``OSError(ENOSPC)`` for a full
disk — the temporary file is removed and ``path`` is untouched.  A process killed mid-write leaves
only a ``.<name>.tmp-*`` file, which :func:`clean_stale_temporaries` removes at the next successful
write of the same path.
"""

from __future__ import annotations

import contextlib
import glob
import os
import tempfile


def _fsync_path(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(directory: str) -> None:
    try:
        _fsync_path(directory)
    except OSError:  # some filesystems do not allow syncing a directory
        pass


def temporary_prefix(path: str) -> str:
    return f".{os.path.basename(path)}.tmp-"


def clean_stale_temporaries(path: str) -> None:
    """Remove temporaries left by writers of ``path`` that were killed mid-write."""
    directory = os.path.dirname(os.path.abspath(path))
    for stale in glob.glob(os.path.join(directory, glob.escape(temporary_prefix(path)) + "*")):
        with contextlib.suppress(OSError):
            os.remove(stale)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike):
    """Yield a temporary path beside ``path``; move it over ``path`` when the block succeeds."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path)) or "."
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=temporary_prefix(path), dir=directory)
    os.close(fd)
    try:
        yield tmp
        _fsync_path(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
    _fsync_dir(directory)
    clean_stale_temporaries(path)


def write_bytes_atomically(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_write`)."""
    with atomic_write(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
