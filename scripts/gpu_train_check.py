"""GPU check of the training pipeline with the paper-sized model: training steps/s in fp32 and bf16,
and a 2-process torchrun smoke run when there are 2 or more GPUs. Prints a table.

The model is the paper preset at full size with random weights, built here without downloads: a
BERT-base-sized BertConfig (768 wide, 12 layers; MiniLM's uncased WordPiece vocabulary, which is
BERT's) and a torchvision resnet50(weights=None). A step is one NER training step (forward,
backward, AdamW) of a batch of 16 twenty-word sentences, each with its image's cached backbone
features (s + 1 = 5 crops), as in an image epoch after the first. Exits 0 with "no CUDA device"
where there is none.

    .venv/bin/python scripts/gpu_train_check.py [--steps 20] [--batch-size 16]
"""
from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
import torchvision
from transformers import BertConfig, BertModel

from mlnet_ros.core.base_weights import text_encoder_dir
from mlnet_ros.core.config import embedded_config
from mlnet_ros.model.modeling import MLNetModel
from mlnet_ros.model.pretrained import load_tokenizer, text_encoder_config
from training.devices import Precision
from training.examples import make_examples
from training.objective import NerObjective
from training.presets import preset_config
from training.train import TrainSettings, optimizer_for

REPO = Path(__file__).resolve().parents[1]

WORDS = ("the", "robot", "should", "bring", "the", "red", "cup", "from", "the", "kitchen", "to", "Anna", "in", "the",
         "office", "before", "lunch", "please")


def base_weights(directory: Path) -> tuple[Path, Path]:
    """A random BERT-base directory and a random ResNet-50 state dict in ``directory``."""
    torch.manual_seed(0)
    bert = directory / "bert-base"
    BertModel(BertConfig(), add_pooling_layer=False).save_pretrained(bert)
    source = text_encoder_dir(embedded_config())
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        shutil.copy(source / name, bert / name)
    weights = directory / "resnet50.pth"
    torch.save(torchvision.models.resnet50(weights=None).state_dict(), weights)
    return bert, weights


def steps_per_second(bert: Path, weights: Path, device: torch.device, precision: str, steps: int,
                     batch_size: int) -> tuple[float, float]:
    """(training steps/s, peak GPU memory GiB) of the paper-sized model."""
    config = preset_config("paper", bert, "resnet50", weights)
    torch.manual_seed(0)
    model = MLNetModel(config, text_encoder_config(config)).to(device)  # random init: no weights needed
    tokenizer = load_tokenizer(config)
    rng = random.Random(0)
    sentences = [([rng.choice(WORDS) for _ in range(20)], ["O"] * 20) for _ in range(batch_size)]
    batch = make_examples(tokenizer, config, sentences, list(range(batch_size)))
    grid = config.grid_size
    features = torch.randn(batch_size, config.num_crops + 1, config.image_channels, grid, grid).relu().half()
    objective = NerObjective(model, 1.0)
    amp = Precision(precision, device)
    optimizer, scheduler = optimizer_for(model, TrainSettings(), 10 * (steps + 3))
    scaler = amp.grad_scaler()
    model.train()
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    for step in range(steps + 3):  # 3 warm-up steps
        if step == 3:
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            started = time.perf_counter()
        with amp.autocast():
            loss = objective(batch, features)
        optimizer.zero_grad()
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        scaler.step(optimizer)
        scaler.update()
        scheduler.step()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    rate = steps / (time.perf_counter() - started)
    peak = torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else 0.0
    del model, optimizer
    return rate, peak


def torchrun_smoke(bert: Path, weights: Path, directory: Path) -> tuple[int, float]:
    """(exit code, seconds) of `torchrun --nproc_per_node 2 -m training train --preset paper` on 64 sentences."""
    data = directory / "commands.txt"
    sentence = "\n".join(f"{w}\t{'B-ROOM' if w in ('kitchen', 'office') else 'O'}" for w in WORDS)
    data.write_text("\n\n".join([sentence] * 64) + "\n")
    command = [str(Path(sys.executable).parent / "torchrun"), "--standalone", "--nproc_per_node", "2", "-m",
               "training", "train", "--preset", "paper", "--text-encoder", str(bert), "--backbone-weights",
               str(weights), "--train", str(data), "--valid", str(data), "--out", str(directory / "ddp"),
               "--epochs", "1", "--batch-size", "16", "--device", "cuda", "--precision", "bf16"]
    started = time.perf_counter()
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=1200)
    if result.returncode != 0:
        print(result.stderr[-3000:], file=sys.stderr)
    return result.returncode, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=16)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("no CUDA device: nothing to check")
        return 0
    device = torch.device("cuda:0")
    print(f"{torch.cuda.get_device_name(device)}, {torch.cuda.device_count()} GPU(s), torch {torch.__version__}")
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        bert, weights = base_weights(Path(tmp))
        print(f"| precision | steps/s (batch {args.batch_size}) | sentences/s | peak GPU memory |")
        print("|---|---|---|---|")
        for precision in ("fp32", "bf16"):
            rate, peak = steps_per_second(bert, weights, device, precision, args.steps, args.batch_size)
            print(f"| {precision} | {rate:.2f} | {rate * args.batch_size:.1f} | {peak:.1f} GiB |")
        if torch.cuda.device_count() >= 2:
            code, seconds = torchrun_smoke(bert, weights, Path(tmp))
            failures += code != 0
            print(f"| torchrun 2 GPUs, 1 epoch of 64 sentences (bf16) | exit {code} | {seconds:.0f} s | |")
        else:
            print("| torchrun | skipped: 1 GPU | | |")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
