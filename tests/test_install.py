"""Installing ws_stack: real builds of the wheel and the sdist, installed in fresh venvs.

The compiled twins (setup.py, :mod:`ws_stack.implementation`) must be in a wheel built with
a C compiler; without one the build must still succeed, say so with a warning, and give a
pure-Python wheel; and an installed wheel must run what it carries, unless
``WS_STACK_NO_EXTENSIONS=1`` says pure Python. The builds use this environment's
setuptools, wheel and Cython (``--no-isolation``: no download of the build requirements),
each from a copy of the sources, so that no ``build/`` directory of an earlier build is
reused and the working tree is left as it was. The venvs get no system site-packages: pip
installs the wheel and its dependencies into them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from ws_stack.implementation import TWINS

REPO = Path(__file__).resolve().parents[1]
#: What a build reads: setuptools' project files and the package's sources.
PROJECT_FILES = ("setup.py", "pyproject.toml", "MANIFEST.in", "README.md", "LICENSE")
#: Where each compiled twin is in a wheel, for this interpreter.
EXTENSION_FILES = {
    name.replace(".", "/") + sysconfig.get_config_var("EXT_SUFFIX") for name in TWINS
}
PYX_FILES = {"src/" + name.replace(".", "/") + ".pyx" for name in TWINS}
#: What the twins cimport.
PXD_FILES = {path.relative_to(REPO).as_posix() for path in (REPO / "src").rglob("*.pxd")}
WARNING = "WARNING (ws_stack)"
TIMEOUT = 300

pytestmark = pytest.mark.slow


def _has_compiler() -> bool:
    """Whether the compiler setuptools would use ($CC, else Python's own) is there."""
    compiler = os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc"
    return shutil.which(compiler.split()[0]) is not None


def _env(**changes: str) -> dict[str, str]:
    """This environment without what would change a build or an import behind a test's back."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("WS_STACK_NO_EXTENSIONS", "PYTHONPATH")}  # fmt: skip
    return {**env, **changes}


def _run(
    args: list[str | Path], env: dict[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(arg) for arg in args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=TIMEOUT, check=False)  # fmt: skip
    assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
    return done


def _copy_sources(target: Path) -> Path:
    """The project's build inputs, without the editable install's generated .c and .so."""
    target.mkdir(parents=True)
    for name in PROJECT_FILES:
        shutil.copy2(REPO / name, target / name)
    ignore = shutil.ignore_patterns("*.so", "*.pyd", "*.c", "__pycache__", "*.egg-info")
    shutil.copytree(REPO / "src", target / "src", ignore=ignore)
    return target


@dataclass(frozen=True)
class Build:
    artifact: Path
    log: str  # the build's stdout and stderr

    def names(self) -> set[str]:
        if self.artifact.suffix == ".whl":
            with zipfile.ZipFile(self.artifact) as wheel:
                return set(wheel.namelist())
        with tarfile.open(self.artifact) as sdist:
            # Without the "<name>-<version>/" every member starts with.
            return {member.split("/", 1)[1] for member in sdist.getnames() if "/" in member}


def _build(workdir: Path, kind: str, env: dict[str, str]) -> Build:
    sources = _copy_sources(workdir / "src-copy")
    out = workdir / "dist"
    done = _run([sys.executable, "-m", "build", f"--{kind}", "--no-isolation", "--outdir", out,
                 sources], env=env, cwd=workdir)  # fmt: skip
    (artifact,) = out.iterdir()
    return Build(artifact, done.stdout + done.stderr)


@pytest.fixture(scope="session")
def compiled_wheel(tmp_path_factory: pytest.TempPathFactory) -> Build:
    if not _has_compiler():
        pytest.skip("no C compiler here (make count-deps installs gcc)")
    return _build(tmp_path_factory.mktemp("compiled"), "wheel", _env())


@pytest.fixture(scope="session")
def pure_wheel(tmp_path_factory: pytest.TempPathFactory) -> Build:
    # setuptools' build_ext compiles with $CC (sysconfig's customize_compiler): a compiler
    # that always fails stands in for none at all.
    return _build(tmp_path_factory.mktemp("pure"), "wheel", _env(CC="/bin/false"))


def _installed(wheel: Path, venv: Path) -> Path:
    """A fresh venv (no system site-packages) holding ``wheel`` and its dependencies; pip
    is this environment's, pointed at the venv, which saves installing pip in it."""
    _run([sys.executable, "-m", "venv", "--without-pip", venv], env=_env(), cwd=venv.parent)
    python = venv / ("Scripts" if os.name == "nt" else "bin") / "python"
    _run([sys.executable, "-m", "pip", "--python", python, "install", "--quiet",
          "--disable-pip-version-check", wheel], env=_env(), cwd=venv.parent)  # fmt: skip
    return python


def _describe(python: Path, cwd: Path, **env: str) -> tuple[str, str]:
    """``implementation.describe()`` in ``python``, and where it imported ws_stack from."""
    code = ("import ws_stack; from ws_stack import implementation; "
            "print(implementation.describe()); print(ws_stack.__file__)")  # fmt: skip
    out = _run([python, "-c", code], env=_env(**env), cwd=cwd).stdout.splitlines()
    return out[0], out[1]


def test_the_wheel_holds_both_compiled_twins(compiled_wheel: Build) -> None:
    names = compiled_wheel.names()
    assert names >= EXTENSION_FILES, sorted(names)
    # Cython's translations are build output, not something the wheel carries.
    assert not [name for name in names if name.endswith(".c")]
    assert WARNING not in compiled_wheel.log


def test_without_a_compiler_the_build_warns_and_the_wheel_is_pure_python(
    pure_wheel: Build,
) -> None:
    assert WARNING in pure_wheel.log
    for name in TWINS:
        assert f"{WARNING}: {name} not compiled" in pure_wheel.log
    names = pure_wheel.names()
    assert "ws_stack/book.py" in names and "ws_stack/mexc/push.py" in names
    assert not [name for name in names if name.endswith((".so", ".pyd"))], sorted(names)


def test_the_sdist_holds_the_cython_sources(tmp_path: Path) -> None:
    # setup.py cythonizes them as it starts: an sdist without them cannot build at all.
    sdist = _build(tmp_path, "sdist", _env())
    names = sdist.names()
    assert PXD_FILES
    assert names >= PYX_FILES | PXD_FILES, sorted(names)
    assert not [name for name in names if name.endswith(".c")]


def test_an_installed_wheel_runs_what_it_carries(
    compiled_wheel: Build, pure_wheel: Build, tmp_path: Path
) -> None:
    compiled = _installed(compiled_wheel.artifact, tmp_path / "compiled")
    pure = _installed(pure_wheel.artifact, tmp_path / "pure")

    description, location = _describe(compiled, tmp_path)
    assert Path(location).is_relative_to(tmp_path / "compiled")  # the wheel, not src/
    assert description == "compiled (Cython): " + ", ".join(sorted(TWINS))
    description, _ = _describe(compiled, tmp_path, WS_STACK_NO_EXTENSIONS="1")
    assert description == "pure Python (WS_STACK_NO_EXTENSIONS is set)"

    description, location = _describe(pure, tmp_path)
    assert Path(location).is_relative_to(tmp_path / "pure")
    assert description.startswith("pure Python (not built (")
