"""A throwaway clone with planted regressions, measured by the gate once per session.

The clone starts from the working tree as it is (every tracked or untracked, not ignored
file: on a clean clone that is HEAD), then gets two commits:

* ``unchanged``: a README edit, so the pair (base, unchanged) has identical code;
* ``planted``: a 2x slowdown in Gate.io's order-book delta parser and a level pool that
  keeps nothing it is given (its reuse collapses).

The gate runs on a small benchmark subset (one parse, the MEXC handler's pool) to keep
the session short. Its results also feed the browser test, which publishes them.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from ws_stack.bench.gate import Verdict, run_gate
from ws_stack.bench.project import Project

REPO = Path(__file__).resolve().parents[2]

PARSE_BENCH = r"bench_codec\.ParseOrderBook\.time_parse\('gateio', 'json', 'update', 20\)"
POOL_BENCH = r"bench_pool\.HandlerStream\.track_(miss|reuse)_ratio\('protobuf'\)"
GATE_SUBSET = (PARSE_BENCH, POOL_BENCH)

PLANTED_SLOWDOWN = """

# Planted by the gate test: every order-book delta is decoded twice (a 2x slowdown).
_planted_parse = parse_order_book_update


def parse_order_book_update(frame):
    _planted_parse(frame)
    return _planted_parse(frame)
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


def _git(clone: Path, *args: str) -> str:
    command = ["git", "-c", "user.name=gate test", "-c", "user.email=gate-test@invalid", *args]
    done = subprocess.run(command, cwd=clone, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def _commit(clone: Path, message: str) -> str:
    _git(clone, "add", "-A")
    _git(clone, "commit", "--quiet", "--allow-empty", "-m", message)
    return _git(clone, "rev-parse", "HEAD")


def make_clone(where: Path) -> tuple[Path, str, str, str]:
    """The throwaway clone and its (base, unchanged, planted) commits."""
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
    base = _commit(clone, "gate test: the working tree")
    with open(clone / "README.md", "a") as readme:
        readme.write("\n<!-- gate test: a commit that changes no code -->\n")
    unchanged = _commit(clone, "gate test: unchanged code")
    with open(clone / "src/ws_stack/gateio/decoder.py", "a") as decoder:
        decoder.write(PLANTED_SLOWDOWN)
    with open(clone / "src/ws_stack/pool.py", "a") as pool:
        pool.write(PLANTED_COLLAPSE)
    planted = _commit(clone, "gate test: 2x slower delta parser, pool reuse collapse")
    return clone, base, unchanged, planted


@pytest.fixture(scope="session")
def gate_history(tmp_path_factory: pytest.TempPathFactory) -> GateHistory:
    clone, base, unchanged, planted = make_clone(tmp_path_factory.mktemp("gate"))
    project = Project(clone)
    outputs = []
    verdicts = []
    for pair in ((base, unchanged), (unchanged, planted)):
        out = io.StringIO()
        verdicts.append(run_gate(project, pair[0], pair[1], bench=GATE_SUBSET, out=out))
        outputs.append(out.getvalue())
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
    )
