"""The WebSocket transports the connection tests run on: a ``transport`` fixture.

Importable as ``transports`` (``tests/`` is on the path); a conftest or test module that
imports :func:`transport` gets the fixture. Every test that takes it runs once per
transport; without picows installed, its runs are skipped with the reason.
"""

from __future__ import annotations

import importlib.util

import pytest

from ws_stack.asyncio.transport import TRANSPORTS

PICOWS_MISSING = importlib.util.find_spec("picows") is None
SKIP_WITHOUT_PICOWS = pytest.mark.skipif(
    PICOWS_MISSING, reason="picows is not installed: pip install 'ws_stack[picows]'"
)

TRANSPORT_PARAMS = [
    pytest.param(name, marks=SKIP_WITHOUT_PICOWS if name == "picows" else ()) for name in TRANSPORTS
]


@pytest.fixture(params=TRANSPORT_PARAMS)
def transport(request: pytest.FixtureRequest) -> str:
    """``"websockets"``, then ``"picows"``."""
    name: str = request.param
    return name
