"""Instruction counts: the suite's CPU-bound calls counted under valgrind's callgrind.

A time benchmark on a shared machine measures the machine's load as much as the code. The
number of CPU instructions a call executes measures only the code: for the same commit,
inputs and environment it is the same on every run, whatever else the machine does. So
every CPU-bound time benchmark (a :class:`~benchmarks.asv_support.Batched` one, or a plain
``time_`` method of one call) has a count twin here: a subclass of :class:`Counted` in
the same module, whose ``track_`` methods report the instructions of one call of the
twin's ``time_`` methods, on the same frames (the twin's own ``setup`` builds them).

How it counts, cheaply: ``Counted.setup_cache`` is shared by every count benchmark of the
suite (asv keys a cache by the function that makes it), so one ``valgrind
--tool=callgrind`` run per commit measures them all. Its process (:func:`count_suite`)
imports the suite, then forks a process per class and parameter combination, one per
CPU at a time. Each runs with instrumentation off (set-ups at the speed of valgrind's plain JIT)
and switches it on only around each measurement, through callgrind's client
requests (``callgrind_requests.c``, compiled on the spot and loaded with ctypes). For one
twin method it warms the call up, then dumps the counter around PARTS parts of
CALLS_PER_PART calls (the method run with ``CALLS`` set to ``range(CALLS_PER_PART)``) and
one part of no call (``range(0)``). Instructions per call are the median part minus the
empty one, over CALLS_PER_PART: every constant cost of a part (the dump requests, the
method's entry, the loop's start) cancels.

What would make counts differ between runs is kept out: ``PYTHONHASHSEED`` is fixed, the
environment is a fixed minimal one, the bytecode the child's imports load is compiled
afresh for every run (by the same imports without valgrind, just before), and the
garbage collector runs only between measurements (asv times with it off too).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import importlib
import itertools
import json
import os
import pkgutil
import re
import select as select_module
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, ClassVar

from .asv_support import Batched

#: Calls in each measured part, and how many parts: a call's count is the median part's
#: over its calls, so that a rare costly call (a dict growing, a new memory pool) moves
#: no count wherever it falls.
CALLS_PER_PART = 20
PARTS = 5
#: Calls before the first part: the interpreter specialises the code, caches and pools
#: fill, as in asv's warm-up.
WARM_UP_CALLS = 100
#: Wall-time limit of the callgrind process, far above what the whole suite takes.
TIMEOUT_S = 900

#: An environment variable: a regex of benchmark names. Where it is set, only the count
#: benchmarks asv's ``-b`` would select with it are counted (the others are not run): the
#: gate sets it when narrowed to some benchmarks, so that it does not count them all.
SELECT_VARIABLE = "WS_STACK_COUNT_SELECT"

HERE = Path(__file__).parent
REQUESTS_SOURCE = HERE / "callgrind_requests.c"
INSTALL_HINT = "install Debian's valgrind package (the Makefile's targets do, as root)"

# The callgrind process's bootstrap. It drops the working directory from sys.path and
# imports the suite as a package from its path, so that no directory listing whose
# contents vary between runs (a checkout's caches, say) shapes the interpreter's memory.
_SUITE_PACKAGE = """
import sys
del sys.path[0]
suite_dir = sys.argv[1]
import importlib.util, os
name = os.path.basename(suite_dir)
spec = importlib.util.spec_from_file_location(
    name, os.path.join(suite_dir, "__init__.py"), submodule_search_locations=[suite_dir])
package = importlib.util.module_from_spec(spec)
sys.modules[name] = package
spec.loader.exec_module(package)
instructions = importlib.import_module(name + ".instructions")
"""
_BOOTSTRAP = (
    _SUITE_PACKAGE
    + """
