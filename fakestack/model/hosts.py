"""Host capacity (CPU and memory held by VMs), placement through the host index, and host
state/status changes."""

from __future__ import annotations

from typing import Any

from .entities import (
    Host,
    Vm,
)
from .errors import (
    CapacityExhausted,
    InvalidArgument,
    InvalidState,
    Unreachable,
)
from .placement import HostIndex
from .state import CloudState
from .transactions import operation


class HostMixin(CloudState):
    # -- host capacity -----------------------------------------------------------------
    def _host_shortage(self, host: Host, cpu: int, memory: int) -> CapacityExhausted:
        free_memory = host.total_memory - host.used_memory - host.reserved_memory
        request = {"cpu": cpu, "memory": memory}
        if free_memory < memory:
            return CapacityExhausted(
                "host.memory", memory, max(free_memory, 0), resource_uuid=host.uuid, request=request
            )
        return CapacityExhausted(
            "host.cpu", cpu, max(host.total_cpu - host.used_cpu, 0), resource_uuid=host.uuid, request=request
        )

    def _update_host(self, host: Host, undoable: bool = True, **changes: Any) -> None:
        """Change host fields that the placement index keys on (usage, state, status),
        re-keying the host in the index; undoably unless told otherwise (the undo itself)."""
        old = {name: getattr(host, name) for name in changes}
        self.host_index.remove(host)
        for name, value in changes.items():
            setattr(host, name, value)
        self.host_index.add(host)
        if undoable and self._undo is not None:
            self._undo.append(lambda: self._update_host(host, False, **old))

    def _set_host_usage(self, host: Host, cpu: int, memory: int, vms: int) -> None:
        """``_update_host`` of the usage fields, spelled out: every placement passes here."""
        index = self.host_index
        old_cpu, old_memory, old_vms = host.used_cpu, host.used_memory, host.vm_count
        host.used_cpu, host.used_memory, host.vm_count = old_cpu + cpu, old_memory + memory, old_vms + vms
        index.rekey(host)  # index.remove(host) before the change, index.add(host) after
        if self._undo is not None:
            # ``_unmake``: the index re-keys the host with its old usage
            self._undo.append((index, (host, old_cpu, old_memory, old_vms)))

    def _hold_host(self, vm: Vm, host: Host) -> None:
        if self._exhausted:
            self._injected_host_shortage(vm, host)
        if not (  # HostIndex.fits(host, vm.cpu_num, vm.memory_size, None), spelled out
            host.total_cpu - host.used_cpu >= vm.cpu_num
            and host.total_memory - host.used_memory - host.reserved_memory >= vm.memory_size
        ):
            raise self._host_shortage(host, vm.cpu_num, vm.memory_size)
        self._set_host_usage(host, vm.cpu_num, vm.memory_size, 1)
        if self._watching:
            self._set(vm, "host_uuid", host.uuid)
            self._set(vm, "last_host_uuid", host.uuid)
            self._set(vm, "cluster_uuid", host.cluster_uuid)
            return
        # the three ``_set`` calls spelled out (every placement passes here)
        undo = self._undo
        if undo is not None:
            undo.append((vm, "host_uuid", vm.host_uuid))
            undo.append((vm, "last_host_uuid", vm.last_host_uuid))
            undo.append((vm, "cluster_uuid", vm.cluster_uuid))
        vm.host_uuid = vm.last_host_uuid = host.uuid
        vm.cluster_uuid = host.cluster_uuid

    def _release_host(self, vm: Vm) -> None:
        if vm.host_uuid is None:
            return
        self._set_host_usage(self.hosts.get(vm.host_uuid), -vm.cpu_num, -vm.memory_size, -1)
        self._set(vm, "host_uuid", None)

    def _injected_host_shortage(self, vm: Vm, host: Host | None = None) -> None:
        """Raise the shortage a fault plan asked for, shaped like a real one."""
        for resource in ("host.memory", "host.cpu", "host"):
            if resource in self._exhausted:
                needed = vm.cpu_num if resource == "host.cpu" else vm.memory_size
                raise CapacityExhausted(
                    resource,
                    needed,
                    0,
                    resource_uuid=host.uuid if host is not None else None,
                    request={"cpu": vm.cpu_num, "memory": vm.memory_size},
                    injected=True,
                )

    def _choose_host(
        self, vm: Vm, *, host: Host | None = None, clusters: Any = None, strategy: Any = None
    ) -> Host:
        if self._exhausted:
            self._injected_host_shortage(vm, host)
        if host is not None:
            if not host.schedulable:
                if host.status != "Connected":
                    raise Unreachable("host", host.uuid)
                raise InvalidState("host", host.uuid, host.state, "allocate")
            if clusters is not None and host.cluster_uuid not in clusters:
                raise InvalidArgument(
                    "host",
                    f"host {host.uuid} cannot reach the storage",
                    reason_code="host_cannot_reach_storage",
                    host_uuid=host.uuid,
                )
            if not HostIndex.fits(host, vm.cpu_num, vm.memory_size, None):
                raise self._host_shortage(host, vm.cpu_num, vm.memory_size)
            return host
        strategy = strategy or vm.allocator_strategy or self.settings.default_allocator_strategy
        last = self.hosts.find(vm.last_host_uuid) if vm.last_host_uuid else None
        return self.host_index.choose(strategy, vm.cpu_num, vm.memory_size, clusters, last)

    # -- infrastructure state ----------------------------------------------------------
    @operation("host.set_status")
    def set_host_status(self, host: Host | str, status: str) -> Host:
        """Connected / Disconnected / Connecting (disconnected hosts get no new VMs)."""
        host = self.hosts.get(host)
        if status not in ("Connected", "Disconnected", "Connecting"):
            raise InvalidArgument("status", "must be Connected, Disconnected or Connecting")
        self._update_host(host, status=status)
        return host

    @operation("host.set_state")
    def set_host_state(self, host: Host | str, state: str) -> Host:
        host = self.hosts.get(host)
        if state not in ("Enabled", "Disabled", "PreMaintenance", "Maintenance"):
            raise InvalidArgument("state", "must be Enabled, Disabled, PreMaintenance or Maintenance")
        self._update_host(host, state=state)
        return host
