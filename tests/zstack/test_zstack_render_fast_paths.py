"""Spellings the renderers use for speed give what the plain ones give."""

import ipaddress

from hypothesis import given
from hypothesis import strategies as st

from fakestack.dialects.zstack.render import _ip_in_long

OCTETS = st.one_of(
    st.integers(0, 255).map(str),
    st.sampled_from(["00", "01", "001", "256", "999", "-1", "+1", " 1", "1 ", "", "٣", "0x1", "1e1"]),
)


@given(st.lists(OCTETS, min_size=3, max_size=5).map(".".join) | st.text(max_size=16))
def test_an_ip_reads_as_ipaddress_reads_it(text):
    try:
        expected = int(ipaddress.IPv4Address(text))
    except ValueError as exc:
        expected = type(exc)
    _ip_in_long.cache_clear()
    try:
        got = _ip_in_long(text)
    except ValueError as exc:
        got = type(exc)
    assert got == expected


def _reference_validate(api, fields):
    """``params.validate`` as it was written before its plan: every parameter, every time."""
    from fakestack.dialects.zstack.params import V4_UUID, _default, _range, invalid_argument, java_text

    message = api["message"]
    out = dict(fields)
    resource_uuid = out.get("resourceUuid")
    if resource_uuid is not None and not V4_UUID.match(str(resource_uuid)):
        raise invalid_argument(
            f"resourceUuid[{resource_uuid}] is not a valid uuid. A valid uuid is a UUID(v4 recommended) "
            "with '-' stripped, matching [0-9a-f]{8}[0-9a-f]{4}[1-5][0-9a-f]{3}[89ab][0-9a-f]{3}[0-9a-f]{12}"
        )
    for spec in api.get("params", ()):
        name = spec["name"]
        value = out.get(name)
        if value is None:
            if spec.get("required"):
                raise invalid_argument(f"field[{name}] of message[{message}] is mandatory, can not be null")
            if "default" in spec:
                out[name] = _default(spec)
            continue
        valid = spec.get("validValues")
        if valid and str(value) not in valid:
            raise invalid_argument(
                f"valid value for field[{name}] of message[{message}] are [{', '.join(valid)}], "
                f"but {java_text(value)} found"
            )
        if spec.get("nonempty") and isinstance(value, (list, dict)) and not value:
            raise invalid_argument(f"field[{name}] must be a nonempty list")
        limit = spec.get("maxLength")
        if limit and isinstance(value, str) and len(value) > limit:
            raise invalid_argument(
                f"field[{name}] of message[{message}] exceeds max length of string. "
                f"expected was <= {limit}, actual was {len(value)}"
            )
        if spec.get("numberRange") and isinstance(value, int) and not isinstance(value, bool):
            low, high = _range(spec["numberRange"])
            if not low <= value <= high:
                raise invalid_argument(f"field[{name}] must be in range of [{low}, {high}]")
    return out


VALUES = st.one_of(
    st.none(),
    st.sampled_from(
        ["", "x", "x" * 300, "InstantStart", "true", [], [1], {}, 0, -1, 10**12, True, 1.5, "a" * 33]
    ),
)


@given(st.data())
def test_validation_with_its_plan_answers_as_every_parameter_checked(data):
    """The plan skips parameters that ask nothing; the first failing parameter, the
    defaults and the result are what checking every parameter in order gives."""
    from fakestack.dialects.zstack.catalog import APIS
    from fakestack.dialects.zstack.params import validate

    api = APIS[data.draw(st.sampled_from(sorted(APIS)))]
    names = [p["name"] for p in api.get("params", ())]
    fields = data.draw(st.dictionaries(st.sampled_from(names) if names else st.just("x"), VALUES, max_size=6))

    def outcome(check):
        try:
            return check(api, fields)
        except Exception as exc:  # the first refusal, as the client would read it
            error = getattr(exc, "error", None)
            return type(exc).__name__, error.to_dict() if error is not None else str(exc)

    assert outcome(validate) == outcome(_reference_validate)
