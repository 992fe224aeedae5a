"""The compiled twin ws_stack.gateio._updates against its references, decoder.parse_update
and GateioHandler._parse, side by side in one process: on every frame, the same message
(equal structs, compared as MessagePack so that floats compare bit for bit) or the same
``None``, and through the handler the same messages and the same errors."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ws_stack import implementation
from ws_stack.exceptions import FrameError
from ws_stack.gateio import GateioHandler, decoder
from ws_stack.gateio import encoder as gate_encoder
from ws_stack.messages import Level, Side

from .cases import bad_frames, good_frames

_twin = implementation.compiled("ws_stack.gateio._updates")
pytestmark = pytest.mark.skipif(
    _twin is None,
    reason="ws_stack.gateio._updates is not built (no C compiler, or WS_STACK_NO_EXTENSIONS set)",
)

REFERENCE = decoder._reference_parse_update


def _encode(message: object) -> object:
    """A message as MessagePack, so that floats compare bit for bit; its repr (exact for
    floats too) where an integer is past MessagePack's 64 bits, which JSON allows."""
    try:
        return msgspec.msgpack.encode(message)
    except (msgspec.EncodeError, OverflowError):
        return repr(message)


def _same(frame: bytes | str) -> None:
    """The twin's answer is the reference's: equal messages bit for bit, or both None."""
    assert _twin is not None
    expected, got = REFERENCE(frame), _twin.parse_update(frame)
    assert type(got) is type(expected)
    assert _encode(got) == _encode(expected)


def _fixture_frames() -> list[bytes | str]:
    return [fixture.frame for fixture in good_frames() + bad_frames()]


def _pushes() -> list[str]:
    """One push of every update channel, as ws_stack's encoder (and Gate) writes them."""
    bids, asks = [Level(50_000.5, 1.25)], [Level(50_001.0, 0.5), Level(50_002.0, 0.0)]
    time_ms = 1_700_000_000_123
    return [
        gate_encoder.encode_trade("BTC_USDT", 50_000.5, 0.001, Side.SELL, time_ms + 0.25, 7),
        gate_encoder.encode_book_ticker("BTC_USDT", 50_000.5, 1.0, 50_001.0, 2.0, 99, time_ms),
        gate_encoder.encode_order_book_update("BTC_USDT", bids, asks, 10, 12, time_ms),
        gate_encoder.encode_order_book("BTC_USDT", bids, asks, 12, time_ms),
        gate_encoder.encode_obu("BTC_USDT", 50, bids, asks, 12, time_ms, first_id=11),
        gate_encoder.encode_obu("BTC_USDT", 50, bids, asks, 12, time_ms, full=True),
    ]


def test_every_fixture_frame_gives_the_references_answer() -> None:
    frames = _fixture_frames()
    assert len(frames) > 20
    for frame in frames:
        _same(frame)
        if isinstance(frame, str):
            _same(frame.encode())


def test_every_update_channel_is_made_in_the_twin() -> None:
    # The five channels' pushes come out as messages, not None: the test above cannot pass
    # by the twin answering None where the reference does too.
    for frame in _pushes():
        assert REFERENCE(frame) is not None
        _same(frame)
        _same(frame.encode())


def test_optional_fields_absent_or_null() -> None:
    for frame in _pushes():
        envelope = json.loads(frame)
        for key in list(envelope["result"]):
            if key in ("b", "a", "bids", "asks", "t", "full", "U"):
                dropped = {**envelope, "result": dict(envelope["result"])}
                del dropped["result"][key]
                _same(json.dumps(dropped))
                nulled = {**envelope, "result": {**envelope["result"], key: None}}
                _same(json.dumps(nulled))


