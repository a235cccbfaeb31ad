"""Scaling benchmarks (not tests): run ``python benchmarks/bench_scale.py``.

One run measures everything that issue 18 sets a goal for, so that the figures are
comparable on a busy machine (compare the ratios, not the absolute figures):

* the scaling table at 1k / 10k / 100k VMs (``scale:N/50:N``): linked clone and instant
  clone through the Python API, ZStack QueryVmInstance in process by name (the indexed
  query every other one is compared with), by state with ``limit``, with a condition,
  ``start``, ``sort`` and ``limit``, sorted on createDate (and, with a condition and
  ``start``, on lastOpDate), with ``fields``, ``count=true``; the vSphere VM list
  filtered by name and by power state; snapshot + JSON and restore;
* the per-call goals on ``demo``: QueryVmInstance and the CloneVmInstance submit against a
  bare werkzeug JSON request, each measured two ways in process ((a) the WSGI callable with a
  prepared environ, (b) werkzeug's test client, the way issue 18's figures were taken),
  CloneVmInstance with one name through the Python API;
* building ``scale:2000:100000``, ``import fakestack``, ``fakestack serve`` to its first
  answer, the pytest fixtures' cost per test;
* a moto side-by-side (EC2 RunInstances / DescribeInstances by tag, in process), moto
  installed in a virtual environment of its own under the user's cache folder; skipped
  with a message when it cannot be made (``--no-moto`` skips it on purpose).

Every figure is the min / median of 5 rounds of CPU time (``time.process_time``), except
the cold-start figures, which are wall time of a fresh interpreter.
"""

from __future__ import annotations

import argparse
import base64
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
ROOT = Path(__file__).resolve().parent.parent

from bench_http import (  # noqa: E402
    PREFIX,
    InProcess,
    Wsgi,
    bare_app,
    clone_bodies,
    environ_for,
    poll_path,
)
from werkzeug.test import Client  # noqa: E402

from fakestack import Cloud, ManualClock  # noqa: E402
from fakestack.app import make_app  # noqa: E402
from fakestack.model.presets import scale  # noqa: E402

ROUNDS = 5


def rounds(measure, n: int = ROUNDS) -> tuple[float, float]:
    """(min, median) of ``n`` calls of ``measure`` (each returns seconds)."""
    figures = [measure() for _ in range(n)]
    return min(figures), statistics.median(figures)


def cpu(fn, repeat: int = 1) -> float:
    gc.collect()
    t0 = time.process_time()
    for _ in range(repeat):
        fn()
    return (time.process_time() - t0) / repeat


# -- the scaling table ----------------------------------------------------------------------


class ScaleSide:
    """A ``scale:N/50:N`` cloud behind the app, logged in to ZStack and vSphere."""

    def __init__(self, dump: dict) -> None:
        self.cloud = Cloud.restore(dump)
        self.wsgi = Wsgi(make_app(self.cloud))
        body = json.dumps({"logInByAccount": {"accountName": "admin", "password": _PASSWORD_HASH}}).encode()
        status, data = self.wsgi.call(environ_for("PUT", f"{PREFIX}/accounts/login", body=body), body)
        assert status == 200, data
        self.session = json.loads(data)["inventory"]["uuid"]
        basic = base64.b64encode(b"administrator@vsphere.local:password").decode()
        env = environ_for("POST", "/rest/com/vmware/cis/session")
        env["HTTP_AUTHORIZATION"] = f"Basic {basic}"
        status, data = self.wsgi.call(env)
        assert status == 200, data
        self.vmware_session = json.loads(data)["value"]

    def zstack(self, query: str) -> dict:
        env = environ_for("GET", f"{PREFIX}/vm-instances", query=query, session=self.session)
        status, data = self.wsgi.call(env)
        assert status == 200, data
        return json.loads(data)

    def vsphere_names(self, query: str) -> list[str]:
        status, data = self.wsgi.call(self.vsphere_env(query))
        assert status == 200, data
        return [summary["name"] for summary in json.loads(data)["value"]]

    def zstack_env(self, query: str) -> dict:
        return environ_for("GET", f"{PREFIX}/vm-instances", query=query, session=self.session)

    def vsphere_env(self, query: str) -> dict:
        env = environ_for("GET", "/rest/vcenter/vm", query=query)
        env["HTTP_VMWARE_API_SESSION_ID"] = self.vmware_session
        return env


