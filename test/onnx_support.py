"""Shared by the ONNX, backend and bench tests: the model under test and its export, made once per session."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from test_model_support import SHIPPED_MODEL

from mlnet_ros.inference.export_format import Export
from mlnet_ros.inference.onnx_export import ensure_export

# The embedded default; MLNET_TEST_MODEL_DIR points the tests at another trained model.
MODEL_DIR = Path(os.environ.get("MLNET_TEST_MODEL_DIR") or SHIPPED_MODEL)
needs_model = pytest.mark.skipif(
    not (MODEL_DIR / "model.safetensors").is_file(), reason=f"no trained model in {MODEL_DIR}"
)


@pytest.fixture(scope="session")
def onnx_cache(tmp_path_factory) -> Path:
    """An XDG cache directory holding the export of MODEL_DIR (about a minute the first time)."""
    cache = tmp_path_factory.getbasetemp() / "xdg_cache"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(cache))
        ensure_export(MODEL_DIR)
    return cache


@pytest.fixture
def exported(onnx_cache, monkeypatch) -> Export:
    """The verified export, with XDG_CACHE_HOME pointing at its cache for this test (and its subprocesses)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(onnx_cache))
    return ensure_export(MODEL_DIR)


class RecordingRunner:
    """A runner that keeps the emissions of the real words of every batch its ``runner`` computes."""

    def __init__(self, runner):
        self.runner, self.config, self.crf = runner, runner.config, runner.crf
        self.emissions = []

    def encode_crops(self, crops):
        return self.runner.encode_crops(crops)

    def run_text(self, batch, regions):
        out = self.runner.run_text(batch, regions)
        self.emissions.append(out.emissions[batch.word_mask])
        return out
