"""Resumable training state, written after every epoch to ``<out>/resume/epoch-NNNN/``:

- ``model.safetensors``: every trainable weight in fp32;
- ``optimizer.pt``: the optimizer's, the learning-rate scheduler's and the loss scaler's state dicts
  (plain tensors and numbers: loaded with ``weights_only=True``);
- ``rng_rank<R>.pt``: each process's random-number states (Python, the batch shuffler, numpy, torch, CUDA);
- ``state.json``: the finished epoch, the best valid F1 so far, the history, and what the run was
  (settings, architecture, a fingerprint of the training examples) so that ``--resume`` refuses another run.

``<out>/resume/latest`` names the newest complete state; older ones are removed. Continuing from a
state gives the same result as a run that was never interrupted (same seed, same device and thread
count, deterministic kernels).
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from training.distributed import Distributed
from training.errors import UsageError

log = logging.getLogger("training")
RESUME_DIR = "resume"
LATEST = "latest"


@dataclass
class TrainingParts:
    """Everything that a training step changes."""

    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    scaler: torch.amp.GradScaler
    batch_rng: random.Random


@dataclass
class Progress:
    epoch: int  # epochs finished
    best_f1: float
    history: dict
    init: dict | None  # what the starting checkpoint was (recorded in the final checkpoint)


def examples_fingerprint(examples) -> str:
    """SHA-256 of the training examples (wordpieces, tags, image rows, matching labels)."""
    digest = hashlib.sha256()
    for e in examples:
        digest.update(json.dumps([e.window.input_ids, e.tag_ids, e.image, e.match]).encode())
    return digest.hexdigest()


def _rng_states(batch_rng: random.Random) -> dict:
    name, keys, position, has_gauss, gauss = np.random.get_state()
    states = {"python": random.getstate(), "batches": batch_rng.getstate(),
              "numpy": (name, torch.from_numpy(keys.astype(np.int64)), position, has_gauss, gauss),
              "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def _set_rng_states(states: dict, batch_rng: random.Random) -> None:
    random.setstate(states["python"])
    batch_rng.setstate(states["batches"])
    name, keys, position, has_gauss, gauss = states["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), position, has_gauss, gauss))
    torch.set_rng_state(states["torch"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


def save_state(out_dir: Path, parts: TrainingParts, progress: Progress, identity: dict,
               distributed: Distributed) -> None:
    """Write the state after epoch ``progress.epoch`` (every rank its RNG states, rank 0 the rest)."""
    root = Path(out_dir) / RESUME_DIR
    final = root / f"epoch-{progress.epoch:04d}"
    partial = root / f"{final.name}.partial"
    partial.mkdir(parents=True, exist_ok=True)
    torch.save(_rng_states(parts.batch_rng), partial / f"rng_rank{distributed.rank}.pt")
    distributed.barrier()
    if distributed.is_main:
        weights = {name: p.detach().float().cpu().contiguous() for name, p in parts.model.named_parameters()
                   if p.requires_grad}
        save_file(weights, str(partial / "model.safetensors"))
        torch.save({"optimizer": parts.optimizer.state_dict(), "scheduler": parts.scheduler.state_dict(),
                    "scaler": parts.scaler.state_dict()}, partial / "optimizer.pt")
        document = {"epoch": progress.epoch, "best_f1": progress.best_f1, "history": progress.history,
                    "init": progress.init, "processes": distributed.world_size, "run": identity}
        (partial / "state.json").write_text(json.dumps(document))
        shutil.rmtree(final, ignore_errors=True)
        partial.rename(final)
        (root / f"{LATEST}.partial").write_text(final.name + "\n")
        os.replace(root / f"{LATEST}.partial", root / LATEST)
        for older in root.glob("epoch-*"):
            if older != final:
                shutil.rmtree(older, ignore_errors=True)
    distributed.barrier()


def load_state(resume_dir: Path, parts: TrainingParts, identity: dict, distributed: Distributed) -> Progress:
    """Restore ``parts`` from the newest state under ``resume_dir`` (a run's --out); UsageError if there is
    none or it belongs to another run."""
    root = Path(resume_dir) / RESUME_DIR
    try:
        state_dir = root / (root / LATEST).read_text().strip()
        document = json.loads((state_dir / "state.json").read_text())
    except (OSError, ValueError) as error:
        raise UsageError(f"--resume {resume_dir}: no resumable state ({error})") from None
    differs = sorted(key for key in identity if document["run"].get(key) != identity[key])
    if differs:
        raise UsageError(f"--resume {resume_dir}: that run had other {', '.join(differs)}; resume it with its own "
                         "command line")
    weights = load_file(str(state_dir / "model.safetensors"))
    parameters = dict(parts.model.named_parameters())
    with torch.no_grad():
        for name, tensor in weights.items():
            parameters[name].copy_(tensor)
    saved = torch.load(state_dir / "optimizer.pt", map_location="cpu", weights_only=True)
    parts.optimizer.load_state_dict(saved["optimizer"])
    parts.scheduler.load_state_dict(saved["scheduler"])
    parts.scaler.load_state_dict(saved["scaler"])
    rng_file = state_dir / f"rng_rank{distributed.rank}.pt"
    if document["processes"] != distributed.world_size:
        log.warning("resuming a %d-process run with %d processes: same weights, other random streams",
                    document["processes"], distributed.world_size)
    if not rng_file.is_file():
        rng_file = state_dir / "rng_rank0.pt"
    _set_rng_states(torch.load(rng_file, weights_only=True), parts.batch_rng)
    log.info("resuming after epoch %d from %s (best valid F1 %.2f)", document["epoch"], state_dir,
             document["best_f1"])
    return Progress(document["epoch"], document["best_f1"], document["history"], document["init"])
