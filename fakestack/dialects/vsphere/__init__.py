"""vSphere Automation API dialect: ``/rest``, ``/api`` and vAPI JSON-RPC (``POST /api``)."""
from .choices import Choices
from .dialect import VsphereDialect, create_dialect

__all__ = ["Choices", "VsphereDialect", "create_dialect"]
