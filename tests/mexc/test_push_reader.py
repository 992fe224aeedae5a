"""The compiled MEXC push reader against its reference, :mod:`ws_stack.mexc.push`.

On every input the compiled ``parse_push`` must give what the reference gives: the same
messages (compared as MessagePack, so float bits and types count) or the same
:class:`FrameError`. The reader settles the frames MEXC sends in C; the tests check that
it does (``read_push`` is not ``None``), so that equality is not won by handing every
frame to the reference. Hostile input (truncations, lengths past the end, long varints,
mutations) must never crash it. ``tests/reliability/fuzz_push_reader.py`` fuzzes the same
comparison with atheris.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ws_stack import implementation
from ws_stack.exceptions import FrameError
from ws_stack.messages import Side
from ws_stack.mexc import encoder, push
from ws_stack.mexc.encoder import Deal

from .cases import BAD_FILE, GOOD_FILE, SYMBOL, T0, read_frames

compiled: ModuleType | None = implementation.compiled("ws_stack.mexc._push_reader")
pytestmark = pytest.mark.skipif(
    compiled is None, reason="the compiled push reader is not built (pure Python install)"
)

_encode = msgspec.msgpack.encode


def outcome(parse: Callable[[bytes], object], frame: bytes) -> object:
    """What ``parse(frame)`` gives: its messages' exact encoding, or its error."""
    try:
        return _encode(parse(frame))
    except FrameError as exc:
        return (exc.reason, str(exc))


def assert_same(frame: bytes) -> None:
    assert compiled is not None
    assert outcome(compiled.parse_push, frame) == outcome(push.parse_push, frame), frame


def assert_settled(frame: bytes) -> None:
    """Equal to the reference, and read in C rather than handed over."""
    assert compiled is not None
    assert compiled.read_push(frame) is not None, frame
    assert_same(frame)


# -- wire format by hand ---------------------------------------------------------------


def varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def field(number: int, wire_type: int, payload: bytes) -> bytes:
    """A field: its tag, then ``payload`` (with a length first for wire type 2)."""
    head = varint(number << 3 | wire_type)
    return head + (varint(len(payload)) + payload if wire_type == 2 else payload)


def text(number: int, value: str | bytes) -> bytes:
    return field(number, 2, value.encode() if isinstance(value, str) else value)


def level(price: str | bytes, quantity: str | bytes) -> bytes:
    return text(1, price) + text(2, quantity)


def depth_body(*parts: bytes, versions: tuple[str, str] = ("5", "6")) -> bytes:
    return b"".join(parts) + text(4, versions[0]) + text(5, versions[1])


def wrapper(body_field: int, body: bytes, *extra: bytes, symbol: str = SYMBOL) -> bytes:
    return (
        text(1, f"spot@public.aggre.depth.v3.api.pb@100ms@{symbol}")
        + field(body_field, 2, body)
        + (text(3, symbol) if symbol else b"")
        + field(6, 0, varint(T0))
        + b"".join(extra)
    )


ASKS, BIDS = 1, 2
AGGRE_DEPTH = 313
#: Prices the reader hands over: not plain decimals, or outside (0, 1e15).
NOT_PLAIN_OR_OUT_OF_BOUNDS = [
    *["", ".", "1..2", "-1", "+1", " 1", "1_0", "1e3", "nan", "inf", "\u0661"],
    *["0", "0.0", "1" * 16, "1" * 25, "0." + "0" * 30 + "1", "1" * 70, "9" * 15 + ".5"],
]


def real_frames() -> list[bytes]:
    """One frame of every body, and the fixture frames (good and bad)."""
    frames = [
        encoder.encode_depth(SYMBOL, [("50000.1", "1.5")], [("50001.2", "0.3")], 5, 6),
        encoder.encode_depth(
            SYMBOL, [(f"5000{i}.1", "1.5") for i in range(5)], [("1000", "0")], 5, 9
        ),
        encoder.encode_increase_depth(SYMBOL, [("1.5", "2")], [("1.6", "0")], 7),
        encoder.encode_limit_depth(
            SYMBOL, [(f"{100 - i}.25", "3") for i in range(20)], [("101", "1")], 11
        ),
        encoder.encode_deals(
            SYMBOL, [Deal("1.5", "2", Side.BUY, T0), Deal("1.25", "0.5", Side.SELL, T0 + 1)]
        ),
        encoder.encode_deals(
            SYMBOL, [Deal("1.5", "2", Side.BUY, T0, trade_id="7-9")], aggregated=False
        ),
        encoder.encode_book_ticker(SYMBOL, "1", "2", "3", "4", version="12345"),
    ]
    for path in (GOOD_FILE, BAD_FILE):
        frames += [r.data for r in read_frames(path) if isinstance(r.data, bytes)]
    return frames