_PASSWORD_HASH = __import__("hashlib").sha512(b"password").hexdigest()


def request_cost(side: ScaleSide, env: dict, repeat: int) -> tuple[float, float]:
    status, data = side.wsgi.call(env)
    assert status == 200, data[:500]
    once = cpu(lambda: side.wsgi.call(env))
    repeat = max(1, min(repeat, int(0.1 / max(once, 1e-6))))  # about 0.1 s a round
    return rounds(lambda: cpu(lambda: side.wsgi.call(env), repeat))


def scaling_row(vms: int, quick: bool) -> dict:
    hosts = max(1, vms // 50)
    t0 = time.process_time()
    built = Cloud(scale(hosts, vms), clock=ManualClock())
    build = time.process_time() - t0
    dump = built.snapshot()
    row: dict = {"vms": vms, "build": (build, build)}
    row["snapshot"] = rounds(lambda: cpu(lambda: json.dumps(built.snapshot())))
    row["restore"] = rounds(lambda: cpu(lambda: Cloud.restore(dump)))

    def clones():
        c = Cloud.restore(dump)
        source = c.vms.get("vm-1")
        gc.collect()
        t0 = time.process_time()
        for i in range(50):
            c.clone_vm(source, [f"c{i}-{j}" for j in range(10)])
        return (time.process_time() - t0) / 500

    row["clone"] = rounds(clones)

    def instant():
        c = Cloud.restore(dump)
        c.freeze_vm("vm-1")
        source = c.vms.get("vm-1")
        gc.collect()
        t0 = time.process_time()
        for i in range(40):  # vm-1's host has room for 40 more unit VMs... at most
            c.instant_clone(source, f"ic{i}")
        return (time.process_time() - t0) / 40

    row["instant clone"] = rounds(instant)

    side = ScaleSide(dump)
    repeat = 20 if vms >= 100_000 else 50
    middle = f"vm-{vms // 2}"
    row["query name"] = request_cost(side, side.zstack_env(f"q=name={middle}"), repeat)
    for key, query in ZSTACK_LISTS.items():
        row[key] = request_cost(side, side.zstack_env(query), repeat)
    row["count"] = request_cost(side, side.zstack_env("q=state=Running&count=true"), repeat)
    row["vsphere names"] = request_cost(side, side.vsphere_env(f"filter.names={middle}"), repeat)
    vsphere_host = _first_host_moid(side)
    row["vsphere host+power"] = request_cost(
        side, side.vsphere_env(f"filter.hosts={vsphere_host}&filter.power_states=POWERED_ON"), repeat
    )
    # Each list beside an indexed name query for the very VMs it returns (ZStack's
    # ``q=name?=...`` with the same ``fields``, vSphere's ``filter.names``; the names of
    # ``scale`` are unique): the cost of finding them apart from the cost of rendering them
    # (a page of 10 renders 10 VMs where the one-name query renders one).
    row["same rows"], row["rows"] = {}, {}
    for key, query in ZSTACK_LISTS.items():
        reply = side.zstack(query)
        row["rows"][key] = len(reply["inventories"])
        names = ",".join(inventory["name"] for inventory in reply["inventories"])
        fields = [part for part in query.split("&") if part.startswith("fields=")]
        row["same rows"][key] = request_cost(
            side, side.zstack_env("&".join([f"q=name?={names}", *fields])), repeat
        )
    vsphere_names = side.vsphere_names(f"filter.hosts={vsphere_host}&filter.power_states=POWERED_ON")
    row["rows"]["vsphere host+power"] = len(vsphere_names)
    row["same rows"]["vsphere host+power"] = request_cost(
        side, side.vsphere_env("&".join(f"filter.names={name}" for name in vsphere_names)), repeat
    )
    return row


# The ZStack lists of the scaling table that return VMs (``count`` returns none).
ZSTACK_LISTS = {
    "query state limit": "q=state=Running&limit=10",
    "query cond start limit": "q=cpuNum>0&q=memorySize>=1024&start=500&limit=10",
    "query sort limit": "q=state=Running&sort=-name&limit=10",
    "query date sort limit": "sort=-createDate&limit=10",
    "query cond date sort": "q=state=Running&sort=lastOpDate&start=20&limit=10",
    "query fields": "q=state=Running&limit=100&fields=uuid,name,state",
}


def _first_host_moid(side: ScaleSide) -> str:
    env = environ_for("GET", "/rest/vcenter/host", query="filter.names=host-1")
    env["HTTP_VMWARE_API_SESSION_ID"] = side.vmware_session
    status, data = side.wsgi.call(env)
    assert status == 200, data
    return json.loads(data)["value"][0]["host"]


SCALE_COLUMNS = [
    ("clone", "clone us"),
    ("instant clone", "iclone us"),
    ("query name", "q name"),
    ("query state limit", "q state lim"),
    ("query cond start limit", "q cond+start"),
    ("query sort limit", "q sort lim"),
    ("query date sort limit", "q date sort"),
    ("query cond date sort", "q cnd+lastOp"),
    ("query fields", "q fields"),
    ("count", "count"),
    ("vsphere names", "vs names"),
    ("vsphere host+power", "vs host+pw"),
    ("snapshot", "snap+json s"),
    ("restore", "restore s"),
    ("build", "build s"),
]


def print_scaling(rows: list[dict]) -> None:
    print(
        "\nScaling (CPU per operation; min/median of 5; queries and lists in process, in ms;"
        " clones in us; snapshot, restore, build in s)"
    )
    header = f"{'VMs':>8} " + " ".join(f"{title:>15}" for _, title in SCALE_COLUMNS)
    print(header)
    for row in rows:
        cells = []
        for key, title in SCALE_COLUMNS:
            lo, mid = row[key]
            if title.endswith(" s"):
                cells.append(f"{lo:.2f}/{mid:.2f}")
            elif title.endswith("us"):
                cells.append(f"{lo * 1e6:.1f}/{mid * 1e6:.1f}")
            else:
                cells.append(f"{lo * 1e3:.2f}/{mid * 1e3:.2f}")
        print(f"{row['vms']:>8,} " + " ".join(f"{c:>15}" for c in cells))
    last = rows[-1]
    name = last["query name"][0]
    same = last["same rows"]
    print(
        f"\nratios at {last['vms']:,} VMs (goal <= 3): (i) to the indexed query of one name (one VM);"
        "\n(ii) to an indexed query of the names of the very VMs the list returns, same fields"
        " (the cost of finding them apart from rendering them)"
    )
    print(f"  {'':<24} {'(i)':>8} {'(ii)':>8} {'rows':>6}")
    for key in (
        "query state limit",
        "query cond start limit",
        "query sort limit",
        "query date sort limit",
        "query cond date sort",
        "query fields",
        "count",
        "vsphere names",
        "vsphere host+power",
    ):
        ratio = last[key][0] / name
        if key in same:
            print(f"  {key:<24} {ratio:8.2f} {last[key][0] / same[key][0]:8.2f} {last['rows'][key]:>6}")
        else:  # one VM (vSphere by name) or none (count): the name query is the same rows
            print(f"  {key:<24} {ratio:8.2f} {ratio:8.2f} {int(key == 'vsphere names'):>6}")


# -- per-call goals on demo -------------------------------------------------------------------


def demo_goals(quick: bool) -> dict:
    """The per-call goals, each HTTP one by two in-process measures, the app and the bare
    app driven alike and interleaved round by round:

    * (a) prepared environ: the WSGI callable called with a copy of a prepared environ (the
      stricter measure: nothing but the apps' own work);
    * (b) test client: ``werkzeug.test.Client``, as tests drive the app (it builds each
      environ and wraps each response, a fixed cost on both sides).  Issue 18's figures
      ("2.15x" for the query, "3.6-3.9x" for the submit) were taken this way.
    """
    base = Cloud("demo", clock=ManualClock()).snapshot()
    out: dict = {}
    n = 300 if quick else 1000

    def query_environ(bare: bool) -> float:
        side = InProcess(base)
        env = environ_for("GET", f"{PREFIX}/vm-instances", query="q=name=golden", session=side.session)
        wsgi = Wsgi(bare_app) if bare else side.wsgi
        wsgi.call(env)
        return cpu(lambda: wsgi.call(env), n)

    def query_client(bare: bool) -> float:
        side = InProcess(base)
        client = Client(bare_app if bare else side.wsgi.app)
        headers = {"Authorization": f"OAuth {side.session}"}
        path = f"{PREFIX}/vm-instances"
        assert client.get(path, query_string="q=name=golden", headers=headers).status_code == 200
        return cpu(lambda: client.get(path, query_string="q=name=golden", headers=headers), n)

    def submit_environ(bare: bool) -> float:
        side = InProcess(base)
        bodies = clone_bodies(100)
        put = environ_for(
            "PUT", f"{PREFIX}/vm-instances/{side.golden}/actions", body=bodies[0], session=side.session
        )
        wsgi = Wsgi(bare_app) if bare else side.wsgi
        gc.collect()
        t0 = time.process_time()
        for body in bodies:
            wsgi.call(put, body)
        return (time.process_time() - t0) / len(bodies)

    def submit_client(bare: bool) -> float:
        side = InProcess(base)
        bodies = clone_bodies(100)
        client = Client(bare_app if bare else side.wsgi.app)
        headers = {"Authorization": f"OAuth {side.session}", "Content-Type": "application/json"}
        target = f"{PREFIX}/vm-instances/{side.golden}/actions"
        gc.collect()
        t0 = time.process_time()
        for body in bodies:
            client.put(target, data=body, headers=headers)
        return (time.process_time() - t0) / len(bodies)

    def ratio(measure) -> tuple[float, float]:
        app, bare = [], []
        for _ in range(ROUNDS):
            app.append(measure(False))
            bare.append(measure(True))
        return min(app) / min(bare), statistics.median(app) / statistics.median(bare)

    out["QueryVmInstance / bare, (a) prepared environ"] = ratio(query_environ)
    out["QueryVmInstance / bare, (b) test client"] = ratio(query_client)
    out["CloneVmInstance submit / bare, (a) prepared environ"] = ratio(submit_environ)
    out["CloneVmInstance submit / bare, (b) test client"] = ratio(submit_client)

    def clone_one() -> float:
        cloud = Cloud.restore(base)
        golden = cloud.vms.get("golden")
        names = [f"c{i}" for i in range(100)]
        gc.collect()
        t0 = time.process_time()
        for name in names:
            cloud.clone_vm(golden, [name])
        return (time.process_time() - t0) / 100

    lo, mid = rounds(clone_one)
    out["CloneVmInstance one name, Python API (/s)"] = (1 / lo, 1 / mid)
    return out


DEMO_GOALS = {
    "QueryVmInstance": "goal <= 2",
    "CloneVmInstance submit": "goal <= 3",
    "CloneVmInstance one name, Python API (/s)": "goal >= 20,000",
}


# -- cold start and fixtures --------------------------------------------------------------------


def _python(code: str, env: dict | None = None) -> float:
    """Wall seconds of a fresh interpreter running ``code`` (it prints its own figure)."""
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        timeout=120,
    )
    if result.returncode != 0:
        raise RuntimeError(result.stderr)
    return float(result.stdout.strip().splitlines()[-1])