def test_frames_whose_marker_misleads() -> None:
    """The twin picks a push's decoder from the window after the first marker; where that
    is not the frame's own channel, or the frame is odd around it, the answer must still
    be the reference's (the union's)."""
    for frame in _pushes():
        envelope = json.loads(frame)
        channel = envelope["channel"]
        head, _, rest = frame.partition('"channel":"')
        other = "spot.trades" if channel != "spot.trades" else "spot.book_ticker"
        variants = [
            # a nested object with another channel's marker before the frame's own
            '{"x":{"channel":"' + other + '","event":"update","result":{}},' + frame[1:],
            '{"x":"\\"channel\\":\\"' + other + '",' + frame[1:],
            # the channel twice, and the event other than update
            frame[:-1] + ',"channel":"' + other + '"}',
            frame.replace('"event":"update"', '"event":"subscribe"'),
            frame.replace('"event":"update"', '"event":"update","event":"update"'),
            # whitespace, another key order, non-ASCII text, a cut window
            head + '"channel": "' + rest,
            json.dumps(dict(reversed(list(envelope.items())))),
            frame.replace('"result":{', '"result":{"note":"\u00e9t\u00e9",'),
            frame.replace('"result":{', '"result":{"note":"été",'),
            frame[: len(head) + 20],
        ]
        for variant in variants:
            _same(variant)
            _same(variant.encode())


def test_not_text_nor_bytes_is_none_in_both() -> None:
    for frame in (None, 3, 1.5, ["spot.trades"], bytearray(b"{}"), memoryview(b"{}")):
        _same(frame)  # type: ignore[arg-type]


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    frame_index=st.integers(0, 5),
    key=st.sampled_from(
        ["s", "U", "u", "b", "a", "t", "full", "lastUpdateId", "bids", "asks", "id", "side",
         "price", "amount", "currency_pair", "create_time_ms", "B", "A", "extra"]
    ),
    value=_JSON_VALUES | st.sampled_from(["1.5", "-1", "nan", "1e400", "ob.X", "ob.X.5", ""]),
)  # fmt: skip
def test_a_changed_field_gives_the_references_answer(
    frame_index: int, key: str, value: object
) -> None:
    envelope = json.loads(_pushes()[frame_index])
    envelope["result"][key] = value
    _same(json.dumps(envelope))


@settings(max_examples=400, deadline=None)
@given(frame_index=st.integers(0, 5), data=st.data())
def test_a_mutated_frame_gives_the_references_answer(frame_index: int, data: st.DataObject) -> None:
    frame = bytearray(_pushes()[frame_index].encode())
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(frame) - 1))
        frame[position] = data.draw(st.integers(0, 255))
    _same(bytes(frame))
    _same(bytes(frame[: data.draw(st.integers(0, len(frame)))]))


def test_the_handler_parses_as_its_reference() -> None:
    """Through GateioHandler: the twin's _parse is in use, and answers as the reference."""
    assert _twin is not None
    assert GateioHandler._parse is _twin.handler_parse
    handler = GateioHandler()
    for frame in _fixture_frames() + _pushes():
        try:
            expected = GateioHandler._reference_parse(handler, frame)
        except FrameError as error:
            with pytest.raises(FrameError) as raised:
                handler._parse(frame)
            assert (raised.value.reason, str(raised.value)) == (error.reason, str(error))
        else:
            assert _encode(handler._parse(frame)) == _encode(expected)


# -- order-book deltas read from their text (read_order_book_update) ----------------------

REFERENCE_DELTA = decoder._reference_parse_order_book_update


def _delta_outcome(parse: object, frame: object) -> object:
    """What a ``parse_order_book_update`` gives: the message as MessagePack (float bits
    count), or the error's reason and text."""
    try:
        return _encode(parse(frame))  # type: ignore[operator]
    except FrameError as error:
        return (error.reason, str(error))


def _same_delta(frame: bytes | str) -> None:
    """The twins of parse_update and parse_order_book_update answer as their references,
    and where the reader settles the frame, it gives the reference's message."""
    assert _twin is not None
    _same(frame)
    expected = _delta_outcome(REFERENCE_DELTA, frame)
    assert _delta_outcome(_twin.parse_order_book_update, frame) == expected
    for push in (False, True):
        read = _twin.read_order_book_update(frame, push)
        if read is not None:
            reference = REFERENCE(frame) if push else REFERENCE_DELTA(frame)
            assert _encode(read) == _encode(reference)


