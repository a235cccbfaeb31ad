"""What the dashboard shows, as JSON-able data computed from a cloud.

These views are the admin API's ``/_fakestack/ledgers``, ``/_fakestack/trees`` and
``/_fakestack/trees/{kind}/{key}`` answers, and the input of the HTML renderer
(``fakestack.dashboard.render``), so that the live page, the static replay report and a
script reading the JSON all see the same numbers.

Nothing here is on a hot path: a view walks the collections it needs once per call.
"""

from __future__ import annotations

from typing import Any

from ..timefmt import clock_view

# Which ledger an ``exhaust`` fault effect empties, per entity kind.
EXHAUST_LEDGERS = {
    "host.cpu": ("host", "cpu"),
    "host.memory": ("host", "memory"),
    "primary_storage.virtual": ("primary_storage", "virtual"),
    "primary_storage.physical": ("primary_storage", "physical"),
    "backup_storage": ("backup_storage", "capacity"),
}

TREE_KINDS = ("vm", "image", "storage")
DEFAULT_TREE_LIMIT = 400  # nodes drawn per subject; a clone storm can make thousands


class ViewError(LookupError):
    """A subject that does not exist or a kind that is not drawn (a client mistake)."""


# -- capacity --------------------------------------------------------------------------
def _exhaust_rules(cloud) -> list[dict]:
    """The plan's ``exhaust`` rules as ``{"id", "resource", "on", "match", "hits"}``."""
    injector = getattr(cloud, "faults", None)
    if injector is None:
        return []
    out = []
    for rule in injector.report():
        effect = rule.get("effect") or {}
        if effect.get("type") == "exhaust":
            out.append(
                {
                    "id": rule.get("id"),
                    "resource": effect.get("resource"),
                    "on": rule.get("resource"),
                    "match": rule.get("match"),
                    "hits": rule.get("hits", 0),
                }
            )
    return out


def _marks(rules: list[dict], kind: str, ledger: str, uuid: str, name: str, names_a_store) -> list[dict]:
    """The exhaust rules that empty this entity's ledger.  A rule whose ``resource``
    filter names this entity applies to it; a rule without a filter, or whose filter
    names something else than a host or storage (a VM, an image), applies to every
    entity of the kind: the filter then narrows the calls, not the ledger."""
    out = []
    for rule in rules:
        if EXHAUST_LEDGERS.get(rule["resource"]) != (kind, ledger):
            continue
        on = rule["on"]
        if on is None or on in (uuid, name) or not names_a_store(on):
            out.append({"rule": rule["id"], "match": rule["match"], "hits": rule["hits"], "on": on})
    return out


def ledgers(cloud) -> dict:
    """Every host's CPU and memory, every primary storage's two ledgers, every backup
    storage, with the figures a bar needs and the injected exhaustion marks."""
    rules = _exhaust_rules(cloud)
    offerings = list(cloud.instance_offerings)
    smallest_cpu = min((o.cpu_num for o in offerings), default=1)
    smallest_mem = min((o.memory_size for o in offerings), default=1)

    def names_a_store(key: str) -> bool:
        return any(key in coll for coll in (cloud.hosts, cloud.primary_storages, cloud.backup_storages))

    def marks(kind, ledger, entity):
        if not rules:
            return []
        return _marks(rules, kind, ledger, entity.uuid, entity.name, names_a_store)

    hosts = []
    for h in cloud.hosts:
        placeable = max(h.total_memory - h.used_memory - h.reserved_memory, 0)
        available_cpu = h.total_cpu - h.used_cpu
        full = h.schedulable and (available_cpu < smallest_cpu or placeable < smallest_mem)
        hosts.append(
            {
                "uuid": h.uuid,
                "name": h.name,
                "state": h.state,
                "status": h.status,
                "vms": h.vm_count,
                "schedulable": h.schedulable,
                "full": full,
                "cpu": {
                    "total": h.total_cpu,
                    "used": h.used_cpu,
                    "available": available_cpu,
                    "cores": h.cpu_num,
                    "overprovisioning": h.cpu_ratio,
                    "injected": marks("host", "cpu", h),
                },
                "memory": {
                    "total": h.total_memory,
                    "used": h.used_memory,
                    "available": h.total_memory - h.used_memory,
                    "reserved": h.reserved_memory,
                    "placeable": placeable,
                    "injected": marks("host", "memory", h),
                },
            }
        )
    primaries = []
    for p in cloud.primary_storages:
        limit = round(p.total_physical_capacity * p.physical_threshold)
        primaries.append(
            {
                "uuid": p.uuid,
                "name": p.name,
                "type": p.type,
                "state": p.state,
                "status": p.status,
                "provisioning": "thick" if p.default_thick else "thin",
                "virtual": {
                    "total": p.total_capacity,
                    "used": p.used_virtual,
                    "available": p.total_capacity - p.used_virtual,
                    "reserved": p.reserved_capacity,
                    "overprovisioning": p.ratio,
                    "injected": marks("primary_storage", "virtual", p),
                },
                "physical": {
                    "total": p.total_physical_capacity,
                    "used": p.used_physical,
                    "available": p.total_physical_capacity - p.used_physical,
                    "threshold": p.physical_threshold,
                    "limit": limit,
                    "injected": marks("primary_storage", "physical", p),
                },
            }
        )
    backups = []
    for b in cloud.backup_storages:
        backups.append(
            {
                "uuid": b.uuid,
                "name": b.name,
                "type": b.type,
                "state": b.state,
                "status": b.status,
                "capacity": {
                    "total": b.total_capacity,
                    "used": b.used,
                    "available": b.total_capacity - b.used,
                    "reserved": b.reserved_capacity,
                    "injected": marks("backup_storage", "capacity", b),
                },
            }
        )
    return {"hosts": hosts, "primary_storages": primaries, "backup_storages": backups, "exhaust_rules": rules}


