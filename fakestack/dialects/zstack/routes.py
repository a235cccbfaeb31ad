"""Path templates -> APIs, as ZStack's RestServer matches them (reference §1.2)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

_VAR = re.compile(r"\{([^}/]+)\}")


@dataclass
class Template:
    pattern: str  # normalised: every variable written {}
    regex: re.Pattern
    specificity: tuple[int, ...]  # 0 literal, 1 variable, per segment: lower wins
    apis: list[tuple[str, list[str]]] = field(default_factory=list)  # (api name, var names)
    # empty ``apis``: a path of the real API that the fake does not serve


def _normalise(path: str) -> tuple[str, list[str]]:
    names = _VAR.findall(path)
    return _VAR.sub("{}", path), names


class RouteTable:
    def __init__(self) -> None:
        self._templates: dict[str, Template] = {}
        # (segment count, first segment) -> templates: a request tries a handful, not all
        self._index: dict[tuple[int, str], list[Template]] = {}

    def add(self, path: str, api_name: str) -> None:
        self._template(path).apis.append((api_name, _normalise(path)[1]))

    def add_known(self, path: str) -> None:
        """A path template of the real API, served or not (see ``known_paths``)."""
        self._template(path)

    def _template(self, path: str) -> Template:
        pattern, _ = _normalise(path)
        template = self._templates.get(pattern)
        if template is None:
            segments = pattern.strip("/").split("/")
            regex = "^/" + "/".join("([^/]+)" if s == "{}" else re.escape(s) for s in segments) + "/?$"
            template = Template(
                pattern=pattern,
                regex=re.compile(regex),
                specificity=tuple(1 if s == "{}" else 0 for s in segments),
            )
            self._templates[pattern] = template
            self._index.setdefault((len(segments), segments[0]), []).append(template)
        return template

    def match(self, path: str) -> list[tuple[Template, list[str]]]:
        """Templates matching ``path`` (relative to /v1), most specific first."""
        segments = path.strip("/").split("/")
        found = []
        for template in self._index.get((len(segments), segments[0]), ()):
            m = template.regex.match(path)
            if m:
                found.append((template, list(m.groups())))
        found.sort(key=lambda item: item[0].specificity)
        return found
