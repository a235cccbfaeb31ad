"""InstaVM cloud VM API (``/v1/vms``, ``/v1/snapshots``, ``/v1/sessions``, ``/kill``, ...).

Facts: shared/reference/instavm.md. The official ``instavm`` SDK must work unmodified.
"""
from .dialect import InstaVMDialect, create_dialect

__all__ = ["InstaVMDialect", "create_dialect"]
