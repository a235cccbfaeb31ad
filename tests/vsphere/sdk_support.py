"""The official SDK (``vmware-vcenter``) against a live fakestack server (reference §7.6 path 1)."""

from __future__ import annotations

import requests
from vmware.vapi.vsphere.client import create_vsphere_client

USER, PASSWORD = "administrator@vsphere.local", "password"
READONLY_USER = "readonly@vsphere.local"
GiB = 1024**3


class PlainHttp(requests.adapters.HTTPAdapter):
    """``create_vsphere_client`` always builds an https URL; the fake speaks plain http."""

    def send(self, request, **kwargs):
        request.url = "http://" + request.url[len("https://") :]
        return super().send(request, **kwargs)


def sdk_session(server) -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no proxy or CA-bundle variables between the SDK and 127.0.0.1
    session.mount(f"https://127.0.0.1:{server.port}", PlainHttp())
    return session


def connect(server, username=USER, password=PASSWORD):
    return create_vsphere_client(
        server=f"127.0.0.1:{server.port}", username=username, password=password, session=sdk_session(server)
    )
