"""ZStack error shapes and the one table mapping the model's domain errors onto them.

Two kinds of failure exist on the wire (reference §1.6):

* :class:`TransportError`: the REST layer itself refuses the request; plain text with a
  4xx status (bad header, unknown path, wrong method, undecodable body...).
* :class:`ApiError`: the message reached the "bus"; the body is ``{"error": ErrorCode}``
  with HTTP 503 (directly for sync APIs, on the poll for async ones).

:func:`error_from_domain` is the only place where a model error becomes a ZStack code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from werkzeug.wrappers import Response

from fakestack.model import errors as domain
from fakestack.model.kinds import BackupStorageKind, ImageKind, PrimaryStorageKind

from .names import name_of

# Descriptions from ZStack's conf/errorCodes/*.xml (reference §1.6, §8).
DESCRIPTIONS: dict[str, str] = {
    "SYS.1000": "An internal error happened in system",
    "SYS.1001": "A message or a operation timeout",
    "SYS.1003": "A resource can not be found",
    "SYS.1006": "An operation failed",
    "SYS.1007": "One or more API argument is invalid",
    "ID.1000": "Unable to authenticate a user",
    "ID.1001": "The session is invalid, either wrong session id or the session has been expired",
    "ID.1002": "The user doesn't have permission to perform the operation",
    "ID.1006": "Max number of active sessions exceeded",
    "VM.1001": "Unable to start a vm",
    "VM.1002": "Unable to stop a vm",
    "VM.1003": "Unable to reboot a vm",
    "VM.1007": "Unable to attach a network to vm",
    "VM.1008": "Unable to migrate a vm",
    "VM.1010": "VM is not in state that allows required operation",
    "VM.1014": "VM is not in Stopped state, cannot do re-image operation.",
    "VM.1015": "Original image media type of VM is ISO, cannot do re-image operation.",
    "VM.1016": "Cannot find image cache, cannot do re-image operation.",
    "BS.1003": "Unable to allocate a backup storage",
    "PS.1000": "Unable to allocate a primary storage that has available space for required volume",
    "VOL_BACKUP.1000": "Unable to create volume backup for stopped vm.",
    # The host allocator overwrites only the code of an "operation failed" error (§1.6 note).
    "HOST_ALLOCATION.1000": "An operation failed",
    "HOST_ALLOCATION.1001": "An operation failed",
}

_UNSET: Any = object()


@dataclass
class ErrorCode:
    code: str
    details: str | None = None
    description: str | None = None
    cause: ErrorCode | None = None
    opaque: dict | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"code": self.code}
        if self.description is not None:
            data["description"] = self.description
        if self.details is not None:
            data["details"] = self.details
        if self.opaque:
            data["opaque"] = dict(self.opaque)
        if self.cause is not None:
            data["cause"] = self.cause.to_dict()
        return data


def error_code(
    code: str,
    details: str | None = None,
    cause: ErrorCode | None = None,
    description: str | None = _UNSET,
) -> ErrorCode:
    if description is _UNSET:
        description = DESCRIPTIONS.get(code)
    return ErrorCode(code=code, details=details, description=description, cause=cause)


class ApiError(Exception):
    """An API-level failure: rendered as ``{"error": ErrorCode}`` (503 over REST).

    ``stage`` is ``interceptor`` for parameter/session checks (the legacy endpoint reports
    those under the generic ``APIReply``/``APIEvent`` classes) or ``handler``.
    """

    def __init__(self, error: ErrorCode, stage: str = "handler") -> None:
        super().__init__(error.details or error.code)
        self.error = error
        self.stage = stage


class TransportError(Exception):
    """A refusal by the REST layer: plain text body with an HTTP status."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


def invalid_argument(details: str) -> ApiError:
    return ApiError(error_code("SYS.1007", details), stage="interceptor")


def resource_not_found(field_name: str, uuid: Any, vo: str) -> ApiError:
    return ApiError(
        error_code("SYS.1003", f"invalid field[{field_name}], resource[uuid:{uuid}, type:{vo}] not found"),
        stage="interceptor",
    )


