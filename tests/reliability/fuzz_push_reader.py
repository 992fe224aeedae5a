"""Differential fuzzing of the compiled MEXC push reader against its reference, with atheris.

Each input is a binary frame, given to the compiled ``parse_push``
(``ws_stack.mexc._push_reader``) and to the reference (:func:`ws_stack.mexc.push.
parse_push`). A crash is a difference between the two (messages compared as MessagePack,
so float bits count; errors by reason and text), an exception other than
:class:`FrameError`, or the process dying (a read out of bounds). The corpus starts from
the real MEXC fixture frames. libFuzzer's coverage comes from the Python code both paths
run (the reference, and the compiled reader's hand-overs). Run it as::

    .venv/bin/python -m tests.reliability.fuzz_push_reader -runs=1000000 --seed CORPUS_DIR

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
    from ws_stack.mexc.push import parse_push as reference_parse_push

_compiled = implementation.compiled("ws_stack.mexc._push_reader")
if _compiled is None:
    sys.exit("the compiled push reader is not built: nothing to compare")
_compiled_parse_push = _compiled.parse_push
_encode = msgspec.msgpack.encode
#: Inputs compared, and how many of them the compiled reader settled itself (printed every
#: REPORT_EVERY inputs: libFuzzer ends the process without Python's exit handlers).
_settled = [0, 0]
REPORT_EVERY = 10_000


def _outcome(parse: object, frame: bytes) -> object:
    try:
        return _encode(parse(frame))  # type: ignore[operator]
    except FrameError as exc:
        return (exc.reason, str(exc))


def test_one_input(frame: bytes) -> None:
    compiled = _outcome(_compiled_parse_push, frame)
    reference = _outcome(reference_parse_push, frame)
    _settled[0] += 1
    if _compiled.read_push(frame) is not None:  # type: ignore[union-attr]
        _settled[1] += 1
    if _settled[0] % REPORT_EVERY == 0:
        print(f"compared {_settled[0]} inputs, {_settled[1]} read in C", file=sys.stderr)
    if compiled != reference:
        raise AssertionError(f"compiled {compiled!r} != reference {reference!r} for {frame!r}")


def seed_corpus(folder: Path) -> int:
    """Write the binary MEXC fixture frames as the starting corpus."""
    from ws_stack.frames import read_frames

    fixtures = Path(__file__).resolve().parents[1] / "fixtures"
    folder.mkdir(parents=True, exist_ok=True)
    count = 0
    for kind in ("frames", "bad_frames"):
        for recorded in read_frames(fixtures / f"mexc_{kind}.jsonl"):
            if isinstance(recorded.data, bytes):
                (folder / f"mexc-{kind}-{count}").write_bytes(recorded.data)
                count += 1
    return count


def main() -> None:
    args = [arg for arg in sys.argv if arg != "--seed"]
    if len(args) < len(sys.argv):  # --seed DIR: fill DIR with the fixtures first
        seed_corpus(Path(args[-1]))
    atheris.Setup(args, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
