"""The compiled ``MexcHandler._parse`` (ws_stack.mexc._dispatch) against its reference, the
template's ``_parse`` (``route(detect_type(frame), frame)(frame)``), side by side in one
process: on every frame the same messages, compared as MessagePack, or the same
:class:`FrameError`; a push of a known channel parsed without the hooks; a subclass that
overrides a hook getting the reference."""

from __future__ import annotations

from collections.abc import Callable

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ws_stack import implementation
from ws_stack.exceptions import FrameError
from ws_stack.handler import MessageHandler
from ws_stack.messages import WebSocketMessageType
from ws_stack.mexc import detect
from ws_stack.mexc.encoder import encode_depth
from ws_stack.mexc.handler import MexcHandler
from ws_stack.pool import LevelPool

from .cases import bad_frames, good_frames

_twin = implementation.compiled("ws_stack.mexc._dispatch")
pytestmark = [
    pytest.mark.skipif(
        _twin is None,
        reason="ws_stack.mexc._dispatch is not built (no C compiler, or "
        "WS_STACK_NO_EXTENSIONS set)",
    ),
    # The twin's C helpers cannot raise: an error inside one is only printed ("Exception
    # ignored"), which pytest turns into this warning, and here into a failure.
    pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning"),
]

_encode = msgspec.msgpack.encode
_Parse = Callable[[MexcHandler, bytes | str], object]


def _outcome(parse: _Parse, handler: MexcHandler, frame: bytes | str) -> object:
    try:
        return _encode(parse(handler, frame))
    except FrameError as error:
        return (error.reason, str(error))
    except Exception as error:  # what handle() reports as an internal error
        return (type(error), str(error))


def _same(frame: bytes | str, pool: LevelPool | None = None) -> None:
    assert _twin is not None
    handler = MexcHandler(level_pool=pool)
    expected = _outcome(MexcHandler._reference_parse, handler, frame)
    assert _outcome(_twin.handler_parse, handler, frame) == expected, frame


def _frames() -> list[bytes | str]:
    return [fixture.frame for fixture in good_frames() + bad_frames()]


def _pushes() -> list[bytes]:
    """The good fixtures' protobuf pushes."""
    frames = [fixture.frame for fixture in good_frames() if fixture.reason is None]
    return [frame for frame in frames if isinstance(frame, bytes) and frame[:1] == b"\n"]


def _hooks_taken(monkeypatch: pytest.MonkeyPatch) -> list[bytes | str]:
    """The frames that reach ``MexcHandler.detect_type`` from now on (the hooks' start)."""
    hooks: list[bytes | str] = []
    original = MexcHandler.detect_type

    def counting(frame: bytes | str) -> WebSocketMessageType:
        hooks.append(frame)
        return original(frame)

    monkeypatch.setattr(MexcHandler, "detect_type", staticmethod(counting))
    return hooks


def test_the_handler_uses_the_twin() -> None:
    assert _twin is not None
    assert MexcHandler._parse is _twin.handler_parse
    assert MexcHandler._reference_parse is MessageHandler._parse


@pytest.mark.parametrize("pool", [None, LevelPool()], ids=["no pool", "pool"])
def test_every_fixture_frame_first_seen_and_known(pool: LevelPool | None) -> None:
    detect._KNOWN_HEADS.clear()  # a cache: each channel's first push takes the hooks again
    frames = _frames()
    assert len(_pushes()) >= 6
    for frame in frames:  # first pushes (twin first, then the reference), then known ones
        _same(frame, pool)
    assert detect._KNOWN_HEADS
    for frame in frames:
        _same(frame, pool)


def test_a_known_push_skips_the_hooks(monkeypatch: pytest.MonkeyPatch) -> None:
    handler = MexcHandler()
    pushes = _pushes()
    for frame in pushes:
        handler._parse(frame)  # every channel seen once
    hooks = _hooks_taken(monkeypatch)
    for frame in pushes:
        handler._parse(frame)
    assert hooks == []
    handler._parse(b'{"id":0,"code":0,"msg":"PONG"}')  # JSON: through the hooks
    assert len(hooks) == 1


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_truncated_and_mutated_pushes(data: st.DataObject) -> None:
    pushes = _pushes()
    frame = bytearray(data.draw(st.sampled_from(pushes)))
    _same(bytes(frame[: data.draw(st.integers(0, len(frame)))]))
    for _ in range(data.draw(st.integers(1, 3))):
        frame[data.draw(st.integers(0, len(frame) - 1))] = data.draw(st.integers(0, 255))
    _same(bytes(frame))


def test_a_known_push_takes_its_levels_from_the_handlers_pool() -> None:
    pool = LevelPool()
    handler = MexcHandler(level_pool=pool)
    books = [frame for frame in _pushes() if b"depth" in frame]
    assert books
    for frame in books:
        handler._parse(frame)  # every channel seen once
    before = pool.stats().acquired
    for frame in books:
        handler._parse(frame)
    assert pool.stats().acquired > before


def test_odd_frames() -> None:
    for frame in (b"", b"\n", b"\n\x05", b"\n{", b"\n{spot@public.deals.v3.api", "", "\n", 7):
        _same(frame)  # type: ignore[arg-type]


def test_a_subclass_overriding_a_skipped_hook_gets_the_reference() -> None:
    class Custom(MexcHandler):
        def route(self, msg_type: WebSocketMessageType, frame: bytes | str) -> object:
            return super().route(msg_type, frame)

    class CustomAgain(Custom):
        pass

    class Plain(MexcHandler):
        pass

    assert Custom._parse is MexcHandler._reference_parse
    assert CustomAgain._parse is MexcHandler._reference_parse
    assert Plain._parse is MexcHandler._parse


def test_many_channels_first_seen_and_known() -> None:
    """More channels than the fixtures: heads of many lengths, in the twin's own table of
    known heads (and its probing), parse as the reference parses them."""
    detect._KNOWN_HEADS.clear()
    symbols = [f"S{index}{'X' * (index % 7)}USDT" for index in range(300)]
    pushes = [
        encode_depth(symbol, [("1.5", "2")], [("1.6", "3")], 1, 2, interval=interval)
        for symbol in symbols
        for interval in ("10ms", "100ms")
    ]
    for _ in range(3):  # first seen, found in _KNOWN_HEADS, found in the twin's table
        for frame in pushes:
            _same(frame)


def test_a_cleared_head_cache_sends_pushes_through_the_hooks_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    handler = MexcHandler()
    pushes = _pushes()
    for _ in range(2):  # seen, then known (in the twin's table too)
        for frame in pushes:
            handler._parse(frame)
    detect._KNOWN_HEADS.clear()
    hooks = _hooks_taken(monkeypatch)
    for frame in pushes:
        handler._parse(frame)
    assert hooks == pushes  # each channel's first push again, as the reference would
