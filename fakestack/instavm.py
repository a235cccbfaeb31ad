"""What a test may use of the InstaVM dialect directly: ``on_execute(cloud, fn)`` registers
the function that answers ``/execute`` and ``/execute_async`` (the fake runs no code).
See ``fakestack.dialects.instavm.executions``."""

from __future__ import annotations

from .dialects.instavm.executions import Output, on_execute

__all__ = ["Output", "on_execute"]
