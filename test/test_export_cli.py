"""mlnet_export: one-line errors with exit status 2, and a real export of a tiny model."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mlnet_ros.cli.export import main
from mlnet_ros.inference.export_format import IMAGE_GRAPH, SIDECAR, TEXT_GRAPH, checkpoint_hash, verify_export

EXPORT_EXECUTABLE = str(Path(sys.executable).with_name("mlnet_export"))


@pytest.mark.parametrize("command", [[EXPORT_EXECUTABLE], [sys.executable, "-m", "mlnet_ros.onnx_export"]])
def test_missing_model_dir_is_one_line_and_status_2(command, tmp_path):
    run = subprocess.run([*command, "--model", str(tmp_path / "absent")], capture_output=True, text=True, timeout=300)
    assert run.returncode == 2, run.stderr
    assert run.stderr.strip() == f"mlnet_export: error: --model: {tmp_path / 'absent'}: model directory does not exist"
    assert run.stdout == ""


def test_model_without_weights_is_one_line(tiny_checkpoint, tmp_path, capsys):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text((tiny_checkpoint / "config.json").read_text())
    assert main(["--model", str(broken), "--out", str(tmp_path / "onnx")]) == 2
    assert capsys.readouterr().err.strip() == f"mlnet_export: error: --model: {broken / 'model.safetensors'}: missing"
    assert not (tmp_path / "onnx").exists()


def test_out_that_is_a_file_is_one_line(tiny_checkpoint, tmp_path, capsys):
    out = tmp_path / "taken"
    out.write_text("not a directory\n")
    assert main(["--model", str(tiny_checkpoint), "--out", str(out)]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith(f"mlnet_export: error: {out}: exists and is not a directory") and "\n" not in error


def test_tiny_model_export_is_verifiable(tiny_checkpoint, tmp_path, capsys):
    out = tmp_path / "onnx"
    assert main(["--model", str(tiny_checkpoint), "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    export = verify_export(out, checkpoint_hash(tiny_checkpoint))  # sidecar names this checkpoint, graphs match it
    assert (out / IMAGE_GRAPH).is_file() and (out / TEXT_GRAPH).is_file()
    assert export.sidecar["config"]["text_hidden"] == 32
    assert json.loads((out / SIDECAR).read_text())["checkpoint"] == str(tiny_checkpoint.resolve())
