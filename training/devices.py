"""Where training runs and in which precision: ``--device auto|cpu|cuda[:N]``, ``--precision fp32|bf16|fp16``.

bf16 and fp16 run the forward pass under autocast (the CRF and the losses stay in fp32); fp16
scales the loss (GradScaler) so that small gradients do not underflow.
"""
from __future__ import annotations

import contextlib
import functools
import re
from dataclasses import dataclass

import torch

from training.errors import UsageError

PRECISIONS = ("fp32", "bf16", "fp16")
AUTOCAST_TYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def resolve_device(spec: str) -> torch.device:
    """``auto`` (the first GPU if there is one, else the CPU), ``cpu``, ``cuda`` or ``cuda:N``."""
    if spec == "auto":
        return torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    if spec == "cpu":
        return torch.device("cpu")
    match = re.fullmatch(r"cuda(?::(\d+))?", spec)
    if match is None:
        raise UsageError(f"--device {spec}: use auto, cpu, cuda or cuda:N")
    if not torch.cuda.is_available():
        raise UsageError(f"--device {spec}: no CUDA device is available (torch {torch.__version__}, "
                         f"CUDA build {torch.version.cuda or 'none'})")
    index = int(match.group(1) or 0)
    if index >= torch.cuda.device_count():
        raise UsageError(f"--device {spec}: only {torch.cuda.device_count()} CUDA device(s)")
    return torch.device("cuda", index)


@functools.cache
def cpu_runs_bf16_lstm() -> bool:
    """Whether an LSTM runs under bf16 autocast on this CPU (oneDNN has no bf16 LSTM without AVX-512 BF16
    or AMX, and fails only once training reaches the model's first LSTM)."""
    try:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            torch.nn.LSTM(4, 4, batch_first=True)(torch.zeros(1, 2, 4))
    except RuntimeError:
        return False
    return True


@dataclass(frozen=True)
class Precision:
    """Autocast and loss scaling of one ``--precision`` on one device."""

    name: str
    device: torch.device

    def __post_init__(self):
        if self.name not in PRECISIONS:
            raise UsageError(f"--precision {self.name}: use {', '.join(PRECISIONS)}")
        if self.name == "fp16" and self.device.type != "cuda":
            raise UsageError("--precision fp16: needs a CUDA device (on the CPU: fp32, or bf16 where the CPU has it)")
        if self.name == "bf16" and self.device.type == "cuda" and not torch.cuda.is_bf16_supported():
            raise UsageError(f"--precision bf16: {torch.cuda.get_device_name(self.device)} has no bf16 support")
        if self.name == "bf16" and self.device.type == "cpu" and not cpu_runs_bf16_lstm():
            raise UsageError("--precision bf16: this CPU has no bf16 LSTM kernel (oneDNN needs AVX-512 BF16 or "
                             "AMX); use fp32")

    def autocast(self):
        """The context in which forward passes run."""
        if self.name == "fp32":
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=AUTOCAST_TYPES[self.name])

    def grad_scaler(self) -> torch.amp.GradScaler:
        """A GradScaler that scales only for fp16 (for fp32 and bf16 it passes everything through)."""
        return torch.amp.GradScaler(self.device.type, enabled=self.name == "fp16")
