"""fakestack: a deterministic in-process fake of virtualization clouds for tests."""
from .dialects.zstack.names import teach_the_model as _teach_zstack_spellings
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

# Topology files and snapshots name storage and image kinds by ZStack's words (the names
# the topology format used before the model's kinds went neutral): keep accepting them.
_teach_zstack_spellings()


def make_app(cloud):
    """One WSGI app serving every dialect and the admin API for ``cloud``."""
    from .app import make_app as _make_app

    return _make_app(cloud)


__all__ = [
    "CapacityExhausted", "Cloud", "DomainError", "InvalidArgument", "InvalidState", "ManualClock",
    "NotFound", "SystemClock", "Topology", "TopologyError", "Unreachable", "load_topology",
    "make_app", "__version__",
]
