"""A small repository for the tests of the benchmark tooling."""

from __future__ import annotations

import subprocess
from pathlib import Path

from ws_stack_bench.project import Project


class Repository:
    """A git repository with an asv configuration, built commit by commit (asv is never run
    in it: tests fake asv or write its results)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir()
        (root / "asv.conf.json").write_text(
            '{"version": 1, "project": "x", "repo": ".", "branches": ["main"],'
            ' "environment_type": "virtualenv", "pythons": ["3.11"],'
            ' "env_dir": ".asv/env", "results_dir": "results", "html_dir": "html"}\n'
        )
        self._git("init", "-q", "-b", "main")
        self.commits: dict[str, str] = {}

    def _git(self, *args: str) -> str:
        command = ["git", "-c", "user.name=t", "-c", "user.email=t@invalid", *args]
        done = subprocess.run(command, cwd=self.root, capture_output=True, text=True, check=True)
        return done.stdout.strip()

    def commit(self, label: str, path: str, text: str) -> str:
        (self.root / path).parent.mkdir(parents=True, exist_ok=True)
        (self.root / path).write_text(text)
        self._git("add", "-A")
        self._git("commit", "-q", "-m", label)
        self.commits[label] = self._git("rev-parse", "HEAD")
        return self.commits[label]

    @property
    def project(self) -> Project:
        return Project(self.root)
