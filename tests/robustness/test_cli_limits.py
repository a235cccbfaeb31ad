"""Defect 8: serve refuses ports outside 0-65535; inspect refuses scale presets past their
limits with one line naming the limit (no traceback, no minutes of building)."""

from __future__ import annotations

import pytest

from fakestack import Cloud
from fakestack.cli import main
from fakestack.model.presets import MAX_SCALE_HOSTS, MAX_SCALE_VMS
from fakestack.server import start_server


@pytest.mark.parametrize("port", ["99999", "65536", "-1", "http"])
def test_serve_refuses_a_port_outside_0_to_65535(capsys, port):
    with pytest.raises(SystemExit) as exc:
        main(["serve", "--port", port, "--topology", "tiny"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "argument --port: invalid port" in err
    assert "Traceback" not in err


def test_start_server_refuses_a_port_outside_the_range():
    with pytest.raises(ValueError, match="from 0 to 65535"):
        start_server(Cloud("tiny"), port=99999)


@pytest.mark.parametrize(
    "spec, line",
    [
        (
            "scale:0:0",
            f"fakestack: topology scale:0:0: HOSTS must be from 1 to {MAX_SCALE_HOSTS} "
            "(MAX_SCALE_HOSTS), got 0",
        ),
        (
            "scale:100000:1000000",
            f"fakestack: topology scale:100000:1000000: HOSTS must be from 1 to "
            f"{MAX_SCALE_HOSTS} (MAX_SCALE_HOSTS), got 100000",
        ),
        (
            "scale:10:1000000",
            f"fakestack: topology scale:10:1000000: VMS must be from 0 to "
            f"{MAX_SCALE_VMS} (MAX_SCALE_VMS), got 1000000",
        ),
    ],
)
def test_inspect_refuses_a_scale_past_its_limits_in_one_line(capsys, spec, line):
    assert main(["inspect", "--topology", spec]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [line]


def test_inspect_builds_a_scale_within_its_limits(capsys):
    assert main(["inspect", "--topology", "scale:3:5"]) == 0
    assert "3 hosts" in capsys.readouterr().out
