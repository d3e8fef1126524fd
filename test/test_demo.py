"""mlnet_demo: the whole pipeline once (node + camera + speaker in one process, real ROS 2)."""

import subprocess
import sys
from pathlib import Path

import pytest
from support.paths import MODEL_DIR

from mlnet_ros.cli.demo import main

pytestmark = [pytest.mark.ros, pytest.mark.slow]

DEMO_EXECUTABLE = str(Path(sys.executable).with_name("mlnet_demo"))


def test_demo_prints_the_entities_of_the_astronaut_photo():
    run = subprocess.run(
        [DEMO_EXECUTABLE, "--model-dir", str(MODEL_DIR), "--timeout", "60"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 0, run.stderr
    assert "'Eileen Collins'" in run.stdout and "PER" in run.stdout
    for label in ("Transcript:", "Image:", "Entities:", "Model:", "Latency:"):
        assert label in run.stdout


def test_demo_with_a_missing_image_fails_clearly(tmp_path, capsys):
    assert main(["--image", str(tmp_path / "missing.png")]) == 2
    assert (
        capsys.readouterr().err.strip()
        == f"mlnet_demo: error: image file not found: {tmp_path / 'missing.png'}"
    )


def test_demo_without_a_model_fails_clearly(tmp_path, capsys):
    assert main(["--model-dir", str(tmp_path / "absent"), "--timeout", "5"]) == 1
    assert "the entity node did not start" in capsys.readouterr().err