# --------------------------------------------------------------------------------------
# Domain error -> ZStack ErrorCode: the one mapping table.
# --------------------------------------------------------------------------------------

# Model resource kinds -> ZStack VO class names (used in SYS.1003 details).
VO_NAMES: dict[str, str] = {
    "vm": "VmInstanceVO",
    "volume": "VolumeVO",
    "host": "HostVO",
    "image": "ImageVO",
    "primary_storage": "PrimaryStorageVO",
    "backup_storage": "BackupStorageVO",
    "zone": "ZoneVO",
    "cluster": "ClusterVO",
    "l3_network": "L3NetworkVO",
    "instance_offering": "InstanceOfferingVO",
    "disk_offering": "DiskOfferingVO",
    "backup": "VolumeBackupVO",
    "backup_group": "VolumeBackupVO",
    "snapshot": "VolumeSnapshotVO",
    "volume_snapshot": "VolumeSnapshotVO",
    "nic": "VmNicVO",
    "session": "SessionVO",
}

# Words ZStack uses for a resource in state errors.
_STATE_WORDS: dict[str, str] = {
    "vm": "vm instance",
    "volume": "volume",
    "host": "host",
    "image": "image",
    "primary_storage": "primary storage",
    "backup_storage": "backup storage",
    "backup": "volume backup",
}

# How each operation wraps the root cause (outer first); a wrapper repeats the root details
# unless it carries its own.  Reference §1.6 ("VM in wrong state") and §5.1/§7.1.
OPERATION_WRAPPERS: dict[str, tuple[tuple[str, str | None], ...]] = {
    "start_vm": (("VM.1001", None),),
    "stop_vm": (("VM.1002", None),),
    "reboot_vm": (("VM.1003", None),),
    "create_vm": (("SYS.1006", None),),
    "clone_vm.start": (("VM.1001", None), ("SYS.1006", None)),
    "destroy_vm": (),
    # validateOperationByState(msg, state, null): the state error goes out unwrapped
    "pause_vm": (),
    "resume_vm": (),
    "migrate_vm": (("VM.1008", None),),
    "change_vm_offering": (("SYS.1006", None),),
    "update_vm": (("SYS.1006", None),),
    "create_vm_from_backup": (("SYS.1006", None),),
}
_DEFAULT_STATE_WRAP = (("SYS.1006", None),)

_PS_PLACEMENT_OPERATIONS = (
    "create_vm",
    "start_vm",
    "clone_vm.start",
    "create_vm_from_backup",
    "create_vm.candidates",
)

_BACKUP_INTERCEPTED = (
    "create_vm_backup",
    "create_image_from_backup",
    "sync_vm_backup",
    "create_volume_backup",
    "copy_backup_group",
    "create_vm_from_backup",
    "revert_vm_from_backup",
    "revert_volume_from_backup",
)

_HOST_DETAILS = "no host having cpu[{cpu}], memory[{memory} bytes] found"

