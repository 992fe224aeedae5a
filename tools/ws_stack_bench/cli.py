"""The ``ws-stack-bench`` command: history, publishing, compliance and the regression gate.

Run it from the repository root (it reads ``asv.conf.json`` there)::

    ws-stack-bench history [--commits 20]   # make bench: run, publish, compliance
    ws-stack-bench publish                  # asv publish + self-contained html_results/
    ws-stack-bench compliance [COMMIT]      # PASS/FAIL per HFT target, exit 1 on a FAIL
    ws-stack-bench status [--commits 20]    # which stretches of history have no results
    ws-stack-bench merge DIR...             # other runners' results into the history
    ws-stack-bench gate [--base REV]        # make gate: counts, then connection timings
    ws-stack-bench validate [--base REV]    # the gate and the compliance table, one verdict
    ws-stack-bench targets                  # the targets table
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from ws_stack_bench import compliance, gate, history, merge, migrate, noise, publish, results
from ws_stack_bench.project import Project, ProjectError
from ws_stack_bench.targets import BASELINE_COMMIT, TARGETS, benchmarks_of

__all__ = ["main"]

#: What ``ws-stack-bench --help`` says first (plain text: argparse prints it as is).
DESCRIPTION = (
    "The tooling of ws_stack's asv benchmark suite: measure the recent history, publish "
    "html_results/, check the HFT targets (compliance) and gate a change on its counts and "
    "timings. Run it from the repository root."
)
EXIT_FAIL = 1
EXIT_ERROR = 2
DEFAULT_COMMITS = 20
SERVE_URL = "http://127.0.0.1:8080/"


def _project(args: argparse.Namespace) -> Project:
    """The project, its stored results in step with the suite (see :mod:`.migrate`)."""
    project = Project(args.root, args.config)
    changed = migrate.migrate(project.results_dir)
    if changed:
        print(
            f"Stored results: {len(changed)} file(s) given the parameters benchmarks gained "
            f"since (ws_stack_bench.migrate)",
            flush=True,
        )
    return project


def _run(command: Sequence[str], cwd: Path) -> int:
    print("$ " + " ".join(command[2:] if command[1:2] == ["-m"] else command), flush=True)
    return subprocess.run(command, cwd=cwd, check=False).returncode


# -- publish ----------------------------------------------------------------------------


def _publish(project: Project, measured_noise: list[noise.Noise] | None = None) -> int:
    print(f"$ asv publish  (then self-contained: {project.html_dir.name}/vendor/)", flush=True)
    try:
        copied = publish.publish(project, measured_noise)
    except publish.PublishError as exc:
        print(f"ws-stack-bench: {exc}", file=sys.stderr)
        return EXIT_ERROR
    print(f"Self-contained: {len(copied)} library files in {project.html_dir / 'vendor'}")
    false_steps = [step for step in noise.listed_steps(project, project.html_dir) if step.identical]
    for step in false_steps:
        print(
            f"NOTE: the Regressions page lists {step.entry} ({step.ratio:.2f}x) between "
            f"{step.before[:8]} and {step.after[:8]}, whose measured code is identical"
        )
    return 0


def _cmd_publish(args: argparse.Namespace) -> int:
    return _publish(_project(args))


# -- compliance -------------------------------------------------------------------------


def _compliance(
    project: Project,
    commit: str,
    machine: str | None,
    baseline: str | None,
    strict: bool,
    measure: bool = True,
) -> int:
    rows = _compliance_rows(project, commit, machine, baseline, measure)
    if rows is None:
        return EXIT_ERROR
    return _compliance_status(rows, strict)


def _compliance_rows(
    project: Project,
    commit: str,
    machine: str | None,
    baseline: str | None,
    measure: bool = True,
) -> list[compliance.Row] | None:
    """Print the compliance table of ``commit`` (or of the ancestor that stands for it);
    ``None`` where there are no results to judge.

    A commit with no stored results (nor an ancestor with identical measured code) is
    measured here first, with ``measure``: the benchmarks the targets read, stored in the
    history as any measurement of that commit (``make bench`` adds the rest later).
    """
    try:
        commit_hash = project.rev_parse(commit)
        measured, note = results.load_measured(project, commit_hash, machine)
    except ProjectError as exc:
        print(f"ws-stack-bench: {exc}", file=sys.stderr)
        return None
    except results.ResultsError as missing:
        if not measure:
            print(f"ws-stack-bench: {missing} (run `make bench` first)", file=sys.stderr)
            return None
        here = platform.node()
        if machine is not None and machine != here:
            print(
                f"ws-stack-bench: {missing}; this machine is {here!r}, so it cannot measure "
                f"for {machine!r} (run it there, or drop --machine)",
                file=sys.stderr,
            )
            return None
        print(f"{missing}: measuring what the targets need now.")
        if any(_run(command, project.root) for command in project.describe_machine()):
            return None
        status = history.measure_benchmarks(project, commit_hash, benchmarks_of())
        if status not in (0, 2):
            print(f"ws-stack-bench: asv run failed ({status})", file=sys.stderr)
            return None
        try:
            measured, note = results.load_measured(project, commit_hash, here)
        except results.ResultsError as exc:
            print(f"ws-stack-bench: {exc} even after measuring (see asv's output)", file=sys.stderr)
            return None
    if note is not None:
        print(note)
    fixed = baseline or BASELINE_COMMIT
    fixed_hash = project.rev_parse(fixed) if fixed else None
    find_baseline = compliance.baseline_finder(project.results_dir, measured, fixed_hash)
    rows = compliance.evaluate(measured, find_baseline)
    compliance.print_report(rows, measured.commit, measured.machine, sys.stdout)
    return rows


def _compliance_status(rows: list[compliance.Row], strict: bool) -> int:
    failed = any(row.status is compliance.Status.FAIL for row in rows)
    missing = any(row.status is compliance.Status.MISSING for row in rows)
    return EXIT_FAIL if failed or (strict and missing) else 0


def _cmd_compliance(args: argparse.Namespace) -> int:
    project = _project(args)
    return _compliance(
        project, args.commit, args.machine, args.baseline, args.strict, not args.stored_only
    )


# -- merge ------------------------------------------------------------------------------


def _cmd_merge(args: argparse.Namespace) -> int:
    """Other runners' results directories into the history; then publish."""
    project = _project(args)
    try:
        report = merge.merge(project.results_dir, [Path(path) for path in args.dirs])
    except merge.MergeError as exc:
        print(f"ws-stack-bench: {exc}", file=sys.stderr)
        return EXIT_ERROR
    print(
        f"Merged into {_shown(project, project.results_dir)}/: {len(report.added)} result "
        f"file(s) added, {len(report.merged)} completed with benchmarks they lacked, "
        f"{len(report.same)} already there."
    )
    for line in report.kept:
        print(f"  measured on both sides, the history's value kept: {line}")
    if args.no_publish:
        return 0
    return _publish(project)


