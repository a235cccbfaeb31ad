"""The ZStack coverage document: which in-scope APIs of the reference catalogue the fake
serves (``docs/coverage/zstack.md``), generated from the dialect's catalogue.

    python -m fakestack.dialects.zstack.coverage            # write docs/coverage/zstack.md
    python -m fakestack.dialects.zstack.coverage --check    # exit 1 when the file is stale

The reference action list is ``shared/reference/zstack_api_catalog.json`` beside the
checkout (or the file ``--reference`` / ``$FAKESTACK_ZSTACK_CATALOG`` names).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from .catalog import APIS

ROOT = Path(__file__).resolve().parents[3]
DOCUMENT = ROOT / "docs" / "coverage" / "zstack.md"
REFERENCE = ROOT.parent / "shared" / "reference" / "zstack_api_catalog.json"

# The scope rule, in two parts.  (1) The resource families of issue 16 (VMs, volumes,
# snapshots, images, backups, hosts, storage, capacity, offerings, networks, sessions), by
# the first segment of the API's path.
FAMILIES: dict[str, str] = {
    "vm-instances": "VMs",
    "volumes": "volumes",
    "volume-snapshots": "snapshots",
    "images": "images",
    "vm-backups": "backups",
    "volume-backups": "backups",
    "hosts": "hosts",
    "primary-storage": "storage",
    "backup-storage": "storage",
    "zones": "infrastructure",
    "clusters": "infrastructure",
    "instance-offerings": "offerings",
    "disk-offerings": "offerings",
    "l3-networks": "networks",
    "accounts": "sessions",
    "accesskeys": "sessions",
    "management-nodes": "sessions",
    "nics": "VMs",
}
# (2) Within those families, the features beyond the life cycle that provisioning and
# backup tools drive: an API whose name contains one of these words is out of scope
# (vendor storage back-ends, consoles and guest agents, device passthrough, HA and fault
# tolerance, tuning knobs, identity administration, virtual routers and network services).
EXCLUDED_WORDS: tuple[str, ...] = (
    "Aliyun",
    "Ceph",
    "Nas",
    "Block",
    "Mini",
    "External",
    "Simulator",
    "XDragon",
    "Kvm",
    "KVM",
    "Bonding",
    "Numa",
    "NUMA",
    "Pci",
    "Mdev",
    "Usb",
    "Scsi",
    "Lun",
    "Iscsi",
    "Nvme",
    "Console",
    "Qga",
    "RDP",
    "Ssh",
    "Xml",
    "Guest",
    "Emulator",
    "Monitor",
    "Sound",
    "Qxl",
    "Clock",
    "FaultTolerance",
    "HaLevel",
    "HaState",
    "Vf",
    "Security",
    "Cdp",
    "VirtualRouter",
    "ApplianceVm",
    "VRouter",
    "Eip",
    "Affinity",
    "Trash",
    "License",
    "RecoveryPoint",
    "Iso",
    "CdRom",
    "Qos",
    "IoThread",
    "Hostname",
    "Password",
    "Priority",
    "Capabilities",
    "Task",
    "Ldap",
    "Iam",
    "Hybrid",
    "Sftp",
    "Baremetal",
    "Vcenter",
    "Schedul",
    "Quota",
    "Policy",
    "Policies",
    "Role",
    "Project",
    "Organization",
    "Ticket",
    "Billing",
    "Price",
    "Captcha",
    "TwoFactor",
    "DRS",
    "AppBuildSystem",
    "Slb",
    "Share",
    "Power",
    "Ipmi",
    "Factory",
    "NetworkService",
    "NetworkInterface",
    "Account",
    "User",
)
# Sessions are in scope by name even where the rule above would drop them.
ALWAYS_IN_SCOPE = ("LogInByAccount", "LogInByUser", "LogOut", "ValidateSession", "RenewSession")

SCOPE_RULE = """\
An API of the reference catalogue is **in scope** when

1. the first segment of its path is one of the resource families of issue 16:
   {families}; and
2. its name contains none of these words, which mark features beyond the life cycle that
   provisioning and backup tools drive (vendor storage back-ends, consoles and guest
   agents, device passthrough, HA and fault tolerance, tuning knobs, identity
   administration, virtual routers and network services):
   {words}.

