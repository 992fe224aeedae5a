"""ws_stack.mexc.legacy: legacy JSON pushes."""

from __future__ import annotations

import msgspec
import pytest

from ws_stack.exceptions import FrameError, FrameErrorReason
from ws_stack.messages import BookTicker, Level, OrderBookUpdate
from ws_stack.mexc import encoder, legacy
from ws_stack.pool import LevelPool

from .cases import MEXC, SYMBOL, T0, decode

R = FrameErrorReason


def test_parse_legacy_decodes_bytes_and_str_alike() -> None:
    frame = encoder.encode_legacy_depth(SYMBOL, [("1", "2")], [("3", "4")], 10, time_ms=T0)
    assert legacy.parse_legacy(frame) == legacy.parse_legacy(frame.encode())


def test_parse_legacy_symbol_falls_back_to_the_channel() -> None:
    frame = '{"c":"spot@public.limit.depth.v3.api@ETHUSDT@10","d":{"asks":[],"bids":[],"r":"3"}}'
    update = legacy.parse_legacy(frame)
    assert (update.symbol, update.is_snapshot, update.last_update_id, update.time_ms) == (
        "ETHUSDT",
        True,
        3,
        None,
    )


def test_parse_legacy_ignores_unknown_keys() -> None:
    frame = (
        '{"c":"spot@public.bookTicker.v3.api@BTCUSDT","x":[1,{"y":2}],'
        '"d":{"a":"2","A":"1","b":"1","B":"1","z":null},"s":"BTCUSDT","t":5}'
    )
    assert legacy.parse_legacy(frame) == BookTicker(MEXC, SYMBOL, 1.0, 1.0, 2.0, 1.0, 5)


def test_parse_legacy_uses_the_pool() -> None:
    pool = LevelPool()
    pool.give([Level(9.0, 9.0)])
    frame = encoder.encode_legacy_depth(SYMBOL, [("1", "2")], [], 10)
    update = legacy.parse_legacy(frame, pool)
    assert update.bids == [Level(1.0, 2.0)]
    assert pool.stats().reused == 1


@pytest.mark.parametrize(
    ("frame", "reason", "detail"),
    [
        (
            '{"c":"spot@public.deals.v3.api@X","d":{"deals":[{"S":3,"p":"1","t":1,"v":"1"}]}}',
            R.INVALID_FIELD,
            "$.d.deals[0].S",
        ),
        (
            '{"c":"spot@public.deals.v3.api@X","d":{"deals":[{"S":1,"p":"1e999","t":1,"v":"1"}]}}',
            R.INVALID_FIELD,
            "$.d.deals[0].p",
        ),
        (
            '{"c":"spot@public.increase.depth.v3.api@X","d":{"bids":[],"asks":[],"r":"v1"}}',
            R.INVALID_FIELD,
            "$.d.r",
        ),
        (
            '{"c":"spot@public.increase.depth.v3.api@X","d":{"bids":[{"p":"1"}],"r":"1"}}',
            R.INVALID_FIELD,
            "`v`",
        ),
        (
            '{"c":"spot@public.bookTicker.v3.api@X","d":{"a":"1","A":"1","b":"1"}}',
            R.INVALID_FIELD,
            "`B`",
        ),
        (
            '{"c":"spot@public.bookTicker.v3.api@","d":{"a":"1","A":"1","b":"1","B":"1"}}',
            R.INVALID_FIELD,
            "symbol",
        ),
        (
            '{"c":"spot@public.deals.v3.api@X","d":{"deals":[{"S":1,"p":"1","t":1,"v":"1"}]',
            R.MALFORMED_JSON,
            "truncated",
        ),
        ('{"c":"spot@public.kline.v3.api@X@Min1","d":{}}', R.UNKNOWN_CHANNEL, "kline"),
        ('{"d":{}}', R.UNKNOWN_CHANNEL, "public"),
    ],
)
def test_parse_legacy_errors(frame: str, reason: FrameErrorReason, detail: str) -> None:
    with pytest.raises(FrameError) as info:
        legacy.parse_legacy(frame)
    assert info.value.reason is reason
    assert detail in info.value.detail


def test_legacy_decoders_build_no_dicts() -> None:
    """The per-kind decoders target Structs all the way down (no ``dict``/``Any`` fields)."""
    for struct in (legacy._JsonDealsPush, legacy._JsonDepthPush, legacy._JsonTickerPush):
        info = msgspec.inspect.type_info(struct)
        stack = [info]
        while stack:
            node = stack.pop()
            assert not isinstance(node, msgspec.inspect.DictType | msgspec.inspect.AnyType)
            if isinstance(node, msgspec.inspect.StructType):
                stack.extend(field.type for field in node.fields)
            elif isinstance(node, msgspec.inspect.ListType):
                stack.append(node.item_type)
            elif isinstance(node, msgspec.inspect.UnionType):
                stack.extend(node.types)


def test_order_book_update_levels_are_levels() -> None:
    (update,) = decode(encoder.encode_legacy_depth(SYMBOL, [("1", "2")], [], 1))
    assert isinstance(update, OrderBookUpdate)
    assert all(type(level) is Level for level in update.bids)
