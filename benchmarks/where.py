"""Where a counted call spends its work, per call: by Python function (executed
bytecodes) and by C function (CPU instructions).

An instruction count says how much a call costs; when it grows, the next question is
which function grew. Under callgrind every Python function is the same C function (the
interpreter's loop), and Python 3.11 has no perf map (``-X perf`` is 3.12's) to tell them
apart. What does tell them apart, exactly, is the interpreter's own count: every bytecode
a call executes, traced with ``sys.settrace`` (``f_trace_opcodes``) and charged to the
function whose code it is. For the same code and inputs it is the same on every run, and
a function the change added, or a loop it planted, shows as that function's bytecodes.
What it leaves out is work inside C functions (a msgspec decode, a ``dict`` resize), which
the instruction count of the call does see: the two together say where.

The C side comes from callgrind, as the instruction counts do: the same calls in a
``valgrind --tool=callgrind`` child, instrumented only around them, and each C function's
own instructions (CPython's, msgspec's, upb's, libc's) per call, from callgrind's output.
Code callgrind cannot name (no symbol) is summed per object file.

Run as ``python -m benchmarks.where KEY`` (``KEY`` as the gate names a counted
regression, ``bench_book.ApplyDeltaInstructions.track_apply_delta(20)``), with the
package to look at first on ``PYTHONPATH``; it prints JSON: ``{"package": path,
"calls": n, "functions": [{"function", "file", "line", "bytecodes"}, ...],
"c_functions": [{"function", "file", "line": 0, "instructions"}, ...]}`` (or
``"c_unavailable": why``), per call, most first. The gate runs it at the base and the
head of a change.
"""

from __future__ import annotations

import ast
import functools
import gc
import importlib
import json
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from types import CodeType, FrameType
from typing import Any, NamedTuple

from . import cache_misses
from .cache_misses import Missed
from .instructions import (
    Counted,
    _build_requests,
    _child_environment,
    _Requests,
    _runner,
    unavailable,
)

#: Calls traced after the warm-up (at most: a count benchmark of long calls, with fewer
#: calls per part, gets as many); figures per call are their totals over the calls.
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


class _Prepared(NamedTuple):
    twin: Any
    #: ``run(calls)``: that many calls of the twin's method (see instructions._runner).
    run: Any
    params: tuple[Any, ...]
    #: How many calls to measure (a long call, such as a pass over a recording, fewer).
    calls: int
    #: ``module.Twin.method(params)``: the call, whichever track counts it.
    method: str


def _prepared(key: str) -> _Prepared:
    """``key``'s twin, set up, and its method's runner, warmed up."""
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
    run(min(WARM_UP_CALLS, counted.warm_up_calls))
    calls = min(CALLS, counted.calls_per_part)
    return _Prepared(twin, run, params, calls, f"{module_name}.{counted.twin.__name__}"
                     f".{method}{params!r}")  # fmt: skip


class _Node:
    """One Python function in the call tree of a call: the bytecodes it executed itself,
    and the functions it called (each node is one path of calls from the top)."""

    __slots__ = ("children", "code", "own")

    def __init__(self, code: CodeType | None) -> None:
        self.code = code
        self.own = 0
        self.children: dict[CodeType, _Node] = {}

    def child(self, code: CodeType) -> _Node:
        found = self.children.get(code)
        if found is None:
            found = self.children[code] = _Node(code)
        return found

    def flame(self, name: Any, calls: int) -> dict[str, Any]:
        """This node as d3-flame-graph reads it: ``{"name", "value", "children"}``, the
        value being the bytecodes per call of the node and everything below it. Children
        that share a name (a function's code objects under one caller) are one frame."""
        merged: dict[str, dict[str, Any]] = {}
        for node in self.children.values():
            child = node.flame(name, calls)
            same = merged.get(child["name"])
            if same is None:
                merged[child["name"]] = child
            else:
                _merge(same, child)
        total = self.own / calls + sum(child["value"] for child in merged.values())
        label = name(self.code) if self.code is not None else "all"
        children = sorted(merged.values(), key=lambda child: child["name"])
        return {"name": label, "value": round(total, 2), "children": children}


