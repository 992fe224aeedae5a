"""Hostile frames for both venues: protobuf wire surgery, nesting bombs, bad numbers.

Building blocks of the hostile-input tests and of the atheris harness: a tiny protobuf
wire reader/writer (enough to add unknown fields, change wire types and forge length
prefixes around real frames), the venues' real fixture frames, and an accounting check
that runs frames through a handler and checks what the handler owes every frame.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from ws_stack.exceptions import FrameError, FrameErrorReason
from ws_stack.frames import read_frames
from ws_stack.gateio.handler import GateioHandler
from ws_stack.handler import MessageHandler
from ws_stack.messages import OrderBookUpdate, Venue, WebSocketMessageType
from ws_stack.mexc.handler import MexcHandler

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
FRAMES: dict[Venue, list[bytes | str]] = {
    venue: [frame.data for frame in read_frames(FIXTURES / f"{venue.value}_frames.jsonl")]
    for venue in Venue
}
BAD_FRAMES: dict[Venue, list[bytes | str]] = {
    venue: [frame.data for frame in read_frames(FIXTURES / f"{venue.value}_bad_frames.jsonl")]
    for venue in Venue
}
MEXC_PUSHES = [frame for frame in FRAMES[Venue.MEXC] if isinstance(frame, bytes)]
#: Wrapper fields of PushDataV3ApiWrapper and the bodies ws_stack decodes.
WRAPPER_FIELDS = (1, 3, 4, 5, 6, 301, 302, 303, 313, 314, 315)
BODY_FIELDS = range(301, 316)


def make_handler(venue: Venue) -> MessageHandler:
    return MexcHandler() if venue is Venue.MEXC else GateioHandler()


# -- protobuf wire format ---------------------------------------------------------------

VARINT, FIXED64, LENGTH, START_GROUP, END_GROUP, FIXED32 = 0, 1, 2, 3, 4, 5


def varint(value: int) -> bytes:
    """Base-128 varint of a non-negative integer (any size: overlong ones on purpose)."""
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def key(number: int, wire_type: int) -> bytes:
    return varint(number << 3 | wire_type)


def length_delimited(number: int, payload: bytes) -> bytes:
    return key(number, LENGTH) + varint(len(payload)) + payload


def field_of(number: int, wire_type: int, payload: bytes = b"\x01") -> bytes:
    """A field of any wire type, with a payload of the right shape for that type."""
    if wire_type == VARINT:
        return key(number, VARINT) + varint(int.from_bytes(payload[:8] or b"\x00", "little"))
    if wire_type == FIXED64:
        return key(number, FIXED64) + payload[:8].ljust(8, b"\x00")
    if wire_type == FIXED32:
        return key(number, FIXED32) + payload[:4].ljust(4, b"\x00")
    if wire_type == START_GROUP:
        return key(number, START_GROUP) + key(number, END_GROUP)
    return length_delimited(number, payload)


@dataclass
class WireField:
    number: int
    wire_type: int
    #: The encoded field, key included.
    raw: bytes
    #: Length-delimited content (for LENGTH fields).
    content: bytes = b""


def read_varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def fields(message: bytes) -> list[WireField]:
    """The top-level fields of a well-formed message, in order (no groups)."""
    out: list[WireField] = []
    pos = 0
    while pos < len(message):
        start = pos
        tag, pos = read_varint(message, pos)
        number, wire_type = tag >> 3, tag & 7
        content = b""
        if wire_type == VARINT:
            _, pos = read_varint(message, pos)
        elif wire_type == FIXED64:
            pos += 8
        elif wire_type == FIXED32:
            pos += 4
        elif wire_type == LENGTH:
            size, pos = read_varint(message, pos)
            content = message[pos : pos + size]
            pos += size
        else:
            raise ValueError(f"wire type {wire_type} not expected in a real frame")
        out.append(WireField(number, wire_type, message[start:pos], content))
    return out


def body_of(push: bytes) -> WireField:
    """The body (oneof member) field of a push."""
    return next(f for f in fields(push) if f.number in BODY_FIELDS)


def replace_body(push: bytes, content: bytes) -> bytes:
    """``push`` with its body's content replaced (and its length prefix recomputed)."""
    return b"".join(
        length_delimited(f.number, content) if f.number in BODY_FIELDS else f.raw
        for f in fields(push)
    )


