"""One bounded event loop per test, shared by the asyncio and reliability suites.

Importable as ``bounded_loop`` because ``pyproject.toml`` puts ``tests/`` on the path
(``tests/asyncio`` is not a package, so it cannot import from a sibling package).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


def run_bounded(test: Callable[[], Awaitable[None]], timeout: float) -> None:
    """Run ``test()`` in a fresh event loop, bounded in time; then no task may be left."""

    async def main() -> None:
        async with asyncio.timeout(timeout):
            await test()
        leftover = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        assert not leftover, f"tasks left running: {leftover}"

    asyncio.run(main())