requests, manifest, select, jobs, kind = sys.argv[2:7]
instructions.count_suite(requests, manifest, select, int(jobs), kind)
"""
)
# The same imports without valgrind, first: they write the bytecode the callgrind process
# then loads (see _child_environment).
_COMPILE = _SUITE_PACKAGE + "instructions.import_suite()\n"


def unavailable() -> str | None:
    """Why instructions cannot be counted on this machine, or ``None`` if they can."""
    if shutil.which("valgrind") is None:
        return f"valgrind not found: {INSTALL_HINT}"
    if _compiler() is None:
        return "no C compiler (cc or gcc) to build callgrind's client requests"
    return None


def _compiler() -> str | None:
    return shutil.which("cc") or shutil.which("gcc")


def _build_requests(directory: Path) -> Path:
    """Compile ``callgrind_requests.c`` into a shared library in ``directory``."""
    library = directory / "callgrind_requests.so"
    command = [_compiler() or "cc", "-shared", "-fPIC", "-O2", "-o", str(library)]
    done = subprocess.run(
        [*command, str(REQUESTS_SOURCE)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        first = (done.stderr.strip().splitlines() or ["(no output)"])[0]
        raise RuntimeError(f"cannot build callgrind's client requests: {first}")
    return library


def _child_environment(pycache: Path | None = None, write: bool = False) -> dict[str, str]:
    """The callgrind process's whole environment: the same on every run.

    An installed package's bytecode holds the path it was compiled at, so no process here
    reads it: imports compile from source, or, with ``pycache``, load the bytecode that a
    run without valgrind compiled there from the same paths (``write``: that run), which
    is several times faster than compiling under valgrind (docs/instruction-counts.md).
    """
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LC_ALL": "C.UTF-8",
        "PYTHONHASHSEED": "0",
        **({} if write else {"PYTHONDONTWRITEBYTECODE": "1"}),
        # A prefix where no cache is makes every import compile.
        "PYTHONPYCACHEPREFIX": str(pycache or "/nonexistent/ws-stack-count"),
    }


#: What an allocation is, in callgrind's call graph: a call of CPython's object allocator
#: (pymalloc, which every Python object and most C extensions allocate with), or of the C
#: library's allocator by anything but CPython's raw-memory functions (those serve
#: pymalloc's large blocks, already counted, and rare raw requests). An object taken from
#: one of CPython's free lists (floats, tuples, lists, dicts...) is no allocation.
ALLOCATORS = frozenset({"_PyObject_Malloc", "_PyObject_Calloc", "malloc", "calloc"})
_RAW_MEMORY = frozenset({"_PyMem_RawMalloc", "_PyMem_RawCalloc"})


#: The lines of a callgrind output file that :func:`_part_figures` reads (every other line,
#: most of them costs by position, is skipped by the regular expression, in C): a function
#: or a callee, named or by its compressed id; a call count; a part's totals; the events.
_FIGURE_LINE = re.compile(
    rb"^(?:(c?fn)=(\(\d+\))(?: ([^\n]*))?|calls=(\d+)[^\n]*|totals:([^\n]*)|events:([^\n]*))$",
    re.MULTILINE,
)
_ALLOCATOR_NAMES = frozenset(name.encode() for name in ALLOCATORS)
_RAW_MEMORY_NAMES = frozenset(name.encode() for name in _RAW_MEMORY)


def _part_figures(output: Path) -> list[tuple[dict[str, int], int]]:
    """``(events, allocations)`` of every part of a callgrind output file written with
    combined dumps, in order: ``events`` by callgrind's name (``Ir``: instructions; with
    the cache simulation, its misses too), allocations as :data:`ALLOCATORS` says."""
    names: dict[bytes, bytes] = {}  # callgrind's compressed function names: b"(id)" -> name
    parts: list[tuple[dict[str, int], int]] = []
    events: list[str] = []
    caller = callee = b""
    allocations = 0
    for line in _FIGURE_LINE.finditer(output.read_bytes()):
        kind, ident, name, calls, totals, listed = line.groups()
        if kind is not None:
            if name:
                names[ident] = name
            if kind == b"fn":
                caller = names.get(ident, ident)
            else:
                callee = names.get(ident, ident)
        elif calls is not None:
            if callee in _ALLOCATOR_NAMES and caller not in _RAW_MEMORY_NAMES:
                allocations += int(calls)
        elif totals is not None:
            numbers = [int(number) for number in totals.split()]
            parts.append((dict(zip(events, numbers, strict=False)), allocations))
            allocations = 0
        else:
            events = listed.decode().split()
    return parts


def _fixed_paths(scratch: Path, suite: Path) -> tuple[Path, Path]:
    """The interpreter and the suite as the callgrind process sees them: through links in
    ``scratch``, so that nothing it reads names where the environment or the checkout is.

    Those places shape the interpreter's memory: every module's file name, every entry of
    ``sys.path``, the command line ``pyvenv.cfg`` keeps. With the memory go where objects
    land and the collisions of the caches CPython keys by address: counted from two
    environments at two checkouts, the same code differed by up to 0.7 %. So the process
    runs in a shadow of the virtual environment: a ``pyvenv.cfg`` without the lines that
    name the environment, the interpreter and ``lib`` linked (a virtual environment keeps
    the unresolved path of its interpreter: ``sys.prefix`` is the shadow), and the suite
    linked beside it. ``scratch``'s name has the same length on every run, and the
    bytecode caches, which hold the paths they were compiled at, are not read
    (:func:`_child_environment`). Both sides of a comparison, and runners whose Python,
    packages and valgrind match, count the same wherever they are.
    """
    environment, python = Path(sys.prefix), Path(sys.executable)
    config = environment / "pyvenv.cfg"
    if not config.is_file() or not python.is_relative_to(environment):
        return python, suite  # no virtual environment: its paths are what they are
    shadow = scratch / "env"
    (shadow / python.parent.relative_to(environment)).mkdir(parents=True)
    named = (str(environment), str(environment.resolve()))
    lines = config.read_text().splitlines(keepends=True)
    (shadow / "pyvenv.cfg").write_text("".join(x for x in lines if not any(n in x for n in named)))
    (shadow / python.relative_to(environment)).symlink_to(python.resolve())
    (shadow / "lib").symlink_to(environment / "lib", target_is_directory=True)
    (scratch / "suite").mkdir()
    (scratch / "suite" / suite.name).symlink_to(suite.resolve(), target_is_directory=True)
    return shadow / python.relative_to(environment), scratch / "suite" / suite.name


def _run_child(
    command: list[str], directory: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """``command`` run in ``directory`` with ``env``, its output captured, within TIMEOUT_S."""
    return subprocess.run(
        command, cwd=directory, env=env, capture_output=True, text=True, timeout=TIMEOUT_S,
        check=False,
    )  # fmt: skip


def _failure(what: str, done: subprocess.CompletedProcess[str]) -> RuntimeError:
    """``what`` failed: the error, with the child's status and the end of its stderr."""
    tail = "\n".join(done.stderr.strip().splitlines()[-20:])
    return RuntimeError(f"{what} ({done.returncode}):\n{tail}")