The session APIs ({sessions}) are in scope whatever rule 2 says, and so is every API the
fake serves (its own catalogue: `fakestack/dialects/zstack/catalog.py`)."""


def in_scope(name: str, entry: dict[str, Any]) -> bool:
    if name in APIS or name in ALWAYS_IN_SCOPE:
        return True
    segment = entry["path"].split("/")[1] if entry["path"].count("/") else ""
    return segment in FAMILIES and not any(word in name for word in EXCLUDED_WORDS)


def family_of(entry: dict[str, Any]) -> str:
    return FAMILIES.get(entry["path"].split("/")[1], "other")


def load_reference(path: Path | None = None) -> dict[str, dict[str, Any]]:
    path = path or Path(os.environ.get("FAKESTACK_ZSTACK_CATALOG", REFERENCE))
    data = json.loads(path.read_text(encoding="utf-8"))
    return {name: entry for name, entry in data.items() if not name.startswith("_")}


def build(reference: dict[str, dict[str, Any]]) -> str:
    """The document's text (deterministic: sorted, no dates)."""
    scope = {name: entry for name, entry in reference.items() if in_scope(name, entry)}
    served = sorted(name for name in scope if name in APIS)
    families = sorted({family_of(e) for e in scope.values()})
    lines = [
        "# ZStack API coverage",
        "",
        "Generated by `python -m fakestack.dialects.zstack.coverage` from the dialect's catalogue "
        "and the reference action list (`shared/reference/zstack_api_catalog.json`, "
        f"{len(reference)} APIs of the ZStack 5.2.1 Java SDK); do not edit by hand. "
        "`tests/zstack/test_zstack_coverage.py` fails when it is stale.",
        "",
        f"**{len(served)} of {len(scope)} in-scope APIs served** "
        f"({len(APIS)} served in all; {len(reference)} in the reference).",
        "",
        "## Scope",
        "",
        SCOPE_RULE.format(
            families=", ".join(f"`{f}`" for f in FAMILIES),
            words=", ".join(f"`{w}`" for w in EXCLUDED_WORDS),
            sessions=", ".join(f"`{s}`" for s in ALWAYS_IN_SCOPE),
        ),
        "",
        "## Unserved APIs",
        "",
        "An API the fake does not serve answers as the real server answers an API it does not "
        "know, in plain text: `404 no api mapping to /v1/<path>` when no served API has its "
        "path; `405 The method[<M>] is not allowed for the path[/v1/<path>]` when served APIs "
        "have its path with other methods only; `400 the body doesn't contain action mapping "
        "to the URL[<url>]` for a `PUT` on an `.../actions` path whose served APIs' action keys "
        "the body lacks. It is never answered as a different API (the route table knows every "
        "path of the real API). Through the legacy endpoint (`/zstack/api`) an unserved message "
        "class is one the server cannot load: `200` with the plain text `Unable to deserialize "
        "class <message class>`.",
        "",
        "## By family",
        "",
        "| family | served | in scope |",
        "|---|---:|---:|",
    ]
    for family in families:
        names = [n for n, e in scope.items() if family_of(e) == family]
        lines.append(f"| {family} | {sum(n in APIS for n in names)} | {len(names)} |")
    lines += ["", "## Every in-scope API", ""]
    for family in families:
        names = sorted(n for n, e in scope.items() if family_of(e) == family)
        lines += [f"### {family}", "", "| API | method | path | async | served |", "|---|---|---|---|---|"]
        for name in names:
            entry = scope[name]
            mark = "yes" if name in APIS else "no"
            lines.append(
                f"| {name} | {entry['method']} | `{entry['path']}` | "
                f"{'async' if entry['async'] else 'sync'} | {mark} |"
            )
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m fakestack.dialects.zstack.coverage", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--reference", type=Path, default=None, help="the reference catalogue (JSON)")
    parser.add_argument("--output", type=Path, default=DOCUMENT, help="where the document goes")
    parser.add_argument("--check", action="store_true", help="exit 1 when the document is stale")
    args = parser.parse_args(argv)
    text = build(load_reference(args.reference))
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(
                f"{args.output} is stale: run python -m fakestack.dialects.zstack.coverage", file=sys.stderr
            )
            return 1
        print(f"{args.output} is up to date")
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
