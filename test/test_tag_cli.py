"""mlnet_tag: JSON for a transcript (+ image); one-line errors, status 2, for user mistakes."""

import json
import subprocess
import sys
from pathlib import Path

import cv2
import pytest
from support.paths import MODEL_DIR
from support.ros_client import ASTRONAUT, SENTENCE

from mlnet_ros.cli.tag import main

TAG_EXECUTABLE = str(Path(sys.executable).with_name("mlnet_tag"))


@pytest.fixture(scope="module")
def photo(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("images") / "astronaut.png"
    cv2.imwrite(str(path), cv2.cvtColor(ASTRONAUT, cv2.COLOR_RGB2BGR))
    return path


def test_tags_transcript_with_image(photo):
    run = subprocess.run(
        [TAG_EXECUTABLE, SENTENCE, "--image", str(photo), "--model-dir", str(MODEL_DIR)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["transcript"] == SENTENCE and result["model"] and result["backend"]
    assert {"text": "Eileen Collins", "type": "PER"}.items() <= next(
        e for e in result["entities"] if e["text"] == "Eileen Collins"
    ).items()
    for entity in result["entities"]:
        assert SENTENCE[entity["start"] : entity["end"]] == entity["text"]
        assert (entity["box"] is not None) == result["image_used"]


def test_text_only(capsys):
    assert main([SENTENCE, "--model-dir", str(MODEL_DIR)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert not result["image_used"] and all(e["box"] is None for e in result["entities"])


def unreadable(tmp_path: Path) -> Path:
    path = tmp_path / "broken.png"
    path.write_text("not a png")
    return path


@pytest.mark.parametrize(
    "make_args, words",
    [
        (lambda tmp: ["--image", str(tmp / "missing.jpg")], "image file not found"),
        (lambda tmp: ["--image", str(unreadable(tmp))], "cannot read image"),
        (lambda tmp: ["--model-dir", str(tmp / "no_model")], "no_model"),
        (lambda tmp: ["--backend", "tensorrt", "--device", "cpu"], "tensorrt: needs a CUDA device"),
    ],
    ids=["missing_image", "unreadable_image", "missing_model", "backend_unavailable"],
)
def test_user_mistakes_give_one_line_and_status_2(tmp_path, capsys, make_args, words):
    assert main([SENTENCE, *make_args(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mlnet_tag: error:") and words in lines[0]


def test_a_checkpoint_exported_on_first_use_still_prints_only_json(tiny_checkpoint, tmp_path, monkeypatch, capfd):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "empty_cache"))  # onnxruntime exports the checkpoint first
    assert main(["Anna flew to Paris", "--model-dir", str(tiny_checkpoint), "--backend", "onnxruntime"]) == 0
    result = json.loads(capfd.readouterr().out)
    assert result["backend"] == "onnxruntime" and result["transcript"] == "Anna flew to Paris"
    assert (tmp_path / "empty_cache" / "mlnet_ros").is_dir()