def measure_suite(
    suite: Path = HERE, jobs: int | None = None, kind: type[Counted] | None = None
) -> dict[str, Any]:
    """Count every :class:`Counted` benchmark of the suite under callgrind (or every
    benchmark of another ``kind``, a subclass of it that counts otherwise:
    ``cache_misses.Missed``).

    ``suite`` is the benchmark suite's directory (a package holding this module);
    ``jobs`` how many combinations are counted at once (default: a CPU each).

    Returns ``{"unavailable": reason}`` where counting is impossible here, else
    ``{"counts": {key: entry}, "allocations": {key: {time method: allocations per
    call}}, "seconds": wall time}``, with a key per benchmark class and parameter
    combination (:meth:`Counted.key`); an entry is ``{"n/a": reason}``, ``{"error":
    text}`` or ``{time method: instructions per call, or {"error": text}}``.
    """
    reason = unavailable()
    if reason is not None:
        return {"unavailable": reason}
    kind = kind or Counted
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="ws-stack-count-") as scratch:
        directory = Path(scratch)
        requests = _build_requests(directory)
        manifest = directory / "manifest.json"
        python, suite = _fixed_paths(directory, suite)
        pycache = directory / "pycache"
        compiled = _run_child([str(python), "-c", _COMPILE, str(suite)], directory,
                              _child_environment(pycache, write=True))  # fmt: skip
        if compiled.returncode != 0:
            raise _failure("the suite does not import", compiled)
        command = [
            "valgrind", "--tool=callgrind", "--quiet", "--instr-atstart=no",
            "--combine-dumps=yes", "--dump-line=no", "--dump-instr=no", *kind.valgrind_options,
            f"--callgrind-out-file={directory / 'callgrind.out.%p'}",
            str(python), "-c", _BOOTSTRAP, str(suite), str(requests), str(manifest),
            os.environ.get(SELECT_VARIABLE, ""), str(jobs or len(os.sched_getaffinity(0))),
            kind.kind_name(),
        ]  # fmt: skip
        done = _run_child(command, directory, _child_environment(pycache))
        if done.returncode != 0 or not manifest.is_file():
            raise _failure("the callgrind run failed", done)
        entries = json.loads(manifest.read_text())
        figures = {
            entry["pid"]: _part_figures(directory / f"callgrind.out.{entry['pid']}")
            for entry in entries
            if "pid" in entry
        }
    counts: dict[str, dict[str, Any]] = {}
    allocations: dict[str, dict[str, float]] = {}
    for entry in entries:
        key, parts = entry.pop("key"), entry.pop("parts", {})
        calls = entry.pop("calls_per_part", CALLS_PER_PART)
        process = figures.get(entry.pop("pid", None), [])
        measured: dict[str, Any] = {}
        for method, numbers in parts.items():
            if isinstance(numbers, str):
                measured[method] = {"error": numbers}
                continue
            *full, empty = (process[number - 1] for number in numbers)
            measured[method] = kind.per_call(full, empty, calls)
            allocated = statistics.median(a for _, a in full) - empty[1]
            allocations.setdefault(key, {})[method] = round(allocated / calls, 2)
        counts[key] = entry or measured  # an "n/a" or "error" entry has no parts
    return {
        "counts": counts,
        "allocations": allocations,
        "seconds": round(time.monotonic() - started, 1),
    }


