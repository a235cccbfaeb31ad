"""What the command line's subcommands share: exit codes, aligned tables and byte amounts
(the dashboard writes bytes the same way).  A module of its own so that ``fakestack.cli``,
``fakestack.scenarios`` (``replay``) and ``fakestack.dashboard`` use it without importing
each other."""

from __future__ import annotations

from collections.abc import Sequence

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2


def table(
    headers: Sequence[str], rows: Sequence[Sequence[object]], right: Sequence[int] = (), indent: str = "  "
) -> list[str]:
    """Aligned columns; the columns whose index is in ``right`` are right-aligned."""
    cells = [[str(c) for c in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    for row in cells:
        parts = [cell.rjust(widths[i]) if i in right else cell.ljust(widths[i]) for i, cell in enumerate(row)]
        lines.append((indent + "  ".join(parts)).rstrip())
    return lines


_UNITS = (("PiB", 1024**5), ("TiB", 1024**4), ("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024))


def human_bytes(n: int) -> str:
    """Binary units.  An exact amount drops trailing zeros (``40 GiB``, ``1.5 TiB``); an
    inexact one keeps two decimals (``3.94 TiB``), or three when two would round to a
    whole number and hide the remainder (``3.998 TiB``, not ``4.00 TiB``); the decimals
    themselves tell an inexact amount (``1.000 TiB``) from an exact one (``1 TiB``)."""
    sign = "-" if n < 0 else ""
    n = abs(n)
    for unit, size in _UNITS:
        if n < size:
            continue
        if n % size == 0:
            return f"{sign}{n // size} {unit}"
        for decimals in (2, 3):
            text = f"{n / size:.{decimals}f}"
            if round(float(text) * size) == n:
                return f"{sign}{text.rstrip('0').rstrip('.')} {unit}"
            if not text.endswith("." + "0" * decimals):
                return f"{sign}{text} {unit}"
        return f"{sign}{text} {unit}"  # a sliver over a whole amount: "1.000 TiB"
    return f"{sign}{n} B"
