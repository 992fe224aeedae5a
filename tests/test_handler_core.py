"""The compiled per-frame path (ws_stack._handler_core.HandlerCore.handle) against its
reference, MessageHandler.handle and _deliver in ws_stack.handler, side by side in one
process."""

import os
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ws_stack import handler as handler_module
from ws_stack import implementation
from ws_stack.exceptions import FrameError, FrameErrorReason
from ws_stack.frames import read_frames
from ws_stack.gateio import GateioHandler
from ws_stack.gateio import encoder as gate_encoder
from ws_stack.handler import MessageHandler, Parser
from ws_stack.messages import (
    Level,
    Message,
    OrderBookUpdate,
    Pong,
    Side,
    Trade,
    Venue,
    WebSocketMessageType,
)
from ws_stack.mexc import encoder as mexc_encoder
from ws_stack.mexc.handler import MexcHandler
from ws_stack.pool import LevelPool

_compiled = implementation.compiled("ws_stack._handler_core")
needs_compiled = pytest.mark.skipif(
    _compiled is None,
    reason="ws_stack._handler_core is not built (no C compiler, or WS_STACK_NO_EXTENSIONS is set)",
)

T = WebSocketMessageType
FIXTURES = Path(__file__).resolve().parent / "fixtures"
REFERENCE = handler_module._reference_handle
COMPILED = getattr(getattr(_compiled, "HandlerCore", None), "handle", None)


def _fixtures(venue: str) -> list[bytes | str]:
    """The venue's recorded good and bad fixture frames."""
    files = (FIXTURES / f"{venue}_frames.jsonl", FIXTURES / f"{venue}_bad_frames.jsonl")
    return [recorded.data for path in files for recorded in read_frames(path)]


def _trade(n: int) -> Trade:
    return Trade(Venue.MEXC, "BTCUSDT", 100.0 + n, 1.0, Side.BUY, 1_700_000_000_000 + n, n)


def _book(pool: LevelPool | None, n: int) -> OrderBookUpdate:
    if pool is None:
        bids, asks = [Level(100.0, float(n))], [Level(101.0, 1.0), Level(102.0, 2.0)]
    else:
        bids, asks = pool.take([100.0], [float(n)]), pool.take([101.0, 102.0], [1.0, 2.0])
    return OrderBookUpdate(Venue.MEXC, "BTCUSDT", bids, asks, False, n, n, n)


class ParserBug(Exception):
    pass


#: What the scripted parser does for a frame, by the frame's first word.
def _scripted(handler: "Scripted", frame: bytes | str) -> object:
    text = frame.decode() if isinstance(frame, bytes) else frame
    word, _, rest = text.partition(" ")
    n = len(rest)
    if word == "trade":
        return _trade(n)
    if word == "book":
        return _book(handler.level_pool, n)
    if word == "pong":
        return Pong(Venue.MEXC, n)
    if word == "batch":
        return [_trade(i) for i in range(n)]
    if word == "mixed":  # a list with a non-message in the middle
        return [_trade(1), "not a message", _book(handler.level_pool, 2)]
    if word == "empty-list":
        return []
    if word == "none":
        return None
    if word == "int":
        return n
    if word == "frame-error":
        raise FrameError(FrameErrorReason.INVALID_FIELD, f"bad field {rest!r}", frame)
    if word == "frame-error-venue":
        raise FrameError(FrameErrorReason.UNKNOWN_CHANNEL, "no such channel", b"", Venue.GATEIO)
    if word == "bug":
        raise ParserBug(f"parser bug on {rest!r}")
    if word == "key-error":
        return {}[rest]  # a KeyError out of the parser is a parser bug, not a non-message
    raise FrameError(FrameErrorReason.UNKNOWN_MESSAGE, "unknown word", frame)


