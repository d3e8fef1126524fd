"""mlnet_export: export a checkpoint to the ONNX graphs that the onnxruntime and TensorRT backends run.

    mlnet_export --model models/embedded [--out DIR] [--int8]

Without --out: ``image.onnx``, ``text.onnx`` and their ``export.json`` sidecar go into the export
cache (``~/.cache/mlnet_ros/<checkpoint sha256>``, where the backends look for a checkpoint's graphs).
With --out: a deploy bundle in DIR (``mlnet_ros.inference.bundle``: config, labels, tokenizer, both
graphs, export.json), which the onnxruntime backend loads without torch; --int8 quantizes its text
graph. Prints DIR on stdout (progress goes to stderr). User mistakes (missing or unloadable model,
unusable --out, --int8 without --out) print one line on stderr and exit with status 2.
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from mlnet_ros.cli.tag import UsageError
from mlnet_ros.core.checkpoint_files import ModelLoadError, read_config
from mlnet_ros.inference.export_format import checkpoint_hash, default_export_dir


def make_out_dir(out_dir: Path) -> None:
    """Create ``out_dir`` (and its parents), or raise UsageError saying why it cannot be."""
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"{out_dir}: exists and is not a directory, so the export cannot go there")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"{out_dir}: cannot create the export directory ({error.strerror})") from None


def export(model_dir: Path, out_dir: Path | None, int8: bool = False) -> Path:
    """Check the arguments, then export (a bundle when ``out_dir`` is given); returns the directory."""
    if int8 and out_dir is None:
        raise UsageError("--int8 makes a deploy bundle: give its directory with --out")
    try:
        read_config(model_dir)
        checkpoint_hash(model_dir)  # fails early without the weights
        target = out_dir or default_export_dir(model_dir)
        make_out_dir(target)
        # Imported here: torch and onnx take seconds, argument mistakes are reported without them.
        from mlnet_ros.inference.bundle_export import export_bundle
        from mlnet_ros.inference.onnx_export import export_onnx

        if out_dir is None:
            return export_onnx(model_dir, target)
        return export_bundle(model_dir, target, int8).directory
    except ModelLoadError as error:
        raise UsageError(f"--model: {error}") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mlnet_export", description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True, help="checkpoint directory")
    parser.add_argument("--out", type=Path, help="deploy bundle directory (default: the export cache, no bundle)")
    parser.add_argument("--int8", action="store_true", help="quantize the bundle's text graph to int8")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    try:
        out_dir = export(args.model, args.out, args.int8)
    except UsageError as error:
        print(f"mlnet_export: error: {error}", file=sys.stderr)
        return 2
    print(out_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
