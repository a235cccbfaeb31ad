"""The static replay report: ``fakestack replay --report DIR``.

One self-contained HTML file per scenario (the dashboard's stylesheet inlined, no script,
nothing fetched), and ``index.html`` listing them:

* the verdict and the steps, each passed or failed;
* capacity over the steps: percent used of every ledger before the first step and after
  each step, as an inline SVG line chart (the failed step marked);
* for a failed step, its message with the expected/actual diff;
* the final capacity bars, fault plan, trees of every storage (with backup groups) and
  the model operations, drawn by the same renderer as the live dashboard.

Use it from Python with :class:`ReportCollector`::

    collector = ReportCollector()
    result = replay(path, observe=collector.observe)
    write_scenario_report(out_dir / "name.html", result, collector)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from . import render, views
from .routes import asset_text


@dataclass
class ReportCollector:
    """Takes the ledgers of a replaying cloud before the first step and after each."""

    ledgers: list[dict] = field(default_factory=list)

    def observe(self, done: int, cloud) -> None:
        self.ledgers.append(views.ledgers(cloud))


def _step_rows(result) -> str:
    rows = []
    ran = {report.index: report for report in result.steps}
    for index, step in enumerate(result.scenario.steps):
        report = ran.get(index)
        if report is None:
            rows.append(
                f'<tr class="skipped"><td>{index + 1}</td><td>{escape(_label(step, index))}</td>'
                f'<td>{escape(step.kind)}</td><td class="outcome">not run</td><td></td></tr>'
            )
            continue
        verdict = "ok" if report.passed else "error"
        first = report.message.splitlines()[0] if report.message else ""
        rows.append(
            f'<tr class="{"" if report.passed else "failed"}" data-step="{index + 1}">'
            f"<td>{index + 1}</td><td>{escape(report.label)}</td><td>{escape(report.kind)}</td>"
            f'<td class="outcome {verdict}">{"passed" if report.passed else "FAILED"}</td>'
            f"<td>{escape(render._short(first, 120))}</td></tr>"
        )
    return (
        '<table class="steps"><thead><tr><th>#</th><th>step</th><th>kind</th><th>result</th>'
        "<th>problem</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def _label(step, index: int) -> str:
    """A step that did not run: its name, or what it would have done."""
    if step.name:
        return step.name
    if step.http is not None:
        return f"{step.http.method} {step.http.path}"
    return f"op {step.op}" if step.op is not None else step.kind


def scenario_report_html(result, collector: ReportCollector, *, title: str | None = None) -> str:
    """The report page of one replay (``result`` from ``fakestack.scenarios.replay``)."""
    scenario, cloud = result.scenario, result.cloud
    verdict = "pass" if result.passed else "fail"
    labels = ["start"] + [report.label for report in result.steps]
    failed = next((report.index + 1 for report in result.steps if not report.passed), None)
    series = render.ledger_series(collector.ledgers)
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{escape(title or scenario.name)} · fakestack replay</title>",
        f"<style>{asset_text('dashboard.css')}</style></head><body>",
        (
            f'<header class="top"><h1>fakestack replay</h1><span class="sub">'
            f"{escape(scenario.name)}</span></header><main>"
        ),
        (
            f'<section class="panel" id="summary"><div class="report-head"><h2>{escape(scenario.name)}</h2>'
            f'<span class="verdict {verdict}">{verdict.upper()}</span>'
            f'<span class="sub">{escape(result.source)} · topology {escape(cloud.topology.name)} · '
            f"seed {scenario.seed} · {len(result.steps)} of {len(scenario.steps)} steps run</span></div>"
        ),
    ]
    if scenario.description:
        parts.append(f"<p>{escape(scenario.description.strip())}</p>")
    parts.append(_step_rows(result) + "</section>")
    failures = [report for report in result.steps if not report.passed]
    if failures:
        parts.append('<section class="panel" id="failure"><h2>Failed step</h2>')
        for report in failures:
            parts.append(
                f"<h3>step {report.index + 1}: {escape(report.label)} "
                f'<span class="sub">[{escape(report.kind)}]</span></h3>' + render.diff_html(report.message)
            )
        parts.append("</section>")
    parts.append(
        '<section class="panel" id="capacity-chart"><h2>Capacity over the steps</h2>'
        '<p class="sub">percent used of each ledger, before the first step (0) and after '
        "each step</p>" + render.capacity_chart_svg(series, labels, failed) + "</section>"
    )
    parts.append(
        '<section class="panel" id="capacity"><h2>Final capacity</h2>'
        + render.capacity_html(views.ledgers(cloud))
        + "</section>"
    )
    parts.append(
        '<section class="panel" id="faults"><h2>Fault plan</h2>'
        + render.faults_html(views.fault_plan(cloud))
        + "</section>"
    )
    parts.append('<section class="panel" id="trees"><h2>Final copy-on-write trees</h2>')
    drawn = 0
    for store in list(cloud.primary_storages) + list(cloud.backup_storages):
        tree = views.tree(cloud, "storage", store.uuid)
        if tree["trees"] or tree["backup_groups"]:
            drawn += 1
            parts.append(
                f'<div class="report-tree" data-storage="{escape(store.name)}">'
                + render.trees_html(tree)
                + "</div>"
            )
    if not drawn:
        parts.append('<p class="empty">no disk nodes</p>')
    parts.append("</section>")
    app = SimpleNamespace(cloud=cloud, request_journal=(), request_seq=0)
    parts.append(
        '<section class="panel" id="journal"><h2>Model operations</h2>'
        + render.journal_html(views.journal(app, limit=200), requests=False)
        + "</section>"
    )
    parts.append("</main></body></html>\n")
    return "".join(parts)


def write_scenario_report(path: str | os.PathLike[str], result, collector: ReportCollector) -> Path:
    target = Path(path)
    target.write_text(scenario_report_html(result, collector), encoding="utf-8")
    return target


def index_html(rows: Sequence[dict[str, Any]]) -> str:
    """``rows``: ``{"file", "scenario", "source", "steps", "result"}`` per scenario."""
    body = []
    for row in rows:
        cls = "ok" if row["result"] == "PASS" else "error"
        name = (
            f'<a href="{escape(row["file"])}">{escape(row["scenario"])}</a>'
            if row.get("file")
            else escape(row["scenario"])
        )
        body.append(
            f"<tr><td>{name}</td><td>{escape(row['source'])}</td><td>{escape(row['steps'])}</td>"
            f'<td class="outcome {cls}">{escape(row["result"])}</td></tr>'
        )
    passed = sum(1 for row in rows if row["result"] == "PASS")
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<title>fakestack replay report</title>"
        f"<style>{asset_text('dashboard.css')}</style></head><body>"
        '<header class="top"><h1>fakestack replay</h1></header><main><section class="panel">'
        f"<h2>{passed} passed, {len(rows) - passed} failed</h2>"
        '<table class="index"><thead><tr><th>scenario</th><th>file</th><th>steps</th>'
        "<th>result</th></tr></thead><tbody>"
        + "".join(body)
        + "</tbody></table></section></main></body></html>\n"
    )
