"""Files the product writes that hold partner data are readable by their owner only.

The embedded database (and its write-ahead log), row-level exports (the
quarantine extract for reprocessing) and the Great Expectations data docs
(which list rejected values as delivered) are created with mode 0600, their
folders 0700 (docs/deployment.md, "Files and permissions"). Other users of
the machine see neither the values nor the file names.

Two means, used together: :func:`owner_only_umask` while a library creates
files we do not open ourselves (DuckDB, Great Expectations), and explicit
modes for the files we do write.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

FILE_MODE = 0o600
DIRECTORY_MODE = 0o700
OWNER_ONLY_UMASK = 0o077


@contextmanager
def owner_only_umask() -> Iterator[None]:
    """Files and folders created inside the block are owner-only (the previous umask is restored)."""
    previous = os.umask(OWNER_ONLY_UMASK)
    try:
        yield
    finally:
        os.umask(previous)


def private_directory(directory: Path) -> Path:
    """Create ``directory`` (and missing parents) and make it 0700."""
    with owner_only_umask():
        directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, DIRECTORY_MODE)
    return directory


def write_private_text(path: Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` with mode 0600, also when the file existed with a wider mode."""
    return write_private_bytes(path, text.encode("utf-8"))


def write_private_bytes(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` with mode 0600, also when the file existed with a wider mode."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as fh:
            fd = -1
            fh.write(data)
    finally:
        if fd != -1:
            os.close(fd)
    return path


def make_private_tree(root: Path) -> None:
    """Make ``root`` and everything under it owner-only (folders 0700, files 0600)."""
    if not root.exists():
        return
    if root.is_file():
        os.chmod(root, FILE_MODE)
        return
    os.chmod(root, DIRECTORY_MODE)
    for folder, dirs, files in os.walk(root):
        for name in dirs:
            os.chmod(Path(folder) / name, DIRECTORY_MODE)
        for name in files:
            os.chmod(Path(folder) / name, FILE_MODE)


def make_private_database(path: Path) -> None:
    """The embedded database file and its write-ahead log, 0600 (when they exist)."""
    for candidate in (path, path.with_name(path.name + ".wal")):
        if candidate.exists():
            os.chmod(candidate, FILE_MODE)