class Scripted(MessageHandler):
    """A handler whose parser does what each frame says (see _scripted)."""

    venue = Venue.MEXC

    def detect_type(self, frame: bytes | str) -> WebSocketMessageType:
        raise AssertionError("_parse is overridden")

    def route(self, msg_type: WebSocketMessageType, frame: bytes | str) -> Parser:
        raise AssertionError("_parse is overridden")

    def _parse(self, frame: bytes | str) -> Message | list[Message]:
        return _scripted(self, frame)  # type: ignore[return-value]


def _pair(base: type[MessageHandler], **kwargs: object) -> tuple[MessageHandler, MessageHandler]:
    """The same handler class twice: on the compiled path and on the reference."""
    compiled = type("Compiled" + base.__name__, (base,), {"handle": COMPILED})
    reference = type("Reference" + base.__name__, (base,), {"handle": REFERENCE})
    return compiled(**kwargs), reference(**kwargs)


class Record:
    """Everything a handler did, in order: deliveries, errors, return values."""

    def __init__(self, handler: MessageHandler, *, raising: bool) -> None:
        self.handler = handler
        self.events: list[object] = []
        self.calls = 0
        for msg_type in WebSocketMessageType:
            handler.on(msg_type, self.deliver)
            if raising:
                handler.on(msg_type, self.sometimes_raise)
                handler.on(msg_type, self.deliver)  # after a raising one: still delivered
        handler.on_error(self.error)

    def deliver(self, message: Message) -> None:
        # As bytes at delivery time: pooled levels are reused afterwards.
        self.events.append(("message", type(message).__name__, msgspec.msgpack.encode(message)))

    def sometimes_raise(self, message: Message) -> None:
        self.calls += 1
        if self.calls % 3 == 0:
            raise RuntimeError(f"callback failure {self.calls}")

    def error(self, error: FrameError) -> None:
        self.events.append(("error", error.reason, str(error), error.venue, error.frame))

    def handle(self, frame: bytes | str) -> None:
        self.events.append(("returned", self.handler.handle(frame)))


def _assert_same(compiled: Record, reference: Record) -> None:
    assert compiled.events == reference.events
    assert compiled.handler.stats() == reference.handler.stats()
    compiled_pool, reference_pool = compiled.handler.level_pool, reference.handler.level_pool
    if reference_pool is not None:
        assert compiled_pool is not None
        assert compiled_pool.stats() == reference_pool.stats()


def _run(base: type[MessageHandler], frames: list[bytes | str], *, raising: bool, **kwargs: object):
    compiled_handler, reference_handler = _pair(base, **kwargs)
    assert type(compiled_handler).handle is COMPILED
    assert type(reference_handler).handle is REFERENCE
    compiled, reference = (
        Record(h, raising=raising) for h in (compiled_handler, reference_handler)
    )
    for frame in frames:
        compiled.handle(frame)
        reference.handle(frame)
    _assert_same(compiled, reference)
    return compiled


WORDS = ["trade", "book", "pong", "batch", "mixed", "empty-list", "none", "int", "frame-error",
         "frame-error-venue", "bug", "key-error", "nonsense", ""]  # fmt: skip


@needs_compiled
def test_the_method_is_the_compiled_twin_where_built() -> None:
    assert MessageHandler.__mro__[1] is _compiled.HandlerCore
    assert MessageHandler.handle is COMPILED
    assert MexcHandler.handle is COMPILED and GateioHandler.handle is COMPILED


@needs_compiled
@pytest.mark.parametrize("pool", [False, True], ids=["no-pool", "pool"])
@pytest.mark.parametrize("raising", [False, True], ids=["callbacks", "raising-callbacks"])
def test_every_scripted_outcome_is_the_same(pool: bool, raising: bool) -> None:
    frames: list[bytes | str] = [f"{word} xyz" for word in WORDS]
    frames += [word.encode() + b" ab" for word in WORDS] + [b"", "", "batch ", "book"]
    record = _run(Scripted, frames * 2, raising=raising, level_pool=LevelPool() if pool else None)
    reasons = {event[1] for event in record.events if event[0] == "error"}
    R = FrameErrorReason
    assert reasons >= {R.EMPTY_FRAME, R.INTERNAL_ERROR, R.INVALID_FIELD, R.UNKNOWN_CHANNEL}
    assert (FrameErrorReason.CALLBACK_ERROR in reasons) is raising


