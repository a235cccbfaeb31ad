"""Host placement: sorted indexes over schedulable hosts, and the allocator strategies.

Placement must not scan every host per call.  Every schedulable host sits in a sorted
index keyed on its free memory (after the reserve); the strategies that order hosts by
another key (VM count, free CPU) get their own index, built the first time the strategy
is used and maintained from then on.  A placement is a bisect plus a short walk.
"""

from __future__ import annotations

import random
from bisect import bisect_left, insort
from collections.abc import Callable, Iterable
from collections.abc import Set as AbstractSet

from .entities import Host
from .errors import CapacityExhausted

DEFAULT = "DefaultHostAllocatorStrategy"
LAST_HOST = "LastHostPreferredAllocatorStrategy"
LEAST_VM = "LeastVmPreferredHostAllocatorStrategy"
MIN_CPU = "MinimumCPUUsageHostAllocatorStrategy"
MIN_MEMORY = "MinimumMemoryUsageHostAllocatorStrategy"
# Every strategy (``topology.ALLOCATOR_STRATEGIES`` names the same, for the topology's
# validation; a test checks that they agree).
STRATEGIES = (DEFAULT, LAST_HOST, LEAST_VM, MIN_CPU, MIN_MEMORY)

_RANDOM_TRIES = 6


def _free_memory(host: Host) -> int:
    return host.total_memory - host.used_memory - host.reserved_memory


# ``choose``'s exclusion set when nothing is excluded (read, not built, per placement)
_NO_HOSTS: frozenset[str] = frozenset()


def _ok(
    host: Host, cpu: int, memory: int, clusters: frozenset[str] | None, excluded: AbstractSet[str]
) -> bool:
    """``choose``'s test of a host: it fits (``HostIndex.fits``) and is not excluded."""
    return (
        host.total_cpu - host.used_cpu >= cpu
        and host.total_memory - host.used_memory - host.reserved_memory >= memory
        and (clusters is None or host.cluster_uuid in clusters)
        and host.uuid not in excluded
    )


_KEYS: dict[str, Callable[[Host], int]] = {
    "memory": _free_memory,
    "cpu": lambda h: h.total_cpu - h.used_cpu,
    "vms": lambda h: h.vm_count,
}