# ZStack's own text for model errors that carry a ``reason_code`` (it replaces the model's
# neutral ``message``); kinds appear under ZStack's names (``names``).
REASON_MESSAGES: dict[str, str] = {
    "backup_storage_kind": "Unexpected backup storage[type:{backup_storage_type},uuid:{backup_storage_uuid}]",
    "image_not_bootable": "invalid imageUuid: image[uuid:{image_uuid}] is a {media_type_name}, "
    "not a RootVolumeTemplate",
    "image_not_data_template": "image[uuid:{image_uuid}] is not DataVolumeTemplate, it's {media_type_name}",
}
REASON_MESSAGES.update(
    {
        # -- backups / restores
        "not_root_volume": "Volume[uuid:{volume_uuid}] is not root volume",
        "root_volume_without_vm": "no vm owns root volume[uuid:{volume_uuid}]",
        "backup_mode": "invalid mode[{mode}], only [full] is accepted",
        "backup_storage_state": "current backup storage state[{backup_storage_state}] doesn't allow to proceed",
        "vm_backup_state": "Failed to create backups for VM[uuid:{vm_uuid}], because it is not in "
        "state[Running, Paused]",
        "volume_backup_vm_state": "Failed to create backup for volume[uuid:{volume_uuid}], because its "
        "vm[uuid:{vm_uuid}] is not in state[Running, Paused]",
        "volume_not_attached": "volume[uuid:{volume_uuid}] is not attached to any vm, cannot back it up",
        "backup_storage_zone": "backup storage[uuid:{backup_storage_uuid}] is not attached to "
        "zone[uuid:{zone_uuid}] of vm[uuid:{vm_uuid}]",
        "backup_sync_unreachable": "sync volume backup metadata file in image store[uuid:{backup_storage_uuid}] "
        "meet I/O error: backup storage[uuid:{backup_storage_uuid}] is "
        "{backup_storage_status}",
        "backup_not_on_storage": "Volume backup[uuid:{backup_uuid}] not found on backup "
        "storage[uuid:{backup_storage_uuid}]",
        "backup_data_missing": "the data of volume backup[uuid:{backup_uuid}] is missing on backup "
        "storage[uuid:{backup_storage_uuid}]",
        "backup_group_empty": "no volume backup found in group[uuid:{backup_group_uuid}]",
        "backup_group_vm_gone": "the vm[uuid:{vm_uuid}] of the backup group[uuid:{backup_group_uuid}] "
        "no longer exists",
        "backup_group_no_root": "the backup group[uuid:{backup_group_uuid}] has no root volume backup",
        "backup_volume_gone": "the volume[uuid:{volume_uuid}] of volume backup[uuid:{backup_uuid}] "
        "no longer exists",
        "same_backup_storage": "the source and destination backup storage are the same",
        # -- volumes, snapshots, images
        "volume_not_data": "invalid volumeUuid: volume[uuid:{volume_uuid}] is not a data volume",
        "volume_is_root": "invalid volumeUuid: volume[uuid:{volume_uuid}] is a root volume",
        "volume_disabled": "volume[uuid:{volume_uuid}] is in state[{volume_state}], data volume can only be "
        "attached when state is Enabled",
        "volume_storage_unreachable": "invalid volumeUuid: volume[uuid:{volume_uuid}] is on primary storage "
        "[uuid:{primary_storage_uuid}], which the vm's hosts cannot reach",
        "volume_not_root": "volume[uuid:{volume_uuid}] is not root volume",
        "volume_or_snapshot": "invalid volumeUuid: either volumeUuid or volumeSnapshotUuid must be set",
        "volume_shrink": "Shrink volume is not supported: volume[uuid:{volume_uuid}] is {volume_size} bytes, "
        "the new size[{size}] is smaller",
        "root_volume_state": "it's not allowed to change state of root volume, uuid:{volume_uuid}",
        "snapshot_volume_gone": "original volume for snapshot[uuid:{snapshot_uuid}] has been deleted, "
        "cannot revert volume to it",
        "snapshot_state": "volume snapshot[uuid:{snapshot_uuid}] is in state {snapshot_state}, cannot revert "
        "volume to it",
        "snapshot_condition": "volume snapshot[uuid:{snapshot_uuid}] is not {expected}, it's {current}",
        "snapshot_other_storage": "the volume snapshot[uuid:{snapshot_uuid}] is on primary "
        "storage[uuid:{primary_storage_uuid}], a volume made from it can only be "
        "created there",
        "image_not_enabled": "image[uuid:{image_uuid}] is not Enabled, it's {image_state}",
        "image_not_ready": "image[uuid:{image_uuid}] is not Ready, it's {image_status}",
        "image_not_root_template": "invalid imageUuid: image[uuid:{image_uuid}] is a {media_type_name}, not a "
        "RootVolumeTemplate",
        "image_download_room": "the backup storage[uuid:{backup_storage_uuid}, name:{backup_storage_name}] has "
        "not enough capacity to download the image[{url}].Required size:{needed}, "
        "available size:{available}",
        # -- vms, hosts, storage, networks
        "instance_offering_or_sizes": "invalid instanceOfferingUuid: give an instance offering, or cpuNum and "
        "memorySize",
        "data_storage_unreachable": "invalid primaryStorageUuidForDataVolume: primary "
        "storage[uuid:{primary_storage_uuid}] is not attached to a cluster that "
        "can run the vm",
        "storage_not_host_local": "invalid primaryStorageUuid: primary storage[uuid:{primary_storage_uuid}] is "
        "a {primary_storage_type}, not a LocalStorage",
        "host_not_on_storage": "invalid hostUuid: host[uuid:{host_uuid}] is not attached to primary "
        "storage[uuid:{primary_storage_uuid}]",
        "host_cannot_reach_storage": "invalid hostUuid: host[uuid:{host_uuid}] cannot reach the storage",
        "host_cannot_reach_primary_storage": "host[uuid:{host_uuid}] cannot reach primary "
        "storage[uuid:{primary_storage_uuid}]",
        "no_nic_on_l3_network": "invalid defaultL3NetworkUuid: the vm[uuid:{vm_uuid}] has no nic on l3 "
        "network[uuid:{l3_network_uuid}]",
        "live_migration_local_data_volumes": "unable to live migrate vm[uuid:{vm_uuid}] with data volumes on "
        "local storage. Need detach all data volumes first.",
        "live_migration_local_platform": "unable to live migrate vm[uuid:{vm_uuid}] with local storage. Only "
        "linux guest is supported. Current platform is [{platform}]",
        "vm_already_on_host": "the vm[uuid:{vm_uuid}] is already on host[uuid:{host_uuid}]",
        "reimage_image_gone": "unable to reset volume[uuid:{volume_uuid}] to origin image[uuid:{image_uuid}], "
        "cannot find image cache.",
        "reimage_iso": "unable to reset volume[uuid:{volume_uuid}] to origin image[uuid:{image_uuid}], for "
        "image type is ISO",
        "static_ip_out_of_range": "static ip[{ip}] is not in the ip ranges of l3 network[uuid:{l3_network_uuid}]",
        "static_ip_taken": "the static IP[{ip}] has been occupied on l3 network[uuid:{l3_network_uuid}]",
        "l3_network_attached": "unable to attach a L3 network. The L3 network[uuid:{l3_network_uuid}] is "
        "already attached to the vm[uuid: {vm_uuid}]",
        "l3_network_zone": "l3 network[uuid:{l3_network_uuid}] is not in the zone[uuid:{zone_uuid}] of the vm",
        "l3_network_full": "no free IP address left on l3 network[uuid:{l3_network_uuid}]",
        "uuid_taken": "{resource_kind}[uuid:{key}] already exists",
        "chain_depth": "the disk chain would reach {needed} levels, over the limit of {available}",
        "volume_chain_depth": "the disk chain of volume[uuid:{volume_uuid}] would reach {needed} levels, over "
        "the limit of {available}",
    }
)
# ZStack's wording of a model error that carries neither a reason code nor a text of its own.
DEFAULT_MESSAGES: dict[str, str] = {
    "invalid_argument": "invalid {field}: {reason}",
    "not_found": "{resource_kind}[{key}] not found",
    "invalid_state": "{resource_kind}[uuid:{uuid}] is in state[{state}], which does not allow {operation}",
    "conflict": "{resource_kind}[{key}] conflicts with an existing one",
    "unreachable": "{resource_kind}[uuid:{uuid}] is not reachable",
}
# Neutral field names of the model's InvalidArgument -> ZStack's parameter names (where an
# API names the same thing otherwise, FIELD_NAMES_BY_OPERATION wins).  A model error with
# no ``reason_code`` template is worded ``invalid <parameter>: <reason>``.
FIELD_NAMES: dict[str, str] = {
    "root_volume": "rootVolumeUuid",
    "backup_storage": "backupStorageUuid",
    "backup_storages": "backupStorageUuids",
    "destination_backup_storage": "dstBackupStorageUuid",
    "backup_group": "groupUuid",
    "delete_mode": "deleteMode",
    "media_type": "mediaType",
    "host": "hostUuid",
    "volume": "volumeUuid",
    "volumes": "volumeUuids",
    "actual_size": "actualSize",
    "state_event": "stateEvent",
    "data_disk_sizes": "dataDiskSizes",
    "static_ip": "staticIp",
    "instance_offering": "instanceOfferingUuid",
    "cpu_num": "cpuNum",
    "memory_size": "memorySize",
    "image": "imageUuid",
    "allocator_strategy": "allocatorStrategy",
    "data_volume_primary_storage": "primaryStorageUuidForDataVolume",
    "disk_size": "diskSize",
    "vm": "vmInstanceUuid",
    "l3_network": "l3NetworkUuid",
    "l3_networks": "l3NetworkUuids",
    "default_l3_network": "defaultL3NetworkUuid",
    "primary_storage": "primaryStorageUuid",
}
FIELD_NAMES_BY_OPERATION: dict[str, dict[str, str]] = {}


