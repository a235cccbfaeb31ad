"""``fakestack``: the command line.

    fakestack inspect [--topology NAME|FILE] [--seed N]
    fakestack serve [--host 127.0.0.1] [--port 8080] [--topology NAME|FILE] [--seed N] [--state FILE]
                    [--record FILE] [--clock system|manual] [--tls]
    fakestack replay PATH... [--transcript DIR] [--report DIR]

Each subcommand is a pair of functions: ``add_<name>_command(subparsers)`` declares its
arguments and ``cmd_<name>(args) -> exit code`` runs it; ``COMMANDS`` lists the pairs, so a
new subcommand (``replay``, ``record``) is one more pair and one more line there.
Exit codes: 0 success, 1 a runtime failure (port taken), 2 bad input (usage, topology,
state file).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable, Sequence

# Re-exported: the exit codes and ``table`` live in .console (scenarios use them too).
from .console import EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_OK, human_bytes, table
from .version import __version__

# Shown by ``serve`` for a mounted dialect that does not expose ``default_credentials``.
DEFAULT_CREDENTIALS = {
    "zstack": {"account": "admin", "password": "password"},
    "vsphere": {"username": "administrator@vsphere.local", "password": "password"},
    "instavm": {"api_key": "instavm_sk_fakestack"},
}


# -- formatting -------------------------------------------------------------------------


def _number(value: float) -> str:
    return f"{value:g}"


def _section(title: str, count: int) -> str:
    return f"{title} ({count})"


def inventory_lines(cloud) -> list[str]:
    """The inventory: zones, clusters, hosts, storages, images, offerings, networks, VMs."""
    zone_name = {z.uuid: z.name for z in cloud.zones}
    cluster_name = {c.uuid: c.name for c in cloud.clusters}
    host_name = {h.uuid: h.name for h in cloud.hosts}
    bs_name = {b.uuid: b.name for b in cloud.backup_storages}
    lines: list[str] = []

    lines.append(_section("Zones", len(cloud.zones)))
    lines += table(("NAME", "STATE"), [(z.name, z.state) for z in cloud.zones])

    lines.append(_section("Clusters", len(cloud.clusters)))
    lines += table(
        ("NAME", "ZONE", "HYPERVISOR", "ARCH"),
        [
            (c.name, zone_name.get(c.zone_uuid, c.zone_uuid), c.hypervisor_type, c.architecture)
            for c in cloud.clusters
        ],
    )

    lines.append(_section("Hosts", len(cloud.hosts)))
    lines += table(
        ("NAME", "CLUSTER", "IP", "CORES", "RATIO", "VCPUS", "MEMORY", "RESERVED", "STATE"),
        [
            (
                h.name,
                cluster_name.get(h.cluster_uuid, h.cluster_uuid),
                h.management_ip,
                h.cpu_num,
                _number(h.cpu_ratio),
                h.total_cpu,
                human_bytes(h.total_memory),
                human_bytes(h.reserved_memory),
                f"{h.state}/{h.status}",
            )
            for h in cloud.hosts
        ],
        right=(3, 4, 5, 6, 7),
    )

    lines.append(_section("Primary storages", len(cloud.primary_storages)))
    lines += table(
        ("NAME", "TYPE", "CLUSTERS", "CAPACITY", "PHYSICAL", "RATIO", "THRESHOLD", "PROVISIONING", "STATE"),
        [
            (
                p.name,
                p.type,
                ",".join(cluster_name.get(u, u) for u in p.cluster_uuids) or "-",
                human_bytes(p.total_capacity),
                human_bytes(p.total_physical_capacity),
                _number(p.ratio),
                _number(p.physical_threshold),
                "thick" if p.default_thick else "thin",
                f"{p.state}/{p.status}",
            )
            for p in cloud.primary_storages
        ],
        right=(3, 4, 5, 6),
    )

    lines.append(_section("Backup storages", len(cloud.backup_storages)))
    lines += table(
        ("NAME", "TYPE", "HOSTNAME", "ZONES", "CAPACITY", "STATE"),
        [
            (
                b.name,
                b.type,
                b.hostname,
                ",".join(zone_name.get(u, u) for u in b.zone_uuids),
                human_bytes(b.total_capacity),
                f"{b.state}/{b.status}",
            )
            for b in cloud.backup_storages
        ],
        right=(4,),
    )

    lines.append(_section("Images", len(cloud.images)))
    lines += table(
        ("NAME", "FORMAT", "PLATFORM", "MEDIA", "VIRTUAL", "ACTUAL", "BACKUP STORAGES"),
        [
            (
                i.name,
                i.format,
                i.platform,
                i.media_type,
                human_bytes(i.virtual_size),
                human_bytes(i.actual_size),
                ",".join(
                    bs_name.get(r["backup_storage_uuid"], r["backup_storage_uuid"])
                    for r in i.backup_storage_refs
                )
                or "-",
            )
            for i in cloud.images
        ],
        right=(4, 5),
    )

    lines.append(_section("Instance offerings", len(cloud.instance_offerings)))
    lines += table(
        ("NAME", "VCPUS", "MEMORY"),
        [(o.name, o.cpu_num, human_bytes(o.memory_size)) for o in cloud.instance_offerings],
        right=(1, 2),
    )

    lines.append(_section("Disk offerings", len(cloud.disk_offerings)))
    lines += table(
        ("NAME", "SIZE"), [(d.name, human_bytes(d.disk_size)) for d in cloud.disk_offerings], right=(1,)
    )

    lines.append(_section("L3 networks", len(cloud.l3_networks)))
    lines += table(
        ("NAME", "ZONE", "CIDR", "GATEWAY", "USED", "FREE"),
        [
            (
                n.name,
                zone_name.get(n.zone_uuid, n.zone_uuid),
                n.cidr,
                n.gateway,
                len(n.used),
                n.last_ip - n.first_ip + 1 - len(n.used),
            )
            for n in cloud.l3_networks
        ],
        right=(4, 5),
    )

    lines.append(_section("VMs", len(cloud.vms)))
    offering_name = {o.uuid: o.name for o in cloud.instance_offerings}
    image_name = {i.uuid: i.name for i in cloud.images}
    nic_ip = {n.uuid: n.ip for n in cloud.nics}
    rows = []
    for vm in cloud.vms:
        rows.append(
            (
                vm.name,
                vm.state,
                host_name.get(vm.host_uuid, "-") if vm.host_uuid else "-",
                offering_name.get(vm.instance_offering_uuid, "-"),
                vm.cpu_num,
                human_bytes(vm.memory_size),
                image_name.get(vm.image_uuid, "-"),
                1 + len(vm.data_volume_uuids) if vm.root_volume_uuid else len(vm.data_volume_uuids),
                ",".join(nic_ip[u] for u in vm.nic_uuids if u in nic_ip) or "-",
            )
        )
    lines += table(
        ("NAME", "STATE", "HOST", "OFFERING", "VCPUS", "MEMORY", "IMAGE", "VOLUMES", "IPS"),
        rows,
        right=(4, 5, 7),
    )
    return lines


def capacity_lines(cloud) -> list[str]:
    """The capacity table: hosts CPU/memory, primary storage both ledgers, backup storage."""
    cap = cloud.capacity()
    # MEM FREE is what placement can still hand out: the reserve is not for VMs.
    lines = ["Host capacity"]
    lines += table(
        (
            "HOST",
            "CPU USED",
            "CPU TOTAL",
            "CPU FREE",
            "MEM USED",
            "MEM TOTAL",
            "MEM RESERVED",
            "MEM FREE",
            "VMS",
        ),
        [
            (
                h["name"],
                h["used_cpu"],
                h["total_cpu"],
                h["available_cpu"],
                human_bytes(h["used_memory"]),
                human_bytes(h["total_memory"]),
                human_bytes(h["reserved_memory"]),
                human_bytes(max(0, h["total_memory"] - h["used_memory"] - h["reserved_memory"])),
                h["vms"],
            )
            for h in cap["hosts"]
        ],
        right=range(1, 9),
    )
    lines.append("Primary storage capacity")
    lines += table(
        ("STORAGE", "VIRT USED", "VIRT TOTAL", "VIRT FREE", "PHYS USED", "PHYS TOTAL", "PHYS FREE"),
        [
            (
                p["name"],
                human_bytes(p["used_capacity"]),
                human_bytes(p["total_capacity"]),
                human_bytes(p["available_capacity"]),
                human_bytes(p["used_physical_capacity"]),
                human_bytes(p["total_physical_capacity"]),
                human_bytes(p["available_physical_capacity"]),
            )
            for p in cap["primary_storages"]
        ],
        right=range(1, 7),
    )
    lines.append("Backup storage capacity")
    lines += table(
        ("STORAGE", "TOTAL", "USED", "AVAILABLE"),
        [
            (
                b["name"],
                human_bytes(b["total_capacity"]),
                human_bytes(b["used_capacity"]),
                human_bytes(b["available_capacity"]),
            )
            for b in cap["backup_storages"]
        ],
        right=range(1, 4),
    )
    return lines


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def topology_summary(cloud) -> str:
    return ", ".join(
        (
            _plural(len(cloud.zones), "zone"),
            _plural(len(cloud.clusters), "cluster"),
            _plural(len(cloud.hosts), "host"),
            _plural(len(cloud.primary_storages), "primary storage"),
            _plural(len(cloud.backup_storages), "backup storage"),
            _plural(len(cloud.images), "image"),
            _plural(len(cloud.l3_networks), "network"),
            _plural(len(cloud.vms), "VM"),
        )
    )


# -- shared arguments --------------------------------------------------------------------


def _add_cloud_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--topology",
        default="demo",
        metavar="NAME|FILE",
        help="a preset (demo, tiny, scale:HOSTS:VMS) or a YAML/JSON file (default: demo)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        metavar="N",
        help="seed of the id generator and the random allocator (default: 0)",
    )


def _build_cloud(args: argparse.Namespace, recording: bool = False, clock: str = "manual"):
    """The cloud, or an error message for stderr.  A recording cloud runs on a manual
    clock that the recorder moves with the wall clock (see ``fakestack.scenarios``)."""
    from .model import Cloud, DomainError, TopologyError

    try:
        if recording:
            from .scenarios import recording_cloud

            return recording_cloud(args.topology, seed=args.seed), None
        return Cloud(args.topology, seed=args.seed, clock=clock), None
    except TopologyError as exc:
        return None, str(exc)
    except DomainError as exc:
        return None, f"topology {args.topology} cannot be built: {exc}"
    except OSError as exc:
        return None, f"cannot read topology {args.topology}: {exc}"


def _fail(message: str, code: int = EXIT_BAD_INPUT) -> int:
    print(f"fakestack: {message}", file=sys.stderr)
    return code


# -- inspect -----------------------------------------------------------------------------


def add_inspect_command(subparsers) -> None:
    parser = subparsers.add_parser(
        "inspect",
        help="build a cloud and print its inventory and capacity",
        description="Build the cloud from a topology and print its inventory and capacity table.",
    )
    _add_cloud_arguments(parser)


def cmd_inspect(args: argparse.Namespace) -> int:
    cloud, error = _build_cloud(args)
    if error:
        return _fail(error)
    topo = cloud.topology
    out = [f"fakestack {__version__}: topology {topo.name} (seed {cloud.seed})"]
    if topo.description:
        out.append(topo.description)
    out.append(topology_summary(cloud))
    out.append("")
    out += inventory_lines(cloud)
    out.append("")
    out += capacity_lines(cloud)
    print("\n".join(out))
    return EXIT_OK


# -- serve -------------------------------------------------------------------------------


def add_serve_command(subparsers) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="serve the fake clouds over HTTP",
        description="Serve every dialect and the /_fakestack admin API on a threaded local "
        "server until Ctrl-C.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument(
        "--port",
        type=port_number,
        default=8080,
        help="port to listen on, 0-65535; 0 picks a free one (default: 8080)",
    )
    _add_cloud_arguments(parser)
    parser.add_argument(
        "--state",
        metavar="FILE",
        help="restore from FILE if it exists; save to it after every mutating request",
    )
    parser.add_argument(
        "--max-body-bytes",
        type=_positive_int,
        default=None,
        metavar="N",
        help="largest request body served; a larger one is answered 413 (default: 16 MiB)",
    )
    parser.add_argument(
        "--idle-timeout",
        type=_positive_float,
        default=30.0,
        metavar="SECONDS",
        help="close a connection idle this long (default: 30)",
    )
    parser.add_argument(
        "--admin-token",
        metavar="TOKEN",
        help="require TOKEN in the X-Fakestack-Admin-Token header of every "
        "/_fakestack request (needed when --host is not a loopback address)",
    )
    parser.add_argument(
        "--insecure-admin",
        action="store_true",
        help="serve a non-loopback --host with the admin API open to anyone "
        "who can reach it (no --admin-token)",
    )
    parser.add_argument(
        "--webhook-host",
        action="append",
        default=[],
        metavar="HOST",
        help="a host ZStack X-Web-Hook URLs may name besides the loopback (repeatable)",
    )
    parser.add_argument(
        "--record",
        metavar="FILE",
        help="write every request and response served to FILE as a scenario "
        "(replay it with: fakestack replay FILE)",
    )
    parser.add_argument(
        "--clock",
        choices=("system", "manual"),
        default="system",
        help="system: the real time (default); manual: starts at "
        "2026-01-01T00:00:00Z and moves only by POST /_fakestack/clock",
    )
    parser.add_argument(
        "--tls",
        action="store_true",
        help="serve https with a self-signed certificate made at start "
        "(needs the cryptography package; clients must not verify it)",
    )


def port_number(text: str) -> int:
    """A TCP port, 0-65535 (argparse type)."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid port {text!r}: not a number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"invalid port {port}: must be from 0 to 65535")
    return port


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text}")
    return value