class Counted:
    """Base of the instruction-count benchmarks: CPU instructions per call of a twin.

    A subclass names its time benchmark class (``twin``; its ``params`` are taken) and
    one ``track_`` method per counted ``time_`` method of the twin::

        class DetectTypeInstructions(Counted):
            twin = DetectType
            track_detect_type = Counted.of("time_detect_type")

    A parameter combination the twin cannot set up at a commit (``NotImplementedError``)
    is n/a here too, as is every count where valgrind is missing (see :func:`unavailable`).
    ``version`` follows what is counted: bump it with the twin's.

    A twin whose one call is long (a pass over a recorded stream) sets fewer calls
    (:attr:`calls_per_part`, :attr:`parts`, :attr:`warm_up_calls`), and its tracks may
    report per unit of work: ``Counted.of("time_pass", per="frames")`` divides by the
    count benchmark's ``frames`` attribute, which its ``setup`` sets. A part of one call
    keeps a few hundred instructions and about one allocation of its own that the empty
    part does not cancel: nothing against a pass of a thousand frames, much against a
    short call, which keeps the default.
    """

    version = 1
    unit = "instructions"
    #: The callgrind run of the whole suite, in ``setup_cache``.
    timeout = TIMEOUT_S
    #: callgrind's options for this kind of count, beside those every run has.
    valgrind_options: ClassVar[tuple[str, ...]] = ()
    #: The modules of the package the counting process imports before it forks: none
    #: named, every one (see :func:`_preload`).
    preloaded: ClassVar[tuple[str, ...]] = ()
    twin: Any
    #: Calls of each measured part, parts, and calls before them (see the module docstring).
    calls_per_part: ClassVar[int] = CALLS_PER_PART
    parts: ClassVar[int] = PARTS
    warm_up_calls: ClassVar[int] = WARM_UP_CALLS

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in ("params", "param_names"):
            twin = getattr(cls, "twin", None)  # a base of another kind has none
            if name not in cls.__dict__ and hasattr(twin, name):
                setattr(cls, name, getattr(twin, name))

    def setup_cache(self) -> dict[str, Any]:
        return measure_suite()

    @classmethod
    def kind_name(cls) -> str:
        """``module.Class`` of the kind (in the suite's package): what the callgrind
        process counts, the subclasses of that kind only."""
        kind = next(base for base in cls.__mro__ if "setup_cache" in vars(base))
        return f"{kind.__module__.rpartition('.')[2]}.{kind.__qualname__}"

    @classmethod
    def measure_parts(cls, requests: _Requests, twin: Any, method: str,
                      params: tuple[Any, ...]) -> list[int]:  # fmt: skip
        """The part numbers of one twin method's measurement (see :func:`_measure`)."""
        return _measure(requests, _runner(twin, method, params), cls)

    @staticmethod
    def per_call(full: list[tuple[dict[str, int], int]], empty: tuple[dict[str, int], int],
                 calls: int) -> Any:  # fmt: skip
        """What a twin method's parts give: instructions per call, the median part's less
        the empty part's."""
        return round((statistics.median(part["Ir"] for part, _ in full) - empty[0]["Ir"]) / calls)

    @classmethod
    def key(cls, params: tuple[Any, ...]) -> str:
        return f"{cls.__module__}.{cls.__qualname__}{params!r}"

    @classmethod
    def counted_methods(cls) -> dict[str, str]:
        """``{track method: the twin's time method it counts}``."""
        return {
            name: value.counted
            for name, value in sorted(vars(cls).items())
            if hasattr(value, "counted")
        }

    def setup(self, suite: dict[str, Any], *params: Any) -> None:
        if "unavailable" in suite:
            raise NotImplementedError(suite["unavailable"])
        entry = suite["counts"].get(type(self).key(params))
        if entry is None:
            raise RuntimeError(f"{type(self).key(params)} was not counted")
        if "n/a" in entry:
            raise NotImplementedError(entry["n/a"])
        if "error" in entry:
            raise RuntimeError(entry["error"])
        self.measured = entry
        self.allocated = suite.get("allocations", {}).get(type(self).key(params), {})

    @staticmethod
    def of(time_method: str, *, allocations: bool = False, per: str | None = None) -> Any:
        """A ``track_`` method: the instructions of one call of the twin's ``time_method``
        (or its allocations, see :data:`ALLOCATORS`), per call or per ``per``."""
        what = "allocations" if allocations else "CPU instructions"

        def track(self: Counted, suite: dict[str, Any], *params: Any) -> float:
            value = self.measured[time_method]
            if isinstance(value, dict):
                raise RuntimeError(value["error"])
            number: float = self.allocated[time_method] if allocations else value
            if per is None:
                return number if allocations else int(number)
            units: float = getattr(self, per)
            return round(number / units, 2)

        track.__doc__ = f"{what} of one call of the twin's ``{time_method}``" + (
            f", per one of its {per}." if per else "."
        )
        # Function attributes, which a type checker does not know of: Counted reads
        # .counted, asv reads .unit.
        track.counted = time_method  # type: ignore[attr-defined]
        if allocations:
            track.unit = "allocations"  # type: ignore[attr-defined]
        return track


