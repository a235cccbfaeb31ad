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
