"""One guarded JSON parse for every request body the fake reads (dialects and admin).

``json.loads`` alone lets through what later breaks the fake far from the boundary:

* nesting deep enough to raise ``RecursionError`` (in the parser, or later in pydantic,
  rendering or journaling), which is not a ``ValueError``;
* ``NaN``/``Infinity``/``-Infinity`` and numbers too large for a float (``1e400`` parses
  as ``inf``), which no JSON renderer can write back;
* unpaired UTF-16 surrogates (``"\\ud800"``, or the raw bytes ``ED A0 80``, which
  ``json.loads`` decodes with ``surrogatepass``), which cannot be encoded as UTF-8 once
  they are stored and rendered.

:func:`parse_json` refuses all of them with one :class:`JsonInputError` whose ``reason``
says which; each dialect renders it in its own shape (its parse error for ``not_json``
and ``too_deep``, its validation error for the others).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

# Deeper than any body a real client sends (vAPI structures nest a dozen levels), far
# below Python's recursion limit, so that nothing after the parse can recurse too deep.
MAX_DEPTH = 64

NOT_JSON = "not_json"
NOT_TEXT = "not_text"  # bytes that are not UTF-8/16/32 text at all
TOO_DEEP = "too_deep"
NON_FINITE = "non_finite"
SURROGATE = "surrogate"


class JsonInputError(ValueError):
    """A body the fake refuses.  ``reason``: one of ``not_json``, ``too_deep``,
    ``non_finite``, ``surrogate``; ``path``: where in the document (keys and indices,
    for ``non_finite``/``surrogate``); ``position``: the character offset of a syntax
    error, ``detail`` its short text (``Expecting value``); ``document``: the parsed
    value when the syntax was fine; ``value``: the refused value itself."""

    def __init__(
        self,
        reason: str,
        message: str,
        *,
        path: tuple = (),
        position: int = 0,
        document: Any = None,
        detail: str | None = None,
        value: Any = None,
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.path = path
        self.position = position
        self.document = document
        self.detail = detail or message
        self.value = value

    @property
    def unparsable(self) -> bool:
        """Is the body no JSON document at all (as opposed to one holding a bad value)?"""
        return self.reason in (NOT_JSON, NOT_TEXT, TOO_DEEP)


def has_surrogate(text: str) -> bool:
    """Does ``text`` hold a UTF-16 surrogate (which UTF-8 cannot encode)?"""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def escaped(text: str) -> str:
    """``text`` with its surrogates written as ``\\udXXX`` (safe to render)."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def parse_json(raw: bytes | str) -> Any:
    """The JSON document in ``raw``, or :class:`JsonInputError`."""
    checked = False
    source = raw
    if isinstance(raw, bytes) and raw.__class__ is bytes and _surely_checked(raw):
        # Bytes that are ASCII with no NUL are UTF-8 to ``json.loads``'s encoding detection
        # (no BOM, no UTF-16/32 zero bytes): decoded here, they skip it.
        checked = True
        source = raw.decode()
    try:
        document = json.loads(source)
    except json.JSONDecodeError as exc:
        raise JsonInputError(
            NOT_JSON,
            f"{exc.msg}: line {exc.lineno} column {exc.colno} (char {exc.pos})",
            position=exc.pos,
            detail=exc.msg,
        ) from None
    except RecursionError:
        raise JsonInputError(TOO_DEEP, f"the JSON nests deeper than {MAX_DEPTH} levels") from None
    except UnicodeDecodeError as exc:
        raise JsonInputError(NOT_TEXT, str(exc)) from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise JsonInputError(NOT_JSON, str(exc)) from None
    if not checked:
        check_document(document)
    return document


_EXPONENT = re.compile(rb"[0-9][eE]")


def _surely_checked(raw: bytes) -> bool:
    """Whether the document in ``raw`` passes ``check_document`` whatever it holds:
    ASCII with no NUL (so UTF-8: no UTF-16/32, and no encoded surrogate for
    ``surrogatepass`` to let through), no backslash (no escaped surrogate), no NaN or
    Infinity literal, no float that could overflow to infinity (that needs an exponent or
    309 digits), and no more brackets than the depth limit (each level opens one)."""
    return (
        len(raw) < 309
        and raw.isascii()
        and b"\x00" not in raw
        and b"\\" not in raw
        and b"NaN" not in raw
        and b"Infinity" not in raw
        and raw.count(b"[") + raw.count(b"{") <= MAX_DEPTH
        and _EXPONENT.search(raw) is None
    )


def check_document(document: Any) -> None:
    """Walk ``document`` (iteratively: it may be deep) and refuse what ``parse_json``
    refuses.  For values decoded by another parser (e.g. a query string turned into a
    structure)."""
    stack: list[tuple[Any, tuple, int]] = [(document, (), 1)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, str):
            if has_surrogate(value):
                raise JsonInputError(
                    SURROGATE,
                    f"[{'.'.join(map(str, path)) or 'body'}] holds an unpaired UTF-16 "
                    f"surrogate ({escaped(value)[:80]}), which is not Unicode text",
                    path=path,
                    document=document,
                    value=value,
                )
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise JsonInputError(
                    NON_FINITE,
                    f"[{'.'.join(map(str, path)) or 'body'}] is {value}: JSON numbers must be finite",
                    path=path,
                    document=document,
                    value=value,
                )
        elif isinstance(value, (dict, list)):
            if depth > MAX_DEPTH:
                raise JsonInputError(TOO_DEEP, f"the JSON nests deeper than {MAX_DEPTH} levels")
            if isinstance(value, dict):
                for key, item in value.items():
                    if has_surrogate(key):
                        raise JsonInputError(
                            SURROGATE,
                            f"a key at [{'.'.join(map(str, path)) or 'body'}] holds an "
                            f"unpaired UTF-16 surrogate ({escaped(key)[:80]}), which is not "
                            "Unicode text",
                            path=path + (key,),
                            document=document,
                            value=key,
                        )
                    stack.append((item, path + (key,), depth + 1))
            else:
                for index, item in enumerate(value):
                    stack.append((item, path + (index,), depth + 1))
