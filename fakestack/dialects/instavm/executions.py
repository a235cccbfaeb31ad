"""Code execution with a handler the test registers: the fake runs no code.

``on_execute(cloud, fn)`` registers ``fn`` for every ``POST /execute`` and
``/execute_async`` served for ``cloud`` (``None`` removes it).  ``fn(command)`` answers
with what the command printed, either a string (stdout, exit code 0) or a dict with any
of ``stdout``, ``stderr``, ``exit_code`` and ``duration`` (seconds of the cloud's
clock the execution takes; default 0).  ``fn`` may also take any of the keyword
arguments ``language``, ``session_id``, ``vm_id`` and ``timeout`` (what the request
said, and the VM it runs on).  An exception raised by ``fn`` is the command's failure:
its text on stderr, exit code 1.

Handlers are Python callables, so they are not part of ``cloud.snapshot()``; they stay
registered across ``cloud.reset()`` and ``load_snapshot`` (the same cloud object).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

CONTEXT_ARGUMENTS = ("language", "session_id", "vm_id", "timeout")

REGISTER_HINT = (
    "fakestack runs no code: register a handler with "
    "fakestack.instavm.on_execute(cloud, fn), fn(command) -> stdout"
)


@dataclass(frozen=True)
class Output:
    stdout: str = ""
    stderr: str = ""
    exit_code: int = 0
    duration: float = 0.0


@dataclass(frozen=True)
class _Handler:
    fn: Callable[..., Any]
    context: tuple[str, ...]  # the context keywords fn accepts


_HANDLERS: WeakKeyDictionary = WeakKeyDictionary()


def on_execute(cloud: Any, fn: Callable[..., Any] | None) -> Callable[..., Any] | None:
    """Register ``fn`` as the cloud's execution handler (``None``: remove it); returns
    the handler it replaces."""
    previous = _HANDLERS.pop(cloud, None)
    if fn is not None:
        if not callable(fn):
            raise TypeError(f"an execution handler must be callable, not {type(fn).__name__}")
        _HANDLERS[cloud] = _Handler(fn, _accepted_context(fn))
    return previous.fn if previous is not None else None


def handler_for(cloud: Any) -> _Handler | None:
    return _HANDLERS.get(cloud)


def _accepted_context(fn: Callable[..., Any]) -> tuple[str, ...]:
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):  # a builtin without a signature: the command only
        return ()
    if any(p.kind is p.VAR_KEYWORD for p in parameters):
        return CONTEXT_ARGUMENTS
    names = {p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    return tuple(name for name in CONTEXT_ARGUMENTS if name in names)


def run(handler: _Handler, command: str, context: dict[str, Any]) -> Output:
    """Call the handler; its answer (or its exception) as an ``Output``."""
    kwargs = {name: context.get(name) for name in handler.context}
    try:
        answer = handler.fn(command, **kwargs)
        return _output(answer)
    except Exception as exc:  # the command failed: what the agent loop sees
        return Output(stderr=f"{type(exc).__name__}: {exc}", exit_code=1)


def _output(answer: Any) -> Output:
    if answer is None:
        return Output()
    if isinstance(answer, (bytes, bytearray)):
        answer = bytes(answer).decode("utf-8", errors="replace")
    if isinstance(answer, str):
        return Output(stdout=answer)
    if isinstance(answer, dict):
        unknown = sorted(set(answer) - {"stdout", "stderr", "exit_code", "duration"})
        if unknown:
            raise ValueError(f"execution handler answered unknown keys {unknown}")
        duration = float(answer.get("duration") or 0.0)
        if duration < 0:
            raise ValueError("execution handler answered a negative duration")
        return Output(
            stdout=str(answer.get("stdout") or ""),
            stderr=str(answer.get("stderr") or ""),
            exit_code=int(answer.get("exit_code") or 0),
            duration=duration,
        )
    raise TypeError(f"execution handler answered {type(answer).__name__}: give a str or a dict")
