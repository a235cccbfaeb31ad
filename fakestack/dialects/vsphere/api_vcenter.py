"""The vcenter services: VM (list / get / delete / instant_clone / clone), vm.power and
the inventory lists and gets (reference §4, §5, §6)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from operator import attrgetter, itemgetter
from typing import Any

from fakestack.model import Timeout

from ..kit.jobs import finishes_within, run_job, wait_for_job, wait_until
from . import specs
from .choices import LIST_LIMITS
from .errors import not_found, vapi_error
from .inventory import INVISIBLE_VM_STATES, POWER_STATES, ROOT_FOLDER, connection_state, power_state
from .registry import operation
from .render import (
    copy_device_keys,
    disk_entries,
    mark_resumed,
    nic_keys,
    place_in_pool,
    power_info,
    read_vm_record,
    vm_info,
    vm_record,
    vmware_mac,
)
from .structures import (
    CLUSTER_INFO,
    CLUSTER_SUMMARY,
    DATACENTER_INFO,
    DATACENTER_SUMMARY,
    DATASTORE_INFO,
    DATASTORE_SUMMARY,
    FOLDER_SUMMARY,
    HOST_SUMMARY,
    NETWORK_SUMMARY,
    POWER_INFO,
    RESOURCE_POOL_INFO,
    RESOURCE_POOL_SUMMARY,
    VM_INFO,
    VM_SUMMARY,
)
from .vapi_types import STRING, VOID, ListOf

VM = "com.vmware.vcenter.VM"
POWER = "com.vmware.vcenter.vm.power"
NAME = attrgetter("name")


def _is_in(values: list | None, candidate: Callable[[Any], Any]):
    """The test of one filter field, or None: reference §6.1, an unset or empty field
    matches everything (so its candidate is not even computed)."""
    if not values:
        return None
    wanted = frozenset(values)
    return lambda obj: candidate(obj) in wanted


def _any_in(values: list | None, candidates: Callable[[Any], Iterable]):
    """As ``_is_in``, for an object that several values of the field name (a pool's hosts)."""
    if not values:
        return None
    wanted = frozenset(values)
    return lambda obj: not wanted.isdisjoint(candidates(obj))


def _in_zone(inv, f, folder_kind: str, zone_of: Callable[[Any], str | None] = attrgetter("zone_uuid")):
    """The ``folders`` and ``datacenters`` tests: an object sits in its datacenter's folder."""
    return (
        _is_in(f.folders, lambda obj: inv.moid(folder_kind, zone_of(obj))),
        _is_in(f.datacenters, lambda obj: inv.moid("datacenter", zone_of(obj))),
    )


def _keep(objects: Iterable, *tests) -> list:
    for test in tests:  # each on what the ones before let through (C's loop, not Python's)
        if test is not None:
            objects = filter(test, objects)
    return list(objects)


def _limited(kind: str, items: list[dict], inventory) -> list[dict]:
    """Items sorted by id (§9 #26); more than the call's limit is an error (§4.4)."""
    limit = LIST_LIMITS[kind]
    if len(items) > limit:
        raise vapi_error("list_too_large", limit, kind=kind)
    return inventory.sorted_by_id(items, kind)


def _get(call, kind: str, moid: str | None):
    found = call.inventory.resolve(kind, moid)
    if found is None:
        raise not_found(kind, moid)
    return found


def _get_vm(call, moid: str):
    return _get(call, "vm", moid)


def run_sync(call, job_name: str, fn, *args, **kwargs):
    """Run a model operation as a job and wait for it, as vSphere's synchronous calls do
    (§9 #20): the call returns when the job ends on the cloud clock (the kit's job wait: a
    manual clock is moved there, a system clock is waited on with the cloud lock
    released); a job that would end after ``sync_timeout_s`` (or hangs) is undone at once
    and answers ``timed_out`` once that much time has passed.

    The rollback needs a transaction around the job, which hides the nested operations from
    the model's journal, so one is opened only when the job can outlast the call: a
    configured duration or an active fault plan (latency, hang)."""
    cloud = call.cloud
    limit = call.choices.sync_timeout_s
    guard = cloud.faults is not None or cloud.settings.job_durations.get(job_name, 0.0) > 0
    outlasts = False
    try:
        with cloud.atomic() if guard else contextlib.nullcontext():
            job = run_job(cloud, job_name, fn, *args, **kwargs)
            if not finishes_within(cloud, job, limit):
                outlasts = True
                raise Timeout(call.operation.fault_name, limit)
    except Timeout:
        if outlasts:  # undone; the client hears of it when the call would have given up
            wait_until(cloud, cloud.clock.now() + limit, budget=limit)
        raise
    return wait_for_job(cloud, job)


# --- VM ----------------------------------------------------------------------------------


@operation(VM, "list", specs.list_input(specs.VmFilter), ListOf(VM_SUMMARY))
def vm_list(call, inp):
    inv = call.inventory
    f = inp.filter or specs.VmFilter()

    def cluster_moid(vm):
        cluster_uuid = inv.vm_cluster_uuid(vm)
        return cluster_uuid and inv.moid("cluster", cluster_uuid)

    vms = _keep(
        _vm_candidates(inv, f),
        _is_in(f.vms, lambda vm: inv.moid("vm", vm.uuid)),
        _is_in(f.names, NAME),
        *_in_zone(inv, f, "vm_folder"),
        _on_hosts(inv, f.hosts),  # a powered-off VM: its last host
        _is_in(f.clusters, cluster_moid),
        _is_in(f.resource_pools, inv.vm_pool),
        _is_in(f.power_states, power_state),
    )
    return _limited("vm", [inv.vm_summary(vm) for vm in vms], inv)


def _vm_candidates(inv, f) -> Iterable:
    """The visible VMs that the filter can pick from: those it names (by moid or name,
    through the model's indexes) or every one.  The filter's tests still run on them all,
    and the list is sorted by id afterwards, so only the work depends on this choice."""
    cloud = inv.cloud
    if f.vms:
        found = {}
        for moid in f.vms:
            entry = inv.objects.get(moid)
            vm = cloud.vms.by_uuid(entry[1]) if entry is not None and entry[0] == "vm" else None
            if vm is not None and vm.state not in INVISIBLE_VM_STATES:
                found[vm.uuid] = vm
        return list(found.values())
    if f.names:
        found = {}
        for name in f.names:
            for vm in cloud.vms.by_name(name):
                if vm.state not in INVISIBLE_VM_STATES:
                    found[vm.uuid] = vm
        return list(found.values())
    # the hosts or power states the filter names, through the model's indexes (the smaller
    # pick): every VM that may pass the filter's test, in the model's order
    picks = []
    if f.hosts:
        picks.append(_on_hosts_pick(inv, f.hosts))
    if f.power_states:
        picks.append(_in_power_states_pick(cloud, f.power_states))
    if picks:
        _, numbers = min(picks, key=lambda pick: pick[0])
        return [vm for vm in cloud.vms.entities_of(numbers()) if vm.state not in INVISIBLE_VM_STATES]
    return inv.visible_vms()


def _on_hosts_pick(inv, hosts: list):
    """(at most how many, a function giving the insertion numbers) of the VMs whose host,
    or last host, is one of ``hosts`` (moids)."""
    wanted = [entry[1] for entry in map(inv.objects.get, hosts) if entry is not None and entry[0] == "host"]
    vms = inv.cloud.vms
    on, last = vms.group_index("host_uuid"), vms.group_index("last_host_uuid")
    size = sum(map(on.count, wanted)) + sum(map(last.count, wanted))
    return size, lambda: sorted(set(on.numbers(wanted)) | set(last.numbers(wanted)))


def _in_power_states_pick(cloud, power_states: list):
    """The same for the VMs in one of ``power_states`` (by the model states they show as)."""
    wanted = frozenset(power_states)
    index = cloud.vms.group_index("state")
    states = [state for state in index.values() if POWER_STATES.get(state, "POWERED_OFF") in wanted]
    return sum(map(index.count, states)), lambda: index.numbers(states)


def _on_hosts(inv, hosts: list | None):
    """The ``hosts`` test: the moid of the VM's host (its last one when powered off) is
    one of ``hosts``; the moids are looked up once, not each VM's host per VM."""
    if not hosts:
        return None
    wanted = set()
    for moid in hosts:
        entry = inv.objects.get(moid)
        if entry is not None and entry[0] == "host":
            wanted.add(entry[1])
    exists = inv.cloud.hosts.by_uuid

    def test(vm) -> bool:
        uuid = vm.host_uuid or vm.last_host_uuid
        return uuid in wanted and exists(uuid) is not None

    return test


@operation(VM, "get", specs.VmInput, VM_INFO)
def vm_get(call, inp):
    return vm_info(call.inventory, _get_vm(call, inp.vm))


@operation(VM, "delete", specs.VmInput, VOID)
def vm_delete(call, inp):
    vm = _get_vm(call, inp.vm)
    if power_state(vm) == "POWERED_ON":
        raise vapi_error("vm_power_state", inp.vm, "POWERED_ON")
    cloud = call.cloud
    call.fault_point(vm=vm.uuid, name=vm.name)

    def destroy_and_expunge():
        # vSphere deletes every disk of the VM with it (the model keeps data volumes of a
        # destroyed VM: they are deleted here); detached disk files stay
        data = list(vm.data_volume_uuids)
        with cloud.atomic():
            cloud.destroy_vm(vm.uuid)
            cloud.expunge_vm(vm.uuid)
            for volume in data:
                cloud.delete_volume(volume)
                cloud.expunge_volume(volume)

    run_sync(call, "vm.destroy", destroy_and_expunge)
    call.state.get("vms", {}).pop(vm.uuid, None)
    return None


def _check_name_free(call, name: str, zone_uuid: str) -> None:
    """§9 #5: names are unique per VM folder (one per datacenter), case-sensitive."""
    for vm in call.cloud.vms.by_name(name):
        if vm.zone_uuid == zone_uuid and vm.state not in INVISIBLE_VM_STATES:
            raise vapi_error("vm_name_taken", name)


def _resolve_folder(call, moid: str | None) -> str | None:
    if moid is None:
        return None
    if call.inventory.folder_kind(moid) is None:
        raise not_found("folder", moid)
    return moid


def resolve_placement(call, placement):
    """A placement spec's folder, resource pool's cluster, host, cluster and datastore
    (None where not named; a spec without a datastore field has none)."""
    folder = _resolve_folder(call, placement.folder)
    pool_cluster = _get(call, "resource_pool", placement.resource_pool) if placement.resource_pool else None
    host = _get(call, "host", placement.host) if placement.host else None
    cluster = _get(call, "cluster", placement.cluster) if placement.cluster else None
    datastore_id = getattr(placement, "datastore", None)
    datastore = _get(call, "datastore", datastore_id) if datastore_id else None
    return folder, pool_cluster, host, cluster, datastore


def check_placement_agrees(placement, host, cluster, pool_cluster) -> None:
    """The named host, cluster and resource pool lie in one cluster (reference §4.2)."""
    if host is not None and pool_cluster is not None and host.cluster_uuid != pool_cluster.uuid:
        raise vapi_error("placement_disjoint", "resource_pool", placement.resource_pool, placement.host)
    if host is not None and cluster is not None and host.cluster_uuid != cluster.uuid:
        raise vapi_error("placement_disjoint", "cluster", placement.cluster, placement.host)
    if pool_cluster is not None and cluster is not None and pool_cluster.uuid != cluster.uuid:
        raise vapi_error("placement_disjoint", "resource_pool", placement.resource_pool, placement.cluster)


def _check_vm_folder(call, folder: str | None, zone_uuid: str, host_moid: str) -> None:
    inv = call.inventory
    if folder is not None and (
        inv.folder_kind(folder) != "vm_folder" or inv.folder_zone(folder) != zone_uuid
    ):
        raise vapi_error("placement_disjoint", "folder", folder, host_moid)


@operation(VM, "instant_clone", specs.InstantCloneInput, STRING)
def vm_instant_clone(call, inp):
    spec = inp.spec
    inv = call.inventory
    cloud = call.cloud
    source = _get_vm(call, spec.source)  # row 5
    placement = spec.placement or specs.InstantClonePlacement()
    # row 6: every named object exists
    folder = _resolve_folder(call, placement.folder)
    pool_cluster = _get(call, "resource_pool", placement.resource_pool) if placement.resource_pool else None
    datastore = _get(call, "datastore", placement.datastore) if placement.datastore else None
    networks = {}
    for key, update in (spec.nics_to_update or {}).items():
        if update.backing is not None and update.backing.network is not None:
            networks[key] = _get(call, "network", update.backing.network)
    # row 7: keys are devices of the source (the fake's VMs have no serial or parallel ports)
    keys = nic_keys(call.state, source)
    for key in spec.nics_to_update or {}:
        if key not in keys:
            raise vapi_error("device_not_found", spec.source, "network adapter", key)
    for label, ports in (
        ("serial port", spec.serial_ports_to_update),
        ("parallel port", spec.parallel_ports_to_update),
    ):
        for key in ports or {}:
            raise vapi_error("device_not_found", spec.source, label, key)
    # row 8: name free in the target folder
    target_zone = inv.folder_zone(folder) if folder else source.zone_uuid
    _check_name_free(call, spec.name, target_zone)
    # row 9: the source is powered on (a frozen VM is)
    state = power_state(source)
    if state != "POWERED_ON":
        raise vapi_error("vm_power_state", spec.source, state)
    # row 10: placement compatible with the source's host
    host = inv.vm_host(source)
    host_moid = inv.moid("host", host.uuid)
    _check_vm_folder(call, folder, source.zone_uuid, host_moid)
    if pool_cluster is not None and pool_cluster.uuid != host.cluster_uuid:
        raise vapi_error("placement_disjoint", "resource_pool", placement.resource_pool, host_moid)
    if datastore is not None and not inv.datastore_mounted_on(datastore, host):
        raise vapi_error("placement_disjoint", "datastore", placement.datastore, host_moid)
    # row 11 (the model checks the host and the disks' storages)
    if datastore is not None and not datastore.usable:
        raise vapi_error("datastore_inaccessible", placement.datastore)
    # rows 11-14: the model (inaccessible, chain limit, capacity, fault plan)
    call.subject = spec.source
    call.fault_point(vm=source.uuid, name=spec.name, host=host.uuid)
    clone = run_sync(
        call,
        "vm.instant_clone",
        cloud.instant_clone,
        source.uuid,
        spec.name,
        primary_storage=datastore.uuid if datastore else None,
    )
    moid = inv.moid("vm", clone.uuid)
    copy_device_keys(call.state, cloud, source, clone)
    mark_resumed(call.state, source, clone)
    # placement defaults to the source's pool (reference §4.1)
    place_in_pool(call.state, clone.uuid, placement.resource_pool or inv.vm_pool(source))
    record = vm_record(call.state, clone.uuid)
    if spec.bios_uuid is not None:
        record["bios_uuid"] = spec.bios_uuid.lower()
    record["nics"] = _clone_nics(call, source, clone, spec, networks)
    return moid


def _clone_nics(call, source, clone, spec, networks) -> dict:
    """§4.3 / §9 #4: copy the source's NIC settings, apply nics_to_update, then
    disconnect_all_nics.  MANUAL MACs keep the source's address unless updated (§9 #22)."""
    source_nics = read_vm_record(call.state, source.uuid).get("nics", {})
    out = {}
    for index, key in enumerate(nic_keys(call.state, clone)):
        settings = {k: v for k, v in source_nics.get(key, {}).items() if k != "mac_address"}
        if settings.get("mac_type") == "MANUAL" and index < len(source.nic_uuids):
            src = source_nics.get(key, {}).get("mac_address")
            settings["mac_address"] = src or vmware_mac(call.cloud.nics.get(source.nic_uuids[index]).mac)
        update = (spec.nics_to_update or {}).get(key)
        if update is not None:
            for name in (
                "start_connected",
                "mac_type",
                "mac_address",
                "allow_guest_control",
                "wake_on_lan_enabled",
                "upt_compatibility_enabled",
            ):
                value = getattr(update, name)
                if value is not None:
                    settings[name] = value
            if update.mac_type in ("GENERATED", "ASSIGNED") and update.mac_address is None:
                settings.pop("mac_address", None)
            if key in networks:
                settings["network_uuid"] = networks[key].uuid
        if spec.disconnect_all_nics:
            settings["connected"] = False
            settings["start_connected"] = False
        if settings:
            out[key] = settings
    return out


@operation(VM, "clone", specs.CloneInput, STRING)
def vm_clone(call, inp):
    spec = inp.spec
    inv = call.inventory
    cloud = call.cloud
    source = _get_vm(call, spec.source)
    placement = spec.placement or specs.ClonePlacement()
    folder, pool_cluster, host, cluster, datastore = resolve_placement(call, placement)
    disk_keys = [key for key, _ in disk_entries(call.state, cloud, source)]
    for key in list(spec.disks_to_remove or []) + list(spec.disks_to_update or {}):
        if key not in disk_keys:
            raise vapi_error("device_not_found", spec.source, "disk", key)
    disk_stores = [
        _get(call, "datastore", d.datastore) for d in (spec.disks_to_update or {}).values() if d.datastore
    ]
    target_zone = inv.folder_zone(folder) if folder else source.zone_uuid
    _check_name_free(call, spec.name, target_zone)
    anchor = placement.host or placement.resource_pool or placement.cluster or spec.source
    _check_vm_folder(call, folder, source.zone_uuid, anchor)
    check_placement_agrees(placement, host, cluster, pool_cluster)
    if pool_cluster is not None and host is None and not call.choices.cluster_drs_enabled:
        raise vapi_error(
            "placement_invalid",
            "resource_pool",
            placement.resource_pool,
            "its cluster has DRS disabled; name a host",
        )
    target_cluster = cluster or pool_cluster
    if host is None and target_cluster is None:
        host = inv.vm_host(source)  # reference §4.5: no host and no pool -> the source's host
        if host is not None and datastore is not None and not inv.datastore_mounted_on(datastore, host):
            host = None
    if datastore is not None:
        if host is not None and placement.host and not inv.datastore_mounted_on(datastore, host):
            raise vapi_error("placement_disjoint", "datastore", placement.datastore, placement.host)
        if target_cluster is not None and target_cluster.uuid not in datastore.cluster_uuids:
            raise vapi_error(
                "placement_disjoint",
                "datastore",
                placement.datastore,
                placement.cluster or placement.resource_pool,
            )
        if not datastore.usable:
            raise vapi_error("datastore_inaccessible", placement.datastore)
    if spec.disks_to_remove:
        raise vapi_error("unsupported", "disks_to_remove is not supported by this endpoint.")
    target_store = datastore or inv.vm_datastore(source)
    for store in disk_stores:
        if target_store is None or store.uuid != target_store.uuid:
            raise vapi_error(
                "unsupported", "disks_to_update to a datastore other than the clone's is not supported."
            )
    call.subject = spec.source
    call.fault_point(vm=source.uuid, name=spec.name)
    clone = run_sync(
        call,
        "vm.full_clone",
        cloud.full_clone_vm,
        source.uuid,
        spec.name,
        host=host.uuid if host else None,
        cluster=target_cluster.uuid if target_cluster else None,
        primary_storage=datastore.uuid if datastore else None,
        power_on=bool(spec.power_on),
    )
    copy_device_keys(call.state, cloud, source, clone)
    if placement.resource_pool or inv.vm_cluster_uuid(clone) == inv.vm_cluster_uuid(source):
        place_in_pool(call.state, clone.uuid, placement.resource_pool or inv.vm_pool(source))
    return inv.moid("vm", clone.uuid)


# --- power --------------------------------------------------------------------------------


@operation(POWER, "get", specs.VmInput, POWER_INFO)
def power_get(call, inp):
    return power_info(_get_vm(call, inp.vm))


@operation(POWER, "start", specs.VmInput, VOID)
def power_start(call, inp):
    vm = _get_vm(call, inp.vm)
    state = power_state(vm)
    if state == "POWERED_ON":
        raise vapi_error("vm_already_in_state", inp.vm, "POWERED_ON")
    call.subject = inp.vm
    call.fault_point(vm=vm.uuid, name=vm.name)
    if state == "SUSPENDED":
        run_sync(call, "vm.resume", call.cloud.resume_vm, vm.uuid)
    else:
        run_sync(call, "vm.start", call.cloud.start_vm, vm.uuid)
        apply_scheduled_upgrade(vm_record(call.state, vm.uuid))
    return None


def apply_scheduled_upgrade(record: dict) -> None:
    """A hardware upgrade scheduled by ``Hardware.update`` happens at the next power-on
    (every power-off of the fake is clean, so AFTER_CLEAN_SHUTDOWN and ALWAYS agree); the
    policy then returns to NEVER and the status reads SUCCESS."""
    if record.get("upgrade_status") == "PENDING" and record.get("upgrade_version"):
        record["hardware_version"] = record.pop("upgrade_version")
        record["upgrade_policy"] = "NEVER"
        record["upgrade_status"] = "SUCCESS"


@operation(POWER, "stop", specs.VmInput, VOID)
def power_stop(call, inp):
    vm = _get_vm(call, inp.vm)
    if power_state(vm) == "POWERED_OFF":
        raise vapi_error("vm_already_in_state", inp.vm, "POWERED_OFF")
    call.fault_point(vm=vm.uuid, name=vm.name)
    run_sync(call, "vm.stop", call.cloud.stop_vm, vm.uuid)  # the model unfreezes a stopped VM
    return None


@operation(POWER, "suspend", specs.VmInput, VOID)
def power_suspend(call, inp):
    vm = _get_vm(call, inp.vm)
    state = power_state(vm)
    if state == "SUSPENDED":
        raise vapi_error("vm_already_in_state", inp.vm, "SUSPENDED")
    if state != "POWERED_ON":
        raise vapi_error("vm_power_state", inp.vm, state)
    if vm.frozen:
        raise vapi_error("vm_frozen", inp.vm)
    call.fault_point(vm=vm.uuid, name=vm.name)
    run_sync(call, "vm.pause", call.cloud.pause_vm, vm.uuid)
    return None


@operation(POWER, "reset", specs.VmInput, VOID)
def power_reset(call, inp):
    vm = _get_vm(call, inp.vm)
    state = power_state(vm)
    if state != "POWERED_ON":
        raise vapi_error("vm_power_state", inp.vm, state)
    reboot(call, vm)
    return None


def reboot(call, vm) -> None:
    """Reboot a VM (a frozen instant-clone source thaws), after the call's fault point."""
    cloud = call.cloud
    call.fault_point(vm=vm.uuid, name=vm.name)

    def reboot_and_unfreeze():
        with cloud.atomic():
            cloud.reboot_vm(vm.uuid)
            if vm.frozen:
                cloud.freeze_vm(vm.uuid, False)

    run_sync(call, "vm.reboot", reboot_and_unfreeze)


# --- inventory ----------------------------------------------------------------------------


def _inventory_list(service: str, filter_model, summary_type, kind: str):
    """Register ``build(call, filter) -> summaries`` as the ``list`` operation of ``service``."""

    def register(build):
        @operation(service, "list", specs.list_input(filter_model), ListOf(summary_type))
        def handler(call, inp):
            return _limited(kind, build(call, inp.filter or filter_model()), call.inventory)

        return build

    return register


@_inventory_list("com.vmware.vcenter.host", specs.HostFilter, HOST_SUMMARY, "host")
def _hosts(call, f) -> list[dict]:
    inv = call.inventory
    if f.standalone or f.host_uuids:  # the model has no standalone hosts, and hosts show no uuid
        return []
    hosts = _keep(
        call.cloud.hosts,
        _is_in(f.hosts, lambda host: inv.moid("host", host.uuid)),
        _is_in(f.names, NAME),
        *_in_zone(inv, f, "host_folder"),
        _is_in(f.clusters, lambda host: inv.moid("cluster", host.cluster_uuid)),
        _is_in(f.connection_states, connection_state),
    )
    return [inv.host_summary(host) for host in hosts]


@_inventory_list("com.vmware.vcenter.datastore", specs.DatastoreFilter, DATASTORE_SUMMARY, "datastore")
def _datastores(call, f) -> list[dict]:
    inv = call.inventory
    stores = _keep(
        call.cloud.primary_storages,
        _is_in(f.datastores, lambda ps: inv.moid("datastore", ps.uuid)),
        _is_in(f.names, NAME),
        _is_in(f.types, inv.datastore_type),
        *_in_zone(inv, f, "datastore_folder"),
    )
    return [inv.datastore_summary(ps) for ps in stores]


@_inventory_list(
    "com.vmware.vcenter.resource_pool", specs.ResourcePoolFilter, RESOURCE_POOL_SUMMARY, "resource_pool"
)
def _resource_pools(call, f) -> list[dict]:
    """Every cluster's root pool ("Resources") and the pools created under them."""
    inv = call.inventory
    hosts_of: dict[str, list[str]] = {}
    for host in call.cloud.hosts:
        hosts_of.setdefault(host.cluster_uuid, []).append(inv.moid("host", host.uuid))
    pools = [(inv.moid("resource_pool", cluster.uuid), cluster, None) for cluster in call.cloud.clusters]
    for moid, child in inv.child_pools().items():
        pools.append((moid, call.cloud.clusters.find(child["cluster"]), child["parent"]))
    kept = _keep(
        [pool for pool in pools if pool[1] is not None],
        _is_in(f.resource_pools, itemgetter(0)),
        _is_in(f.names, lambda pool: inv.pool_name(pool[0])),
        _is_in(f.parent_resource_pools, itemgetter(2)),
        _is_in(f.datacenters, lambda pool: inv.moid("datacenter", pool[1].zone_uuid)),
        _any_in(f.hosts, lambda pool: hosts_of.get(pool[1].uuid, [])),
        _is_in(f.clusters, lambda pool: inv.moid("cluster", pool[1].uuid)),
    )
    return [{"resource_pool": moid, "name": inv.pool_name(moid)} for moid, _, _ in kept]


@_inventory_list("com.vmware.vcenter.folder", specs.FolderFilter, FOLDER_SUMMARY, "folder")
def _folders(call, f) -> list[dict]:
    inv = call.inventory
    if f.parent_folders:  # datacenter folders hang off their datacenter, not a folder
        return []
    folders = _keep(
        inv.folders(),
        _is_in(f.folders, itemgetter("folder")),
        _is_in(f.names, itemgetter("name")),
        _is_in(f.type and [f.type], itemgetter("type")),
        _is_in(f.datacenters, lambda folder: folder["_zone"] and inv.moid("datacenter", folder["_zone"])),
    )
    return [{k: v for k, v in folder.items() if k != "_zone"} for folder in folders]


@_inventory_list("com.vmware.vcenter.cluster", specs.ClusterFilter, CLUSTER_SUMMARY, "cluster")
def _clusters(call, f) -> list[dict]:
    inv = call.inventory
    clusters = _keep(
        call.cloud.clusters,
        _is_in(f.clusters, lambda cluster: inv.moid("cluster", cluster.uuid)),
        _is_in(f.names, NAME),
        *_in_zone(inv, f, "host_folder"),
    )
    choices = call.choices
    return [
        {
            "cluster": inv.moid("cluster", cluster.uuid),
            "name": cluster.name,
            "ha_enabled": choices.cluster_ha_enabled,
            "drs_enabled": choices.cluster_drs_enabled,
        }
        for cluster in clusters
    ]


@_inventory_list("com.vmware.vcenter.datacenter", specs.DatacenterFilter, DATACENTER_SUMMARY, "datacenter")
def _datacenters(call, f) -> list[dict]:
    inv = call.inventory
    zones = _keep(
        call.cloud.zones,
        _is_in(f.datacenters, lambda zone: inv.moid("datacenter", zone.uuid)),
        _is_in(f.names, NAME),
        _is_in(f.folders, lambda zone: ROOT_FOLDER),
    )
    return [{"datacenter": inv.moid("datacenter", zone.uuid), "name": zone.name} for zone in zones]


@_inventory_list("com.vmware.vcenter.network", specs.NetworkFilter, NETWORK_SUMMARY, "network")
def _networks(call, f) -> list[dict]:
    inv = call.inventory
    networks = _keep(
        call.cloud.l3_networks,
        _is_in(f.networks, lambda l3: inv.moid("network", l3.uuid)),
        _is_in(f.names, NAME),
        _is_in(f.types, lambda l3: "STANDARD_PORTGROUP"),
        *_in_zone(inv, f, "network_folder"),
    )
    return [
        {"network": inv.moid("network", l3.uuid), "name": l3.name, "type": "STANDARD_PORTGROUP"}
        for l3 in networks
    ]


# Gets the real API lacks (reference §9 #14), served as issue 17 asked: the list's summary
# of the one object.


@operation("com.vmware.vcenter.host", "get", specs.get_input("host"), HOST_SUMMARY)
def host_get(call, inp):
    return call.inventory.host_summary(_get(call, "host", inp.host))


@operation("com.vmware.vcenter.network", "get", specs.get_input("network"), NETWORK_SUMMARY)
def network_get(call, inp):
    l3 = _get(call, "network", inp.network)
    return {"network": inp.network, "name": l3.name, "type": "STANDARD_PORTGROUP"}


@operation("com.vmware.vcenter.folder", "get", specs.get_input("folder"), FOLDER_SUMMARY)
def folder_get(call, inp):
    for folder in call.inventory.folders():
        if folder["folder"] == inp.folder:
            return {k: v for k, v in folder.items() if k != "_zone"}
    raise not_found("folder", inp.folder)


@operation("com.vmware.vcenter.datastore", "get", specs.get_input("datastore"), DATASTORE_INFO)
def datastore_get(call, inp):
    return call.inventory.datastore_info(_get(call, "datastore", inp.datastore))


@operation("com.vmware.vcenter.resource_pool", "get", specs.get_input("resource_pool"), RESOURCE_POOL_INFO)
def resource_pool_get(call, inp):
    _get(call, "resource_pool", inp.resource_pool)
    inv = call.inventory
    children = inv.sorted_by_id([{"id": moid} for moid in inv.pool_children(inp.resource_pool)], "id")
    return {"name": inv.pool_name(inp.resource_pool), "resource_pools": [c["id"] for c in children]}


@operation("com.vmware.vcenter.cluster", "get", specs.get_input("cluster"), CLUSTER_INFO)
def cluster_get(call, inp):
    cluster = _get(call, "cluster", inp.cluster)
    return {"name": cluster.name, "resource_pool": call.inventory.moid("resource_pool", cluster.uuid)}


@operation("com.vmware.vcenter.datacenter", "get", specs.get_input("datacenter"), DATACENTER_INFO)
def datacenter_get(call, inp):
    return call.inventory.datacenter_info(_get(call, "datacenter", inp.datacenter))