def _delta(bids: list[list[str]], asks: list[list[str]], **result: object) -> dict[str, Any]:
    """A spot.order_book_update push as Gate writes it, as a dict."""
    return {
        "time": 1_700_000_000,
        "time_ms": 1_700_000_000_123,
        "channel": "spot.order_book_update",
        "event": "update",
        "result": {
            "t": 1_700_000_000_123, "e": "depthUpdate", "E": 1_700_000_000, "s": "BTC_USDT",
            "U": 10, "u": 12, "b": bids, "a": asks, **result,
        },
    }  # fmt: skip


def _compact(envelope: dict[str, Any]) -> str:
    return json.dumps(envelope, separators=(",", ":"))


def test_the_reader_settles_gates_deltas_as_the_reference() -> None:
    """Real deltas (the fixtures' and the encoder's) are read in C, not handed back, and
    give the reference's message; decoder.parse_order_book_update is the twin's."""
    assert _twin is not None
    assert decoder.parse_order_book_update is _twin.parse_order_book_update
    deltas = [_pushes()[2]] + [
        fixture.frame
        for fixture in good_frames()
        if isinstance(fixture.frame, str) and '"channel":"spot.order_book_update"' in fixture.frame
        and '"event":"update"' in fixture.frame
    ]  # fmt: skip
    assert len(deltas) > 1
    for frame in deltas:
        levels = [*json.loads(frame)["result"]["b"], *json.loads(frame)["result"]["a"]]
        # A number of 64 characters or more goes to the reference (as in the MEXC twin).
        ordinary = all(len(number) < 64 for level in levels for number in level)
        for data in (frame, frame.encode()):
            for push in (False, True):
                read = _twin.read_order_book_update(data, push)
                assert (read is not None) == ordinary, data
                if read is not None:
                    assert _encode(read) == _encode(REFERENCE_DELTA(data))
            _same_delta(data)


def test_whitespace_key_order_and_unknown_keys_are_read_as_msgspec_reads_them() -> None:
    assert _twin is not None
    envelope = _delta([["50000.5", "1.25"]], [["50001", "0.5"], ["50002", "0"]])
    pretty = json.dumps(envelope, indent=2)
    reordered = dict(reversed(list(envelope.items())))
    reordered["result"] = dict(reversed(list(envelope["result"].items())))
    result = {**envelope["result"], "n": False, "q": "text", "r": 0, "full": False}
    unknown = {**envelope, "x": None, "y": True, "z": -1.5, "result": result}
    for variant in (pretty, json.dumps(reordered), _compact(unknown), " \n" + pretty + "\t\r\n"):
        assert _twin.read_order_book_update(variant, True) is not None
        _same_delta(variant)


def test_optional_sides_time_and_full() -> None:
    assert _twin is not None
    for changes in ({"b": None}, {"a": []}, {"t": None}, {"full": True}, {"b": [], "a": None}):
        frame = _compact(_delta([["1", "2"]], [["3", "0"]], **changes))
        assert _twin.read_order_book_update(frame, True) is not None
        _same_delta(frame)
    for key in ("b", "a", "t"):
        envelope = _delta([["1", "2"]], [["3", "4"]])
        del envelope["result"][key]
        assert _twin.read_order_book_update(_compact(envelope), True) is not None
        _same_delta(_compact(envelope))


# Odd texts for a level's price or size. The reader hands most back (not JSON numbers, out
# of bounds, signs and exponents, whitespace inside) and reads "0" and "0.0" as sizes;
# either way the answer must be the reference's.
_ODD_NUMBERS = ["", ".5", "5.", "00.5", "01", "-1", "+1", "1e5", "1E-2", " 1", "1 ", "0x1",
                "nan", "inf", "1.2.3", "1_0", "\u0661", "0", "0.0", "-0.0", "1e400",
                "1000000000000000", "999999999999999.9", "0.00000000000000000001"]  # fmt: skip


