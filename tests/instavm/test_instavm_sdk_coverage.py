"""The SDK methods the fake serves (see ``sdk_coverage``): a method leaving this list, or
one joining it, is a change to note in the README's InstaVM section."""

from __future__ import annotations

import pytest

pytest.importorskip("instavm")

import sdk_coverage  # noqa: E402

from fakestack.dialects.instavm import routes  # noqa: E402

SERVED = sorted(
    """
execute execute_async execute_streaming get_current_user get_session_egress get_session_status
get_task_result get_usage get_vm_egress is_session_active kill set_session_egress set_vm_egress
snapshots.create snapshots.delete snapshots.get snapshots.list start_session templates.get
templates.list vms.clone vms.create vms.delete vms.get vms.list vms.list_all_records
vms.list_volumes vms.mount_volume vms.resume vms.snapshot vms.suspend vms.unmount_volume
vms.update volumes.create volumes.delete volumes.get volumes.list
""".split()
)


def test_the_served_sdk_methods():
    table = sdk_coverage.classify(routes)
    assert sorted(label for label, verdict in table.items() if verdict == "served") == SERVED
    assert len(table) == 172  # instavm 0.26.1's public methods, managers included
    # every request the SDK sends to a known InstaVM path gets an answer, never a 500
    assert set(table.values()) <= {"served", "501", "404", "unsent"}
