"""``ws-stack sim``: run a venue simulator in the foreground.

``ws-stack sim --venue {mexc,gateio} [--port N] [--rate HZ] [--symbols BTCUSDT,...]
[--fault KEY=VALUE ...] [--replay FILE] [--duration S]`` serves on 127.0.0.1 until Ctrl-C
or ``--duration`` seconds, prints where it listens and, at the end, one line of stats.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from typing import TextIO, TypeVar

from ws_stack.exceptions import ConfigError
from ws_stack.messages import Venue
from ws_stack.sim.config import SimConfig, fault_usage, faults_from
from ws_stack.sim.server import VenueSimulator

__all__ = ["add_parser", "config_from_args", "run"]

_DEFAULT_SYMBOL = {Venue.MEXC: "BTCUSDT", Venue.GATEIO: "BTC_USDT"}


_Parser = TypeVar("_Parser", bound=argparse.ArgumentParser)


def add_parser(subparsers: argparse._SubParsersAction[_Parser]) -> None:
    """Register the ``sim`` subcommand on an ``argparse`` subparsers object."""
    parser = subparsers.add_parser(
        "sim",
        help="run a local venue simulator (WebSocket + REST snapshot) on 127.0.0.1",
        description="Run a venue simulator in the foreground on 127.0.0.1: WebSocket pushes "
        "and REST order-book snapshots, with faults on request.",
    )
    parser.add_argument("--venue", required=True, choices=[venue.value for venue in Venue])
    parser.add_argument("--port", type=int, default=0, help="TCP port (default: any free port)")
    parser.add_argument(
        "--rate",
        type=float,
        default=10.0,
        metavar="HZ",
        help="pushes per second per subscribed channel (default: 10)",
    )
    parser.add_argument(
        "--symbols",
        default=None,
        metavar="SYM,...",
        help="comma-separated symbols (default: BTCUSDT / BTC_USDT)",
    )
    parser.add_argument("--depth", type=int, default=20, help="book levels per side")
    parser.add_argument("--seed", type=int, default=0, help="market seed")
    add_fault_argument(parser)
    parser.add_argument(
        "--replay",
        default=None,
        metavar="FILE",
        help="replay this frames file to each subscriber instead",
    )
    parser.add_argument(
        "--replay-loops",
        type=int,
        default=1,
        metavar="N",
        help="times to play the replay file (default: 1)",
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=None,
        metavar="S",
        help="stop after S seconds (default: run until Ctrl-C)",
    )
    parser.set_defaults(run=run)


def add_fault_argument(parser: argparse.ArgumentParser, *, prefix: str = "") -> None:
    """Add the repeatable ``--fault KEY=VALUE`` option (``prefix`` starts its help)."""
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=f"{prefix}inject a fault; repeatable; one of {fault_usage()}",
    )


def config_from_args(args: argparse.Namespace) -> SimConfig:
    """The :class:`SimConfig` the parsed arguments describe; :class:`ConfigError` if bad."""
    venue = Venue(args.venue)
    symbols = tuple(
        s.strip() for s in (args.symbols or _DEFAULT_SYMBOL[venue]).split(",") if s.strip()
    )
    if args.duration is not None and not args.duration > 0:
        raise ConfigError(f"--duration must be a positive number of seconds, got {args.duration}")
    return SimConfig(
        symbols=symbols,
        rate_hz=args.rate,
        depth_levels=args.depth,
        seed=args.seed,
        faults=faults_from(args.fault),
        replay=args.replay,
        replay_loops=args.replay_loops,
    )


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Run the simulator the arguments describe; return the exit status."""
    out = out or sys.stdout
    config = config_from_args(args)
    simulator = VenueSimulator(Venue(args.venue), config, port=args.port)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(simulator, args.duration, out))
    print(f"ws-stack sim: stopped; {simulator.stats.summary()}", file=out, flush=True)
    return 0


async def _serve(simulator: VenueSimulator, duration: float | None, out: TextIO) -> None:
    async with simulator:
        print(
            f"ws-stack sim: {simulator.venue.value} on {simulator.ws_url} "
            f"(REST {simulator.rest_url}), symbols {','.join(simulator.symbols)}",
            file=out,
            flush=True,
        )
        if duration is None:
            await asyncio.Event().wait()  # until Ctrl-C cancels us
        else:
            await asyncio.sleep(duration)
