"""The address of a counted regression (``ws_stack_bench.where``, ``benchmarks/where.py``).

The end-to-end test plants the issue's slowdown, a 30-iteration loop around
``LocalOrderBook.apply``, in a throwaway clone of the working tree, and asks where
``ApplyDeltaInstructions`` got worse: the planted wrapper in ``book.py`` must come first,
and the same on a second run, to the bytecode.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.where import parse_key, self_costs
from ws_stack_bench.project import Project
from ws_stack_bench.where import Shift, remove_worktrees, shifts, where

from .conftest import _commit, clone_working_tree

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
