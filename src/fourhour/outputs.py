"""Outputs checked before any work and written whole or not at all.

`check_output` is the one rule for where fourhour may write a file (or a folder of files);
commands call it on every output option before reading or recording anything. `atomic_path`
and `write_text_atomic` write beside the target and rename over it, so an interrupted or failed
write never leaves a half-written file.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from fourhour.errors import Location, OutputError, ReaderError


def _probe_folder(folder: Path, what: str) -> None:
    """Raise OutputError unless a file can be created in `folder` (tried, then removed)."""
    probe = folder / f".fourhour-probe-{os.urandom(4).hex()}"
    try:
        probe.touch(exist_ok=False)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise OutputError(
            f"cannot write {what}: the folder {folder} is not writable ({reason})"
        ) from None
    with contextlib.suppress(OSError):
        probe.unlink()


def _nearest_existing(path: Path) -> Path:
    p = path
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def check_output(path: Path, *, option: str = "output", folder: bool = False) -> Path:
    """Check that `path` can be written, before any work is done.

    A file output needs an existing, writable folder and must not itself be a folder. A folder
    output (`folder=True`) may not exist yet (it is created with its parents when written), but
    its nearest existing ancestor must be a writable folder, not a file.
    """
    what = f"{option} {path}"
    if folder:
        if path.exists() and not path.is_dir():
            raise OutputError(f"cannot write {what}: it is a file, not a folder")
        base = _nearest_existing(path)
        if not base.is_dir():
            raise OutputError(f"cannot write {what}: {base} is a file, not a folder")
        _probe_folder(base, what)
        return path
    if path.is_dir():
        raise OutputError(f"cannot write {what}: it is a folder; give a file name")
    parent = path.parent
    if not parent.exists():
        raise OutputError(f"cannot write {what}: the folder {parent} does not exist")
    if not parent.is_dir():
        raise OutputError(f"cannot write {what}: {parent} is a file, not a folder")
    _probe_folder(parent, what)
    return path


def check_input(path: Path, *, folder_ok: bool = False) -> Path:
    """Check that an input file (or, with `folder_ok`, a folder) exists and can be read."""
    if not path.exists():
        raise ReaderError(Location(str(path)), "no such file" + (" or folder" if folder_ok else ""))
    if path.is_dir() and not folder_ok:
        raise ReaderError(Location(str(path)), "is a folder; expected a file")
    if not os.access(path, os.R_OK):
        raise ReaderError(Location(str(path)), "cannot be read (permission denied)")
    return path


def _temporary_beside(path: Path) -> Path:
    # Same folder (so the rename is atomic), same suffix (writers choose formats by suffix).
    return path.with_name(f".{path.stem}.{os.urandom(4).hex()}.partial{path.suffix}")


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success it replaces `path`, else it is removed."""
    tmp = _temporary_beside(path)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_text_atomic(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_bytes_atomic(path: Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
