"""vSphere Automation API dialect: ``/rest``, ``/api`` and vAPI JSON-RPC (``POST /api``).

The modules follow the dialect skeleton (``fakestack/dialects/__init__.py``): ``dialect``
(mount, the three surfaces, authentication), ``routes`` (one kit route table per REST
surface), ``registry`` + ``handlers`` (``api_vcenter``: VMs, power, inventory;
``api_session``), ``render`` (VM records), ``errors`` (vAPI errors and the domain-error
table), ``sessions``; vAPI's own: ``specs`` (inputs), ``structures`` and ``vapi_types``
(outputs), ``filters``, ``jsonrpc``, ``inventory`` (MoIDs), ``choices``.
"""
from .choices import Choices
from .dialect import VsphereDialect, create_dialect

__all__ = ["Choices", "VsphereDialect", "create_dialect"]
