"""Differential fuzzing of the compiled Gate.io order-book delta reader against its
references, with atheris.

Each input is a frame, and makes another: a delta push whose levels' numbers and spacing
come from the input (:func:`_delta_from`). Each frame is given as ``bytes`` and (where it
is ASCII) as ``str`` to the compiled ``parse_order_book_update`` and ``parse_update``
(``ws_stack.gateio._updates``, which read deltas from their JSON text) and to their
pure-Python references (``decoder._reference_parse_order_book_update``,
``decoder._reference_parse_update``). A crash is a difference (messages compared as
MessagePack, so float bits count; errors by reason and text), an exception other than
:class:`FrameError`, or the process dying (a read out of bounds). The corpus starts from
the Gate.io fixture frames and the encoder's deltas. Run it as::

    .venv/bin/python -m tests.reliability.fuzz_gateio_updates -runs=1000000 --seed CORPUS_DIR

``tests/reliability/test_atheris.py`` runs it for a fixed number of inputs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["ws_stack"]):
    import msgspec

    from ws_stack import implementation
    from ws_stack.exceptions import FrameError
    from ws_stack.gateio import decoder

_compiled = implementation.compiled("ws_stack.gateio._updates")
if _compiled is None:
    sys.exit("the compiled Gate.io twin is not built: nothing to compare")
_encode = msgspec.msgpack.encode
#: Inputs compared, and how many of them the compiled reader settled itself (printed every
#: REPORT_EVERY inputs: libFuzzer ends the process without Python's exit handlers).
_settled = [0, 0]
REPORT_EVERY = 10_000


def _outcome(parse: object, frame: bytes | str) -> object:
    try:
        message = parse(frame)  # type: ignore[operator]
    except FrameError as exc:
        return (exc.reason, str(exc))
    try:
        return _encode(message)
    except (msgspec.EncodeError, OverflowError):  # an id past 64 bits, which JSON allows
        return repr(message)  # repr gives floats exactly too


def _compare(frame: bytes | str) -> None:
    pairs = (
        (_compiled.parse_order_book_update, decoder._reference_parse_order_book_update),
        (_compiled.parse_update, decoder._reference_parse_update),
    )
    for compiled_parse, reference_parse in pairs:
        compiled, reference = _outcome(compiled_parse, frame), _outcome(reference_parse, frame)
        if compiled != reference:
            raise AssertionError(
                f"{compiled_parse.__name__}: compiled {compiled!r} != reference {reference!r}"
                f" for {frame!r}"
            )


#: What the numbers of a delta made from an input are written with (digits the most).
_NUMBER_TEXT = b"0123456789" * 4 + b".-eE +"


def _delta_from(data: bytes) -> bytes:
    """A delta push whose levels' numbers (and the spacing between tokens) come from the
    input: the frames the reader settles, or nearly does, which mutation of whole frames
    rarely reaches (libFuzzer's coverage does not see into the compiled reader)."""
    provider = atheris.FuzzedDataProvider(data)
    spaced = provider.ConsumeBool()
    numbers = []
    for _ in range(provider.ConsumeIntInRange(0, 8)):
        raw = provider.ConsumeBytes(provider.ConsumeIntInRange(0, 24))
        numbers.append(bytes(_NUMBER_TEXT[byte % len(_NUMBER_TEXT)] for byte in raw).decode())
    levels = [numbers[i : i + 2] for i in range(0, len(numbers) - 1, 2)]
    frame = msgspec.json.encode({
        "time": 1, "channel": "spot.order_book_update", "event": "update",
        "result": {"t": 2, "s": "BTC_USDT", "U": 3, "u": 4, "b": levels, "a": levels[::-1]},
    })  # fmt: skip
    return frame.replace(b",", b" ,\n\t") if spaced else frame


def test_one_input(data: bytes) -> None:
    for frame in (data, _delta_from(data)):
        _compare(frame)
        if frame.isascii():
            _compare(frame.decode("ascii"))
        _settled[0] += 1
        if _compiled.read_order_book_update(frame) is not None:
            _settled[1] += 1
    if _settled[0] % REPORT_EVERY == 0:
        print(f"compared {_settled[0]} inputs, {_settled[1]} read in C", file=sys.stderr)


def seed_corpus(folder: Path) -> int:
    """Write the Gate.io fixture frames and a few encoder deltas as the starting corpus."""
    from ws_stack.frames import read_frames
    from ws_stack.gateio import encoder
    from ws_stack.messages import Level

    fixtures = Path(__file__).resolve().parents[1] / "fixtures"
    folder.mkdir(parents=True, exist_ok=True)
    frames = [
        recorded.data
        for kind in ("frames", "bad_frames")
        for recorded in read_frames(fixtures / f"gateio_{kind}.jsonl")
    ]
    levels = [Level(50_000.5 + n, 0.125 * n) for n in range(5)]
    frames += [
        encoder.encode_order_book_update("BTC_USDT", levels[:n], levels[n:], 10, 12, 1)
        for n in range(6)
    ]
    for count, data in enumerate(frames):
        (folder / f"gateio-{count}").write_bytes(data if isinstance(data, bytes) else data.encode())
    return len(frames)


def main() -> None:
    args = [arg for arg in sys.argv if arg != "--seed"]
    if len(args) < len(sys.argv):  # --seed DIR: fill DIR with the frames first
        seed_corpus(Path(args[-1]))
    atheris.Setup(args, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
