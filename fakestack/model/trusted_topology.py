"""A topology from a document known to be valid (a built-in preset's), built without
pydantic's validation.

Validating a ``Topology`` the first time builds pydantic's validator for the whole schema,
and the first validator a process builds also makes pydantic look for plugins in every
installed distribution's metadata: together they cost more than everything else
``fakestack serve`` does before its first answer.  A preset's document is ours and valid,
so it does not need checking, only what validating would add to it:

* the defaults, nested models included (``settings``);
* what the fields' before-validators do (sizes such as ``"40G"``, kinds by a taught
  spelling), and an integer given for a float field made a float, as lax validation does;
* a fresh copy of every list and dict (validating copies: the cached document is never
  shared with the topologies made from it);
* the models' after-validators (an l3 network's default gateway), run as validating would.

Once the process has built the validator anyway (a user's topology, a restored snapshot),
validating is the quicker of the two, and ``trusted`` validates.
``tests/model/test_trusted_topology.py`` checks that both ways give equal topologies, for
every preset and for any drawn document.  A user's topology (a file, a dict) is always
validated.
"""

from __future__ import annotations

import copy
import types
from collections.abc import Callable
from functools import cache
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, BeforeValidator
from pydantic.fields import FieldInfo

M = TypeVar("M", bound=BaseModel)

Convert = Callable[[Any], Any]


def trusted(cls: type[M], data: dict[str, Any]) -> M:
    """``cls`` holding ``data`` (valid): validated when ``cls``'s validator exists,
    else constructed."""
    if cls.__pydantic_complete__:
        return cls.model_validate(data)
    return construct(cls, data)


def construct(cls: type[M], data: dict[str, Any]) -> M:
    """``cls`` holding ``data`` as validating it would, without validating it."""
    values: dict[str, Any] = {}
    for name, convert, default in _fields(cls):
        if name in data:
            values[name] = convert(data[name])
        else:
            values[name] = default()
    made = cls.model_construct(_fields_set={name for name in data if name in values}, **values)
    for after in _after_validators(cls):
        made = after(made)
    return made


@cache
def _fields(cls: type[BaseModel]) -> tuple[tuple[str, Convert, Callable[[], Any]], ...]:
    """Per field: its name, what turns a document's value into the field's, and its default."""
    return tuple((name, _converter(info), _default(info)) for name, info in cls.model_fields.items())


@cache
def _after_validators(cls: type[BaseModel]) -> tuple[Callable[[Any], Any], ...]:
    decorators = cls.__pydantic_decorators__.model_validators.values()
    return tuple(d.func for d in decorators if d.info.mode == "after")


def _default(info: FieldInfo) -> Callable[[], Any]:
    factory = info.default_factory
    if factory is None:
        default = info.default
        return lambda: copy.deepcopy(default)
    model = _model_class(info.annotation)
    if model is not None and factory in (model,):
        # A new model: made by construction too (the factory would validate).
        return lambda: construct(model, {})
    return factory  # type: ignore[return-value]  # ours take no validated data


def _converter(info: FieldInfo) -> Convert:
    before = [
        c.func for c in (*info.metadata, *_inner_metadata(info.annotation)) if isinstance(c, BeforeValidator)
    ]
    typed = _typed(info.annotation)
    if not before:
        return typed

    def convert(value: Any) -> Any:
        if value is not None:
            for func in before:
                value = func(value)  # type: ignore[call-arg]  # ours take no info
        return typed(value)

    return convert


def _typed(annotation: Any) -> Convert:
    """What validating does to a valid value of ``annotation``: nested models made, lists
    and dicts copied, an integer for a float made a float."""
    model = _model_class(annotation)
    if model is not None:
        return lambda value: None if value is None else construct(model, value)
    origin = get_origin(annotation)
    if origin is list:
        (item,) = get_args(annotation) or (Any,)
        each = _typed(item)
        return lambda value: None if value is None else [each(v) for v in value]
    if origin is dict:
        _, item = get_args(annotation) or (Any, Any)
        each = _typed(item)
        return lambda value: None if value is None else {k: each(v) for k, v in value.items()}
    if origin in (Union, types.UnionType):
        arms = [a for a in get_args(annotation) if a is not type(None)]
        return _typed(arms[0]) if len(arms) == 1 else _unchanged
    if origin is Annotated:
        return _typed(get_args(annotation)[0])
    if annotation is float:
        return _float
    return _unchanged


def _unchanged(value: Any) -> Any:
    return value


def _float(value: Any) -> Any:
    return float(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _model_class(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _inner_metadata(annotation: Any) -> tuple[Any, ...]:
    """The metadata of ``Annotated[...]`` inside ``X | None`` (pydantic lifts only the
    outermost ``Annotated`` into ``FieldInfo.metadata``)."""
    if get_origin(annotation) in (Union, types.UnionType):
        for arm in get_args(annotation):
            if get_origin(arm) is Annotated:
                return tuple(get_args(arm)[1:])
    return ()
