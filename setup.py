"""Builds ws_stack's compiled twins (Cython) where it can, and installs pure Python where not.

Everything else about the package is in pyproject.toml. Each extension below is the
compiled twin of a pure-Python module that stays the reference (ws_stack.implementation
lists them). The build never fails for want of a compiler: an extension that cannot be
built is left out with a warning, and the package runs on its pure-Python modules.
``WS_STACK_NO_EXTENSIONS=1`` at build time leaves them all out.
"""

from __future__ import annotations

import os
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

#: (extension, its Cython source): the compiled twins.
TWINS = [
    ("ws_stack.mexc._push_reader", "src/ws_stack/mexc/_push_reader.pyx"),
    ("ws_stack._book_side", "src/ws_stack/_book_side.pyx"),
    ("ws_stack._handler_core", "src/ws_stack/_handler_core.pyx"),
    ("ws_stack.gateio._updates", "src/ws_stack/gateio/_updates.pyx"),
    ("ws_stack.mexc._dispatch", "src/ws_stack/mexc/_dispatch.pyx"),
    ("ws_stack.asyncio._receiver", "src/ws_stack/asyncio/_receiver.pyx"),
    ("ws_stack._metrics", "src/ws_stack/_metrics.pyx"),
    ("ws_stack.asyncio._queue", "src/ws_stack/asyncio/_queue.pyx"),
]
NO_EXTENSIONS = os.environ.get("WS_STACK_NO_EXTENSIONS", "") not in ("", "0")


def _warn(message: str) -> None:
    # setuptools hides a build's own output unless it fails; stderr with a banner is what
    # pip shows with -v, and what a log of `python -m build` keeps.
    print(f"\nWARNING (ws_stack): {message}\n", file=sys.stderr)


class _OptionalBuildExt(build_ext):
    """build_ext that leaves an extension out, with a warning, when it cannot compile; the
    extensions are compiled side by side, one a CPU (asv builds every commit it measures)."""

    def finalize_options(self) -> None:
        super().finalize_options()
        if self.parallel is None:
            self.parallel = os.cpu_count() or 1

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # no compiler at all (setuptools raises its own types)
            _warn(f"no compiled modules ({exc}); ws_stack installs as pure Python")

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:
            _warn(f"{ext.name} not compiled ({exc}); its pure-Python twin is used")


def _extensions() -> list[Extension]:
    if NO_EXTENSIONS:
        _warn("WS_STACK_NO_EXTENSIONS is set: installing pure Python")
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        _warn("Cython is not installed (pip installs it as a build requirement): pure Python")
        return []
    extensions = [Extension(name, [source]) for name, source in TWINS]
    return cythonize(
        extensions,
        nthreads=os.cpu_count() or 1,
        language_level=3,
        compiler_directives={"boundscheck": False, "wraparound": False, "cdivision": True},
    )


setup(ext_modules=_extensions(), cmdclass={"build_ext": _OptionalBuildExt})