REAL = real_frames()


@pytest.mark.parametrize("frame", REAL[:7])
def test_every_body_is_read_in_c(frame: bytes) -> None:
    assert_settled(frame)


@pytest.mark.parametrize("frame", REAL[7:])
def test_fixture_frames_give_what_the_reference_gives(frame: bytes) -> None:
    assert_same(frame)


def test_the_handler_path_uses_the_compiled_reader() -> None:
    from ws_stack.mexc import decoder

    assert compiled is not None
    assert decoder.parse_push is compiled.parse_push


# -- protobuf semantics the schema follows ---------------------------------------------


def test_fields_in_any_order_and_last_value_wins() -> None:
    body = text(5, "9") + text(BIDS, text(2, "3") + text(1, "1.5") + text(1, "2.5")) + text(4, "8")
    frame = field(AGGRE_DEPTH, 2, body) + text(3, "XUSDT") + text(3, SYMBOL) + text(1, "ch")
    assert_settled(frame)
    update = compiled.read_push(frame)  # type: ignore[union-attr]
    assert (update.symbol, update.bids[0].price, update.first_update_id) == (SYMBOL, 2.5, 8)


@pytest.mark.parametrize(
    "unknown",
    [
        field(77, 0, varint(2**63)),  # varint
        field(77, 1, b"\x01" * 8),  # 64-bit
        field(77, 2, b"\xff\x00 anything"),  # length-delimited, not UTF-8: not a string
        field(77, 5, b"\x01" * 4),  # 32-bit
    ],
    ids=["varint", "i64", "len", "i32"],
)
def test_unknown_fields_of_every_wire_type_are_skipped(unknown: bytes) -> None:
    assert_settled(wrapper(AGGRE_DEPTH, depth_body(text(BIDS, level("1", "2") + unknown))))
    assert_settled(wrapper(AGGRE_DEPTH, depth_body(text(BIDS, level("1", "2")), unknown)))
    assert_settled(wrapper(AGGRE_DEPTH, depth_body(text(BIDS, level("1", "2"))), unknown))


@pytest.mark.parametrize(
    "frame",
    [
        # a group (start and end), unknown: the reference decides
        wrapper(AGGRE_DEPTH, depth_body()) + varint(77 << 3 | 3) + varint(77 << 3 | 4),
        wrapper(AGGRE_DEPTH, depth_body()) + varint(77 << 3 | 4),
        # the body twice (protobuf merges them), or two different bodies (the last wins)
        wrapper(AGGRE_DEPTH, depth_body(text(BIDS, level("1", "2"))))
        + field(AGGRE_DEPTH, 2, depth_body(text(ASKS, level("3", "4")))),
        wrapper(AGGRE_DEPTH, depth_body()) + field(315, 2, text(1, "1")),
        # a known field with another wire type
        wrapper(AGGRE_DEPTH, depth_body()) + field(3, 0, varint(1)),
        wrapper(AGGRE_DEPTH, depth_body(text(BIDS, field(1, 0, varint(5))))),
        # invalid UTF-8 in a string the frame carries, used or not
        wrapper(AGGRE_DEPTH, depth_body()) + text(4, b"\xff\xfe"),
        wrapper(AGGRE_DEPTH, depth_body(text(3, b"\xc3\x28"))),
        wrapper(AGGRE_DEPTH, depth_body(text(BIDS, level(b"1\xe2\x82", "2")))),
        wrapper(AGGRE_DEPTH, depth_body(text(BIDS, level("1", "2")))) + text(3, "\u20acUSDT"),
        # numbers that are not plain decimals, or out of bounds
        *[
            wrapper(AGGRE_DEPTH, depth_body(text(BIDS, level(price, "2"))))
            for price in NOT_PLAIN_OR_OUT_OF_BOUNDS
        ],
        # versions that are not 1 to 18 digits
        *[
            wrapper(AGGRE_DEPTH, depth_body(versions=(first, "6")))
            for first in ["", "-1", "1" * 19, " 5", "5x"]
        ],
        # no symbol anywhere, a trade side that is neither 1 nor 2, 2**32 + 1 as int32
        field(AGGRE_DEPTH, 2, depth_body()),
        wrapper(314, text(1, text(1, "1") + text(2, "2") + field(3, 0, varint(3)))),
        wrapper(314, text(1, text(1, "1") + text(2, "2") + field(3, 0, varint(2**32 + 1)))),
        # no body at all, and an empty frame
        text(1, "spot@public.kline.v3.api.pb@BTCUSDT@Min1"),
        b"",
    ],
)
def test_frames_the_reader_leaves_to_the_reference(frame: bytes) -> None:
    assert_same(frame)


