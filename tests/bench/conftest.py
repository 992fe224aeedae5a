"""A throwaway clone with planted regressions, measured by the gate once per session.

The clone starts from the working tree as it is (every tracked or untracked, not ignored
file: on a clean clone that is HEAD), then gets two commits:

* ``unchanged``: a README edit, so the pair (base, unchanged) has identical code;
* ``planted``: about 5 % more instructions in Gate.io's order-book delta parser and a level
  pool that keeps nothing it is given (its reuse collapses).

The gate runs on a small benchmark subset (the counts of the order-book parses, the MEXC
handler's pool) to keep the session short; ``unchanged`` is measured by both runs, so
its counts show whether two runs agree. The results also feed the browser test, which
publishes them. The ``browser`` fixture (a headless Chromium) serves every browser test.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ws_stack_bench.gate import Verdict, run_gate
from ws_stack_bench.project import Project
from ws_stack_bench.results import ResultsError, is_number, load_commit

REPO = Path(__file__).resolve().parents[2]

# asv matches a parameterised benchmark's regex against ``name(param, ...)``.
PARSE_COUNTS = r"^bench_codec\.ParseOrderBookInstructions\.track_parse\("
POOL_BENCH = r"^bench_pool\.HandlerStream\.track_(miss|reuse)_ratio\("
GATE_SUBSET = (PARSE_COUNTS, POOL_BENCH)
#: The benchmark the planted change makes worse.
PLANTED_KEY = "bench_codec.ParseOrderBookInstructions.track_parse('gateio', 'json', 'update', 20)"

PLANTED_SLOWDOWN = """

# Planted by the gate test: about 5 % more instructions per order-book delta parsed.
_planted_parse = parse_order_book_update


def parse_order_book_update(frame):
    update = _planted_parse(frame)
    sum(range(10))
    return update
"""

PLANTED_COLLAPSE = """

# Planted by the gate test: the pool keeps nothing it is given (reuse collapses to 0).
def _planted_give(self, levels):
    pass


LevelPool.give = _planted_give
"""


@dataclass
class GateHistory:
    clone: Path
    base: str
    unchanged: str
    planted: str
    results_dir: Path
    unchanged_verdict: Verdict
    unchanged_output: str
    planted_verdict: Verdict
    planted_output: str
    #: The counted values of ``unchanged`` as each of the two runs measured it.
    unchanged_counts: tuple[dict[str, float | None], dict[str, float | None]]


def _git(clone: Path, *args: str) -> str:
    command = ["git", "-c", "user.name=gate test", "-c", "user.email=gate-test@invalid", *args]
    done = subprocess.run(command, cwd=clone, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def _commit(clone: Path, message: str) -> str:
    _git(clone, "add", "-A")
    _git(clone, "commit", "--quiet", "--allow-empty", "-m", message)
    return _git(clone, "rev-parse", "HEAD")


def clone_working_tree(where: Path, message: str) -> tuple[Path, str]:
    """A throwaway clone on ``main`` whose one new commit (``message``) is this working
    tree as it is (every tracked or untracked, not ignored file but the measured output:
    on a clean clone that is HEAD); the clone and that commit."""
    clone = where / "repo"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True)
    # asv's configuration follows `main`: be on it whatever branch the repository is on.
    _git(clone, "checkout", "--quiet", "-B", "main")
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO, capture_output=True, check=True,
    ).stdout.split(b"\0")  # fmt: skip
    for name in filter(None, (item.decode() for item in listed)):
        source = REPO / name
        if name.startswith(("html_results/", "asv_results/")):  # measured output, not source
            continue
        if source.is_file():
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, clone / name)
    return clone, _commit(clone, message)


def make_clone(where: Path) -> tuple[Path, str, str, str]:
    """The throwaway clone and its (base, unchanged, planted) commits."""
    clone, base = clone_working_tree(where, "gate test: the working tree")
    with open(clone / "README.md", "a") as readme:
        readme.write("\n<!-- gate test: a commit that changes no code -->\n")
    unchanged = _commit(clone, "gate test: unchanged code")
    with open(clone / "src/ws_stack/gateio/decoder.py", "a") as decoder:
        decoder.write(PLANTED_SLOWDOWN)
    with open(clone / "src/ws_stack/pool.py", "a") as pool:
        pool.write(PLANTED_COLLAPSE)
    planted = _commit(clone, "gate test: 5 % more instructions per delta, pool reuse collapse")
    return clone, base, unchanged, planted


@pytest.fixture(scope="session")
def gate_history(tmp_path_factory: pytest.TempPathFactory) -> GateHistory:
    clone, base, unchanged, planted = make_clone(tmp_path_factory.mktemp("gate"))
    project = Project(clone)
    results_dir = project.work_dir / "gate" / "results"
    outputs, verdicts, counts = [], [], []
    for pair in ((base, unchanged), (unchanged, planted)):
        out = io.StringIO()
        # The identical pair is measured all the same: identical code, identical counts.
        verdict = run_gate(
            project, pair[0], pair[1], bench=GATE_SUBSET, measure_identical=True, out=out
        )
        verdicts.append(verdict)
        outputs.append(out.getvalue())
        counts.append(_counted_values(results_dir, unchanged))
    return GateHistory(
        clone,
        base,
        unchanged,
        planted,
        project.work_dir / "gate" / "results",
        verdicts[0],
        outputs[0],
        verdicts[1],
        outputs[1],
        (counts[0], counts[1]),
    )


def _counted_values(results_dir: Path, commit: str) -> dict[str, float | None]:
    """Every measured value of the count benchmarks stored for ``commit`` (n/a left out)."""
    try:
        results = load_commit(results_dir, commit)
    except ResultsError:
        return {}
    return {
        f"{name}{sorted(value.params.items())}": value.value
        for name in results.names()
        if "Instructions" in name
        for value in results.values(name)
        if is_number(value.value)
    }


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    """A headless Chromium driven by selenium (Debian's chromium and chromium-driver)."""
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        message = "needs Debian's chromium and chromium-driver (make test installs them as root)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--window-size=1400,1000",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    session = webdriver.Chrome(options=options, service=Service(driver))
    try:
        yield session
    finally:
        session.quit()


def frame_names(browser: Any, within: str = "") -> list[str]:
    """The names on the flame graph's frames (those inside the CSS selector ``within``),
    once d3-flame-graph has drawn them (10 s at most)."""
    script = (f"return [...document.querySelectorAll('{within} .d3-flame-graph-label')]"
              ".map(label => label.textContent);")  # fmt: skip
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        names: list[str] = browser.execute_script(script)
        if names:
            return names
        time.sleep(0.1)
    return []
