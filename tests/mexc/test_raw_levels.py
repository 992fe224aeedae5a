"""ws_stack.mexc.raw_levels: levels from raw encodings are the real schema's, or refused."""

from __future__ import annotations

from google.protobuf.message import DecodeError
from hypothesis import given
from hypothesis import strategies as st

from ws_stack.messages import Level, check_price, check_size
from ws_stack.mexc.proto.PublicAggreDepthsV3Api_pb2 import PublicAggreDepthV3ApiItem
from ws_stack.mexc.raw_levels import levels_from_raw

_NUMBER_BYTES = b"0123456789.eE+-"


def _raw_level(price: bytes, quantity: bytes) -> bytes:
    """The canonical encoding of a level (lengths below 128)."""
    return b"\n" + bytes([len(price)]) + price + b"\x12" + bytes([len(quantity)]) + quantity


def _reference_levels(items: list[bytes]) -> list[Level] | None:
    """What raw levels mean by definition: the real schema, float() and the bounds."""
    levels = []
    for item in items:
        try:
            parsed = PublicAggreDepthV3ApiItem.FromString(item)
            price, quantity = float(parsed.price), float(parsed.quantity)
            levels.append(Level(check_price(price), check_size(quantity)))
        except (DecodeError, ValueError):
            return None
    return levels


number_text = st.binary(min_size=1, max_size=24).map(
    lambda raw: bytes(_NUMBER_BYTES[b % len(_NUMBER_BYTES)] for b in raw)
)
canonical_level = st.builds(_raw_level, number_text, number_text)
long_number_text = st.integers(1, 60).map(lambda size: b"0." + b"0" * size + b"1")


@st.composite
def _mutated_level(draw: st.DrawFn) -> bytes:
    """A canonical level with one byte changed, inserted or removed, or two run together."""
    item = bytearray(draw(canonical_level))
    action = draw(st.sampled_from(["change", "insert", "delete", "append", "swap"]))
    at = draw(st.integers(0, len(item) - 1))
    byte = draw(st.sampled_from([0x0A, 0x12, 0x2C, 0x00, 0x30, 0x35, 0x2E, 0x92, 0xD9, 0x80]))
    if action == "change":
        item[at] = byte
    elif action == "insert":
        item.insert(at, byte)
    elif action == "delete":
        del item[at]
    elif action == "append":
        item += draw(canonical_level)
    else:  # quantity first, then price: valid protobuf, not canonical
        price_end = 2 + item[1]
        item = item[price_end:] + item[:price_end]
    return bytes(item)


@st.composite
def _resliced_levels(draw: st.DrawFn) -> list[bytes]:
    """Canonical levels joined, with separator-like bytes inserted, cut at random points:
    items whose bytes shift across the boundaries the fast path relies on."""
    separator_like = st.sampled_from([b",", b"\x12", b",\n", b"\n\x01", b"\x12\x01"])
    # Long number strings too: a "," (44) or a 0x0A (10) read as a length needs that many.
    piece = canonical_level | separator_like | long_number_text
    pieces = draw(st.lists(piece, max_size=6))
    joined = b"".join(pieces)
    cuts = sorted(draw(st.lists(st.integers(0, len(joined)), max_size=4)))
    return [joined[i:j] for i, j in zip([0, *cuts], [*cuts, len(joined)], strict=True)]


raw_level = canonical_level | _mutated_level() | st.binary(max_size=12)


def _check_raw_levels(asks: list[bytes], bids: list[bytes]) -> None:
    fast = levels_from_raw(asks, bids)
    if fast is not None:
        assert _reference_levels(asks) == fast[0]
        assert _reference_levels(bids) == fast[1]


@given(st.lists(raw_level, max_size=5), st.lists(raw_level, max_size=5))
def test_raw_levels_are_canonical_or_refused(asks: list[bytes], bids: list[bytes]) -> None:
    """Whatever bytes the view hands over, the fast path returns the real schema's levels
    or nothing (and the frame then takes the real schema's path)."""
    _check_raw_levels(asks, bids)


@given(_resliced_levels(), _resliced_levels())
def test_resliced_raw_levels_are_canonical_or_refused(asks, bids) -> None:
    _check_raw_levels(asks, bids)


def test_a_separator_read_as_a_length_is_refused() -> None:
    """A level ending in a bare quantity tag could take the separator after it as its
    length (44) and run into the next level, which then starts a level of its own at a
    "," + 0x0A inside it: the counts of tags alone do not notice."""
    number_44 = b"0." + b"0" * 41 + b"1"
    items = [b"\n\x015\x12", number_44 + b",\n\x017\x12\x011"]
    assert _reference_levels(items) is None
    assert levels_from_raw(items, []) is None


#: Decimal strings as venues write them (no exponent, no leading zero, no sign).
plain_decimal = st.from_regex(r"(0|[1-9][0-9]{0,13})(\.[0-9]{1,12})?", fullmatch=True).map(
    str.encode
)
plain_level = st.builds(_raw_level, plain_decimal, plain_decimal)


@given(st.lists(plain_level, max_size=5), st.lists(plain_level, max_size=5))
def test_plain_decimal_levels_take_the_fast_path(asks: list[bytes], bids: list[bytes]) -> None:
    fast = levels_from_raw(asks, bids)
    expected = (_reference_levels(asks), _reference_levels(bids))
    if fast is not None:
        assert fast == expected
    else:  # refused only for a price of 0 (out of bounds) or a length byte of 18
        assert None in expected or any(b"\n\x12" in i or b"\x12\x12" in i for i in asks + bids)