@needs_compiled
@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(WORDS), st.text(max_size=4), st.booleans()), max_size=30),
    st.booleans(),
    st.booleans(),
)
def test_random_sequences_are_the_same(steps, pool: bool, raising: bool) -> None:
    frames: list[bytes | str] = []
    for word, rest, binary in steps:
        text = f"{word} {rest}" if word else ""
        frames.append(text.encode() if binary else text)
    _run(Scripted, frames, raising=raising, level_pool=LevelPool() if pool else None)


@needs_compiled
def test_a_list_that_changes_under_a_callback_is_iterated_and_counted_the_same() -> None:
    class Growing(Scripted):
        def _parse(self, frame: bytes | str) -> Message | list[Message]:
            self.batch: list[Message] = [_trade(0), _trade(1), _trade(2)]
            return self.batch

    results = []
    for handler in _pair(Growing):
        seen: list[int] = []

        def grow_then_shrink(
            trade: Trade, handler: MessageHandler = handler, seen: list[int] = seen
        ) -> None:
            seen.append(trade.trade_id or 0)
            batch = handler.batch  # type: ignore[attr-defined]
            if trade.trade_id == 0:
                batch.append(_trade(9))
            elif trade.trade_id == 1:
                del batch[0]

        handler.on(T.TRADE, grow_then_shrink)
        results.append((handler.handle("x"), seen, handler.stats()))
    assert results[0] == results[1]


@needs_compiled
@pytest.mark.parametrize("pool", [False, True], ids=["no-pool", "pool"])
@pytest.mark.parametrize("raising", [False, True], ids=["callbacks", "raising-callbacks"])
def test_the_mexc_fixtures_are_handled_the_same(pool: bool, raising: bool) -> None:
    frames = _fixtures("mexc")
    frames += [b"", "", mexc_encoder.encode_pong()]
    _run(MexcHandler, frames, raising=raising, level_pool=LevelPool() if pool else None)


@needs_compiled
@pytest.mark.parametrize("raising", [False, True], ids=["callbacks", "raising-callbacks"])
def test_the_gateio_fixtures_are_handled_the_same(raising: bool) -> None:
    frames = _fixtures("gateio")
    frames += [b"", "", gate_encoder.encode_trade("BTC_USDT", "1", "2", Side.SELL, 1, 2)]
    _run(GateioHandler, frames, raising=raising)


@needs_compiled
def test_a_subclass_overriding_the_hooks_keeps_working() -> None:
    class Renamed(MexcHandler):
        def detect_type(self, frame: bytes | str) -> WebSocketMessageType:
            if frame == b"custom":
                return T.PONG
            return super().detect_type(frame)

        def route(self, msg_type: WebSocketMessageType, frame: bytes | str) -> Parser:
            if frame == b"custom":
                return lambda frame: Pong(Venue.MEXC, 7)
            return super().route(msg_type, frame)

    frames: list[bytes | str] = [b"custom", mexc_encoder.encode_pong(), b"", b"\x00junk"]
    record = _run(Renamed, frames, raising=False)
    assert record.events[1] == ("returned", 1)


@pytest.mark.parametrize(
    ("variable", "expected"),
    [("1", "MessageHandler.handle"), pytest.param("", "HandlerCore.handle", marks=needs_compiled)],
)
def test_ws_stack_no_extensions_selects_the_method(variable: str, expected: str) -> None:
    code = (
        "from ws_stack.handler import MessageHandler\nprint(MessageHandler.handle.__qualname__)\n"
    )
    env = {**os.environ, implementation.NO_EXTENSIONS_VARIABLE: variable}
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == expected
