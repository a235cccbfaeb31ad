"""Importing this module registers every vAPI operation of the dialect (``registry``)."""

from . import (  # noqa: F401
    api_resource_pool,
    api_session,
    api_vcenter,
    api_vm,
    api_vm_guest,
    api_vm_hardware,
)
