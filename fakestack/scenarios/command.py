"""``fakestack replay PATH...``: the command that replays files and prints a table."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from ..console import EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_OK, table


class ProgressBar:
    """``[#####.....] 3/10 scenario-name`` on one line of a terminal (stderr)."""

    def __init__(self, total: int, stream=None, enabled: bool | None = None, width: int = 24) -> None:
        self.total = max(total, 1)
        self.stream = stream or sys.stderr
        self.enabled = enabled if enabled is not None else getattr(self.stream, "isatty", lambda: False)()
        self.width = width
        self._last = ""

    def show(self, done: float, label: str = "") -> None:
        if not self.enabled:
            return
        filled = int(self.width * min(done, self.total) / self.total)
        line = f"[{'#' * filled}{'.' * (self.width - filled)}] {int(done)}/{self.total} {label}"[:100]
        pad = max(0, len(self._last) - len(line))
        self.stream.write("\r" + line + " " * pad)
        self.stream.flush()
        self._last = line

    def close(self) -> None:
        if self.enabled and self._last:
            self.stream.write("\r" + " " * len(self._last) + "\r")
            self.stream.flush()


def transcript_name(path: Path, roots: Sequence[Path]) -> str:
    """A file name for a scenario's transcript, unique within one run."""
    resolved = path.resolve()
    for root in roots:
        root = root.resolve()
        if root.is_dir() and root in resolved.parents:
            rel = resolved.relative_to(root).with_suffix("")
            return "__".join(rel.parts) + ".transcript.json"
    return path.stem + ".transcript.json"


def report_name(path: Path, roots: Sequence[Path]) -> str:
    """The report file of a scenario (beside its transcript's name, ``.html``)."""
    return transcript_name(path, roots)[: -len(".transcript.json")] + ".html"


def add_replay_command(subparsers) -> None:
    parser = subparsers.add_parser(
        "replay",
        help="replay scenario files and report pass/fail",
        description="Replay each scenario (files, or folders searched for *.yaml) in a fresh "
        "cloud; print a pass/fail table and a diff for each mismatch. Exit 0 only "
        "when every scenario passes.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="scenario files or folders")
    parser.add_argument(
        "--transcript", metavar="DIR", help="write each scenario's transcript (JSON) into DIR"
    )
    parser.add_argument(
        "--report",
        metavar="DIR",
        help="write an HTML report per scenario (capacity over the steps, final "
        "trees, the diff of a failed step) and an index.html into DIR",
    )
    parser.add_argument(
        "--progress",
        dest="progress",
        action="store_true",
        default=None,
        help="always show the progress bar on stderr (default: on a terminal)",
    )
    parser.add_argument(
        "--no-progress", dest="progress", action="store_false", help="never show the progress bar"
    )


def cmd_replay(args) -> int:
    # Imported here: declaring the command (every ``fakestack`` run does) needs none of it.
    from .replaying import replay
    from .schema import ScenarioError, discover, load

    try:
        files = discover(args.paths)
    except FileNotFoundError as exc:
        print(f"fakestack: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if not files:
        print(f"fakestack: no scenario files under {', '.join(args.paths)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    out_dir = Path(args.transcript) if args.transcript else None
    report_dir = Path(args.report) if getattr(args, "report", None) else None
    try:
        for folder in (out_dir, report_dir):
            if folder is not None:
                folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f"fakestack: cannot create {exc.filename}: {exc.strerror}", file=sys.stderr)
        return EXIT_BAD_INPUT
    index_rows: list[dict] = []
    roots = [Path(p) for p in args.paths]
    bar = ProgressBar(len(files), enabled=args.progress)
    rows, details = [], []
    failed = 0
    for number, path in enumerate(files):
        bar.show(number, path.name)
        try:
            scenario = load(path)
        except ScenarioError as exc:
            failed += 1
            rows.append((str(path), "-", "-", "INVALID"))
            details.append(str(exc))
            index_rows.append(
                {"file": None, "scenario": path.name, "source": str(path), "steps": "-", "result": "INVALID"}
            )
            continue

        def on_step(done, total, _n=number, _name=scenario.name):
            bar.show(_n + done / max(total, 1), _name)

        collector = None
        if report_dir is not None:
            from ..dashboard.report import ReportCollector

            collector = ReportCollector()
        result = replay(
            scenario,
            source=str(path),
            base_dir=path.parent,
            on_step=on_step,
            observe=collector.observe if collector is not None else None,
        )
        passed_steps = sum(1 for s in result.steps if s.passed)
        rows.append(
            (
                str(path),
                scenario.name,
                f"{passed_steps}/{len(scenario.steps)}",
                "PASS" if result.passed else "FAIL",
            )
        )
        if report_dir is not None:
            from ..dashboard.report import write_scenario_report

            name = report_name(path, roots)
            write_scenario_report(report_dir / name, result, collector)
            index_rows.append(
                {
                    "file": name,
                    "scenario": scenario.name,
                    "source": str(path),
                    "steps": f"{passed_steps}/{len(scenario.steps)}",
                    "result": "PASS" if result.passed else "FAIL",
                }
            )
        if not result.passed:
            failed += 1
            details.append(result.report())
        if out_dir is not None:
            (out_dir / transcript_name(path, roots)).write_text(result.transcript, encoding="utf-8")
    bar.show(len(files))
    bar.close()
    if report_dir is not None:
        from ..dashboard.report import index_html

        (report_dir / "index.html").write_text(index_html(index_rows), encoding="utf-8")
    print("\n".join(table(("FILE", "SCENARIO", "STEPS", "RESULT"), rows, indent="")))
    for detail in details:
        print()
        print(detail)
    print()
    print(f"{len(files) - failed} passed, {failed} failed")
    if report_dir is not None:
        print(f"report: {report_dir / 'index.html'}")
    return EXIT_OK if failed == 0 else EXIT_FAILURE
