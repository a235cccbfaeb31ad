"""A topology from a document known to be valid (a built-in preset's), built without
pydantic's validation.

Validating a ``Topology`` the first time builds pydantic's validator for the whole schema,
and the first validator a process builds also makes pydantic look for plugins in every
installed distribution's metadata: together they cost more than everything else
``fakestack serve`` does before its first answer.  A preset's document is ours and valid,
so it does not need checking, only what validating would add to it:

* the defaults (``model_construct``), nested models included (``settings``);
* what the fields' before-validators do (sizes such as ``"40G"``, kinds by a taught
  spelling), and an integer given for a float field made a float, as lax validation does;
* a fresh copy of every list and dict (validating copies: the cached document is never
  shared with the topologies made from it);
* the models' after-validators (an l3 network's default gateway), run as validating would.

``tests/model/test_topology.py`` checks that every preset comes out equal to its validated
document, field by field and in its JSON dump.  A user's topology (a file, a dict) is always
validated.
"""

from __future__ import annotations

import types
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, BeforeValidator
from pydantic.fields import FieldInfo

M = TypeVar("M", bound=BaseModel)


def construct(cls: type[M], data: dict[str, Any]) -> M:
    """``cls`` holding ``data`` as validating it would, without validating it."""
    values: dict[str, Any] = {}
    for name, info in cls.model_fields.items():
        if name in data:
            values[name] = _value(info, data[name])
        else:
            model = _model_class(info.annotation)
            if model is not None and info.default_factory in (model,):
                # The default is a new model: made by construction too (the factory
                # would validate, building the validator this module avoids).
                values[name] = construct(model, {})
    made = cls.model_construct(_fields_set=set(data) & set(cls.model_fields), **values)
    for decorator in cls.__pydantic_decorators__.model_validators.values():
        if decorator.info.mode == "after":
            made = decorator.func(made)
    return made


def _value(info: FieldInfo, value: Any) -> Any:
    annotation = info.annotation
    for check in (*info.metadata, *_inner_metadata(annotation)):
        if isinstance(check, BeforeValidator) and value is not None:
            value = check.func(value)  # type: ignore[call-arg]  # ours take no info
    return _typed(annotation, value)


def _typed(annotation: Any, value: Any) -> Any:
    if value is None:
        return None
    model = _model_class(annotation)
    if model is not None:
        return construct(model, value)
    origin = get_origin(annotation)
    if origin is list:
        (item,) = get_args(annotation) or (Any,)
        return [_typed(item, v) for v in value]
    if origin is dict:
        _, item = get_args(annotation) or (Any, Any)
        return {k: _typed(item, v) for k, v in value.items()}
    if origin in (Union, types.UnionType):
        arms = [a for a in get_args(annotation) if a is not type(None)]
        return _typed(arms[0], value) if len(arms) == 1 else value
    if origin is Annotated:
        return _typed(get_args(annotation)[0], value)
    if annotation is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


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
