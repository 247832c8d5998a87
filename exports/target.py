"""Where an export is written (`--output`): a stream as given, or a path replaced whole or not at all.

A path is written to a hidden `.NAME.*.part` beside it and renamed over it at the end; any failure removes the
part. Only a regular file is replaced: a directory is refused, and a symlink, FIFO, device or socket is refused
unless `force` (then written through as it is). `ExportTargetError` says what the path is and what to do.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

Target = BinaryIO | str | os.PathLike[str]


class ExportTargetError(ValueError):
    """`--output` names something we will not write: the message says what it is and what to do."""


@contextmanager
def target(out: Target, force: bool = False) -> Iterator[BinaryIO]:
    """A stream as given; a path is written to a hidden `.NAME.*.part` beside it, renamed over it at
    the end, and removed on any failure: no half file, no `.part` left behind.

    Only a regular file (new or existing) is replaced. A directory is always refused; a symlink, FIFO,
    device or socket is refused unless `force`, and then written through as it is (no rename), so a
    `--output /dev/stdout` or a named pipe works on purpose and `/dev/full` is never replaced by a file."""
    if not isinstance(out, (str, os.PathLike)):
        yield out
        return
    path = Path(out)
    kind = _existing_kind(path)
    if kind == "directory":
        raise ExportTargetError(f"{path} is a directory: give a file name inside it")
    if kind not in (None, "regular file"):
        if not force:
            raise ExportTargetError(f"{path} is a {kind}, not a regular file: refusing to replace or write "
                                    "through it (use --force to write into it as it is)")
        with _open_special(path) as stream:
            yield stream
        return
    with _replacing(path) as stream:
        yield stream


def _existing_kind(path: Path) -> str | None:
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ExportTargetError(f"cannot use {path}: {exc.strerror or exc}") from None
    kinds = ((stat.S_ISLNK, "symbolic link"), (stat.S_ISDIR, "directory"), (stat.S_ISREG, "regular file"),
             (stat.S_ISFIFO, "named pipe (FIFO)"), (stat.S_ISCHR, "character device"),
             (stat.S_ISBLK, "block device"), (stat.S_ISSOCK, "socket"))
    return next((name for test, name in kinds if test(mode)), "special file")


@contextmanager
def _open_special(path: Path) -> Iterator[BinaryIO]:
    try:
        stream = path.open("wb")
    except OSError as exc:
        raise ExportTargetError(f"cannot write to {path}: {exc.strerror or exc}") from None
    with stream:
        yield stream


@contextmanager
def _replacing(path: Path) -> Iterator[BinaryIO]:
    directory = path.parent
    if not directory.is_dir():
        raise ExportTargetError(f"cannot write {path}: the directory {directory} does not exist")
    try:
        fd, part_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=directory)
    except OSError as exc:
        raise ExportTargetError(f"cannot write to {directory}: {exc.strerror or exc}") from None
    part = Path(part_name)
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; an export gets the usual file mode
        with os.fdopen(fd, "wb") as stream:
            yield stream
        os.replace(part, path)
    finally:
        part.unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
