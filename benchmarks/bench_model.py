"""Model benchmarks (not tests): run ``python benchmarks/bench_model.py``.

Figures, measured in one run so that ratios are comparable on a noisy machine:
* linked clones per second through the Python API on ``demo`` (``clone_vm`` per VM, in
  batches of 10 names, and ``instant_clone``);
* cost per clone with 10 vs 10,000 hosts (target: ratio <= 2);
* snapshot time and memory for 100,000 VMs.
CPU time (process_time) is measured, so other load on the machine matters less.
Targets for this machine class: >= 20,000 linked clones/s; cost ratio <= 2.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
import tracemalloc

from fakestack import Cloud, ManualClock
from fakestack.model.presets import scale


def _fresh(topology, source="golden"):
    cloud = Cloud(topology, clock=ManualClock())
    return cloud, cloud.vms.get(source)


def _best(rounds: int, measure) -> float:
    """The lowest per-operation cost over ``rounds`` rounds (noise only ever adds time)."""
    return min(measure() for _ in range(rounds))


def clone_rate_demo(rounds: int = 5) -> float:
    """clone_vm(InstantStart) per cloned VM on demo, in batches of 10 names (50 per round)."""
    base = Cloud("demo", clock=ManualClock()).snapshot()

    def measure():
        cloud = Cloud.restore(base)
        golden = cloud.vms.get("golden")
        t0 = time.process_time()
        done = 0
        for b in range(5):
            done += cloud.clone_vm(golden, [f"c{b}-{i}" for i in range(10)]).number_of_cloned_vm
        return (time.process_time() - t0) / done

    return 1 / _best(rounds, measure)


def instant_clone_rate_demo(rounds: int = 5) -> float:
    """instant_clone of a frozen golden VM on demo (55 per round: its host's room)."""
    base = Cloud("demo", clock=ManualClock())
    base.freeze_vm("golden")
    dump = base.snapshot()

    def measure():
        cloud = Cloud.restore(dump)
        golden = cloud.vms.get("golden")
        t0 = time.process_time()
        for i in range(55):
            cloud.instant_clone(golden, f"ic{i}")
        return (time.process_time() - t0) / 55

    return 1 / _best(rounds, measure)


def clone_cost(hosts: int, rounds: int = 5, clones: int = 500) -> float:
    """CPU seconds per cloned VM with ``hosts`` hosts (clone_vm, batches of 10)."""
    dump = Cloud(scale(hosts, 1), clock=ManualClock()).snapshot()

    def measure():
        cloud = Cloud.restore(dump)
        source = cloud.vms.get("vm-1")
        gc.collect()
        t0 = time.process_time()
        for i in range(clones // 10):
            cloud.clone_vm(source, [f"c{i}-{j}" for j in range(10)])
        return (time.process_time() - t0) / clones

    return _best(rounds, measure)


def snapshot_figures(vms: int = 100_000) -> dict:
    t0 = time.process_time()
    cloud = Cloud(scale(max(1, vms // 50), vms), clock=ManualClock())
    build = time.process_time() - t0
    gc.collect()
    tracemalloc.start()
    t0 = time.process_time()
    dump = cloud.snapshot()
    took = time.process_time() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    size = len(json.dumps(dump))
    return {
        "vms": vms,
        "build_s": build,
        "snapshot_s": took,
        "snapshot_peak_mib": peak / 2**20,
        "json_mib": size / 2**20,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs (smoke test)")
    args = parser.parse_args(argv)
    rounds = 3 if args.quick else 7
    rate = clone_rate_demo(rounds)
    ic_rate = instant_clone_rate_demo(rounds)
    small = clone_cost(10, rounds)
    large = clone_cost(10_000, rounds)
    snap = snapshot_figures(10_000 if args.quick else 100_000)
    ratio = large / small
    print(f"clone_vm (InstantStart, batches of 10) on demo: {rate:,.0f} clones/s")
    print(f"instant_clone on demo:                          {ic_rate:,.0f} clones/s")
    print(f"cost per clone, 10 hosts:     {small * 1e6:,.1f} us")
    print(f"cost per clone, 10,000 hosts: {large * 1e6:,.1f} us   ratio {ratio:.2f} (target <= 2)")
    print(
        f"{snap['vms']:,} VMs: build {snap['build_s']:.1f} s, snapshot {snap['snapshot_s']:.2f} s, "
        f"peak {snap['snapshot_peak_mib']:.0f} MiB while snapshotting, JSON {snap['json_mib']:.0f} MiB"
    )
    ok = ratio <= 2 and max(rate, ic_rate) >= 20_000
    print("targets:", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