# -- journal ---------------------------------------------------------------------------
def operation_outcome(entry: dict) -> str:
    """``ok``, ``error``, or ``partial`` (a clone whose names did not all get a VM)."""
    if "error" in entry:
        return "error"
    result = entry.get("ok")
    if (
        isinstance(result, list)
        and entry.get("operation", "").startswith("vm.clone")
        and any(item is None for item in result)
    ):
        return "partial"
    return "ok"


def request_outcome(entry: dict) -> str:
    status = entry.get("status")
    return "error" if status is None or status >= 400 else "ok"


def _outcome_matches(outcome: str, wanted: str | None) -> bool:
    if not wanted:
        return True
    if wanted == "error":  # a partial clone failed for some names: it is an error too
        return outcome in ("error", "partial")
    return outcome == wanted


NAMES_FROM_LAST = 1000


def _newest_first(entries, chunk: int = 200):
    """A journal's entries, newest first, rendered a slice at a time (a filter that
    matches the last few entries renders only those)."""
    end = len(entries)
    while end > 0:
        start = max(0, end - chunk)
        yield from reversed(entries[start:end])
        end = start


def journal(app, *, operation: str | None = None, outcome: str | None = None, limit: int = 50) -> dict:
    """The last operations and requests, newest first, filtered: ``operation`` is a
    substring of the operation name (or of the request's method and path), ``outcome``
    one of ``ok`` / ``error`` (``error`` includes partial clones)."""
    cloud = app.cloud
    needle = (operation or "").strip().lower()
    operations = []
    for entry in _newest_first(cloud.journal):
        name = entry.get("operation", "")
        result = operation_outcome(entry)
        if needle and needle not in name.lower():
            continue
        if not _outcome_matches(result, outcome):
            continue
        operations.append({**entry, "outcome": result})
        if len(operations) >= limit:
            break
    requests = []
    for entry in reversed(list(getattr(app, "request_journal", ()))):
        result = request_outcome(entry)
        text = f"{entry.get('method', '')} {entry.get('path', '')}".lower()
        if needle and needle not in text:
            continue
        if not _outcome_matches(result, outcome):
            continue
        requests.append(
            {k: entry.get(k) for k in ("seq", "time", "dialect", "method", "path", "status")}
            | {"outcome": result}
        )
        if len(requests) >= limit:
            break
    # for the filter's suggestions: the recent operations are enough (rendering a
    # 10,000-entry journal at each poll is not)
    names = sorted({e.get("operation", "") for e in cloud.journal[-NAMES_FROM_LAST:]})
    return {
        "operations": operations,
        "requests": requests,
        "operation_names": names,
        "operations_total": cloud.journal_seq,
        "requests_kept": len(getattr(app, "request_journal", ())),
    }


def fault_plan(cloud) -> list[dict]:
    injector = getattr(cloud, "faults", None)
    return injector.report() if injector is not None else []


