"""The model's errors are neutral (snake_case fields, reason codes, facts); the zstack dialect
words them exactly as ZStack's server does (the texts the model used to carry)."""

from __future__ import annotations

import pytest

from fakestack.dialects.zstack.errors import error_from_domain, parameter_name, zstack_message
from fakestack.model.errors import (
    CapacityExhausted,
    Conflict,
    InvalidArgument,
    InvalidState,
    NotFound,
    Unreachable,
)
from fakestack.model.kinds import ImageKind, PrimaryStorageKind

A, B, C = "a" * 32, "b" * 32, "c" * 32

CASES = [
    (
        InvalidArgument("root_volume", "not a root volume", reason_code="not_root_volume", volume_uuid=A),
        f"Volume[uuid:{A}] is not root volume",
    ),
    (
        NotFound("vm", A, reason_code="root_volume_without_vm", volume_uuid=A),
        f"no vm owns root volume[uuid:{A}]",
    ),
    (
        InvalidArgument("mode", "only full is accepted", reason_code="backup_mode", mode="fast"),
        "invalid mode[fast], only [full] is accepted",
    ),
    (
        InvalidState(
            "backup_storage",
            A,
            "Disabled",
            "backup",
            ("Enabled",),
            reason_code="backup_storage_state",
            backup_storage_state="Disabled",
        ),
        "current backup storage state[Disabled] doesn't allow to proceed",
    ),
    (
        InvalidState("vm", A, "Stopped", "backup", reason_code="vm_backup_state", vm_uuid=A),
        f"Failed to create backups for VM[uuid:{A}], because it is not in state[Running, Paused]",
    ),
    (
        InvalidState(
            "vm", B, "Stopped", "backup", reason_code="volume_backup_vm_state", volume_uuid=A, vm_uuid=B
        ),
        f"Failed to create backup for volume[uuid:{A}], because its vm[uuid:{B}] "
        "is not in state[Running, Paused]",
    ),
    (
        InvalidState("volume", A, "Detached", "backup", reason_code="volume_not_attached", volume_uuid=A),
        f"volume[uuid:{A}] is not attached to any vm, cannot back it up",
    ),
    (
        InvalidArgument(
            "backup_storage",
            "x",
            reason_code="backup_storage_zone",
            backup_storage_uuid=A,
            zone_uuid=B,
            vm_uuid=C,
        ),
        f"backup storage[uuid:{A}] is not attached to zone[uuid:{B}] of vm[uuid:{C}]",
    ),
    (
        Unreachable(
            "backup_storage",
            A,
            reason_code="backup_sync_unreachable",
            backup_storage_uuid=A,
            backup_storage_status="Disconnected",
        ),
        f"sync volume backup metadata file in image store[uuid:{A}] meet I/O error: backup storage[uuid:{A}] "
        "is Disconnected",
    ),
    (
        InvalidArgument(
            "backup_storage", "x", reason_code="backup_not_on_storage", backup_uuid=A, backup_storage_uuid=B
        ),
        f"Volume backup[uuid:{A}] not found on backup storage[uuid:{B}]",
    ),
    (
        InvalidState(
            "backup",
            A,
            "Missing",
            "restore",
            reason_code="backup_data_missing",
            backup_uuid=A,
            backup_storage_uuid=B,
        ),
        f"the data of volume backup[uuid:{A}] is missing on backup storage[uuid:{B}]",
    ),
    (
        NotFound("backup_group", A, reason_code="backup_group_empty", backup_group_uuid=A),
        f"no volume backup found in group[uuid:{A}]",
    ),
    (
        NotFound("vm", A, reason_code="backup_group_vm_gone", vm_uuid=A, backup_group_uuid=B),
        f"the vm[uuid:{A}] of the backup group[uuid:{B}] no longer exists",
    ),
    (
        InvalidArgument("backup_group", "x", reason_code="backup_group_no_root", backup_group_uuid=A),
        f"the backup group[uuid:{A}] has no root volume backup",
    ),
    (
        InvalidState(
            "backup", B, "Orphaned", "revert", reason_code="backup_volume_gone", volume_uuid=A, backup_uuid=B
        ),
        f"the volume[uuid:{A}] of volume backup[uuid:{B}] no longer exists",
    ),
    (
        InvalidArgument("destination_backup_storage", "x", reason_code="same_backup_storage"),
        "the source and destination backup storage are the same",
    ),
    (
        InvalidArgument("volume", "x", reason_code="volume_not_data", volume_uuid=A),
        f"invalid volumeUuid: volume[uuid:{A}] is not a data volume",
    ),
    (
        InvalidArgument("volume", "x", reason_code="volume_is_root", volume_uuid=A),
        f"invalid volumeUuid: volume[uuid:{A}] is a root volume",
    ),
    (
        InvalidArgument("volume", "x", reason_code="volume_disabled", volume_uuid=A, volume_state="Disabled"),
        f"volume[uuid:{A}] is in state[Disabled], data volume can only be attached when state is Enabled",
    ),
    (
        InvalidArgument(
            "volume", "x", reason_code="volume_storage_unreachable", volume_uuid=A, primary_storage_uuid=B
        ),
        f"invalid volumeUuid: volume[uuid:{A}] is on primary storage [uuid:{B}], "
        "which the vm's hosts cannot reach",
    ),
    (
        InvalidArgument("root_volume", "x", reason_code="volume_not_root", volume_uuid=A),
        f"volume[uuid:{A}] is not root volume",
    ),
    (
        InvalidArgument("volume", "x", reason_code="volume_or_snapshot"),
        "invalid volumeUuid: either volumeUuid or volumeSnapshotUuid must be set",
    ),
    (
        InvalidArgument("size", "x", reason_code="volume_shrink", volume_uuid=A, volume_size=10, size=5),
        f"Shrink volume is not supported: volume[uuid:{A}] is 10 bytes, the new size[5] is smaller",
    ),
    (
        InvalidArgument("uuid", "x", reason_code="root_volume_state", volume_uuid=A),
        f"it's not allowed to change state of root volume, uuid:{A}",
    ),
    (
        InvalidState(
            "volume_snapshot", A, "Orphaned", "revert", reason_code="snapshot_volume_gone", snapshot_uuid=A
        ),
        f"original volume for snapshot[uuid:{A}] has been deleted, cannot revert volume to it",
    ),
    (
        InvalidState(
            "volume_snapshot",
            A,
            "Disabled",
            "revert",
            reason_code="snapshot_state",
            snapshot_uuid=A,
            snapshot_state="Disabled",
        ),
        f"volume snapshot[uuid:{A}] is in state Disabled, cannot revert volume to it",
    ),
    (
        InvalidState(
            "volume_snapshot",
            A,
            "Creating",
            "x",
            reason_code="snapshot_condition",
            snapshot_uuid=A,
            expected="Ready",
            current="Creating",
        ),
        f"volume snapshot[uuid:{A}] is not Ready, it's Creating",
    ),
    (
        InvalidArgument(
            "primary_storage",
            "x",
            reason_code="snapshot_other_storage",
            snapshot_uuid=A,
            primary_storage_uuid=B,
        ),
        f"the volume snapshot[uuid:{A}] is on primary storage[uuid:{B}], a volume made from it can only be "
        "created there",
    ),
    (
        InvalidState(
            "image", A, "Disabled", "x", reason_code="image_not_enabled", image_uuid=A, image_state="Disabled"
        ),
        f"image[uuid:{A}] is not Enabled, it's Disabled",
    ),
    (
        InvalidState(
            "image",
            A,
            "Downloading",
            "x",
            reason_code="image_not_ready",
            image_uuid=A,
            image_status="Downloading",
        ),
        f"image[uuid:{A}] is not Ready, it's Downloading",
    ),
    (
        InvalidArgument(
            "image", "x", reason_code="image_not_root_template", image_uuid=A, media_type=ImageKind.ISO
        ),
        f"invalid imageUuid: image[uuid:{A}] is a ISO, not a RootVolumeTemplate",
    ),
    (
        InvalidArgument(
            "image",
            "x",
            reason_code="image_not_data_template",
            image_uuid=A,
            media_type=ImageKind.ROOT_TEMPLATE,
        ),
        f"image[uuid:{A}] is not DataVolumeTemplate, it's RootVolumeTemplate",
    ),
    (
        CapacityExhausted(
            "backup_storage",
            100,
            7,
            resource_uuid=A,
            reason_code="image_download_room",
            backup_storage_uuid=A,
            backup_storage_name="bs",
            url="http://x/i.qcow2",
        ),
        f"the backup storage[uuid:{A}, name:bs] has not enough capacity to download the "
        "image[http://x/i.qcow2].Required size:100, available size:7",
    ),
    (
        InvalidArgument("instance_offering", "x", reason_code="instance_offering_or_sizes"),
        "invalid instanceOfferingUuid: give an instance offering, or cpuNum and memorySize",
    ),
    (
        InvalidArgument(
            "data_volume_primary_storage", "x", reason_code="data_storage_unreachable", primary_storage_uuid=A
        ),
        f"invalid primaryStorageUuidForDataVolume: primary storage[uuid:{A}] "
        "is not attached to a cluster that "
        "can run the vm",
    ),
    (
        InvalidArgument(
            "primary_storage",
            "x",
            reason_code="storage_not_host_local",
            primary_storage_uuid=A,
            primary_storage_kind=PrimaryStorageKind.NETWORK_SHARE,
        ),
        f"invalid primaryStorageUuid: primary storage[uuid:{A}] is a NFS, not a LocalStorage",
    ),
    (
        InvalidArgument("host", "x", reason_code="host_not_on_storage", host_uuid=A, primary_storage_uuid=B),
        f"invalid hostUuid: host[uuid:{A}] is not attached to primary storage[uuid:{B}]",
    ),
    (
        InvalidArgument("host", "x", reason_code="host_cannot_reach_storage", host_uuid=A),
        f"invalid hostUuid: host[uuid:{A}] cannot reach the storage",
    ),
    (
        InvalidArgument(
            "host", "x", reason_code="host_cannot_reach_primary_storage", host_uuid=A, primary_storage_uuid=B
        ),
        f"host[uuid:{A}] cannot reach primary storage[uuid:{B}]",
    ),
    (
        InvalidArgument(
            "default_l3_network", "x", reason_code="no_nic_on_l3_network", vm_uuid=A, l3_network_uuid=B
        ),
        f"invalid defaultL3NetworkUuid: the vm[uuid:{A}] has no nic on l3 network[uuid:{B}]",
    ),
    (
        InvalidArgument("vm", "x", reason_code="live_migration_local_data_volumes", vm_uuid=A),
        f"unable to live migrate vm[uuid:{A}] with data volumes on local storage. "
        "Need detach all data volumes first.",
    ),
    (
        InvalidArgument(
            "vm", "x", reason_code="live_migration_local_platform", vm_uuid=A, platform="Windows"
        ),
        f"unable to live migrate vm[uuid:{A}] with local storage. "
        "Only linux guest is supported. Current platform "
        "is [Windows]",
    ),
    (
        InvalidArgument("host", "x", reason_code="vm_already_on_host", vm_uuid=A, host_uuid=B),
        f"the vm[uuid:{A}] is already on host[uuid:{B}]",
    ),
    (
        NotFound("image", B, reason_code="reimage_image_gone", volume_uuid=A, image_uuid=B),
        f"unable to reset volume[uuid:{A}] to origin image[uuid:{B}], cannot find image cache.",
    ),
    (
        InvalidArgument("vm", "x", reason_code="reimage_iso", volume_uuid=A, image_uuid=B),
        f"unable to reset volume[uuid:{A}] to origin image[uuid:{B}], for image type is ISO",
    ),
    (
        InvalidArgument(
            "static_ip", "x", reason_code="static_ip_out_of_range", ip="10.0.0.1", l3_network_uuid=A
        ),
        f"static ip[10.0.0.1] is not in the ip ranges of l3 network[uuid:{A}]",
    ),
    (
        Conflict("ip", "10.0.0.1", reason_code="static_ip_taken", ip="10.0.0.1", l3_network_uuid=A),
        f"the static IP[10.0.0.1] has been occupied on l3 network[uuid:{A}]",
    ),
    (
        Conflict("l3_network", A, reason_code="l3_network_attached", l3_network_uuid=A, vm_uuid=B),
        f"unable to attach a L3 network. The L3 network[uuid:{A}] is already attached to the vm[uuid: {B}]",
    ),
    (
        InvalidArgument("l3_network", "x", reason_code="l3_network_zone", l3_network_uuid=A, zone_uuid=B),
        f"l3 network[uuid:{A}] is not in the zone[uuid:{B}] of the vm",
    ),
    (
        CapacityExhausted("l3.ip", 1, 0, resource_uuid=A, reason_code="l3_network_full", l3_network_uuid=A),
        f"no free IP address left on l3 network[uuid:{A}]",
    ),
    (Conflict("vm", A, reason_code="uuid_taken"), f"vm[uuid:{A}] already exists"),
    (
        CapacityExhausted("chain_depth", 9, 8, resource_uuid=A, reason_code="chain_depth"),
        "the disk chain would reach 9 levels, over the limit of 8",
    ),
    (
        CapacityExhausted(
            "chain_depth", 9, 8, resource_uuid=A, reason_code="volume_chain_depth", volume_uuid=A
        ),
        f"the disk chain of volume[uuid:{A}] would reach 9 levels, over the limit of 8",
    ),
    # no reason code: the model's "invalid <field>: <reason>" under ZStack's parameter name
    (
        InvalidArgument("delete_mode", "must be Permissive or Enforcing"),
        "invalid deleteMode: must be Permissive or Enforcing",
    ),
    (InvalidArgument("cpu_num", "must be positive"), "invalid cpuNum: must be positive"),
    (InvalidArgument("name", "must be 1 to 255 characters"), "invalid name: must be 1 to 255 characters"),
    # the model's neutral defaults, in ZStack's bracket style
    (Unreachable("backup_storage", A), f"backup_storage[uuid:{A}] is not reachable"),
    (
        InvalidState("volume", A, "Deleted", "attach"),
        f"volume[uuid:{A}] is in state[Deleted], which does not allow attach",
    ),
    (NotFound("backup_group", A), f"backup_group[{A}] not found"),
    (Conflict("vm", A), f"vm[{A}] conflicts with an existing one"),
]


