"""vAPI value encoding on the three surfaces, filters from query strings, request specs."""

import pytest

from fakestack.dialects.vsphere import specs, structures
from fakestack.dialects.vsphere.errors import VapiError
from fakestack.dialects.vsphere.filters import parse_filter
from fakestack.dialects.vsphere.vapi_types import API, REST, RPC, RpcDecodeError, decode_rpc


def test_summary_with_optionals_on_each_surface():
    value = {
        "vm": "vm-1",
        "name": "src",
        "power_state": "POWERED_ON",
        "cpu_count": 2,
        "memory_size_MiB": None,
    }
    assert structures.VM_SUMMARY.encode(value, API) == {
        "vm": "vm-1",
        "name": "src",
        "power_state": "POWERED_ON",
        "cpu_count": 2,
    }
    assert structures.VM_SUMMARY.encode(value, REST) == structures.VM_SUMMARY.encode(value, API)
    assert structures.VM_SUMMARY.encode(value, RPC) == {
        "STRUCTURE": {
            "com.vmware.vcenter.VM.summary": {
                "vm": "vm-1",
                "name": "src",
                "power_state": "POWERED_ON",
                "cpu_count": {"OPTIONAL": 2},
                "memory_size_MiB": {"OPTIONAL": None},
            }
        }
    }


def test_maps_are_objects_on_api_key_value_lists_on_rest_and_map_entries_on_rpc():
    scsi = {
        "1000": {
            "label": "SCSI controller 0",
            "type": "PVSCSI",
            "scsi": {"bus": 0, "unit": 7},
            "pci_slot_number": 160,
            "sharing": "NONE",
        }
    }
    maptype = dict(structures.VM_INFO.fields)["scsi_adapters"]
    assert maptype.encode(scsi, API) == scsi
    assert maptype.encode(scsi, REST) == [{"key": "1000", "value": scsi["1000"]}]
    assert maptype.encode(scsi, RPC) == [
        {
            "STRUCTURE": {
                "map-entry": {
                    "key": "1000",
                    "value": {
                        "STRUCTURE": {
                            "com.vmware.vcenter.vm.hardware.adapter.scsi.info": {
                                "label": "SCSI controller 0",
                                "type": "PVSCSI",
                                "scsi": {
                                    "STRUCTURE": {
                                        "com.vmware.vcenter.vm.hardware.scsi_address_info": {
                                            "bus": 0,
                                            "unit": 7,
                                        }
                                    }
                                },
                                "pci_slot_number": {"OPTIONAL": 160},
                                "sharing": "NONE",
                            }
                        }
                    },
                }
            }
        }
    ]


def test_power_info_union_and_optional_map():
    assert structures.POWER_INFO.encode({"state": "POWERED_ON"}, RPC) == {
        "STRUCTURE": {
            "com.vmware.vcenter.vm.power.info": {"state": "POWERED_ON", "clean_power_off": {"OPTIONAL": None}}
        }
    }
    assert structures.POWER_INFO.encode({"state": "POWERED_ON"}, API) == {"state": "POWERED_ON"}
    nvme = dict(structures.VM_INFO.fields)["nvme_adapters"]
    assert nvme.encode({}, RPC) == {"OPTIONAL": []}
    assert nvme.encode({}, API) == {}


def test_required_field_missing_is_a_bug_not_silence():
    with pytest.raises(ValueError):
        structures.VM_SUMMARY.encode({"vm": "vm-1", "name": "x"}, API)
    with pytest.raises(ValueError):
        structures.VM_SUMMARY.encode({"vm": "vm-1", "name": "x"}, RPC)


def test_secret_is_tagged_only_on_rpc():
    assert structures.SESSION_TOKEN.encode("abc", RPC) == {"SECRET": "abc"}
    assert structures.SESSION_TOKEN.encode("abc", REST) == "abc"


