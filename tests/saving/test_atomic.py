"""Atomic writes: the old file survives a failed write, a full disk and a killed process."""

import errno
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from refkeras.saving.atomic import atomic_write, temporary_prefix, write_bytes_atomically


def _temporaries(path):
    return [n for n in os.listdir(path.parent) if n.startswith(temporary_prefix(str(path)))]


def test_successful_write_replaces_the_file(tmp_path):
    path = tmp_path / "model.bin"
    write_bytes_atomically(path, b"old")
    write_bytes_atomically(path, b"new")
    assert path.read_bytes() == b"new"
    assert _temporaries(path) == []


def test_error_inside_the_write_leaves_the_old_file(tmp_path):
    path = tmp_path / "model.bin"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with atomic_write(path) as tmp:
            with open(tmp, "wb") as f:
                f.write(b"partial")
            raise RuntimeError("crash while writing")
    assert path.read_bytes() == b"old"
    assert _temporaries(path) == []


def test_disk_full_raises_oserror_and_keeps_the_old_file(tmp_path):
    path = tmp_path / "model.bin"
    path.write_bytes(b"old")
    with pytest.raises(OSError) as info:
        with atomic_write(path) as tmp:
            with open(tmp, "wb") as f:
                f.write(b"half")
            raise OSError(errno.ENOSPC, "No space left on device", str(tmp))
    assert info.value.errno == errno.ENOSPC
    assert path.read_bytes() == b"old"
    assert _temporaries(path) == []


def test_sigkill_during_a_write_leaves_the_old_file_and_the_next_write_cleans_up(tmp_path):
    path = tmp_path / "model.bin"
    path.write_bytes(b"old")
    script = textwrap.dedent(f"""
        import time
        from refkeras.saving.atomic import atomic_write
        with atomic_write({str(path)!r}) as tmp:
            with open(tmp, "wb") as f:
                f.write(b"partial")
                f.flush()
                print("writing", flush=True)
                time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert path.read_bytes() == b"old"
    assert len(_temporaries(path)) == 1  # the killed writer's leftover
    time.sleep(0.01)
    write_bytes_atomically(path, b"new")
    assert path.read_bytes() == b"new"
    assert _temporaries(path) == []
