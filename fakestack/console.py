"""What the command line's subcommands share: exit codes and aligned tables.  A module of
its own so that ``fakestack.cli`` and ``fakestack.scenarios`` (``replay``) both use it
without importing each other."""
from __future__ import annotations

from collections.abc import Sequence

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], right: Sequence[int] = (),
          indent: str = "  ") -> list[str]:
    """Aligned columns; the columns whose index is in ``right`` are right-aligned."""
    cells = [[str(c) for c in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    for row in cells:
        parts = [cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
                 for i, cell in enumerate(row)]
        lines.append((indent + "  ".join(parts)).rstrip())
    return lines
