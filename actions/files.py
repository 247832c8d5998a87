"""Reading a file a person hands us (an upload from the CLI), with the size bounded before reading.

`Path.read_bytes()` loads whatever is there: a 3 GB file took 3.2 GB of memory before its 5 MB limit was
checked, and /dev/zero ended in MemoryError (issue 22). `read_at_most` reads `limit + 1` bytes at most,
whatever the file is (regular, FIFO, device), so the caller's own size check refuses it cheaply.
"""

from __future__ import annotations

from pathlib import Path


def read_at_most(path: Path, limit: int) -> bytes:
    """The file's first `limit + 1` bytes: more than `limit` means "too large", whatever its real size."""
    with path.open("rb") as handle:
        return handle.read(limit + 1)
