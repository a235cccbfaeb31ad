"""Writing files so that a reader never sees half of one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomically(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, flush it to disk, and rename it
    over ``path``: readers see the old file or the new one, and a crash leaves one of them."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=str(target.parent) or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def stale_temporaries(path: str | os.PathLike[str]) -> list[Path]:
    """The temporary files ``write_atomically(path, ...)`` left beside ``path`` when it was
    killed between creating and renaming one (``.<name>.<random>.tmp``), sorted."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    prefix = f".{target.name}."
    try:
        return sorted(
            p
            for p in folder.iterdir()
            if p.name.startswith(prefix) and p.name.endswith(".tmp") and p.is_file()
        )
    except OSError:
        return []


def remove_stale_temporaries(path: str | os.PathLike[str]) -> list[Path]:
    """Delete what :func:`stale_temporaries` finds (call it before anyone writes ``path``);
    returns the files removed."""
    removed = []
    for leftover in stale_temporaries(path):
        try:
            leftover.unlink()
        except OSError:
            continue
        removed.append(leftover)
    return removed