def _merge(into: dict[str, Any], other: dict[str, Any]) -> None:
    into["value"] = round(into["value"] + other["value"], 2)
    by_name = {child["name"]: child for child in into["children"]}
    for child in other["children"]:
        if child["name"] in by_name:
            _merge(by_name[child["name"]], child)
        else:
            into["children"].append(child)
            by_name[child["name"]] = child
    into["children"].sort(key=lambda child: child["name"])


def attribute(key: str) -> dict[str, Any]:
    """The bytecodes per call of each Python function one call of ``key``'s twin method
    executes, its call tree (``"tree"``: who called whom, each path weighted by the
    bytecodes executed along it, per call) and the instructions of each C function (see
    the module docstring)."""
    twin, run, params, calls, method = _prepared(key)
    counts: Counter[CodeType] = Counter()
    root = _Node(None)
    path = [root]

    def opcodes(frame: FrameType, event: str, arg: Any) -> Any:
        if event == "opcode":
            counts[frame.f_code] += 1
            path[-1].own += 1
        elif event == "return":
            path.pop()
        return opcodes

    def called(frame: FrameType, event: str, arg: Any) -> Any:
        frame.f_trace_opcodes = True
        frame.f_trace_lines = False
        path.append(path[-1].child(frame.f_code))
        return opcodes

    sys.settrace(called)
    try:
        run(calls)
    finally:
        sys.settrace(None)
    if hasattr(twin, "teardown"):
        twin.teardown(*params)
    package_file = str(importlib.import_module("ws_stack").__file__)
    roots = [Path(package_file).resolve().parents[1], Path(__file__).resolve().parents[1]]

    def frame_name(code: CodeType) -> str:
        return f"{code.co_qualname} ({_location(code, roots)}:{code.co_firstlineno})"

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
        (-round(total / calls, 2), file, line, qualname)
        for (file, qualname), (total, _, line) in named.items()
    )
    functions = [
        {"function": name, "file": file, "line": line, "bytecodes": -negative}
        for negative, file, line, name in rows
    ]
    found: dict[str, Any] = {
        "package": package_file,
        "method": method,
        "calls": calls,
        "functions": functions,
        "tree": root.flame(frame_name, calls),
    }
    reason = unavailable()
    if reason is None:
        found["c_functions"], found["c_tree"] = c_functions(key, calls)
    else:
        found["c_unavailable"] = reason
    return found


#: How many callers deep callgrind tells a function's calls apart
#: (``--separate-callers``): deeper than any stack a counted call runs on (26 here), so
#: that each function's cost is kept per whole call path, the C call tree's.
CALL_PATH_DEPTH = 60


