"""``ws-stack decode`` and ``ws-stack --version``: the console script, run as a user would."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import ws_stack
from ws_stack.cli import main
from ws_stack.frames import read_frames
from ws_stack.implementation import TWINS

FIXTURES = Path(__file__).parent / "fixtures"
# The script installed next to the interpreter running the tests, not whatever is on PATH.
WS_STACK = str(Path(sys.executable).parent / "ws-stack")


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [WS_STACK, *args], capture_output=True, text=True, timeout=60, check=False, env=env
    )


@pytest.mark.parametrize("venue", ["mexc", "gateio"])
def test_decode_prints_every_frame_of_the_fixtures(venue):
    path = FIXTURES / f"{venue}_frames.jsonl"
    result = run("decode", "--venue", venue, str(path))
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["frame"] for line in lines] == list(range(len(list(read_frames(path)))))
    assert not [line for line in lines if "error" in line]
    types = {line["type"] for line in lines}
    assert {"trade", "order_book", "book_ticker", "subscription", "pong", "error"} <= types
    book = next(line for line in lines if line["type"] == "order_book")
    (update,) = book["messages"]
    assert update["venue"] == venue
    assert all(len(level) == 2 for level in update["bids"] + update["asks"])


@pytest.mark.parametrize("venue", ["mexc", "gateio"])
def test_bad_frames_print_error_lines_and_exit_zero(venue):
    path = FIXTURES / f"{venue}_bad_frames.jsonl"
    result = run("decode", "--venue", venue, str(path))
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    errors = [line for line in lines if "error" in line]
    assert errors, "the bad fixtures must produce error lines"
    assert all({"frame", "error", "detail", "excerpt"} <= line.keys() for line in errors)
    assert {"malformed_json", "empty_frame"} <= {line["error"] for line in errors}


def test_strict_exits_one_when_a_frame_failed():
    result = run(
        "decode", "--venue", "gateio", "--strict", str(FIXTURES / "gateio_bad_frames.jsonl")
    )
    assert result.returncode == 1
    good = run("decode", "--venue", "gateio", "--strict", str(FIXTURES / "gateio_frames.jsonl"))
    assert good.returncode == 0


def test_missing_file_is_a_one_line_error():
    result = run("decode", "--venue", "mexc", "no/such/file.jsonl")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "ws-stack: error: no such file: no/such/file.jsonl"
    ]


def test_unknown_venue_is_a_one_line_error():
    result = run("decode", "--venue", "binance", str(FIXTURES / "mexc_frames.jsonl"))
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert "invalid choice: 'binance'" in line and "mexc" in line


def test_malformed_frames_file_is_a_clear_error(tmp_path):
    path = tmp_path / "broken.jsonl"
    path.write_text('{"ts_ns": 1}\n')
    result = run("decode", "--venue", "mexc", str(path))
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert "broken.jsonl:1" in line


def test_a_reader_that_stops_early_gets_no_error():
    # ws-stack decode ... | head -1: the pipe closes after the first line.
    with subprocess.Popen(
        [WS_STACK, "decode", "--venue", "mexc", str(FIXTURES / "mexc_frames.jsonl")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        first = process.stdout.readline()
        process.stdout.close()
        stderr = process.stderr.read().decode()
        status = process.wait(timeout=60)
    assert json.loads(first)["frame"] == 0
    assert status in (0, 141)
    assert "Broken pipe" not in stderr and "Traceback" not in stderr


@pytest.mark.parametrize("argv", [[], ["decode"], ["stream"], ["record"], ["sim"]])
def test_help_is_plain_text(capsys, argv):
    with pytest.raises(SystemExit) as info:
        main([*argv, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: ws-stack")
    for markup in ("``", ":mod:", ":class:", ":func:", "::"):
        assert markup not in out, markup


@pytest.mark.parametrize("no_extensions", [False, True])
def test_version_says_which_implementation_runs(no_extensions):
    env = {key: value for key, value in os.environ.items() if key != "WS_STACK_NO_EXTENSIONS"}
    if no_extensions:
        env["WS_STACK_NO_EXTENSIONS"] = "1"
    result = run("--version", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    (line,) = result.stdout.splitlines()  # one line, however narrow the terminal
    assert line.startswith(f"ws-stack {ws_stack.__version__} (")
    if no_extensions:
        assert line.endswith("(pure Python (WS_STACK_NO_EXTENSIONS is set))")
    elif all(importlib.util.find_spec(name) is not None for name in TWINS):
        # This environment's install built the twins (make setup does, with a compiler).
        assert line.endswith(f"(compiled (Cython): {', '.join(sorted(TWINS))})")
    else:
        assert "pure Python (" in line and "not built" in line
