"""The ``ws-stack`` command line.

``ws-stack decode --venue {mexc,gateio} FILE [--strict]`` decodes a frames file (see
:mod:`ws_stack.frames`) and prints one JSON object per frame: its message type and decoded
messages, or the reason it could not be handled.

``ws-stack stream --venue V --symbol S [--channels ...] [--url URL] [--duration S]``
streams live market data with local order books and shows a one-line summary, refreshed
in place; ``ws-stack record ... --out FILE`` writes the received frames to a frames file.
Without ``--url`` (or ``--live``) both run against an embedded venue simulator (``--fault``
makes it misbehave). Both run the monitor: alerts print as they are raised and cleared,
``--metrics-port`` serves Prometheus metrics, ``--export`` appends a report per interval.

``ws-stack --version`` prints the version and whether the compiled (Cython) modules run
(:func:`ws_stack.implementation.describe`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import shutil
import sys
from collections.abc import Coroutine, Sequence
from typing import Any, NoReturn, TextIO

import msgspec

from ws_stack import __version__, implementation
from ws_stack.asyncio import monitor as monitor_module
from ws_stack.asyncio.monitor import DEFAULT_INTERVAL, Monitor
from ws_stack.asyncio.stream import (
    DEFAULT_KINDS,
    MarketStream,
    StreamSummary,
    format_status_line,
    format_summary,
)
from ws_stack.asyncio.transport import DEFAULT_TRANSPORT, TRANSPORTS
from ws_stack.exceptions import ConfigError, ConnectionFailed, FrameError, WsStackError
from ws_stack.frames import dump_frame, read_frames
from ws_stack.messages import Message, Venue, WebSocketMessageType
from ws_stack.monitor import DEFAULT_RULES, AlertEvent, configure_rules, parse_rule_setting
from ws_stack.protocol import ChannelKind
from ws_stack.sim import SimConfig, VenueSimulator
from ws_stack.sim.cli import add_fault_argument
from ws_stack.sim.cli import add_parser as add_sim_parser
from ws_stack.sim.config import FaultConfig, faults_from
from ws_stack.venues import make_handler

__all__ = ["main"]

EXIT_USAGE = 2
#: Exit status after Ctrl-C (128 + SIGINT), as shells report it.
EXIT_INTERRUPTED = 130
#: Exit status when the reader of stdout went away (128 + SIGPIPE), e.g. ``| head``.
EXIT_BROKEN_PIPE = 141
VENUE_NAMES = [venue.value for venue in Venue]
CHANNEL_NAMES = [kind.value for kind in ChannelKind]
#: What ``ws-stack --help`` says first (plain text: argparse prints it as is).
DESCRIPTION = (
    "Decode frames files, stream live market data with local order books and a monitor, "
    "record frames, or run a venue simulator on 127.0.0.1. MEXC spot v3 and Gate.io spot v4."
)
#: Push rate of the embedded simulator, per channel.
SIM_RATE_HZ = 50.0

_encode_line = msgspec.json.Encoder().encode


class _ArgumentParser(argparse.ArgumentParser):
    """argparse with errors on one line (``ws-stack: error: ...``) and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


class _VersionAction(argparse.Action):
    """``--version``: argparse's own would wrap the line to the terminal's width, and would
    look the compiled modules up on every run, not only when asked."""

    def __init__(self, option_strings: Sequence[str], dest: str, help: str | None = None) -> None:
        super().__init__(
            option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, nargs=0, help=help
        )

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> NoReturn:
        print(_version_line())  # to stdout, as argparse's own version action does
        parser.exit()


def _version_line() -> str:
    """What ``ws-stack --version`` prints: the version, and which implementation runs."""
    return f"ws-stack {__version__} ({implementation.describe()})"


def _build_parser() -> argparse.ArgumentParser:
    parser = _ArgumentParser(prog="ws-stack", description=DESCRIPTION)
    parser.add_argument(
        "--version",
        action=_VersionAction,
        help="show the version and whether the compiled (Cython) modules run, then exit",
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_ArgumentParser)

    decode = commands.add_parser("decode", help="decode a frames file into typed messages")
    decode.add_argument("--venue", required=True, choices=VENUE_NAMES)
    decode.add_argument("file", help="frames file (JSON Lines, see ws_stack.frames)")
    decode.add_argument(
        "--strict", action="store_true", help="exit with status 1 if any frame failed"
    )
    decode.set_defaults(run=_run_decode)

    stream = commands.add_parser(
        "stream", help="stream live market data with local order books, showing a summary"
    )
    _add_stream_arguments(stream)
    stream.set_defaults(run=_run_stream)

    record = commands.add_parser("record", help="write received frames to a frames file")
    _add_stream_arguments(record)
    record.add_argument("--out", required=True, help="frames file to write (JSON Lines)")
    record.set_defaults(run=_run_record)

    add_sim_parser(commands)
    return parser