def import_time() -> tuple[float, float]:
    code = "import time; t0 = time.perf_counter(); import fakestack; print(time.perf_counter() - t0)"
    return rounds(lambda: _python(code))


def serve_first_answer() -> dict:
    """From a fresh interpreter's start to the first answer of ``fakestack serve``: wall
    time, and the server process's CPU time by then (less sensitive to a busy machine)."""
    code = textwrap.dedent(f"""
        import os, subprocess, sys, time, urllib.request
        t0 = time.perf_counter()
        p = subprocess.Popen([sys.executable, "-m", "fakestack", "serve", "--port", "0"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             env={{"PYTHONPATH": {str(ROOT)!r}, "PATH": "/usr/bin:/bin"}})
        try:
            url = None
            while url is None:
                line = p.stdout.readline()
                if not line:
                    raise SystemExit("serve ended: " + str(p.poll()))
                if "serving at" in line:
                    url = line.split("serving at", 1)[1].split()[0]
            urllib.request.urlopen(url + "/_fakestack/health", timeout=10).read()
            wall = time.perf_counter() - t0
            with open(f"/proc/{{p.pid}}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            print(wall, cpu)
        finally:
            p.terminate(); p.wait()
    """)

    def once() -> tuple[float, float]:
        result = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            timeout=120,
        )
        if result.returncode != 0:
            raise RuntimeError(result.stderr)
        wall, cpu_time = result.stdout.strip().splitlines()[-1].split()
        return float(wall), float(cpu_time)

    figures = [once() for _ in range(ROUNDS)]
    walls = [w for w, _ in figures]
    cpus = [c for _, c in figures]
    return {"wall": (min(walls), statistics.median(walls)), "cpu": (min(cpus), statistics.median(cpus))}


