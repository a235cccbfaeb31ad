"""L3 addresses: handed out lowest first, freed addresses reused first."""

from __future__ import annotations

import functools
import heapq
import ipaddress

from .entities import (
    L3Network,
    Nic,
    Vm,
)
from .errors import (
    CapacityExhausted,
)
from .state import CloudState


class NetworkMixin(CloudState):
    # -- IP addresses ------------------------------------------------------------------
    def _allocate_nic(
        self, vm: Vm | None, l3: L3Network, device_id: int, *, ip: str | None = None, uuid: str | None = None
    ) -> Nic:
        """A NIC of ``vm`` (None: of no VM yet) on ``l3``: the lowest freed address, else the
        next one; or ``ip``, an address the caller has checked is free (``_claim_ip``)."""
        if ip is not None:
            value = ip_int(ip)
            if value in l3.released:  # a sorted list is a heap
                self._set(l3, "released", sorted(v for v in l3.released if v != value))
            # above next_ip: the sequential allocation skips addresses in use
        elif l3.released:
            value = heapq.heappop(l3.released)
            if self._undo is not None:
                self._undo.append(lambda: heapq.heappush(l3.released, value))
        else:
            value = l3.next_ip
            gateway = ip_int(l3.gateway)
            while value == gateway or str(value) in l3.used:  # the gateway, or a chosen (static) address
                value += 1
            if value > l3.last_ip:
                raise CapacityExhausted(
                    "l3.ip",
                    1,
                    0,
                    resource_uuid=l3.uuid,
                    message=f"no free IP address left on l3 network {l3.uuid}",
                    reason_code="l3_network_full",
                    l3_network_uuid=l3.uuid,
                )
            if self._watching:
                self._set(l3, "next_ip", value + 1)
            else:  # ``_set`` spelled out (every new NIC passes here)
                if self._undo is not None:
                    self._undo.append((l3, "next_ip", l3.next_ip))
                l3.next_ip = value + 1
        mac = "fa:" + self.ids.hex_pairs(5)  # "fa:" + the pairs of ids.hex(10)
        nic = Nic(
            uuid or self.ids.uuid(),
            vm.uuid if vm is not None else None,
            l3.uuid,
            ip if ip is not None else ip_str(value),
            mac,
            l3.netmask,
            l3.gateway,
            device_id,
            self.clock.now(),
        )
        self.nics.add(nic)  # ``_add`` spelled out (every new NIC passes here)
        if self._undo is not None:
            self._undo.append((self.nics, nic))
        key = str(value)
        l3.used[key] = nic.uuid
        if self._undo is not None:
            self._undo.append((l3.used, key))  # ``_unmake``: popped
        return nic

    def _release_nic(self, nic: Nic) -> None:
        l3 = self.l3_networks.get(nic.l3_network_uuid)
        ip = ip_int(nic.ip)
        key = str(ip)
        held = l3.used.pop(key, None)
        # a chosen address beyond the sequential cursor is found free again by the cursor
        pushed = ip < l3.next_ip
        if pushed:
            heapq.heappush(l3.released, ip)
        if self._undo is not None:

            def undo() -> None:
                if pushed:
                    l3.released.remove(ip)
                    heapq.heapify(l3.released)
                if held is not None:
                    l3.used[key] = held

            self._undo.append(undo)
        self._remove(self.nics, nic)


def networks_without(networks: list[str], gone: str, instead: str | None = None) -> list[str]:
    """A VM's network list less one entry for a NIC that leaves ``gone`` (replaced in place
    by ``instead`` when the NIC moves there).  The list is ordered by the VM's choice (its
    default network first), not as its NICs are, and holds a network once per NIC on it."""
    out = list(networks)
    index = out.index(gone)
    if instead is None:
        del out[index]
    else:
        out[index] = instead
    return out


@functools.lru_cache(maxsize=1024)
def ip_int(text: str) -> int:
    return int(ipaddress.IPv4Address(text))


def ip_str(value: int) -> str:
    return f"{value >> 24 & 255}.{value >> 16 & 255}.{value >> 8 & 255}.{value & 255}"