def _run_decode(args: argparse.Namespace) -> int:
    handler = make_handler(Venue(args.venue))
    decoded: list[tuple[str, Any]] = []
    errors: list[FrameError] = []

    def keep(message: Message) -> None:
        # Convert inside the callback: pooled order-book levels are on loan until it returns.
        decoded.append((message.msg_type.value, msgspec.to_builtins(message)))

    for msg_type in WebSocketMessageType:
        handler.on(msg_type, keep)
    handler.on_error(errors.append)

    out = sys.stdout.buffer
    failed = 0
    for index, frame in enumerate(read_frames(args.file)):
        decoded.clear()
        errors.clear()
        handler.handle(frame.data)
        line: dict[str, Any] = {"frame": index}
        if decoded:
            line["type"] = decoded[0][0]
            line["messages"] = [fields for _, fields in decoded]
        if errors:
            failed += 1
            error = errors[0]
            line.update(error=error.reason.value, detail=error.detail, excerpt=error.excerpt)
        out.write(_encode_line(line) + b"\n")
    out.flush()
    return 1 if args.strict and failed else 0


def _add_stream_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--venue", required=True, choices=VENUE_NAMES)
    parser.add_argument(
        "--symbol",
        required=True,
        action="append",
        help="symbol, e.g. BTCUSDT (Gate.io: BTC_USDT); repeat for several",
    )
    parser.add_argument(
        "--channels",
        nargs="+",
        choices=CHANNEL_NAMES,
        default=[kind.value for kind in DEFAULT_KINDS],
        metavar="CHANNEL",
        help=f"channels to subscribe to: {', '.join(CHANNEL_NAMES)} "
        f"(default: {' '.join(kind.value for kind in DEFAULT_KINDS)})",
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--url", help="WebSocket URL to connect to (default: an embedded simulator)"
    )
    source.add_argument(
        "--live", action="store_true", help="connect to the venue's public endpoints"
    )
    parser.add_argument(
        "--rest-url",
        help="REST base URL for order-book snapshots (default: the simulator's with no "
        "--url, else the venue's public REST API)",
    )
    parser.add_argument(
        "--duration", type=_seconds, default=None, help="stop after S seconds (default: Ctrl-C)"
    )
    parser.add_argument(
        "--transport",
        choices=TRANSPORTS,
        default=DEFAULT_TRANSPORT,
        help=f"WebSocket library (default: {DEFAULT_TRANSPORT}); picows is several times "
        "cheaper per frame and needs: pip install 'ws_stack[picows]'",
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=SIM_RATE_HZ,
        help=f"embedded simulator: pushes per second per channel (default: {SIM_RATE_HZ:g})",
    )
    add_fault_argument(parser, prefix="embedded simulator: ")
    monitor = parser.add_argument_group("monitoring")
    monitor.add_argument(
        "--monitor-interval",
        type=_seconds,
        default=DEFAULT_INTERVAL,
        metavar="S",
        help=f"sample metrics and check alerts every S seconds (default: {DEFAULT_INTERVAL:g})",
    )
    monitor.add_argument(
        "--metrics-port",
        type=int,
        default=None,
        metavar="PORT",
        help="serve Prometheus metrics on http://127.0.0.1:PORT/metrics (0: any free port)",
    )
    monitor.add_argument(
        "--export",
        metavar="FILE",
        default=None,
        help="append one JSON Lines report per monitor interval to FILE",
    )
    monitor.add_argument(
        "--alert",
        action="append",
        default=[],
        metavar="NAME=THRESHOLD",
        help="change an alert rule's threshold, or switch it off with NAME=off; repeatable; "
        "rules: " + ", ".join(f"{rule.name} ({rule.describe()})" for rule in DEFAULT_RULES),
    )


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds: {text!r}")
    return value


def _run_stream(args: argparse.Namespace) -> int:
    return _run_async(_stream(args, out_path=None))


def _run_record(args: argparse.Namespace) -> int:
    return _run_async(_stream(args, out_path=args.out))


def _run_async(main: Coroutine[Any, Any, int]) -> int:
    try:
        return asyncio.run(main)
    except KeyboardInterrupt:  # a second Ctrl-C while shutting down: give up quietly
        return EXIT_INTERRUPTED


