"""``check_invariants``: every ledger equals the sum of its holders, trees are sound, every
reference resolves (DESIGN.md, Invariants)."""

from __future__ import annotations

from .entities import (
    HOLDING_STATES,
)
from .errors import (
    InvariantViolation,
)
from .networks import ip_int
from .state import CloudState


class InvariantsMixin(CloudState):
    # -- invariants --------------------------------------------------------------------
    def _node_holders(self) -> dict[str, int]:
        """How many holders reference each disk node (extended by the backup half)."""
        held: dict[str, int] = {}
        for vol in self.volumes:
            if vol.node_uuid:
                held[vol.node_uuid] = held.get(vol.node_uuid, 0) + 1
        for snap in self.volume_snapshots:
            held[snap.node_uuid] = held.get(snap.node_uuid, 0) + 1
        for image in self.images:
            for ref in image.backup_storage_refs:
                if ref.get("node_uuid"):
                    held[ref["node_uuid"]] = held.get(ref["node_uuid"], 0) + 1
        for node_uuid in self.image_caches.values():
            held[node_uuid] = held.get(node_uuid, 0) + 1
        self._extra_node_holders(held)
        return held

    def _chain_size_breaches(self) -> list[str]:
        """The remembered chain sizes (``StorageMixin._size_through``) equal a walk of each
        chain, and every remembered node's parent is remembered too (the walk stops there)."""
        breaches = []
        for uuid, size in self._chain_sizes.items():
            node = self.nodes.by_uuid(uuid)
            if node is None:
                breaches.append(f"the chain sizes remember freed disk {uuid}")
                continue
            walked = sum(n.actual_size for n in self.chain(node))
            if size != walked:
                breaches.append(
                    f"the chain sizes say {size} bytes through disk {uuid}, its chain holds {walked}"
                )
            if node.parent_uuid is not None and node.parent_uuid not in self._chain_sizes:
                breaches.append(f"the chain sizes remember disk {uuid} but not its parent {node.parent_uuid}")
        return breaches

    def check_invariants(self) -> None:
        """Raise ``InvariantViolation`` listing every breach (DESIGN.md, Invariants)."""
        breaches: list[str] = []
        cpu: dict[str, int] = {}
        mem: dict[str, int] = {}
        count: dict[str, int] = {}
        for vm in self.vms:
            if vm.state in HOLDING_STATES:
                if vm.host_uuid is None or vm.host_uuid not in self.hosts:
                    breaches.append(f"vm {vm.name} ({vm.uuid}) is {vm.state} without a host")
                    continue
                cpu[vm.host_uuid] = cpu.get(vm.host_uuid, 0) + vm.cpu_num
                mem[vm.host_uuid] = mem.get(vm.host_uuid, 0) + vm.memory_size
                count[vm.host_uuid] = count.get(vm.host_uuid, 0) + 1
            elif vm.host_uuid is not None:
                breaches.append(f"vm {vm.name} ({vm.uuid}) is {vm.state} but holds host {vm.host_uuid}")
            for vol_uuid in ([vm.root_volume_uuid] if vm.root_volume_uuid else []) + vm.data_volume_uuids:
                vol = self.volumes.find(vol_uuid)
                if vol is None:
                    breaches.append(f"vm {vm.name} ({vm.uuid}) has missing volume {vol_uuid}")
                elif vol.vm_uuid != vm.uuid:
                    breaches.append(f"volume {vol_uuid} of vm {vm.uuid} points at vm {vol.vm_uuid}")
            if vm.pending is None and vm.root_volume_uuid is None and vm.state != "Destroyed":
                breaches.append(f"vm {vm.name} ({vm.uuid}) has no root volume")
        for h in self.hosts:
            if h.used_cpu != cpu.get(h.uuid, 0):
                breaches.append(f"host {h.name}: used cpu {h.used_cpu} != held {cpu.get(h.uuid, 0)}")
            if h.used_memory != mem.get(h.uuid, 0):
                breaches.append(f"host {h.name}: used memory {h.used_memory} != held {mem.get(h.uuid, 0)}")
            if h.vm_count != count.get(h.uuid, 0):
                breaches.append(f"host {h.name}: vm count {h.vm_count} != {count.get(h.uuid, 0)}")
            if not 0 <= h.used_cpu <= h.total_cpu:
                breaches.append(f"host {h.name}: cpu ledger {h.used_cpu} outside 0..{h.total_cpu}")
            if not 0 <= h.used_memory <= h.total_memory:
                breaches.append(f"host {h.name}: memory ledger {h.used_memory} outside 0..{h.total_memory}")
        virtual: dict[str, int] = {}
        physical: dict[str, int] = {}
        children: dict[str, int] = {}
        for vol in self.volumes:
            if vol.primary_storage_uuid:
                virtual[vol.primary_storage_uuid] = (
                    virtual.get(vol.primary_storage_uuid, 0) + vol.virtual_charge
                )
            if vol.vm_uuid and vol.vm_uuid not in self.vms:
                breaches.append(f"volume {vol.uuid} attached to missing vm {vol.vm_uuid}")
            if vol.status == "Ready" and (vol.node_uuid is None or vol.node_uuid not in self.nodes):
                breaches.append(f"volume {vol.uuid} is Ready without a disk")
        for node in self.nodes:
            if (
                node.storage_uuid not in self.primary_storages
                and node.storage_uuid not in self.backup_storages
            ):
                breaches.append(f"disk {node.uuid} on missing storage {node.storage_uuid}")
            physical[node.storage_uuid] = physical.get(node.storage_uuid, 0) + node.physical_charge
            if node.virtual_charge:
                virtual[node.storage_uuid] = virtual.get(node.storage_uuid, 0) + node.virtual_charge
            if node.parent_uuid is not None:
                parent = self.nodes.find(node.parent_uuid)
                if parent is None:
                    breaches.append(f"disk {node.uuid} has missing parent {node.parent_uuid}")
                else:
                    children[parent.uuid] = children.get(parent.uuid, 0) + 1
                    if node.depth != parent.depth + 1:
                        breaches.append(f"disk {node.uuid} depth {node.depth} != parent's + 1")
            elif node.depth != 1:
                breaches.append(f"root disk {node.uuid} has depth {node.depth}")
            if not 0 <= node.actual_size <= node.virtual_size:
                breaches.append(f"disk {node.uuid} actual {node.actual_size} outside 0..{node.virtual_size}")
        held = self._node_holders()
        for node in self.nodes:
            if node.children != children.get(node.uuid, 0):
                breaches.append(
                    f"disk {node.uuid} counts {node.children} children, has {children.get(node.uuid, 0)}"
                )
            if node.refs != held.get(node.uuid, 0):
                breaches.append(
                    f"disk {node.uuid} ({node.role}) counts {node.refs} holders, has {held.get(node.uuid, 0)}"
                )
            if node.refs <= 0 and node.children == 0:
                breaches.append(f"disk {node.uuid} is hidden with no children (should be freed)")
        for uuid in held:
            if uuid not in self.nodes:
                breaches.append(f"a holder references freed disk {uuid}")
        breaches.extend(self._chain_size_breaches())
        for ps in self.primary_storages:
            if ps.used_virtual != virtual.get(ps.uuid, 0):
                breaches.append(
                    f"primary storage {ps.name}: virtual ledger {ps.used_virtual} != held "
                    f"{virtual.get(ps.uuid, 0)}"
                )
            if ps.used_physical != physical.get(ps.uuid, 0):
                breaches.append(
                    f"primary storage {ps.name}: physical ledger {ps.used_physical} != held "
                    f"{physical.get(ps.uuid, 0)}"
                )
            virtual_limit = ps.total_capacity if ps.admits_virtually else ps.used_virtual
            if not 0 <= ps.used_virtual <= virtual_limit:
                breaches.append(
                    f"primary storage {ps.name}: virtual ledger {ps.used_virtual} outside "
                    f"0..{ps.total_capacity}"
                )
            if not 0 <= ps.used_physical <= ps.total_physical_capacity:
                breaches.append(
                    f"primary storage {ps.name}: physical ledger {ps.used_physical} outside "
                    f"0..{ps.total_physical_capacity}"
                )
        for bs in self.backup_storages:
            if bs.used != physical.get(bs.uuid, 0):
                breaches.append(
                    f"backup storage {bs.name}: ledger {bs.used} != held {physical.get(bs.uuid, 0)}"
                )
            if not 0 <= bs.used <= bs.total_capacity:
                breaches.append(f"backup storage {bs.name}: ledger {bs.used} outside 0..{bs.total_capacity}")
        for l3 in self.l3_networks:
            for ip, nic_uuid in l3.used.items():
                if nic_uuid not in self.nics:
                    breaches.append(f"l3 {l3.name}: address {ip} held by missing nic {nic_uuid}")
        for nic in self.nics:
            owner = self.vms.find(nic.vm_uuid) if nic.vm_uuid is not None else None
            if nic.vm_uuid is not None and owner is None:
                breaches.append(f"nic {nic.uuid} of missing vm {nic.vm_uuid}")
            elif owner is not None and nic.uuid not in owner.nic_uuids:
                breaches.append(f"nic {nic.uuid} points at vm {owner.uuid}, which does not list it")
            network = self.l3_networks.find(nic.l3_network_uuid)
            if network is None:
                breaches.append(f"nic {nic.uuid} on missing l3 {nic.l3_network_uuid}")
            elif nic.ip and network.used.get(str(ip_int(nic.ip))) != nic.uuid:
                breaches.append(
                    f"nic {nic.uuid}: its address {nic.ip} is not held for it in l3 {network.name}"
                )
        for vm in self.vms:
            # a VM's networks are its NICs' (one entry per NIC), once it has its NICs
            if vm.nic_uuids:
                networks = sorted(self.nics.get(u).l3_network_uuid for u in vm.nic_uuids if u in self.nics)
                if networks != sorted(vm.l3_network_uuids):
                    breaches.append(
                        f"vm {vm.name} ({vm.uuid}) lists networks {vm.l3_network_uuids}, "
                        f"its nics are on {networks}"
                    )
            elif vm.l3_network_uuids and vm.state in HOLDING_STATES:
                breaches.append(f"vm {vm.name} ({vm.uuid}) is {vm.state} on networks without nics")
            for nic_uuid in vm.nic_uuids:
                listed = self.nics.find(nic_uuid)
                if listed is None or listed.vm_uuid != vm.uuid:
                    breaches.append(f"vm {vm.name} ({vm.uuid}) lists nic {nic_uuid}, which is not its own")
        for snap in self.volume_snapshots:
            if snap.parent_uuid is None:
                if snap.distance != 1:
                    breaches.append(f"snapshot {snap.uuid} is a tree root at distance {snap.distance}")
                continue
            base = self.volume_snapshots.find(snap.parent_uuid)
            if base is None:
                breaches.append(f"snapshot {snap.uuid} has missing parent {snap.parent_uuid}")
            elif base.volume_uuid != snap.volume_uuid:
                breaches.append(f"snapshot {snap.uuid} builds on snapshot {base.uuid} of another volume")
            elif snap.distance != base.distance + 1:
                breaches.append(f"snapshot {snap.uuid} distance {snap.distance} != parent's + 1")
            elif base.node_uuid not in self._ancestor_disks(snap.node_uuid)[1:]:
                breaches.append(f"snapshot {snap.uuid}: its disk does not build on its parent's disk")
        for vol in self.volumes:
            if vol.latest_snapshot_uuid is None:
                continue
            latest = self.volume_snapshots.find(vol.latest_snapshot_uuid)
            if latest is None or latest.volume_uuid != vol.uuid:
                breaches.append(
                    f"volume {vol.uuid}: latest snapshot {vol.latest_snapshot_uuid} is not its own"
                )
            elif vol.node_uuid is not None and latest.node_uuid not in self._ancestor_disks(vol.node_uuid):
                breaches.append(f"volume {vol.uuid}: its disk does not build on its latest snapshot's disk")
        breaches.extend(self._extra_invariant_breaches())
        for collection in self._watching.values():  # every secondary index equals a scan
            breaches.extend(collection.index_breaches())
        if breaches:
            raise InvariantViolation(breaches)

    def _ancestor_disks(self, node_uuid: str) -> list[str]:
        """The disk and its ancestors, leaf first, as far as they exist (``chain`` asserts)."""
        out: list[str] = []
        node = self.nodes.find(node_uuid)
        while node is not None and len(out) <= len(self.nodes):
            out.append(node.uuid)
            node = self.nodes.find(node.parent_uuid) if node.parent_uuid is not None else None
        return out

    def _extra_invariant_breaches(self) -> list[str]:
        return self._backup_invariant_breaches()
