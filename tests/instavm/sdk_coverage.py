"""Which methods of the ``instavm`` SDK the fake serves: every public method of
``InstaVM`` and of its managers is called with placeholder arguments on a client whose
transport only records the request; each recorded ``(method, path)`` is looked up in the
InstaVM route table (and the app's prefixes).  A method is *served* when its request
reaches an InstaVM endpoint that is not a 501; *unsent* when it sends nothing (it works
on the client side, or refuses the placeholders before sending: a local file to upload,
at least one field to update).

Run as a script for the table: ``python tests/instavm/sdk_coverage.py``.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import sys
import warnings
from typing import Any
from urllib.parse import urlsplit

BASE = "http://fakestack.invalid"


class _Recorded(BaseException):  # not an Exception: the SDK retries and polls on those
    pass


def _placeholder(parameter: inspect.Parameter) -> Any:
    name = parameter.name
    if name in ("command", "code"):
        return "true"
    if name.endswith("_id") or name in (
        "slug",
        "path",
        "url",
        "name",
        "selector",
        "text",
        "value",
        "oci_image",
        "public_key",
        "mount_path",
        "domain",
        "kind",
        "host",
        "condition",
        "usage_type",
        "filename",
        "remote_path",
        "local_path",
        "file_path",
        "output_path",
        "dir_or_manifest",
    ):
        return "x1"
    if name in (
        "quota_bytes",
        "port",
        "key_id",
        "item_id",
        "domain_id",
        "from_step",
        "to_step",
        "at_step",
        "required_credits",
        "cols",
        "rows",
    ):
        return 1
    if name in ("env", "payload", "metadata"):
        return {"A": "b"}
    return "x1"


def methods(client) -> list[tuple[str, Any]]:
    """``(qualified name, bound method)`` for the client and each manager attribute."""
    out = []
    owners = [("InstaVM", client)] + [
        (name, value)
        for name, value in sorted(vars(client).items())
        if type(value).__module__.startswith("instavm") and name != "session"
    ]
    for owner_name, owner in owners:
        for name, _function in inspect.getmembers(type(owner), inspect.isfunction):
            if name.startswith("_"):
                continue
            label = name if owner_name == "InstaVM" else f"{owner_name}.{name}"
            out.append((label, getattr(owner, name)))
    return out


def requests_of(fn) -> list[tuple[str, str]]:
    """The requests ``fn`` sends (the first one ends the call)."""
    sent: list[tuple[str, str]] = []
    client = fn.__self__ if hasattr(fn.__self__, "session") else fn.__self__.client

    def record(method, url, **_kwargs):
        sent.append((method.upper(), urlsplit(url).path))
        raise _Recorded

    client.session.request = record
    client.session_id = "00000000-0000-4000-8000-000000000000"
    parameters = [p for p in inspect.signature(fn).parameters.values() if p.default is p.empty]
    args = [_placeholder(p) for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    kwargs = {p.name: _placeholder(p) for p in parameters if p.kind is p.KEYWORD_ONLY}
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")  # execute_streaming's deprecation
            result = fn(*args, **kwargs)
            if inspect.isgenerator(result):
                next(result, None)
    except _Recorded:
        pass
    except Exception:  # noqa: BLE001 - the SDK refused the placeholders before sending
        pass
    return sent


def classify(routes_module) -> dict[str, str]:
    """SDK method -> ``served`` | ``501`` | ``404`` | ``unsent``."""
    from instavm import InstaVM

    client = InstaVM(api_key="instavm_sk_fakestack", base_url=BASE, auto_start_session=False, max_retries=0)
    out = {}
    for label, fn in methods(client):
        sent = requests_of(fn)
        if not sent:
            out[label] = "unsent"
            continue
        method, path = sent[0]
        prefixes = routes_module.PREFIXES
        if not any(path == p or path.startswith(p.rstrip("/") + "/") for p in prefixes):
            out[label] = "404"
            continue
        match = routes_module.resolve(method, path)
        endpoint = match.target
        if endpoint is None:
            out[label] = "404"
        elif endpoint.handler == "not_implemented":
            out[label] = "501"
        else:
            out[label] = "served"
    return out


def main() -> int:
    from fakestack.dialects.instavm import routes

    table = classify(routes)
    for label, verdict in sorted(table.items()):
        print(f"{verdict:12} {label}")
    served = sum(v == "served" for v in table.values())
    print(
        f"served {served} of {len(table)} public SDK methods "
        f"({sum(v == 'unsent' for v in table.values())} send no request)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