# -- accounting ---------------------------------------------------------------------------


@dataclass
class Outcome:
    """What a handler did with a list of frames."""

    delivered: list[object] = field(default_factory=list)
    errors: list[FrameError] = field(default_factory=list)
    #: Per frame: messages delivered, or the error reason.
    per_frame: list[int | FrameErrorReason] = field(default_factory=list)


def feed(handler: MessageHandler, frames: Iterable[bytes | str]) -> Outcome:
    """Hand every frame to ``handler`` and check what it owes each frame.

    ``handle`` never raises; each frame is either delivered or counted once with a
    specific reason (never ``internal_error``, which would mean a ws_stack bug); the
    handler's statistics add up; every error names its venue and carries a bounded,
    printable excerpt and detail.
    """
    outcome = Outcome()

    def keep(message: object) -> None:
        outcome.delivered.append(
            message.copy() if isinstance(message, OrderBookUpdate) else message
        )

    for msg_type in WebSocketMessageType:
        handler.on(msg_type, keep)
    handler.on_error(outcome.errors.append)
    before = handler.stats()
    count = 0
    for frame in frames:
        count += 1
        errors_before = len(outcome.errors)
        delivered = handler.handle(frame)  # must never raise
        new = outcome.errors[errors_before:]
        assert len(new) <= 1, [str(e) for e in new]
        if new:
            assert delivered == 0
            outcome.per_frame.append(new[0].reason)
        else:
            outcome.per_frame.append(delivered)
    after = handler.stats()
    assert after.frames - before.frames == count
    assert after.failed_frames - before.failed_frames == len(outcome.errors)
    for error in outcome.errors:
        assert error.reason is not FrameErrorReason.INTERNAL_ERROR, str(error)
        assert error.reason is not FrameErrorReason.CALLBACK_ERROR, str(error)
        assert error.venue is handler.venue
        assert error.detail and len(error.detail) <= 203
        # 80 characters of the frame, each escaped to at most 10 (\\U0001f600).
        assert len(error.excerpt) <= 10 * 80 + 3 and error.excerpt.isprintable()
        assert len(str(error)) < 1_200
    return outcome


def delivered_builtins(outcome: Outcome) -> list[object]:
    """The delivered messages as plain data, to compare two decodes."""
    return [msgspec.to_builtins(message) for message in outcome.delivered]


# -- hostile JSON ---------------------------------------------------------------------------


def nested(depth: int, kind: str = "list") -> str:
    """JSON nested ``depth`` levels deep: ``[[[...]]]`` or ``{"a":{"a":...}}``."""
    if kind == "list":
        return "[" * depth + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


def json_bombs(depth: int) -> Iterator[tuple[Venue, str]]:
    """A nesting bomb in every place of each venue's frames that a decoder reads or skips."""
    for bomb in (nested(depth), nested(depth, "dict")):
        yield Venue.GATEIO, '{"channel":"spot.trades","event":"update","result":' + bomb + "}"
        yield Venue.GATEIO, '{"channel":"spot.trades","event":"update","result":{"x":' + bomb + "}}"
        yield (
            Venue.GATEIO,
            '{"channel":"spot.order_book_update","event":"update","result":{"s":"A","U":1,"u":2,"b":'
            + bomb
            + "}}",
        )
        yield Venue.GATEIO, '{"channel":"spot.trades","event":"subscribe","error":' + bomb + "}"
        yield Venue.GATEIO, '{"time":1,"x":' + bomb + ',"channel":"spot.pong"}'
        yield Venue.GATEIO, bomb
        yield Venue.MEXC, '{"c":"spot@public.deals.v3.api@BTCUSDT","d":' + bomb + "}"
        yield (
            Venue.MEXC,
            '{"c":"spot@public.increase.depth.v3.api@BTCUSDT","d":{"r":"1","bids":' + bomb + "}}",
        )
        yield Venue.MEXC, '{"x":' + bomb + ',"c":"spot@public.bookTicker.v3.api@BTCUSDT"}'
        yield Venue.MEXC, '{"id":0,"code":0,"msg":"PONG","x":' + bomb + "}"
        yield Venue.MEXC, bomb