def c_functions(key: str, calls: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Each C function's own instructions per call of ``key``'s twin method, and the C
    call tree (d3-flame-graph's form, instructions per call), from a callgrind child
    instrumented around ``calls`` calls after the warm-up."""
    with tempfile.TemporaryDirectory(prefix="ws-stack-where-") as scratch:
        output = _callgrind_child(Path(scratch), [f"--separate-callers={CALL_PATH_DEPTH}"],
                                  "--under-callgrind", [key])  # fmt: skip
        text = Path(f"{output}.1").read_text()
    own: Counter[tuple[str, str]] = Counter()
    root = _CallPath()
    for (where, context), cost in self_costs(text).items():
        path = _call_path(context)
        if len(path) >= CALL_PATH_DEPTH:  # cut by callgrind: not the whole path
            raise RuntimeError(f"a call path deeper than {CALL_PATH_DEPTH}: {context[:200]}")
        own[where, path[-1]] += cost
        node = root
        for function in path:
            node = node.children.setdefault(function, _CallPath())
        node.own += cost
    rows = sorted((-round(cost / calls, 2), name, where) for (where, name), cost in own.items())
    functions = [
        {"function": name, "file": where, "line": 0, "instructions": -negative}
        for negative, name, where in rows
        if negative
    ]
    # callgrind follows calls from where its instrumentation began, inside a request: the
    # interpreter loop that made the request, which runs the measured calls, is charged to
    # the request's caller (``_PyObject_MakeTpCall``), at the bottom of every path.
    return functions, root.flame("all", calls)


def _callgrind_child(directory: Path, options: list[str], mode: str, keys: list[str]) -> Path:
    """This module run under callgrind in ``directory`` (``mode``: which of its child
    parts, for ``keys``), instrumented only where the child asks; the output file's path,
    to which callgrind adds ``.N`` for the N-th part. Raises ``RuntimeError`` with
    callgrind's last word where the child fails."""
    library, output = _build_requests(directory), directory / "callgrind.out"
    env = {**_child_environment(), "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--quiet", "--instr-atstart=no", "--dump-line=no",
         "--dump-instr=no", *options, f"--callgrind-out-file={output}",
         sys.executable, "-m", f"{Path(__file__).resolve().parent.name}.where",
         mode, str(library), *keys],
        cwd=Path(__file__).resolve().parents[1], env=env, capture_output=True, text=True,
        timeout=TIMEOUT_S, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"callgrind: {last}")
    return output


def _call_path(context: str) -> list[str]:
    """The call path of one of callgrind's contexts (``--separate-callers``: the function,
    then its callers, ``'``-separated, innermost first; a recursion level, ``'2``, stays
    with its function's name), outermost first."""
    path: list[str] = []
    for part in context.split("'"):
        if part.isdigit() and path:
            path[-1] += f"'{part}"
        else:
            path.append("(no symbol)" if part.startswith("0x") else part)
    return path[::-1]


class _CallPath:
    """A node of the C call tree: a function on one call path, its own instructions."""

    __slots__ = ("children", "own")

    def __init__(self) -> None:
        self.own = 0
        self.children: dict[str, _CallPath] = {}

    def flame(self, name: str, calls: int) -> dict[str, Any]:
        """d3-flame-graph's form, per call; the path down to where calls first branch
        (the interpreter's start-up, the same for every call) is left out."""
        node, label = self, name
        while len(node.children) == 1 and not node.own:
            label, node = next(iter(node.children.items()))
        children = [child.flame(key, calls) for key, child in sorted(node.children.items())]
        total = node.own / calls + sum(child["value"] for child in children)
        return {"name": label, "value": round(total, 2), "children": children}


def self_costs(text: str, events: tuple[str, ...] = ("Ir",)) -> dict[tuple[str, str], int]:
    """``{(object file, function): own cost}`` of one callgrind output part
    (``--dump-instr=no --dump-line=no``), the cost being the sum of ``events`` (by default
    instructions): each function's cost lines, without the lines after ``calls=``, which
    carry the callee's inclusive cost. A function with no symbol (callgrind shows its
    address) is summed as ``(no symbol)`` of its object file."""
    names: dict[str, dict[str, str]] = {"ob": {}, "fn": {}}
    costs: Counter[tuple[str, str]] = Counter()
    current, obj, skip_next = ("", ""), "", False
    columns = [1]  # after the position, the first event: "Ir" unless the header says

    def name_of(kind: str, value: str) -> str:
        # "(12) name" defines a compressed name, "(12)" refers to it again.
        compressed = re.fullmatch(r"\((\d+)\)(?: (.*))?", value)
        if compressed is None:
            return value
        ref, name = compressed.groups()
        if name is not None:
            names[kind][ref] = name
            return name
        return names[kind].get(ref, value)

    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        if line.startswith("events:"):
            order = line.split()[1:]
            columns = [1 + order.index(event) for event in events]
        elif line.startswith("ob="):
            obj = Path(name_of("ob", line[3:])).name
        elif line.startswith("fn="):
            function = name_of("fn", line[3:])
            current = (obj, "(no symbol)" if function.startswith("0x") else function)
        elif line.startswith(("cob=", "cfn=")):
            name_of(line[1:3], line[4:])
        elif line.startswith("calls="):
            skip_next = True
        elif line[0].isdigit() or line[0] in "+-*":
            if skip_next:
                skip_next = False
                continue
            parts = line.split()
            # Trailing zero events are left out of a cost line.
            costs[current] += sum(int(parts[i]) for i in columns if i < len(parts))
    return dict(costs)


#: Lone calls whose misses a breakdown sums (then divides by), after the warm-up.
LONE_CALLS = 5


def lone_misses(keys: list[str]) -> dict[str, Any]:
    """Each C function's own cache misses per lone call, for each key of a cache-miss
    benchmark (``bench_handler.LoneFrameMisses.track_handle_d1_misses('mexc', 'trade')``):
    ``{key: [{"function", "file", "line": 0, "d1", "ll"}, ...]}``, most last-level misses
    first, or ``{"c_unavailable": why}``.

    One callgrind child with the cache simulation of ``benchmarks.cache_misses`` measures
    as ``Missed`` does: for each key, LONE_CALLS parts of one call, then as many empty
    parts, each after the interference, which is a part of its own (dumped, not read).
    A function's figure is the sum over the call's parts less the sum over the empty
    ones: the requests that end a part miss lines of their own after the interference,
    and cancel out.
    """
    reason = unavailable()
    if reason is not None:
        return {"c_unavailable": reason}
    with tempfile.TemporaryDirectory(prefix="ws-stack-where-") as scratch:
        output = _callgrind_child(Path(scratch), list(Missed.valgrind_options),
                                  "--misses-under-callgrind", keys)  # fmt: skip
        found: dict[str, Any] = {}
        for number, key in enumerate(keys):
            # Per key: 2 * LONE_CALLS (interference, call) dumps, then as many (interference,
            # nothing); callgrind numbers dumps from 1.
            first = 1 + number * 4 * LONE_CALLS
            parts = [Path(f"{output}.{first + index}").read_text()
                     for index in range(1, 4 * LONE_CALLS, 2)]  # fmt: skip
            figures: dict[str, Counter[tuple[str, str]]] = {}
            for name, events in cache_misses.EVENTS.items():
                figures[name] = Counter()
                for index, part in enumerate(parts):
                    costs = Counter(self_costs(part, events))
                    if index < LONE_CALLS:
                        figures[name].update(costs)
                    else:
                        figures[name].subtract(costs)
            functions = figures["d1"].keys() | figures["ll"].keys()
            rows = sorted(
                (-figures["ll"].get(f, 0), -figures["d1"].get(f, 0), f[1], f[0]) for f in functions
            )
            found[key] = [
                {"function": name, "file": where, "line": 0,
                 "d1": round(-d1 / LONE_CALLS, 1), "ll": round(-ll / LONE_CALLS, 1)}
                for ll, d1, name, where in rows
                if ll or d1
            ]  # fmt: skip
    return found


def _misses_under_callgrind(library: str, keys: list[str]) -> None:
    """In the callgrind child: for each key, LONE_CALLS lone calls of its twin method
    after the warm-up, events counted during the calls only, dumped as one part."""
    requests = _Requests(library)
    package = Path(__file__).resolve().parent.name
    for key in keys:
        module_name, class_name, track, params = parse_key(key)
        counted = getattr(importlib.import_module(f"{package}.{module_name}"), class_name)
        if not (isinstance(counted, type) and issubclass(counted, Missed)):
            raise ValueError(f"{key}: not a cache-miss benchmark")
        twin = counted.twin()
        twin.setup(*params)
        # Called through C (partial's call), so that the call runs in an evaluation loop
        # of its own: in the loop that ran when a part began, callgrind charges the work
        # that follows to the request's caller (``_PyObject_MakeTpCall``), not to the loop.
        call = functools.partial(getattr(twin, counted.counted_methods()[track]))
        for _ in range(cache_misses.WARM_UP_FRAMES):
            call()
        gc.collect()
        requests.start()
        for work in (call, functools.partial(_nothing)):
            for _ in range(LONE_CALLS):
                twin.interfere()
                requests.dump()
                work()
                requests.dump()
        requests.stop()


def _nothing() -> None:
    """The empty call of a lone-call breakdown (see :func:`lone_misses`)."""


def _under_callgrind(library: str, key: str) -> None:
    """In the callgrind child: instrument CALLS calls of ``key``'s method, after the
    warm-up, and dump them as the output's first part."""
    requests = _Requests(library)
    twin, run, params, calls, _ = _prepared(key)
    requests.start()
    run(calls)
    requests.stop()
    requests.dump()
    if hasattr(twin, "teardown"):
        twin.teardown(*params)


#: Wall-time limit of the callgrind child.
TIMEOUT_S = 600


if __name__ == "__main__":
    if sys.argv[1] == "--under-callgrind":
        _under_callgrind(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "--misses-under-callgrind":
        _misses_under_callgrind(sys.argv[2], sys.argv[3:])
    elif sys.argv[1] == "--misses":
        print(json.dumps(lone_misses(sys.argv[2:])))
    else:
        print(json.dumps(attribute(sys.argv[1])))