def dialect_credentials(dialect) -> dict:
    creds = getattr(dialect, "default_credentials", None)
    if callable(creds):
        creds = creds()
    if isinstance(creds, dict) and creds:
        return dict(creds)
    return dict(DEFAULT_CREDENTIALS.get(dialect.name, {}))


def serve_banner(server, restored: bool) -> list[str]:
    cloud = server.cloud
    lines = [
        f"fakestack {__version__} serving at {server.url}",
        f"topology {cloud.topology.name} (seed {cloud.seed}): {topology_summary(cloud)}",
    ]
    if server.state_file is not None:
        verb = "restored from and saved to" if restored else "saved to"
        lines.append(f"state {verb} {server.state_file}")
    if server.app.dialects:
        lines.append("dialects (default credentials, then the paths each one serves):")
        width = max(len(d.name) for d in server.app.dialects)
        for dialect in server.app.dialects:
            creds = dialect_credentials(dialect)
            lines.append(
                f"  {dialect.name.ljust(width)}  "
                + ("  ".join(f"{k}={v}" for k, v in creds.items()) or "(none)")
            )
            lines.append(f"  {' ' * width}  " + " ".join(dialect.prefixes))
    else:
        lines.append("dialects: none mounted")
    lines.append(
        f"admin API: {server.url}/_fakestack/ (health, state, reset, clock, journal, invariants, capacity)"
    )
    lines.append(f"dashboard: {server.url}/_fakestack/ui")
    if server.app.admin_token is not None:
        lines.append("admin API needs the X-Fakestack-Admin-Token header (--admin-token)")
    elif not _loopback(server.host):
        lines.append("WARNING: the admin API is open to anyone who can reach this address (--insecure-admin)")
    lines.append("press Ctrl-C to stop")
    return lines


