"""Defect 9: X-Web-Hook is checked when the job is submitted (ZStack's plain-text 400, no
job, nothing changed); only http(s) on the loopback or an allowed host is ever called, and
the sender never dies with a traceback."""

from __future__ import annotations

import pytest
from support import Fake

from fakestack.dialects.zstack import webhooks


def _create_volume(fake, headers):
    return fake.client.post(
        "/zstack/v1/volumes/data",
        headers=headers,
        json={"params": {"name": "hooked", "diskSize": 1073741824}},
    )


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://127.0.0.1/x",
        "gopher://127.0.0.1:70/",
        "http://",
        "http://example.com/hook",
        "https://10.0.0.5/hook",
        "http://127.0.0.1:99999/hook",
        "http://[::1/hook",
        "not a url",
        "http://169.254.169.254/latest/meta-data",
    ],
)
def test_a_bad_webhook_is_refused_at_submission_and_nothing_happens(url):
    fake = Fake()
    headers = {**fake.zstack_auth(), "X-Web-Hook": url}
    sent = []
    fake.app.dialects[0].webhook_sender = lambda *a: sent.append(a)
    before = len(fake.cloud.volumes)
    response = _create_volume(fake, headers)
    assert response.status_code == 400
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True).startswith("Invalid header[X-Web-Hook]: ")
    assert response.get_data(as_text=True).endswith(f"but was [{url}]")
    assert len(fake.cloud.volumes) == before
    assert sent == []


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9/hook", "https://localhost/x", "http://[::1]:8080/cb", "http://127.5.6.7/"]
)
def test_loopback_webhooks_are_accepted(url):
    fake = Fake()
    sent = []
    fake.app.dialects[0].webhook_sender = lambda url, body, headers: sent.append(url)
    response = _create_volume(fake, {**fake.zstack_auth(), "X-Web-Hook": url})
    assert response.status_code == 202
    assert sent == [url]


def test_an_allowed_host_may_be_called_back():
    fake = Fake()
    sent = []
    zstack = fake.app.dialects[0]
    zstack.webhook_sender = lambda url, body, headers: sent.append(url)
    refused = _create_volume(fake, {**fake.zstack_auth(), "X-Web-Hook": "http://ci-runner:8000/h"})
    assert refused.status_code == 400
    zstack.allow_webhook_host("CI-runner")
    accepted = _create_volume(fake, {**fake.zstack_auth(), "X-Web-Hook": "http://ci-runner:8000/h"})
    assert accepted.status_code == 202
    assert sent == ["http://ci-runner:8000/h"]


def test_the_sender_swallows_what_urllib_refuses(monkeypatch, capsys):
    monkeypatch.setattr(webhooks, "RETRIES", 2)
    monkeypatch.setattr(webhooks, "RETRY_INTERVAL", 0.0)
    webhooks._post("unknown://x", b"{}", {})  # Request() itself raises: retried, then given up
    webhooks._post("http://127.0.0.1:1/closed", b"{}", {})
    assert capsys.readouterr().err == ""
