"""The address of a counted regression (``ws_stack_bench.where``, ``benchmarks/where.py``).

The end-to-end test plants the issue's slowdown, a 30-iteration loop around
``LocalOrderBook.apply``, in a throwaway clone of the working tree, and asks where
``ApplyDeltaInstructions`` got worse: the planted wrapper in ``book.py`` must come first,
and the same on a second run, to the bytecode.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from benchmarks.where import parse_key, self_costs
from ws_stack_bench.project import Project
from ws_stack_bench.where import Shift, remove_worktrees, shifts, where

from .conftest import _commit, clone_working_tree, frame_names

APPLY_KEY = "bench_book.ApplyDeltaInstructions.track_apply_delta(20)"

PLANTED_LOOP = """

# Planted by the test: a 30-iteration loop around every delta applied.
_planted_apply = LocalOrderBook.apply


def _planted_wrapper(self, update):
    for _ in range(30):
        pass
    return _planted_apply(self, update)


LocalOrderBook.apply = _planted_wrapper
"""


def test_a_key_names_the_benchmark_method_and_its_parameters() -> None:
    assert parse_key(APPLY_KEY) == ("bench_book", "ApplyDeltaInstructions", "track_apply_delta",
                                    (20,))  # fmt: skip
    assert parse_key("bench_codec.ParseOrderBookInstructions.track_parse('mexc', 'json', 5)") == (
        "bench_codec", "ParseOrderBookInstructions", "track_parse", ("mexc", "json", 5)
    )  # fmt: skip
    assert parse_key("bench_state.TransitionsInstructions.track_reconnect_cycle")[3] == ()


def test_shifts_put_the_largest_change_first_and_leave_out_what_did_not_move() -> None:
    before = [{"function": "f", "file": "a.py", "line": 1, "bytecodes": 100.0},
              {"function": "g", "file": "a.py", "line": 9, "bytecodes": 50.0},
              {"function": "gone", "file": "b.py", "line": 3, "bytecodes": 4.0}]  # fmt: skip
    after = [{"function": "f", "file": "a.py", "line": 2, "bytecodes": 100.0},
             {"function": "g", "file": "a.py", "line": 10, "bytecodes": 60.0},
             {"function": "new", "file": "b.py", "line": 7, "bytecodes": 90.0}]  # fmt: skip
    found = shifts(before, after)
    assert found == [
        Shift("new", "b.py", 7, 0.0, 90.0),
        Shift("g", "a.py", 10, 50.0, 60.0),  # the head's line: where to look now
        Shift("gone", "b.py", 3, 4.0, 0.0),
    ]
    assert str(found[0]) == "+90.0 bytecodes per call: b.py:7 new (new) (0.0 -> 90.0)"
    c = shifts([{"function": "malloc", "file": "libc.so.6", "line": 0, "instructions": 10.0}],
               [{"function": "malloc", "file": "libc.so.6", "line": 0, "instructions": 30.0}],
               "instructions")  # fmt: skip
    assert [str(shift) for shift in c] == [
        "+20.0 instructions per call: libc.so.6 malloc (10.0 -> 30.0)"
    ]


def test_callgrind_output_gives_each_c_function_its_own_instructions() -> None:
    # Compressed names, a function seen twice, a call whose inclusive cost is not its own.
    text = """# callgrind format
