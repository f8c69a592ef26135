"""Atomic file output: write to a temporary file in the same folder, then rename over the target."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator


def check_output_path(path: str | os.PathLike) -> Path:
    """Checks that ``path`` can be created: its folder exists and is a folder, and it is not a folder.

    Raises:
        FileNotFoundError: the parent folder does not exist.
        ValueError: the parent is a file, or ``path`` is an existing folder.
    """
    path = Path(path)
    parent = path.parent
    for ancestor in [parent, *parent.parents]:
        if ancestor.exists() and not ancestor.is_dir():
            raise ValueError(f"cannot write '{path}': '{ancestor}' is a file, not a folder")
    if not parent.exists():
        raise FileNotFoundError(f"cannot write '{path}': folder '{parent}' does not exist")
    if path.is_dir():
        raise ValueError(f"cannot write '{path}': it is a folder")
    return path


def _umask() -> int:
    # os.umask can only be read by setting it, which races with other threads; Linux shows it in /proc.
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def output_mode() -> int:
    """The permissions any tool's new file gets: ``0o666`` minus the process umask (mkstemp's are ``0o600``)."""
    return 0o666 & ~_umask()


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike) -> Iterator[Path]:
    """Yields a temporary path next to ``path``; on success renames it to ``path``, on error deletes it.

    So a reader never sees a half-written file, and a failed write leaves nothing behind. The file gets
    `output_mode` permissions, as if it had been created with ``open``.
    """
    path = check_output_path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, output_mode())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> Path:
    """Writes ``data`` to ``path`` atomically; returns the path."""
    with atomic_output(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)