def parameter_name(field_name: str, operation: str = "") -> str:
    """ZStack's parameter name for a model field name (``root_volume`` -> ``rootVolumeUuid``)."""
    per_operation = FIELD_NAMES_BY_OPERATION.get(operation, {})
    return per_operation.get(field_name) or FIELD_NAMES.get(field_name, field_name)


# Facts holding a kind -> (the fact with ZStack's word for it, the kind's enum).
_KIND_FACTS = {
    "backup_storage_kind": ("backup_storage_type", BackupStorageKind),
    "media_type": ("media_type_name", ImageKind),
    "primary_storage_kind": ("primary_storage_type", PrimaryStorageKind),
}


@dataclass(frozen=True)
class Rule:
    """``kind`` = domain error kind; ``match`` = capacity resource / resource kind prefix;
    ``operations`` = where the rule applies (empty: everywhere)."""

    kind: str
    code: str
    details: str
    match: str = "*"
    operations: tuple[str, ...] = ()
    wrap: Any = ()  # tuple of (code, details|None), or "operation" for OPERATION_WRAPPERS
    default_wrap: tuple = field(default=())


RULES: tuple[Rule, ...] = (
    # -- capacity ------------------------------------------------------------------------
    Rule(
        "capacity_exhausted",
        "HOST_ALLOCATION.1000",
        "unable to allocate hosts, no host meets the following conditions: clusterUuid={clusterUuid} "
        "hostUuid={hostUuid} cpu={cpu} memoryCapacity={memory} L3NetworkUuids={l3NetworkUuids}",
        match="host",
        operations=("clone_vm",),
    ),
    Rule("capacity_exhausted", "HOST_ALLOCATION.1000", _HOST_DETAILS, match="host", wrap="operation"),
    Rule(
        "capacity_exhausted",
        "HOST_ALLOCATION.1000",
        "cannot find available primary storage[state: Enabled, status: Connected, available capacity "
        "{needed} bytes]. Check the state/status of primary storage and make sure they have been "
        "attached to clusters",
        match="primary_storage",
        operations=_PS_PLACEMENT_OPERATIONS,
        wrap="operation",
    ),
    Rule(
        "capacity_exhausted",
        "SYS.1006",
        "cannot find any qualified primary storage, errors are [primary storage[uuid:{resource_uuid}]'s "
        "physical capacity usage has exceeded the threshold[0.9]]",
        match="primary_storage.physical",
    ),
    Rule(
        "capacity_exhausted",
        "SYS.1006",
        "after subtracting reserved capacity[1G], there is no primary storage having required "
        "size[{needed} bytes], may be the threshold of primary storage physical capacity setting is lower",
        match="primary_storage",
    ),
    Rule(
        "capacity_exhausted",
        "SYS.1006",
        "can not find backup storage, unable to commit volume snapshot[psUuid:{psUuid}] as image, "
        "destination required PS uuid:{psUuid}",
        match="backup_storage",
        operations=("clone_vm",),
    ),
    # AddImage's download pre-check names the storage and the URL (its own text)
    Rule("capacity_exhausted", "SYS.1006", "{message}", match="backup_storage", operations=("add_image",)),
    Rule(
        "capacity_exhausted",
        "SYS.1006",
        "after subtracting reserved capacity, no backup storage has required capacity[{needed} bytes]",
        match="backup_storage",
        wrap=(("BS.1003", "unable to allocate a backup storage"),),
    ),
    Rule(
        "capacity_exhausted",
        "HOST_ALLOCATION.1001",
        "no available ip in l3 network[uuid:{resource_uuid}]",
        match="l3",
        wrap="operation",
    ),
    Rule("capacity_exhausted", "SYS.1006", "{message}", wrap="operation"),
    # -- the rest ------------------------------------------------------------------------
    Rule("not_found", "VM.1016", "{message}", operations=("reimage_vm",)),
    Rule("not_found", "SYS.1006", "{message}", match="backup_group"),
    Rule("not_found", "SYS.1006", "{message}", match="vm", operations=("revert_vm_from_backup",)),
    Rule("not_found", "SYS.1003", "invalid field[{field}], resource[uuid:{key}, type:{vo}] not found"),
    Rule(
        "invalid_state",
        "SYS.1006",
        "unable to reset volume[uuid:{volumeUuid}] to snapshot[uuid:{snapshotUuid}], the vm[uuid:{uuid}] "
        "volume attached to is not in Stopped state, current state is {state}",
        match="vm",
        operations=("revert_volume_to_snapshot",),
    ),
    Rule("invalid_state", "SYS.1006", "{message}", match="volume_snapshot"),
    Rule(
        "invalid_state",
        "VM.1014",
        "unable to reset volume[uuid:{rootVolumeUuid}] to origin image[uuid:{imageUuid}], the "
        "vm[uuid:{uuid}] volume attached to is not in Stopped state, current state is {state}",
        match="vm",
        operations=("reimage_vm",),
    ),
    # VolumeBackupApiInterceptor's checks are all "operation failed" with their own text.
    Rule(
        "invalid_state",
        "SYS.1006",
        "{message}",
        match="vm",
        operations=("create_vm_backup", "create_volume_backup"),
    ),
    Rule("invalid_state", "SYS.1006", "{message}", match="backup"),
    Rule(
        "invalid_state",
        "VM.1010",
        "current vm instance state[{state}] doesn't allow to proceed message[{message_class}], "
        "allowed states are [{allowed}]",
        match="vm",
        wrap="operation",
        default_wrap=_DEFAULT_STATE_WRAP,
    ),
    Rule(
        "invalid_state",
        "SYS.1006",
        "current {state_words} state[{state}] doesn't allow to proceed message[{message_class}]",
    ),
    Rule("invalid_argument", "SYS.1006", "{message}", operations=_BACKUP_INTERCEPTED),
    # The model's conflicts are taken caller-chosen uuids (resourceUuid). ZStack has no
    # interceptor for this (the insert fails); the reference gives no code: "operation failed".
    Rule("conflict", "SYS.1006", "{message}", match="l3_network"),
    Rule("conflict", "SYS.1006", "{message}", match="ip"),
    Rule("conflict", "SYS.1006", "resourceUuid[{key}] is already taken by an existing {vo}"),
    Rule(
        "invalid_argument", "SYS.1006", "{message}", operations=("migrate_vm", "reimage_vm"), wrap="operation"
    ),
    Rule("invalid_argument", "SYS.1006", "{message}", operations=("set_volume_state",)),
    Rule("invalid_argument", "SYS.1007", "{message}"),
    Rule("unreachable", "SYS.1006", "{message}", wrap="operation"),
    Rule("timeout", "SYS.1001", "{message}", wrap="operation"),
    Rule("injected", "{code}", "{message}", wrap="operation"),
)