def _shard(text: str) -> tuple[int, int]:
    number, _, count = text.partition("/")
    try:
        parsed = int(number), int(count)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: want K/N, e.g. 1/2") from None
    if not 1 <= parsed[0] <= parsed[1]:
        raise argparse.ArgumentTypeError(f"{text!r}: want 1 <= K <= N")
    return parsed


# -- status -----------------------------------------------------------------------------


def _cmd_status(args: argparse.Namespace) -> int:
    """The stretches of the last commits, and which of them have no results here."""
    project = _project(args)
    commits = project.git("rev-list", "--first-parent", f"--max-count={args.commits}", "HEAD")
    machine = platform.node()
    suite = set(results.benchmark_names(project.results_dir))
    stored = {
        commit: (len(suite & set(results.load_commit(project.results_dir, commit, machine))),
                 len(suite))
        for _, commit in results.history(project.results_dir, machine)
    }  # fmt: skip
    stretches = history.plan(project, commits.split(), set(stored))
    print(
        f"The last {len(commits.split())} commit(s) of HEAD in {len(stretches)} stretch(es) of "
        f"identical measured code, on machine {machine!r} (newest first):"
    )
    missing = history.print_status(stretches, stored, sys.stdout)
    if missing:
        print(f"{missing} stretch(es) without results: `make bench` measures them.")
        return EXIT_FAIL
    print("Every stretch has results.")
    return 0