FIXTURE_TESTS = textwrap.dedent("""
    import pytest

    N = {n}

    @pytest.mark.parametrize("i", range(N))
    def test_none(i):
        pass

    @pytest.mark.parametrize("i", range(N))
    def test_cloud(i, fakestack):
        pass

    @pytest.mark.parametrize("i", range(N))
    def test_client(i, fakestack_client):
        pass
""")


FIXTURE_TIMER = textwrap.dedent("""
    import json, time, pytest
    TIMES = {}

    def _phase(name):
        @pytest.hookimpl(hookwrapper=True)
        def hook(item, *args, **kwargs):
            t0 = time.process_time()
            yield
            TIMES[item.originalname] = TIMES.get(item.originalname, 0.0) + time.process_time() - t0
        return hook

    pytest_runtest_setup = _phase("setup")
    pytest_runtest_call = _phase("call")
    pytest_runtest_teardown = _phase("teardown")

    def pytest_sessionfinish(session):
        with open("times.json", "w") as out:
            json.dump(TIMES, out)
""")


def fixture_cost(quick: bool) -> dict:
    """Per test: CPU of setup + call + teardown of a test using the fixture, less that of
    an empty test, in one pytest run (a conftest times the three phases)."""
    n = 300 if quick else 1000
    out: dict = {"fakestack": [], "fakestack_client": []}
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "test_fixture_cost.py").write_text(FIXTURE_TESTS.format(n=n))
        Path(tmp, "conftest.py").write_text(FIXTURE_TIMER)
        for _ in range(ROUNDS):
            result = subprocess.run(
                [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_fixture_cost.py"],
                capture_output=True,
                text=True,
                cwd=tmp,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
                timeout=600,
            )
            times_file = Path(tmp, "times.json")
            if result.returncode != 0 or not times_file.exists():
                raise RuntimeError(result.stdout[-2000:] + result.stderr[-2000:])
            times = {k: v / n for k, v in json.loads(times_file.read_text()).items()}
            times_file.unlink()
            out["fakestack"].append(times["test_cloud"] - times["test_none"])
            out["fakestack_client"].append(times["test_client"] - times["test_none"])
    return {k: (min(v), statistics.median(v)) for k, v in out.items()}


# -- moto side by side ---------------------------------------------------------------------------

MOTO_SCRIPT = textwrap.dedent("""
    import gc, json, statistics, sys, time
    import boto3
    from moto import mock_aws

    def cpu(fn, repeat):
        gc.collect(); t0 = time.process_time()
        for _ in range(repeat):
            fn()
        return (time.process_time() - t0) / repeat

    with mock_aws():
        ec2 = boto3.client("ec2", region_name="us-east-1")
        image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
        counter = iter(range(10**9))

        def run():
            ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="t2.micro",
                              TagSpecifications=[{"ResourceType": "instance",
                                                  "Tags": [{"Key": "Name", "Value": f"vm-{next(counter)}"}]}])
        clones = [cpu(run, 20) for _ in range(5)]
        query = lambda: ec2.describe_instances(Filters=[{"Name": "tag:Name", "Values": ["vm-7"]}])
        queries = [cpu(query, 20) for _ in range(5)]
    print(json.dumps({"run_instances": [min(clones), statistics.median(clones)],
                      "describe_by_tag": [min(queries), statistics.median(queries)]}))
""")


def moto_venv() -> Path | str:
    """A virtual environment with moto and boto3 (made once, under the user's cache)."""
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "fakestack-bench" / "moto-venv"
    python = cache / "bin" / "python"
    if python.exists():
        return python
    try:
        subprocess.run(
            [sys.executable, "-m", "venv", str(cache)], check=True, capture_output=True, timeout=300
        )
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "moto[ec2]", "boto3"],
            check=True,
            capture_output=True,
            timeout=600,
        )
    except (subprocess.SubprocessError, OSError) as exc:
        return f"could not make moto's virtual environment ({exc})"
    return python


