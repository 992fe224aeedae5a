"""``ws-stack stream`` and ``ws-stack record`` against the embedded simulator."""

import re

import pytest
from transports import TRANSPORT_PARAMS

from ws_stack.cli import main
from ws_stack.frames import read_frames
from ws_stack.messages import Venue
from ws_stack.venues import make_handler


def frames_and_quotes(output):
    frames = int(re.search(r"^  frames\s+(\d+)", output, re.M).group(1))
    quote = re.search(r"best bid (\d+(?:\.\d+)?) x \S+ / best ask (\d+(?:\.\d+)?) x", output)
    return frames, quote


@pytest.mark.parametrize(
    ("venue", "symbol", "shown"),
    [
        ("mexc", "BTCUSDT", "BTCUSDT"),
        ("gateio", "BTC_USDT", "BTC_USDT"),
        ("gateio", "BTCUSDT", "BTC_USDT"),
    ],
)
def test_stream_prints_a_final_summary_with_frames_and_best_bid_ask(capsys, venue, symbol, shown):
    assert main(["stream", "--venue", venue, "--symbol", symbol, "--duration", "1.5"]) == 0
    out = capsys.readouterr().out
    assert f"ws-stack stream: {venue} {shown} via ws://127.0.0.1:" in out
    assert "(embedded simulator)" in out
    frames, quote = frames_and_quotes(out)
    assert frames > 0
    assert quote is not None and float(quote.group(1)) < float(quote.group(2))
    assert "book live" in out
    # Not a terminal: periodic plain lines, no carriage returns.
    assert "frames/s" in out and "\r" not in out


def test_stream_channels_subset(capsys):
    assert (
        main(
            [
                "stream",
                "--venue",
                "mexc",
                "--symbol",
                "ETHUSDT",
                "--channels",
                "trades",
                "--duration",
                "1",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "trade=" in out and "order_book" not in out
    assert "best bid - / best ask -" in out  # nothing subscribed that carries quotes


@pytest.mark.parametrize("transport", TRANSPORT_PARAMS)
@pytest.mark.parametrize(("venue", "symbol"), [("mexc", "BTCUSDT"), ("gateio", "BTC_USDT")])
def test_record_writes_a_replayable_frames_file(capsys, tmp_path, venue, symbol, transport):
    out_file = tmp_path / "capture.jsonl"
    argv = ["record", "--venue", venue, "--symbol", symbol, "--out", str(out_file),
            "--duration", "1", "--transport", transport]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    recorded = int(re.search(r"recorded\s+(\d+) frames to", out).group(1))
    frames = list(read_frames(out_file))
    assert len(frames) == recorded > 0
    assert all(frame.ts_ns > 0 for frame in frames)
    if venue == "mexc":  # protobuf pushes stay binary, control replies stay text
        assert {type(frame.data) for frame in frames} == {bytes, str}
    handler = make_handler(Venue(venue))
    for frame in frames:
        handler.handle(frame.data)
    stats = handler.stats()
    assert stats.failed_frames == 0 and stats.messages["trade"] > 0


@pytest.mark.parametrize(
    "argv",
    [
        ["stream", "--venue", "mexc", "--symbol", "BTCUSDT", "--duration", "-1"],
        ["stream", "--venue", "mexc", "--symbol", "BTCUSDT", "--channels", "candles"],
        ["stream", "--venue", "mexc", "--symbol", "BTCUSDT", "--url", "ws://x", "--live"],
        ["stream", "--venue", "kraken", "--symbol", "BTCUSDT"],
        ["record", "--venue", "mexc", "--symbol", "BTCUSDT"],
        ["stream", "--venue", "mexc", "--symbol", "BTCUSDT", "--transport", "aiohttp"],
    ],
)
def test_usage_errors_exit_2(capsys, argv):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert "ws-stack" in capsys.readouterr().err


def test_bad_symbol_is_reported(capsys):
    assert main(["stream", "--venue", "gateio", "--symbol", "FOOBAR", "--duration", "1"]) == 2
    assert "BASE_QUOTE" in capsys.readouterr().err


def test_stream_monitors_alerts_and_exports(capsys, tmp_path):
    export = tmp_path / "monitor.jsonl"
    argv = [
        "stream",
        "--venue",
        "gateio",
        "--symbol",
        "BTC_USDT",
        "--duration",
        "2",
        "--monitor-interval",
        "0.4",
        "--fault",
        "malformed-every=5",
        "--export",
        str(export),
        "--metrics-port",
        "0",
        "--alert",
        "slow_handler=off",
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert re.search(r"^metrics: http://127\.0\.0\.1:\d+/metrics$", out, re.M)
    assert re.search(r"^alert RAISED: critical very_high_error_rate: error_rate \d", out, re.M)
    assert "| ALERT " in out  # the status line names the active alerts
    assert re.search(r"^  alerts\s+\d+ raised, active: .*very_high_error_rate", out, re.M)
    lines = export.read_text().splitlines()
    assert len(lines) >= 3 and all('"error_rate"' in line for line in lines)


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--alert", "nope=1"], "unknown alert rule 'nope'"),
        (["--alert", "slow_handler"], "NAME=THRESHOLD"),
        (["--metrics-port", "70000"], "0 to 65535"),
        (["--fault", "bogus=1"], "bad fault 'bogus=1'"),
        (["--fault", "gap-every=3", "--url", "ws://127.0.0.1:9"], "embedded simulator"),
    ],
)
def test_bad_monitor_or_fault_settings_exit_2(capsys, option, message):
    argv = ["stream", "--venue", "gateio", "--symbol", "BTC_USDT", "--duration", "1", *option]
    assert main(argv) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("transport", TRANSPORT_PARAMS)
@pytest.mark.parametrize(("venue", "symbol"), [("mexc", "BTCUSDT"), ("gateio", "BTC_USDT")])
def test_stream_on_either_transport_keeps_books_through_gaps(capsys, venue, symbol, transport):
    argv = ["stream", "--venue", venue, "--symbol", symbol, "--transport", transport,
            "--duration", "2", "--fault", "gap-every=10"]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert f"(embedded simulator) on {transport}" in out
    book = re.search(r"book live, (\d+) snapshots, \d+ deltas, (\d+) resyncs", out)
    assert book is not None, out
    assert int(book.group(2)) >= 1
    assert re.search(r"^  errors\s+0 ", out, re.M), out


def test_stream_keeps_an_obu_book_and_resyncs_by_resubscribing(capsys):
    argv = ["stream", "--venue", "gateio", "--symbol", "BTC_USDT", "--channels", "obu",
            "--duration", "2", "--fault", "gap-every=10"]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    book = re.search(r"book live, (\d+) snapshots, \d+ deltas, (\d+) resyncs", out)
    assert book is not None, out
    snapshots, resyncs = int(book.group(1)), int(book.group(2))
    assert resyncs >= 1 and snapshots == resyncs + 1