# -- the callgrind process -------------------------------------------------------------


class _Requests:
    """Callgrind's client requests, through the library built from ``callgrind_requests.c``."""

    def __init__(self, library: str) -> None:
        self._lib = ctypes.CDLL(library)
        if not self._lib.ws_running_on_valgrind():
            raise RuntimeError("not running under valgrind")
        self.parts = 0

    def start(self) -> None:
        self._lib.ws_start_instrumentation()

    def stop(self) -> None:
        self._lib.ws_stop_instrumentation()

    def dump(self) -> int:
        """End the current part; its number (1-based) in the output file."""
        self._lib.ws_dump_stats()
        self.parts += 1
        return self.parts


def _count_classes(package: str, kind: str = "instructions.Counted") -> list[type[Counted]]:
    """The count benchmarks of ``kind`` (see :meth:`Counted.kind_name`) in the suite."""
    found = []
    root = importlib.import_module(package)
    for info in sorted(pkgutil.iter_modules(root.__path__), key=lambda info: info.name):
        if not info.name.startswith("bench_"):
            continue
        module = importlib.import_module(f"{package}.{info.name}")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, Counted)
                and value.__module__ == module.__name__
                and value.kind_name() == kind
            ):
                found.append(value)
    return found


def _param_combinations(cls: type[Counted]) -> list[tuple[Any, ...]]:
    params = getattr(cls, "params", [])
    if not params:
        return [()]
    if not isinstance(params[0], list):  # one axis, written as a plain list
        params = [params]
    return list(itertools.product(*params))


def _runner(twin: Any, method: str, params: tuple[Any, ...]) -> Any:
    """``run(calls)``: ``calls`` calls of the twin's ``method``, through its own loop."""
    bound = getattr(twin, method)
    if not isinstance(twin, Batched):

        def run_calls(calls: int) -> None:
            for _ in range(calls):
                bound(*params)

        return run_calls
    # A batched method loops `for _ in CALLS`, a global of its module: set it for the run.
    namespace = bound.__func__.__globals__

    def run_loop(calls: int) -> None:
        saved = namespace["CALLS"]
        namespace["CALLS"] = range(calls)
        try:
            bound(*params)
        finally:
            namespace["CALLS"] = saved

    return run_loop


