"""The domain-error -> ZStack ErrorCode table (§1.6, §5.1, §7, §8) and date text (§1.5)."""

from __future__ import annotations

from fakestack.dialects.zstack.dates import format_date, parse_date
from fakestack.dialects.zstack.errors import error_from_domain
from fakestack.model import errors as domain

CLONE = "org.zstack.header.vm.APICloneVmInstanceMsg"
NO_HOST = "no host having cpu[4], memory[8589934592 bytes] found"


def render(exc, operation, message_class=CLONE, **context):
    return error_from_domain(exc, operation=operation, message_class=message_class, context=context).to_dict()


def host_exhausted():
    return domain.CapacityExhausted("host.memory", 8589934592, 0, request={"cpu": 4, "memory": 8589934592})


def test_clone_entry_capacity_error_is_the_seed_chain():
    assert render(host_exhausted(), "clone_vm.start") == {
        "code": "VM.1001",
        "description": "Unable to start a vm",
        "details": NO_HOST,
        "cause": {
            "code": "SYS.1006",
            "description": "An operation failed",
            "details": NO_HOST,
            "cause": {
                "code": "HOST_ALLOCATION.1000",
                "description": "An operation failed",
                "details": NO_HOST,
            },
        },
    }


def test_start_and_create_wrap_the_allocation_error():
    started = render(host_exhausted(), "start_vm")
    assert (started["code"], started["cause"]["code"]) == ("VM.1001", "HOST_ALLOCATION.1000")
    created = render(host_exhausted(), "create_vm")
    assert (created["code"], created["details"], created["cause"]["code"]) == (
        "SYS.1006",
        NO_HOST,
        "HOST_ALLOCATION.1000",
    )


def test_clone_dry_run_failure_is_host_allocation_for_the_whole_api():
    error = render(host_exhausted(), "clone_vm", clusterUuid=None, hostUuid=None, l3NetworkUuids="[l3]")
    assert error["code"] == "HOST_ALLOCATION.1000" and "cause" not in error
    assert error["details"] == (
        "unable to allocate hosts, no host meets the following conditions: "
        "clusterUuid=null hostUuid=null cpu=4 memoryCapacity=8589934592 L3NetworkUuids=[l3]"
    )


def test_storage_exhaustion_per_resource():
    placement = render(domain.CapacityExhausted("primary_storage.virtual", 100, 5), "create_vm")
    assert placement["cause"]["code"] == "HOST_ALLOCATION.1000"
    assert "available capacity 100 bytes" in placement["cause"]["details"]
    volume = render(domain.CapacityExhausted("primary_storage.virtual", 100, 5), "create_data_volume")
    assert volume["code"] == "SYS.1006" and "required size[100 bytes]" in volume["details"]
    physical = render(
        domain.CapacityExhausted("primary_storage.physical", 100, 5, resource_uuid="ps1"),
        "create_data_volume",
    )
    assert (
        "primary storage[uuid:ps1]'s physical capacity usage has exceeded the threshold[0.9]"
        in physical["details"]
    )
    backup = render(domain.CapacityExhausted("backup_storage", 2048, 5), "create_vm_backup")
    assert backup == {
        "code": "BS.1003",
        "description": "Unable to allocate a backup storage",
        "details": "unable to allocate a backup storage",
        "cause": {
            "code": "SYS.1006",
            "description": "An operation failed",
            "details": "after subtracting reserved capacity, no backup storage has "
            "required capacity[2048 bytes]",
        },
    }


def test_invalid_state_per_operation():
    exc = domain.InvalidState("vm", "u1", "Stopped", "reboot", allowed=("Running",))
    rebooted = render(exc, "reboot_vm", "org.zstack.header.vm.APIRebootVmInstanceMsg")
    details = (
        "current vm instance state[Stopped] doesn't allow to proceed "
        "message[org.zstack.header.vm.APIRebootVmInstanceMsg], allowed states are [Running]"
    )
    assert rebooted == {
        "code": "VM.1003",
        "description": "Unable to reboot a vm",
        "details": details,
        "cause": {
            "code": "VM.1010",
            "description": "VM is not in state that allows required operation",
            "details": details,
        },
    }
    assert render(exc, "clone_vm")["code"] == "SYS.1006"
    assert render(exc, "destroy_vm")["code"] == "VM.1010"


def test_not_found_timeout_argument_and_injected():
    missing = render(domain.NotFound("vm", "abc"), "start_vm", field="uuid")
    assert missing == {
        "code": "SYS.1003",
        "description": "A resource can not be found",
        "details": "invalid field[uuid], resource[uuid:abc, type:VmInstanceVO] not found",
    }
    assert render(domain.Timeout("vm.start", 300), "other")["code"] == "SYS.1001"
    assert render(domain.InvalidArgument("names", "too long"), "clone_vm")["code"] == "SYS.1007"
    injected = render(domain.InjectedFailure("vm.start", "boom", code="HOST.1005"), "other")
    assert (injected["code"], injected["details"]) == ("HOST.1005", "boom")
    assert render(domain.InjectedFailure("vm.start", "boom"), "other")["code"] == "SYS.1006"


def test_date_format_is_java_default_text():
    assert format_date(1729143815) == "Oct 17, 2024 5:43:35 AM"
    assert format_date(1729187015) == "Oct 17, 2024 5:43:35 PM"
    assert format_date(1767225600) == "Jan 1, 2026 12:00:00 AM"
    assert format_date(1767268800) == "Jan 1, 2026 12:00:00 PM"
    assert parse_date("Oct 17, 2024 5:43:35 PM") == 1729187015