# -- history ----------------------------------------------------------------------------


def _cmd_history(args: argparse.Namespace) -> int:
    project = _project(args)
    branch = args.branch or project.config.get("branches", ["HEAD"])[0]
    try:
        tip = project.rev_parse(branch)
    except ProjectError:
        print(f"(no branch {branch!r} here: measuring the history of HEAD instead)")
        tip = project.rev_parse("HEAD")
    commits = project.git("rev-list", "--first-parent", f"--max-count={args.commits}", tip).split()
    print(f"Benchmarking {len(commits)} commit(s) of {branch} (stored results are reused).")
    reason = gate.counting_unavailable()
    if reason is not None:
        print(f"Instruction counts are n/a: {reason}.")
    machine = args.machine or platform.node()  # asv's machine name, as `asv machine` sets it
    if any(_run(command, project.root) for command in project.describe_machine(None, machine)):
        return EXIT_ERROR
    stored = {commit for _, commit in results.history(project.results_dir, machine)}
    stretches = history.plan(project, commits, stored)
    history.print_plan(stretches, sys.stdout)
    planned = stretches
    if args.shard is not None:
        number, count = args.shard
        stretches = history.shard(planned, number, count)
        print(
            f"Shard {number}/{count}: {len(stretches)} of the {len(planned)} stretches "
            f"({' '.join(s.measured[:8] for s in reversed(stretches)) or 'none'}); "
            f"`ws-stack-bench merge` brings the shards' {_shown(project, project.results_dir)}/ "
            f"together."
        )

    def publish_so_far(measured: int) -> None:
        # A page of the newest commit's counts, after the newest commit, then again after
        # each older one: browsable within minutes, and an interrupted run keeps a page of
        # what it measured.
        if measured == 0:
            print("Publishing the newest commit's counts (its timings come next):")
            _publish(project)
        elif measured < len(stretches):
            print(f"Publishing what is measured so far ({measured} of {len(stretches)} commits):")
            _publish(project)

    # On a machine without results for the tip, its counts first (not with -b, which says
    # what to measure, nor where nothing can be counted).
    newest_unmeasured = bool(stretches) and stretches[-1].measured not in stored
    counts_first = gate.COUNTED if newest_unmeasured and not args.bench and reason is None else ()
    status = history.measure(
        project, stretches, after_each=publish_so_far, machine=machine, bench=args.bench,
        counts_first=counts_first,
    )  # fmt: skip
    if status == 2:
        print("Note: some benchmarks failed at some commits; they show as gaps in the graphs.")
    elif status != 0:
        print(f"ws-stack-bench: asv run failed ({status})", file=sys.stderr)
        return EXIT_ERROR
    measured_noise = publish.all_noise(project)
    if not args.bench and reason is None:
        # The page of where each counted call's work goes, at the tip.
        publish.write_where_page(project, sys.stdout)
    status = _publish(project, measured_noise)
    if status != 0:
        return status
    print()
    noise.print_noise(measured_noise, sys.stdout)
    print()
    if args.shard is not None and planned[-1] not in stretches:
        print("(The tip's stretch is another shard's: its compliance table comes after merging.)")
        verdict = 0
    else:
        verdict = _compliance(project, tip, machine, None, strict=False)
    print()
    print(f"History of {len(commits)} commit(s) published to {_shown(project, project.html_dir)}/")
    print(f"  browse:      make serve, then open {SERVE_URL} (no internet needed)")
    print(f"  results:     {_shown(project, project.results_dir)}/ (asv's JSON per commit)")
    print("  compliance:  .venv/bin/ws-stack-bench compliance [COMMIT]")
    if verdict:
        print("  NOTE: HFT targets FAIL at the newest commit, see the table above")
    return 0


def _shown(project: Project, path: Path) -> str:
    """``path`` relative to the repository root when it is inside it."""
    try:
        return str(path.relative_to(project.root))
    except ValueError:
        return str(path)