def _measure(requests: _Requests, run: Any, counted: type[Counted]) -> list[int]:
    """The numbers of the measured parts: ``parts`` parts of ``calls_per_part`` calls, then
    one with no call (what a part costs besides its calls)."""
    run(counted.warm_up_calls)
    gc.collect()
    requests.start()
    try:
        requests.dump()
        numbers = []
        for calls in [counted.calls_per_part] * counted.parts + [0]:
            run(calls)
            numbers.append(requests.dump())
    finally:
        requests.stop()
    return numbers


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _selected(cls: type[Counted], params: tuple[Any, ...], select: str) -> list[str]:
    """The twin methods of ``cls`` at ``params`` to count: those of the benchmarks that
    asv's ``-b select`` would run (it searches ``name`` and ``name(param, ...)``)."""
    module = cls.__module__.partition(".")[2]
    found = []
    for track, method in cls.counted_methods().items():
        name = f"{module}.{cls.__name__}.{track}"
        full = f"{name}({', '.join(repr(value) for value in params)})" if params else name
        if not select or re.search(select, name) or re.search(select, full):
            found.append(method)
    return sorted(set(found))


def _count_one(requests: _Requests, cls: type[Counted], params: tuple[Any, ...],
               methods: list[str]) -> dict[str, Any]:  # fmt: skip
    """Set up ``cls``'s twin at ``params`` and measure its ``methods``: ``{"parts":
    {method: part numbers, or an error}}``, or ``{"n/a": why}`` or ``{"error": what}``."""
    twin = cls.twin()
    try:
        twin.setup(*params)
    except NotImplementedError as exc:
        return {"n/a": str(exc)}
    except Exception as exc:
        return {"error": f"{cls.twin.__name__}.setup{params!r}: {_error(exc)}"}
    parts: dict[str, Any] = {}
    for method in methods:
        try:
            parts[method] = cls.measure_parts(requests, twin, method, params)
        except Exception as exc:
            parts[method] = _error(exc)
    if hasattr(twin, "teardown"):
        twin.teardown(*params)
    return {"parts": parts}


#: How long the scheduler waits for a counting process to finish (a far bound, like
#: TIMEOUT_S) before it gives up on those still running.
CHILD_TIMEOUT_S = 300
#: The zygote's command that ends it.
_STOP = 2**32 - 1


def _count_in_child(requests: _Requests, work: tuple[type[Counted], tuple[Any, ...]], index: int,
                    folder: Path, done: int) -> None:  # fmt: skip
    """In a forked process: count ``work`` (all of its methods), write the result, tell
    the scheduler; never returns."""
    status = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        cls, params = work
        entry = _count_one(requests, cls, params, sorted(set(cls.counted_methods().values())))
        (folder / f"entry-{index}.json").write_text(json.dumps({**entry, "pid": os.getpid()}))
        status = 0
    finally:
        os.write(done, index.to_bytes(4, "little"))
        os._exit(status)  # no interpreter shutdown: the parent's buffers and handlers stay its own


def _zygote(requests: _Requests, work: list[tuple[type[Counted], tuple[Any, ...]]],
            commands: int, done: int, folder: Path) -> None:  # fmt: skip
    """The process every count is forked from: it waits for an index of ``work`` and forks
    a process to count it, the same few steps for every index. Never returns."""
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the children
    while (index := int.from_bytes(os.read(commands, 4), "little")) != _STOP:
        if os.fork() == 0:
            _count_in_child(requests, work[index], index, folder, done)
    os._exit(0)


#: Modules of the measured package the zygote does not import: command lines and the
#: protobuf generator (which imports grpc_tools), nothing a count benchmark uses.
_NOT_PRELOADED = {"__main__", "cli", "generate"}


def _preload(package: str) -> None:
    """Import every module of ``package`` (bar _NOT_PRELOADED) in the zygote, once.

    A count benchmark's set-up imports what it measures, often lazily (the asyncio layer,
    the transports and their libraries). Done in each fork, that is the same imports again
    and again under valgrind; done here, every fork inherits them. A
    module this commit lacks or cannot import (picows not installed) is left out: the
    set-up that needs it says so, as it would have.
    """
    try:
        root = importlib.import_module(package)
    except ImportError:
        return
    names = [info.name for info in pkgutil.walk_packages(root.__path__, f"{package}.",
                                                        onerror=lambda name: None)]  # fmt: skip
    for name in sorted(names):
        if name.rpartition(".")[2] in _NOT_PRELOADED:
            continue
        try:
            importlib.import_module(name)
        except Exception:  # the set-up that needs it reports it, as it would have
            continue