def _matches(rule: Rule, exc: domain.DomainError, operation: str) -> bool:
    if rule.kind != exc.kind:
        return False
    if rule.operations and operation not in rule.operations:
        return False
    if rule.match == "*":
        return True
    subject = getattr(exc, "resource", None) or getattr(exc, "resource_kind", None) or ""
    return subject == rule.match or subject.startswith(rule.match + ".")


def _facts(
    exc: domain.DomainError, message_class: str, context: dict[str, Any], operation: str = ""
) -> dict[str, Any]:
    facts: dict[str, Any] = {"message": exc.message, "message_class": message_class}
    facts.update(exc.facts)
    facts.update({k: v for k, v in exc.__dict__.items() if k not in ("facts",)})
    request = getattr(exc, "request", None) or {}
    facts.setdefault("cpu", request.get("cpu", request.get("cpuNum", context.get("cpu"))))
    facts.setdefault("memory", request.get("memory", request.get("memorySize", context.get("memory"))))
    kind = getattr(exc, "resource_kind", None)
    facts["vo"] = VO_NAMES.get(kind or "", f"{kind}VO")
    facts["state_words"] = _STATE_WORDS.get(kind or "", (kind or "resource").replace("_", " "))
    facts["allowed"] = ", ".join(getattr(exc, "allowed", []) or [])
    if exc.kind == "injected":
        code = getattr(exc, "code", None)
        facts["code"] = code if code and "." in code else "SYS.1006"
    for key, value in context.items():
        facts.setdefault(key, value)
    facts.setdefault("field", context.get("field", "uuid"))
    template = REASON_MESSAGES.get(facts.get("reason_code") or "")
    if template is None and exc.message == exc.default_message():  # the model's neutral default
        if exc.kind == "invalid_argument":
            facts["field"] = parameter_name(facts["field"], operation)
        template = DEFAULT_MESSAGES.get(exc.kind)
    if template is not None:
        for key, (word_key, kind_type) in _KIND_FACTS.items():
            if key in facts:
                facts[word_key] = name_of(facts[key], kind_type)
        facts["message"] = template.format_map(_Missing(facts))
    return facts


