"""The dialect's API catalogue: every entry is served, and agrees with the reference's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fakestack.dialects.zstack.catalog import APIS
from fakestack.dialects.zstack.registry import BINDINGS

# shared/ lies beside the project's checkout (the CEO's, a developer's and CI's alike).
REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "zstack_api_catalog.json"


def test_the_catalogue_lists_exactly_the_apis_with_a_handler():
    import fakestack.dialects.zstack.handlers  # noqa: F401 - registers the handlers

    assert sorted(APIS) == sorted(BINDINGS)


@pytest.mark.skipif(not REFERENCE.exists(), reason="shared/reference is not beside this checkout")
def test_every_entry_agrees_with_the_reference_catalogue():
    reference = json.loads(REFERENCE.read_text())
    for name, api in APIS.items():
        expected = {key: value for key, value in reference[name].items() if key != "resultFields"}
        mine = {key: value for key, value in api.items() if key != "message"}
        if name == "CloneVmInstance":  # the documented deviation: vmNicParams accepts either form
            expected["params"] = [
                dict(p, type="Object") if p["name"] == "vmNicParams" else p for p in expected["params"]
            ]
        assert mine == expected, name