events: Ir
ob=(1) /usr/lib/libpython3.11.so.1.0
fl=(1) ceval.c
fn=(1) _PyEval_EvalFrameDefault
0 100
cob=(2) /usr/lib/libc.so.6
cfi=(2) malloc.c
cfn=(2) malloc
calls=3 0
0 900
ob=(2)
fl=(2)
fn=(2)
0 300
ob=(1)
fn=(3) 0x0000000004936730
0 7
fn=(1)
0 5
"""
    assert self_costs(text) == {
        ("libpython3.11.so.1.0", "_PyEval_EvalFrameDefault"): 105,
        ("libc.so.6", "malloc"): 300,
        ("libpython3.11.so.1.0", "(no symbol)"): 7,
    }


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Project, str, str]:
    """A clone of the working tree (base) and the planted loop (head)."""
    clone, base = clone_working_tree(tmp_path_factory.mktemp("where"), "base: the working tree")
    with open(clone / "src/ws_stack/book.py", "a") as book:
        book.write(PLANTED_LOOP)
    head = _commit(clone, "head: a loop around LocalOrderBook.apply")
    return Project(clone), base, head


def test_the_planted_wrapper_comes_first_the_same_on_every_run(
    planted: tuple[Project, str, str],
) -> None:
    project, base, head = planted
    first = where(project, base, head, APPLY_KEY)
    assert first.python, "no Python function changed"
    top = first.python[0]
    assert (top.file, top.function, top.before) == ("ws_stack/book.py", "_planted_wrapper", 0.0)
    assert top.after > 60  # the loop's 30 iterations, a few bytecodes each
    # Nothing else the plant did not touch moved: the book's own work is the same.
    assert [shift.function for shift in first.python] == ["_planted_wrapper"]
    if not first.c_unavailable:  # in C: the interpreter runs the loop, range() feeds it
        assert first.c[0].function == "_PyEval_EvalFrameDefault" and first.c[0].change > 0
        assert any(shift.function.startswith("range") for shift in first.c), first.c
    assert where(project, base, head, APPLY_KEY) == first  # exact: to the bytecode
    remove_worktrees(project)
    assert not list((project.work_dir / "gate" / "where").glob("*"))


def test_the_planted_wrapper_is_the_frame_that_grew(
    planted: tuple[Project, str, str], browser: Any, tmp_path: Path
) -> None:
    """The gate's flame graphs of the planted loop: in the head's trees the wrapper's own
    work grew the most, and Chromium draws it as a named frame."""
    from ws_stack import book
    from ws_stack_bench.publish import vendor_flame_libraries
    from ws_stack_bench.where import differential, write_differential_page

    project, base, head = planted
    address = where(project, base, head, APPLY_KEY)
    remove_worktrees(project)
    diff = differential(*address.trees["python"])
    frames, stack = [], [diff]
    while stack:
        node = stack.pop()
        frames.append(node)
        stack += node["children"]
    grew = max(frames, key=lambda node: node["delta"])
    assert grew["name"].startswith("_planted_wrapper (ws_stack/book.py:"), grew
    assert grew["delta"] > 60
    # The book's own work did not move: in pure Python it is drawn, uncoloured, above the
    # wrapper (the compiled book, ws_stack._book_side.BookCore, applies a delta in no frame).
    applies = [node for node in frames if node["name"].startswith("_PureLocalOrderBook.apply")]
    assert all(apply["delta"] == 0 for apply in applies)
    if book._compiled is None:
        assert applies
    vendor_flame_libraries(tmp_path, project.work_dir / "npm")
    page = write_differential_page(APPLY_KEY, address, base, head, tmp_path)
    assert page is not None
    browser.get((tmp_path / page).as_uri())
    names = frame_names(browser, "#python-diff")
    assert any(name.startswith("_planted_wrapper") for name in names), names


def test_the_page_breaks_down_each_counted_call_once(tmp_path: Path) -> None:
    from ws_stack_bench.where import first_cases, write_page

    meta = {
        "bench_book.ApplyDeltaInstructions.track_apply_delta": {"params": [["5", "20"]]},
        "bench_book.ApplyDelta.time_apply_delta": {"params": [["5", "20"]]},  # not a count
        "bench_state.TransitionsInstructions.track_reconnect_cycle": {"params": []},
    }
    assert first_cases(meta) == [
        "bench_book.ApplyDeltaInstructions.track_apply_delta(5)",
        "bench_state.TransitionsInstructions.track_reconnect_cycle",
    ]
    python = {"function": "_Side.apply", "file": "ws_stack/book.py", "line": 66,
              "bytecodes": 842.0}  # fmt: skip
    c = {"function": "<b>", "file": "libc.so.6", "line": 0, "instructions": 12.5}
    found = {
        "bench_book.ApplyDeltaInstructions.track_apply_delta(5)": {
            "functions": [python],
            "c_functions": [c],
        },
        "bench_state.TransitionsInstructions.track_reconnect_cycle": {"error": "no such thing"},
    }
    page = tmp_path / "where.html"
    write_page("a" * 40, found, page)
    text = page.read_text()
    assert "<h1>Where each counted call's work goes, at aaaaaaaaaaaa</h1>" in text
    assert "<td><code>_Side.apply</code></td><td><code>ws_stack/book.py:66</code></td>" in text
    assert "<td>842.0</td>" in text and "<td>12.5</td>" in text
    assert "&lt;b&gt;" in text and "<b>" not in text  # names are escaped
    assert "Not measured: no such thing" in text


def test_cache_misses_are_each_functions_own_per_event() -> None:
    """With the cache simulation a cost line has several events: a function's misses are
    the sum of the events asked for, trailing zeros left out as callgrind writes them."""
    text = """events: Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw
