"""ws_stack.mexc.decoder: the public entry points, on the real-format fixture frames."""

from __future__ import annotations

import pytest

from ws_stack import implementation
from ws_stack.exceptions import FrameError, FrameErrorReason
from ws_stack.mexc import control, decoder, detect, legacy, push
from ws_stack.pool import LevelPool

from .cases import EXPECTED, bad_frames, decode, good_frames, reason_of

GOOD = good_frames()
BAD = bad_frames()


def test_every_good_case_has_an_expectation() -> None:
    assert sorted(case.case for case in GOOD) == sorted(EXPECTED)


@pytest.mark.parametrize("fixture", GOOD, ids=lambda f: f.case)
def test_fixture_frame_decodes_to_expected_values(fixture) -> None:
    assert decode(fixture.frame) == EXPECTED[fixture.case]


@pytest.mark.parametrize("fixture", GOOD, ids=lambda f: f.case)
def test_fixture_frame_type_matches_its_messages(fixture) -> None:
    assert decoder.detect_type(fixture.frame) is EXPECTED[fixture.case][0].msg_type


@pytest.mark.parametrize("fixture", GOOD, ids=lambda f: f.case)
def test_fixture_frame_decodes_the_same_with_a_pool(fixture) -> None:
    assert decode(fixture.frame, LevelPool()) == EXPECTED[fixture.case]


@pytest.mark.parametrize("fixture", BAD, ids=lambda f: f.case)
def test_bad_fixture_frame_raises_its_reason(fixture) -> None:
    assert fixture.reason is not None
    assert reason_of(decode, fixture.frame).value == fixture.reason


def test_protobuf_frames_are_binary_and_start_with_the_channel() -> None:
    for fixture in GOOD:
        if fixture.case.startswith(("legacy", "ack", "pong", "error", "refused")):
            assert isinstance(fixture.frame, str)
        else:
            assert isinstance(fixture.frame, bytes)


@pytest.mark.parametrize(
    "frame",
    [
        '{"x":' + "[" * 100_000,
        '{"c":"spot@public.deals.v3.api@BTCUSDT","d":{"deals":[],"x":' + "[" * 100_000,
        '{"x":' + '{"a":' * 100_000 + ',"code":0}',
        '{"id":0,"code":0,"msg":"PONG","x":' + "[" * 100_000 + "}",
    ],
)
def test_nesting_deeper_than_msgspec_recurses_is_malformed_json(frame) -> None:
    """msgspec raises RecursionError (not a DecodeError) on such frames."""
    with pytest.raises(FrameError) as info:
        decode(frame)
    assert info.value.reason is FrameErrorReason.MALFORMED_JSON


def test_decoder_reexports_the_entry_points() -> None:
    """Callers and the asv suite (also run against old commits) import from decoder."""
    assert decoder.__all__ == [
        "detect_type",
        "is_json_frame",
        "parse_control",
        "parse_legacy",
        "parse_push",
    ]
    assert decoder.detect_type is detect.detect_type
    assert decoder.is_json_frame is detect.is_json_frame
    assert decoder.parse_control is control.parse_control
    assert decoder.parse_legacy is legacy.parse_legacy
    # the compiled twin where it is built (it hands what it cannot settle to push's)
    reader = implementation.compiled("ws_stack.mexc._push_reader")
    assert decoder.parse_push is (push.parse_push if reader is None else reader.parse_push)
