from ws_stack.exceptions import DETAIL_CHARS, FrameError, FrameErrorReason
from ws_stack.messages import Venue


def test_frame_error_details_are_bounded():
    """A detail quoting a hostile field (a megabyte channel name) is cut short."""
    error = FrameError(
        FrameErrorReason.UNKNOWN_CHANNEL, "unknown channel " + "x" * 10**6, b"frame", Venue.GATEIO
    )
    assert len(error.detail) == DETAIL_CHARS + 3 and error.detail.endswith("...")
    assert len(str(error)) < 400
    short = FrameError(FrameErrorReason.EMPTY_FRAME, "empty frame")
    assert short.detail == "empty frame"
