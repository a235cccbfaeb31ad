"""Importing this module registers every API handler of the dialect."""

from . import (  # noqa: F401
    api_backup,
    api_identity,
    api_images,
    api_infrastructure,
    api_placement,
    api_queries,
    api_restores,
    api_snapshot,
    api_storage,
    api_templates,
    api_vm,
    api_vm_changes,
)