def import_suite(kind: str = "instructions.Counted") -> list[type[Counted]]:
    """Import the suite's count benchmarks of ``kind``, then what they measure of the
    package (:func:`_preload`; a kind may name its modules: ``Counted.preloaded``)."""
    classes = _count_classes(__name__.rpartition(".")[0], kind)
    preloaded = classes[0].preloaded if classes else ()
    if preloaded:
        for name in preloaded:
            with contextlib.suppress(ImportError):  # the set-up that needs it says so
                importlib.import_module(name)
    else:
        _preload("ws_stack")
    return classes


def count_suite(library: str, manifest: str, select: str = "", jobs: int = 1,
                kind: str = "instructions.Counted") -> None:  # fmt: skip
    """In the callgrind process: measure every count benchmark (or those ``select``
    selects, see SELECT_VARIABLE), ``jobs`` at a time, and write the manifest.

    Each class and parameter combination is counted in a process of its own, forked from
    one *zygote* process (:func:`_zygote`) once the suite is imported: a count does not
    carry what the counts before it left in the interpreter, and a run is the same
    sequence of forks whatever ``jobs`` is. ``select`` picks combinations; each is
    counted whole. Callgrind follows the forks; each process writes its own output file
    (``%p`` in its name).
    """
    requests = _Requests(library)
    work = [(cls, params) for cls in import_suite(kind) for params in _param_combinations(cls)]
    folder = Path(manifest).parent
    commands_out, commands_in = os.pipe()
    done_out, done_in = os.pipe()
    gc.disable()
    gc.collect()
    zygote = os.fork()
    if zygote == 0:
        _zygote(requests, work, commands_out, done_in, folder)
    wanted = [index for index, (cls, params) in enumerate(work) if _selected(cls, params, select)]
    running = 0

    def finished() -> bool:
        ready, _, _ = select_module.select([done_out], [], [], CHILD_TIMEOUT_S)
        if ready:
            os.read(done_out, 4)
        return bool(ready)

    for index in wanted:
        if running >= max(jobs, 1):
            if not finished():
                break
            running -= 1
        os.write(commands_in, index.to_bytes(4, "little"))
        running += 1
    while running and finished():
        running -= 1
    os.write(commands_in, _STOP.to_bytes(4, "little"))
    os.waitpid(zygote, 0)
    entries = []
    for index in wanted:
        cls, params = work[index]
        entry: dict[str, Any] = {"key": cls.key(params), "calls_per_part": cls.calls_per_part}
        result = folder / f"entry-{index}.json"
        if result.is_file():
            entry.update(json.loads(result.read_text()))
        else:
            entry["error"] = "its counting process ended without a result (see callgrind's output)"
        entries.append(entry)
    Path(manifest).write_text(json.dumps(entries))


def main() -> int:
    """``python -m benchmarks.instructions``: count the installed package's calls now.

    The same measurement as the asv benchmarks, without asv: one line per ``track_``
    method as asv would record it, or why nothing could be counted. For a quick look at
    what a change costs before committing.
    """
    suite = measure_suite()
    if "unavailable" in suite:
        print(f"instruction counts are n/a: {suite['unavailable']}", file=sys.stderr)
        return 2
    for cls in _count_classes(HERE.name):
        for params in _param_combinations(cls):
            key = cls.key(params)
            if key not in suite["counts"]:  # not selected
                continue
            name = key.partition(".")[2]  # without the suite's package name
            bench = cls()
            try:
                bench.setup(suite, *params)
                lines = [
                    f"{name} {track}: {getattr(bench, track)(suite, *params):,} "
                    + getattr(getattr(cls, track), "unit", cls.unit)
                    for track in cls.counted_methods()
                ]
            except (NotImplementedError, RuntimeError) as exc:
                lines = [f"{name}: {exc}"]
            print("\n".join(lines))
    print(f"({suite['seconds']} s under callgrind)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    # As the package's module, not as __main__: the benchmark classes derive from that
    # module's Counted.
    sys.exit(importlib.import_module(f"{HERE.name}.instructions").main())
