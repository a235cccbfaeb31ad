"""API keys: ``X-API-Key: <key>`` (what the SDK sends) or ``Authorization: Bearer <key>``.

Keys are configured per cloud in ``cloud.dialect_state("instavm")["api_keys"]``; a cloud
that configures none accepts ``DEFAULT_API_KEY``.
"""

from __future__ import annotations

from collections.abc import Iterable

from .errors import invalid_api_key, not_authenticated

DEFAULT_API_KEY = "instavm_sk_fakestack"


def configured_keys(state: dict) -> list[str]:
    keys = state.get("api_keys")
    if not keys:
        return [DEFAULT_API_KEY]
    return [str(k) for k in keys]


def presented_keys(headers) -> list[str]:
    keys = []
    api_key = headers.get("X-API-Key")
    if api_key:
        keys.append(api_key.strip())
    authorization = headers.get("Authorization") or ""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        keys.append(token.strip())
    return keys


def check_key(presented: Iterable[str], allowed: list[str]) -> None:
    presented = [k for k in presented if k]
    if not presented:
        raise not_authenticated()
    if not any(key in allowed for key in presented):
        raise invalid_api_key()
