"""The protocol tests' stand-in for the cloud declares what it stands in for."""

from __future__ import annotations

from zstack_support import StubCloud, login, stub_client

from fakestack.dialects.kit.cloud import CloudServices


def test_the_stub_cloud_declares_the_kits_cloud_services_and_serves_a_login():
    assert CloudServices in StubCloud.__mro__
    cloud, client = stub_client(StubCloud())
    assert isinstance(cloud, CloudServices)
    assert len(login(client)) == 32
