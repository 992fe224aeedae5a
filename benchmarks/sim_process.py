"""The venue simulator (``ws_stack.sim``) as the benchmarks run it.

:class:`SimProcess` runs it in a child process, for the figures that must be the
client's alone; :func:`write_deltas` writes the order-book deltas it replays, whether it
runs in a child or on the benchmark's own event loop (:func:`deltas_file` makes the same
bytes once per process).
"""

from __future__ import annotations

import functools
import io
import json
from typing import IO, Any

from .asv_support import require
from .common import GATEIO_SYMBOL, MEXC_SYMBOL
from .venue_frames import frame

_SIM_SCRIPT = """
import asyncio, json, sys
try:
    from ws_stack.sim import SimConfig, VenueSimulator
except ImportError as exc:
    print("n/a", exc, flush=True)
    sys.exit(0)

async def main(options):
    venue = options.pop("venue")
    async with VenueSimulator(venue, SimConfig(**options)) as sim:
        print(sim.ws_url, flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)

asyncio.run(main(json.loads(sys.argv[1])))
"""


class SimProcess:
    """A venue simulator in a child process, stopped by :meth:`close`.

    Memory, leak and subscription benchmarks use it so that the benchmark process holds
    the client only: the simulator's objects and work would be counted with the client's.
    ``config`` is the ``SimConfig``'s (JSON values); ``symbols`` defaults to the venue's one.
    """

    def __init__(self, venue: str, wait: bool = True, **config: Any) -> None:
        import subprocess
        import sys

        symbol = MEXC_SYMBOL if venue == "mexc" else GATEIO_SYMBOL
        options = {"venue": venue, "symbols": [symbol], **config}
        self.process = subprocess.Popen(
            [sys.executable, "-c", _SIM_SCRIPT, json.dumps(options, default=str)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.ws_url = ""
        if wait:
            self.wait_listening()

    def wait_listening(self) -> None:
        """Wait until the simulator listens (``ws_url``). A set-up that starts several
        creates them with ``wait=False`` and then waits for each: they start side by side."""
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        if line.startswith("n/a") or not line:
            self.close()
            raise NotImplementedError(f"no simulator in this commit ({line or 'no output'})")
        self.ws_url = line

    def close(self, at_once: bool = False) -> None:
        stop_child(self.process, at_once)


def stop_child(process: Any, at_once: bool = False) -> None:
    """Stop a child that runs until its stdin closes (this module's and ``pump.py``'s):
    close its stdin, wait for it (killing it after 10 s), close its stdout.

    ``at_once`` terminates it instead, for a tear-down whose clients are still connected:
    the child would close each connection with a closing handshake that clients no longer
    reading never finish, and wait out each one's timeout."""
    if at_once:
        process.terminate()
    if process.stdin is not None and not process.stdin.closed:
        process.stdin.close()
    try:
        process.wait(timeout=10)
    except Exception:
        process.kill()
        process.wait()
    if process.stdout is not None:
        process.stdout.close()


def write_deltas(path: Any, venue: str, count: int, depth: int = 20) -> None:
    """A frames file of ``count`` order-book deltas of ``venue``, ``depth`` levels a side
    (for replay, by the simulator or :mod:`benchmarks.pump`), written as it is made: no
    copy stays in memory (for the memory benchmarks)."""
    with open(path, "wb") as out:
        _write_deltas(out, venue, count, depth)


@functools.cache
def deltas_file(venue: str, count: int, depth: int = 20) -> bytes:
    """The bytes of :func:`write_deltas`'s file, made once per process and arguments: the
    time and ratio benchmarks set up the same replay again and again (asv sets up before
    every sample, a ratio sets up two or three streams)."""
    out = io.BytesIO()
    _write_deltas(out, venue, count, depth)
    return out.getvalue()


def _write_deltas(out: IO[bytes], venue: str, count: int, depth: int) -> None:
    frames = require("ws_stack.frames", "write_frames")
    fmt = "protobuf" if venue == "mexc" else "json"
    frames.write_frames(out, (frame(venue, fmt, "order_book", depth, n) for n in range(count)))
