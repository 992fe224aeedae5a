"""Where a counted call spends its work: executed bytecodes per Python function, per call.

An instruction count says how much a call costs; when it grows, the next question is
which function grew. Under callgrind every Python function is the same C function (the
interpreter's loop), and Python 3.11 has no perf map (``-X perf`` is 3.12's) to tell them
apart. What does tell them apart, exactly, is the interpreter's own count: every bytecode
a call executes, traced with ``sys.settrace`` (``f_trace_opcodes``) and charged to the
function whose code it is. For the same code and inputs it is the same on every run, and
a function the change added, or a loop it planted, shows as that function's bytecodes.
What it leaves out is work inside C functions (a msgspec decode, a ``dict`` resize), which
the instruction count of the call does see: the two together say where.

Run as ``python -m benchmarks.where KEY`` (``KEY`` as the gate names a counted
regression, ``bench_book.ApplyDeltaInstructions.track_apply_delta(20)``), with the
package to look at first on ``PYTHONPATH``; it prints JSON: ``{"package": path,
"calls": n, "functions": [{"function", "file", "line", "bytecodes"}, ...]}``, bytecodes
per call, most first. The gate runs it at the base and the head of a change.
"""

from __future__ import annotations

import ast
import importlib
import json
import sys
from collections import Counter
from pathlib import Path
from types import CodeType, FrameType
from typing import Any

from .instructions import Counted, _runner

#: Calls traced after the warm-up; bytecodes per call are their total over this.
CALLS = 20
WARM_UP_CALLS = 5


def parse_key(key: str) -> tuple[str, str, str, tuple[Any, ...]]:
    """``module, class, track method, params`` of a counted benchmark's key."""
    name, _, params_text = key.partition("(")
    module, cls, track = name.rsplit(".", 2)
    params: tuple[Any, ...] = ()
    if params_text:
        params = ast.literal_eval(f"({params_text.removesuffix(')')},)")
    return module, cls, track, params


def _location(code: CodeType, roots: list[Path]) -> str:
    path = Path(code.co_filename)
    for root in roots:
        if path.is_relative_to(root):
            return str(path.relative_to(root))
    return path.name


def attribute(key: str) -> dict[str, Any]:
    """The bytecodes per call of each Python function one call of ``key``'s twin method
    executes (see the module docstring)."""
    module_name, class_name, track, params = parse_key(key)
    package = Path(__file__).resolve().parent.name  # also when run as __main__
    module = importlib.import_module(f"{package}.{module_name}")
    counted = getattr(module, class_name)
    if not (isinstance(counted, type) and issubclass(counted, Counted)):
        raise ValueError(f"{key}: not a count benchmark")
    method = counted.counted_methods()[track]
    twin = counted.twin()
    twin.setup(*params)
    run = _runner(twin, method, params)
    run(WARM_UP_CALLS)
    counts: Counter[CodeType] = Counter()

    def opcodes(frame: FrameType, event: str, arg: Any) -> Any:
        if event == "opcode":
            counts[frame.f_code] += 1
        return opcodes

    def calls(frame: FrameType, event: str, arg: Any) -> Any:
        frame.f_trace_opcodes = True
        frame.f_trace_lines = False
        return opcodes

    sys.settrace(calls)
    try:
        run(CALLS)
    finally:
        sys.settrace(None)
    if hasattr(twin, "teardown"):
        twin.teardown(*params)
    package_file = str(importlib.import_module("ws_stack").__file__)
    roots = [Path(package_file).resolve().parents[1], Path(__file__).resolve().parents[1]]
    # One row per function name in a file: a wrapper given its original's name (as a
    # planted change or a decorator may) is charged to that name, at the larger's line.
    named: dict[tuple[str, str], tuple[int, int, int]] = {}
    for code, count in counts.items():
        name = (_location(code, roots), code.co_qualname)
        total, largest, line = named.get(name, (0, 0, code.co_firstlineno))
        if count > largest:
            largest, line = count, code.co_firstlineno
        named[name] = (total + count, largest, line)
    rows = sorted(
        (-round(total / CALLS, 2), file, line, qualname)
        for (file, qualname), (total, _, line) in named.items()
    )
    functions = [
        {"function": name, "file": file, "line": line, "bytecodes": -negative}
        for negative, file, line, name in rows
    ]
    return {"package": package_file, "calls": CALLS, "functions": functions}


if __name__ == "__main__":
    print(json.dumps(attribute(sys.argv[1])))
