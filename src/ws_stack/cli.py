"""The ``ws-stack`` command line.

``ws-stack decode --venue {mexc,gateio} FILE [--strict]`` decodes a frames file (see
:mod:`ws_stack.frames`) and prints one JSON object per frame: its message type and decoded
messages, or the reason it could not be handled.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import msgspec

from ws_stack.exceptions import FrameError, WsStackError
from ws_stack.frames import read_frames
from ws_stack.messages import Message, Venue, WebSocketMessageType
from ws_stack.venues import make_handler

__all__ = ["main"]

EXIT_USAGE = 2
VENUE_NAMES = [venue.value for venue in Venue]

_encode_line = msgspec.json.Encoder().encode


class _ArgumentParser(argparse.ArgumentParser):
    """argparse with errors on one line (``ws-stack: error: ...``) and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _build_parser() -> argparse.ArgumentParser:
    parser = _ArgumentParser(prog="ws-stack", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_ArgumentParser)

    decode = commands.add_parser("decode", help="decode a frames file into typed messages")
    decode.add_argument("--venue", required=True, choices=VENUE_NAMES)
    decode.add_argument("file", help="frames file (JSON Lines, see ws_stack.frames)")
    decode.add_argument(
        "--strict", action="store_true", help="exit with status 1 if any frame failed"
    )
    decode.set_defaults(run=_run_decode)
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except FileNotFoundError as exc:
        print(f"ws-stack: error: no such file: {exc.filename}", file=sys.stderr)
    except (OSError, WsStackError) as exc:
        print(f"ws-stack: error: {exc}", file=sys.stderr)
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
