"""The dashboard's routes on the admin API (paths relative to ``/_fakestack``), as data
that ``fakestack.admin`` mounts (so this module does not import the admin API).

    GET /ui                      the dashboard page (HTML; polls /ui/panels)
    GET /ui/assets/{name}        its stylesheet and script (package data, no CDN)
    GET /ui/panels               the page's panels rendered from the JSON views, as JSON
                                 (?tree=KIND:KEY &operation=TEXT &outcome=ok|error &limit=N;
                                 &since=TOKEN answers {"unchanged": true} when nothing moved)
    GET /ledgers                 every capacity ledger with bar figures and injected marks
    GET /trees                   what a tree can be drawn for (VMs, images, storages)
    GET /trees/{kind}/{key}      the copy-on-write trees of a vm, image or storage (?limit=N)
"""

from __future__ import annotations

from importlib import resources
from typing import TYPE_CHECKING

from werkzeug.wrappers import Response

from . import render, views

if TYPE_CHECKING:
    from ..admin import AdminCall

ASSETS = {"dashboard.css": "text/css", "dashboard.js": "text/javascript"}
OUTCOMES = ("ok", "error", "partial")
JOURNAL_ROWS = 50  # of operations and of requests, newest first
SUBJECTS_SHOWN = 500  # VMs (and images) offered in the page's tree chooser


def asset_text(name: str) -> str:
    """A file shipped in ``fakestack/dashboard/static`` (package data)."""
    return resources.files(__package__).joinpath("static", name).read_text(encoding="utf-8")


def page_html(base: str, token: str | None = None) -> str:
    """The page; with ``token`` (the admin token the page was opened with, ``?token=``),
    its stylesheet and script are asked for with it too."""
    from html import escape
    from urllib.parse import quote

    suffix = f"?token={quote(token, safe='')}" if token else ""
    return (
        asset_text("dashboard.html")
        .replace("{{base}}", escape(base, quote=True))
        .replace("{{asset_query}}", escape(suffix, quote=True))
    )


class _Mistake(Exception):
    """A client mistake, answered as the admin API answers them."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.answer = {"error": code, "message": message}, status


def _answers_mistakes(handler):
    """Turn ``_Mistake`` into the admin API's ``({"error", "message"}, status)`` answer."""

    def wrapped(call):
        try:
            return handler(call)
        except _Mistake as exc:
            return exc.answer

    wrapped.__doc__ = handler.__doc__
    wrapped.__name__ = handler.__name__
    return wrapped


def _bad_request(message: str) -> _Mistake:
    return _Mistake(400, "bad_request", message)


def _base(call: AdminCall) -> str:
    """Where the admin API is mounted (``/_fakestack`` under the app's script root)."""
    path = call.request.path.rstrip("/")
    return call.request.script_root + path[: path.rindex("/ui")]


def _page(call: AdminCall):
    """The dashboard: capacity bars, clone trees, journal, fault plan, clock."""
    return Response(
        page_html(_base(call), call.request.args.get("token")),
        mimetype="text/html",
        headers={"Cache-Control": "no-store"},
    )


def _asset(call: AdminCall):
    """A static file of the dashboard (dashboard.css, dashboard.js)."""
    name = call.params["name"]
    mimetype = ASSETS.get(name)
    if mimetype is None:
        raise _Mistake(
            404, "not_found", f"no dashboard asset {name!r} (there are {', '.join(sorted(ASSETS))})"
        )
    return Response(asset_text(name), mimetype=mimetype, headers={"Cache-Control": "no-cache"})


def parse_subject(text: str | None, cloud) -> tuple[str, str] | None:
    """``KIND:KEY`` (``vm:golden``, ``image:<uuid>``, ``storage:nfs-ps``) or the default."""
    if not text:
        return views.default_subject(cloud)
    kind, sep, key = text.partition(":")
    if not sep or not key or kind not in views.TREE_KINDS:
        raise _bad_request(
            f"'tree' must be KIND:KEY with KIND one of {', '.join(views.TREE_KINDS)}, got {text!r}"
        )
    return kind, key


def _tree_view(call: AdminCall, kind: str, key: str) -> dict:
    limit = call.query_int("limit", views.DEFAULT_TREE_LIMIT, minimum=1) or views.DEFAULT_TREE_LIMIT
    try:
        return views.tree(call.cloud, kind, key, limit=limit)
    except views.ViewError as exc:
        raise _Mistake(404, "not_found", str(exc)) from None


def _panels(call: AdminCall):
    """The dashboard's panels as HTML fragments, rendered from the JSON views."""
    cloud = call.cloud
    args = call.request.args
    token = views.change_token(call.app)
    if args.get("since") == token:  # nothing moved since the page's last answer but time
        clock = views.clock(cloud)
        return {
            "unchanged": True,
            "token": token,
            "clock": clock,
            "panels": {"clock": render.clock_html(clock)},
        }
    outcome = args.get("outcome") or None
    if outcome is not None and outcome not in OUTCOMES:
        raise _bad_request(f"'outcome' must be one of {', '.join(OUTCOMES)}, got {outcome!r}")
    limit = call.query_int("limit", JOURNAL_ROWS, minimum=1) or JOURNAL_ROWS
    subject = parse_subject(args.get("tree"), cloud)
    tree_html, tree_key = '<p class="empty">nothing to draw</p>', None
    if subject is not None:
        kind, key = subject
        try:
            tree = views.tree(cloud, kind, key)
        except views.ViewError as exc:  # it went away (expunged): say so, keep polling
            tree_html = f'<p class="empty">{render._e(exc)}</p>'
        else:
            tree_html = render.trees_html(tree)
            tree_key = f"{kind}:{tree['subject']['uuid']}"
    journal = views.journal(call.app, operation=args.get("operation"), outcome=outcome, limit=limit)
    clock = views.clock(cloud)
    return {
        "panels": {
            "capacity": render.capacity_html(views.ledgers(cloud)),
            "trees": tree_html,
            "journal": render.journal_html(journal),
            "faults": render.faults_html(views.fault_plan(cloud)),
            "clock": render.clock_html(clock),
        },
        "tree": tree_key,
        "subjects": views.subjects(cloud, limit=SUBJECTS_SHOWN),
        "operation_names": journal["operation_names"],
        "clock": clock,
        "topology": cloud.topology.name,
        "seed": cloud.seed,
        "token": token,
    }


def _ledgers(call: AdminCall):
    """Every ledger (host CPU and memory, both primary storage ledgers, backup storage)
    with its bar figures and the fault plan's injected exhaustion."""
    return views.ledgers(call.cloud)


def _subjects(call: AdminCall):
    """What a copy-on-write tree can be drawn for: VMs, images, storages."""
    return views.subjects(call.cloud)


def _tree(call: AdminCall):
    """The copy-on-write trees of a vm, an image or a storage (?limit=N nodes)."""
    return _tree_view(call, call.params["kind"], call.params["key"])


# ``(method, path under /_fakestack, handler, mutating, summary)``, mounted by fakestack.admin.
ADMIN_ROUTES = tuple(
    ("GET", path, _answers_mistakes(handler), False, (handler.__doc__ or "").strip().splitlines()[0])
    for path, handler in (
        ("/ui", _page),
        ("/ui/assets/{name}", _asset),
        ("/ui/panels", _panels),
        ("/ledgers", _ledgers),
        ("/trees", _subjects),
        ("/trees/{kind}/{key}", _tree),
    )
)
