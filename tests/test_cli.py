"""The ``fakestack`` command: inspect (in process) and serve (as a subprocess)."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from fakestack import Cloud, ManualClock
from fakestack.app import make_app
from fakestack.cli import dialect_credentials, human_bytes, main, serve_banner
from fakestack.server import start_server

GiB = 1024**3


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


# -- inspect ----------------------------------------------------------------------------


def test_inspect_demo_prints_inventory_and_capacity(capsys):
    code, lines, err = run_cli(capsys, "inspect")
    assert (code, err) == (0, "")
    assert lines[:3] == [
        "fakestack 0.1.0: topology demo (seed 0)",
        "one zone, two clusters, four hosts, local + NFS storage, a golden VM",
        "1 zone, 2 clusters, 4 hosts, 2 primary storages, 1 backup storage, 2 images, 1 network, 1 VM",
    ]
    for section in (
        "Zones (1)",
        "Clusters (2)",
        "Hosts (4)",
        "Primary storages (2)",
        "Backup storages (1)",
        "Images (2)",
        "Instance offerings (3)",
        "Disk offerings (2)",
        "L3 networks (1)",
        "VMs (1)",
        "Host capacity",
        "Primary storage capacity",
        "Backup storage capacity",
    ):
        assert section in lines
    assert (
        "  host-3  cluster-shared  10.0.0.13     64     10    640  256 GiB     1 GiB  Enabled/Connected"
        in lines
    )
    assert "  golden  Running  host-3  medium        2   4 GiB  centos-7        2  192.168.100.2" in lines
    assert "  centos-7      qcow2   Linux     root_template   40 GiB   2 GiB  imagestore" in lines
    host_cap = lines.index("Host capacity")
    assert lines[host_cap + 1 : host_cap + 6] == [
        "  HOST    CPU USED  CPU TOTAL  CPU FREE  MEM USED  MEM TOTAL  MEM RESERVED  MEM FREE  VMS",
        "  host-1         0        320       320       0 B    128 GiB         1 GiB   127 GiB    0",
        "  host-2         0        160       160       0 B     64 GiB         1 GiB    63 GiB    0",
        "  host-3         2        640       638     4 GiB    256 GiB         1 GiB   251 GiB    1",
        "  host-4         0         80        80       0 B     32 GiB         1 GiB    31 GiB    0",
    ]
    ps_cap = lines.index("Primary storage capacity")
    assert lines[ps_cap + 1 : ps_cap + 4] == [
        "  STORAGE   VIRT USED  VIRT TOTAL  VIRT FREE  PHYS USED  PHYS TOTAL  PHYS FREE",
        "  local-ps        0 B       2 TiB      2 TiB        0 B       2 TiB      2 TiB",
        "  nfs-ps       62 GiB       4 TiB   3.94 TiB   2.50 GiB       4 TiB  3.998 TiB",
    ]
    bs_cap = lines.index("Backup storage capacity")
    assert lines[bs_cap + 1 :] == [
        "  STORAGE     TOTAL   USED  AVAILABLE",
        "  imagestore  2 TiB  3 GiB  1.997 TiB",
    ]


def test_the_printed_demo_figures_are_the_models():
    cloud = Cloud("demo")
    cap = cloud.capacity()
    nfs = next(p for p in cap["primary_storages"] if p["name"] == "nfs-ps")
    assert nfs["used_capacity"] == 62 * GiB
    assert nfs["available_capacity"] == 4 * 1024 * GiB - 62 * GiB
    assert cap["backup_storages"][0]["used_capacity"] == 3 * GiB


def test_inspect_tiny(capsys):
    code, lines, err = run_cli(capsys, "inspect", "--topology", "tiny", "--seed", "7")
    assert (code, err) == (0, "")
    assert lines[0] == "fakestack 0.1.0: topology tiny (seed 7)"
    assert lines[2] == (
        "1 zone, 1 cluster, 1 host, 1 primary storage, 1 backup storage, 1 image, 1 network, 1 VM"
    )
    host_cap = lines.index("Host capacity")
    assert lines[host_cap + 2] == (
        "  host-1         1         40        39     2 GiB     10 GiB         1 GiB     7 GiB    1"
    )
    ps_cap = lines.index("Primary storage capacity")
    assert lines[ps_cap + 2] == (
        "  nfs-ps      11 GiB     100 GiB     89 GiB  1.001 GiB     100 GiB  98.999 GiB"
    )
    assert lines[-1] == "  imagestore  20 GiB  1 GiB     19 GiB"


def test_inspect_reads_a_topology_file(capsys, tmp_path):
    path = tmp_path / "lab.yaml"
    path.write_text(
        "zones: [{name: z1}]\n"
        "clusters: [{name: c1, zone: z1}]\n"
        "hosts: [{name: h1, cluster: c1, cpu_num: 2, memory: 8G}]\n"
        "primary_storages: [{name: ps, type: NFS, clusters: [c1], total_capacity: 500G}]\n"
        "backup_storages: [{name: bs, total_capacity: 1T}]\n"
    )
    code, lines, err = run_cli(capsys, "inspect", "--topology", str(path))
    assert (code, err) == (0, "")
    assert lines[0] == "fakestack 0.1.0: topology lab (seed 0)"
    host_cap = lines.index("Host capacity")
    assert lines[host_cap + 2].split() == [
        "h1",
        "0",
        "20",
        "20",
        "0",
        "B",
        "8",
        "GiB",
        "1",
        "GiB",
        "7",
        "GiB",
        "0",
    ]
    assert "VMs (0)" in lines


def test_a_bad_topology_prints_its_errors_and_exits_2(capsys, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(
        "zones: [{name: z}]\n"
        "clusters: [{name: c, zone: z}]\n"
        "hosts: [{name: h, cluster: c, cpu_num: 0, memory: 10G}]\n"
    )
    code, lines, err = run_cli(capsys, "inspect", "--topology", str(path))
    assert code == 2 and lines == []
    assert err.splitlines() == [
        f"fakestack: invalid {path}:",
        "  hosts[0].cpu_num: Input should be greater than 0",
    ]


def test_a_dangling_reference_names_the_field(capsys, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("zones: [{name: z}]\nclusters: [{name: c, zone: nowhere}]\n")
    code, _, err = run_cli(capsys, "inspect", "--topology", str(path))
    assert code == 2
    assert "clusters[0].zone: unknown zone 'nowhere'" in err
    assert "Traceback" not in err


def test_an_unknown_preset_exits_2(capsys):
    code, lines, err = run_cli(capsys, "inspect", "--topology", "nope")
    assert (code, lines) == (2, [])
    assert err.splitlines() == [
        "fakestack: invalid topology:",
        "  topology: 'nope' is neither a preset (demo, tiny, shared, scale:HOSTS:VMS) nor a file",
    ]


def test_no_subcommand_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main([])
    assert exc.value.code == 2
    assert "required: COMMAND" in capsys.readouterr().err


@pytest.mark.parametrize(
    "n, text",
    [
        (0, "0 B"),
        (512, "512 B"),
        (1536, "1.5 KiB"),
        (40 * GiB, "40 GiB"),
        (GiB + 1024**2, "1.001 GiB"),
        (int(2.5 * GiB) + 1024**2, "2.50 GiB"),
        (4 * 1024 * GiB - int(2.5 * GiB), "3.998 TiB"),
        (1024**4 + 1, "1.000 TiB"),
    ],
)
def test_human_bytes(n, text):
    assert human_bytes(n) == text


def test_the_console_script_runs_inspect():
    script = Path(sys.executable).parent / "fakestack"
    if not script.exists():
        pytest.skip("the fakestack console script is not installed beside this python")
    done = subprocess.run(
        [str(script), "inspect", "--topology", "tiny"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0
    assert done.stdout.splitlines()[0] == "fakestack 0.1.0: topology tiny (seed 0)"


# -- serve: banner ----------------------------------------------------------------------


class _Named:
    def __init__(self, name, prefixes, creds=None):
        self.name, self.prefixes = name, prefixes
        if creds is not None:
            self.default_credentials = creds

    def handle(self, request):  # pragma: no cover - never routed to in these tests
        raise AssertionError


def test_credentials_come_from_the_dialect_or_the_known_defaults():
    assert dialect_credentials(_Named("zstack", ("/zstack",))) == {"account": "admin", "password": "password"}
    assert dialect_credentials(_Named("vsphere", ("/rest",))) == {
        "username": "administrator@vsphere.local",
        "password": "password",
    }
    assert dialect_credentials(_Named("instavm", ("/v1",))) == {"api_key": "instavm_sk_fakestack"}
    assert dialect_credentials(_Named("zstack", ("/zstack",), {"account": "ops", "password": "s3"})) == {
        "account": "ops",
        "password": "s3",
    }
    assert dialect_credentials(_Named("other", ("/x",))) == {}


def test_serve_banner_shows_url_topology_credentials_and_paths():
    cloud = Cloud("tiny", clock=ManualClock())
    app = make_app(cloud, dialects=[_Named("zstack", ("/zstack",)), _Named("other", ("/x", "/y"))])
    with start_server(cloud, app=app) as server:
        assert serve_banner(server, restored=False) == [
            f"fakestack 0.1.0 serving at {server.url}",
            "topology tiny (seed 0): 1 zone, 1 cluster, 1 host, 1 primary storage, 1 backup "
            "storage, 1 image, 1 network, 1 VM",
            "dialects (default credentials, then the paths each one serves):",
            "  zstack  account=admin  password=password",
            "          /zstack",
            "  other   (none)",
            "          /x /y",
            f"admin API: {server.url}/_fakestack/ (health, state, reset, clock, journal, "
            "invariants, capacity)",
            f"dashboard: {server.url}/_fakestack/ui",
            "press Ctrl-C to stop",
        ]


# -- serve: a real process --------------------------------------------------------------


class ServeProcess:
    """``fakestack serve`` in a subprocess; a thread collects its stdout lines."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "fakestack.cli", "serve", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self.lines: list[str] = []
        self._queue: queue.Queue = queue.Queue()
        self._reader = threading.Thread(target=self._pump, daemon=True)
        self._reader.start()
        first = self.read_line(timeout=60)
        assert first.startswith("fakestack 0.1.0 serving at http://127.0.0.1:"), first
        self.url = first.rsplit(" ", 1)[1]

    def _pump(self) -> None:
        for line in self.proc.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def read_line(self, timeout: float = 10) -> str:
        try:
            line = self._queue.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no output from serve within {timeout}s; got {self.lines}") from None
        if line is None:
            self._queue.put(None)
            raise AssertionError(f"serve ended; got {self.lines}")
        self.lines.append(line)
        return line

    def read_until(self, text: str, timeout: float = 10) -> None:
        while text not in self.lines:
            self.read_line(timeout)

    def finish(self, sig=signal.SIGINT, timeout: float = 20) -> tuple[int, list[str], str]:
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout=timeout)
        self._reader.join(timeout)
        while True:
            line = self._queue.get_nowait()
            if line is None:
                break
            self.lines.append(line)
        return code, self.lines, self.proc.stderr.read()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=20)
        self._reader.join(20)
        self.proc.stdout.close()
        self.proc.stderr.close()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_serve_answers_health_and_stops_cleanly(sig):
    server = ServeProcess("--topology", "tiny", "--seed", "3")
    try:
        server.read_until("press Ctrl-C to stop")
        health = httpx.get(server.url + "/_fakestack/health", timeout=10)
        assert health.status_code == 200
        assert (health.json()["topology"], health.json()["seed"]) == ("tiny", 3)
        server.read_until("127.0.0.1 GET /_fakestack/health -> 200 [admin]")
        code, lines, err = server.finish(sig)
    finally:
        server.kill()
    assert code == 0, err
    assert lines[-1] == "fakestack: stopped"
    assert lines[1] == (
        "topology tiny (seed 3): 1 zone, 1 cluster, 1 host, 1 primary storage, "
        "1 backup storage, 1 image, 1 network, 1 VM"
    )
    assert "Traceback" not in err