def moto_side_by_side(quick: bool) -> dict | str:
    python = moto_venv()
    if isinstance(python, str):
        return python
    result = subprocess.run([str(python), "-c", MOTO_SCRIPT], capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        return "moto run failed: " + result.stderr[-500:]
    moto = json.loads(result.stdout)
    # fakestack's equivalents through werkzeug's test client, as moto's are through boto3
    from werkzeug.test import Client

    base = Cloud("demo", clock=ManualClock()).snapshot()
    side = InProcess(base)
    client = Client(side.wsgi.app)
    headers = {"Authorization": f"OAuth {side.session}", "Content-Type": "application/json"}
    counter = iter(range(10**9))

    def clone():
        body = json.dumps({"cloneVmInstance": {"names": [f"c-{next(counter)}"]}})
        r = client.put(f"{PREFIX}/vm-instances/{side.golden}/actions", data=body, headers=headers)
        client.get(poll_path(r.get_json()["location"]), headers=headers)

    clones = []
    for _ in range(ROUNDS):
        side = InProcess(base)
        client = Client(side.wsgi.app)
        headers = {"Authorization": f"OAuth {side.session}", "Content-Type": "application/json"}
        clones.append(cpu(clone, 20))
    query = lambda: client.get(f"{PREFIX}/vm-instances", query_string="q=name=golden", headers=headers)  # noqa: E731
    queries = [cpu(query, 20) for _ in range(ROUNDS)]
    return {
        "clone (submit + poll) vs RunInstances": (
            min(clones),
            statistics.median(clones),
            *moto["run_instances"],
        ),
        "query by name vs DescribeInstances by tag": (
            min(queries),
            statistics.median(queries),
            *moto["describe_by_tag"],
        ),
    }


# -- main ------------------------------------------------------------------------------------------


PARTS = ("scale", "demo", "build", "cold", "fixture", "moto")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1k and 10k VMs only, fewer requests")
    parser.add_argument("--sizes", default=None, help="comma-separated VM counts (default 1000,10000,100000)")
    parser.add_argument("--no-moto", action="store_true", help="skip the moto side-by-side")
    parser.add_argument(
        "--only", default=None, help="comma-separated parts: scale,demo,build,cold,fixture,moto"
    )
    parser.add_argument(
        "--same-process",
        action="store_true",
        help="run the parts one after another in this interpreter (default: each in its own)",
    )
    args = parser.parse_args(argv)
    parts = set((args.only or ",".join(PARTS)).split(","))
    if len(parts) > 1 and not args.same_process:
        # Each part in a fresh interpreter: a part that built 100k VMs leaves a heap that
        # slows the next part's per-call figures by about 5%.
        flags = [flag for flag, on in (("--quick", args.quick), ("--no-moto", args.no_moto)) if on]
        flags += ["--sizes", args.sizes] if args.sizes else []
        for part in PARTS:
            if part in parts:
                sys.stdout.flush()
                done = subprocess.run([sys.executable, __file__, "--only", part, *flags], check=False)
                if done.returncode:
                    return done.returncode
        return 0
    sizes = (
        [int(s) for s in args.sizes.split(",")]
        if args.sizes
        else ([1000, 10_000] if args.quick else [1000, 10_000, 100_000])
    )

    if "scale" in parts:
        rows = []
        for vms in sizes:
            rows.append(scaling_row(vms, args.quick))
            print(f"  ({vms:,} VMs measured)", file=sys.stderr)
        print_scaling(rows)

    if "demo" in parts:
        print(
            "\nPer-call goals on demo (min/median of 5; ratios to a bare werkzeug JSON app: (a) the WSGI"
            "\ncallable with a prepared environ, (b) werkzeug's test client, as issue 18's figures were taken):"
        )
        for key, (lo, mid) in demo_goals(args.quick).items():
            goal = DEMO_GOALS[key.split(" / ")[0]]
            print(f"  {key:<52} {lo:>10,.2f} / {mid:>10,.2f}   ({goal})")

    if "build" in parts and not args.quick:
        build = rounds(lambda: cpu(lambda: Cloud(scale(2000, 100_000), clock=ManualClock())), 3)
        print(f"\nbuild scale:2000:100000: {build[0]:.2f} / {build[1]:.2f} s (min/median of 3; goal < 2 s)")

    if "cold" in parts:
        imp = import_time()
        serve = serve_first_answer()
        print(f"\nimport fakestack: {imp[0] * 1e3:.0f} / {imp[1] * 1e3:.0f} ms (goal < 100 ms)")
        print(
            f"fakestack serve to its first answer: {serve['wall'][0] * 1e3:.0f} / "
            f"{serve['wall'][1] * 1e3:.0f} ms wall (goal < 300 ms); the server's CPU by then "
            f"{serve['cpu'][0] * 1e3:.0f} / {serve['cpu'][1] * 1e3:.0f} ms"
        )

    if "fixture" in parts:
        cost = fixture_cost(args.quick)
        print(
            f"\nfixture cost per test on demo: fakestack {cost['fakestack'][0] * 1e3:.2f} / "
            f"{cost['fakestack'][1] * 1e3:.2f} ms (goal < 1 ms), fakestack_client "
            f"{cost['fakestack_client'][0] * 1e3:.2f} / {cost['fakestack_client'][1] * 1e3:.2f} ms "
            "(goal < 2 ms)"
        )

    if "moto" in parts and not args.no_moto:
        moto = moto_side_by_side(args.quick)
        print("\nmoto side by side (ms per call through each one's client, in process; min/median of 5):")
        if isinstance(moto, str):
            print("  skipped:", moto)
        else:
            for key, (lo, mid, mlo, mmid) in moto.items():
                print(
                    f"  {key:<44} fakestack {lo * 1e3:.3f} / {mid * 1e3:.3f}   moto {mlo * 1e3:.3f} / "
                    f"{mmid * 1e3:.3f}   moto / fakestack {mlo / lo:.1f}x"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
