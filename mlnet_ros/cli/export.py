"""mlnet_export: export a checkpoint to the ONNX graphs that the onnxruntime and TensorRT backends run.

    mlnet_export --model models/embedded [--out DIR]

Writes ``image.onnx``, ``text.onnx`` and their ``export.json`` sidecar into DIR (default:
``~/.cache/mlnet_ros/<checkpoint sha256>``, where the backends look) and prints DIR on stdout
(progress goes to stderr). User mistakes (missing or unloadable model, unusable --out) print one
line on stderr and exit with status 2.
"""
from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from pathlib import Path

from mlnet_ros.cli.tag import UsageError
from mlnet_ros.core.checkpoint_files import ModelLoadError, read_config
from mlnet_ros.inference.export_format import checkpoint_hash, default_export_dir
from mlnet_ros.inference.onnx_export import export_onnx


def make_out_dir(out_dir: Path) -> None:
    """Create ``out_dir`` (and its parents), or raise UsageError saying why it cannot be."""
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"{out_dir}: exists and is not a directory, so the export cannot go there")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"{out_dir}: cannot create the export directory ({error.strerror})") from None


def export(model_dir: Path, out_dir: Path | None) -> Path:
    """Check the arguments, then export; returns the export directory."""
    try:
        read_config(model_dir)
        checkpoint_hash(model_dir)  # fails early without the weights
        out_dir = out_dir or default_export_dir(model_dir)
        make_out_dir(out_dir)
        with contextlib.redirect_stdout(sys.stderr):  # torch.onnx prints its progress: stdout is for DIR only
            return export_onnx(model_dir, out_dir)
    except ModelLoadError as error:
        raise UsageError(f"--model: {error}") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mlnet_export", description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True, help="checkpoint directory")
    parser.add_argument("--out", type=Path, help="output directory (default: ~/.cache/mlnet_ros/<checkpoint sha256>)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    try:
        out_dir = export(args.model, args.out)
    except UsageError as error:
        print(f"mlnet_export: error: {error}", file=sys.stderr)
        return 2
    print(out_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
