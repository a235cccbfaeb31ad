"""Restores from backups (a new VM from a VM backup; a VM or a volume back to a backup),
single-volume backups, and copying a VM backup to another backup storage.

A restore writes the backup's data into a new disk (a copy of the backup chain's allocated
size; thick disks take their full size): the volume's old disk is released by the
copy-on-write rules, and the next backup of the volume is a full one (the data it would be
an increment of is gone).
"""

from __future__ import annotations

from typing import Any

from .backups import BACKUP_VM_STATES, keeps_no_backups
from .entities import Backup, BackupStorage, DiskNode, Vm, Volume
from .errors import (
    CapacityExhausted,
    Conflict,
    DomainError,
    InvalidArgument,
    InvalidState,
    NotFound,
    Unreachable,
)
from .state import CloudState
from .storage import virtual_charge
from .transactions import operation
from .vms import StartPolicy, start_policy


class RestoreMixin(CloudState):
    # -- finding a backup's data ------------------------------------------------------------
    def _group_members(self, group: Any) -> list[Backup]:
        members: list[Backup] = self.group_backups(group)
        if not members:
            uuid = self._group_uuid(group)
            raise NotFound(
                "backup_group",
                uuid,
                message=f"no backup found in backup group {uuid}",
                reason_code="backup_group_empty",
                backup_group_uuid=uuid,
            )
        return members

    def _backup_source(self, record: Backup, backup_storage: Any = None) -> tuple[BackupStorage, DiskNode]:
        """``(bs, node)``: where the record's data can be read from (the named storage, or
        the first of its storages that holds it)."""
        refs = [r for r in record.backup_storage_refs if r["status"] == "Ready"]
        if backup_storage is not None:
            bs = self.backup_storages.get(backup_storage)
            refs = [r for r in refs if r["backup_storage_uuid"] == bs.uuid]
            if not refs:
                raise InvalidArgument(
                    "backup_storage",
                    "the backup is not there",
                    reason_code="backup_not_on_storage",
                    backup_uuid=record.uuid,
                    backup_storage_uuid=bs.uuid,
                )
        if record.status != "Ready" or not refs:
            raise InvalidState("backup", record.uuid, record.status, "restore", ("Ready",))
        last: DomainError | None = None
        for ref in refs:
            bs = self.backup_storages.get(ref["backup_storage_uuid"])
            if bs.status != "Connected":
                last = Unreachable("backup_storage", bs.uuid)
                continue
            entry = self._catalog(bs.uuid).get(record.uuid)
            if entry is None or entry["deleted"]:
                last = InvalidState(
                    "backup",
                    record.uuid,
                    "Missing",
                    "restore",
                    ("Ready",),
                    message=f"the data of backup {record.uuid} is missing on backup storage {bs.uuid}",
                    reason_code="backup_data_missing",
                    backup_uuid=record.uuid,
                    backup_storage_uuid=bs.uuid,
                )
                continue
            return bs, self.nodes.get(entry["node_uuid"])
        assert last is not None  # refs is not empty: each one failed with an error
        raise last

    def _restore_into(self, volume: Volume, node: Any) -> None:
        """The volume's disk becomes a copy of the backup data in ``node``."""
        ps = self.primary_storages.get(volume.primary_storage_uuid)
        if ps.status != "Connected":
            raise Unreachable("primary_storage", ps.uuid)
        size = min(self.chain_allocated_size(node), volume.virtual_size)
        self._replace_leaf(volume, None, volume.virtual_size if volume.thick else size)

    def _stopped_owner(self, volume: Volume, operation_name: str) -> None:
        if volume.vm_uuid is None:
            return
        vm = self.vms.get(volume.vm_uuid)
        if vm.state != "Stopped":
            raise InvalidState("vm", vm.uuid, vm.state, operation_name, ("Stopped",))

    # -- a VM back to its backup ------------------------------------------------------------
    @operation("backup.revert_vm")
    def revert_vm_from_backup(self, group: Any, backup_storage: Any = None) -> Vm:
        """Put a Stopped VM's volumes back to a VM backup (every volume of the group that
        still exists and is not another VM's now).  Returns the VM."""
        members = self._group_members(group)
        self._fault_point("backup.revert_vm", group=members[0].group_uuid, vm=members[0].vm_uuid)
        vm = self.vms.find(members[0].vm_uuid) if members[0].vm_uuid else None
        if vm is None:
            raise NotFound(
                "vm",
                members[0].vm_uuid or "null",
                message=f"the vm {members[0].vm_uuid} of backup group {members[0].group_uuid} no longer exists",
                reason_code="backup_group_vm_gone",
                vm_uuid=members[0].vm_uuid,
                backup_group_uuid=members[0].group_uuid,
            )
        if vm.state != "Stopped":
            raise InvalidState("vm", vm.uuid, vm.state, "revert_from_backup", ("Stopped",))
        for record in members:
            volume = self.volumes.find(record.volume_uuid)
            if volume is None or volume.status != "Ready":
                continue  # the volume is gone: nothing to put back
            if volume.vm_uuid not in (None, vm.uuid):
                continue  # now another VM's disk: not this VM's to revert
            _, node = self._backup_source(record, backup_storage)
            self._restore_into(volume, node)
        self._set(vm, "last_op_date", self.clock.now())
        return vm

    # -- a new VM from a VM backup ----------------------------------------------------------
    @operation("backup.create_vm")
    def create_vm_from_backup(
        self,
        group: Any,
        name: str,
        *,
        backup_storage: Any = None,
        instance_offering: Any = None,
        cpu_num: int | None = None,
        memory_size: int | None = None,
        l3_networks: Any = None,
        zone: Any = None,
        cluster: Any = None,
        host: Any = None,
        primary_storage: Any = None,
        primary_storage_for_data: Any = None,
        strategy: StartPolicy | str = StartPolicy.START,
        description: str = "",
        resource_uuid: str | None = None,
    ) -> Vm:
        """A new VM whose volumes are copies of a VM backup's (root and data), shaped like
        the backed-up VM unless told otherwise (offering or cpu/memory, networks).
        ``StartPolicy.START`` leaves it Running, ``STOPPED`` Stopped (``NONE`` is refused:
        the data is restored at once); placement follows VM creation (storage first, then a
        host of a cluster reaching it)."""
        members = self._group_members(group)
        self._fault_point("backup.create_vm", group=members[0].group_uuid, name=name)
        policy = start_policy(strategy)
        if policy is StartPolicy.NONE:
            raise InvalidArgument(
                "strategy",
                "none",
                message="a vm created from a backup is restored at once: it cannot wait for its first start",
            )
        if not isinstance(name, str) or not name or len(name) > 255:
            raise InvalidArgument("name", "must be 1 to 255 characters")
        root = next((r for r in members if r.type == "Root"), None)
        if root is None:
            raise InvalidArgument(
                "backup_group",
                "no root volume backup",
                reason_code="backup_group_no_root",
                backup_group_uuid=members[0].group_uuid,
            )
        sources = [
            (r,) + self._backup_source(r, backup_storage)
            for r in [root] + [r for r in members if r is not root]
        ]
        meta = root.metadata
        uuid = self._claim_uuid(resource_uuid, self.vms)
        offering = (
            self.instance_offerings.get(instance_offering)
            if instance_offering is not None
            else (
                self.instance_offerings.find(meta.get("instance_offering_uuid")) if cpu_num is None else None
            )
        )
        cpu = offering.cpu_num if offering is not None else (cpu_num or meta.get("cpu_num"))
        memory = offering.memory_size if offering is not None else (memory_size or meta.get("memory_size"))
        if not cpu or not memory or cpu <= 0 or memory <= 0:
            raise InvalidArgument(
                "instance_offering",
                "give an instance offering, or a cpu count and a memory size",
                reason_code="instance_offering_or_sizes",
            )
        if l3_networks:
            nets = [self.l3_networks.get(n) for n in l3_networks]
        else:
            default = self.l3_networks.find(meta.get("default_l3_network_uuid"))
            nets = [default] if default is not None else []
        if not nets:
            raise InvalidArgument("l3_networks", "at least one L3 network is needed")
        hint_host = self.hosts.get(host) if host is not None else None
        hint_cluster = self.clusters.get(cluster) if cluster is not None else None
        zone_uuid = (
            self.zones.get(zone).uuid
            if zone is not None
            else hint_host.zone_uuid
            if hint_host is not None
            else hint_cluster.zone_uuid
            if hint_cluster is not None
            else nets[0].zone_uuid
        )
        ps_root = self.primary_storages.get(primary_storage) if primary_storage is not None else None
        ps_data = (
            self.primary_storages.get(primary_storage_for_data)
            if primary_storage_for_data is not None
            else None
        )
        now = self.clock.now()
        vm = Vm(
            uuid=uuid,
            name=name,
            zone_uuid=zone_uuid,
            cpu_num=cpu,
            memory_size=memory,
            instance_offering_uuid=offering.uuid if offering is not None else None,
            image_uuid=meta.get("root_image_uuid") if meta.get("root_image_uuid") in self.images else None,
            description=description,
            state="Stopped",
            l3_network_uuids=[n.uuid for n in nets],
            platform=meta.get("platform") or "Linux",
            guest_os_type=meta.get("guest_os_type") or "",
            architecture=meta.get("architecture") or "x86_64",
            create_date=now,
            last_op_date=now,
        )
        self._add(self.vms, vm)
        scope = (
            {hint_host.cluster_uuid}
            if hint_host is not None
            else {hint_cluster.uuid}
            if hint_cluster is not None
            else None
        )
        candidates = (
            [ps_root]
            if ps_root is not None
            else [ps for ps in self.primary_storages if ps.zone_uuid == zone_uuid]
        )
        if scope is not None:
            candidates = [ps for ps in candidates if scope.intersection(ps.cluster_uuids)]

        def need(ps: Any, volumes: Any) -> tuple[int, int]:
            virtual = physical = 0
            for _record, _bs, node in volumes:
                virtual += virtual_charge(ps, node.virtual_size)
                physical += node.virtual_size if ps.default_thick else self.chain_allocated_size(node)
            return virtual, physical

        root_part = sources if ps_data is None else sources[:1]
        if not candidates:
            raise CapacityExhausted(
                "primary_storage.virtual",
                sources[0][2].virtual_size,
                0,
                message=("no primary storage is attached to a cluster that can run the vm"),
            )
        ps = self._pick_primary_storage(candidates, lambda ps: need(ps, root_part))
        clusters = set(ps.cluster_uuids)
        if ps_data is not None:
            self._pick_primary_storage([ps_data], lambda p: need(p, sources[1:]))
            clusters &= set(ps_data.cluster_uuids)
        if scope is not None:
            clusters &= scope
        chosen = self._choose_host(vm, host=hint_host, clusters=frozenset(clusters))
        data_uuids = []
        for index, (_record, _bs, node) in enumerate(sources):
            target = ps if (index == 0 or ps_data is None) else ps_data
            thick = target.default_thick
            charge = virtual_charge(target, node.virtual_size)
            self._charge_virtual(target, charge)
            disk = self._new_node(
                target,
                None,
                node.virtual_size,
                node.virtual_size if thick else self.chain_allocated_size(node),
                "leaf",
                thick=thick,
            )
            kind = "Root" if index == 0 else "Data"
            volume = Volume(
                uuid=self.ids.uuid(),
                name=f"{'ROOT' if index == 0 else 'DATA'}-for-{name}",
                type=kind,
                virtual_size=node.virtual_size,
                vm_uuid=vm.uuid,
                primary_storage_uuid=target.uuid,
                node_uuid=disk.uuid,
                thick=thick,
                virtual_charge=charge,
                status="Ready",
                device_id=index,
                root_image_uuid=vm.image_uuid if index == 0 else None,
                create_date=now,
                last_op_date=now,
            )
            self._add(self.volumes, volume)
            if index == 0:
                self._set(vm, "root_volume_uuid", volume.uuid)
            else:
                data_uuids.append(volume.uuid)
        self._set(vm, "data_volume_uuids", data_uuids)
        for i, l3 in enumerate(nets):
            nic = self._allocate_nic(vm, l3, i)
            self._set(vm, "nic_uuids", vm.nic_uuids + [nic.uuid])
        self._hold_host(vm, chosen)
        self._set(vm, "state", "Running")
        if policy is StartPolicy.STOPPED:
            self._stop(vm)
        return vm

    # -- single-volume backups ----------------------------------------------------------------
    @operation("backup.create_volume")
    def create_volume_backup(
        self,
        volume: Any,
        backup_storage: Any,
        name: str,
        *,
        description: str = "",
        mode: str | None = None,
        resource_uuid: str | None = None,
    ) -> Backup:
        """Back up one volume of a Running or Paused VM (no group): full the first time on
        that storage (the allocated size), then incremental (bytes written since)."""
        volume = self._volume(volume)
        bs = self.backup_storages.get(backup_storage)
        self._fault_point("backup.create_volume", volume=volume.uuid, backup_storage=bs.uuid, name=name)
        self._check_backup_request(bs, name, description, mode)
        if volume.vm_uuid is None:
            raise InvalidState(
                "volume",
                volume.uuid,
                "Detached",
                "backup",
                message=f"volume {volume.uuid} is not attached to any vm, so it cannot be backed up",
                reason_code="volume_not_attached",
                volume_uuid=volume.uuid,
            )
        vm = self.vms.get(volume.vm_uuid)
        if vm.state not in BACKUP_VM_STATES:
            raise InvalidState(
                "vm",
                vm.uuid,
                vm.state,
                "backup",
                BACKUP_VM_STATES,
                reason_code="volume_backup_vm_state",
                volume_uuid=volume.uuid,
                vm_uuid=vm.uuid,
            )
        self._check_backup_target(bs, vm)
        if resource_uuid is not None and (
            resource_uuid in self.backups or any(resource_uuid in c for c in self.backup_catalogs.values())
        ):
            raise Conflict("backup", resource_uuid)
        parent, size, kind = self._backup_plan(volume, bs.uuid, mode)
        now = self.clock.now()
        node = self._new_node(bs, parent, volume.virtual_size, size, "backup")
        self._set(self, "_backup_seq", self._backup_seq + 1)
        record: Backup = self._add_backup_record(
            resource_uuid or self.ids.uuid(), name, vm, volume, None, bs, node, kind, description, now
        )
        self._catalog_put(bs.uuid, self._catalog_entry(record, None, bs.uuid))
        return record

    @operation("backup.delete_volume")
    def delete_volume_backup(
        self,
        backup: Any,
        backup_storages: Any = None,
        mode: str = "Permissive",
        handle_dependency: bool = False,
    ) -> None:
        """Delete one volume backup (the rules of ``delete_backup_group``); an unknown uuid
        succeeds.  A VM backup is all or nothing in this model: deleting one of its members
        deletes the whole VM backup."""
        record = self.backups.by_uuid(backup) if isinstance(backup, str) else backup
        members = (
            []
            if record is None
            else ([record] if record.group_uuid is None else self.group_backups(record.group_uuid))
        )
        self._delete_backups(
            members,
            backup_storages,
            mode,
            handle_dependency,
            lambda involved: self._fault_point(
                "backup.delete_volume",
                backup=record.uuid if record else backup,
                backup_storage=involved[0] if involved else None,
            ),
        )

    @operation("backup.revert_volume")
    def revert_volume_from_backup(self, backup: Any, backup_storage: Any = None) -> Volume:
        """Put a volume back to one of its backups (its VM Stopped).  Returns the volume."""
        record = self.backups.get(backup)
        self._fault_point("backup.revert_volume", backup=record.uuid, volume=record.volume_uuid)
        volume = self.volumes.find(record.volume_uuid)
        if volume is None or volume.status != "Ready":
            raise InvalidState(
                "backup",
                record.uuid,
                "Orphaned",
                "revert",
                message=f"the volume {record.volume_uuid} of backup {record.uuid} no longer exists",
                reason_code="backup_volume_gone",
                volume_uuid=record.volume_uuid,
                backup_uuid=record.uuid,
            )
        self._stopped_owner(volume, "revert_from_backup")
        _, node = self._backup_source(record, backup_storage)
        self._restore_into(volume, node)
        return volume

    # -- copies between backup storages ---------------------------------------------------------
    @operation("backup.copy")
    def copy_backup_group(self, group: Any, source: Any, destination: Any) -> list[Backup]:
        """Copy a VM backup to another image store: each member gets a full copy of its
        data there (all or nothing) and a second storage ref.  Members already there stay
        as they are.  Returns the members."""
        members = self._group_members(group)
        src = self.backup_storages.get(source)
        dst = self.backup_storages.get(destination)
        self._fault_point("backup.copy", group=members[0].group_uuid, backup_storage=dst.uuid)
        if src.uuid == dst.uuid:
            raise InvalidArgument(
                "destination_backup_storage",
                "the same storage",
                reason_code="same_backup_storage",
            )
        for bs in (src, dst):
            if not bs.keeps_backups:
                raise keeps_no_backups(bs, "destination_backup_storage")
        if dst.state != "Enabled":
            raise InvalidState(
                "backup_storage",
                dst.uuid,
                dst.state,
                "backup",
                ("Enabled",),
                reason_code="backup_storage_state",
                backup_storage_state=dst.state,
            )
        if dst.status != "Connected":
            raise Unreachable("backup_storage", dst.uuid)
        plans = []
        for record in members:
            if self._backup_ref(record, dst.uuid) is not None:
                continue
            _, node = self._backup_source(record, src.uuid)
            plans.append((record, node, self.chain_allocated_size(node)))
        self._check_physical(dst, sum(p[2] for p in plans))
        now = self.clock.now()
        for record, node, size in plans:
            copy = self._new_node(dst, None, node.virtual_size, size, "backup")
            ref = {
                "backup_storage_uuid": dst.uuid,
                "node_uuid": copy.uuid,
                "status": "Ready",
                "create_date": now,
                "last_op_date": now,
            }
            self._set(record, "backup_storage_refs", record.backup_storage_refs + [ref])
            group = self.backup_groups.by_uuid(record.group_uuid)
            self._catalog_put(dst.uuid, self._catalog_entry(record, group, dst.uuid))
        return members


__all__ = ["RestoreMixin"]
