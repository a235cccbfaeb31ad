"""Loading a topology from what a user names: a preset, a file, a dict or a Topology."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .presets import PRESET_NAMES, preset
from .topology import Topology, TopologyError, parse_topology


def load_topology(spec: str | Path | dict[str, Any] | Topology) -> Topology:
    """A preset name (``demo``, ``tiny``, ``scale:HOSTS:VMS``), a file path, a dict or a Topology."""
    if isinstance(spec, Topology):
        return spec
    if isinstance(spec, dict):
        return parse_topology(spec)
    text_spec = str(spec)
    found = preset(text_spec)
    if found is not None:
        return found
    path = Path(text_spec)
    if not path.exists():
        raise TopologyError(
            [("topology", f"{text_spec!r} is neither a preset ({', '.join(PRESET_NAMES)}) nor a file")]
        )
    raw = path.read_text(encoding="utf-8")
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(raw)
        else:
            import yaml  # only when a YAML file is read

            data = yaml.safe_load(raw)
    except Exception as exc:  # parser errors differ by format; all are user input errors
        raise TopologyError([("file", f"cannot parse {path}: {exc}")], str(path)) from None
    if isinstance(data, dict) and "topology" in data and "zones" not in data:
        data = data["topology"]
    if not isinstance(data, dict):
        raise TopologyError([("topology", "the file must hold a mapping")], str(path))
    data.setdefault("name", path.stem)
    return parse_topology(data, str(path))