@pytest.mark.parametrize("odd", _ODD_NUMBERS)
@pytest.mark.parametrize("where", ["price", "size"])
def test_odd_numbers_give_the_references_answer(odd: str, where: str) -> None:
    level = [odd, "1.5"] if where == "price" else ["50000.5", odd]
    for frame in (_compact(_delta([level], [])), _compact(_delta([], [["1", "2"], level]))):
        _same_delta(frame)
        _same_delta(frame.encode())


_DECIMALS = st.builds(
    lambda whole, fraction: whole + ("." + fraction if fraction else ""),
    st.from_regex(r"0|[1-9][0-9]{0,20}", fullmatch=True),
    st.none() | st.from_regex(r"[0-9]{1,22}", fullmatch=True),
)


@settings(max_examples=500, deadline=None)
@given(prices=st.lists(_DECIMALS, min_size=1, max_size=4),
       sizes=st.lists(_DECIMALS, min_size=1, max_size=4))  # fmt: skip
def test_decimal_levels_give_msgspecs_floats(prices: list[str], sizes: list[str]) -> None:
    """Any JSON decimal, up to 44 characters: the reader's float is msgspec's, bit for bit
    (or both reject it: a price of 0, a number past the bounds)."""
    levels = [[price, size] for price, size in zip(prices, sizes, strict=False)]
    _same_delta(_compact(_delta(levels, levels[::-1])))


@settings(max_examples=300, deadline=None)
@given(
    key=st.sampled_from(["s", "U", "u", "b", "a", "t", "full", "e", "channel", "event", "result"]),
    value=_JSON_VALUES | st.sampled_from(["1.5", "-1", "nan", "1e400", "", "update",
                                          "spot.order_book_update", 2**63, -(2**63), 10**18]),
    inside=st.booleans(),
    twice=st.booleans(),
)  # fmt: skip
def test_a_changed_or_repeated_key_gives_the_references_answer(
    key: str, value: object, inside: bool, twice: bool
) -> None:
    envelope = _delta([["50000.5", "1.25"]], [["50001", "0.5"]])
    target = envelope["result"] if inside else envelope
    target[key] = value
    frame = _compact(envelope)
    if twice:  # the key again, last: msgspec's rule for a repeated key is its own
        frame = (
            frame[: -2 if inside else -1]
            + f",{json.dumps(key)}:{json.dumps(value)}"
            + ("}}" if inside else "}")
        )
    _same_delta(frame)
    _same_delta(frame.encode())


@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_a_mutated_delta_gives_the_references_answer(data: st.DataObject) -> None:
    frame = bytearray(_compact(_delta([["50000.5", "1.25"], ["49999", "0"]], [["50001", "0.5"]]))
                      .encode())  # fmt: skip
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(frame) - 1))
        frame[position] = data.draw(st.sampled_from(b' "[]{},:.-0123456789eEntfaul\\\x00\x80\xff'))
    _same_delta(bytes(frame))
    _same_delta(bytes(frame[: data.draw(st.integers(0, len(frame)))]))
    text = bytes(frame).decode("latin-1")
    _same_delta(text)


def test_a_symbol_read_again_is_the_same_str_past_the_table_too() -> None:
    """The reader keeps the symbols it decoded (ws_stack/_texts.pxd): a symbol read again
    is the same str object (BTC_USDT, kept since the process's first frames: the table
    keeps the first 1,024 symbols it sees); past the table's room, and for every symbol,
    the message is still the reference's."""
    assert _twin is not None
    btc = _compact(_delta([["1.5", "2"]], []))
    first, again = (_twin.parse_order_book_update(btc) for _ in range(2))
    assert first.symbol == "BTC_USDT" and first.symbol is again.symbol
    for index in range(1_500):
        _same_delta(_compact(_delta([["1.5", "2"]], [], s=f"S{index}_USDT")))
