"""The paper preset with one command: a local BERT directory and a torchvision ResNet weights file."""
from __future__ import annotations

import json

import pytest
from support.training_files import bert_directory, resnet_weights, run_training, write_conll

from training.__main__ import main


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("paper_base")
    return bert_directory(tmp / "bert"), resnet_weights(tmp / "resnet50.pth")


def test_train_and_pretrain_the_paper_preset(base, tmp_path):
    bert, weights = base
    data = write_conll(tmp_path / "commands.txt")
    paper = ["--preset", "paper", "--text-encoder", bert, "--backbone", "resnet50", "--backbone-weights", weights]
    result = run_training("--threads", "1", "train", "--train", data, "--valid", data, "--out", tmp_path / "run",
                          "--epochs", "1", *paper)
    assert result.returncode == 0, result.stderr
    model = json.loads((tmp_path / "run" / "config.json").read_text())["model"]
    assert (model["preset"], model["image_backbone"], model["num_crops"]) == ("paper", "resnet50", 4)
    assert model["image_layers"] == 12
    assert (model["text_hidden"], model["text_trainable_layers"], model["image_channels"]) == (48, 2, 2048)
    result = run_training("predict", "--model", tmp_path / "run", "--data", data, "--out", tmp_path / "out.txt")
    assert result.returncode == 0, result.stderr
    assert len((tmp_path / "out.txt").read_text().split("\n\n")) == 4

    result = run_training("--threads", "1", "pretrain", "--train", data, "--out", tmp_path / "pre", "--steps", "2",
                          "--batch-size", "2", "--no-mvm", "--no-vlm", *paper)
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "pre" / "config.json").read_text())["model"]["preset"] == "paper"


@pytest.mark.parametrize(
    "options, message",
    [
        (["--preset", "paper"], "--preset paper needs --text-encoder DIR"),
        (["--text-encoder", "{bert}"], "--text-encoder: only with --preset paper"),
        (["--preset", "paper", "--text-encoder", "{tmp}", "--backbone-weights", "{weights}"], "no config.json"),
        (["--preset", "paper", "--text-encoder", "{bert}", "--backbone-weights", "{tmp}/none.pth"], "file not found"),
        (["--preset", "paper", "--text-encoder", "{bert}", "--backbone", "resnet152",
          "--backbone-weights", "{weights}"], "cannot load resnet152 weights"),
    ],
)
def test_preset_mistakes_are_one_line(base, tmp_path, options, message, capsys, caplog):
    bert, weights = base
    data = write_conll(tmp_path / "commands.txt")
    options = [o.format(bert=bert, weights=weights, tmp=tmp_path) for o in options]
    code = main(["train", "--train", str(data), "--valid", str(data), "--out", str(tmp_path / "run"), *options])
    error = capsys.readouterr().err
    assert code == 2 and error.startswith("error: ") and message in error and error.count("\n") == 1, error
    if "cannot load" not in message:  # found before anything is read (the weights load with the model)
        assert not caplog.records
    assert not (tmp_path / "run" / "model.safetensors").exists()


def test_train_help_lists_the_workstation_options(capsys):
    with pytest.raises(SystemExit) as done:
        main(["train", "--help"])
    text = capsys.readouterr().out
    assert done.value.code == 0
    for option in ("--preset", "--text-encoder", "--backbone-weights", "--device", "--precision", "--resume",
                   "--train", "--valid", "--test", "--types", "--workers", "--feature-cache"):
        assert option in text
