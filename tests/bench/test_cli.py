"""The ``ws-stack-bench`` command's own decisions (its subcommands are tested with theirs)."""

from __future__ import annotations

import platform
import re

from ws_stack.bench.project import machine_description


def test_the_machine_is_described_without_what_differs_between_vms_of_one_kind() -> None:
    options = dict(zip(*[iter(machine_description())] * 2, strict=True))
    # No kernel build in the OS, RAM in whole GB: a fresh VM of the same kind continues
    # the stored history instead of starting a series of its own.
    assert options["--os"] == platform.system()
    assert re.fullmatch(r"[1-9][0-9]*GB", options["--ram"])