async def _stream(args: argparse.Namespace, *, out_path: str | None) -> int:
    """Run ``stream`` or ``record``; on Ctrl-C stop cleanly and still print the summary."""
    venue = Venue(args.venue)
    kinds = [ChannelKind(name) for name in args.channels]
    # Settings fail here, before a socket is opened.
    rules = configure_rules(dict(parse_rule_setting(text) for text in args.alert))
    faults = faults_from(args.fault)
    if faults.any and (args.url or args.live):
        raise ConfigError("--fault applies to the embedded simulator: drop --url / --live")
    async with contextlib.AsyncExitStack() as stack:
        url, rest_url, source = args.url, args.rest_url, args.url
        if args.live:
            url = source = None  # the venue's defaults
        elif url is None:
            sim = await stack.enter_async_context(_embedded_simulator(venue, args, faults))
            url, rest_url = sim.ws_url, rest_url or sim.rest_url
            source = f"{sim.ws_url} (embedded simulator)"
        tap = None
        recorded = [0]
        if out_path is not None:
            out = stack.enter_context(open(out_path, "wb"))  # noqa: SIM115 - closed by the stack

            def tap(frame: bytes | str) -> None:
                out.write(dump_frame(frame))
                recorded[0] += 1

        stream = MarketStream(
            venue,
            args.symbol,
            kinds,
            url=url,
            rest_url=rest_url,
            books=out_path is None,
            frame_tap=tap,
            transport=args.transport,
        )
        title = (
            f"ws-stack {'record' if out_path else 'stream'}: {venue.value} "
            f"{' '.join(stream.symbols)} via {source or stream.url} on {args.transport}"
        )
        view = _LiveView(sys.stdout)
        monitor = Monitor(
            [stream],
            interval=args.monitor_interval,
            rules=rules,
            metrics_port=args.metrics_port,
            export=args.export,
            on_alert=view.alert,
        )
        # The live view prints the alerts; without a handler of its own, the monitor's log
        # would print them a second time through logging's last-resort stderr handler.
        logging.getLogger(monitor_module.__name__).addHandler(logging.NullHandler())
        await stack.enter_async_context(monitor)
        if monitor.metrics_url is not None:
            print(f"metrics: {monitor.metrics_url}", flush=True)
        interrupted = False
        summary = None
        try:
            summary = await stream.run(args.duration, on_tick=view.update)
        except asyncio.CancelledError:
            # Ctrl-C: asyncio.run cancelled us; stop cleanly and report what we have.
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()
            interrupted = True
        except ConnectionFailed as exc:
            view.finish()
            print(f"ws-stack: error: {exc}", file=sys.stderr)
            print(format_summary(stream.summary(), title=title))
            print(_alerts_line(monitor))
            return 1
        view.finish()
        if summary is None:
            summary = stream.summary()
        print(format_summary(summary, title=title + (" (interrupted)" if interrupted else "")))
        print(_alerts_line(monitor))
        if out_path is not None:
            print(f"  recorded     {recorded[0]} frames to {out_path}")
        sys.stdout.flush()
    return EXIT_INTERRUPTED if interrupted else 0


def _embedded_simulator(
    venue: Venue, args: argparse.Namespace, faults: FaultConfig
) -> VenueSimulator:
    return VenueSimulator(
        venue, SimConfig(symbols=tuple(args.symbol), rate_hz=args.rate, faults=faults)
    )


def _alerts_line(monitor: Monitor) -> str:
    active = ", ".join(rule.name for rule in monitor.alerts.active) or "none"
    return f"  alerts       {monitor.alerts.raised} raised, active: {active}"


class _LiveView:
    """The one-line live summary: redrawn in place on a terminal, one line per tick else."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._tty = out.isatty()
        self._drawn = False
        self._last: tuple[float, int] | None = None
        self._alerts: dict[str, str] = {}

    def update(self, summary: StreamSummary) -> None:
        now, frames = summary.elapsed_s, summary.metrics.frames
        last = self._last
        rate = (
            (frames - last[1]) / (now - last[0])
            if last and now > last[0]
            else (summary.frames_per_s)
        )
        self._last = (now, frames)
        line = format_status_line(summary, rate)
        if self._alerts:
            line += f" | ALERT {' '.join(self._alerts)}"
        if self._tty:
            # A line longer than the terminal wraps and '\r' could not redraw it.
            width = shutil.get_terminal_size().columns - 1
            self._out.write(f"\r{line[:width]}\x1b[K")
            self._drawn = True
        else:
            self._out.write(line + "\n")
        self._out.flush()

    def alert(self, event: AlertEvent) -> None:
        """Print an alert raised or cleared on its own line, above the status line."""
        if event.raised:
            self._alerts[event.rule.name] = event.rule.severity.value
        else:
            self._alerts.pop(event.rule.name, None)
        if self._drawn:
            self._out.write("\r\x1b[K")
            self._drawn = False
        self._out.write(event.describe() + "\n")
        self._out.flush()

    def finish(self) -> None:
        if self._drawn:
            self._out.write("\n")
            self._drawn = False
        self._out.flush()


def main(argv: Sequence[str] | None = None) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except BrokenPipeError:
        # The reader stopped early (``ws-stack decode ... | head``): not an error to report.
        # Point stdout at /dev/null so the interpreter's final flush does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except FileNotFoundError as exc:
        print(f"ws-stack: error: no such file: {exc.filename}", file=sys.stderr)
    except (OSError, WsStackError) as exc:
        print(f"ws-stack: error: {exc}", file=sys.stderr)
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