# -- gate -------------------------------------------------------------------------------


def _cmd_gate(args: argparse.Namespace) -> int:
    project = _project(args)
    if not 0 < args.threshold < 1:
        print("ws-stack-bench: --threshold is a fraction, e.g. 0.02 for 2 %", file=sys.stderr)
        return EXIT_ERROR
    verdict = gate.run_gate(
        project,
        args.base or None,
        args.head,
        threshold=args.threshold,
        factor=args.factor,
        rounds=args.rounds,
        confirm=args.confirm,
        full=args.full,
        bench=args.bench,
        results_dir=Path(args.results_dir).resolve() if args.results_dir else None,
    )
    beside = Path(args.markdown).resolve().parent if args.markdown else project.work_dir / "gate"
    gate.write_flame_graphs(project, verdict, beside / gate.FLAME_FOLDER)
    gate.print_verdict(verdict, args.threshold, sys.stdout)
    if args.markdown:
        gate.write_markdown(verdict, args.threshold, Path(args.markdown))
        print(f"Markdown verdict written to {args.markdown}")
    return verdict.exit_status


# -- validate ---------------------------------------------------------------------------


def _cmd_validate(args: argparse.Namespace) -> int:
    """Pre-deployment validation: the gate on ``--base..--head``, then the compliance table
    of the head; exit 0 when both pass, 1 when either fails, 2 when either could not run."""
    project = _project(args)
    verdict = gate.run_gate(project, args.base or None, args.head)
    gate.print_verdict(verdict, gate.DEFAULT_THRESHOLD, sys.stdout)
    print()
    rows = _compliance_rows(project, args.head, None, None)
    lines = [f"  regression gate ({verdict.base[:8]} -> {verdict.head[:8]}): "
             f"{verdict.outcome.name}, {gate.minutes(verdict.seconds)}"]  # fmt: skip
    statuses = [{0: 0, 1: EXIT_FAIL}.get(verdict.exit_status, EXIT_ERROR)]
    if rows is None:
        lines.append("  HFT compliance: could not run (no stored results: `make bench` first)")
        statuses.append(EXIT_ERROR)
    else:
        counts = {s: sum(row.status is s for row in rows) for s in compliance.Status}
        passed = counts[compliance.Status.FAIL] == 0
        lines.append(
            f"  HFT compliance: {'PASS' if passed else 'FAIL'} "
            f"({counts[compliance.Status.PASS]} PASS, {counts[compliance.Status.FAIL]} FAIL, "
            f"{counts[compliance.Status.MISSING]} n/a)"
        )
        statuses.append(_compliance_status(rows, strict=False))
    status = EXIT_ERROR if EXIT_ERROR in statuses else max(statuses)
    word = {0: "PASS", EXIT_FAIL: "FAIL", EXIT_ERROR: "INCOMPLETE"}[status]
    print(f"\nValidation of {args.head}:")
    print("\n".join(lines))
    print(f"VALIDATION {word} (exit {status})")
    return status


# -- targets ----------------------------------------------------------------------------


