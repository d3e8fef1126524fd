"""Shared by the bundle tests: deploy bundles of the model under test, written once per session by the
mlnet_export executable (about 40 s each on 2 cores)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from onnx_support import MODEL_DIR

BIN = Path(sys.executable).parent


def export_bundle(out: Path, *options: str) -> Path:
    run = subprocess.run([BIN / "mlnet_export", "--model", MODEL_DIR, "--out", out, *options], capture_output=True,
                         text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.strip() == str(out)
    return out


@pytest.fixture(scope="session")
def bundle(tmp_path_factory) -> Path:
    """The fp32 deploy bundle of MODEL_DIR."""
    return export_bundle(tmp_path_factory.mktemp("bundle") / "embedded")


@pytest.fixture(scope="session")
def int8_bundle(tmp_path_factory) -> Path:
    """The deploy bundle of MODEL_DIR with an int8 text graph."""
    return export_bundle(tmp_path_factory.mktemp("bundle") / "embedded_int8", "--int8")
