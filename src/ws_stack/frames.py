"""Frames files: a JSON Lines record of received WebSocket frames.

One frame per line, ``{"ts_ns": <int>, "text": "<frame>"}`` for a text frame or
``{"ts_ns": <int>, "binary_b64": "<base64>"}`` for a binary frame. ``ts_ns`` is the
receive time in nanoseconds (``time.time_ns()``). The format is what ``ws-stack record``
writes, the simulator replays, and ``ws-stack decode`` and the benchmarks read.
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

import msgspec

from ws_stack.exceptions import WsStackError

__all__ = ["FramesFileError", "RecordedFrame", "dump_frame", "read_frames", "write_frames"]


class FramesFileError(WsStackError):
    """A frames file that does not follow the format; names the line."""


class RecordedFrame(msgspec.Struct, frozen=True):
    """One frame as received: ``str`` for a text frame, ``bytes`` for a binary one."""

    data: bytes | str
    ts_ns: int = 0


class _Line(msgspec.Struct, forbid_unknown_fields=True):
    ts_ns: int = 0
    text: str | None = None
    binary_b64: str | None = None


_decode_line = msgspec.json.Decoder(_Line).decode
_encode = msgspec.json.Encoder().encode


def read_frames(path: str | Path) -> Iterator[RecordedFrame]:
    """Yield the frames of a frames file in order; blank lines are skipped."""
    with open(path, "rb") as file:
        for number, raw in enumerate(file, start=1):
            if raw.strip():
                yield _parse_line(raw, number, path)


def _parse_line(raw: bytes, number: int, path: str | Path) -> RecordedFrame:
    try:
        line = _decode_line(raw)
    except msgspec.DecodeError as exc:
        raise FramesFileError(f"{path}:{number}: not a frames-file line: {exc}") from None
    if (line.text is None) == (line.binary_b64 is None):
        raise FramesFileError(
            f"{path}:{number}: a line needs exactly one of 'text' or 'binary_b64'"
        )
    if line.text is not None:
        return RecordedFrame(line.text, line.ts_ns)
    try:
        data = base64.b64decode(line.binary_b64 or "", validate=True)
    except binascii.Error as exc:
        raise FramesFileError(f"{path}:{number}: bad base64 in 'binary_b64': {exc}") from None
    return RecordedFrame(data, line.ts_ns)


def dump_frame(data: bytes | str, ts_ns: int | None = None) -> bytes:
    """One frames-file line (with its newline) for a frame received at ``ts_ns``."""
    stamp = time.time_ns() if ts_ns is None else ts_ns
    if isinstance(data, str):
        line = {"ts_ns": stamp, "text": data}
    else:
        line = {"ts_ns": stamp, "binary_b64": base64.b64encode(data).decode("ascii")}
    return _encode(line) + b"\n"


def write_frames(out: IO[bytes], frames: Iterable[bytes | str | RecordedFrame]) -> int:
    """Write frames to a binary stream; return how many were written."""
    count = 0
    for frame in frames:
        if isinstance(frame, RecordedFrame):
            out.write(dump_frame(frame.data, frame.ts_ns))
        else:
            out.write(dump_frame(frame))
        count += 1
    return count