def _cmd_targets(args: argparse.Namespace) -> int:
    for target in TARGETS:
        params = ", ".join(f"{k}={v}" for k, v in target.params.items())
        where = target.benchmark + (f" [{params}]" if params else "")
        if target.minus:
            where += f" minus {target.minus}"
        if target.over:
            over = ", ".join(f"{k}={v}" for k, v in target.over_params.items())
            where += f" {'under' if target.inverse else 'over'} {target.over}"
            where += f" [{over}]" if over else ""
        if target.paired:
            where += f", paired in {target.paired}"
        if target.spread:
            where += f", largest over smallest across {target.spread}"
        if target.bound:
            where += f", bound {target.bound}"
        print(f"{target.title:<52} {target.rule:<22} {where}")
    return 0


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ws-stack-bench", description=DESCRIPTION)
    parser.add_argument("--root", default=".", help="repository root (default: .)")
    parser.add_argument("--config", default=None, help="asv configuration (default: asv.conf.json)")
    commands = parser.add_subparsers(dest="command", required=True)

    history = commands.add_parser("history", help="run the last N commits, publish, report")
    history.add_argument("--commits", type=int, default=DEFAULT_COMMITS)
    history.add_argument("--branch", default=None, help="default: the first of asv's branches")
    history.add_argument(
        "--machine",
        default=None,
        help="asv machine name for the results (default: the host name); CI runners, whose "
        "host names change, give a fixed one so that their runs make one history",
    )
    history.add_argument(
        "--shard",
        type=_shard,
        default=None,
        metavar="K/N",
        help="measure shard K of N of the plan (every N-th stretch, newest first, from the "
        "K-th); `merge` brings the shards' results together",
    )
    history.add_argument("-b", "--bench", action="append", default=[],
                         help="benchmark regex (asv's --bench): measure only these")  # fmt: skip
    history.set_defaults(run=_cmd_history)

    merge_ = commands.add_parser("merge", help="other runners' results into the history")
    merge_.add_argument("dirs", nargs="+", metavar="DIR", help="an asv results directory")
    merge_.add_argument("--no-publish", action="store_true", help="do not publish afterwards")
    merge_.set_defaults(run=_cmd_merge)

    pub = commands.add_parser("publish", help="asv publish and make html_dir self-contained")
    pub.set_defaults(run=_cmd_publish)

    comp = commands.add_parser("compliance", help="PASS/FAIL table of the HFT targets")
    comp.add_argument("commit", nargs="?", default="HEAD")
    comp.add_argument("--machine", default=None, help="asv machine (default: latest results)")
    comp.add_argument("--baseline", default=None, help="commit for the relative targets")
    comp.add_argument("--strict", action="store_true", help="a target with no value fails")
    comp.add_argument(
        "--stored-only",
        action="store_true",
        help="never measure: without stored results, exit 2 (default: measure what the "
        "targets need at the commit and store it)",
    )
    comp.set_defaults(run=_cmd_compliance)

    status = commands.add_parser(
        "status", help="stretches of the last N commits without results on this machine"
    )
    status.add_argument("--commits", type=int, default=DEFAULT_COMMITS)
    status.set_defaults(run=_cmd_status)

    gate_ = commands.add_parser(
        "gate", help="counted metrics, then connection timings: BASE..HEAD with a verdict"
    )
    gate_.add_argument("--base", default=None, help="default: the parent of --head")
    gate_.add_argument("--head", default="HEAD")
    gate_.add_argument(
        "--threshold",
        type=float,
        default=gate.DEFAULT_THRESHOLD,
        help="a counted metric worse by more than this fraction fails (default: 0.02)",
    )
    gate_.add_argument(
        "--full",
        action="store_true",
        help="also time every benchmark that is not counted (the whole suite, much longer)",
    )
    gate_.add_argument("--factor", type=float, default=gate.DEFAULT_FACTOR,
                       help="timings: asv continuous --factor (default: 1.25)")  # fmt: skip
    gate_.add_argument("--rounds", type=int, default=gate.DEFAULT_ROUNDS,
                       help="timings: asv rounds (default: 6)")  # fmt: skip
    gate_.add_argument(
        "--confirm",
        type=int,
        default=gate.DEFAULT_CONFIRM,
        help="timings: runs that must flag a benchmark again before it counts (default: 1)",
    )
    gate_.add_argument("--markdown", default=None, metavar="FILE",
                       help="also write the verdict as Markdown to FILE")  # fmt: skip
    gate_.add_argument("-b", "--bench", action="append", default=[], help="benchmark regex")
    gate_.add_argument("--results-dir", default=None, help="default: .asv/gate/results")
    gate_.set_defaults(run=_cmd_gate)

    validate = commands.add_parser(
        "validate", help="pre-deployment: the gate, then the compliance table, one verdict"
    )
    validate.add_argument("--base", default=None, help="default: the parent of --head")
    validate.add_argument("--head", default="HEAD")
    validate.set_defaults(run=_cmd_validate)

    targets = commands.add_parser("targets", help="list the HFT targets and their benchmarks")
    targets.set_defaults(run=_cmd_targets)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except ProjectError as exc:
        print(f"ws-stack-bench: {exc}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
