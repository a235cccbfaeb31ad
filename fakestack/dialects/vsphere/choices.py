"""Every choice the reference leaves open (its §9), in one place.

Configurable choices are fields of ``Choices``; the defaults are the reference's proposed
defaults.  Overrides live in ``cloud.dialect_state("vsphere")["choices"]`` (so they are
snapshotted and can be set through the admin API or a scenario) or are passed to
``create_dialect(cloud, **overrides)``.

| §9 | question | default | where |
|----|----------|---------|-------|
| 1  | /rest status of error / resource_inaccessible / unable_to_allocate_resource | 500 | ``rest_spec_statuses`` |
| 2  | instant clone of a POWERED_OFF / SUSPENDED source | not_allowed_in_current_state 400 | api_vcenter.vm_instant_clone |
| 3  | disjoint placement | invalid_argument 400, ``...vm.placement.disjoint`` | api_vcenter.vm_instant_clone, vm_clone |
| 4  | ``disconnect_all_nics`` vs ``nics_to_update``; unknown NIC keys | updates first, then disconnect all; invalid_argument | api_vcenter._clone_nics |
| 5  | name uniqueness | per VM folder (one per datacenter), case-sensitive | api_vcenter._check_name_free |
| 6  | message ids and texts | reference §3.4 | errors.MESSAGES |
| 7  | /api strictness | 400 UNEXPECTED_INPUT | dialect.handle_rest, filters |
| 8  | host / datastore accounting of an instant clone | full vCPUs and memory; swap not charged | the model (no swap ledger: ``charge_swap`` is not offered) |
| 9  | datastore projection of a primary storage | kind network_share->NFS, distributed->VSAN, else VMFS | ``DATASTORE_TYPES`` |
| 10 | freezing a source | admin operation on the cloud; stop / reset unfreeze | the model |
| 11 | deleting a VM whose deltas have children | allowed | the model |
| 12 | SUSPENDED | the model's Paused; keeps host capacity | inventory.POWER_STATES |
| 13 | id numbering | per-kind counters from 1, topology order, never reused | inventory.Inventory |
| 14 | GET by id for hosts, folders, networks | served since issue 17 (the list's summary of one) | routes.INVENTORY |
| 15 | session tokens, idle expiry, cookie | 32 hex from a seeded stream; 1800 s; ``Path=/; HttpOnly`` | ``session_idle_timeout_s``, ``cookie_path`` |
| 16 | credentials | user case-insensitive, password exact; ``DOMAIN\\Name`` | ``username``, ``password`` |
| 17 | ``error_type`` inside /rest ``value`` | present | ``rest_error_type_in_value`` |
| 18 | unauthorized (403) | a read-only user (``readonly_username``) on any operation that changes something; fault plans | sessions, dialect.invoke |
| 19 | JSON-RPC protocol errors, vapi-* headers | HTTP 200 with JSON-RPC codes; headers ignored | jsonrpc |
| 20 | synchronous calls versus job durations | wait up to ``sync_timeout_s`` on the cloud clock, else timed_out | ``sync_timeout_s`` |
| 21 | fault-plan operation names | ``vsphere:<serviceId>.<operationId>`` on all surfaces | registry.Operation.fault_name |
| 22 | MAC addresses of clone NICs | new 00:50:56 address from the seeded RNG; MANUAL keeps | the model's NIC; api_vcenter._clone_nics |
| 23 | cluster flags | drs_enabled true, ha_enabled false | ``cluster_drs_enabled``, ``cluster_ha_enabled`` |
| 24 | ``vmw-task`` / ``clone$task`` | 400 UNSUPPORTED on /api, operation_not_found on JSON-RPC | dialect |
| 25 | guest OS and hardware defaults | reference §5 | render |
| 26 | order of list results | ascending numeric id | inventory.sorted_by_id |
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from fakestack.model.kinds import PrimaryStorageKind

# §9 #9: the model's primary-storage kind -> datastore type.
DATASTORE_TYPES = {
    PrimaryStorageKind.NETWORK_SHARE: "NFS",
    PrimaryStorageKind.DISTRIBUTED: "VSAN",
    PrimaryStorageKind.LOCAL: "VMFS",
    PrimaryStorageKind.SHARED_BLOCK: "VMFS",
    PrimaryStorageKind.SHARED_MOUNT: "VMFS",
}
DEFAULT_DATASTORE_TYPE = "VMFS"

# Reference §4.4: the largest list each call returns before unable_to_allocate_resource.
LIST_LIMITS = {
    "vm": 4000,
    "host": 2500,
    "datastore": 2500,
    "cluster": 1000,
    "datacenter": 1000,
    "folder": 1000,
    "network": 1000,
    "resource_pool": 1000,
}

NAME_MAX_LENGTH = 80


@dataclass(frozen=True)
class Choices:
    username: str = "administrator@vsphere.local"  # §9 #16
    password: str = "password"  # §9 #16
    rest_spec_statuses: bool = False  # §9 #1: True flips the three rows to 400 on /rest
    rest_error_type_in_value: bool = True  # §9 #17
    session_idle_timeout_s: float = 1800.0  # §9 #15
    cookie_path: str = "/"  # §9 #15
    sync_timeout_s: float = 60.0  # §9 #20
    cluster_drs_enabled: bool = True  # §9 #23
    cluster_ha_enabled: bool = False  # §9 #23
    # A second user who may log in and read but not change anything: every operation
    # other than get / list answers unauthorized (403) to its sessions.
    readonly_username: str = "readonly@vsphere.local"
    readonly_password: str = "password"
    # Simulated time (cloud clock) from a power-on or guest reboot until VMware Tools run
    # in the guest: guest operations answer service_unavailable before, and the guest
    # identity reports its IP address after.
    guest_boot_delay_s: float = 30.0

    @classmethod
    def from_state(cls, state: dict, base: Choices | None = None) -> Choices:
        overrides = state.get("choices") or {}
        known = {f.name for f in fields(cls)}
        return replace(base or cls(), **{k: v for k, v in overrides.items() if k in known})
