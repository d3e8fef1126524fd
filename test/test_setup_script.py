"""scripts/setup.sh stops at once, with one line, on an unsupported machine."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

SETUP = Path(__file__).resolve().parents[1] / "scripts" / "setup.sh"


def run_setup(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(["/bin/bash", str(SETUP)], env=env, capture_output=True, text=True,
                          timeout=60)


def test_unsupported_python_is_one_line_error(tmp_path):
    fake_python = tmp_path / "python3.9"
    fake_python.write_text('#!/bin/sh\necho "3.9"\n')
    fake_python.chmod(0o755)
    result = run_setup(dict(os.environ, PYTHON=str(fake_python), VENV=str(tmp_path / "venv")))
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        f"setup: error: Python 3.11 is required (the ROS 2 Kilted wheels are built for it), "
        f"found Python 3.9 at {fake_python}; set PYTHON=/path/to/python3.11"]
    assert not (tmp_path / "venv").exists()


def test_missing_build_tools_are_named_in_one_line(tmp_path):
    # A PATH with the shell tools the script needs but no cmake, g++, make or apt-get.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("dirname", "head", "awk", "id", "cat", "cut", "sha256sum", "rm", "mkdir"):
        os.symlink(shutil.which(tool), bin_dir / tool)
    env = dict(os.environ, PATH=str(bin_dir), PYTHON=sys.executable,
               VENV=str(tmp_path / "venv"))
    result = run_setup(env)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("setup: error: missing system packages: cmake g++ make")
    assert not (tmp_path / "venv").exists()
