"""Coverage-guided fuzzing of both venues' handlers with atheris (libFuzzer).

Each input's first byte picks a venue and a frame type (binary or text), the rest is the
frame, handed to a long-lived
handler; a crash is anything escaping ``handle()``, a frame counted twice, or a frame
counted as ``internal_error`` (a ws_stack bug). The corpus starts from the real fixture
frames. Bounded by libFuzzer's ``-runs``; run it as::

    .venv/bin/python -m tests.reliability.fuzz_atheris -runs=200000 --seed CORPUS_DIR

``tests/reliability/test_atheris.py`` runs it for a fixed number of inputs.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["ws_stack"]):
    from ws_stack.exceptions import FrameErrorReason
    from ws_stack.gateio.handler import GateioHandler
    from ws_stack.handler import MessageHandler
    from ws_stack.messages import WebSocketMessageType
    from ws_stack.mexc.handler import MexcHandler

_HANDLERS: list[MessageHandler] = [MexcHandler(), GateioHandler()]
_errors: list[object] = []
for _handler in _HANDLERS:
    _handler.on_error(_errors.append)
    for _msg_type in WebSocketMessageType:
        _handler.on(_msg_type, lambda message: None)


def test_one_input(data: bytes) -> None:
    """One libFuzzer input: a selector byte (bit 0: venue, bit 1: text frame), the frame."""
    if not data:
        return
    handler = _HANDLERS[data[0] & 1]
    frame: bytes | str = data[1:].decode("utf-8", "replace") if data[0] & 2 else data[1:]
    before = handler.stats()
    _errors.clear()
    delivered = handler.handle(frame)
    after = handler.stats()
    assert after.frames == before.frames + 1
    assert len(_errors) <= 1
    if _errors:
        assert delivered == 0
        error = _errors[0]
        assert error.reason is not FrameErrorReason.INTERNAL_ERROR, str(error)  # type: ignore[attr-defined]
        assert after.failed_frames == before.failed_frames + 1


def seed_corpus(folder: Path) -> int:
    """Write the fixture frames, with their selector byte, as the starting corpus."""
    from ws_stack.frames import read_frames

    fixtures = Path(__file__).resolve().parents[1] / "fixtures"
    folder.mkdir(parents=True, exist_ok=True)
    count = 0
    for venue_bit, venue in enumerate(("mexc", "gateio")):
        for kind in ("frames", "bad_frames"):
            for recorded in read_frames(fixtures / f"{venue}_{kind}.jsonl"):
                text = isinstance(recorded.data, str)
                raw = recorded.data.encode() if text else recorded.data
                (folder / f"{venue}-{kind}-{count}").write_bytes(
                    bytes([venue_bit | (2 if text else 0)]) + raw
                )
                count += 1
    return count


def main() -> None:
    logging.disable(logging.CRITICAL)  # the first bad frame of each reason is logged
    args = [arg for arg in sys.argv if arg != "--seed"]
    if len(args) < len(sys.argv):  # --seed DIR: fill DIR with the fixtures first
        seed_corpus(Path(args[-1]))
    atheris.Setup(args, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
