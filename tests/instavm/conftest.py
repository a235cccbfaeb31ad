"""Fixtures for the tests that drive the official ``instavm`` SDK against a live fakestack
server on 127.0.0.1: ``cloud`` (tiny, manual clock), ``server``, ``client`` (the SDK)."""

from __future__ import annotations

import pytest

from fakestack import Cloud, ManualClock
from fakestack.server import start_server

KEY = "instavm_sk_fakestack"
MiB = 1024 * 1024
GiB = 1024 * MiB


@pytest.fixture
def cloud():
    return Cloud("tiny", seed=0, clock=ManualClock())


@pytest.fixture
def server(cloud):
    running = start_server(cloud, host="127.0.0.1", port=0)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def client(server):
    from instavm import InstaVM

    return InstaVM(api_key=KEY, base_url=server.url, auto_start_session=False, timeout=30, max_retries=0)


def host_used_memory(cloud) -> int:
    return cloud.hosts.get("host-1").used_memory


def detail(err) -> object:
    """The ``detail`` of an ``HTTPError`` the SDK let through."""
    return err.value.response.status_code, err.value.response.json()["detail"]
