"""Each dialect (and the admin API) publishes an OpenAPI 3.1 document generated from its
route catalogue: valid per openapi-spec-validator, listed in the admin index, and
covering every route the dialect serves."""

from __future__ import annotations

import re

import pytest
from openapi_spec_validator import validate
from werkzeug.test import Client

import fakestack.dialects.zstack.handlers  # noqa: F401 - registers the API handlers
from fakestack import Cloud, ManualClock
from fakestack.admin import ROUTES as ADMIN_ROUTES
from fakestack.app import make_app
from fakestack.dialects.instavm.routes import ALL_ENDPOINTS
from fakestack.dialects.vsphere.routes import ROUTES as VSPHERE_ROUTES
from fakestack.dialects.zstack.catalog import APIS
from fakestack.dialects.zstack.registry import BINDINGS

DOCUMENTS = {
    "admin": "/_fakestack/openapi.json",
    "zstack": "/zstack/v1/openapi.json",
    "instavm": "/openapi.json",
    "vsphere": "/api/openapi.json",
}


@pytest.fixture(scope="module")
def client():
    return Client(make_app(Cloud("tiny", clock=ManualClock())))


def _document(client, api):
    response = client.get(DOCUMENTS[api])
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def _normalised(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


def _operations(document) -> set[tuple[str, str]]:
    return {
        (method.upper(), _normalised(path)) for path, item in document["paths"].items() for method in item
    }


@pytest.mark.parametrize("api", sorted(DOCUMENTS))
def test_each_document_is_valid_openapi_3_1(client, api):
    document = _document(client, api)
    assert document["openapi"] == "3.1.0"
    validate(document)
    ids = [op["operationId"] for item in document["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids)), "operationIds must be unique"


def test_the_admin_index_lists_every_document(client):
    index = client.get("/_fakestack/").get_json()
    assert {d["api"]: d["path"] for d in index["openapi"]} == DOCUMENTS


def test_documents_need_no_credentials_and_read_nothing(client):
    before = client.get("/_fakestack/journal").get_json()["operations_total"]
    for path in DOCUMENTS.values():
        assert client.get(path).status_code == 200
    assert client.get("/_fakestack/journal").get_json()["operations_total"] == before


def test_zstack_document_covers_every_served_api(client):
    operations = _operations(_document(client, "zstack"))
    for name in BINDINGS:
        api = APIS[name]
        assert (api["method"], _normalised("/zstack/v1" + api["path"])) in operations, name
    assert ("GET", "/zstack/v1/api-jobs/{}") in operations


def test_vsphere_document_covers_every_route_and_jsonrpc(client):
    operations = _operations(_document(client, "vsphere"))
    for surface, routes in VSPHERE_ROUTES.items():
        for route in routes:
            assert (route.method, _normalised(f"/{surface}{route.pattern}")) in operations
    assert ("POST", "/api") in operations


def test_instavm_document_covers_every_endpoint(client):
    operations = _operations(_document(client, "instavm"))
    assert operations == {(e.method, _normalised(e.pattern)) for e in ALL_ENDPOINTS}


def test_admin_document_covers_every_admin_route(client):
    operations = _operations(_document(client, "admin"))
    for route in ADMIN_ROUTES:
        assert (route.method, _normalised("/_fakestack" + route.path)) in operations


def test_a_body_model_is_documented_from_its_pydantic_schema(client):
    document = _document(client, "instavm")
    schemas = document["components"]["schemas"]
    assert schemas["SnapshotCreateRequest"]["required"] == ["oci_image"]
    body = document["paths"]["/v1/snapshots"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/SnapshotCreateRequest"
    }