@pytest.mark.parametrize(
    ("price", "expected"),
    [
        ("1.", 1.0),
        (".5", 0.5),
        ("007.50", 7.5),
        ("0.1", 0.1),
        ("0.9007199254740993", 0.9007199254740993),  # 17 digits: CPython's conversion
        ("0.30000000000000004", 0.30000000000000004),
        ("123456.0000000000000000000001", 123456.0),  # 34 digits: CPython's conversion
    ],
)
def test_plain_decimals_convert_as_float_does(price: str, expected: float) -> None:
    frame = wrapper(AGGRE_DEPTH, depth_body(text(BIDS, level(price, "1"))))
    assert_settled(frame)
    assert compiled.read_push(frame).bids[0].price == expected == float(price)  # type: ignore[union-attr]


@settings(max_examples=400, deadline=None)
@given(
    st.from_regex(r"\A[0-9]{0,20}(\.[0-9]{0,25})?\Z"),
    st.from_regex(r"\A[0-9]{0,20}(\.[0-9]{0,25})?\Z"),
)
def test_any_digit_string_gives_what_the_reference_gives(price: str, quantity: str) -> None:
    assert_same(wrapper(AGGRE_DEPTH, depth_body(text(ASKS, level(price, quantity)))))
    assert_same(wrapper(315, text(1, price) + text(2, quantity) + text(3, "1") + text(4, "1")))


# -- hostile input ---------------------------------------------------------------------


@pytest.mark.parametrize("frame", REAL[:7])
def test_every_truncation_gives_what_the_reference_gives(frame: bytes) -> None:
    for end in range(len(frame)):
        assert_same(frame[:end])


@pytest.mark.parametrize(
    "frame",
    [
        varint(1 << 3 | 2) + b"\xff" * 9 + b"\x01",  # a 10-byte length: far past the end
        varint(1 << 3 | 2) + b"\xff" * 10 + b"\x01",  # an 11-byte varint
        varint(6 << 3) + b"\xff" * 9 + b"\x01",  # a 10-byte varint, the largest
        varint(6 << 3) + b"\xff" * 9 + b"\x02",  # its 10th byte above 1
        varint(6 << 3) + b"\x80" * 5,  # truncated
        b"\xff" * 6 + b"\x0f",  # a tag past 32 bits
        b"\x00",  # field 0
        wrapper(AGGRE_DEPTH, depth_body(text(BIDS, level("1", "2")) * 20000)),  # many levels
        wrapper(AGGRE_DEPTH, depth_body()).replace(varint(AGGRE_DEPTH << 3 | 2), b"\xea\x13\x7f"),
    ],
)
def test_lengths_and_varints_past_the_end(frame: bytes) -> None:
    assert_same(frame)


_mutation = st.tuples(
    st.sampled_from(["flip", "insert", "delete"]),
    st.integers(0, 10_000),
    st.binary(min_size=1, max_size=4),
)


def mutate(frame: bytes, edits: list[tuple[str, int, bytes]]) -> bytes:
    data = bytearray(frame)
    for kind, where, payload in edits:
        at = where % (len(data) + 1)
        if kind == "flip" and data:
            data[at % len(data)] ^= payload[0]
        elif kind == "insert":
            data[at:at] = payload
        else:
            del data[at : at + len(payload)]
    return bytes(data)


@settings(max_examples=1500, deadline=None)
@given(st.sampled_from(REAL), st.lists(_mutation, min_size=1, max_size=4))
def test_mutated_real_frames_give_what_the_reference_gives(
    frame: bytes, edits: list[tuple[str, int, bytes]]
) -> None:
    assert_same(mutate(frame, edits))


def test_frames_that_are_not_bytes_go_to_the_reference() -> None:
    frame = REAL[0]
    assert compiled is not None
    assert compiled.read_push(bytearray(frame)) is None
    assert compiled.read_push(memoryview(frame)) is None
    assert _encode(compiled.parse_push(bytearray(frame))) == _encode(push.parse_push(frame))  # type: ignore[arg-type]


def test_a_symbol_read_again_is_the_same_str_past_the_table_too() -> None:
    """The reader keeps the symbols it decoded (ws_stack/_texts.pxd): a symbol read again
    is the same str object (the fixtures' symbol, kept since the process's first frames:
    the table keeps the first 1,024 symbols it sees); past the table's room, and for every
    symbol, the message is still the reference's."""
    assert compiled is not None
    frame = encoder.encode_depth(SYMBOL, [("1.5", "2")], [], 1, 2)
    first, again = (compiled.parse_push(frame) for _ in range(2))
    assert first.symbol == SYMBOL and first.symbol is again.symbol
    for index in range(1_500):
        assert_settled(encoder.encode_depth(f"S{index}USDT", [("1.5", "2")], [], 1, 2))
