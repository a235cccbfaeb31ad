"""The coverage document (docs/coverage/zstack.md) is generated from the catalogues and is
current; every in-scope API the fake does not serve answers as an unknown API."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from werkzeug.test import Client
from zstack_support import auth, login

from fakestack.app import make_app
from fakestack.dialects.zstack import coverage
from fakestack.dialects.zstack.catalog import APIS
from fakestack.model import Cloud, ManualClock

# shared/ lies beside the project's checkout (the CEO's, a developer's and CI's alike).
REFERENCE = Path(os.environ.get("FAKESTACK_ZSTACK_CATALOG", coverage.REFERENCE))
needs_reference = pytest.mark.skipif(
    not REFERENCE.exists(), reason="shared/reference is not beside this checkout"
)


@needs_reference
def test_the_coverage_document_is_current():
    expected = coverage.build(coverage.load_reference(REFERENCE))
    assert coverage.DOCUMENT.read_text(encoding="utf-8") == expected, (
        "docs/coverage/zstack.md is stale: run python -m fakestack.dialects.zstack.coverage"
    )


@needs_reference
def test_the_check_command_tells_a_stale_document(tmp_path):
    stale = tmp_path / "zstack.md"
    stale.write_text("old", encoding="utf-8")
    assert coverage.main(["--reference", str(REFERENCE), "--output", str(stale), "--check"]) == 1
    assert coverage.main(["--reference", str(REFERENCE), "--output", str(stale)]) == 0
    assert coverage.main(["--reference", str(REFERENCE), "--output", str(stale), "--check"]) == 0


@needs_reference
def test_at_least_90_in_scope_apis_are_served_and_all_served_are_in_scope():
    reference = coverage.load_reference(REFERENCE)
    scope = {n for n, e in reference.items() if coverage.in_scope(n, e)}
    assert set(APIS) <= set(reference)
    assert set(APIS) <= scope
    assert len(APIS) >= 90
    text = coverage.DOCUMENT.read_text(encoding="utf-8")
    assert f"**{len(APIS)} of {len(scope)} in-scope APIs served**" in text
    for name in APIS:
        assert re.search(rf"^\| {name} \| .* \| yes \|$", text, re.MULTILINE), name


def _unserved_in_scope():
    if not REFERENCE.exists():
        return []
    reference = coverage.load_reference(REFERENCE)
    return sorted(
        (n, e["method"], e["path"], e["wrapper"])
        for n, e in reference.items()
        if coverage.in_scope(n, e) and n not in APIS
    )


@needs_reference
def test_every_unserved_in_scope_api_answers_as_an_unknown_api():
    # The route table must know the real API's paths, so that a less specific served
    # template does not answer for an unserved one (issue 14, defect 13).
    pytest.importorskip(
        "fakestack.dialects.zstack.known_paths",
        reason="the route table does not know the real API's paths yet (issue 14)",
    )
    cloud = Cloud("demo", seed=0, clock=ManualClock())
    client = Client(make_app(cloud))
    session = login(client)
    wrong = []
    for name, method, template, wrapper in _unserved_in_scope():
        relative = re.sub(r"\{[^}]+\}", "0123456789abcdef0123456789abcdef", template)
        body = {wrapper if wrapper is not None else "null": {}} if method in ("POST", "PUT") else None
        response = client.open("/zstack/v1" + relative, method=method, headers=auth(session), json=body)
        text = response.get_data(as_text=True)
        unknown = (
            (response.status_code == 404 and text == f"no api mapping to /v1{relative}")
            # the path is served for other methods only: the method is not allowed there
            or (
                response.status_code == 405
                and text == f"The method[{method}] is not allowed for the path[/v1{relative}]"
            )
            # a PUT .../actions path shared with served APIs: no served API's action key
            or (
                method == "PUT"
                and response.status_code == 400
                and text.startswith("the body doesn't contain action mapping to the URL[")
            )
        )
        if not unknown:
            wrong.append((name, response.status_code, text[:80]))
    assert wrong == []


def test_an_unserved_message_class_on_the_legacy_endpoint_cannot_be_loaded():
    cloud = Cloud("demo", seed=0, clock=ManualClock())
    client = Client(make_app(cloud))
    session = login(client)
    response = client.post(
        "/zstack/api/",
        json={"org.zstack.header.zone.APICreateZoneMsg": {"name": "z", "session": {"uuid": session}}},
    )
    assert response.status_code == 200
    assert (
        response.get_data(as_text=True)
        == "Unable to deserialize class org.zstack.header.zone.APICreateZoneMsg"
    )
    assert len(cloud.zones) == 1