SDK_INSTANT_CLONE_INPUT = {
    "STRUCTURE": {
        "operation-input": {
            "spec": {
                "STRUCTURE": {
                    "com.vmware.vcenter.VM.instant_clone_spec": {
                        "source": "vm-1",
                        "name": "c1",
                        "placement": {
                            "OPTIONAL": {
                                "STRUCTURE": {
                                    "com.vmware.vcenter.VM.instant_clone_placement_spec": {
                                        "folder": {"OPTIONAL": "group-v4"},
                                        "resource_pool": {"OPTIONAL": None},
                                        "datastore": {"OPTIONAL": None},
                                    }
                                }
                            }
                        },
                        "nics_to_update": {
                            "OPTIONAL": [
                                {
                                    "STRUCTURE": {
                                        "map-entry": {
                                            "key": "4000",
                                            "value": {
                                                "STRUCTURE": {
                                                    "com.vmware.vcenter.vm.hardware.ethernet.update_spec": {
                                                        "upt_compatibility_enabled": {"OPTIONAL": None},
                                                        "upt_v2_compatibility_enabled": {"OPTIONAL": None},
                                                        "mac_type": {"OPTIONAL": None},
                                                        "mac_address": {"OPTIONAL": None},
                                                        "wake_on_lan_enabled": {"OPTIONAL": None},
                                                        "backing": {
                                                            "OPTIONAL": {
                                                                "STRUCTURE": {
                                                                    "com.vmware.vcenter.vm.hardware.ethernet.backing_spec": {
                                                                        "type": "STANDARD_PORTGROUP",
                                                                        "network": {"OPTIONAL": "network-13"},
                                                                        "distributed_port": {
                                                                            "OPTIONAL": None
                                                                        },
                                                                    }
                                                                }
                                                            }
                                                        },
                                                        "start_connected": {"OPTIONAL": False},
                                                        "allow_guest_control": {"OPTIONAL": None},
                                                    }
                                                }
                                            },
                                        }
                                    }
                                }
                            ]
                        },
                        "disconnect_all_nics": {"OPTIONAL": None},
                        "parallel_ports_to_update": {"OPTIONAL": None},
                        "serial_ports_to_update": {"OPTIONAL": None},
                        "bios_uuid": {"OPTIONAL": None},
                    }
                }
            }
        }
    }
}


def test_the_sdk_instant_clone_input_decodes_to_the_api_form():
    decoded = decode_rpc(SDK_INSTANT_CLONE_INPUT)
    assert decoded == {
        "spec": {
            "source": "vm-1",
            "name": "c1",
            "placement": {"folder": "group-v4"},
            "nics_to_update": {
                "4000": {
                    "backing": {"type": "STANDARD_PORTGROUP", "network": "network-13"},
                    "start_connected": False,
                }
            },
        }
    }
    parsed = specs.validate(specs.InstantCloneInput, decoded)
    assert parsed.spec.nics_to_update["4000"].backing.network == "network-13"
    assert parsed.spec.placement.folder == "group-v4"


def test_decode_rejects_values_with_two_tags():
    with pytest.raises(RpcDecodeError):
        decode_rpc({"STRUCTURE": {"a": {}}, "OPTIONAL": None})
    with pytest.raises(RpcDecodeError):
        decode_rpc({"NOPE": 1})


REST_SPEC = {
    "spec": {
        "source": "vm-42",
        "name": "ic-1",
        "placement": {"folder": "group-v1"},
        "disconnect_all_nics": True,
        "nics_to_update": [
            {
                "key": "4000",
                "value": {
                    "backing": {"type": "STANDARD_PORTGROUP", "network": "network-3"},
                    "start_connected": False,
                },
            }
        ],
    }
}
API_SPEC = {
    "source": "vm-42",
    "name": "ic-1",
    "placement": {"folder": "group-v1"},
    "disconnect_all_nics": True,
    "nics_to_update": {
        "4000": {"backing": {"type": "STANDARD_PORTGROUP", "network": "network-3"}, "start_connected": False}
    },
}


def test_rest_and_api_instant_clone_bodies_parse_to_the_same_spec():
    assert specs.validate(specs.InstantCloneInput, REST_SPEC) == specs.validate(
        specs.InstantCloneInput, {"spec": API_SPEC}
    )


def error_of(model, data):
    with pytest.raises(VapiError) as info:
        specs.validate(model, data)
    err = info.value
    return err.name, err.messages[0].id, list(err.messages[0].args)


@pytest.mark.parametrize(
    "data, expected",
    [
        ({}, ("invalid_argument", "vapi.data.structure.field.missing", ["operation-input", "spec"])),
        (
            {"spec": {"name": "x"}},
            (
                "invalid_argument",
                "vapi.data.structure.field.missing",
                ["com.vmware.vcenter.VM.instant_clone_spec", "source"],
            ),
        ),
        (
            {"spec": {"source": "vm-1", "name": "x", "power_on": True}},
            (
                "unexpected_input",
                "vapi.data.structure.field.unexpected",
                ["[power_on]", "com.vmware.vcenter.VM.instant_clone_spec"],
            ),
        ),
        (
            {"spec": {"source": "vm-1", "power_on": True}},  # missing wins over unexpected (§4.2 rows 2, 3)
            (
                "invalid_argument",
                "vapi.data.structure.field.missing",
                ["com.vmware.vcenter.VM.instant_clone_spec", "name"],
            ),
        ),
        (
            {"spec": {"source": "vm-1", "name": "x", "placement": {"host": "host-1"}}},
            (
                "unexpected_input",
                "vapi.data.structure.field.unexpected",
                ["[host]", "com.vmware.vcenter.VM.instant_clone_placement_spec"],
            ),
        ),
    ],
)
def test_spec_structure_errors(data, expected):
    assert error_of(specs.InstantCloneInput, data) == expected


