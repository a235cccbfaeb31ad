"""ZStack's names for the model's neutral kinds (storage types, image media types).

The one place the zstack dialect turns a kind into its wire word (``PrimaryStorage.type``,
``BackupStorage.type``, ``Image.mediaType``) and back.  These are also the spellings topology
files used before the kinds went neutral; ``fakestack`` teaches them to the model at import
(:func:`teach_the_model`), so such files and old snapshots still load.
"""

from __future__ import annotations

from fakestack.model.kinds import BackupStorageKind, ImageKind, Kind, PrimaryStorageKind, add_spellings

PRIMARY_STORAGE_TYPES: dict[PrimaryStorageKind, str] = {
    PrimaryStorageKind.LOCAL: "LocalStorage",
    PrimaryStorageKind.NETWORK_SHARE: "NFS",
    PrimaryStorageKind.SHARED_MOUNT: "SharedMountPoint",
    PrimaryStorageKind.DISTRIBUTED: "Ceph",
    PrimaryStorageKind.SHARED_BLOCK: "SharedBlock",
}
BACKUP_STORAGE_TYPES: dict[BackupStorageKind, str] = {
    BackupStorageKind.BACKUP_STORE: "ImageStoreBackupStorage",
    BackupStorageKind.FILE_SERVER: "SftpBackupStorage",
    BackupStorageKind.DISTRIBUTED: "CephBackupStorage",
}
MEDIA_TYPES: dict[ImageKind, str] = {
    ImageKind.ROOT_TEMPLATE: "RootVolumeTemplate",
    ImageKind.DATA_TEMPLATE: "DataVolumeTemplate",
    ImageKind.ISO: "ISO",
}
IMAGE_STORE = BACKUP_STORAGE_TYPES[BackupStorageKind.BACKUP_STORE]


def ps_type(ps) -> str:
    """A primary storage's ``type`` as ZStack shows it."""
    return PRIMARY_STORAGE_TYPES[ps.type]


def bs_type(bs) -> str:
    """A backup storage's ``type`` as ZStack shows it."""
    return BACKUP_STORAGE_TYPES[bs.type]


def media_type(image) -> str:
    """An image's ``mediaType`` as ZStack shows it."""
    return MEDIA_TYPES[image.media_type]


def name_of(kind: Kind | str, kind_type: type[Kind]) -> str:
    """ZStack's word for ``kind`` (a member or a neutral value) of ``kind_type``."""
    member = kind_type.coerce(kind)
    table: dict = {
        PrimaryStorageKind: PRIMARY_STORAGE_TYPES,
        BackupStorageKind: BACKUP_STORAGE_TYPES,
        ImageKind: MEDIA_TYPES,
    }[kind_type]
    return table[member]


def teach_the_model() -> None:
    """Let topology files, snapshots and model operations spell kinds the ZStack way."""
    for table in (PRIMARY_STORAGE_TYPES, BACKUP_STORAGE_TYPES, MEDIA_TYPES):
        add_spellings(table)
