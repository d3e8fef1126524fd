"""Resume: a run killed after its first epoch and resumed ends with the checkpoint of an uninterrupted run."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest
from support.paths import REPO, SHIPPED_MODEL
from support.training_files import run_training, write_conll

from training.__main__ import main


@pytest.mark.skipif(not (SHIPPED_MODEL / "model.safetensors").exists(), reason="no shipped model")
def test_killed_and_resumed_run_ends_like_an_uninterrupted_one(tmp_path, capsys):
    data = write_conll(tmp_path / "A.txt", repeat=6)
    command = ["--threads", "1", "train", "--train", data, "--valid", data, "--epochs", "3", "--batch-size", "4",
               "--device", "cpu"]
    args = [sys.executable, "-m", "training", *map(str, command)]
    whole = subprocess.Popen([*args, "--out", str(tmp_path / "whole")], cwd=REPO, stderr=subprocess.DEVNULL)
    broken = subprocess.Popen([*args, "--out", str(tmp_path / "broken")], cwd=REPO, stderr=subprocess.DEVNULL)
    latest = tmp_path / "broken" / "resume" / "latest"
    deadline = time.time() + 400
    while not latest.is_file() and broken.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    broken.send_signal(signal.SIGKILL)
    broken.wait()
    stopped_after = latest.read_text().strip()
    assert stopped_after in ("epoch-0001", "epoch-0002")  # killed in its second (at worst third) epoch
    resumed = run_training(*command, "--resume", tmp_path / "broken")
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming after epoch {int(stopped_after[-4:])}" in resumed.stderr
    assert whole.wait(timeout=400) == 0
    for name in ("model.safetensors", "labels.json"):
        assert (tmp_path / "broken" / name).read_bytes() == (tmp_path / "whole" / name).read_bytes()
    histories = [json.loads((tmp_path / f"{run}_history.json").read_text()) for run in ("whole", "broken")]
    assert histories[0]["step_loss"] == histories[1]["step_loss"] and len(histories[0]["step_loss"]) == 18
    assert [e["valid_f1"] for e in histories[0]["epochs"]] == [e["valid_f1"] for e in histories[1]["epochs"]]
    assert (tmp_path / "whole" / "resume" / "latest").read_text().strip() == "epoch-0003"
    assert sorted(p.name for p in (tmp_path / "whole" / "resume").iterdir()) == ["epoch-0003", "latest"]

    # The state belongs to that run: other settings are refused in one line.
    code = main([*map(str, command[2:-6]), "--epochs", "4", "--batch-size", "4", "--device", "cpu",
                 "--resume", str(tmp_path / "whole")])
    error = capsys.readouterr().err
    assert code == 2 and "that run had other settings" in error and error.count("\n") == 1, error
