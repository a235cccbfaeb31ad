"""Endpoint handlers (wired onto the model once it lands)."""
from __future__ import annotations

from .wire import HttpError


class Handlers:
    def __init__(self, cloud) -> None:
        self.cloud = cloud

    def __getattr__(self, name: str):
        def pending(call):
            raise HttpError(501, f"{call.request.method} {call.request.path} is not implemented by fakestack")

        return pending
