"""The address of a counted regression: which functions do more work, and where.

For a count benchmark that got worse, the gate runs ``benchmarks/where.py`` at the base
and at the head of the change: the same call of the same twin method, its executed
bytecodes charged to each Python function, and its instructions to each C function
(from callgrind); both exact, the same on every run (see that module). Each side imports
its own commit's package from a git worktree of it (put first on ``PYTHONPATH``), with
this environment's dependencies and the working tree's suite, as asv does. The
difference, function by function, is the address: a function that grew, or appeared,
comes first. docs/instruction-counts.md says why bytecodes for Python.
"""

from __future__ import annotations

import contextlib
import html
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ws_stack_bench.project import Project, ProjectError

__all__ = [
    "ADDRESSED",
    "FLAME_DIR",
    "FLAME_LIBRARIES",
    "GRAPH_LINKS",
    "MISSED",
    "PAGE",
    "TOP",
    "Address",
    "Shift",
    "breakdown",
    "differential",
    "first_cases",
    "flame_file",
    "lone_breakdown",
    "lone_cases",
    "remove_worktrees",
    "shifts",
    "where",
    "write_differential_page",
    "write_flame_page",
    "write_page",
]

#: How many functions an address lists.
TOP = 8
#: The count benchmarks an address can be found for: the instruction counts (a twin
#: method's calls; the other counted metrics are not calls of one method).
ADDRESSED = re.compile(r"Instructions\.track_")
#: The cache-miss benchmarks whose lone calls the page breaks down by C function: one
#: track per counted call (its first-level one; the breakdown has both levels).
MISSED = re.compile(r"Misses\.track_\w+_d1_misses$")
#: Wall-time limit of one side's run.
TIMEOUT_S = 300


