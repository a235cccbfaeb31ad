"""Fixtures shared by the ZStack dialect tests (helpers live in ``zstack_support``)."""

from __future__ import annotations

import pytest
from zstack_support import cloud_client

from fakestack.model import Cloud


@pytest.fixture
def demo():
    """The ``demo`` cloud behind the full app: ``(cloud, client, session)``."""
    return cloud_client("demo")


@pytest.fixture
def live():
    """A live server on 127.0.0.1 (a free port) in front of the ``demo`` cloud."""
    from fakestack.server import start_server

    cloud = Cloud("demo", seed=0)
    server = start_server(cloud, host="127.0.0.1", port=0)
    try:
        yield cloud, server
    finally:
        server.stop()
