"""Writing scenarios: YAML output, :class:`Recorder` for Python code, and
:class:`RecordingMiddleware` for ``fakestack serve --record``."""

from __future__ import annotations

import io
import json
import os
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml

from ..files import write_atomically
from ..model import Cloud, DomainError, ManualClock
from ..timefmt import iso_utc
from .schema import DEFAULT_BASE_URL, DEFAULT_CLOCK_START, Scenario, parse_scenario


class _Dumper(yaml.SafeDumper):
    pass


def _str_representer(dumper, value: str):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str_representer)


class FlowDict(dict):
    """A mapping written on one line (``{a: 1, b: [x, y]}``): request parts, response
    bodies and clock moves in a recording, so that a step reads as a few lines."""


class FlowList(list):
    """A list written on one line (see ``FlowDict``)."""


def _flow_representer(dumper, value):
    if isinstance(value, dict):
        return dumper.represent_mapping("tag:yaml.org,2002:map", value.items(), flow_style=True)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=True)


_Dumper.add_representer(FlowDict, _flow_representer)
_Dumper.add_representer(FlowList, _flow_representer)


def flow(value: Any) -> Any:
    """``value`` (a dict or a list) written on one line; anything else as it is."""
    if isinstance(value, dict):
        return FlowDict(value)
    if isinstance(value, list):
        return FlowList(value)
    return value


def dumps(scenario: Scenario | dict) -> str:
    """YAML text of a scenario (what :func:`loads` reads back)."""
    return _yaml(scenario if isinstance(scenario, dict) else scenario_dict(scenario))


def _yaml(data: Any) -> str:
    # No wrapping: a one-line (flow) body stays one line however long it is.
    return yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=float("inf"),
        default_flow_style=False,
    )


def scenario_dict(scenario: Scenario) -> dict:
    data = scenario.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    data.setdefault("name", scenario.name)
    return data


def _topology_reference(cloud) -> str | dict:
    """A preset's name when the cloud was built from an unchanged preset, else inline."""
    from ..model import load_topology

    name = cloud.topology.name
    try:
        if load_topology(name) == cloud.topology:
            return name
    except Exception:
        pass
    return cloud.topology.model_dump(mode="json", exclude_defaults=True)


