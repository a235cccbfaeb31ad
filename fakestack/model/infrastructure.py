"""Operations on the infrastructure itself: host states (disable, enable, maintenance),
reconnecting a host, primary storage states, re-reading a primary storage's usage, and a
host-local storage's share on each host (issue 16, group 7)."""

from __future__ import annotations

from dataclasses import dataclass

from .entities import HOLDING_STATES, Host, PrimaryStorage, Vm
from .errors import InvalidArgument, InvalidState
from .state import CloudState
from .transactions import operation
from .vms import ALLOWED

HOST_STATE_EVENTS = {"enable": "Enabled", "disable": "Disabled", "maintain": "Maintenance"}
STORAGE_STATE_EVENTS = {
    "enable": "Enabled",
    "disable": "Disabled",
    "maintain": "Maintenance",
    "deleting": "Deleting",
}


@dataclass(frozen=True)
class HostShare:
    """A host's share of a host-local primary storage (bytes)."""

    host_uuid: str
    total: int
    available: int
    total_physical: int
    available_physical: int


class InfrastructureMixin(CloudState):
    def _vms_on_host(self, host: Host) -> list[Vm]:
        return [vm for vm in self.vms if vm.host_uuid == host.uuid and vm.state in HOLDING_STATES]

    @operation("host.change_state")
    def change_host_state(self, host: Host | str, event: str) -> Host:
        """``enable`` / ``disable`` a host (a disabled host keeps its VMs and takes no new
        ones), or ``maintain`` it: it takes no new VM, each VM it runs moves to another
        host the VM's allocator picks, and a VM that cannot move (host-local storage, or no
        host with room) is stopped; the host is then in Maintenance."""
        host = self.hosts.get(host)
        self._fault_point("host.change_state", host=host.uuid, name=host.name)
        state = HOST_STATE_EVENTS.get(event)
        if state is None:
            raise InvalidArgument("state_event", f"must be one of {', '.join(HOST_STATE_EVENTS)}")
        if state != "Maintenance":
            self._update_host(host, state=state)
            self._set(host, "last_op_date", self.clock.now())
            return host
        self._update_host(host, state="PreMaintenance")
        for vm in self._vms_on_host(host):
            if (
                vm.state in ALLOWED["migrate"]
                and not self._on_local_storage(vm)
                and self.migration_candidates(vm)
            ):
                self.migrate_vm(vm)
            else:
                self.stop_vm(vm)
        self._update_host(host, state="Maintenance")
        self._set(host, "last_op_date", self.clock.now())
        return host

    @operation("host.reconnect")
    def reconnect_host(self, host: Host | str) -> Host:
        """Connect to the host's agent again: a Disconnected host is Connected (and takes
        VMs again, if Enabled).  VMs it held stay as they are."""
        host = self.hosts.get(host)
        self._fault_point("host.reconnect", host=host.uuid, name=host.name)
        if host.state in ("PreMaintenance",):
            raise InvalidState(
                "host", host.uuid, host.state, "reconnect", ("Enabled", "Disabled", "Maintenance")
            )
        self._update_host(host, status="Connected")
        self._set(host, "last_op_date", self.clock.now())
        return host

    @operation("primary_storage.change_state")
    def change_primary_storage_state(self, storage: PrimaryStorage | str, event: str) -> PrimaryStorage:
        """``enable`` / ``disable`` a primary storage (a disabled one takes no new volume),
        ``maintain`` it (the VMs with a volume on it are stopped first), or mark it
        ``deleting``.  Its data and ledgers stay."""
        ps = self.primary_storages.get(storage)
        self._fault_point("primary_storage.change_state", primary_storage=ps.uuid, name=ps.name)
        state = STORAGE_STATE_EVENTS.get(event)
        if state is None:
            raise InvalidArgument("state_event", f"must be one of {', '.join(STORAGE_STATE_EVENTS)}")
        if state == "Maintenance":
            vm_uuids = dict.fromkeys(
                v.vm_uuid for v in self.volumes if v.primary_storage_uuid == ps.uuid and v.vm_uuid
            )
            for uuid in vm_uuids:
                vm = self.vms.get(uuid)
                if vm.state in ("Running", "Paused"):
                    self.stop_vm(vm)
        self._set(ps, "state", state)
        self._set(ps, "last_op_date", self.clock.now())
        return ps

    @operation("primary_storage.sync")
    def sync_primary_storage(self, storage: PrimaryStorage | str) -> PrimaryStorage:
        """Re-read a primary storage's usage: both ledgers are summed again from the disks
        and volumes on it (in the simulation they never drift, so the numbers stay)."""
        ps = self.primary_storages.get(storage)
        self._fault_point("primary_storage.sync", primary_storage=ps.uuid, name=ps.name)
        virtual = sum(v.virtual_charge for v in self.volumes if v.primary_storage_uuid == ps.uuid)
        physical = 0
        for node in self.nodes:
            if node.storage_uuid == ps.uuid:
                virtual += node.virtual_charge
                physical += node.physical_charge
        if (virtual, physical) != (ps.used_virtual, ps.used_physical):
            self._set(ps, "used_virtual", virtual)
            self._set(ps, "used_physical", physical)
        return ps

    def host_local_shares(
        self, storage: PrimaryStorage | str, host: Host | str | None = None
    ) -> list[HostShare]:
        """A host-local primary storage seen per host: each host of its clusters has an
        equal share of its totals (the first takes the remainder); a host is charged for
        the volumes of the VMs it runs or last ran, and the first host also for what no
        host holds (image caches, snapshots, detached volumes), so the shares add up to
        the storage's ledgers.  A question: nothing changes."""
        ps = self.primary_storages.get(storage)
        if not ps.host_local:
            raise InvalidArgument(
                "primary_storage",
                f"primary storage {ps.uuid} is a {ps.type}, not a host-local storage",
                reason_code="storage_not_host_local",
                primary_storage_uuid=ps.uuid,
                primary_storage_kind=ps.type,
            )
        clusters = set(ps.cluster_uuids)
        hosts = [h for h in self.hosts if h.cluster_uuid in clusters]
        wanted = self.hosts.get(host) if host is not None else None
        if wanted is not None and wanted.cluster_uuid not in clusters:
            raise InvalidArgument(
                "host",
                f"host {wanted.uuid} is not attached to primary storage {ps.uuid}",
                reason_code="host_not_on_storage",
                host_uuid=wanted.uuid,
                primary_storage_uuid=ps.uuid,
            )
        if not hosts:
            return []
        virtual = {h.uuid: 0 for h in hosts}
        physical = {h.uuid: 0 for h in hosts}
        first = hosts[0].uuid
        held_virtual = held_physical = 0
        for vol in self.volumes:
            if vol.primary_storage_uuid != ps.uuid:
                continue
            owner = (
                self.vms.find(vol.vm_uuid or vol.last_vm_uuid) if (vol.vm_uuid or vol.last_vm_uuid) else None
            )
            where = (owner.host_uuid or owner.last_host_uuid) if owner is not None else None
            if where not in virtual:
                continue
            node = self.nodes.find(vol.node_uuid) if vol.node_uuid else None
            leaf = node.physical_charge if node is not None else 0
            virtual[where] += vol.virtual_charge
            physical[where] += leaf
            held_virtual += vol.virtual_charge
            held_physical += leaf
        virtual[first] += ps.used_virtual - held_virtual
        physical[first] += ps.used_physical - held_physical
        n = len(hosts)
        shares = []
        for i, h in enumerate(hosts):
            total = ps.total_capacity // n + (ps.total_capacity % n if i == 0 else 0)
            total_physical = ps.total_physical_capacity // n + (
                ps.total_physical_capacity % n if i == 0 else 0
            )
            shares.append(
                HostShare(
                    h.uuid, total, total - virtual[h.uuid], total_physical, total_physical - physical[h.uuid]
                )
            )
        if wanted is not None:
            shares = [s for s in shares if s.host_uuid == wanted.uuid]
        return shares
