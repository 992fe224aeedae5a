"""ws_stack.mexc.control: acks, pongs and venue errors."""

from __future__ import annotations

import pytest

from ws_stack.exceptions import FrameErrorReason
from ws_stack.messages import Pong, SubscriptionAck, VenueError
from ws_stack.mexc import control, encoder

from .cases import MEXC, reason_of

R = FrameErrorReason


def test_parse_control() -> None:
    ack = control.parse_control(encoder.encode_ack("spot@public.deals.v3.api.pb@BTCUSDT", 3))
    assert ack == SubscriptionAck(MEXC, "spot@public.deals.v3.api.pb@BTCUSDT", request_id=3)
    assert control.parse_control(b'{"id":0,"code":0,"msg":"PONG"}') == Pong(MEXC)
    assert control.parse_control(encoder.encode_error(1002, "too many", 4)) == VenueError(
        MEXC, 1002, "too many", request_id=4
    )


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        ('{"id":0,"code":', R.MALFORMED_JSON),
        ('{"id":"x","code":0,"msg":"PONG"}', R.INVALID_FIELD),
        ('{"id":0,"msg":"PONG"}', R.UNKNOWN_MESSAGE),
        ("[]", R.INVALID_FIELD),
    ],
)
def test_parse_control_errors(frame: str, reason: FrameErrorReason) -> None:
    assert reason_of(control.parse_control, frame) is reason