def test_serve_with_state_survives_a_kill(tmp_path):
    state = tmp_path / "state.json"
    first = ServeProcess("--state", str(state))
    try:
        first.read_until("press Ctrl-C to stop")
        assert f"state saved to {state}" in first.lines
        with httpx.Client(base_url=first.url, timeout=10) as http:
            assert http.post("/_fakestack/clock", json={"advance": 3600}).status_code == 200
            acknowledged = http.get("/_fakestack/state").json()
    finally:
        first.proc.send_signal(signal.SIGKILL)
        first.kill()
    assert json.loads(state.read_text()) == acknowledged
    second = ServeProcess("--state", str(state), "--topology", "tiny")
    try:
        second.read_until("press Ctrl-C to stop")
        assert f"state restored from and saved to {state}" in second.lines
        with httpx.Client(base_url=second.url, timeout=10) as http:
            assert http.get("/_fakestack/state").json() == acknowledged  # the file wins
        code, _, err = second.finish()
    finally:
        second.kill()
    assert code == 0, err


def test_serve_with_a_bad_topology_exits_2(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "fakestack.cli", "serve", "--port", "0", "--topology", "nope"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines()[0] == "fakestack: invalid topology:"


def test_serve_with_an_unreadable_state_file_exits_2(tmp_path):
    state = tmp_path / "state.json"
    state.write_text("not json")
    done = subprocess.run(
        [sys.executable, "-m", "fakestack.cli", "serve", "--port", "0", "--state", str(state)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.startswith(f"fakestack: cannot read state file {state}: ")
    assert state.read_text() == "not json"  # left for the user to look at


def test_serve_on_a_taken_port_exits_1(capsys):
    with start_server(Cloud("tiny")) as taken:
        code = main(["serve", "--port", str(taken.port), "--topology", "tiny"])
    out, err = capsys.readouterr()
    assert code == 1
    assert err.startswith(f"fakestack: cannot listen on 127.0.0.1:{taken.port}: ")
    assert out == ""


def test_serve_with_a_state_file_in_a_missing_folder_exits_2(capsys, tmp_path):
    state = tmp_path / "missing" / "state.json"
    code = main(["serve", "--port", "0", "--topology", "tiny", "--state", str(state)])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert err.startswith(f"fakestack: cannot write state file {state}: [Errno 2] No such file or directory")


def test_the_credentials_serve_shows_log_in_to_each_mounted_dialect():
    import base64
    import hashlib

    from werkzeug.test import Client

    from fakestack.app import make_app

    app = make_app(Cloud("demo"))
    client = Client(app)
    creds = {d.name: dialect_credentials(d) for d in app.dialects}
    assert sorted(creds) == ["instavm", "vsphere", "zstack"]
    zstack = client.put(
        "/zstack/v1/accounts/login",
        json={
            "logInByAccount": {
                "accountName": creds["zstack"]["account"],
                "password": hashlib.sha512(creds["zstack"]["password"].encode()).hexdigest(),
            }
        },
    )
    assert zstack.status_code == 200, zstack.get_data(as_text=True)
    basic = base64.b64encode(
        f"{creds['vsphere']['username']}:{creds['vsphere']['password']}".encode()
    ).decode()
    vsphere = client.post("/rest/com/vmware/cis/session", headers={"Authorization": f"Basic {basic}"})
    assert vsphere.status_code == 200, vsphere.get_data(as_text=True)
    instavm = client.get("/v1/vms", headers={"X-API-Key": creds["instavm"]["api_key"]})
    assert instavm.status_code == 200, instavm.get_data(as_text=True)
    assert client.get("/v1/vms", headers={"X-API-Key": "wrong"}).status_code == 401