class HostIndex:
    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._hosts: dict[int, Host] = {}  # seq -> host, schedulable hosts only
        self._sorted: dict[str, list[tuple[int, int]]] = {"memory": []}
        self._keys: dict[int, dict[str, int]] = {}

    # -- maintenance -------------------------------------------------------------------
    def add(self, host: Host) -> None:
        seq = host.seq
        if host.state != "Enabled" or host.status != "Connected" or seq in self._hosts:  # not schedulable
            return
        self._hosts[seq] = host
        keys = {}
        for name, items in self._sorted.items():
            key = _KEYS[name](host)
            keys[name] = key
            insort(items, (key, seq))
        self._keys[seq] = keys

    def remove(self, host: Host) -> None:
        keys = self._keys.pop(host.seq, None)
        if keys is None:
            return
        del self._hosts[host.seq]
        for name, items in self._sorted.items():
            entry = (keys[name], host.seq)
            i = bisect_left(items, entry)
            del items[i]

    def rekey(self, host: Host) -> None:
        """``remove`` and ``add`` of a host whose usage changed since it was filed (its
        stored keys find its old entries): ``place``'s re-keying, for every placement and
        release.  The order of ``_hosts`` is never read."""
        seq = host.seq
        keys = self._keys.get(seq)
        if keys is None or host.state != "Enabled" or host.status != "Connected":
            self.remove(host)
            self.add(host)
            return
        for name, items in self._sorted.items():
            del items[bisect_left(items, (keys[name], seq))]
            key = keys[name] = _KEYS[name](host)
            insort(items, (key, seq))

    def refresh(self, host: Host) -> None:
        """Re-key a host after its usage or state changed."""
        self.remove(host)
        self.add(host)

    def _index(self, name: str) -> list[tuple[int, int]]:
        items = self._sorted.get(name)
        if items is None:
            key = _KEYS[name]
            items = sorted((key(h), seq) for seq, h in self._hosts.items())
            self._sorted[name] = items
            for seq, h in self._hosts.items():
                self._keys[seq][name] = key(h)
        return items

    def __len__(self) -> int:
        return len(self._hosts)

    # -- queries -----------------------------------------------------------------------
    @staticmethod
    def fits(host: Host, cpu: int, memory: int, clusters: frozenset[str] | None) -> bool:
        return (
            host.total_cpu - host.used_cpu >= cpu
            and host.total_memory - host.used_memory - host.reserved_memory >= memory
            and (clusters is None or host.cluster_uuid in clusters)
        )

    def choose(
        self,
        strategy: str,
        cpu: int,
        memory: int,
        clusters: frozenset[str] | None = None,
        last_host: Host | None = None,
        exclude: Iterable[str] = (),
    ) -> Host:
        excluded = set(exclude) if exclude else _NO_HOSTS
        # A host fits when ``_ok(h, cpu, memory, clusters, excluded)``; the two hot loops
        # (the least-memory walk: every clone's dry run; the random pick: every placement of
        # a bulk build) spell it out
        if strategy == LAST_HOST and last_host is not None and last_host.seq in self._hosts:
            if _ok(last_host, cpu, memory, clusters, excluded):
                return last_host
        hosts = self._hosts
        if strategy == MIN_MEMORY:
            items = self._sorted["memory"]
            for i in range(len(items) - 1, -1, -1):
                key, seq = items[i]
                if key < memory:
                    break
                h = hosts[seq]
                if (
                    h.total_cpu - h.used_cpu >= cpu
                    and h.total_memory - h.used_memory - h.reserved_memory >= memory
                    and (clusters is None or h.cluster_uuid in clusters)
                    and h.uuid not in excluded
                ):
                    return h
        elif strategy == MIN_CPU:
            items = self._index("cpu")
            for i in range(len(items) - 1, -1, -1):
                key, seq = items[i]
                if key < cpu:
                    break
                if _ok(hosts[seq], cpu, memory, clusters, excluded):
                    return hosts[seq]
        elif strategy == LEAST_VM:
            for _, seq in self._index("vms"):
                if _ok(hosts[seq], cpu, memory, clusters, excluded):
                    return hosts[seq]
        else:  # DEFAULT, and LAST_HOST's fallback: a seeded random pick among the hosts that fit
            items = self._sorted["memory"]
            lo = bisect_left(items, (memory, -1))
            span = len(items) - lo
            if span > 0:
                rng = self._rng
                # ``rng.randrange(span)`` as it draws (``getrandbits`` of span's bit length
                # until one is below span) without its two Python calls: a bulk build
                # places 100,000 VMs through here
                getrandbits, bits = rng.getrandbits, span.bit_length()
                for _ in range(_RANDOM_TRIES):
                    r = getrandbits(bits)
                    while r >= span:
                        r = getrandbits(bits)
                    h = hosts[items[lo + r][1]]
                    if (
                        h.total_cpu - h.used_cpu >= cpu
                        and h.total_memory - h.used_memory - h.reserved_memory >= memory
                        and (clusters is None or h.cluster_uuid in clusters)
                        and h.uuid not in excluded
                    ):
                        return h
                start = rng.randrange(span)
                for j in range(span):
                    h = hosts[items[lo + (start + j) % span][1]]
                    if _ok(h, cpu, memory, clusters, excluded):
                        return h
        raise self.shortage(cpu, memory)

    def place(self, strategy: str, cpu: int, memory: int, clusters: frozenset[str] | None) -> Host:
        """``choose`` a host and hold ``cpu``, ``memory`` and one more VM on it, re-keyed in
        the indexes (``remove``, the usage, ``add`` in one step): a bulk build places
        100,000 VMs through here."""
        host = self.choose(strategy, cpu, memory, clusters)
        seq = host.seq
        keys = self._keys[seq]
        host.used_cpu += cpu
        host.used_memory += memory
        host.vm_count += 1
        for name, items in self._sorted.items():
            del items[bisect_left(items, (keys[name], seq))]
            key = keys[name] = _KEYS[name](host)
            insort(items, (key, seq))
        return host

    def shortage(self, cpu: int, memory: int) -> CapacityExhausted:
        items = self._sorted["memory"]
        best_memory = items[-1][0] if items else 0
        request = {"cpu": cpu, "memory": memory}
        if best_memory < memory:
            return CapacityExhausted("host.memory", memory, max(best_memory, 0), request=request)
        # Only on the failure path: which resource to name is worth one pass over the hosts.
        best_cpu = max((h.total_cpu - h.used_cpu for h in self._hosts.values()), default=0)
        if best_cpu < cpu:
            return CapacityExhausted("host.cpu", cpu, best_cpu, request=request)
        return CapacityExhausted("host", memory, max(best_memory, 0), request=request)
