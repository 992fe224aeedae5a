"""Fixtures and helpers shared by the benchmark suites.

asv benchmarks the current ``benchmarks/`` against the ws_stack installed from every
commit of the history, so a suite must cope with a package that lacks what it measures:
:func:`require` turns a missing module or name into ``NotImplementedError``, which asv
records as "n/a" for that commit instead of a failure.
"""

from __future__ import annotations

import importlib
from typing import Any


def require(module: str, *names: str) -> Any:
    """Import ``module`` (and check ``names`` in it) or raise ``NotImplementedError``."""
    try:
        loaded = importlib.import_module(module)
    except ImportError as exc:
        raise NotImplementedError(f"{module} is not in this commit: {exc}") from None
    missing = [name for name in names if not hasattr(loaded, name)]
    if missing:
        raise NotImplementedError(f"{module} lacks {', '.join(missing)} in this commit")
    return loaded


def ladder(levels: int, start: float, step: float) -> list[tuple[float, float]]:
    """``levels`` (price, size) pairs from ``start`` moving by ``step``."""
    return [(round(start + i * step, 2), round(1.0 + (i % 7) * 0.25, 2)) for i in range(levels)]
