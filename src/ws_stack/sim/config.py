"""Configuration of the venue simulator: what to simulate and which faults to inject.

Both classes validate themselves on construction and raise
:class:`~ws_stack.exceptions.ConfigError` with a message that says what to fix, so a bad
setting fails before a socket is opened.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ws_stack.exceptions import ConfigError
from ws_stack.protocol import ChannelKind

__all__ = [
    "FAULT_KEYS",
    "SILENCEABLE",
    "FaultConfig",
    "SimConfig",
    "fault_usage",
    "faults_from",
    "parse_fault",
]

#: The channels ``FaultConfig.silence`` can stop: ws_stack's own names for them.
SILENCEABLE: tuple[str, ...] = tuple(kind.value for kind in ChannelKind)
#: Highest push rate accepted: beyond it the loopback socket, not the model, is measured.
MAX_RATE_HZ = 100_000.0
#: Most levels per side the market model keeps.
MAX_DEPTH_LEVELS = 1000


@dataclass(frozen=True, slots=True)
class FaultConfig:
    """Faults the simulator injects; every field is optional and they combine.

    Counts are per connection and count pushes (market-data frames, malformed ones
    included), not control replies. ``lag_seconds``, ``lag_growth`` and ``silence`` act on
    the simulated market's pushes, not on a replay's recorded frames.
    """

    #: Drop the TCP connection, without a close frame, after this many pushes.
    close_after_frames: int | None = None
    #: After this many pushes, go silent for ``stall_seconds``: no pushes, no replies to
    #: venue pings and no WebSocket pongs (the socket is not read).
    stall_after_frames: int | None = None
    stall_seconds: float = 5.0
    #: Replace every Nth push with a malformed frame (rotating kinds).
    malformed_every: int | None = None
    #: Every Nth depth delta on a connection skips sequence numbers.
    gap_every: int | None = None
    #: Refuse WebSocket handshakes with HTTP 503 for this long after start (seconds).
    refuse_connections_for: float = 0.0
    #: Wait this long (seconds) before accepting each WebSocket handshake.
    handshake_delay: float = 0.0
    #: Event times this many seconds behind the clock: a venue whose matching engine lags.
    #: The pushes still go out at the configured rate; only the times they carry fall back.
    lag_seconds: float = 0.0
    #: Seconds the lag grows by for every 1,000 pushes a connection sends while it lags: a
    #: venue falling further behind the more it sends. 0 keeps the lag where it is.
    lag_growth: float = 0.0
    #: A channel (``ChannelKind`` value: trades, book_ticker, depth, depth_snapshot, obu)
    #: whose pushes stop on every connection while the others go on: one stream of a shared
    #: connection dying quietly. Its data is lost, not held back.
    silence: str | None = None

    def __post_init__(self) -> None:
        for name in ("close_after_frames", "stall_after_frames", "malformed_every", "gap_every"):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 1
            ):
                raise ConfigError(
                    f"FaultConfig.{name} must be a positive integer or None, got {value!r}"
                )
        names = ("stall_seconds", "refuse_connections_for", "handshake_delay", "lag_seconds",
                 "lag_growth")  # fmt: skip
        for name in names:
            value = getattr(self, name)
            if not _is_number(value) or not math.isfinite(value) or value < 0:
                raise ConfigError(
                    f"FaultConfig.{name} must be a finite number of seconds >= 0, got {value!r}"
                )
        if self.silence is not None and self.silence not in SILENCEABLE:
            raise ConfigError(
                f"FaultConfig.silence must be one of {', '.join(SILENCEABLE)} or None, "
                f"got {self.silence!r}"
            )

    @property
    def any(self) -> bool:
        """Whether any fault is configured."""
        return self != FaultConfig()


@dataclass(frozen=True, slots=True)
class SimConfig:
    """What the simulator serves.

    ``symbols`` may be written either way (``BTCUSDT`` or ``BTC_USDT``); each venue uses
    its own spelling on the wire. ``rate_hz`` is the push rate per subscribed channel per
    connection. With ``replay`` set, each subscriber gets the frames of that frames file
    (see :mod:`ws_stack.frames`) at ``rate_hz`` instead of generated data, ``replay_loops``
    times over. ``keep_books`` is how many of each symbol's latest versions the simulator
    keeps the whole book of, to check a client's book against the truth at the client's
    own version (:meth:`~ws_stack.sim.VenueSimulator.book_at`); 0 keeps none.
    """

    symbols: tuple[str, ...] = ("BTCUSDT",)
    rate_hz: float = 10.0
    depth_levels: int = 20
    seed: int = 0
    faults: FaultConfig = field(default_factory=FaultConfig)
    replay: str | Path | None = None
    replay_loops: int = 1
    keep_books: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.symbols, str):
            raise ConfigError(
                f"SimConfig.symbols must be a tuple of symbols, not the string "
                f"{self.symbols!r}: write ({self.symbols!r},)"
            )
        symbols = tuple(self.symbols)
        object.__setattr__(self, "symbols", symbols)
        if not symbols:
            raise ConfigError(
                "SimConfig.symbols is empty: give at least one symbol, e.g. ('BTCUSDT',)"
            )
        for symbol in symbols:
            if not isinstance(symbol, str) or not _valid_symbol(symbol):
                raise ConfigError(
                    f"SimConfig.symbols: {symbol!r} is not a symbol; use letters "
                    f"and digits with an optional '_' (BTCUSDT or BTC_USDT)"
                )
        if len({_plain(s) for s in symbols}) != len(symbols):
            raise ConfigError(f"SimConfig.symbols has duplicates: {symbols!r}")
        if not _is_number(self.rate_hz) or not 0 < self.rate_hz <= MAX_RATE_HZ:
            raise ConfigError(
                f"SimConfig.rate_hz must be > 0 and <= {MAX_RATE_HZ:g}, got {self.rate_hz!r}"
            )
        if (
            isinstance(self.depth_levels, bool)
            or not isinstance(self.depth_levels, int)
            or not 1 <= self.depth_levels <= MAX_DEPTH_LEVELS
        ):
            raise ConfigError(
                f"SimConfig.depth_levels must be an integer in "
                f"[1, {MAX_DEPTH_LEVELS}], got {self.depth_levels!r}"
            )
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ConfigError(f"SimConfig.seed must be an integer, got {self.seed!r}")
        if not isinstance(self.faults, FaultConfig):
            raise ConfigError(f"SimConfig.faults must be a FaultConfig, got {self.faults!r}")
        if self.replay is not None and not Path(self.replay).is_file():
            raise ConfigError(f"SimConfig.replay: no frames file at {str(self.replay)!r}")
        if (
            isinstance(self.replay_loops, bool)
            or not isinstance(self.replay_loops, int)
            or self.replay_loops < 1
        ):
            raise ConfigError(
                f"SimConfig.replay_loops must be an integer >= 1, got {self.replay_loops!r}"
            )
        if (
            isinstance(self.keep_books, bool)
            or not isinstance(self.keep_books, int)
            or self.keep_books < 0
        ):
            raise ConfigError(
                f"SimConfig.keep_books must be an integer >= 0, got {self.keep_books!r}"
            )


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _plain(symbol: str) -> str:
    return symbol.replace("_", "").upper()


def _valid_symbol(symbol: str) -> bool:
    parts = symbol.split("_")
    return 1 <= len(parts) <= 2 and all(part.isalnum() and part.isascii() for part in parts)


#: ``--fault`` keys of the command line -> (FaultConfig field, value type).
FAULT_KEYS: dict[str, tuple[str, type]] = {
    "close-after": ("close_after_frames", int),
    "stall-after": ("stall_after_frames", int),
    "stall-seconds": ("stall_seconds", float),
    "malformed-every": ("malformed_every", int),
    "gap-every": ("gap_every", int),
    "refuse-for": ("refuse_connections_for", float),
    "handshake-delay": ("handshake_delay", float),
    "lag": ("lag_seconds", float),
    "lag-growth": ("lag_growth", float),
    "silence": ("silence", str),
}

#: What each value type is called in ``--fault`` help and errors.
_VALUE_NAMES: dict[type, tuple[str, str]] = {
    int: ("N", "an integer"),
    float: ("SECONDS", "a number of seconds"),
    str: ("CHANNEL", "a channel"),
}


def fault_usage() -> str:
    """The valid ``--fault`` specs, for help and error texts."""
    return ", ".join(f"{key}={_VALUE_NAMES[kind][0]}" for key, (_, kind) in FAULT_KEYS.items())


#: FaultConfig field names, dashed, are accepted too (``close-after-frames=3``).
_FAULT_ALIASES = {name.replace("_", "-"): key for key, (name, _) in FAULT_KEYS.items()}


def parse_fault(text: str) -> tuple[str, int | float | str]:
    """Parse one ``KEY=VALUE`` fault spec into ``(FaultConfig field, value)``."""
    key, sep, raw = text.partition("=")
    key = key.strip().lower().replace("_", "-")
    key = _FAULT_ALIASES.get(key, key)
    if not sep or key not in FAULT_KEYS:
        raise ConfigError(f"bad fault {text!r}: use KEY=VALUE with one of {fault_usage()}")
    name, kind = FAULT_KEYS[key]
    try:
        value = kind(raw.strip())
    except ValueError:
        raise ConfigError(f"bad fault {text!r}: {key} takes {_VALUE_NAMES[kind][1]}") from None
    return name, value


def faults_from(specs: Iterable[str]) -> FaultConfig:
    """The :class:`FaultConfig` of some ``KEY=VALUE`` specs (``--fault`` options)."""
    # Each value has its field's type (FAULT_KEYS pairs a field with its converter), which a
    # dict's one value type cannot say: hence the ignore.
    return FaultConfig(**dict(parse_fault(text) for text in specs))  # type: ignore[arg-type]
