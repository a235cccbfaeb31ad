"""ZStack Cloud REST dialect (``/zstack/v1``, ``/v1``) and its legacy ``/zstack/api`` endpoint."""
from __future__ import annotations


def create_dialect(cloud):
    from .dialect import ZStackDialect

    return ZStackDialect(cloud)