def bind_arguments(op: str, args: Sequence[Any], kwargs: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments of ``Cloud.<op>(*args, **kwargs)`` (for an op step)."""
    import inspect

    method = getattr(Cloud, op, None)
    if method is None:
        raise ValueError(f"unknown simulator operation {op!r}")
    signature = inspect.signature(method)
    bound = signature.bind(None, *args, **kwargs)
    named: dict[str, Any] = {}
    for index, (key, value) in enumerate(bound.arguments.items()):
        if index == 0:
            continue  # self
        kind = signature.parameters[key].kind
        if kind is inspect.Parameter.VAR_KEYWORD:
            named.update(value)
        elif kind is inspect.Parameter.VAR_POSITIONAL:
            if value:
                raise ValueError(f"{op}: extra positional arguments cannot be written as a step")
        else:
            named[key] = value
    return named


def _plain(value: Any) -> Any:
    """Model objects (entities with a uuid) as their uuid; tuples as lists."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    uuid = getattr(value, "uuid", None)
    if uuid is not None and not isinstance(value, (str, bytes)):
        return uuid
    return value


class Recorder:
    """Builds a scenario step by step, from Python.

    For code that drives a cloud directly (a hypothesis ``CloudStateMachine``, a test
    that wants to hand its reproduction to a colleague)::

        rec = Recorder.for_cloud(cloud, name="clone-until-full")
        rec.call("clone_vm", source="golden", names=["a", "b"])   # runs it and records it
        rec.tick(30)
        rec.write("golden", 512 * 1024**2, vm=True)
        rec.check_invariants()          # a step that fails on replay while the bug is there
        rec.save("failing-run.yaml")

    ``call`` / ``write`` / ``tick`` / ``add_faults`` do the thing on the cloud *and*
    record it, with the outcome as the step's expectation (success, or the domain error's
    class).  ``note_op`` and ``note_http`` only record (for code that already called).
    Build the recorder before the first change to the cloud: replay starts from the
    topology, the seed and the clock's time when the recorder was made.
    """

    def __init__(
        self,
        *,
        name: str = "recorded",
        description: str = "",
        topology: str | dict = "demo",
        seed: int = 0,
        clock_start: float | str = DEFAULT_CLOCK_START,
        base_url: str = DEFAULT_BASE_URL,
        faults: list | None = None,
        cloud=None,
    ) -> None:
        self.name = name
        self.description = description
        self.topology = topology
        self.seed = seed
        self.clock_start = clock_start
        self.base_url = base_url
        self.faults = list(faults or [])
        self.steps: list[dict] = []
        self.cloud = cloud
        self._step_yaml: list[tuple[dict, str]] = []  # (step, its YAML), see dumps()

    @classmethod
    def for_cloud(
        cls, cloud, *, name: str = "recorded", description: str = "", base_url: str = DEFAULT_BASE_URL
    ) -> Recorder:
        """A recorder for ``cloud`` as it is now (fresh from its topology: no operation
        run yet), with its fault plan."""
        plan = []
        if getattr(cloud, "faults", None) is not None:
            plan = [r.model_dump(mode="json", exclude_none=True) for r in cloud.faults.rules]
        return cls(
            name=name,
            description=description,
            topology=_topology_reference(cloud),
            seed=cloud.seed,
            clock_start=_clock_text(cloud.clock.now()),
            base_url=base_url,
            faults=plan,
            cloud=cloud,
        )

    # -- steps that act and record -------------------------------------------------------
    def call(self, op: str, /, **args):
        """Run a model operation on the recorder's cloud and record it."""
        if self.cloud is None:
            raise ValueError("Recorder.call needs a cloud: use Recorder.for_cloud(cloud)")
        try:
            result = getattr(self.cloud, op)(**args)
        except DomainError as exc:
            self.note_op(op, args, error=exc)
            raise
        self.note_op(op, args)
        return result

    def write(self, target, nbytes: int, *, vm: bool = False) -> int:
        if self.cloud is None:
            raise ValueError("Recorder.write needs a cloud: use Recorder.for_cloud(cloud)")
        key = _plain(target)
        volume = self.cloud.vms.get(key).root_volume_uuid if vm else key
        step: dict[str, Any] = {"write": {"vm" if vm else "volume": key, "bytes": int(nbytes)}}
        try:
            grown = self.cloud.write(volume, nbytes)
        except DomainError as exc:
            step["expect"] = {"ok": False, "error_code": type(exc).__name__}
            self.steps.append(step)
            raise
        step["expect"] = {"ok": True}
        self.steps.append(step)
        return grown

    def tick(self, seconds: float) -> float:
        if self.cloud is not None:
            self.cloud.tick(seconds)
        self.note_tick(seconds)
        return self.cloud.clock.now() if self.cloud is not None else seconds

    def add_faults(self, *rules) -> list:
        from .. import faults

        added = faults.add(self.cloud, *rules) if self.cloud is not None else []
        dumped = [r.model_dump(mode="json", exclude_none=True) for r in added] or [
            r if isinstance(r, dict) else r.model_dump(mode="json", exclude_none=True) for r in rules
        ]
        self.steps.append({"fault": {"add": dumped}})
        return added

    def check_invariants(self, name: str = "invariants hold") -> None:
        """Record (and run) ``check_invariants``, expected to succeed: if the run broke an
        invariant, the saved scenario fails on this step until the bug is fixed."""
        step = {"name": name, "op": "check_invariants", "expect": {"ok": True}}
        self.steps.append(step)
        if self.cloud is not None:
            self.cloud.check_invariants()

    # -- steps that only record -----------------------------------------------------------
    def note_op(
        self, op: str, args: dict, *, error: BaseException | None = None, name: str | None = None
    ) -> None:
        step: dict[str, Any] = {}
        if name:
            step["name"] = name
        step["op"] = op
        if args:
            step["args"] = _plain(args)
        if error is None:
            step["expect"] = {"ok": True}
        else:
            step["expect"] = {"ok": False, "error_code": type(error).__name__}
        self.steps.append(step)

    def note_http(
        self,
        method: str,
        path: str,
        *,
        headers: dict | None = None,
        query: dict | None = None,
        json_body: Any = None,
        body: str | None = None,
        status: int | None = None,
        response_body: Any = None,
        response_text: str | None = None,
        base_url: str | None = None,
        dropped: bool = False,
        has_json: bool = False,
        name: str | None = None,
    ) -> dict:
        """Record a request and its answer (the expectation); returns the step."""
        http: dict[str, Any] = {"method": method, "path": path}
        if base_url and base_url != self.base_url:
            http["base_url"] = base_url
        if query:
            http["query"] = flow(query)
        if headers:
            http["headers"] = flow(headers)
        if has_json or json_body is not None:
            http["json"] = flow(json_body)
        elif body is not None:
            http["body"] = body
        expect: dict[str, Any] = {}
        if dropped:
            expect["dropped"] = True
        else:
            if status is not None:
                expect["status"] = status
            if response_text is not None:
                expect["text"] = response_text
            else:
                expect["body"] = flow(response_body)
        step: dict[str, Any] = {"name": name} if name else {}
        step.update({"http": http, "expect": expect})
        self.steps.append(step)
        return step

    def note_call(self, op: str, /, *args, error: BaseException | None = None, **kwargs) -> None:
        """Record a model call made elsewhere, as it was written in Python: positional
        arguments are named from the ``Cloud`` method's signature.  ``op`` is the method
        name (``"clone_vm"``) or the bound method itself."""
        name = op if isinstance(op, str) else op.__name__
        self.note_op(name, bind_arguments(name, args, kwargs), error=error)

    def note_tick(self, seconds: float) -> None:
        """A relative clock step (``clock: {tick: 30}``)."""
        if float(seconds).is_integer():
            seconds = int(seconds)
        self.steps.append({"clock": FlowDict(tick=seconds)})

    def note_faults(self, *rules, clear: bool = False) -> None:
        """Record fault rules added elsewhere (``clear``: the plan was cleared first).
        A rule may be a ``FaultRule``, its dict, or what ``faults.add`` returned (a list)."""
        change: dict[str, Any] = {}
        if clear:
            change["clear"] = True
        flat: list = []
        for rule in rules:
            flat.extend(rule) if isinstance(rule, (list, tuple)) else flat.append(rule)
        dumped = [r if isinstance(r, dict) else r.model_dump(mode="json", exclude_none=True) for r in flat]
        if dumped:
            change["add"] = dumped
        if change:
            self.steps.append({"fault": change})

    def note_clock_to(self, epoch: float) -> None:
        self.steps.append({"clock": FlowDict(to=epoch)})

    # -- output -----------------------------------------------------------------------------
    def as_dict(self) -> dict:
        data: dict[str, Any] = {"name": self.name}
        if self.description:
            data["description"] = self.description
        data["topology"] = self.topology
        data["seed"] = self.seed
        data["clock_start"] = self.clock_start
        if self.base_url != DEFAULT_BASE_URL:
            data["base_url"] = self.base_url
        if self.faults:
            data["faults"] = self.faults
        data["steps"] = list(self.steps)
        return data

    def scenario(self) -> Scenario:
        return parse_scenario(self.as_dict(), f"<recorded {self.name}>")

    def dumps(self) -> str:
        """The scenario's YAML text.  Each step is turned into YAML once and kept (a
        recording server saves after every request: dumping every step again each time
        made the nth request cost n steps of YAML).  A step is not changed once recorded."""
        data = self.as_dict()
        steps = data.pop("steps")
        if not steps:
            return dumps(self.as_dict())
        done = self._step_yaml
        for index, step in enumerate(steps):
            if index < len(done) and done[index][0] is step:
                continue
            del done[index:]
            done.append((step, _yaml([step])))
        del done[len(steps) :]
        return _yaml(data) + "steps:\n" + "".join(text for _, text in done)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the scenario (valid as soon as it has a step) to ``path``."""
        write_atomically(path, self.dumps())
        return Path(path)


def _clock_text(epoch: float) -> str | float:
    """An ISO date when the time is a whole second (readable), else the exact epoch."""
    if float(epoch).is_integer():
        return iso_utc(epoch)
    return float(epoch)


# Request headers that describe the transport or the client program, not the request.
_UNRECORDED_HEADERS = {
    "host",
    "content-length",
    "connection",
    "accept-encoding",
    "user-agent",
    "keep-alive",
    "te",
    "transfer-encoding",
}


DASHBOARD_PATH = "/_fakestack/ui"  # its page and polls are not recorded


class RecordingMiddleware:
    """WSGI middleware that records every request and response of ``app`` (a
    ``FakestackApp``) into ``recorder`` and rewrites ``path`` after each one.

    ``sync_clock``: the cloud must run on a ``ManualClock``; before each request the
    middleware moves it forward to the wall-clock time (whole seconds) and records that
    move as a relative ``clock: {tick: N}`` step, so that time passes as in a live server
    and the replay sees the same times.  Attribute reads fall through to ``app``
    (``start_server(cloud, app=middleware)`` works).

    Written for a person: each request step is named after the API it called
    (``CloneVmInstance web-1``, ``VM.instant_clone ic-1``, ``clone_vm``); request parts and
    response bodies are one line each; a value a response gave (a session token, a job
    location, a uuid) that a later request sends is saved to a variable on the step that
    answered it (``save: {session: inventory.uuid}``) and sent as ``${session}``."""

    def __init__(
        self,
        app,
        recorder: Recorder,
        path: str | os.PathLike[str] | None = None,
        *,
        sync_clock: bool = True,
        wall_clock: Callable[[], float] | None = None,
    ) -> None:
        self.app = app
        self.recorder = recorder
        self.path = Path(path) if path is not None else None
        self.sync_clock = sync_clock
        self._wall = wall_clock or _wall_time
        self.count = 0
        self._values = _ValueBook(recorder)

    def __getattr__(self, name: str):
        return getattr(self.app, name)

    def __call__(self, environ, start_response):
        from werkzeug.wrappers import Request

        path = environ.get("PATH_INFO", "")
        if path == DASHBOARD_PATH or path.startswith(DASHBOARD_PATH + "/"):
            # Someone looking at the dashboard is not part of the story (it polls each second).
            return self.app(environ, start_response)
        cloud = self.app.cloud
        with cloud.lock:
            if self.sync_clock:
                moved = float(int(self._wall())) - cloud.clock.now()
                if moved >= 1:
                    # tick, as the replay will: the same float steps give the same times
                    cloud.tick(int(moved))
                    self.recorder.note_tick(int(moved))
            request = Request(environ)
            raw = request.get_data(cache=True)
            environ["wsgi.input"] = io.BytesIO(raw)
            environ["CONTENT_LENGTH"] = str(len(raw))
            captured: dict[str, Any] = {}

            def capture(status, headers, exc_info=None):
                captured["status"] = status
                captured["headers"] = headers
                return lambda data: captured.setdefault("written", []).append(data)

            try:
                result = self.app(environ, capture)
                try:
                    chunks = list(captured.get("written", [])) + [bytes(c) for c in result]
                finally:
                    close = getattr(result, "close", None)
                    if close is not None:
                        close()
            except BaseException as exc:
                if _is_drop(exc):
                    self._note(request, raw, dropped=True)
                raise
            data = b"".join(chunks)
            self._note(
                request,
                raw,
                status=int(captured["status"].split()[0]),
                headers=captured["headers"],
                data=data,
            )
        start_response(captured["status"], captured["headers"])
        return [data]

    def _note(
        self,
        request,
        raw: bytes,
        *,
        status: int | None = None,
        headers=None,
        data: bytes = b"",
        dropped: bool = False,
    ) -> None:
        base_url = f"{request.scheme}://{request.host}"
        if not self.recorder.steps or all("http" not in s for s in self.recorder.steps):
            if self.recorder.base_url == DEFAULT_BASE_URL:
                self.recorder.base_url = base_url
        req_headers = {
            k: v
            for k, v in request.headers.items()
            if k.lower() not in _UNRECORDED_HEADERS and not (k.lower() == "accept" and v == "*/*")
        }  # what any client sends
        query: dict[str, Any] = {}
        for key in request.args.keys():
            values = request.args.getlist(key)
            query[key] = values if len(values) > 1 else values[0]
        path = self._values.use(request.path, url_path=request.path)
        req_headers = {
            k: self._values.use(v, hint="session" if _SESSION_HEADER.search(k) else None)
            for k, v in req_headers.items()
        }
        query = self._values.use(query)
        json_body, body_text, has_json = None, None, False
        if raw:
            text = raw.decode("utf-8", errors="replace")
            if request.mimetype == "application/json":
                try:
                    json_body, has_json = self._values.use(json.loads(text)), True
                except ValueError:
                    body_text = text
                if has_json and req_headers.get("Content-Type") == "application/json":
                    del req_headers["Content-Type"]  # what a replay sends with a JSON body
            else:
                body_text = text
        response_body, response_text = None, None
        if not dropped:
            content_type = dict((k.lower(), v) for k, v in headers).get("content-type", "")
            text = data.decode("utf-8", errors="replace")
            if "json" in content_type.split(";")[0] and text:
                try:
                    response_body = json.loads(text)
                except ValueError:
                    response_text = text
            else:
                response_text = text
        step = self.recorder.note_http(
            request.method,
            path,
            headers=req_headers,
            query=query,
            json_body=json_body,
            body=body_text,
            has_json=has_json,
            status=status,
            response_body=response_body,
            response_text=response_text,
            base_url=base_url,
            dropped=dropped,
            name=_step_name(request, json_body),
        )
        if response_body is not None:
            self._values.harvest(step, response_body)
        self.count += 1
        if self.path is not None:
            self.recorder.save(self.path)


def _step_name(request, json_body: Any) -> str | None:
    """``<API> <what it names>``: the operation the dialect recognised (``fakestack.operation``
    in the environ) and the names in the request (``CloneVmInstance web-1 web-2``)."""
    operation = request.environ.get("fakestack.operation")
    if operation is None:
        path = request.path
        if path.startswith("/_fakestack/"):
            operation = f"fakestack {path[len('/_fakestack/') :]}"
        elif "/api-jobs/" in path or "/result/" in path:
            operation = "poll job"
        else:
            return None
    subject = _names_in(json_body)
    if not subject:
        subject = " ".join(str(v) for k, v in request.args.items(multi=True) if k == "q")
    return f"{operation} {subject}".strip()


def _names_in(value: Any, depth: int = 0) -> str:
    """The names a request body gives (``names``, ``name``, ``snapshot_name``), first found."""
    if depth > 8:  # a vAPI JSON-RPC body nests its spec a few levels down
        return ""
    if isinstance(value, dict):
        for key in ("names", "name", "snapshot_name"):
            found = value.get(key)
            if isinstance(found, str) and found:
                return found
            if isinstance(found, list) and found and all(isinstance(n, str) for n in found):
                return " ".join(found)
        for inner in value.values():
            found = _names_in(inner, depth + 1)
            if found:
                return found
    elif isinstance(value, list):
        for inner in value[:3]:
            found = _names_in(inner, depth + 1)
            if found:
                return found
    return ""


_SESSION_HEADER = re.compile(r"auth|session|token", re.IGNORECASE)
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{11,}")
_ISO_DATE = re.compile(r"\d{4}-\d\d-\d\dT")


def _worth_saving(text: str) -> bool:
    """An id or a token: 12+ characters, one word, letters and digits (not a date)."""
    return (
        len(text) >= 12
        and _TOKEN.fullmatch(text) is not None
        and any(c.isdigit() for c in text)
        and any(c.isalpha() for c in text)
        and not _ISO_DATE.match(text)
    )


class _ValueBook:
    """Values responses gave, where (step, path), and the variable each got when a later
    request first sent it back."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self.found: dict[str, tuple[dict, str, str]] = {}  # value -> (step, path, suggested name)
        self.names: dict[str, str] = {}  # value -> variable
        self.urls: dict[str, str] = {}  # path of a harvested URL -> the URL

    def harvest(self, step: dict, body: Any) -> None:
        from urllib.parse import urlsplit

        for path, value, name in _leaves(body):
            if value in self.found:
                continue
            if value.startswith(("http://", "https://")):
                self.found[value] = (step, path, name)
                self.urls.setdefault(urlsplit(value).path, value)
            elif _worth_saving(value):
                self.found[value] = (step, path, name)

    def use(self, value: Any, *, url_path: str | None = None, hint: str | None = None) -> Any:
        """``value`` with every harvested value in it replaced by ``${variable}``; a request
        path that is a harvested URL's (a job location) becomes that whole URL."""
        if url_path is not None and url_path in self.urls:
            return "${" + self._variable(self.urls[url_path], "job") + "}"
        if isinstance(value, dict):
            return {k: self.use(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.use(v) for v in value]
        if not isinstance(value, str) or not self.found:
            return value
        return _TOKEN.sub(
            lambda m: (
                "${" + self._variable(m.group(0), hint) + "}" if m.group(0) in self.found else m.group(0)
            ),
            value,
        )

    def _variable(self, value: str, hint: str | None = None) -> str:
        known = self.names.get(value)
        if known is not None:
            return known
        step, path, suggested = self.found[value]
        base = re.sub(r"[^A-Za-z0-9_]", "_", hint or suggested).strip("_") or "value"
        if base[0].isdigit():
            base = "v_" + base
        taken = set(self.names.values())
        name, n = base, 2
        while name in taken:
            name, n = f"{base}_{n}", n + 1
        self.names[value] = name
        steps = self.recorder.steps
        for index, candidate in enumerate(steps):
            if candidate is step:
                # a new dict: the recorder rewrites a step's YAML when the step object changes
                updated = dict(step)
                updated["save"] = FlowDict(dict(step.get("save", {}), **{name: path}))
                steps[index] = updated
                for other, (s, p, g) in list(self.found.items()):
                    if s is step:
                        self.found[other] = (updated, p, g)
                break
        return name


def _leaves(body: Any, path: str = "", parent: Any = None, depth: int = 0):
    """(dotted path, string, suggested variable name) for every string in ``body``."""
    if depth > 12:
        return
    if isinstance(body, dict):
        for key, value in body.items():
            if "." in str(key):
                continue  # a save path cannot name it (vAPI keys such as com.vmware.vcenter.VM.info)
            sub = f"{path}.{key}" if path else str(key)
            if isinstance(value, str):
                yield sub, value, _suggest(key, body)
            else:
                yield from _leaves(value, sub, body, depth + 1)
    elif isinstance(body, list):
        for index, value in enumerate(body):
            sub = f"{path}.{index}" if path else str(index)
            if isinstance(value, str):
                yield sub, value, path.rsplit(".", 1)[-1] or "value"
            else:
                yield from _leaves(value, sub, body, depth + 1)


def _suggest(key: str, holder: dict) -> str:
    """A variable name for ``holder[key]``: ``golden_uuid`` beside a name, the session of a
    login, ``location`` for a job."""
    if key == "location":
        return "job"
    if key.lower() in ("secret", "token", "session", "session_id", "sessionid"):
        return "session"
    named = holder.get("name")
    if isinstance(named, str) and named and key != "name":
        return f"{named}_{key}"
    if key in ("value", "output", "uuid", "session_id", "token") and len(holder) <= 8:
        return "session" if key != "uuid" or "accountUuid" in holder else key
    return key


def _is_drop(exc: BaseException) -> bool:
    from ..faults import ConnectionDropped, DropConnection

    return isinstance(exc, (DropConnection, ConnectionDropped))


def _wall_time() -> float:
    # Recording is the one place that follows the wall clock: it turns real time into
    # explicit clock steps, so that the replay needs none.
    return time.time()


def recording_cloud(topology="demo", seed: int = 0, *, start: float | None = None):
    """A cloud for ``serve --record``: a manual clock started at the current second."""
    start = float(int(_wall_time())) if start is None else start
    return Cloud(topology, seed=seed, clock=ManualClock(start))


def record_app(
    cloud,
    path: str | os.PathLike[str],
    *,
    name: str | None = None,
    description: str = "",
    sync_clock: bool = True,
    wall_clock: Callable[[], float] | None = None,
) -> RecordingMiddleware:
    """``make_app(cloud)`` wrapped so that what it serves is written to ``path`` as a
    scenario.  Make it before the first request (the recorder starts from the cloud as
    it is)."""
    from ..app import make_app

    recorder = Recorder.for_cloud(
        cloud, name=name or Path(path).stem, description=description or "recorded by fakestack serve --record"
    )
    middleware = RecordingMiddleware(
        make_app(cloud), recorder, path, sync_clock=sync_clock, wall_clock=wall_clock
    )
    recorder.save(path) if recorder.steps else None
    return middleware