def _loopback(host: str) -> bool:
    from .server import is_loopback_host

    return is_loopback_host(host)


def cmd_serve(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .server import StateFileError, is_loopback_host, start_server

    if args.admin_token is not None and not args.admin_token:
        return _fail("--admin-token must not be empty")
    if not is_loopback_host(args.host) and args.admin_token is None and not args.insecure_admin:
        return _fail(
            f"--host {args.host} is not a loopback address: anyone who reaches it could "
            "reset, time-travel and read the cloud through /_fakestack; give "
            "--admin-token TOKEN, or --insecure-admin to serve it open"
        )
    restored = args.state is not None and Path(args.state).exists()
    if args.record and args.state:
        return _fail("--record starts from a fresh cloud: it cannot be combined with --state")
    if args.record and args.clock == "manual":
        return _fail(
            "--record runs its own clock (moved with the real time and written as "
            "tick steps): it cannot be combined with --clock manual"
        )
    cloud, error = _build_cloud(args, recording=bool(args.record), clock=args.clock)
    if error:
        return _fail(error)
    app = None
    if args.record:
        from .scenarios import record_app

        app = record_app(cloud, args.record)

    def log(line: str) -> None:
        try:
            print(line, flush=True)
        except OSError:  # stdout went away (a closed pipe): keep serving
            pass

    # Handlers first: a Ctrl-C at any moment from here on is a clean stop, not a traceback.
    stop = threading.Event()
    previous = {}

    def request_stop(signum, frame) -> None:
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.signal(sig, request_stop)
    try:
        try:
            server = start_server(
                cloud,
                host=args.host,
                port=args.port,
                state_file=args.state,
                log=log,
                app=app,
                tls=args.tls,
                idle_timeout=args.idle_timeout,
                max_body_bytes=args.max_body_bytes,
                admin_token=args.admin_token,
            )
        except StateFileError as exc:
            return _fail(str(exc))
        except RuntimeError as exc:  # --tls without the cryptography package
            return _fail(str(exc), EXIT_FAILURE)
        except OSError as exc:
            return _fail(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", EXIT_FAILURE)
        for host in args.webhook_host:
            for dialect in server.app.dialects:
                if hasattr(dialect, "allow_webhook_host"):
                    with cloud.lock:
                        dialect.allow_webhook_host(host)
        try:
            print("\n".join(serve_banner(server, restored)), flush=True)
            if args.record:
                print(f"recording every request to {args.record} (a scenario)", flush=True)
            elif cloud.clock.kind == "manual":
                print(
                    f"manual clock at {cloud.clock.now_datetime().isoformat()}: it moves only "
                    "by POST /_fakestack/clock",
                    flush=True,
                )
            while not stop.wait(0.5):
                pass
        finally:
            server.stop()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("fakestack: stopped", flush=True)
    return EXIT_OK


# -- replay (fakestack.scenarios) ---------------------------------------------------------


def add_replay_command(subparsers) -> None:
    from .scenarios import add_replay_command as add

    add(subparsers)


def cmd_replay(args: argparse.Namespace) -> int:
    from .scenarios import cmd_replay as run

    return run(args)


# -- entry point -------------------------------------------------------------------------

COMMANDS: list[tuple[str, Callable, Callable[[argparse.Namespace], int]]] = [
    ("inspect", add_inspect_command, cmd_inspect),
    ("serve", add_serve_command, cmd_serve),
    ("replay", add_replay_command, cmd_replay),
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fakestack",
        description="A deterministic fake of virtualization clouds (ZStack, vSphere, InstaVM).",
    )
    parser.add_argument("--version", action="version", version=f"fakestack {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name, add, run in COMMANDS:
        add(subparsers)
        subparsers.choices[name].set_defaults(run=run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except BrokenPipeError:
        # The reader went away (``fakestack inspect | head``): stop quietly.
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