ob=(1) /usr/lib/libpython3.11.so.1.0
fn=(1) _PyEval_EvalFrameDefault
0 100 40 20 3 5 2 3 4 1
cfn=(2) _PyObject_Malloc
calls=1 0
0 50 10 10 1 9 9 1 9 9
fn=(2)
0 50 10 10 1 2 1 1 1
"""
    assert self_costs(text, ("D1mr", "D1mw")) == {
        ("libpython3.11.so.1.0", "_PyEval_EvalFrameDefault"): 7,
        ("libpython3.11.so.1.0", "_PyObject_Malloc"): 3,
    }
    assert self_costs(text, ("ILmr", "DLmr", "DLmw")) == {
        ("libpython3.11.so.1.0", "_PyEval_EvalFrameDefault"): 8,
        ("libpython3.11.so.1.0", "_PyObject_Malloc"): 2,
    }
    assert self_costs(text)[("libpython3.11.so.1.0", "_PyObject_Malloc")] == 50


def test_the_page_breaks_down_every_lone_call_by_its_misses(tmp_path: Path) -> None:
    from ws_stack_bench.where import lone_cases, write_page

    meta = {
        "bench_handler.LoneFrameMisses.track_handle_d1_misses": {
            "params": [["'mexc'", "'gateio'"], ["'trade'", "'order_book'"]]
        },
        "bench_handler.LoneFrameMisses.track_handle_ll_misses": {"params": [["'mexc'"], ["'x'"]]},
        "bench_handler.LoneFrame.track_handle_p95": {"params": [["'mexc'"]]},  # not counted
    }
    keys = lone_cases(meta)
    assert keys == [
        f"bench_handler.LoneFrameMisses.track_handle_d1_misses({venue}, {channel})"
        for venue in ("'mexc'", "'gateio'")
        for channel in ("'trade'", "'order_book'")
    ]
    rows = [
        {"function": "_PyEval_EvalFrameDefault", "file": "libpython3.11.so.1.0", "line": 0,
         "d1": 300.0, "ll": 400.5},
        {"function": "<i>", "file": "libc.so.6", "line": 0, "d1": 1.5, "ll": 2.0},
    ]  # fmt: skip
    page = tmp_path / "where.html"
    write_page("a" * 40, {}, page, {keys[0]: rows})
    text = page.read_text()
    assert "Where a lone frame misses the caches" in text
    assert "302 first-level data and 402 last-level misses per lone call" in text
    assert "<td><code>_PyEval_EvalFrameDefault</code></td>" in text
    assert "<td>300.0</td><td>400.5</td>" in text
    assert "&lt;i&gt;" in text and "<i>" not in text
    write_page("a" * 40, {}, page, {"c_unavailable": "valgrind not found"})
    assert "Not measured: valgrind not found" in page.read_text()


def test_the_page_links_a_flame_graph_page_per_counted_call(tmp_path: Path) -> None:
    from ws_stack_bench.where import FLAME_DIR, flame_file, write_page

    key = "bench_book.ApplyDeltaInstructions.track_apply_delta(20)"
    python = {"name": "all", "value": 3.0, "children": [
        {"name": "</script><b>LocalOrderBook.apply (ws_stack/book.py:98)", "value": 3.0,
         "children": []}]}  # fmt: skip
    c = {"name": "all", "value": 9.0, "children": []}
    page = tmp_path / "where.html"
    write_page("a" * 40, {key: {"functions": [], "c_functions": [], "tree": python,
                                "c_tree": c}}, page)  # fmt: skip
    assert flame_file(key) == "bench_book.ApplyDeltaInstructions.track_apply_delta_20.html"
    assert f'href="{FLAME_DIR}/{flame_file(key)}"' in page.read_text()
    flame = (tmp_path / FLAME_DIR / flame_file(key)).read_text()
    assert "../vendor/d3-flame-graph@5.0.0/dist/d3-flamegraph.umd.min.js" in flame
    assert "LocalOrderBook.apply" in flame
    assert "</script><b>" not in flame  # a name cannot end the page's script
    # Written again, the folder holds the pages of this run only.
    write_page("a" * 40, {}, page)
    assert not (tmp_path / FLAME_DIR).exists() or not list((tmp_path / FLAME_DIR).iterdir())


def test_a_calls_tree_weighs_each_path_by_its_bytecodes_the_same_on_every_run() -> None:
    """The flame graph's data: the call tree of one counted call, each frame's value the
    bytecodes per call of it and what it called; its total is the functions' total."""
    from benchmarks.where import attribute
    from ws_stack import book

    key = "bench_book.ApplyDeltaInstructions.track_apply_delta(20)"
    first, second = attribute(key), attribute(key)
    assert first["tree"] == second["tree"]
    assert first.get("c_tree") == second.get("c_tree")  # None without valgrind
    tree = first["tree"]
    assert tree["name"] == "all"
    assert tree["value"] == pytest.approx(sum(row["bytecodes"] for row in first["functions"]))

    def frames(node: dict[str, Any], path: tuple[str, ...] = ()) -> dict[tuple[str, ...], float]:
        found = {(*path, node["name"]): node["value"]}
        for child in node["children"]:
            assert child["value"] <= node["value"]
            found.update(frames(child, (*path, node["name"])))
        return found

    paths = frames(tree)
    applies = [path for path in paths if path[-1].startswith("_PureLocalOrderBook.apply (")]
    sides = [path for path in paths if path[-1].startswith("_Side.apply (")]
    if book._compiled is None:  # pure Python: the book's apply, and its sides' below it
        (apply,) = applies
        assert sides and all(side[:-1] == apply for side in sides)  # applied by the book
        assert "ApplyDelta.time_apply_delta" in apply[-2]
    else:  # the compiled book (ws_stack._book_side.BookCore) applies a delta in no frame
        assert applies == sides == []
        assert any("ApplyDelta.time_apply_delta" in path[-1] for path in paths)
    if "c_tree" in first:  # the C tree's total is the C functions' total too
        total = sum(row["instructions"] for row in first["c_functions"])
        assert first["c_tree"]["value"] == pytest.approx(total, rel=1e-6)
        assert "_PyEval_EvalFrameDefault" in {path[-1] for path in frames(first["c_tree"])}
