"""Regenerate the committed ``*_pb2.py`` / ``*_pb2.pyi`` modules from the ``.proto`` files.

Run as ``python -m ws_stack.mexc.proto.generate`` (``make proto``). The ``.proto`` files
import each other as ``ws_stack/mexc/proto/X.proto`` and are compiled with ``src`` as the
include root, so protoc's absolute imports come out as
``from ws_stack.mexc.proto import X_pb2`` and work from inside the installed package.
The drift test calls :func:`generate` into a temporary directory and compares.
"""

from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["PROTO_DIR", "SOURCE_ROOT", "generate", "generated_dir", "main"]

PROTO_DIR = Path(__file__).resolve().parent
#: The directory that holds the ``ws_stack`` package: protoc's include root.
SOURCE_ROOT = PROTO_DIR.parents[2]
_PACKAGE_PATH = PROTO_DIR.relative_to(SOURCE_ROOT)


def generated_dir(out_root: Path) -> Path:
    """Where :func:`generate` puts the modules for an output root."""
    return Path(out_root) / _PACKAGE_PATH


def generate(out_root: Path) -> list[Path]:
    """Compile every ``.proto`` file into ``out_root/ws_stack/mexc/proto``; return the outputs.

    Raises ``RuntimeError`` with protoc's exit status if compilation fails. Needs
    ``grpcio-tools`` (a test/dev dependency; the runtime only needs ``protobuf``).
    """
    # A dev-only dependency, imported on use; it ships no type information (protoc is a C
    # extension behind an untyped module).
    from grpc_tools import protoc  # type: ignore[import-untyped]

    out_root = Path(out_root)
    protos = sorted(PROTO_DIR.glob("*.proto"))
    target = generated_dir(out_root)
    target.mkdir(parents=True, exist_ok=True)
    args = [
        "grpc_tools.protoc",
        f"--proto_path={SOURCE_ROOT}",
        f"--python_out={out_root}",
        f"--pyi_out={out_root}",
        *(str(proto) for proto in protos),
    ]
    status = protoc.main(args)
    if status != 0:
        raise RuntimeError(f"protoc failed with exit status {status}: {' '.join(args)}")
    return sorted(target.glob("*_pb2.py*"))


def main() -> int:
    """Regenerate in place, removing modules whose ``.proto`` file is gone."""
    expected = {
        f"{proto.stem}_pb2{ext}" for proto in PROTO_DIR.glob("*.proto") for ext in (".py", ".pyi")
    }
    for stale in PROTO_DIR.glob("*_pb2.py*"):
        if stale.name not in expected:
            stale.unlink()
    for path in generate(SOURCE_ROOT):
        print(f"generated {path.relative_to(SOURCE_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
