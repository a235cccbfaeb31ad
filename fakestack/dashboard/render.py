"""HTML and inline SVG for the dashboard's panels, from the views' JSON.

One renderer for the live page (``/_fakestack/ui`` polls the panels) and the static
replay report (``fakestack replay --report DIR``), so both show the same pictures.  No
external library: bars are styled ``div``s, trees and charts are SVG written here.
Every text that comes from the cloud is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

from ..console import human_bytes
from ..timefmt import iso_utc

# Tree drawing geometry (pixels).
NODE_W, NODE_H, COL_GAP, ROW_H, PAD = 196, 46, 36, 58, 12
LABEL_CHARS = 26
MAX_HOST_CARDS = 48

KIND_TITLES = {
    "image": "image (on backup storage)",
    "image-cache": "image cache (base)",
    "leaf": "writable leaf",
    "frozen": "frozen source",
    "hidden": "hidden parent",
    "snapshot": "snapshot",
    "backup-full": "full backup",
    "backup-incremental": "incremental backup",
}


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def _pct(part: float, total: float) -> float:
    if total <= 0:
        return 0.0
    return max(0.0, min(100.0, 100.0 * part / total))


def _number(value: float) -> str:
    return f"{value:g}"


def iso(epoch: float) -> str:
    """The whole second of ``epoch`` (a journal's time column)."""
    return iso_utc(math.floor(epoch))


# -- capacity --------------------------------------------------------------------------
def _injected(marks: list[dict]) -> str:
    if not marks:
        return ""
    rules = ", ".join(
        f"{m['rule']} on {m['match']}" + (f" [{m['on']}]" if m.get("on") else "") + f" (hits {m['hits']})"
        for m in marks
    )
    return f'<span class="badge injected" title="{_e(rules)}">injected exhaustion: {_e(rules)}</span>'


def bar(
    title: str,
    used: float,
    total: float,
    text: str,
    *,
    marks: Sequence[dict] = (),
    reserved: float = 0,
    limit: float | None = None,
    unit_bytes: bool = True,
) -> str:
    """One ledger as a bar: the used part, the reserve (hatched, at the right end), a
    threshold line; red when injected exhaustion empties it."""
    used_pct = _pct(used, total)
    level = "high" if used_pct >= 90 else ("mid" if used_pct >= 70 else "low")
    classes = ["bar", level] + (["exhausted"] if marks else [])
    inner = [f'<div class="fill" style="width:{used_pct:.2f}%"></div>']
    if reserved:
        inner.append(
            f'<div class="reserve" style="width:{_pct(reserved, total):.2f}%" '
            f'title="reserved {_e(human_bytes(int(reserved)) if unit_bytes else reserved)}"></div>'
        )
    if limit is not None and total:
        inner.append(f'<div class="limit" style="left:{_pct(limit, total):.2f}%" title="threshold"></div>')
    return (
        f'<div class="ledger" data-ledger="{_e(title)}"><div class="ledger-head">'
        f'<span class="ledger-title">{_e(title)}</span>'
        f'<span class="ledger-text">{_e(text)}</span></div>'
        f'<div class="{" ".join(classes)}" role="meter" aria-valuenow="{used_pct:.1f}" '
        f'aria-label="{_e(title)}">{"".join(inner)}</div>{_injected(list(marks))}</div>'
    )


def _state_badges(entity: dict) -> str:
    out = []
    if entity.get("state") not in (None, "Enabled"):
        out.append(f'<span class="badge off">{_e(entity["state"])}</span>')
    if entity.get("status") not in (None, "Connected", "Ready"):
        out.append(f'<span class="badge off">{_e(entity["status"])}</span>')
    return "".join(out)


def _notable(host: dict) -> bool:
    return bool(
        host["full"] or not host["schedulable"] or host["cpu"]["injected"] or host["memory"]["injected"]
    )


def _hosts_to_draw(hosts: list[dict], limit: int) -> tuple[list[dict], int]:
    """At most ``limit`` hosts, the notable ones (full, off, injected) first, each group
    in the cloud's order; and how many were left out."""
    if len(hosts) <= limit:
        return hosts, 0
    chosen = [h for h in hosts if _notable(h)][:limit]
    if len(chosen) < limit:
        picked = {h["uuid"] for h in chosen}
        chosen += [h for h in hosts if h["uuid"] not in picked][: limit - len(chosen)]
    order = {h["uuid"]: i for i, h in enumerate(hosts)}
    chosen.sort(key=lambda h: (not _notable(h), order[h["uuid"]]))
    return chosen, len(hosts) - len(chosen)


def capacity_html(view: dict, *, max_hosts: int = MAX_HOST_CARDS) -> str:
    """The capacity panel from ``views.ledgers`` (at most ``max_hosts`` host cards: a
    cloud of thousands of hosts shows its full, disabled and injected ones first)."""
    hb = human_bytes
    hosts, hidden = _hosts_to_draw(view["hosts"], max_hosts)
    parts = ['<div class="cards">']
    for h in hosts:
        cpu, mem = h["cpu"], h["memory"]
        badges = _state_badges(h)
        if h["full"]:
            badges += '<span class="badge full">FULL</span>'
        parts.append(
            f'<section class="card host{" is-full" if h["full"] else ""}" data-name="{_e(h["name"])}" '
            f'data-uuid="{_e(h["uuid"])}"><h3><span class="kind">host</span> {_e(h["name"])} {badges}'
            f'<span class="sub">{h["vms"]} VM{"s" if h["vms"] != 1 else ""}</span></h3>'
            + bar(
                "CPU",
                cpu["used"],
                cpu["total"],
                f"{cpu['used']} / {cpu['total']} vCPU ({cpu['cores']} cores × "
                f"{_number(cpu['overprovisioning'])})",
                marks=cpu["injected"],
                unit_bytes=False,
            )
            + bar(
                "memory",
                mem["used"],
                mem["total"],
                f"{hb(mem['used'])} / {hb(mem['total'])} · reserve {hb(mem['reserved'])} · "
                f"placeable {hb(mem['placeable'])}",
                marks=mem["injected"],
                reserved=mem["reserved"],
            )
            + "</section>"
        )
    for p in view["primary_storages"]:
        virt, phys = p["virtual"], p["physical"]
        parts.append(
            f'<section class="card primary" data-name="{_e(p["name"])}" data-uuid="{_e(p["uuid"])}">'
            f'<h3><span class="kind">primary storage</span> {_e(p["name"])} {_state_badges(p)}'
            f'<span class="sub">{_e(p["type"])} · {_e(p["provisioning"])}</span></h3>'
            + bar(
                "virtual",
                virt["used"],
                virt["total"],
                f"{hb(virt['used'])} / {hb(virt['total'])} · over-provisioning "
                f"×{_number(virt['overprovisioning'])} · reserve {hb(virt['reserved'])}",
                marks=virt["injected"],
                reserved=virt["reserved"],
            )
            + bar(
                "physical",
                phys["used"],
                phys["total"],
                f"{hb(phys['used'])} / {hb(phys['total'])} · threshold "
                f"{_number(round(phys['threshold'] * 100, 2))}% ({hb(phys['limit'])})",
                marks=phys["injected"],
                limit=phys["limit"],
            )
            + "</section>"
        )
    for b in view["backup_storages"]:
        cap = b["capacity"]
        parts.append(
            f'<section class="card backup" data-name="{_e(b["name"])}" data-uuid="{_e(b["uuid"])}">'
            f'<h3><span class="kind">backup storage</span> {_e(b["name"])} {_state_badges(b)}'
            f'<span class="sub">{_e(b["type"])}</span></h3>'
            + bar(
                "capacity",
                cap["used"],
                cap["total"],
                f"{hb(cap['used'])} / {hb(cap['total'])} · reserve {hb(cap['reserved'])}",
                marks=cap["injected"],
                reserved=cap["reserved"],
            )
            + "</section>"
        )
    parts.append("</div>")
    if hidden:
        full = sum(1 for h in view["hosts"] if h["full"])
        parts.append(
            f'<p class="sub more-hosts">{len(hosts)} of {len(view["hosts"])} hosts drawn '
            f"({full} full); every host is in /_fakestack/ledgers</p>"
        )
    return "".join(parts)


# -- trees -----------------------------------------------------------------------------
def _short(text: str, limit: int = LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _layout(tree: dict) -> tuple[list[tuple[dict, int, float]], int, dict[int, float]]:
    """(node, column, row) for every node: leaves take consecutive rows, a parent sits at
    the middle of its children; the rows used; and, for a node with children left out,
    the row of its "+N more" note (after its drawn subtree).  Iterative: chains can be
    hundreds deep."""
    placed: list[tuple[dict, int, float]] = []
    rows: dict[int, float] = {}
    notes: dict[int, float] = {}
    next_row = 0.0
    stack: list[tuple[dict, int, bool]] = [(tree, 0, False)]
    order: list[tuple[dict, int]] = []
    while stack:  # post-order
        node, col, seen = stack.pop()
        if seen:
            order.append((node, col))
            continue
        stack.append((node, col, True))
        for child in reversed(node["children"]):
            stack.append((child, col + 1, False))
    for node, col in order:
        kids = node["children"]
        if kids:
            row = (rows[id(kids[0])] + rows[id(kids[-1])]) / 2
        else:
            row = next_row
            next_row += 1
        if node.get("omitted"):
            notes[id(node)] = next_row if kids else row
            if kids:
                next_row += 1
        rows[id(node)] = row
        placed.append((node, col, row))
    return placed, max(int(next_row), 1), notes


def _node_title(node: dict) -> str:
    lines = [
        f"{KIND_TITLES.get(node['kind'], node['kind'])}: {node['label']}",
        f"disk {node['uuid']} on {node['storage']}",
        f"depth {node['depth']} of {node['max_depth']}",
        f"virtual {human_bytes(node['virtual_size'])}, actual {human_bytes(node['actual_size'])}"
        + (" (thick)" if node["thick"] else ""),
    ]
    for holder in node["holders"]:
        lines.append(f"held by {holder['kind']} {holder.get('name') or holder.get('uuid')}")
    if node["hidden"]:
        lines.append("no holder of its own: kept for the nodes built on it")
    return "\n".join(lines)


def tree_svg(tree: dict) -> str:
    return forest_svg([tree])


def forest_svg(trees: list[dict]) -> str:
    """Trees drawn in one SVG, one below the other (roots at the left)."""
    placed: list[tuple[dict, int, float]] = []
    notes: dict[int, float] = {}
    rows = 0.0
    for tree in trees:
        own, used, own_notes = _layout(tree)
        placed.extend((node, col, row + rows) for node, col, row in own)
        notes.update({key: row + rows for key, row in own_notes.items()})
        rows += used + 0.25  # a little air between two trees
    rows -= 0.25
    cols = max(col for _, col, _ in placed) + 1
    width = PAD * 2 + cols * NODE_W + (cols - 1) * COL_GAP
    height = round(PAD * 2 + rows * ROW_H - (ROW_H - NODE_H))
    pos = {id(node): (PAD + col * (NODE_W + COL_GAP), PAD + row * ROW_H) for node, col, row in placed}
    edges, boxes = [], []
    for node, _col, _row in placed:
        x, y = pos[id(node)]
        for child in node["children"]:
            cx, cy = pos[id(child)]
            x1, y1, x2, y2 = x + NODE_W, y + NODE_H / 2, cx, cy + NODE_H / 2
            mid = (x1 + x2) / 2
            edges.append(
                f'<path class="edge" d="M{x1:.0f},{y1:.0f} C{mid:.0f},{y1:.0f} '
                f'{mid:.0f},{y2:.0f} {x2:.0f},{y2:.0f}"/>'
            )
        classes = (
            f"node kind-{node['kind']}"
            + (" subject" if node["subject"] else "")
            + (" hidden" if node["hidden"] else "")
        )
        size = human_bytes(node["physical_charge"])
        meta = f"{node['kind']} · d{node['depth']} · {size}"
        boxes.append(
            f'<g class="{classes}" data-uuid="{_e(node["uuid"])}" data-label="{_e(node["label"])}" '
            f'data-kind="{_e(node["kind"])}" transform="translate({x:.0f},{y:.0f})">'
            f"<title>{_e(_node_title(node))}</title>"
            f'<rect width="{NODE_W}" height="{NODE_H}" rx="7"/>'
            f'<text class="label" x="10" y="19">{_e(_short(node["label"]))}</text>'
            f'<text class="meta" x="10" y="36">{_e(meta)}</text></g>'
        )
        if node.get("omitted"):
            note_y = PAD + notes[id(node)] * ROW_H + NODE_H / 2 + 4
            boxes.append(
                f'<text class="omitted" x="{x + NODE_W + COL_GAP:.0f}" y="{note_y:.0f}">'
                f"+{node['omitted']} more not drawn</text>"
            )
    return (
        f'<svg class="tree" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}">' + "".join(edges) + "".join(boxes) + "</svg>"
    )


def _legend() -> str:
    items = "".join(
        f'<span class="legend-item kind-{k}"><i></i>{_e(t)}</span>'
        for k, t in KIND_TITLES.items()
        if k != "snapshot"
    )
    return f'<div class="legend">{items}<span class="legend-item subject"><i></i>the chosen one</span></div>'


def trees_html(view: dict) -> str:
    """The clone-tree panel from ``views.tree``."""
    subject = view["subject"]
    deepest, limit = view["deepest"], view["max_chain_depth"]
    depth_pct = _pct(deepest, limit)
    head = (
        f'<div class="tree-head" data-subject="{_e(subject["kind"])}:{_e(subject["uuid"])}">'
        f"<strong>{_e(subject['kind'])} {_e(subject['name'])}</strong> · "
        f"{view['nodes']} disk node{'s' if view['nodes'] != 1 else ''} in "
        f"{len(view['trees'])} tree{'s' if len(view['trees']) != 1 else ''}"
        f'<span class="depth">deepest chain <b>{deepest}</b> of {limit} levels'
        f'<span class="mini-bar"><span style="width:{depth_pct:.2f}%"></span></span></span>'
        + (
            ' <span class="badge injected">truncated: more nodes than drawn</span>'
            if view.get("truncated")
            else ""
        )
        + "</div>"
    )
    parts = [head, _legend()]
    if not view["trees"]:
        parts.append('<p class="empty">no disk nodes</p>')
    by_storage: dict[str, list[dict]] = {}
    for tree in view["trees"]:
        by_storage.setdefault(tree["storage"], []).append(tree)
    for storage, trees in by_storage.items():
        parts.append(
            f'<div class="tree-box"><div class="tree-caption">on {_e(storage)} · '
            f"{len(trees)} tree{'s' if len(trees) != 1 else ''}</div>{forest_svg(trees)}</div>"
        )
    if view.get("backup_groups"):
        parts.append(
            '<h3>Backup groups</h3><table class="groups"><thead><tr><th>group</th>'
            "<th>volume backup</th><th>type</th><th>mode</th><th>size</th>"
            "<th>status</th></tr></thead><tbody>"
        )
        for group in view["backup_groups"]:
            members = group["backups"] or [None]
            for i, member in enumerate(members):
                first = f'<td rowspan="{len(members)}">{_e(group["name"])}</td>' if i == 0 else ""
                if member is None:
                    parts.append(f"<tr>{first}<td colspan=5>no member left</td></tr>")
                    continue
                parts.append(
                    f"<tr>{first}<td>{_e(member['name'])}</td><td>{_e(member['type'])}</td>"
                    f"<td>{_e(member['mode'])}</td><td>{_e(human_bytes(member['size']))}</td>"
                    f"<td>{_e(member['status'])}</td></tr>"
                )
        parts.append("</tbody></table>")
    return "".join(parts)


# -- journal, faults, clock ------------------------------------------------------------
def _outcome_cell(outcome: str) -> str:
    return f'<td class="outcome {outcome}">{_e(outcome)}</td>'


def _args_text(entry: dict) -> str:
    args = [str(a) for a in entry.get("args", [])]
    args += [f"{k}={v}" for k, v in entry.get("kwargs", {}).items()]
    text = ", ".join(args)
    return _short(text, 90)


def _result_text(entry: dict) -> str:
    if "error" in entry:
        err = entry["error"]
        return str(err.get("message") or err.get("kind") or err) if isinstance(err, dict) else str(err)
    result = entry.get("ok")
    if isinstance(result, list) and entry.get("operation", "").startswith("vm.clone"):
        done = sum(1 for item in result if item is not None)
        return f"{done} of {len(result)} done"
    if isinstance(result, list):
        return _short(", ".join(str(item) for item in result), 60)
    return _short(str(result), 60)


def journal_html(view: dict, *, requests: bool = True) -> str:
    """The journal panel from ``views.journal``: model operations, then HTTP requests
    (unless ``requests`` is false)."""
    ops, reqs = view["operations_total"], view["requests_kept"]
    counts = f"{ops} operation{'s' if ops != 1 else ''} in all"
    if requests:
        counts += f", {reqs} request{'s' if reqs != 1 else ''} kept (reading the admin API is not)"
    parts = [f'<p class="sub">{counts}; newest first</p>', "<h3>Model operations</h3>"]
    if view["operations"]:
        parts.append(
            '<table class="journal ops"><thead><tr><th>#</th><th>time</th><th>operation</th>'
            "<th>arguments</th><th>outcome</th><th>result</th></tr></thead><tbody>"
        )
        for entry in view["operations"]:
            parts.append(
                f'<tr data-op="{_e(entry["operation"])}" data-outcome="{_e(entry["outcome"])}">'
                f'<td>{entry["seq"]}</td><td class="time">{_e(iso(entry["time"]))}</td>'
                f'<td class="op">{_e(entry["operation"])}</td><td class="args">{_e(_args_text(entry))}</td>'
                f"{_outcome_cell(entry['outcome'])}<td>{_e(_result_text(entry))}</td></tr>"
            )
        parts.append("</tbody></table>")
    else:
        parts.append('<p class="empty">no operation matches</p>')
    if not requests:
        return "".join(parts)
    parts.append("<h3>HTTP requests</h3>")
    if view["requests"]:
        parts.append(
            '<table class="journal requests"><thead><tr><th>#</th><th>time</th><th>dialect</th>'
            "<th>request</th><th>status</th></tr></thead><tbody>"
        )
        for entry in view["requests"]:
            parts.append(
                f'<tr data-outcome="{_e(entry["outcome"])}"><td>{entry["seq"]}</td>'
                f'<td class="time">{_e(iso(entry["time"]))}</td><td>{_e(entry.get("dialect") or "")}</td>'
                f'<td class="args">{_e(entry["method"])} {_e(entry["path"])}</td>'
                f'<td class="outcome {entry["outcome"]}">{_e(entry["status"])}</td></tr>'
            )
        parts.append("</tbody></table>")
    else:
        parts.append('<p class="empty">no request matches</p>')
    return "".join(parts)


def faults_html(rules: list[dict]) -> str:
    if not rules:
        return '<p class="empty">no fault rule is active</p>'
    parts = [
        (
            '<table class="faults"><thead><tr><th>id</th><th>match</th><th>resource</th>'
            "<th>when</th><th>effect</th><th>calls</th><th>hits</th></tr></thead><tbody>"
        )
    ]
    for rule in rules:
        effect = dict(rule.get("effect") or {})
        kind = effect.pop("type", "?")
        effect_text = kind + ("" if not effect else " " + ", ".join(f"{k}={v}" for k, v in effect.items()))
        when = rule.get("when") or {}
        when_text = ", ".join(f"{k}={v}" for k, v in when.items()) or "every call"
        parts.append(
            f'<tr data-rule="{_e(rule.get("id"))}"><td>{_e(rule.get("id"))}</td>'
            f"<td>{_e(rule.get('match'))}</td><td>{_e(rule.get('resource') or 'any')}</td>"
            f"<td>{_e(when_text)}</td><td>{_e(effect_text)}</td>"
            f'<td class="num">{rule.get("calls", 0)}</td>'
            f'<td class="num hits">{rule.get("hits", 0)}</td></tr>'
        )
    parts.append("</tbody></table>")
    return "".join(parts)


def clock_html(clock: dict) -> str:
    return (
        f'<span class="clock" data-now="{clock["now"]}">{_e(clock["iso"])}</span>'
        f' <span class="sub">{_e(clock["kind"])} clock</span>'
    )


# -- the report's chart ----------------------------------------------------------------
CHART_COLORS = (
    "#2563eb",
    "#dc2626",
    "#059669",
    "#d97706",
    "#7c3aed",
    "#0891b2",
    "#db2777",
    "#65a30d",
    "#4b5563",
    "#ea580c",
)


def _points(
    items: list[dict], kind: str, ledgers: tuple[tuple[str, str], ...], max_each: int
) -> list[tuple[str, int, int]]:
    """(series name, used, total) for each ledger of each item, or, past ``max_each``
    items, one series per ledger summed over all of them (a chart of 1,000 hosts' lines
    says nothing)."""
    if len(items) > max_each:
        return [
            (
                f"all {len(items)} {kind} {label}".rstrip(),
                sum(i[key]["used"] for i in items),
                sum(i[key]["total"] for i in items),
            )
            for key, label in ledgers
        ]
    return [
        (f"{i['name']} {label}".rstrip(), i[key]["used"], i[key]["total"])
        for i in items
        for key, label in ledgers
    ]


def ledger_series(ledger_views: Iterable[dict], *, max_each: int = 6) -> list[dict]:
    """Percent used per ledger across a sequence of ``views.ledgers`` results:
    ``[{"name", "values": [pct, ...], "used": [...], "total": [...]}]`` (stable order).
    Hosts, primary and backup storages past ``max_each`` of a kind are summed up."""
    series: dict[str, dict] = {}
    views = list(ledger_views)
    for index, view in enumerate(views):
        points = (
            _points(view["hosts"], "hosts", (("cpu", "cpu"), ("memory", "memory")), max_each)
            + _points(
                view["primary_storages"],
                "primary storages",
                (("virtual", "virtual"), ("physical", "physical")),
                max_each,
            )
            + _points(view["backup_storages"], "backup storages", (("capacity", ""),), max_each)
        )
        for name, used, total in points:
            entry = series.setdefault(
                name,
                {
                    "name": name,
                    "values": [None] * len(views),
                    "used": [None] * len(views),
                    "total": [None] * len(views),
                },
            )
            entry["values"][index] = round(_pct(used, total), 2)
            entry["used"][index] = used
            entry["total"][index] = total
    return list(series.values())


def capacity_chart_svg(series: list[dict], labels: list[str], failed: int | None = None) -> str:
    """A line chart of percent used per ledger over the steps (``labels[i]`` names
    point ``i``; ``failed`` marks the index of the failed step)."""
    n = len(labels)
    left, right, top, bottom = 44, 16, 12, 34
    width = max(480, left + right + 40 * max(n - 1, 1))
    height = 260
    plot_w, plot_h = width - left - right, height - top - bottom

    def x(i: int) -> float:
        return left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y(pct: float) -> float:
        return top + plot_h * (1 - pct / 100)

    parts = [
        (
            f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" '
            f'height="{height}" viewBox="0 0 {width} {height}">'
        )
    ]
    for pct in (0, 25, 50, 75, 100):
        parts.append(
            f'<line class="grid" x1="{left}" x2="{width - right}" y1="{y(pct):.1f}" '
            f'y2="{y(pct):.1f}"/><text class="axis" x="{left - 6}" y="{y(pct) + 4:.1f}" '
            f'text-anchor="end">{pct}%</text>'
        )
    step_every = max(1, n // 20)
    for i, label in enumerate(labels):
        if i % step_every == 0 or i == n - 1:
            parts.append(
                f'<text class="axis" x="{x(i):.1f}" y="{height - 14}" '
                f'text-anchor="middle">{i}<title>{_e(label)}</title></text>'
            )
    if failed is not None and 0 <= failed < n:
        parts.append(
            f'<line class="failed-step" x1="{x(failed):.1f}" x2="{x(failed):.1f}" '
            f'y1="{top}" y2="{top + plot_h}"><title>failed: {_e(labels[failed])}</title></line>'
        )
    for k, s in enumerate(series):
        color = CHART_COLORS[k % len(CHART_COLORS)]
        dash = _dash(k)
        points = [(x(i), y(v)) for i, v in enumerate(s["values"]) if v is not None]
        if not points:
            continue
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
        parts.append(
            f'<polyline class="series" data-series="{_e(s["name"])}" fill="none" '
            f'stroke="{color}" stroke-width="2"{dash} points="{path}"/>'
        )
        for i, v in enumerate(s["values"]):
            if v is None:
                continue
            used, total = s["used"][i], s["total"][i]
            parts.append(
                f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3" fill="{color}">'
                f"<title>{_e(s['name'])} after {_e(labels[i])}: {v}% "
                f"({used} of {total})</title></circle>"
            )
    parts.append(
        f'<text class="axis" x="{left + plot_w / 2:.0f}" y="{height - 1}" '
        f'text-anchor="middle">step</text></svg>'
    )
    legend = "".join(
        f'<span class="legend-item"><svg width="22" height="8"><line x1="0" y1="4" x2="22" y2="4" '
        f'stroke="{CHART_COLORS[k % len(CHART_COLORS)]}" stroke-width="3"{_dash(k)}/></svg>'
        f"{_e(s['name'])}</span>"
        for k, s in enumerate(series)
    )
    return "".join(parts) + f'<div class="legend chart-legend">{legend}</div>'


def _dash(k: int) -> str:
    """Past the palette, lines differ by their dashes."""
    pattern = ("", "6 3", "2 3", "8 3 2 3")[(k // len(CHART_COLORS)) % 4]
    return f' stroke-dasharray="{pattern}"' if pattern else ""


def diff_html(text: str) -> str:
    """A failure message with its ``-``/``+`` diff lines coloured."""
    lines = []
    for line in text.splitlines():
        stripped = line.lstrip()
        cls = ""
        if stripped.startswith(("+++", "---")):
            cls = "hdr"
        elif stripped.startswith("+"):
            cls = "add"
        elif stripped.startswith("-"):
            cls = "del"
        elif stripped.startswith("@@"):
            cls = "hunk"
        lines.append(f'<span class="{cls}">{_e(line)}</span>' if cls else _e(line))
    return '<pre class="diff">' + "\n".join(lines) + "</pre>"
