"""vSphere Automation API dialect: ``/rest``, ``/api`` and vAPI JSON-RPC (``POST /api``).

The modules follow the dialect skeleton (``fakestack/dialects/__init__.py``): ``dialect``
(mount, the three surfaces, authentication), ``routes`` (one kit route table per REST
surface), ``registry`` + ``handlers`` (``api_vcenter``: VM list / get / delete / clones,
power, inventory; ``api_vm``: VM create / relocate / register / unregister;
``api_vm_hardware``: ``vm.hardware.*``; ``api_vm_guest``: ``vm.guest.*``; ``api_session``),
``render`` (VM records, device keys, hardware settings), ``errors`` (vAPI errors and the
domain-error table), ``sessions`` (an administrator and a read-only user); vAPI's own:
``specs`` and ``vm_specs`` (inputs), ``structures`` and ``vapi_types`` (outputs),
``filters``, ``jsonrpc``, ``inventory`` (MoIDs), ``choices`` (where the reference leaves
room, and issue 17's choices in the modules' docstrings: hot-add rules and detached disks
in ``api_vm_hardware``, the Tools boot delay in ``api_vm_guest``).
"""

from .choices import Choices
from .dialect import VsphereDialect, create_dialect

__all__ = ["Choices", "VsphereDialect", "create_dialect"]
