"""Defect 10: temporary files a killed --state server left are removed at the next start."""

from __future__ import annotations

from fakestack import Cloud
from fakestack.server import start_server


def test_leftover_temporaries_are_removed_at_start(tmp_path):
    state = tmp_path / "state.json"
    leftovers = [tmp_path / ".state.json.k1x2.tmp", tmp_path / ".state.json.zz9.tmp"]
    for leftover in leftovers:
        leftover.write_text('{"half": ')
    unrelated = [tmp_path / ".other.json.k1.tmp", tmp_path / "state.json.tmp.bak", tmp_path / "notes.tmp"]
    for path in unrelated:
        path.write_text("keep")
    lines = []
    server = start_server(Cloud("tiny"), port=0, state_file=state, log=lines.append)
    try:
        assert state.exists()
        assert not any(p.exists() for p in leftovers)
        assert all(p.read_text() == "keep" for p in unrelated)
        assert lines[:2] == [
            "removed .state.json.k1x2.tmp, a temporary state file left by a killed server",
            "removed .state.json.zz9.tmp, a temporary state file left by a killed server",
        ]
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
            ["state.json"] + [p.name for p in unrelated]
        )
    finally:
        server.stop()