def zstack_message(exc: domain.DomainError, operation: str = "") -> str:
    """The text ZStack shows for a model error (its ``reason_code`` template or its field
    under ZStack's parameter name), as rules with ``{message}`` render it."""
    return str(_facts(exc, "", {}, operation)["message"])


class _Missing(dict):
    def __missing__(self, key: str) -> str:  # unknown facts render as "null", as Java would
        return "null"


def error_from_domain(
    exc: domain.DomainError,
    *,
    operation: str,
    message_class: str,
    context: dict[str, Any] | None = None,
) -> ErrorCode:
    """Render a domain error as the ErrorCode (with its cause chain) ZStack would send.

    ``operation`` names what the API was doing (``start_vm``, ``clone_vm``,
    ``clone_vm.start``, ``create_vm``, ``create_vm_backup``...); ``context`` adds facts the
    request knows and the error does not (``field`` for not-found, clone placement hints).
    """
    context = dict(context or {})
    for rule in RULES:
        if not _matches(rule, exc, operation):
            continue
        facts = _Missing(_facts(exc, message_class, context, operation))
        for key, value in list(facts.items()):
            if value is None:
                facts[key] = "null"
        code = rule.code.format_map(facts)
        details = rule.details.format_map(facts)
        error = error_code(code, details)
        wrap = rule.wrap
        if wrap == "operation":
            wrap = OPERATION_WRAPPERS.get(operation, rule.default_wrap)
        for outer_code, outer_details in reversed(wrap):
            error = error_code(
                outer_code, outer_details if outer_details is not None else details, cause=error
            )
        return error
    return error_code("SYS.1000", exc.message)


TEXT_MIMETYPE = "text/plain;charset=utf-8"


def text_response(text: str, status: int) -> Response:
    """A transport error's answer: plain text, as ZStack's RestServer sends it."""
    return Response(text, status=status, content_type=TEXT_MIMETYPE)
