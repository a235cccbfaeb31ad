"""Importing this module registers every vAPI operation of the dialect (``registry``)."""
from . import api_session, api_vcenter, api_vm, api_vm_guest, api_vm_hardware  # noqa: F401
