"""The repository being benchmarked: its git revisions and its asv configuration.

Every ``ws-stack-bench`` command works from the repository root (where ``asv.conf.json``
is). Commands that must not touch the main history (the gate, tests) write a derived
configuration with their own results directory; asv resolves relative paths from the
configuration's directory, so derived configurations use absolute paths.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["FORKED", "Project", "ProjectError", "machine_description"]

CONFIG_NAME = "asv.conf.json"
#: What the benchmarks measure at a commit: the package and its dependencies. The
#: benchmark code itself is always the working tree's, whatever the commit.
MEASURED_PATHS = ("src", "pyproject.toml")
#: Left out of it: the tooling that runs asv and reads its results (no benchmark imports
#: it, and changing it changes no figure). It is in tools/ now, outside MEASURED_PATHS;
#: older commits had it in the package, here.
TOOLING_PATH = "src/ws_stack/bench/"
#: How ``asv run`` and ``asv continuous`` start benchmarks: each in a process forked from
#: asv's forkserver, which has imported the suite once, not in a new interpreter per
#: benchmark, parameter combination and round (asv's default). Only a figure of the
#: process's own memory (``peakmem_``) sees the difference (docs/history.md).
FORKED = ("--launch-method", "forkserver")


class ProjectError(Exception):
    """Not an asv project, or a git revision that does not exist."""


class Project:
    """A git repository with an ``asv.conf.json`` at its root."""

    def __init__(self, root: Path | str = ".", config: Path | str | None = None) -> None:
        self.root = Path(root).resolve()
        self.config_path = self.root / (config or CONFIG_NAME)
        if not self.config_path.is_file():
            raise ProjectError(f"no {self.config_path}: run from the repository root")
        self.config = _load_config(self.config_path)

    def path(self, key: str) -> Path:
        """A directory named in the configuration (``results_dir``, ``html_dir``...)."""
        directory: str = self.config[key]
        return (self.root / directory).resolve()

    @property
    def results_dir(self) -> Path:
        return self.path("results_dir")

    @property
    def html_dir(self) -> Path:
        return self.path("html_dir")

    @property
    def work_dir(self) -> Path:
        """Scratch space next to the environments (``.asv/``), ignored by git."""
        return self.path("env_dir").parent

    def git(self, *args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=self.root, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise ProjectError(f"git {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout.strip()

    def rev_parse(self, rev: str) -> str:
        """The full hash of commit ``rev``."""
        try:
            return self.git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
        except ProjectError:
            raise ProjectError(f"unknown git revision {rev!r}") from None

    def measured_code(self, commit: str) -> str:
        """A digest of what the benchmarks measure at ``commit`` (:data:`MEASURED_PATHS`
        without :data:`TOOLING_PATH`): equal digests, identical measured code."""
        listing = self.git("ls-tree", "-r", commit, "--", *MEASURED_PATHS).splitlines()
        kept = [line for line in listing if not line.partition("\t")[2].startswith(TOOLING_PATH)]
        return hashlib.sha256("\n".join(kept).encode()).hexdigest()

    def same_code_ancestors(self, commit: str, look_back: int = 200) -> Iterator[str]:
        """The first-parent ancestors of ``commit``, nearest first, as long as their
        measured code is ``commit``'s (at most ``look_back`` commits back)."""
        code = self.measured_code(commit)
        ancestors = self.git("rev-list", "--first-parent", f"--max-count={look_back}", commit)
        for ancestor in ancestors.split()[1:]:
            if self.measured_code(ancestor) != code:
                return
            yield ancestor

    def derive(self, path: Path, **overrides: Any) -> Path:
        """Write a copy of the configuration with absolute paths and ``overrides``."""
        config = dict(self.config)
        config["repo"] = str((self.root / config.get("repo", ".")).resolve())
        for key in ("benchmark_dir", "env_dir", "results_dir", "html_dir"):
            if key in config:
                config[key] = str(self.path(key))
        config.update({key: str(value) if isinstance(value, Path) else value
                       for key, value in overrides.items()})  # fmt: skip
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(config, indent=4) + "\n")
        return path

    def asv(self, *args: str, config: Path | None = None) -> list[str]:
        """The command line of ``asv`` (from this interpreter's environment) with ``args``."""
        return [sys.executable, "-m", "asv", "--config", str(config or self.config_path), *args]

    def asv_run(self, *args: str, config: Path | None = None) -> list[str]:
        """The command line of ``asv run`` with ``args``, its benchmarks run as FORKED."""
        return self.asv("run", *FORKED, *args, config=config)

    def environments(self) -> list[str]:
        """The names of the environments asv builds from the configuration (its results
        files are ``<commit>-<name>.json``)."""
        from asv import config, environment  # type: ignore[import-untyped]  # no types

        loaded = config.Config.load(str(self.config_path))
        return [env.name for env in environment.get_environments(loaded, None)]

    def describe_machine(
        self, config: Path | None = None, machine: str | None = None
    ) -> list[list[str]]:
        """The ``asv machine`` commands that describe this machine, to run in turn; as
        ``machine`` where given, else under its host name (asv's default).

        asv's defaults first: given only some fields on a machine it has not seen, asv
        writes no machine name. Then what :func:`machine_description` sets.
        """
        named = ["--machine", machine] if machine else []
        return [
            self.asv("machine", "--yes", *named, config=config),
            self.asv("machine", "--yes", *named, *machine_description(), config=config),
        ]


def machine_description() -> list[str]:
    """``asv machine`` options for what differs between machines of one kind.

    asv files every result under the machine's description, and the published page draws
    each description as a series of its own. Left to asv, the OS carries the kernel build
    and the RAM the bytes the kernel reserved this boot, both of which differ from one
    fresh VM of the same kind to the next: the history would split at every new machine.
    """
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return ["--os", platform.system(), "--ram", f"{round(ram / 2**30)}GB"]


def _load_config(path: Path) -> dict[str, Any]:
    # asv's configuration is JSON with // comment lines; load it the way asv does.
    from asv import util  # asv ships no type information (see Project.environments)

    return dict(util.load_json(str(path), js_comments=True))
