"""fakestack: a deterministic in-process fake of virtualization clouds for tests."""
from .model import (
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
from .version import __version__


def make_app(cloud):
    """One WSGI app serving every dialect and the admin API for ``cloud``."""
    from .app import make_app as _make_app

    return _make_app(cloud)


__all__ = [
    "CapacityExhausted", "Cloud", "DomainError", "InvalidArgument", "InvalidState", "ManualClock",
    "NotFound", "SystemClock", "Topology", "TopologyError", "Unreachable", "load_topology",
    "make_app", "__version__",
]
