"""Data-parallel training under torchrun: torch.distributed (gloo on CPUs, NCCL on GPUs) and
DistributedDataParallel.

Every process builds the same shuffled global batches (same seed) and takes its share of each;
the share's loss is weighted so that DDP's gradient average equals the gradient of the global
batch's mean loss, as in a 1-process run with the same ``--batch-size``. Rank 0 alone logs,
evaluates and writes checkpoints; the others wait for it where needed.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from training.devices import resolve_device
from training.errors import UsageError


@dataclass(frozen=True)
class Distributed:
    """This process's place in the job (rank 0 of 1 without torchrun)."""

    rank: int = 0
    world_size: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def shard(self, batch: list) -> tuple[list, float]:
        """This rank's examples of a global batch and its loss weight (examples × world size / batch size).

        A rank left without an example (a batch smaller than the job) recomputes one with weight 0.
        """
        if self.world_size == 1:
            return batch, 1.0
        part = batch[self.rank :: self.world_size]
        if not part:
            return [batch[self.rank % len(batch)]], 0.0
        return part, len(part) * self.world_size / len(batch)

    def wrap(self, module: nn.Module, device: torch.device) -> nn.Module:
        """``module`` in DistributedDataParallel when the job has several processes.

        Text-only batches leave the image layers without gradient, hence ``find_unused_parameters``.
        """
        if self.world_size == 1:
            return module
        return DistributedDataParallel(module, device_ids=[device] if device.type == "cuda" else None,
                                       find_unused_parameters=True)

    def mean(self, value: torch.Tensor) -> float:
        """The mean of a scalar over the processes."""
        if self.world_size == 1:
            return float(value.detach())
        total = value.detach().clone().reshape(1)
        dist.all_reduce(total)
        return float(total) / self.world_size

    def from_main(self, value):
        """Rank 0's value of a picklable object, on every rank."""
        if self.world_size == 1:
            return value
        box = [value]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def barrier(self) -> None:
        if self.world_size > 1:
            dist.barrier()


def start(device_spec: str) -> tuple[Distributed, torch.device]:
    """This process's Distributed and device; joins torchrun's process group when launched by torchrun
    (each process on GPU ``LOCAL_RANK`` for a CUDA device)."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    device = resolve_device(device_spec)
    if world_size == 1:
        return Distributed(), device
    local_rank = int(os.environ["LOCAL_RANK"])
    if device.type == "cuda":
        if local_rank >= torch.cuda.device_count():
            raise UsageError(f"torchrun: local rank {local_rank} but only {torch.cuda.device_count()} CUDA device(s)")
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return Distributed(dist.get_rank(), dist.get_world_size()), device


def stop() -> None:
    """Leave the process group, if this process joined one."""
    if dist.is_initialized():
        dist.destroy_process_group()
