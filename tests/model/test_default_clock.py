"""``Cloud()`` is deterministic by default: a manual clock at a fixed instant."""

from __future__ import annotations

from freezegun import freeze_time

from fakestack import Cloud, ManualClock, SystemClock


def drive(cloud: Cloud) -> None:
    golden = cloud.vms.get("golden")
    result = cloud.clone_vm(golden, ["web-1", "web-2"])
    cloud.tick(30)
    cloud.write(result.succeeded[0].root_volume_uuid, 64 * 1024**2)
    cloud.tick(5)
    cloud.clone_vm(golden, ["web-3"])


def test_two_default_clouds_fed_the_same_operations_have_equal_snapshots():
    first, second = Cloud("tiny", seed=5), Cloud("tiny", seed=5)
    with freeze_time("2031-07-01T12:00:00Z"):
        drive(first)
    drive(second)  # a different wall clock: the default clock does not read it
    assert first.snapshot() == second.snapshot()
    assert isinstance(first.clock, ManualClock)
    assert first.clock.now() == 1_767_225_600.0 + 35  # 2026-01-01T00:00:00Z, then the ticks


def test_the_default_clock_starts_where_the_fixture_clock_starts(fakestack):
    assert Cloud("tiny").clock.now() == fakestack.clock.now() == 1_767_225_600.0


def test_the_system_clock_is_an_explicit_choice_that_freezegun_controls():
    with freeze_time("2031-07-01T12:00:00Z"):
        cloud = Cloud("tiny", seed=5, clock="system")
        assert isinstance(cloud.clock, SystemClock)
        assert cloud.clock.now_datetime().isoformat() == "2031-07-01T12:00:00+00:00"
    assert Cloud("tiny", clock="manual").clock.to_dict() == ManualClock().to_dict()


def test_an_unknown_clock_name_is_refused():
    import pytest

    with pytest.raises(ValueError, match="'manual' or 'system'"):
        Cloud("tiny", clock="wall")
