"""Paging numbers past ``sys.maxsize``: the page is what a list slice gives (every row for
a huge ``limit``, none past a huge ``start``), on every query path (the collection in
order, an index group, the name-ordered walk), never an internal error."""

from __future__ import annotations

import pytest
from support import Fake

HUGE = (2**63, 10**30)


@pytest.fixture(scope="module")
def fake():
    return Fake("demo")


def names(fake, query: str) -> list[str]:
    response = fake.client.get(f"/zstack/v1/vm-instances?{query}", headers=fake.zstack_auth())
    assert response.status_code == 200, response.get_data(as_text=True)
    return [vm["name"] for vm in response.get_json()["inventories"]]


@pytest.mark.parametrize("huge", HUGE)
@pytest.mark.parametrize("conditions", ["", "q=state=Running&", "q=cpuNum>0&", "q=state=Running&sort=-name&"])
def test_a_huge_limit_is_every_row_and_a_huge_start_is_none(fake, conditions, huge):
    every = names(fake, f"{conditions}limit=1000")
    assert every  # demo runs golden
    assert names(fake, f"{conditions}limit={huge}") == every
    assert names(fake, f"{conditions}start={huge}&limit=10") == []
    assert names(fake, f"{conditions}start={huge}&limit={huge}") == []
