"""The package's layers: its pure modules load no I/O library.

Everything outside ``ws_stack.asyncio``, ``ws_stack.sim``, ``ws_stack.bench`` and
``ws_stack.cli`` takes values and returns values (see ``ws_stack/__init__.py``), so that it
can be used, tested and benchmarked without a network. Importing a library that opens
sockets or serves HTTP would break that promise even if nothing called it.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import ws_stack

PACKAGE = Path(ws_stack.__file__).resolve().parent
#: The I/O layers, where network libraries belong.
IO_LAYERS = ("asyncio", "sim", "bench", "cli.py")
#: Top-level modules that do network I/O (or, for prometheus_client, start with its
#: HTTP server whatever part of it is imported).
IO_LIBRARIES = {
    "aiohttp",
    "asyncio",
    "http",
    "prometheus_client",
    "requests",
    "selectors",
    "socket",
    "socketserver",
    "ssl",
    "urllib",
    "websockets",
    "wsgiref",
}

# In a fresh interpreter, so that only these imports count; modules loaded at start-up
# (urllib.parse, by the editable install's path hook) are not theirs.
_IMPORT_ALL = """
import importlib, json, sys
before = set(sys.modules)
for name in sys.argv[1:]:
    importlib.import_module(name)
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def pure_modules() -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] in IO_LAYERS:
            continue
        parts = relative.with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names.append(".".join(("ws_stack", *parts)))
    return names


def test_pure_modules_import_no_io_library():
    modules = pure_modules()
    assert {"ws_stack.protocol", "ws_stack.mexc.protocol", "ws_stack.monitor"} <= set(modules)
    path = os.pathsep.join(p for p in (str(PACKAGE.parent), os.environ.get("PYTHONPATH")) if p)
    result = subprocess.run(
        [sys.executable, "-c", _IMPORT_ALL, *modules],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "PYTHONPATH": path},
    )
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    assert set(modules) <= set(loaded) | {"ws_stack"}
    assert [name for name in loaded if name.split(".")[0] in IO_LIBRARIES] == []
