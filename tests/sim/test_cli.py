import argparse
import io
import json
import re
import threading
import time

import pytest

from ws_stack.exceptions import ConfigError
from ws_stack.sim.cli import add_parser, config_from_args, run


def parse(*argv):
    parser = argparse.ArgumentParser(prog="ws-stack")
    add_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["sim", *argv])


def test_defaults():
    config = config_from_args(parse("--venue", "gateio"))
    assert config.symbols == ("BTC_USDT",)
    assert config.rate_hz == 10.0
    assert not config.faults.any


def test_faults_and_symbols():
    args = parse(
        "--venue",
        "mexc",
        "--symbols",
        "BTCUSDT, ETHUSDT",
        "--rate",
        "250",
        "--fault",
        "close-after=100",
        "--fault",
        "stall-after=5",
        "--fault",
        "stall-seconds=2.5",
        "--fault",
        "refuse-for=1",
    )
    config = config_from_args(args)
    assert config.symbols == ("BTCUSDT", "ETHUSDT")
    assert config.rate_hz == 250.0
    assert config.faults.close_after_frames == 100
    assert config.faults.stall_after_frames == 5
    assert config.faults.stall_seconds == 2.5
    assert config.faults.refuse_connections_for == 1.0


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--fault", "explode=1"], "close-after="),
        (["--fault", "gap-every=-1"], "gap_every"),
        (["--rate", "-5"], "rate_hz"),
        (["--duration", "0"], "duration"),
        (["--symbols", ","], "empty"),
    ],
)
def test_bad_arguments_are_one_line_config_errors(argv, words):
    with pytest.raises(ConfigError, match=words) as info:
        config_from_args(parse("--venue", "mexc", *argv))
    assert "\n" not in str(info.value)


def test_run_prints_where_it_listens_and_final_stats():
    out = io.StringIO()
    assert run(parse("--venue", "mexc", "--duration", "0.3"), out) == 0
    first, last = out.getvalue().splitlines()
    assert re.search(r"ws://127\.0\.0\.1:\d+/ws \(REST http://127\.0\.0\.1:\d+\)", first)
    assert last.startswith("ws-stack sim: stopped; connections accepted=0")


def test_run_serves_rest_while_running():
    out = io.StringIO()
    thread = threading.Thread(
        target=run, args=(parse("--venue", "gateio", "--duration", "1.5"), out)
    )
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while "REST" not in out.getvalue() and time.monotonic() < deadline:
            time.sleep(0.02)
        url = re.search(r"REST (http://\S+)\)", out.getvalue()).group(1)
        from urllib.request import urlopen

        with urlopen(
            f"{url}/api/v4/spot/order_book?currency_pair=BTC_USDT&with_id=true", timeout=5
        ) as response:
            assert "id" in json.loads(response.read())
    finally:
        thread.join(timeout=10)
    assert "rest=1" in out.getvalue()
