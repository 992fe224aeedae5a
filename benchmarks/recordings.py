"""Recorded streams of many symbols, for the realistic-mix benchmark (``bench_mix``).

Each venue's recording is a frames file (``data/<venue>_mix.frames``, the JSON Lines
format of :mod:`ws_stack.frames`: ``ws-stack decode --venue <venue> FILE`` prints it)
holding what a client subscribed as ``ws-stack stream`` subscribes by default (trades,
book ticker and order-book deltas of every symbol) received from the venue simulator's
market model, in three parts:

* a top-20 snapshot of each symbol's book (MEXC ``limit.depth``, Gate.io
  ``spot.order_book``), taken when the streams open;
* the stream itself, in the order the simulator pushed it, 100 ms slots until at least
  :data:`STREAM_FRAMES` frames;
* each symbol's snapshot again at the end, which the book built from the first snapshot
  and the stream must equal.

The files are checked in, so that every commit of the history is measured on the same
bytes; ``python -m benchmarks.recordings`` writes them again from the simulator (which
it needs; reading them needs nothing of ws_stack).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

#: Where the recordings are.
DIRECTORY = Path(__file__).parent / "data"
#: The symbols of both recordings, by base currency (quote: USDT).
BASES = (
    "BTC", "ETH", "SOL", "XRP", "DOGE", "ADA", "AVAX", "DOT", "LINK", "LTC",
    "TRX", "BNB", "ATOM", "NEAR", "APT", "ARB", "OP", "FIL", "SUI", "PEPE",
)  # fmt: skip
#: Frames of the stream part: at least this many (whole 100 ms slots).
STREAM_FRAMES = 1000
#: Levels a side of the snapshots; the simulated books keep as many.
SNAPSHOT_DEPTH = 20
#: Seed of the simulated market, and its clock at the first slot.
SEED = 7
START_MS = 1_700_000_000_000
SLOT_MS = 100


@dataclass(frozen=True)
class Recording:
    """A venue's recording split into its parts (every frame as the venue sent it)."""

    venue: str
    #: The snapshots the books start from, one per symbol.
    start: list[bytes | str]
    #: The stream: trades, tickers and deltas of every symbol, interleaved.
    stream: list[bytes | str]
    #: The snapshots the books must end at, one per symbol.
    end: list[bytes | str]


def path_of(venue: str) -> Path:
    return DIRECTORY / f"{venue}_mix.frames"


@cache
def load(venue: str) -> Recording:
    """The recording of ``venue`` (read once per process)."""
    frames: list[bytes | str] = []
    for line in path_of(venue).read_text().splitlines():
        if line.strip():
            record = json.loads(line)
            text = record.get("text")
            frames.append(text if text is not None else base64.b64decode(record["binary_b64"]))
    symbols = len(BASES)
    if len(frames) < 2 * symbols + STREAM_FRAMES:
        raise RuntimeError(f"{path_of(venue)} holds {len(frames)} frames: write it again")
    return Recording(venue, frames[:symbols], frames[symbols:-symbols], frames[-symbols:])


# -- writing the recordings from the simulator ------------------------------------------


def record(venue: str) -> list[bytes | str]:
    """Every frame of ``venue``'s recording, from a fresh simulated market."""
    from ws_stack.asyncio.stream import DEFAULT_KINDS
    from ws_stack.protocol import Subscription
    from ws_stack.sim.config import FaultConfig
    from ws_stack.sim.faults import FaultPlan
    from ws_stack.sim.gateio import SimulatedGateio
    from ws_stack.sim.market import Market
    from ws_stack.sim.mexc import SimulatedMexc
    from ws_stack.sim.session import Session, Stream, StreamKind
    from ws_stack.sim.stats import SimStats
    from ws_stack.venues import parse_venue, protocol_class

    simulated_class = SimulatedMexc if venue == "mexc" else SimulatedGateio
    symbols = [simulated_class.wire_symbol(f"{base}_USDT") for base in BASES]
    market = Market(symbols, depth_levels=SNAPSHOT_DEPTH, seed=SEED)
    simulated = simulated_class(market)
    # As a ConnectionGroup places them: each connection filled up to the venue's limit
    # (MEXC: 30 subscriptions), their frames interleaved slot by slot.
    protocol = protocol_class(parse_venue(venue))
    subscriptions = [Subscription(symbol, kind) for symbol in symbols for kind in DEFAULT_KINDS]
    limit = protocol.max_subscriptions or len(subscriptions)
    sessions: list[Session] = []
    for first in range(0, len(subscriptions), limit):
        session = simulated.session(
            FaultPlan(FaultConfig()), SimStats(), conn_id=len(sessions), replay=None, replay_loops=1
        )
        for request in protocol.subscribe_requests(subscriptions[first : first + limit]):
            session.receive(request.text, START_MS)
        sessions.append(session)

    def snapshots(now_ms: int) -> list[bytes | str]:
        frames = []
        for symbol in symbols:
            stream = Stream(symbol, symbol, StreamKind.DEPTH_SNAPSHOT, depth=SNAPSHOT_DEPTH)
            bids, asks = market[symbol].top(SNAPSHOT_DEPTH)
            frames.append(
                sessions[0].render_snapshot(stream, bids, asks, market[symbol].version, now_ms)
            )
        return frames

    start = snapshots(START_MS)
    stream: list[bytes | str] = []
    now_ms = START_MS
    for _ in range(STREAM_FRAMES):  # a slot brings several frames: far fewer slots
        now_ms += SLOT_MS
        stream += [push.frame for session in sessions for push in session.push_slot(now_ms)]
        if len(stream) >= STREAM_FRAMES:
            return start + stream + snapshots(now_ms)
    raise RuntimeError(f"the simulator pushed only {len(stream)} frames")


def write(venue: str) -> Path:
    from ws_stack.frames import RecordedFrame, write_frames

    path = path_of(venue)
    path.parent.mkdir(exist_ok=True)
    # A fixed receive time per line, so that writing again gives the same file.
    stamped = [
        RecordedFrame(frame, START_MS * 1_000_000 + number)
        for number, frame in enumerate(record(venue))
    ]
    with path.open("wb") as out:
        write_frames(out, stamped)
    return path


if __name__ == "__main__":
    for name in ("mexc", "gateio"):
        print(f"wrote {write(name)}")
