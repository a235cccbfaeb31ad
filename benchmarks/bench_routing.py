"""Route-table benchmark (not a test): ``python benchmarks/bench_routing.py``.

The kit's ``Router`` against werkzeug's ``routing.Map`` on the same tables (ZStack's
bound APIs relative to ``/v1``, InstaVM's endpoints), matching the same paths: the
lookup a request pays, in microseconds per lookup (best of 7 rounds).  Map is bound once
(one ``MapAdapter``, then ``match``): its best case; binding per request costs more.
"""

from __future__ import annotations

import re
import sys
import time

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule

from fakestack.dialects.instavm.routes import ALL_ENDPOINTS
from fakestack.dialects.instavm.routes import ROUTE_TABLE as INSTAVM
from fakestack.dialects.zstack.routes import route_table as zstack_table

_VAR = re.compile(r"\{(\w+)\}")


def werkzeug_map(routes, *, strict_slashes: bool) -> Map:
    rules, seen = [], set()
    for method, pattern in routes:
        rule_path = _VAR.sub(r"<\1>", pattern)
        key = (method, _VAR.sub("{}", pattern))
        if key in seen:  # Map keeps one endpoint per path and method
            continue
        seen.add(key)
        rules.append(
            Rule(rule_path, methods=[method], endpoint=f"{method} {pattern}", strict_slashes=strict_slashes)
        )
    return Map(rules, strict_slashes=strict_slashes, merge_slashes=False)


def best_of(fn, requests, rounds: int = 7) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for method, path in requests:
            fn(method, path)
        best = min(best, time.perf_counter() - start)
    return best / len(requests)


def run(repeat: int) -> list[tuple[str, float, float, float]]:
    zstack = zstack_table()
    zmap = werkzeug_map([(r.method, r.pattern) for r in zstack], strict_slashes=False).bind("fakestack")
    instavm_map = werkzeug_map([(e.method, e.pattern) for e in ALL_ENDPOINTS], strict_slashes=True).bind(
        "fakestack"
    )
    uuid = "0" * 32
    zstack_requests = [
        ("GET", "/vm-instances"),
        ("PUT", f"/vm-instances/{uuid}/actions"),
        ("GET", f"/vm-instances/{uuid}"),
        ("GET", "/hosts/capacities/cpu-memory"),
        ("DELETE", f"/vm-backups/{uuid}"),
        ("GET", "/no/such/path"),
    ] * repeat
    instavm_requests = [
        ("GET", "/v1/vms"),
        ("POST", "/v1/vms/vm_1/clone"),
        ("GET", "/v1/sessions/status/abc"),
        ("DELETE", "/v1/snapshots/snap_1"),
        ("GET", "/v1/nothing"),
    ] * repeat

    def via_map(adapter):
        def match(method, path):
            try:
                return adapter.match(path, method)
            except (NotFound, MethodNotAllowed):
                return None

        return match

    rows = []
    for name, router_fn, map_fn, requests in (
        ("zstack (50 APIs)", lambda m, p: zstack.matches(m, p), via_map(zmap), zstack_requests),
        ("instavm (41 routes)", INSTAVM.match, via_map(instavm_map), instavm_requests),
    ):
        mine = best_of(router_fn, requests)
        theirs = best_of(map_fn, requests)
        rows.append((name, mine * 1e6, theirs * 1e6, theirs / mine))
    return rows


def main() -> int:
    rows = run(200)
    print(f"{'table':<22} {'kit Router us':>14} {'werkzeug Map us':>16} {'Map/Router':>11}")
    for name, mine, theirs, ratio in rows:
        print(f"{name:<22} {mine:>14.2f} {theirs:>16.2f} {ratio:>11.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