@dataclass(frozen=True)
class Shift:
    """One function's work per call at the base and at the head (0 where absent): Python
    bytecodes (``file:line``), or a C function's instructions (its object file)."""

    function: str
    file: str
    line: int
    before: float
    after: float
    unit: str = "bytecodes"

    @property
    def change(self) -> float:
        return round(self.after - self.before, 2)

    @property
    def place(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file

    def __str__(self) -> str:
        what = " (new)" if not self.before else " (gone)" if not self.after else ""
        return (
            f"{self.change:+,.1f} {self.unit} per call: {self.place} "
            f"{self.function}{what} ({self.before:,.1f} -> {self.after:,.1f})"
        )


@dataclass(frozen=True)
class Address:
    """Where a regression's extra work went: Python functions (executed bytecodes) and C
    functions (instructions, or why callgrind could not say)."""

    python: list[Shift]
    c: list[Shift]
    c_unavailable: str = ""
    #: The call trees at the base and at the head, for the flame graphs: ``"python"``
    #: (bytecodes) and, where callgrind ran, ``"c"`` (instructions).
    trees: dict[str, tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=dict)


def shifts(
    before: list[dict[str, object]], after: list[dict[str, object]], unit: str = "bytecodes"
) -> list[Shift]:
    """The functions whose ``unit`` per call changed, largest change first (a function
    is the same on both sides by file and name; its line is the head's)."""

    def by_name(rows: list[dict[str, object]]) -> dict[tuple[str, str], dict[str, object]]:
        return {(str(row["file"]), str(row["function"])): row for row in rows}

    old, new = by_name(before), by_name(after)
    found = []
    for name in sorted(old.keys() | new.keys()):
        row = new.get(name) or old[name]
        was = float(str(old[name][unit])) if name in old else 0.0
        now = float(str(new[name][unit])) if name in new else 0.0
        if round(now - was, 2):
            found.append(Shift(name[1], name[0], int(str(row["line"])), was, now, unit))
    found.sort(key=lambda shift: (-abs(shift.change), shift.file, shift.function))
    return found


def _worktree(project: Project, commit: str) -> Path:
    path = project.work_dir / "gate" / "where" / commit[:12]
    if not (path / "src").is_dir():
        path.parent.mkdir(parents=True, exist_ok=True)
        project.git("worktree", "add", "--force", "--detach", str(path), commit)
    return path


def _run(project: Project, key: str, package_root: Path | None,
         *more: str) -> dict[str, Any]:  # fmt: skip
    """``benchmarks/where.py``'s figures for ``key`` (``key`` and ``more``: its command
    line), importing the package from ``package_root`` (a worktree's ``src``) or, without
    one, the installed package; raises ``RuntimeError`` with the child's last word where
    it fails."""
    env = {**os.environ, "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1"}
    if package_root is None:
        env.pop("PYTHONPATH", None)
    else:
        env["PYTHONPATH"] = os.pathsep.join([str(package_root), str(project.root)])
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.where", key, *more],
        cwd=project.root, env=env, capture_output=True, text=True, timeout=TIMEOUT_S,
        check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError((done.stderr.strip().splitlines() or ["no output"])[-1])
    data: dict[str, Any] = json.loads(done.stdout)
    return data


def _side(project: Project, commit: str, key: str) -> dict[str, Any]:
    tree = _worktree(project, commit)
    try:
        data = _run(project, key, tree / "src")
    except RuntimeError as exc:
        raise RuntimeError(f"at {commit[:8]}: {exc}") from None
    if not str(data["package"]).startswith(str(tree)):
        raise RuntimeError(f"at {commit[:8]}: imported {data['package']}, not the worktree's")
    return data


def where(project: Project, base: str, head: str, key: str) -> Address:
    """The top :data:`TOP` shifts of ``key`` (a count benchmark's ``name(params)``)
    between ``base`` and ``head``, Python and C; raises ``RuntimeError`` where a side
    cannot run."""
    try:
        old, new = _side(project, base, key), _side(project, head, key)
        python = shifts(old["functions"], new["functions"])[:TOP]
        trees = {
            kind: (old[field_], new[field_])
            for kind, field_ in (("python", "tree"), ("c", "c_tree"))
            if field_ in old and field_ in new
        }
        if "c_functions" in old and "c_functions" in new:
            c = shifts(old["c_functions"], new["c_functions"], "instructions")[:TOP]
            return Address(python, c, trees=trees)
        why = old.get("c_unavailable") or new.get("c_unavailable") or "no callgrind output"
        return Address(python, [], str(why), trees)
    except (ProjectError, subprocess.TimeoutExpired, ValueError, KeyError) as exc:
        raise RuntimeError(str(exc)) from exc


def remove_worktrees(project: Project) -> None:
    """The worktrees :func:`where` made."""
    root = project.work_dir / "gate" / "where"
    for path in sorted(root.glob("*")) if root.is_dir() else []:
        with contextlib.suppress(ProjectError):
            project.git("worktree", "remove", "--force", str(path))


# -- the page of breakdowns at HEAD ----------------------------------------------------

#: The page ``make bench`` publishes next to asv's, and where it is kept between publishes.
PAGE = "where.html"
#: The folder of its flame graphs, one page per counted call, beside it, and the file
#: there that maps each count benchmark's name to its page (for its graph's link).
FLAME_DIR = "flame"
GRAPH_LINKS = "graphs.json"
#: The libraries a flame graph loads, as ``publish`` vendors them from npm (package,
#: version, file in the package).
FLAME_LIBRARIES = (
    ("d3", "7.9.0", "dist/d3.min.js"),
    ("d3-flame-graph", "5.0.0", "dist/d3-flamegraph.umd.min.js"),
    ("d3-flame-graph", "5.0.0", "dist/d3-flamegraph.css"),
)
#: Rows of each table on the page.
PAGE_ROWS = 12


def first_cases(meta: dict[str, Any]) -> list[str]:
    """Each instruction-count benchmark of the suite (``benchmarks.json``'s ``meta``) at
    its first parameter combination, as ``name(params)``."""
    keys = []
    for name in sorted(meta):
        if not ADDRESSED.search(name):
            continue
        params = meta[name].get("params") or []
        keys.append(f"{name}({', '.join(axis[0] for axis in params)})" if params else name)
    return keys


def breakdown(project: Project, key: str) -> dict[str, Any]:
    """``benchmarks/where.py``'s figures for ``key`` at the installed package (make
    bench's: the working tree), or ``{"error": why}``."""
    try:
        return _run(project, key, None)
    except RuntimeError as exc:
        return {"error": str(exc)}


def lone_cases(meta: dict[str, Any]) -> list[str]:
    """Each cache-miss benchmark of the suite (:data:`MISSED`, ``benchmarks.json``'s
    ``meta``) at every parameter combination, as ``name(params)``."""
    keys = []
    for name in sorted(meta):
        if not MISSED.search(name):
            continue
        params = meta[name].get("params") or [[]]
        keys += [f"{name}({', '.join(combination)})" for combination in itertools.product(*params)]
    return keys


def lone_breakdown(project: Project, keys: list[str]) -> dict[str, Any]:
    """``benchmarks/where.py``'s cache misses by C function of each lone call of ``keys``
    at the installed package (one callgrind run), or ``{"error": why}``."""
    if not keys:
        return {}
    try:
        return _run(project, "--misses", None, *keys)
    except RuntimeError as exc:
        return {"error": str(exc)}


def write_page(
    commit: str,
    found: dict[str, dict[str, Any]],
    path: Path,
    misses: dict[str, Any] | None = None,
) -> None:
    """The breakdowns ``found`` (key to :func:`breakdown`'s figures) as a page, and the
    cache misses of lone calls (:func:`lone_breakdown`'s figures) where given; the call
    tree of each breakdown that has one as a flame graph of its own, in FLAME_DIR beside
    the page."""
    sections = []
    flames = path.parent / FLAME_DIR
    if flames.is_dir():
        shutil.rmtree(flames)
    graphs: dict[str, str] = {}  # benchmark name -> its flame graph page
    for key, data in found.items():
        parts = [f'<h2 id="{html.escape(key)}"><code>{html.escape(key)}</code></h2>']
        if "error" in data:
            parts.append(f"<p>Not measured: {html.escape(str(data['error']))}</p>")
        else:
            if "tree" in data:
                link = write_flame_page(key, data["tree"], data.get("c_tree"), flames)
                graphs[key.partition("(")[0]] = f"{FLAME_DIR}/{link}"
                parts.append(f'<p><a href="{FLAME_DIR}/{link}">Flame graphs</a>: the Python '
                             "calls by bytecodes, the C calls by instructions.</p>")  # fmt: skip
            parts.append(_table("Python function", "file:line", "bytecodes", data["functions"]))
            if "c_functions" in data:
                parts.append(_table("C function", "object", "instructions", data["c_functions"]))
            else:
                parts.append(f"<p>C functions: {html.escape(str(data['c_unavailable']))}</p>")
        sections.append("\n".join(parts))
    if graphs:  # for the graph pages' links (publish)
        (flames / GRAPH_LINKS).write_text(json.dumps(graphs, indent=1, sort_keys=True) + "\n")
    lone = _lone_sections(misses or {})
    index = "".join(
        f'<li><a href="#{html.escape(key)}"><code>{html.escape(key)}</code></a></li>'
        for key in [*found, *(misses or {})]
        if key not in ("error", "c_unavailable")
    )
    path.write_text(
        _PAGE.format(commit=html.escape(commit[:12]), index=index,
                     sections="\n".join([*sections, *lone])),
        encoding="utf-8",
    )  # fmt: skip


def flame_file(key: str) -> str:
    """The file name of ``key``'s flame graph: its characters a URL keeps as they are."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", key).strip("_") + ".html"


def write_flame_page(
    key: str, python: dict[str, Any], c: dict[str, Any] | None, folder: Path
) -> str:
    """The call trees of ``key`` (as d3-flame-graph reads them: the Python one by
    bytecodes, the C one by instructions, where there is one) as a page in ``folder``,
    the data inline (it opens from a file too); its file name."""
    folder.mkdir(parents=True, exist_ok=True)
    name = flame_file(key)
    scripts, styles = _library_tags("../vendor", ".js"), _library_tags("../vendor", ".css")
    # Inside <script>, "</" would end the element: JSON escapes it.
    data = json.dumps({"python": python, "c": c}, sort_keys=True).replace("</", "<\\/")
    (folder / name).write_text(
        _FLAME_PAGE.format(
            key=html.escape(key), styles=styles, scripts=scripts, data=data, draw=_DRAW
        ),
        encoding="utf-8",
    )
    return name


def differential(base: dict[str, Any], head: dict[str, Any]) -> dict[str, Any]:
    """``head``'s call tree, each frame marked with ``delta``: how much its function's own
    work changed from ``base`` (summed over the tree, as the address's tables count it),
    so that the functions that grew stand out wherever they are called."""
    before, after = _own_work(base), _own_work(head)

    def mark(node: dict[str, Any]) -> dict[str, Any]:
        name = node["name"]
        return {
            "name": name,
            "value": node["value"],
            "delta": round(after[name] - before.get(name, 0.0), 2),
            "children": [mark(child) for child in node["children"]],
        }

    return mark(head)


def _own_work(tree: dict[str, Any]) -> dict[str, float]:
    """Each function's own work over the tree: a frame's value less its children's."""
    found: dict[str, float] = {}
    stack = [tree]
    while stack:
        node = stack.pop()
        own = node["value"] - sum(child["value"] for child in node["children"])
        found[node["name"]] = found.get(node["name"], 0.0) + own
        stack += node["children"]
    return found


def write_differential_page(
    key: str, address: Address, base: str, head: str, folder: Path
) -> str | None:
    """The flame graphs of a counted regression in ``folder`` (its libraries under
    ``folder/vendor``, see :func:`vendor_flame_libraries`): the head's trees with each
    function coloured by how much its own work grew, and the base's beside; its file
    name, or ``None`` where the address has no trees."""
    if "python" not in address.trees:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    name = flame_file(key)
    graphs = {
        kind: {"diff": differential(*address.trees[kind]), "base": address.trees[kind][0]}
        for kind in ("python", "c")
        if kind in address.trees
    }
    data = json.dumps(graphs, sort_keys=True).replace("</", "<\\/")
    (folder / name).write_text(
        _DIFFERENTIAL_PAGE.format(
            key=html.escape(key), base=html.escape(base[:8]), head=html.escape(head[:8]),
            styles=_library_tags("vendor", ".css"), scripts=_library_tags("vendor", ".js"),
            data=data, draw=_DRAW,
        ),
        encoding="utf-8",
    )  # fmt: skip
    return name


def _library_tags(prefix: str, ending: str) -> str:
    """The ``<script>`` or ``<link>`` tags of FLAME_LIBRARIES' files ending in ``ending``."""
    tags = []
    for package, version, file in FLAME_LIBRARIES:
        if file.endswith(ending):
            path = f"{prefix}/{package}@{version}/{file}"
            tags.append(f'<script src="{path}"></script>' if ending == ".js"
                        else f'<link rel="stylesheet" href="{path}">')  # fmt: skip
    return "".join(tags)


#: How both pages draw a tree: each frame labelled with its work per call (and, on the
#: gate's page, how much its function's own work changed), coloured by ``colour`` if given.
_DRAW = """function draw(id, tree, unit, colour) {
  const chart = flamegraph.default().width(Math.max(960, window.innerWidth - 64))
    .cellHeight(18).minFrameSize(2).transitionDuration(0).sort(true)
    .label(d => d.data.name + ": " + d.data.value.toLocaleString() + " " + unit +
      " per call" + (d.data.delta ? " (own work " + (d.data.delta > 0 ? "+" : "") +
      d.data.delta.toLocaleString() + ")" : ""));
  if (colour) chart.setColorMapper(colour);
  d3.select("#" + id).datum(tree).call(chart);
}
"""

_DIFFERENTIAL_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Where it grew: {key}</title>{styles}
<style>body{{font-family:sans-serif;margin:2em}}</style></head><body>
<h1>Where <code>{key}</code> grew, <code>{base}</code> to <code>{head}</code></h1>
<p>The head's call trees, each frame a function called by the one below it, its width
the work done in it and in what it called, per call. A frame is red as far as its
function's own work grew (the darkest: the largest growth), blue where it shrank, grey
where it did not move; hover for the figures. The base's trees are below, for
comparison. Exact counts, the same on every run (the gate's address, as a picture).</p>
<h2>Python functions, by bytecodes executed (head)</h2><div id="python-diff"></div>
<h2>C functions, by CPU instructions (head)</h2><div id="c-diff"></div>
<h2>Python functions at the base</h2><div id="python-base"></div>
<h2>C functions at the base</h2><div id="c-base"></div>
{scripts}
<script>
const graphs = {data};
{draw}function changes(tree) {{
  let most = 0;
  const stack = [tree];
  while (stack.length) {{
    const node = stack.pop();
    most = Math.max(most, Math.abs(node.delta || 0));
    stack.push(...node.children);
  }}
  return (d) => {{
    const delta = d.data.delta || 0;
    if (!most || !delta) return "rgb(220,220,220)";
    const shade = Math.round(200 * (1 - Math.abs(delta) / most));
    return delta > 0 ? `rgb(255,${{shade}},${{shade}})` : `rgb(${{shade}},${{shade}},255)`;
  }};
}}
for (const [kind, unit] of [["python", "bytecodes"], ["c", "instructions"]]) {{
  if (!graphs[kind]) continue;
  draw(kind + "-diff", graphs[kind].diff, unit, changes(graphs[kind].diff));
  draw(kind + "-base", graphs[kind].base, unit, null);
}}
</script>
</body></html>
"""


_FLAME_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Flame graph: {key}</title>{styles}
<style>body{{font-family:sans-serif;margin:2em}}</style></head><body>
<h1>Flame graphs of <code>{key}</code></h1>
<p>Each frame is a function called by the one below it, its width the work done in it
and in what it called, per call of the counted method. Both are exact, the same on every
run of the same code (<code>docs/instruction-counts.md</code> says how they are made).
Click a frame to zoom in, hover for its figures. <a href="../where.html">Back to the Where
page</a>.</p>
<h2>Python functions, by bytecodes executed</h2>
<div id="python"></div>
<h2>C functions, by CPU instructions (callgrind)</h2>
<p id="c-note"></p>
<div id="c"></div>
{scripts}
<script>
const trees = {data};
{draw}draw("python", trees.python, "bytecodes");
if (trees.c) {{
  draw("c", trees.c, "instructions");
  document.getElementById("c-note").textContent = "The bottom frame is where callgrind " +
    "began to follow the calls: the request that started the measurement " +
    "(_PyObject_MakeTpCall), charged with the interpreter loop that runs the measured calls.";
}} else {{
  document.getElementById("c-note").textContent = "Not measured here (no valgrind).";
}}
</script>
</body></html>
"""


def _lone_sections(misses: dict[str, Any]) -> list[str]:
    """The page's part on lone calls: why a lone frame costs more, function by function."""
    if not misses:
        return []
    parts = [_LONE_INTRO]
    why = misses.get("error") or misses.get("c_unavailable")
    if why:
        return [*parts, f"<p>Not measured: {html.escape(str(why))}</p>"]
    for key, rows in misses.items():
        total = {unit: sum(row[unit] for row in rows) for unit in ("d1", "ll")}
        parts.append(
            f'<h3 id="{html.escape(key)}"><code>{html.escape(key)}</code></h3>'
            f"<p>{total['d1']:,.0f} first-level data and {total['ll']:,.0f} last-level misses "
            "per lone call, by C function, most last-level misses first:</p>"
        )
        parts.append(_misses_table(rows))
    return parts


def _misses_table(rows: list[dict[str, Any]]) -> str:
    cells = [
        f"<tr><td><code>{html.escape(str(row['function']))}</code></td>"
        f"<td><code>{html.escape(str(row['file']))}</code></td>"
        f"<td>{row['d1']:,.1f}</td><td>{row['ll']:,.1f}</td></tr>"
        for row in rows[:PAGE_ROWS]
    ]
    more = f" (the first {PAGE_ROWS} of {len(rows)})" if len(rows) > PAGE_ROWS else ""
    return (
        f"<table><tr><th>C function{more}</th><th>object</th>"
        "<th>first-level data misses per call</th><th>last-level misses per call</th></tr>"
        + "".join(cells)
        + "</table>"
    )


_LONE_INTRO = """<h2 id="lone-frames">Where a lone frame misses the caches</h2>
<p>A frame that arrives alone, after other work wrote 4 MiB, finds ws_stack's code and
data out of the caches. For each venue's lone frames (<code>LoneFrameMisses</code>), the
misses of one frame's call under valgrind's cache simulation, charged to the C function
that missed: its own misses, the work of the functions it calls excluded. The
interpreter's loop (<code>_PyEval_EvalFrameDefault</code>; a <code>'2</code> marks a loop
entered from C, such as a callback's) misses on the bytecode, frames and objects the
Python code touches. Simulated caches, the same on every machine: see
<code>benchmarks/cache_misses.py</code>. Exact: the same on every run of the same code.</p>"""


def _table(kind: str, place: str, unit: str, rows: list[dict[str, Any]]) -> str:
    cells = []
    for row in rows[:PAGE_ROWS]:
        where = f"{row['file']}:{row['line']}" if row["line"] else str(row["file"])
        cells.append(
            f"<tr><td><code>{html.escape(str(row['function']))}</code></td>"
            f"<td><code>{html.escape(where)}</code></td><td>{row[unit]:,.1f}</td></tr>"
        )
    more = f" (the first {PAGE_ROWS} of {len(rows)})" if len(rows) > PAGE_ROWS else ""
    return (
        f"<table><tr><th>{kind}{more}</th><th>{place}</th><th>{unit} per call</th></tr>"
        + "".join(cells)
        + "</table>"
    )


_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>ws_stack benchmarks: where the work goes</title>
<style>body{{font-family:sans-serif;margin:2em}}td,th{{padding:2px 8px;text-align:left}}
tr:nth-child(even){{background:#f4f4f4}}table{{margin-bottom:1em}}</style></head><body>
<h1>Where each counted call's work goes, at {commit}</h1>
<p>For each instruction-count benchmark, at its first parameters: the Python functions
one call runs, by executed bytecodes per call, and the C functions, by their own CPU
instructions per call (callgrind). Both are exact: the same on every run of the same
code. The regression gate lists the change in these between a base and a head.
<a href="index.html">Back to the graphs</a>.</p>
<ul>{index}</ul>
{sections}
</body></html>
"""
