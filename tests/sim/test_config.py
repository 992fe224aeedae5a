import pytest

from ws_stack.exceptions import ConfigError
from ws_stack.sim.config import (
    FAULT_KEYS,
    FaultConfig,
    SimConfig,
    fault_usage,
    faults_from,
    parse_fault,
)


def test_defaults_are_valid():
    config = SimConfig()
    assert config.symbols == ("BTCUSDT",)
    assert not config.faults.any


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"symbols": ()}, "empty"),
        ({"symbols": "BTCUSDT"}, "tuple"),
        ({"symbols": ("BTC/USDT",)}, "BTC/USDT"),
        ({"symbols": ("BTCUSDT", "BTC_USDT")}, "duplicates"),
        ({"rate_hz": -1.0}, "rate_hz"),
        ({"rate_hz": 0}, "rate_hz"),
        ({"rate_hz": float("nan")}, "rate_hz"),
        ({"depth_levels": 0}, "depth_levels"),
        ({"depth_levels": 2.5}, "depth_levels"),
        ({"seed": "x"}, "seed"),
        ({"faults": {"gap_every": 3}}, "FaultConfig"),
        ({"replay": "/nonexistent/frames.jsonl"}, "no frames file"),
        ({"replay_loops": 0}, "replay_loops"),
        ({"keep_books": -1}, "keep_books"),
        ({"keep_books": True}, "keep_books"),
    ],
)
def test_sim_config_says_what_to_fix(kwargs, words):
    with pytest.raises(ConfigError, match=words):
        SimConfig(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"close_after_frames": 0}, "close_after_frames"),
        ({"stall_after_frames": -2}, "stall_after_frames"),
        ({"malformed_every": 1.5}, "malformed_every"),
        ({"gap_every": True}, "gap_every"),
        ({"stall_seconds": -1}, "stall_seconds"),
        ({"refuse_connections_for": float("inf")}, "refuse_connections_for"),
        ({"handshake_delay": "1"}, "handshake_delay"),
        ({"lag_seconds": -0.5}, "lag_seconds"),
        ({"lag_growth": float("nan")}, "lag_growth"),
        ({"silence": "candles"}, "silence must be one of trades, book_ticker, depth"),
    ],
)
def test_fault_config_says_what_to_fix(kwargs, words):
    with pytest.raises(ConfigError, match=words):
        FaultConfig(**kwargs)


def test_symbols_list_becomes_tuple():
    assert SimConfig(symbols=["BTCUSDT", "ETHUSDT"]).symbols == ("BTCUSDT", "ETHUSDT")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("close-after=5", ("close_after_frames", 5)),
        ("stall_after=3", ("stall_after_frames", 3)),
        ("stall-seconds=0.5", ("stall_seconds", 0.5)),
        ("refuse-for=2", ("refuse_connections_for", 2.0)),
        ("HANDSHAKE-DELAY=0.25", ("handshake_delay", 0.25)),
        ("close_after_frames=7", ("close_after_frames", 7)),
        ("lag=0.5", ("lag_seconds", 0.5)),
        ("lag-growth=0.1", ("lag_growth", 0.1)),
        ("silence=trades", ("silence", "trades")),
    ],
)
def test_parse_fault(text, expected):
    assert parse_fault(text) == expected


@pytest.mark.parametrize("text", ["close-after", "explode=1", "gap-every=often", "=3"])
def test_parse_fault_lists_the_valid_keys(text):
    with pytest.raises(ConfigError) as info:
        parse_fault(text)
    assert text in str(info.value)
    if "=" in text and text.split("=")[0] in FAULT_KEYS:
        assert "takes" in str(info.value)
    else:
        assert "close-after=N" in str(info.value)
        assert "stall-seconds=SECONDS" in str(info.value)
        assert all(key in str(info.value) for key in FAULT_KEYS)


def test_fault_usage_names_what_each_key_takes():
    usage = fault_usage()
    assert "lag=SECONDS" in usage and "silence=CHANNEL" in usage and "gap-every=N" in usage


def test_silence_of_an_unknown_channel_fails_from_the_command_line_spec():
    with pytest.raises(ConfigError, match="silence must be one of"):
        faults_from(["silence=candles"])
