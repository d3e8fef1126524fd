"""Backend selection: explicit names, ``auto`` fallback order and its log, clear errors."""
from __future__ import annotations

import json
import logging
import subprocess
import sys

import pytest
from support.tiny_models import tiny_config

import mlnet_ros.inference.backends as backends
from mlnet_ros.cli.export import main as export_main
from mlnet_ros.core.checkpoint_files import ModelLoadError
from mlnet_ros.inference.backends import BackendUnavailable, load_backend
from mlnet_ros.inference.backends.loading import graph_tokenizer


class Loaded:
    def __init__(self, name: str):
        self.backend = name


def fake_loader(available: set[str]):
    def load(name, model_dir, device, fp16, force_engine_rebuild, auto):
        if name not in available:
            raise BackendUnavailable(f"{name}: not here")  # as _load_one prefixes it
        return Loaded(name)

    return load


@pytest.mark.parametrize(
    ("available", "chosen"),
    [
        ({"tensorrt", "onnxruntime", "torch"}, "tensorrt"),
        ({"onnxruntime", "torch"}, "onnxruntime"),
        ({"torch"}, "torch"),
    ],
)
def test_auto_takes_the_fastest_available_and_says_why(available, chosen, monkeypatch, caplog):
    monkeypatch.setattr(backends, "_load_one", fake_loader(available))
    with caplog.at_level(logging.INFO, logger="mlnet_ros.inference.backends"):
        assert load_backend("model", "auto").backend == chosen
    message = caplog.records[-1].getMessage()
    assert message.startswith(f"backend auto: using {chosen}")
    if chosen != "tensorrt":
        assert "tensorrt: not here" in message


def test_explicit_backend_errors_are_not_hidden(monkeypatch):
    monkeypatch.setattr(backends, "_load_one", fake_loader({"torch"}))
    with pytest.raises(BackendUnavailable, match="onnxruntime: not here"):
        load_backend("model", "onnxruntime")


def test_unknown_backend_and_missing_model(tmp_path):
    with pytest.raises(ValueError, match="unknown backend 'tflite'"):
        load_backend(tmp_path, "tflite")
    with pytest.raises(ModelLoadError, match="does not exist"):
        load_backend(tmp_path / "nothing", "onnxruntime")


def test_tensorrt_on_cpu_is_unavailable_with_a_reason(tmp_path):
    with pytest.raises(BackendUnavailable, match="tensorrt: needs a CUDA device"):
        load_backend(tmp_path, "tensorrt", device="cpu")


def test_export_command_reports_a_missing_model_in_one_line(tmp_path, capsys):
    assert export_main(["--model", str(tmp_path / "absent"), "--out", str(tmp_path / "onnx")]) == 2
    assert capsys.readouterr().err.strip().count("\n") == 0


def test_importing_the_backends_imports_no_torch_transformers_or_onnx():
    code = "import sys, mlnet_ros.inference.backends; print(sorted({'torch', 'transformers', 'onnx'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(result.stdout.replace("'", '"')) == []


def test_graph_backends_need_a_tokenizer_json(tmp_path):
    (tmp_path / "config.json").write_text("{}")  # a text encoder directory with only vocab.txt
    (tmp_path / "vocab.txt").write_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n")
    with pytest.raises(BackendUnavailable, match="tokenizer.json is missing"):
        graph_tokenizer(tmp_path, tiny_config(tmp_path))