# -- trees -----------------------------------------------------------------------------
def subjects(cloud, *, limit: int | None = None) -> dict:
    """What a tree can be drawn for: VMs, images, storages (each ``{"uuid", "name"}``);
    with ``limit``, at most that many VMs and images (``vms_total`` and ``images_total``
    say how many exist)."""

    def listing(collection, **extra):
        out = []
        for e in collection:
            if limit is not None and len(out) >= limit:
                break
            out.append({"uuid": e.uuid, "name": e.name, **{k: getattr(e, a) for k, a in extra.items()}})
        return out

    return {
        "vms": listing(cloud.vms, state="state"),
        "vms_total": len(cloud.vms),
        "images_total": len(cloud.images),
        "images": listing(cloud.images, status="status"),
        "storages": [
            {"uuid": s.uuid, "name": s.name, "kind": kind}
            for kind, coll in (
                ("primary_storage", cloud.primary_storages),
                ("backup_storage", cloud.backup_storages),
            )
            for s in coll
        ],
    }


def _holders(cloud, wanted: set[str]) -> dict[str, list[dict]]:
    """Who holds each of the ``wanted`` disk nodes: ``node uuid -> [{"kind", "name",
    "uuid", ...}]`` (only wanted nodes cost anything: a big cloud has many holders)."""
    held: dict[str, list[dict]] = {}

    def add(node_uuid, **holder):
        held.setdefault(node_uuid, []).append(holder)

    vms = cloud.vms
    for vol in cloud.volumes:
        if vol.node_uuid not in wanted:
            continue
        owner_vm = vms.find(vol.vm_uuid) if vol.vm_uuid else None
        owner = owner_vm.name if owner_vm is not None else None
        add(
            vol.node_uuid,
            kind="volume",
            uuid=vol.uuid,
            name=vol.name,
            type=vol.type,
            vm=owner,
            vm_uuid=vol.vm_uuid,
        )
    for snap in getattr(cloud, "volume_snapshots", ()):
        if snap.node_uuid in wanted:
            add(snap.node_uuid, kind="snapshot", uuid=snap.uuid, name=snap.name)
    for image in cloud.images:
        for ref in image.backup_storage_refs:
            if ref.get("node_uuid") in wanted:
                add(ref["node_uuid"], kind="image", uuid=image.uuid, name=image.name)
    for key, node_uuid in getattr(cloud, "image_caches", {}).items():
        if node_uuid not in wanted:
            continue
        image = cloud.images.find(key.split(":", 1)[0])
        add(
            node_uuid,
            kind="image-cache",
            uuid=image.uuid if image else None,
            name=image.name if image else key.split(":", 1)[0],
        )
    for record in getattr(cloud, "backups", ()):
        for ref in record.backup_storage_refs:
            if ref.get("node_uuid") in wanted:
                add(
                    ref["node_uuid"],
                    kind="backup",
                    uuid=record.uuid,
                    name=record.name,
                    mode=record.mode,
                    group=record.group_uuid,
                    status=ref.get("status"),
                )
    return held


def _children(cloud) -> dict[str, list]:
    kids: dict[str, list] = {}
    for node in cloud.nodes:
        if node.parent_uuid is not None:
            kids.setdefault(node.parent_uuid, []).append(node)
    return kids


def _root_of(cloud, node):
    find = cloud.nodes.find
    while node.parent_uuid is not None:
        parent = find(node.parent_uuid)
        if parent is None:
            break
        node = parent
    return node


def _node_kind(node, holders: list[dict]) -> str:
    # An instant clone's frozen source is held only by its clones (no refs of its own),
    # like a deleted parent: ``frozen`` wins, ``hidden`` says the rest.
    if node.frozen:
        return "frozen"
    if node.role == "backup":
        if node.refs <= 0:
            return "hidden"
        return "backup-incremental" if node.parent_uuid else "backup-full"
    if node.refs <= 0:
        return "hidden"
    return node.role


def _label(node, holders: list[dict]) -> str:
    for holder in holders:
        if holder["kind"] == "volume":
            who = holder.get("vm") or "detached"
            return f"{who} {holder.get('type', '').lower()}".strip()
    for holder in holders:
        if holder["kind"] in ("image", "image-cache", "snapshot", "backup"):
            return holder["name"]
    if node.frozen:
        return "frozen source"
    if node.refs <= 0:
        return "hidden parent"
    return node.role