@pytest.mark.parametrize(
    "exc, text", CASES, ids=[c[0].facts.get("reason_code") or c[0].message for c in CASES]
)
def test_zstack_words_each_model_error_as_zstack_does(exc, text):
    assert zstack_message(exc) == text
    assert "[uuid:" not in exc.message  # the model's own text stays neutral


def test_the_wording_reaches_the_wire_error_code():
    exc = InvalidArgument("root_volume", "not a root volume", reason_code="not_root_volume", volume_uuid=A)
    error = error_from_domain(exc, operation="create_vm_backup", message_class="APICreateVmBackupMsg")
    assert (error.code, error.details) == ("SYS.1006", f"Volume[uuid:{A}] is not root volume")
    error = error_from_domain(
        InvalidArgument("backup_storages", "must not be empty"),
        operation="delete_backup_group",
        message_class="APIDeleteVolumeBackupMsg",
    )
    assert (error.code, error.details) == ("SYS.1007", "invalid backupStorageUuids: must not be empty")


def test_a_model_message_of_its_own_is_not_rewritten():
    exc = InvalidArgument("strategy", "none", message="a vm created from a backup is restored at once")
    assert zstack_message(exc) == "a vm created from a backup is restored at once"


def test_parameter_names():
    assert [
        parameter_name(f) for f in ("root_volume", "backup_storage", "media_type", "static_ip", "name")
    ] == ["rootVolumeUuid", "backupStorageUuid", "mediaType", "staticIp", "name"]
