"""VM backups on backup storage: groups, incremental chains, delete modes, sync, images.

Mixed into ``Cloud``.  Two views of the same data are kept apart on purpose, because
drift between them is what ``sync_backup_storage`` exists for:

* the *database*: ``cloud.backups`` (one record per volume backup) and
  ``cloud.backup_groups`` (one record per VM backup);
* what each backup storage *holds*: ``cloud.backup_catalogs[bs_uuid]``, the storage's own
  metadata catalogue (one entry per backup it keeps, with everything needed to register
  the backup again), each entry holding one reference on the backup's disk node.

Backup data are ``DiskNode``s (role ``backup``) in the shared copy-on-write machinery: a
full backup is a root node, an incremental one a child of the previous backup of that
volume on that storage.  Records are not holders; catalogue entries and images made from
backups are.  So data stays charged while the storage keeps it, even when the database has
forgotten it (an orphan), and data that later incrementals build on stays, hidden, once
nothing holds it directly.
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Callable
from typing import Any, NamedTuple

from .entities import (
    DATA_TEMPLATE,
    ROOT_TEMPLATE,
    Backup,
    BackupGroup,
    BackupStorage,
    DiskNode,
    Image,
    Vm,
    Volume,
)
from .errors import Conflict, InvalidArgument, InvalidState, NotFound, Unreachable
from .kinds import ImageKind
from .state import CloudState
from .transactions import operation
from .util import copy_json

DELETE_MODES = ("Permissive", "Enforcing")
BACKUP_VM_STATES = ("Running", "Paused")
# A chain holds one full backup and at most this many incrementals; then a full one starts
# a new chain.
MAX_INCREMENTAL_BACKUPS = 64
IMAGE_PLATFORMS = ("Linux", "Windows", "Other", "Paravirtualization", "WindowsVirtio")
IMAGE_ARCHITECTURES = ("x86_64", "aarch64", "mips64el", "loongarch64")
TEMPLATE_MEDIA_TYPES = (ROOT_TEMPLATE, DATA_TEMPLATE)


def keeps_no_backups(bs: BackupStorage, field: str = "backup_storage") -> InvalidArgument:
    """The error for a backup storage of a kind that keeps no volume backups; the facts
    (``reason_code``, ``backup_storage_kind``, ``backup_storage_uuid``) let a dialect word it."""
    return InvalidArgument(
        field,
        "keeps no volume backups",
        message=f"backup storage {bs.uuid} is of kind {bs.type}, which keeps no volume backups",
        reason_code="backup_storage_kind",
        backup_storage_kind=bs.type,
        backup_storage_uuid=bs.uuid,
    )


class SyncCounts(NamedTuple):
    """What ``sync_backup_storage`` changed: refs registered again, refs dropped."""

    new: int
    deleted: int


class BackupMixin(CloudState):
    _backup_seq = 0  # creation counter (an instance attribute once the first backup exists)

    # -- the storages' catalogues --------------------------------------------------------
    @property
    def backup_catalogs(self) -> dict[str, dict[str, dict[str, Any]]]:
        """What each backup storage holds: ``{bs_uuid: {backup_uuid: entry}}``.  An entry is
        ``{"seq", "node_uuid", "deleted", "backup": {record fields},
        "group": {group fields}}``; ``deleted`` marks data kept only for dependants."""
        catalogs = self.__dict__.get("_backup_catalogs")
        if catalogs is None:
            catalogs = self.__dict__["_backup_catalogs"] = {}
        return catalogs

    def _catalog(self, bs_uuid: str) -> dict[str, dict[str, Any]]:
        return self.backup_catalogs.setdefault(bs_uuid, {})

    def _catalog_entries(self, bs_uuid: str) -> list[dict[str, Any]]:
        """Entries of one storage, oldest first (dict order is not kept by undo)."""
        return sorted(self._catalog(bs_uuid).values(), key=lambda e: e["seq"])

    def _volume_index(self) -> dict[tuple[str, str], list[tuple[int, str]]]:
        """``(bs_uuid, volume_uuid) -> [(seq, backup_uuid)]`` sorted by seq: the catalogue
        entries of one volume on one storage (derived from the catalogues, kept in step)."""
        index = self.__dict__.get("_backup_volume_index")
        if index is None:
            index = {}
            for bs_uuid, catalog in self.backup_catalogs.items():
                for uuid, entry in catalog.items():
                    index.setdefault((bs_uuid, entry["backup"]["volume_uuid"]), []).append(
                        (entry["seq"], uuid)
                    )
            for items in index.values():
                items.sort()
            self.__dict__["_backup_volume_index"] = index
        return index

    def _index_add(self, bs_uuid: str, entry: dict[str, Any]) -> None:
        insort(
            self._volume_index().setdefault((bs_uuid, entry["backup"]["volume_uuid"]), []),
            (entry["seq"], entry["backup"]["uuid"]),
        )

    def _index_remove(self, bs_uuid: str, entry: dict[str, Any]) -> None:
        self._volume_index()[(bs_uuid, entry["backup"]["volume_uuid"])].remove(
            (entry["seq"], entry["backup"]["uuid"])
        )

    def _catalog_put(self, bs_uuid: str, entry: dict[str, Any]) -> None:
        self._volume_index()  # built before the change it is then kept in step with
        catalog = self._catalog(bs_uuid)
        key = entry["backup"]["uuid"]
        old = catalog.get(key)
        catalog[key] = entry
        if old is None:
            self._index_add(bs_uuid, entry)
        if self._undo is not None:
            if old is None:

                def undo() -> None:
                    catalog.pop(key, None)
                    self._index_remove(bs_uuid, entry)

                self._undo.append(undo)
            else:
                self._undo.append(lambda: catalog.__setitem__(key, old))

    def _erase_backup_data(self, bs_uuid: str, backup_uuid: str) -> None:
        """The storage deletes one backup: its entry goes and its node loses that holder
        (freed, or kept hidden while later incrementals or images need it)."""
        self._volume_index()  # built before the change it is then kept in step with
        catalog = self._catalog(bs_uuid)
        entry = catalog.pop(backup_uuid)
        self._index_remove(bs_uuid, entry)
        if self._undo is not None:

            def undo() -> None:
                catalog[backup_uuid] = entry
                self._index_add(bs_uuid, entry)

            self._undo.append(undo)
        self._release_node(self.nodes.get(entry["node_uuid"]))

    def _purge_retired(self, bs_uuid: str, *, update_records: bool = True) -> None:
        """Remove data kept only for dependants once no dependant is left (a chain that
        became fully deletable goes together)."""
        changed = True
        while changed:
            changed = False
            retired = sorted(
                (e for e in self._catalog(bs_uuid).values() if e["deleted"]), key=lambda e: e["seq"]
            )
            for entry in retired:
                if self.nodes.get(entry["node_uuid"]).children == 0:
                    uuid = entry["backup"]["uuid"]
                    self._erase_backup_data(bs_uuid, uuid)
                    record = self.backups.by_uuid(uuid)
                    if update_records and record is not None:
                        self._drop_backup_ref(record, bs_uuid)
                    changed = True

    # -- lookups -------------------------------------------------------------------------
    def _group_uuid(self, group: Any) -> str:
        if isinstance(group, BackupGroup):
            return group.uuid
        found = self.backup_groups.find(group)
        return found.uuid if found is not None else group

    def group_backups(self, group: Any) -> list[Backup]:
        """The group's volume backups still in the database (root first)."""
        grp = self.backup_groups.by_uuid(self._group_uuid(group))
        if grp is None:
            return []
        out = []
        for uuid in grp.backup_uuids:
            record = self.backups.by_uuid(uuid)
            if record is not None:
                out.append(record)
        return out

    def backup_node(self, backup: Any, backup_storage: Any) -> DiskNode | None:
        """The disk node holding ``backup``'s data on that storage, if the storage has it."""
        uuid = backup.uuid if isinstance(backup, Backup) else backup
        bs = self.backup_storages.get(backup_storage)
        entry = self._catalog(bs.uuid).get(uuid)
        return self.nodes.get(entry["node_uuid"]) if entry is not None else None

    def orphan_backups(self, backup_storage: Any) -> list[dict[str, Any]]:
        """Catalogue entries of backups the database does not know on that storage (what
        the next sync registers again)."""
        bs = self.backup_storages.get(backup_storage)
        return [
            e
            for e in self._catalog_entries(bs.uuid)
            if not e["deleted"]
            and self._backup_ref(self.backups.by_uuid(e["backup"]["uuid"]), bs.uuid) is None
        ]

    @staticmethod
    def _backup_ref(record: Backup | None, bs_uuid: str) -> dict[str, Any] | None:
        if record is None:
            return None
        for ref in record.backup_storage_refs:
            if ref["backup_storage_uuid"] == bs_uuid:
                return ref
        return None

    def _chain_tip(self, volume_uuid: str, bs_uuid: str) -> tuple[Backup, dict[str, Any]] | None:
        """The latest Ready backup of the volume whose data that storage still holds."""
        catalog = self._catalog(bs_uuid)
        volume = self.volumes.by_uuid(volume_uuid)
        base = volume.backup_base_seq if volume is not None else 0
        for seq, uuid in reversed(self._volume_index().get((bs_uuid, volume_uuid), ())):
            if seq <= base:
                break  # taken before the volume's disk was replaced: no base for an increment
            entry = catalog[uuid]
            if entry["deleted"]:
                continue
            record = self.backups.by_uuid(uuid)
            ref = self._backup_ref(record, bs_uuid)
            if record is None or ref is None or ref["status"] != "Ready" or record.status != "Ready":
                continue
            return record, entry
        return None

    def vm_for_root_volume(self, volume: Any) -> Vm:
        """The VM a root volume belongs to (VM backups are addressed by root volume)."""
        vol = self._volume(volume)
        if vol.type != "Root":
            raise InvalidArgument(
                "root_volume", "not a root volume", reason_code="not_root_volume", volume_uuid=vol.uuid
            )
        vm_uuid = vol.vm_uuid or vol.last_vm_uuid
        if vm_uuid is None:
            raise NotFound(
                "vm",
                vol.uuid,
                message=f"no vm owns root volume {vol.uuid}",
                reason_code="root_volume_without_vm",
                volume_uuid=vol.uuid,
            )
        return self.vms.get(vm_uuid)

    # -- record bookkeeping --------------------------------------------------------------
    def _drop_backup_ref(self, record: Backup, bs_uuid: str) -> None:
        """The database forgets ``record`` on that storage; a record with no ref left goes,
        one whose refs are all Deleted becomes Deleted."""
        refs = [r for r in record.backup_storage_refs if r["backup_storage_uuid"] != bs_uuid]
        if len(refs) == len(record.backup_storage_refs):
            return
        self._set(record, "backup_storage_refs", refs)
        if not refs:
            self._remove_backup_record(record)
        elif all(r["status"] == "Deleted" for r in refs):
            self._set(record, "status", "Deleted")

    def _remove_backup_record(self, record: Backup) -> None:
        self._remove(self.backups, record)
        group = self.backup_groups.by_uuid(record.group_uuid)
        if group is not None and not any(self.backups.by_uuid(u) for u in group.backup_uuids):
            self._remove(self.backup_groups, group)

    # -- create ----------------------------------------------------------------------------
    @operation("backup.create")
    def create_vm_backup(
        self,
        vm: Any,
        backup_storage: Any,
        name: str,
        *,
        description: str = "",
        resource_uuid: str | None = None,
        mode: str | None = None,
        root_volume: Any = None,
    ) -> list[Backup]:
        """Back up every volume of a Running or Paused VM (root first, then data volumes)
        onto an image store, as one group whose uuid is ``resource_uuid`` when given.

        A volume's first backup on that storage is full (the volume's allocated size);
        later ones are incremental (bytes written since its previous backup, at most the
        virtual size) on top of the previous one; ``mode="full"`` forces a full backup.
        All or nothing: if the storage cannot hold the whole group, or any member fails,
        nothing remains.  ``root_volume`` may name the VM by its root volume instead.
        """
        bs = self.backup_storages.get(backup_storage)
        vm_key = vm.uuid if hasattr(vm, "uuid") else vm
        self._fault_point("backup.create", vm=vm_key, backup_storage=bs.uuid, name=name)
        self._check_backup_request(bs, name, description, mode)
        vm = self.vm_for_root_volume(root_volume) if vm is None else self._vm(vm)
        if vm.state not in BACKUP_VM_STATES:
            raise InvalidState(
                "vm",
                vm.uuid,
                vm.state,
                "backup",
                BACKUP_VM_STATES,
                reason_code="vm_backup_state",
                vm_uuid=vm.uuid,
            )
        self._check_backup_target(bs, vm)
        if resource_uuid is not None:
            if (
                resource_uuid in self.backup_groups
                or resource_uuid in self.backups
                or any(
                    e["backup"]["group_uuid"] == resource_uuid
                    for c in self.backup_catalogs.values()
                    for e in c.values()
                )
            ):
                raise Conflict("backup_group", resource_uuid)
        volumes = self.vm_volumes(vm)
        plans = []
        for vol in volumes:
            plans.append((vol, *self._backup_plan(vol, bs.uuid, mode)))
        # The storage reserves the whole group first, as one request.
        self._check_physical(bs, sum(p[2] for p in plans))
        now = self.clock.now()
        group_uuid = resource_uuid or self.ids.uuid()
        records: list[Backup] = []
        for vol, parent, size, kind in plans:
            self._fault_point("backup.create.volume", vm=vm.uuid, volume=vol.uuid, backup_storage=bs.uuid)
            node = self._new_node(bs, parent, vol.virtual_size, size, "backup")
            self._set(self, "_backup_seq", self._backup_seq + 1)
            record = self._add_backup_record(
                self.ids.uuid(), name, vm, vol, group_uuid, bs, node, kind, description, now
            )
            records.append(record)
        group = BackupGroup(
            uuid=group_uuid,
            name=name,
            vm_uuid=vm.uuid,
            backup_uuids=[r.uuid for r in records],
            description=description or "",
            backup_storage_uuid=bs.uuid,
            create_date=now,
        )
        self._add(self.backup_groups, group)
        for record in records:
            self._catalog_put(bs.uuid, self._catalog_entry(record, group, bs.uuid))
        return records

    def _backup_plan(self, vol: Volume, bs_uuid: str, mode: str | None) -> tuple[DiskNode | None, int, str]:
        """How a backup of ``vol`` on that storage is taken: ``(parent, size, kind)``, an
        increment on the volume's latest backup there (the bytes written since), or full
        (the chain's allocated size) the first time, when ``mode`` is "full" or when the
        increments are too deep.  The volume must be Ready on a reachable storage."""
        if vol.status != "Ready" or vol.node_uuid is None:
            raise InvalidState("volume", vol.uuid, vol.status, "backup", ("Ready",))
        ps = self.primary_storages.get(vol.primary_storage_uuid)
        if ps.status != "Connected":
            raise Unreachable("primary_storage", ps.uuid)
        tip = None if mode == "full" else self._chain_tip(vol.uuid, bs_uuid)
        parent = self.nodes.get(tip[1]["node_uuid"]) if tip is not None else None
        if parent is not None and (
            parent.depth > MAX_INCREMENTAL_BACKUPS or parent.depth >= self.settings.max_chain_depth
        ):
            parent = None
        if parent is None:
            return None, self.chain_allocated_size(self.nodes.get(vol.node_uuid)), "full"
        assert tip is not None  # the parent is the tip's node
        delta = max(vol.bytes_written - tip[0].written_mark, 0)
        return parent, min(delta, vol.virtual_size), "incremental"

    def _catalog_entry(self, record: Backup, group: BackupGroup | None, bs_uuid: str) -> dict[str, Any]:
        """The storage's own record of a backup it holds (what survives the database)."""
        ref = self._backup_ref(record, bs_uuid)
        assert ref is not None  # the record was just made with its ref on that storage
        fields = record.to_dict()
        del fields["backup_storage_refs"]
        return {
            "seq": record.seq,
            "node_uuid": ref["node_uuid"],
            "deleted": False,
            "backup": fields,
            "group": group.to_dict() if group is not None else None,
        }

    def _check_backup_request(
        self, bs: BackupStorage, name: object, description: str | None, mode: str | None
    ) -> None:
        """The arguments of a backup request (a VM's or one volume's) and the storage's
        readiness to take backups, checked before anything else is looked up."""
        if not isinstance(name, str) or not name or len(name) > 255:
            raise InvalidArgument("name", "must be 1 to 255 characters")
        if description is not None and len(description) > 2048:
            raise InvalidArgument("description", "must be at most 2048 characters")
        if mode not in (None, "full"):
            raise InvalidArgument("mode", "only full is accepted", reason_code="backup_mode", mode=mode)
        if not bs.keeps_backups:
            raise keeps_no_backups(bs)
        if bs.state != "Enabled":
            raise InvalidState(
                "backup_storage",
                bs.uuid,
                bs.state,
                "backup",
                ("Enabled",),
                reason_code="backup_storage_state",
                backup_storage_state=bs.state,
            )

    def _check_backup_target(self, bs: BackupStorage, vm: Vm) -> None:
        """The storage can be reached and serves the zone of the VM being backed up."""
        if bs.status != "Connected":
            raise Unreachable("backup_storage", bs.uuid)
        if vm.zone_uuid not in bs.zone_uuids:
            raise InvalidArgument(
                "backup_storage",
                "not attached to the vm's zone",
                reason_code="backup_storage_zone",
                backup_storage_uuid=bs.uuid,
                zone_uuid=vm.zone_uuid,
                vm_uuid=vm.uuid,
            )

    def _add_backup_record(
        self,
        uuid: str,
        name: str,
        vm: Vm,
        vol: Volume,
        group_uuid: str | None,
        bs: BackupStorage,
        node: DiskNode,
        kind: str,
        description: str | None,
        now: float,
    ) -> Backup:
        """The record of one volume backup whose data is ``node`` on ``bs`` (a VM backup's
        member, or a single volume's backup when ``group_uuid`` is None), added."""
        record = Backup(
            uuid=uuid,
            name=name,
            volume_uuid=vol.uuid,
            group_uuid=group_uuid,
            type=vol.type,
            vm_uuid=vm.uuid,
            description=description or "",
            size=node.actual_size,
            mode=kind,
            metadata=self._backup_metadata(vm, vol),
            backup_storage_refs=[
                {
                    "backup_storage_uuid": bs.uuid,
                    "node_uuid": node.uuid,
                    "status": "Ready",
                    "create_date": now,
                    "last_op_date": now,
                }
            ],
            written_mark=vol.bytes_written,
            seq=self._backup_seq,
            create_date=now,
            last_op_date=now,
        )
        self._add(self.backups, record)
        return record

    def _backup_metadata(self, vm: Any, vol: Any) -> dict[str, Any]:
        """What a backup remembers of its VM and volume (enough to restore or register it)."""
        nics = [self.nics.get(u) for u in vm.nic_uuids]
        return {
            "volume_name": vol.name,
            "volume_description": vol.description,
            "volume_type": vol.type,
            "root_image_uuid": vol.root_image_uuid,
            "vm_uuid": vm.uuid,
            "vm_name": vm.name,
            "vm_description": vm.description,
            "instance_offering_uuid": vm.instance_offering_uuid,
            "cpu_num": vm.cpu_num,
            "memory_size": vm.memory_size,
            "platform": vm.platform,
            "guest_os_type": vm.guest_os_type,
            "architecture": vm.architecture,
            "virtio": True,
            "cluster_uuid": vm.cluster_uuid,
            "primary_storage_uuid": vol.primary_storage_uuid,
            "default_l3_network_uuid": vm.l3_network_uuids[0] if vm.l3_network_uuids else None,
            "data_volume_uuids": list(vm.data_volume_uuids),
            "actual_size": self.volume_actual_size(vol),
            "virtual_size": vol.virtual_size,
            "format": vol.format,
            "device_id": vol.device_id,
            "shareable": False,
            "nics": [
                {
                    "uuid": n.uuid,
                    "l3_network_uuid": n.l3_network_uuid,
                    "ip": n.ip,
                    "mac": n.mac,
                    "device_id": n.device_id,
                }
                for n in nics
            ],
        }

    # -- delete ----------------------------------------------------------------------------
    @operation("backup.delete")
    def delete_backup_group(
        self,
        group: Any,
        backup_storages: Any = None,
        mode: str = "Permissive",
        handle_dependency: bool = False,
    ) -> None:
        """Delete a VM backup from the given backup storages (all it is on when None).

        An unknown group succeeds.  On each storage the backup's data goes and its ref is
        dropped; a record with no ref left is removed.  Data that later incrementals build
        on stays, hidden, until they are gone; with ``handle_dependency`` such a backup is
        kept instead, marked Deleted, and removed with the last of its dependants.
        ``Permissive`` (the default): on an unreachable storage the ref is
        dropped anyway and the data stays there as an orphan that sync finds again.
        ``Enforcing``: an unreachable storage fails the whole call, changing nothing.
        """
        group_uuid = self._group_uuid(group)
        members = self.group_backups(group_uuid)
        self._delete_backups(
            members,
            backup_storages,
            mode,
            handle_dependency,
            lambda involved: self._fault_point(
                "backup.delete",
                group=group_uuid,
                backup_storage=involved[0] if involved else None,
                backup_storages=list(involved),
            ),
        )
        return None

    def _delete_backups(
        self,
        members: list[Backup],
        backup_storages: Any,
        mode: str,
        handle_dependency: bool,
        fault_point: Callable[[list[str]], None],
    ) -> None:
        """Delete backup records from storages (the rules of ``delete_backup_group``);
        ``fault_point(involved_storage_uuids)`` is asked once the storages are known."""
        if mode not in DELETE_MODES:
            raise InvalidArgument("delete_mode", "must be Permissive or Enforcing")
        wanted = None
        if backup_storages is not None:
            if isinstance(backup_storages, (str, bytes)) or not hasattr(backup_storages, "__iter__"):
                backup_storages = [backup_storages]
            wanted = [self.backup_storages.get(b).uuid for b in backup_storages]
            if not wanted:
                raise InvalidArgument("backup_storages", "must not be empty")
        involved: list[str] = []
        for record in members:
            for ref in record.backup_storage_refs:
                bs_uuid = ref["backup_storage_uuid"]
                if (wanted is None or bs_uuid in wanted) and bs_uuid not in involved:
                    involved.append(bs_uuid)
        fault_point(involved)
        if not members:
            return None
        if mode == "Enforcing":
            for bs_uuid in involved:
                if self.backup_storages.get(bs_uuid).status != "Connected":
                    raise Unreachable("backup_storage", bs_uuid)
        now = self.clock.now()
        touched: list[str] = []
        for record in members:
            for ref in list(record.backup_storage_refs):
                bs_uuid = ref["backup_storage_uuid"]
                if bs_uuid not in involved:
                    continue
                if self.backup_storages.get(bs_uuid).status != "Connected":
                    # Permissive: the deletion fails on the storage and is only logged.
                    self._drop_backup_ref(record, bs_uuid)
                    continue
                entry = self._catalog(bs_uuid).get(record.uuid)
                if entry is None:  # the storage had already lost it
                    self._drop_backup_ref(record, bs_uuid)
                    continue
                node = self.nodes.get(entry["node_uuid"])
                if handle_dependency and node.children > 0:
                    if not entry["deleted"]:
                        self._catalog_put(bs_uuid, dict(entry, deleted=True))
                        self._set(
                            record,
                            "backup_storage_refs",
                            [
                                dict(r, status="Deleted", last_op_date=now)
                                if r["backup_storage_uuid"] == bs_uuid
                                else r
                                for r in record.backup_storage_refs
                            ],
                        )
                        if all(r["status"] == "Deleted" for r in record.backup_storage_refs):
                            self._set(record, "status", "Deleted")
                            self._set(record, "last_op_date", now)
                    continue
                self._erase_backup_data(bs_uuid, record.uuid)
                self._drop_backup_ref(record, bs_uuid)
                if bs_uuid not in touched:
                    touched.append(bs_uuid)
        for bs_uuid in touched:
            self._purge_retired(bs_uuid)
        return None

    # -- sync ------------------------------------------------------------------------------
    @operation("backup.sync")
    def sync_backup_storage(self, backup_storage: Any) -> SyncCounts:
        """Reconcile the database with what the storage holds: backups it holds that the
        database does not know are registered again (with their groups); known backups it
        no longer holds lose their ref to it, and go when no ref is left."""
        bs = self.backup_storages.get(backup_storage)
        self._fault_point("backup.sync", backup_storage=bs.uuid)
        if not bs.keeps_backups:
            raise keeps_no_backups(bs)
        if bs.status != "Connected":
            raise Unreachable(
                "backup_storage",
                bs.uuid,
                message=f"cannot read the backup catalog of backup storage {bs.uuid}: it is {bs.status}",
                reason_code="backup_sync_unreachable",
                backup_storage_uuid=bs.uuid,
                backup_storage_status=bs.status,
            )
        self._purge_retired(bs.uuid)
        catalog = self._catalog(bs.uuid)
        deleted = 0
        for record in self.backups:
            if self._backup_ref(record, bs.uuid) is not None and record.uuid not in catalog:
                self._drop_backup_ref(record, bs.uuid)
                deleted += 1
        new = 0
        now = self.clock.now()
        for entry in self._catalog_entries(bs.uuid):
            if entry["deleted"]:
                continue  # kept only for dependants: not a backup any more
            uuid = entry["backup"]["uuid"]
            known = self.backups.by_uuid(uuid)
            ref = {
                "backup_storage_uuid": bs.uuid,
                "node_uuid": entry["node_uuid"],
                "status": "Ready",
                "create_date": now,
                "last_op_date": now,
            }
            if known is None:
                record = Backup.from_dict(
                    dict(
                        entry["backup"],
                        state="Enabled",
                        status="Ready",
                        backup_storage_refs=[ref],
                        last_op_date=now,
                    )
                )
                self._add(self.backups, record)
            elif self._backup_ref(known, bs.uuid) is None:
                record = known
                self._set(record, "backup_storage_refs", record.backup_storage_refs + [ref])
                if record.status == "Deleted":
                    self._set(record, "status", "Ready")
            else:
                continue
            new += 1
            if record.group_uuid is None:
                continue  # a single volume's backup belongs to no group
            group = self.backup_groups.by_uuid(record.group_uuid)
            if group is None:
                self._add(self.backup_groups, BackupGroup.from_dict(entry["group"]))
            elif record.uuid not in group.backup_uuids:
                self._set(group, "backup_uuids", group.backup_uuids + [record.uuid])
        return SyncCounts(new, deleted)

    # -- images --------------------------------------------------------------------------
    @operation("image.create_from_backup")
    def create_image_from_backup(
        self,
        backup: Any,
        backup_storage: Any,
        name: str,
        *,
        description: str = "",
        guest_os_type: str | None = None,
        platform: str | None = None,
        system: bool = False,
        resource_uuid: str | None = None,
        architecture: str | None = None,
        virtio: bool | None = None,
        media_type: ImageKind | str = ROOT_TEMPLATE,
    ) -> Image:
        """An image sharing a backup's data on that storage (no extra space).  Its virtual
        size is the volume's, its actual size the backup chain's allocated size; it boots
        VMs like any template, and keeps the data when the backup is deleted.  A data
        volume's backup is accepted too."""
        record = self.backups.get(backup)
        bs = self.backup_storages.get(backup_storage)
        self._fault_point("image.create_from_backup", backup=record.uuid, backup_storage=bs.uuid, name=name)
        if not isinstance(name, str) or not name or len(name) > 255:
            raise InvalidArgument("name", "must be 1 to 255 characters")
        if description is not None and len(description) > 2048:
            raise InvalidArgument("description", "must be at most 2048 characters")
        kind = ImageKind.spelled(media_type)
        if kind not in TEMPLATE_MEDIA_TYPES:
            raise InvalidArgument("media_type", f"must be {ROOT_TEMPLATE} or {DATA_TEMPLATE}")
        if platform is not None and platform not in IMAGE_PLATFORMS:
            raise InvalidArgument("platform", f"must be one of {', '.join(IMAGE_PLATFORMS)}")
        if architecture is not None and architecture not in IMAGE_ARCHITECTURES:
            raise InvalidArgument("architecture", f"must be one of {', '.join(IMAGE_ARCHITECTURES)}")
        if bs.state != "Enabled":
            raise InvalidState(
                "backup_storage",
                bs.uuid,
                bs.state,
                "create image",
                ("Enabled",),
                reason_code="backup_storage_state",
                backup_storage_state=bs.state,
            )
        ref = self._backup_ref(record, bs.uuid)
        if ref is None or ref["status"] != "Ready" or record.status != "Ready":
            raise InvalidArgument(
                "backup_storage",
                "the backup is not on that backup storage",
                reason_code="backup_not_on_storage",
                backup_uuid=record.uuid,
                backup_storage_uuid=bs.uuid,
            )
        if bs.status != "Connected":
            raise Unreachable("backup_storage", bs.uuid)
        entry = self._catalog(bs.uuid).get(record.uuid)
        if entry is None or entry["deleted"]:
            raise InvalidState(
                "backup",
                record.uuid,
                "Missing",
                "create image",
                ("Ready",),
                message=f"the data of backup {record.uuid} is missing on backup storage {bs.uuid}",
                reason_code="backup_data_missing",
                backup_uuid=record.uuid,
                backup_storage_uuid=bs.uuid,
            )
        if resource_uuid is not None and resource_uuid in self.images:
            raise Conflict("image", resource_uuid)
        node = self.nodes.get(entry["node_uuid"])
        self._retain_node(node)
        meta = record.metadata
        if architecture is None:
            architecture = meta.get("architecture")
            if architecture is None and meta.get("cluster_uuid") in self.clusters:
                architecture = self.clusters.get(meta["cluster_uuid"]).architecture
        now = self.clock.now()
        image = Image(
            uuid=resource_uuid or self.ids.uuid(),
            name=name,
            media_type=kind,
            format="qcow2",
            platform=platform or meta.get("platform") or "Linux",
            guest_os_type=guest_os_type if guest_os_type is not None else meta.get("guest_os_type", ""),
            architecture=architecture or "x86_64",
            virtual_size=node.virtual_size,
            actual_size=self.chain_allocated_size(node),
            description=description or "",
            system=bool(system),
            virtio=meta.get("virtio", True) if virtio is None else bool(virtio),
            backup_storage_refs=[{"backup_storage_uuid": bs.uuid, "node_uuid": node.uuid, "status": "Ready"}],
            source_backup_uuid=record.uuid,
            create_date=now,
            last_op_date=now,
        )
        return self._add(self.images, image)

    # -- drift -----------------------------------------------------------------------------
    @operation("backup.forget")
    def forget_backup_group(self, group: Any) -> int:
        """Drift: the database loses a VM backup's records; the storage keeps the data (the
        next sync registers the group again).  Returns the records dropped."""
        group_uuid = self._group_uuid(group)
        self._fault_point("backup.forget", group=group_uuid)
        members = self.group_backups(group_uuid)
        for record in members:
            self._remove_backup_record(record)
        grp = self.backup_groups.by_uuid(group_uuid)
        if grp is not None:
            self._remove(self.backup_groups, grp)
        return len(members)

    @operation("backup.lose_data")
    def lose_backup_group_data(self, group: Any, backup_storage: Any) -> int:
        """Drift: a backup storage loses a VM backup's data (its catalogue entries go; data
        still needed by later incrementals or images stays hidden).  The database is not
        told: the next sync drops the records.  Returns the entries lost."""
        bs = self.backup_storages.get(backup_storage)
        group_uuid = self._group_uuid(group)
        self._fault_point("backup.lose_data", group=group_uuid, backup_storage=bs.uuid)
        lost = [
            e["backup"]["uuid"]
            for e in self._catalog_entries(bs.uuid)
            if e["backup"]["group_uuid"] == group_uuid
        ]
        for uuid in lost:
            self._erase_backup_data(bs.uuid, uuid)
        self._purge_retired(bs.uuid, update_records=False)
        return len(lost)

    # -- invariants and snapshot hooks ---------------------------------------------------
    def _extra_node_holders(self, held: dict[str, int]) -> None:
        """Each catalogue entry holds its backup's node (images from backups are counted by
        the core, through their ``backup_storage_refs``)."""
        for catalog in self.backup_catalogs.values():
            for entry in catalog.values():
                uuid = entry["node_uuid"]
                held[uuid] = held.get(uuid, 0) + 1

    def _backup_invariant_breaches(self) -> list[str]:
        breaches: list[str] = []
        for bs_uuid, catalog in self.backup_catalogs.items():
            if bs_uuid not in self.backup_storages:
                breaches.append(f"backup catalogue of missing storage {bs_uuid}")
                continue
            seen: set[str] = set()
            for key, entry in catalog.items():
                node = self.nodes.find(entry["node_uuid"])
                if entry["backup"]["uuid"] != key:
                    breaches.append(
                        f"backup catalogue {bs_uuid}: entry {key} describes {entry['backup']['uuid']}"
                    )
                if node is None:
                    breaches.append(
                        f"backup {key} on {bs_uuid}: catalogue names missing disk {entry['node_uuid']}"
                    )
                elif node.storage_uuid != bs_uuid or node.role != "backup":
                    breaches.append(
                        f"backup {key} on {bs_uuid}: disk {node.uuid} is a {node.role} on {node.storage_uuid}"
                    )
                if entry["node_uuid"] in seen:
                    breaches.append(f"backup catalogue {bs_uuid}: disk {entry['node_uuid']} listed twice")
                seen.add(entry["node_uuid"])
        derived: dict[tuple[str, str], list[tuple[int, str]]] = {}
        for bs_uuid, catalog in self.backup_catalogs.items():
            for uuid, entry in catalog.items():
                derived.setdefault((bs_uuid, entry["backup"]["volume_uuid"]), []).append((entry["seq"], uuid))
        if {k: sorted(v) for k, v in derived.items()} != {k: v for k, v in self._volume_index().items() if v}:
            breaches.append("the per-volume backup index disagrees with the catalogues")
        for record in self.backups:
            if not record.backup_storage_refs:
                breaches.append(f"backup {record.uuid} has no backup storage ref")
            if record.status not in ("Ready", "Deleted"):
                breaches.append(f"backup {record.uuid} has status {record.status}")
            all_deleted = all(r["status"] == "Deleted" for r in record.backup_storage_refs)
            if (record.status == "Deleted") != (all_deleted and bool(record.backup_storage_refs)):
                breaches.append(f"backup {record.uuid} is {record.status} but its refs say otherwise")
            for ref in record.backup_storage_refs:
                bs_uuid = ref["backup_storage_uuid"]
                if bs_uuid not in self.backup_storages:
                    breaches.append(f"backup {record.uuid} refers to missing storage {bs_uuid}")
                    continue
                held = self._catalog(bs_uuid).get(record.uuid)
                if held is None:
                    continue  # drift (the storage lost it): sync's business
                if held["node_uuid"] != ref["node_uuid"]:
                    breaches.append(
                        f"backup {record.uuid}: ref names disk {ref['node_uuid']}, storage "
                        f"{bs_uuid} holds {held['node_uuid']}"
                    )
                if held["deleted"] != (ref["status"] == "Deleted"):
                    breaches.append(
                        f"backup {record.uuid}: ref is {ref['status']} on {bs_uuid}, the "
                        f"storage {'keeps it for dependants' if held['deleted'] else 'holds it'}"
                    )
            if record.group_uuid is None:
                continue  # a single volume's backup
            group = self.backup_groups.by_uuid(record.group_uuid)
            if group is None:
                breaches.append(f"backup {record.uuid} in missing group {record.group_uuid}")
            elif record.uuid not in group.backup_uuids:
                breaches.append(f"backup {record.uuid} not listed by its group {group.uuid}")
        for group in self.backup_groups:
            present = [r for r in map(self.backups.by_uuid, group.backup_uuids) if r is not None]
            if not present:
                breaches.append(f"backup group {group.uuid} has no backup left (should be gone)")
                continue
            ready = [r for r in present if r.status == "Ready"]
            if ready and len(ready) != len(group.backup_uuids):
                breaches.append(
                    f"backup group {group.uuid} is incomplete: {len(ready)} of "
                    f"{len(group.backup_uuids)} backups ready"
                )
            for r in present:
                if r.group_uuid != group.uuid:
                    breaches.append(
                        f"backup group {group.uuid} lists backup {r.uuid} of group {r.group_uuid}"
                    )
        return breaches

    def _backup_snapshot(self) -> dict[str, Any]:
        return {
            "backup_seq": self._backup_seq,
            "backup_catalogs": {
                bs: [copy_json(e) for e in self._catalog_entries(bs)]
                for bs in sorted(self.backup_catalogs)
                if self.backup_catalogs[bs]
            },
        }

    def _backup_restore(self, data: dict[str, Any]) -> None:
        self._backup_seq = data.get("backup_seq", 0)
        catalogs = self.backup_catalogs
        catalogs.clear()
        for bs, entries in data.get("backup_catalogs", {}).items():
            catalogs[bs] = {e["backup"]["uuid"]: copy_json(e) for e in entries}
        self.__dict__.pop("_backup_volume_index", None)