@pytest.mark.parametrize(
    "spec, field",
    [
        ({"bios_uuid": "not-a-uuid"}, "bios_uuid"),
        ({"name": ""}, "name"),
        ({"name": "n" * 81}, "name"),
        ({"nics_to_update": {"4000": {"mac_type": "MANUAL"}}}, "nics_to_update"),
        ({"nics_to_update": {"4000": {"mac_type": "MANUAL", "mac_address": "zz"}}}, "nics_to_update"),
        ({"nics_to_update": {"4000": {"backing": {"type": "STANDARD_PORTGROUP"}}}}, "backing"),
        ({"disconnect_all_nics": "yes"}, "disconnect_all_nics"),
    ],
)
def test_spec_value_errors_answer_invalid_argument(spec, field):
    data = {"spec": {"source": "vm-1", "name": "ok", **spec}}
    name, msg_id, args = error_of(specs.InstantCloneInput, data)
    assert (name, msg_id, args[1]) == ("invalid_argument", "vapi.data.structure.field.invalid", field)


def test_valid_bios_uuid_manual_mac_and_80_character_name_pass():
    spec = specs.validate(
        specs.InstantCloneInput,
        {
            "spec": {
                "source": "vm-1",
                "name": "n" * 80,
                "bios_uuid": "12345678-abcd-1234-cdef-123456789abc",
                "nics_to_update": {"4000": {"mac_type": "MANUAL", "mac_address": "00:50:56:01:02:03"}},
            }
        },
    ).spec
    assert spec.nics_to_update["4000"].mac_address == "00:50:56:01:02:03"


def test_clone_spec_accepts_host_power_on_and_disk_maps():
    spec = specs.validate(
        specs.CloneInput,
        {
            "spec": {
                "source": "vm-1",
                "name": "full",
                "power_on": True,
                "placement": {"host": "host-2", "datastore": "datastore-1"},
                "disks_to_update": [{"key": "2000", "value": {"datastore": "datastore-2"}}],
                "guest_customization_spec": {"name": "linux"},
            }
        },
    ).spec
    assert spec.placement.host == "host-2" and spec.disks_to_update["2000"].datastore == "datastore-2"


# --- filters ----------------------------------------------------------------------------


def test_rest_filters_repeated_and_indexed_forms():
    pairs = [
        ("filter.names", "b"),
        ("filter.hosts.2", "host-2"),
        ("filter.hosts.1", "host-1"),
        ("filter.names", "a"),
        ("filter.power_states.1", "POWERED_ON"),
    ]
    assert parse_filter(specs.VmFilter, pairs, prefix="filter.") == {
        "names": ["b", "a"],
        "hosts": ["host-1", "host-2"],
        "power_states": ["POWERED_ON"],
    }


def test_no_filter_parameters_means_no_filter():
    assert parse_filter(specs.VmFilter, [("action", "x")], prefix="filter.", allowed_other={"action"}) is None


def test_single_valued_and_boolean_filter_fields():
    assert parse_filter(specs.HostFilter, [("filter.standalone", "TRUE")], prefix="filter.") == {
        "standalone": True
    }
    assert parse_filter(specs.FolderFilter, [("filter.type", "VIRTUAL_MACHINE")], prefix="filter.") == {
        "type": "VIRTUAL_MACHINE"
    }


@pytest.mark.parametrize(
    "pairs, prefix, bad",
    [
        ([("filter.colour", "red")], "filter.", "filter.colour"),
        ([("names", "a")], "filter.", "names"),
        ([("filter.type.1", "HOST")], "filter.", "filter.type.1"),
        ([("filter.names", "a")], "", "filter.names"),
        ([("filter.names.x", "a")], "filter.", "filter.names.x"),
    ],
)
def test_unknown_filter_parameters_are_unexpected_input(pairs, prefix, bad):
    model = specs.FolderFilter if "type" in pairs[0][0] else specs.VmFilter
    with pytest.raises(VapiError) as info:
        parse_filter(model, pairs, prefix=prefix)
    assert info.value.name == "unexpected_input"
    assert info.value.messages[0].args == (f"[{bad}]", "operation-input")


def test_api_filters_use_bare_names():
    assert parse_filter(specs.VmFilter, [("names", "a"), ("names", "b")], prefix="") == {"names": ["a", "b"]}


def test_unsupported_power_state_is_invalid_argument():
    model = specs.list_input(specs.VmFilter)
    name, msg_id, args = error_of(model, {"filter": {"power_states": ["ON"]}})
    assert (name, args[:2]) == ("invalid_argument", ["com.vmware.vcenter.VM.filter_spec", "power_states"])