def _tree(
    cloud, root, kids, drawn: list, storage_names, marked: set[str], budget: list[int], max_depth: int
) -> dict:
    """One tree as nested dicts (iterative: a chain can be hundreds of levels deep).
    Each drawn ``(node, dict)`` pair joins ``drawn``; ``_name_nodes`` fills in who holds
    them afterwards."""

    def shape(node) -> dict:
        out = {
            "uuid": node.uuid,
            "role": node.role,
            "kind": node.role,
            "label": node.role,
            "holders": [],
            "storage": storage_names.get(node.storage_uuid, node.storage_uuid),
            "storage_uuid": node.storage_uuid,
            "depth": node.depth,
            "max_depth": max_depth,
            "virtual_size": node.virtual_size,
            "actual_size": node.actual_size,
            "physical_charge": node.physical_charge,
            "thick": node.thick,
            "frozen": node.frozen,
            "hidden": node.refs <= 0,
            "refs": node.refs,
            "subject": node.uuid in marked,
            "children": [],
            "omitted": 0,
        }
        drawn.append((node, out))
        return out

    top = shape(root)
    budget[0] -= 1
    stack = [(root, top)]
    while stack:
        node, out = stack.pop()
        children = kids.get(node.uuid, [])
        for child in children:
            if budget[0] <= 0:
                out["omitted"] += 1
                continue
            budget[0] -= 1
            shaped = shape(child)
            out["children"].append(shaped)
            stack.append((child, shaped))
    return top


def _name_nodes(cloud, drawn: list) -> None:
    holders = _holders(cloud, {node.uuid for node, _ in drawn})
    for node, out in drawn:
        own = holders.get(node.uuid, [])
        out["holders"] = own
        out["kind"] = _node_kind(node, own)
        out["label"] = _label(node, own)


def _deepest(tree: dict) -> int:
    deepest, stack = 0, [tree]
    while stack:
        node = stack.pop()
        deepest = max(deepest, node["depth"])
        stack.extend(node["children"])
    return deepest


def tree(cloud, kind: str, key: str, *, limit: int = DEFAULT_TREE_LIMIT) -> dict:
    """The copy-on-write trees of a VM (its volumes' trees on primary storage, its backup
    groups and their chains on backup storage), an image (its data on backup storage,
    its caches on primary storage and what grew on them) or a storage (everything on it).

    ``{"subject", "max_chain_depth", "trees": [...], "backup_groups": [...],
    "deepest": N, "nodes": N, "truncated": bool}``; each tree node has ``uuid, role, kind
    (image | image-cache | leaf | frozen | hidden | backup-full | backup-incremental),
    label, holders, storage, depth, sizes, subject (part of what was asked for),
    children, omitted``."""
    if kind not in TREE_KINDS:
        raise ViewError(f"no tree kind {kind!r} (one of {', '.join(TREE_KINDS)})")
    marked: set[str] = set()
    roots: list = []
    groups: list[dict] = []
    find = cloud.nodes.find

    def add_root(node) -> None:
        if node is None:
            return
        root = _root_of(cloud, node)
        if all(r.uuid != root.uuid for r in roots):
            roots.append(root)

    if kind == "vm":
        vm = cloud.vms.find(key)
        if vm is None:
            raise ViewError(f"no vm {key!r}")
        subject = {"kind": "vm", "uuid": vm.uuid, "name": vm.name, "state": vm.state}
        for vol_uuid in ([vm.root_volume_uuid] if vm.root_volume_uuid else []) + list(vm.data_volume_uuids):
            vol = cloud.volumes.find(vol_uuid)
            if vol is not None and vol.node_uuid:
                node = find(vol.node_uuid)
                if node is not None:
                    marked.add(node.uuid)
                    add_root(node)
        for group in getattr(cloud, "backup_groups", ()):
            if group.vm_uuid == vm.uuid:
                groups.append(_group_view(cloud, group, marked, add_root))
    elif kind == "image":
        image = cloud.images.find(key)
        if image is None:
            raise ViewError(f"no image {key!r}")
        subject = {"kind": "image", "uuid": image.uuid, "name": image.name, "status": image.status}
        for ref in image.backup_storage_refs:
            node = find(ref.get("node_uuid")) if ref.get("node_uuid") else None
            if node is not None:
                marked.add(node.uuid)
                add_root(node)
        for cache_key, node_uuid in getattr(cloud, "image_caches", {}).items():
            if cache_key.split(":", 1)[0] == image.uuid:
                node = find(node_uuid)
                if node is not None:
                    marked.add(node.uuid)
                    add_root(node)
    else:
        store = cloud.primary_storages.find(key) or cloud.backup_storages.find(key)
        if store is None:
            raise ViewError(f"no primary or backup storage {key!r}")
        store_kind = "primary_storage" if cloud.primary_storages.find(key) is store else "backup_storage"
        subject = {"kind": "storage", "uuid": store.uuid, "name": store.name, "storage_kind": store_kind}
        for node in cloud.nodes:
            if node.storage_uuid == store.uuid and node.parent_uuid is None:
                roots.append(node)
        if store_kind == "backup_storage":
            for group in getattr(cloud, "backup_groups", ()):
                if group.backup_storage_uuid == store.uuid:
                    groups.append(_group_view(cloud, group, set(), lambda node: None))
    storage_names = {s.uuid: s.name for coll in (cloud.primary_storages, cloud.backup_storages) for s in coll}
    kids = _children(cloud)
    max_depth = cloud.settings.max_chain_depth
    budget = [max(limit, 1)]
    trees = []
    drawn: list = []
    omitted_roots = 0
    for root in roots:
        if budget[0] <= 0:
            omitted_roots += 1
            continue
        trees.append(_tree(cloud, root, kids, drawn, storage_names, marked, budget, max_depth))
    _name_nodes(cloud, drawn)
    return {
        "subject": subject,
        "max_chain_depth": max_depth,
        "trees": trees,
        "backup_groups": groups,
        "deepest": max((_deepest(t) for t in trees), default=0),
        "nodes": len(drawn),
        "omitted_trees": omitted_roots,
        "truncated": budget[0] <= 0 and (omitted_roots > 0 or _any_omitted(trees)),
    }


