"""schemathesis against each dialect's OpenAPI document, in process (WSGI), with bounded
example counts: no crash (see ``fuzz_support.no_crash``), every answer conforming to the
document's schema, every status code one the document lists.  The large run (10 000+
requests per dialect) is ``benchmarks/bench_fuzz.py``."""

from __future__ import annotations

import schemathesis
from fuzz_support import DOCUMENTS, Target, crash_in, poller
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

MAX_EXAMPLES = 3  # per operation; the whole module stays well under a minute

TARGETS = {name: Target(name) for name in DOCUMENTS}


def _check_for(target: Target):
    @schemathesis.check
    def no_crash(ctx, response, case):
        reason = crash_in(target.dialect, response.status_code, response.content or b"", poller(target))
        if reason is not None:
            raise AssertionError(
                f"{reason}: {case.method} {case.formatted_path} -> "
                f"{response.status_code} {(response.content or b'')[:300]!r}"
            )
        target.check_invariants()

    no_crash.__name__ = f"no_crash_{target.dialect}"
    return no_crash


CHECKS = {name: _check_for(target) for name, target in TARGETS.items()}
SCHEMAS = {name: schemathesis.openapi.from_wsgi(path, TARGETS[name].app) for name, path in DOCUMENTS.items()}


def _run(name: str, case) -> None:
    target = TARGETS[name]
    response = case.call(headers=target.headers())
    target.after(response)
    case.validate_response(
        response, checks=[CHECKS[name], response_schema_conformance, status_code_conformance]
    )


FUZZ = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@SCHEMAS["zstack"].parametrize()
@FUZZ
def test_zstack(case):
    _run("zstack", case)


@SCHEMAS["vsphere"].parametrize()
@FUZZ
def test_vsphere(case):
    _run("vsphere", case)


@SCHEMAS["instavm"].parametrize()
@FUZZ
def test_instavm(case):
    _run("instavm", case)


@SCHEMAS["admin"].parametrize()
@FUZZ
def test_admin(case):
    _run("admin", case)
