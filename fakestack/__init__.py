"""fakestack: a deterministic in-process fake of virtualization clouds for tests."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .dialects.zstack.names import teach_the_model as _teach_zstack_spellings
from .version import __version__

# Topology files and snapshots name storage and image kinds by ZStack's words (the names
# the topology format used before the model's kinds went neutral): keep accepting them.
# (Cheap: the model's package loads its modules on first use; ``kinds`` is an enum.)
_teach_zstack_spellings()

# The model (and pydantic, which its topologies use) loads on first use of a name below,
# not on ``import fakestack``: a command or plugin that needs none of it starts faster.
_FROM_MODEL = (
    "CapacityExhausted",
    "Cloud",
    "DomainError",
    "InvalidArgument",
    "InvalidState",
    "ManualClock",
    "NotFound",
    "SystemClock",
    "Topology",
    "TopologyError",
    "Unreachable",
    "load_topology",
)

if TYPE_CHECKING:
    from .interception import Mock, UnmatchedRequest, mock  # noqa: F401
    from .model import (  # noqa: F401
        CapacityExhausted,
        Cloud,
        DomainError,
        InvalidArgument,
        InvalidState,
        ManualClock,
        NotFound,
        SystemClock,
        Topology,
        TopologyError,
        Unreachable,
        load_topology,
    )


def make_app(cloud):
    """One WSGI app serving every dialect and the admin API for ``cloud``."""
    from .app import make_app as _make_app

    return _make_app(cloud)


# Loaded on first use, so that ``import fakestack`` stays cheap (no urllib3 or httpx).
_LAZY = {
    "mock": ("interception", "mock"),
    "Mock": ("interception", "Mock"),
    "UnmatchedRequest": ("interception", "UnmatchedRequest"),
}


def __getattr__(name: str):
    if name in _FROM_MODEL:
        from . import model

        value = getattr(model, name)
    elif name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(f"{__name__}.{module}"), attr)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The package's names with those not loaded yet (for completion and ``help``)."""
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "CapacityExhausted",
    "Cloud",
    "DomainError",
    "InvalidArgument",
    "InvalidState",
    "ManualClock",
    "NotFound",
    "SystemClock",
    "Topology",
    "TopologyError",
    "Unreachable",
    "load_topology",
    "make_app",
    "mock",
    "Mock",
    "UnmatchedRequest",
    "__version__",
]