def _group_view(cloud, group, marked: set[str], add_root) -> dict:
    """A backup group with its volume backups; their nodes join ``marked`` and their
    trees are added with ``add_root``."""
    members = []
    for record_uuid in group.backup_uuids:
        record = cloud.backups.find(record_uuid)
        if record is None:
            continue
        nodes = [ref.get("node_uuid") for ref in record.backup_storage_refs if ref.get("node_uuid")]
        members.append(
            {
                "uuid": record.uuid,
                "name": record.name,
                "type": record.type,
                "mode": record.mode,
                "size": record.size,
                "status": record.status,
                "nodes": nodes,
            }
        )
        for node_uuid in nodes:
            node = cloud.nodes.find(node_uuid)
            if node is not None:
                marked.add(node.uuid)
                add_root(node)
    return {"uuid": group.uuid, "name": group.name, "vm_uuid": group.vm_uuid, "backups": members}


def _any_omitted(trees: list[dict]) -> bool:
    stack = list(trees)
    while stack:
        node = stack.pop()
        if node["omitted"]:
            return True
        stack.extend(node["children"])
    return False


def change_token(app) -> str:
    """Changes whenever what the dashboard shows (but the clock) may have changed: an
    operation, a kept request (admin changes included), the fault plan's counts, the size
    of the cloud.  Cheap: the page polls with it and gets ``unchanged`` (and the clock)
    most of the time, which keeps a big cloud's lock free for its clients."""
    cloud = app.cloud
    journal = getattr(app, "request_journal", ())
    last_request = journal[-1]["seq"] if journal else 0
    injector = getattr(cloud, "faults", None)
    plan = injector.report() if injector is not None else []
    fault_counts = ",".join(f"{r.get('id')}/{r.get('calls', 0)}/{r.get('hits', 0)}" for r in plan)
    return (
        f"{cloud.journal_seq}:{len(cloud.journal)}:{last_request}:"
        f"{len(cloud.vms)}:{len(cloud.nodes)}:{fault_counts}"
    )


def default_subject(cloud) -> tuple[str, str] | None:
    """The tree shown before anyone chose: everything on the first primary storage (where
    clones grow), else the first VM, else the first image."""
    for store in cloud.primary_storages:
        return "storage", store.uuid
    for vm in cloud.vms:
        return "vm", vm.uuid
    for image in cloud.images:
        return "image", image.uuid
    return None


def clock(cloud) -> dict[str, Any]:
    return clock_view(cloud.clock)
