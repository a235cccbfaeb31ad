"""The model's kinds of storage and image: neutral, string-valued enums.

A kind says how a resource behaves, not what a product calls it.  Each dialect shows a
kind under its own name (its name map lives in the dialect); the CLI and the admin API
show the neutral value.

``Kind`` members are ``str``: they compare, hash, format and serialise (JSON) as their
lowercase value, so a snapshot holds plain neutral strings.

*Spellings.*  Topology files (and snapshots) written before the kinds went neutral name
them by a dialect's words.  A dialect may teach the model those words with
:func:`add_spellings`; :meth:`Kind.coerce` (used by the topology schema, by
``Cloud.restore`` and by the operations that take a kind) then accepts a member, its
neutral value or a taught spelling, and always returns the member.  The model itself
holds no dialect's words.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any, TypeVar

K = TypeVar("K", bound="Kind")


class Kind(str, Enum):
    """A str-valued enum: ``str()``, ``format()``, ``==`` and ``hash`` are its value's."""

    __hash__ = str.__hash__

    def __str__(self) -> str:
        return str.__str__(self)

    def __format__(self, spec: str) -> str:
        return str.__format__(str.__str__(self), spec)

    @classmethod
    def spelled(cls, value: Any) -> Any:
        """``value`` as a member when it is a member, a neutral value or a taught spelling;
        anything else unchanged (for the caller's own validation to refuse)."""
        if isinstance(value, cls):
            return value
        if isinstance(value, str):
            member = cls._value2member_map_.get(value)
            if member is None:
                member = _SPELLINGS.get(cls, {}).get(value)
            if member is not None:
                return member
        return value

    @classmethod
    def coerce(cls: type[K], value: Any) -> K:
        """``value`` as a member; ``ValueError`` naming the neutral values otherwise."""
        found = cls.spelled(value)
        if isinstance(found, cls):
            return found
        raise ValueError(f"{value!r} is not a {cls.__name__} (one of {', '.join(m.value for m in cls)})")


class PrimaryStorageKind(Kind):
    """Where VM disks live while the VM runs."""

    LOCAL = "local"  # the disks of each host, private to it
    NETWORK_SHARE = "network_share"  # a file share every host of the clusters mounts over the network
    SHARED_MOUNT = "shared_mount"  # a shared file system mounted at the same path on every host
    DISTRIBUTED = "distributed"  # a distributed block store (pools of objects)
    SHARED_BLOCK = "shared_block"  # block devices (LUNs) every host of the clusters sees


class BackupStorageKind(Kind):
    """Where images (and, for one kind, volume backups) are kept."""

    BACKUP_STORE = "backup_store"  # keeps images and volume backups (incremental chains)
    FILE_SERVER = "file_server"  # keeps images as files on a server, no volume backups
    DISTRIBUTED = "distributed"  # keeps images in a distributed store's pool, no volume backups


class ImageKind(Kind):
    """What an image is for."""

    ROOT_TEMPLATE = "root_template"  # a root volume's template: VMs boot from it
    DATA_TEMPLATE = "data_template"  # a data volume's template
    ISO = "iso"  # an installer disc


_SPELLINGS: dict[type[Kind], dict[str, Kind]] = {}


def add_spellings(names: Mapping[Kind, str]) -> None:
    """Accept ``names[kind]`` as a spelling of ``kind`` wherever a kind is read (topology
    files, snapshots, operations).  A spelling already taken by another kind of the same
    enum is refused."""
    for kind, name in names.items():
        table = _SPELLINGS.setdefault(type(kind), {})
        if table.get(name, kind) is not kind or type(kind)._value2member_map_.get(name, kind) is not kind:
            raise ValueError(f"{name!r} already names another {type(kind).__name__}")
        table[name] = kind


def spellings(kind_type: type[Kind]) -> dict[str, Kind]:
    """The spellings taught for ``kind_type`` (a copy), spelling -> kind."""
    return dict(_SPELLINGS.get(kind_type, {}))
