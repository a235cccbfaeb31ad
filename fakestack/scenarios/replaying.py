"""Replaying a scenario in a fresh cloud, step by step, into a deterministic transcript."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..model import Cloud, DomainError, ManualClock
from .schema import Scenario, Step, _epoch, load
from .values import (
    StepFailure,
    _size,
    error_code_of,
    pretty,
    project,
    render_value,
    resolve,
    strict_equal,
    subset_matches,
    substitute,
    text_diff,
)

TRANSCRIPT_VERSION = 1


@dataclasses.dataclass
class StepReport:
    index: int
    label: str
    kind: str
    passed: bool
    message: str = ""


@dataclasses.dataclass
class ReplayResult:
    scenario: Scenario
    source: str
    steps: list[StepReport]
    transcript_data: dict
    variables: dict[str, Any]
    cloud: Any = None

    @property
    def passed(self) -> bool:
        return all(s.passed for s in self.steps) and len(self.steps) == len(self.scenario.steps)

    @property
    def failures(self) -> list[StepReport]:
        return [s for s in self.steps if not s.passed]

    @property
    def transcript(self) -> str:
        return transcript_text(self.transcript_data)

    def report(self) -> str:
        """The readable failure report (empty when the scenario passed)."""
        if self.passed:
            return ""
        lines = [f"scenario {self.scenario.name} ({self.source}) failed"]
        for failure in self.failures:
            lines.append(f"step {failure.index + 1} {failure.label} [{failure.kind}]:")
            lines.extend("  " + line for line in failure.message.splitlines())
        if len(self.steps) < len(self.scenario.steps):
            left = len(self.scenario.steps) - len(self.steps)
            lines.append(f"({left} later step{'s' if left != 1 else ''} not run)")
        return "\n".join(lines)


def transcript_text(data: dict) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def _topology_for(scenario: Scenario, base_dir: Path | None):
    topo = scenario.topology
    if isinstance(topo, str) and base_dir is not None:
        candidate = base_dir / topo
        if candidate.suffix in (".yaml", ".yml", ".json") and candidate.is_file():
            return str(candidate)
    return topo


def build_cloud(scenario: Scenario, base_dir: Path | None = None):
    """A fresh cloud for ``scenario``: its topology and seed, a manual clock at its start,
    its fault plan installed."""
    cloud = Cloud(
        _topology_for(scenario, base_dir), seed=scenario.seed, clock=ManualClock(scenario.start_epoch)
    )
    if scenario.faults:
        from .. import faults

        faults.add(cloud, list(scenario.faults))
    return cloud


def _step_label(step: Step, index: int) -> str:
    if step.name:
        return step.name
    if step.http is not None:
        return f"{step.http.method} {step.http.path}"
    if step.op is not None:
        return f"op {step.op}"
    return step.kind


class _Runner:
    def __init__(self, scenario: Scenario, base_dir: Path | None) -> None:
        from werkzeug.test import Client

        from ..app import make_app

        self.scenario = scenario
        self.cloud = build_cloud(scenario, base_dir)
        self.app = make_app(self.cloud)
        # No cookie jar: a step sends exactly the headers it lists (a recorded Cookie included).
        self.client = Client(self.app, use_cookies=False)
        self.variables: dict[str, Any] = dict(scenario.variables)

    # each action returns (record for the transcript, answer document for expect/save)
    def run_http(self, step: Step) -> tuple[dict, dict]:
        req = step.http
        path = substitute(req.path, self.variables)
        if not isinstance(path, str):
            raise StepFailure(f"http.path became {path!r}, not a string")
        query = substitute(req.query, self.variables)
        headers = {k: str(v) for k, v in substitute(req.headers, self.variables).items()}
        base_url = substitute(req.base_url or self.scenario.base_url, self.variables)
        data: bytes | None = None
        content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), None)
        sent_body: Any = None
        if "json_body" in req.model_fields_set:
            sent_body = substitute(req.json_body, self.variables)
            data = json.dumps(sent_body).encode()
            content_type = content_type or "application/json"
        elif req.body is not None:
            sent_body = substitute(req.body, self.variables)
            data = str(sent_body).encode()
        kwargs: dict[str, Any] = {"method": req.method, "headers": headers}
        if query:
            kwargs["query_string"] = {
                k: ([str(x) for x in v] if isinstance(v, list) else str(v)) for k, v in query.items()
            }
        if data is not None:
            kwargs["data"] = data
            if content_type:
                kwargs["content_type"] = content_type
        if not re.match(r"https?://", path):
            kwargs["base_url"] = base_url
        record: dict[str, Any] = {"request": {"method": req.method, "path": path}}
        if query:
            record["request"]["query"] = kwargs["query_string"]
        if headers:
            record["request"]["headers"] = headers
        if sent_body is not None:
            record["request"]["body"] = sent_body
        from ..faults import ConnectionDropped, DropConnection

        try:
            response = self.client.open(path, **kwargs)
        except (DropConnection, ConnectionDropped):
            record["response"] = {"dropped": True}
            return record, {"dropped": True, "status": None, "headers": {}, "body": None, "text": ""}
        text = response.get_data(as_text=True)
        body: Any = text
        is_json = response.mimetype == "application/json" or response.mimetype.endswith("+json")
        if is_json and text:
            try:
                body = json.loads(text)
            except ValueError:
                is_json = False
        headers_out = [f"{k}: {v}" for k, v in response.headers.items()]
        record["response"] = {
            "status": response.status_code,
            "headers": headers_out,
            "body" if is_json else "text": body if is_json else text,
        }
        answer = {
            "status": response.status_code,
            "headers": dict(response.headers.items()),
            "body": body if is_json else (None if not text else text),
            "text": text,
            "dropped": False,
        }
        return record, answer

    def run_op(self, step: Step) -> tuple[dict, dict]:
        args = substitute(step.args, self.variables)
        record: dict[str, Any] = {"op": step.op, "args": args}
        try:
            with self.cloud.lock:
                result = getattr(self.cloud, step.op)(**args)
        except DomainError as exc:
            rendered = render_value(exc)
            record["error"] = rendered
            return record, {"ok": False, "error": exc, "body": rendered, "error_code": type(exc).__name__}
        except Exception as exc:  # a wrong argument: the scenario's own mistake
            rendered = {"error": type(exc).__name__, "message": str(exc)}
            record["error"] = rendered
            return record, {
                "ok": False,
                "error": exc,
                "body": rendered,
                "crashed": True,
                "error_code": type(exc).__name__,
            }
        rendered = render_value(result)
        record["result"] = rendered
        return record, {"ok": True, "body": rendered}

    def run_fault(self, step: Step) -> tuple[dict, dict]:
        from .. import faults

        change = step.fault
        record: dict[str, Any] = {"fault": {}}
        with self.cloud.lock:
            if change.clear:
                faults.clear(self.cloud)
                record["fault"]["clear"] = True
            if change.remove:
                ids = [change.remove] if isinstance(change.remove, str) else change.remove
                for rule_id in substitute(ids, self.variables):
                    try:
                        faults.remove(self.cloud, rule_id)
                    except KeyError:
                        active = ", ".join(r["id"] for r in faults.list_rules(self.cloud)) or "none"
                        raise StepFailure(
                            f"fault.remove: no active rule {rule_id!r} (active: {active})"
                        ) from None
                record["fault"]["remove"] = ids
            if change.add:
                rules = substitute(change.add, self.variables)
                try:
                    added = faults.add(self.cloud, rules)
                except ValidationError as exc:
                    raise StepFailure(f"fault.add: {exc}") from None
                record["fault"]["add"] = [r.model_dump(mode="json", exclude_none=True) for r in added]
            if change.release:
                record["fault"]["released"] = faults.release(self.cloud)
            record["fault"]["active"] = [r["id"] for r in faults.list_rules(self.cloud)]
        return record, {"ok": True, "body": record["fault"]}

    def run_clock(self, step: Step) -> tuple[dict, dict]:
        move = step.clock
        with self.cloud.lock:
            if move.tick is not None:
                self.cloud.tick(move.tick)
            else:
                target = _epoch(substitute(move.to, self.variables), "to")
                if target < self.cloud.clock.now():
                    raise StepFailure(
                        f"clock.to {move.to} is before the clock's time "
                        f"{self.cloud.clock.now()}: the clock only moves forward"
                    )
                self.cloud.clock.move_to(target)
            now = self.cloud.clock.now()
        record = {"clock": {"tick": move.tick} if move.tick is not None else {"to": move.to}, "now": now}
        return record, {"ok": True, "body": {"now": now}}

    def run_write(self, step: Step) -> tuple[dict, dict]:
        w = step.write
        nbytes = _size(substitute(w.bytes, self.variables))
        record: dict[str, Any] = {"write": {}}
        with self.cloud.lock:
            try:
                if w.vm is not None:
                    vm_key = substitute(w.vm, self.variables)
                    record["write"]["vm"] = vm_key
                    vm = self.cloud.vms.get(vm_key)
                    volume = vm.root_volume_uuid
                else:
                    volume = substitute(w.volume, self.variables)
                    record["write"]["volume"] = volume
                record["write"]["bytes"] = nbytes
                grown = self.cloud.write(volume, nbytes)
            except DomainError as exc:
                rendered = render_value(exc)
                record["error"] = rendered
                return record, {"ok": False, "error": exc, "body": rendered, "error_code": type(exc).__name__}
        record["result"] = {"grown": grown}
        return record, {"ok": True, "body": {"grown": grown}}

    # -- checks ----------------------------------------------------------------------
    def check(self, step: Step, answer: dict) -> list[str]:
        problems: list[str] = []
        if answer.get("crashed") and not (step.expect and step.expect.error_code):
            err = answer["error"]
            return [f"the operation could not run: {type(err).__name__}: {err}"]
        expect = step.expect
        if expect is None:
            return problems
        given = expect.model_fields_set
        exp = substitute(expect.model_dump(include=given), self.variables)
        if "dropped" in given and bool(answer.get("dropped")) != exp["dropped"]:
            problems.append(f"expected the connection {'to be' if exp['dropped'] else 'not to be'} dropped")
        if answer.get("dropped") and "dropped" not in given:
            problems.append("the connection was dropped (a drop_connection fault fired)")
            return problems
        if "status" in given and answer.get("status") != exp["status"]:
            problems.append(
                f"expected status {exp['status']}, got {answer.get('status')}" + _body_hint(answer)
            )
        if "ok" in given:
            if step.kind in ("op", "write"):
                if answer.get("ok") != exp["ok"]:
                    if answer.get("ok"):
                        problems.append("expected the operation to fail, it succeeded")
                    else:
                        problems.append(
                            f"expected the operation to succeed, it failed: {pretty(answer['body'])}"
                        )
            else:
                status = answer.get("status") or 0
                if (200 <= status < 300) != exp["ok"]:
                    problems.append(
                        f"expected {'a success' if exp['ok'] else 'an error'}, "
                        f"got status {status}" + _body_hint(answer)
                    )
        if "error_code" in given:
            if step.kind in ("op", "write"):
                actual = answer.get("error_code")
            else:
                actual = error_code_of(answer.get("body"))
            if actual != exp["error_code"]:
                problems.append(
                    f"expected error code {exp['error_code']!r}, got {actual!r}" + _body_hint(answer)
                )
        if "headers" in given:
            headers = {k.lower(): v for k, v in (answer.get("headers") or {}).items()}
            for name, value in (exp["headers"] or {}).items():
                if headers.get(name.lower()) != value:
                    problems.append(f"expected header {name}: {value!r}, got {headers.get(name.lower())!r}")
        if "text" in given and answer.get("text") != exp["text"]:
            problems.append(text_diff(exp["text"], answer.get("text"), "text"))
        if "body" in given and not strict_equal(exp["body"], answer.get("body")):
            problems.append("body differs:\n" + text_diff(exp["body"], answer.get("body"), "body"))
        if "subset" in given and not subset_matches(exp["subset"], answer.get("body")):
            shown = project(exp["subset"], answer.get("body"))
            problems.append(
                "body does not contain the expected part:\n" + text_diff(exp["subset"], shown, "part")
            )
        if "capacity" in given:
            table = self.cloud.capacity()
            for path, figure in (exp["capacity"] or {}).items():
                wanted = _size(figure)
                try:
                    actual = resolve(table, path)
                except KeyError as exc:
                    problems.append(f"capacity {path}: {exc.args[0]}")
                    continue
                if not strict_equal(wanted, actual):
                    problems.append(
                        f"capacity {path}: expected {wanted}, got {actual}"
                        + (
                            f" (off by {actual - wanted:+d})"
                            if isinstance(actual, int) and isinstance(wanted, int)
                            else ""
                        )
                    )
        return problems

    def save(self, step: Step, answer: dict) -> list[str]:
        problems = []
        for var, path in step.save.items():
            try:
                if path == "status":
                    value = answer.get("status")
                elif path.startswith("header:"):
                    name = path[len("header:") :].lower()
                    headers = {k.lower(): v for k, v in (answer.get("headers") or {}).items()}
                    if name not in headers:
                        raise KeyError(f"the response has no header {path[7:]!r}")
                    value = headers[name]
                else:
                    value = resolve(answer.get("body"), path)
            except KeyError as exc:
                problems.append(f"save {var} from {path}: {exc.args[0]}")
                continue
            self.variables[var] = value
        return problems


def _body_hint(answer: dict) -> str:
    body = answer.get("body")
    if body is None:
        return ""
    text = pretty(body)
    if len(text) > 600:
        text = text[:600] + "\n..."
    return "\nbody:\n" + "\n".join("  " + line for line in text.splitlines())


def replay(
    scenario: Scenario | str | os.PathLike[str],
    *,
    source: str | None = None,
    base_dir: str | os.PathLike[str] | None = None,
    on_step: Callable[[int, int], None] | None = None,
    stop_on_failure: bool = True,
    observe: Callable[[int, Any], None] | None = None,
) -> ReplayResult:
    """Replay ``scenario`` (a model, or a file path) in a fresh cloud.

    Runs every step, checks its ``expect`` and ``save``; by default stops at the first
    failing step.  ``on_step(done, total)`` reports progress.  ``observe(done, cloud)``
    looks at the cloud before the first step (``done`` 0) and after each step (the
    replay report charts capacity with it); it must not change the cloud."""
    if not isinstance(scenario, Scenario):
        path = Path(scenario)
        source = source or str(path)
        base_dir = base_dir if base_dir is not None else path.parent
        scenario = load(path)
    source = source or "<scenario>"
    runner = _Runner(scenario, Path(base_dir) if base_dir is not None else None)
    actions = {
        "http": runner.run_http,
        "op": runner.run_op,
        "fault": runner.run_fault,
        "clock": runner.run_clock,
        "write": runner.run_write,
    }
    entries: list[dict] = []
    reports: list[StepReport] = []
    total = len(scenario.steps)
    if observe is not None:
        observe(0, runner.cloud)
    for index, step in enumerate(scenario.steps):
        label = _step_label(step, index)
        entry: dict[str, Any] = {"step": index + 1}
        if step.name:
            entry["name"] = step.name
        entry["kind"] = step.kind
        try:
            record, answer = actions[step.kind](step)
            entry.update(record)
            problems = runner.check(step, answer)
            problems += runner.save(step, answer)
            if step.save:
                entry["saved"] = {var: runner.variables.get(var) for var in step.save}
        except StepFailure as exc:
            problems = [str(exc)]
        entry["passed"] = not problems
        if problems:
            entry["problems"] = problems
        entries.append(entry)
        reports.append(StepReport(index, label, step.kind, not problems, "\n".join(problems)))
        if observe is not None:
            observe(index + 1, runner.cloud)
        if on_step is not None:
            on_step(index + 1, total)
        if problems and stop_on_failure:
            break
    # the state in snapshot format 1: the hash does not change with the snapshot's encoding
    state = json.dumps(
        Cloud.snapshot_version_1(runner.cloud.snapshot()), sort_keys=True, separators=(",", ":"), default=str
    )
    data = {
        "transcript": TRANSCRIPT_VERSION,
        "scenario": scenario.name,
        "topology": runner.cloud.topology.name,
        "seed": scenario.seed,
        "clock_start": scenario.start_epoch,
        "steps": entries,
        "passed": all(r.passed for r in reports) and len(reports) == total,
        "final_clock": runner.cloud.clock.now(),
        "final_state_sha256": hashlib.sha256(state.encode()).hexdigest(),
    }
    return ReplayResult(scenario, source, reports, data, runner.variables, runner.cloud)
