"""The id generator's faster spellings draw and write exactly what the plain ones did."""

from hypothesis import given
from hypothesis import strategies as st

from fakestack.model.ids import _V4_BITS, _V4_MASK, IdGenerator


@given(st.integers(0, 2**32), st.integers(1, 20))
def test_a_uuid_is_its_draw_in_32_hex_digits(seed, draws):
    ids, twin = IdGenerator(seed), IdGenerator(seed)
    for _ in range(draws):
        assert ids.uuid() == f"{(twin._rng.getrandbits(128) & _V4_MASK) | _V4_BITS:032x}"


@given(st.integers(0, 2**32), st.integers(1, 8))
def test_hex_pairs_are_the_pairs_of_hex(seed, count):
    ids, twin = IdGenerator(seed), IdGenerator(seed)
    for _ in range(5):
        h = twin.hex(2 * count)
        assert ids.hex_pairs(count) == ":".join(h[i : i + 2] for i in range(0, 2 * count, 2))
