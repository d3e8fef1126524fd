"""TensorBoard event files of a run, in ``<out>/tensorboard`` (``tensorboard --logdir <out>``):
training loss and learning rates per step, valid F1 per epoch, overall and per entity type."""
from __future__ import annotations

from pathlib import Path

TENSORBOARD_DIR = "tensorboard"


class TrainingLog:
    """Writes on rank 0 only (``enabled``); ``first_step``: a resumed run's next step (later events of
    the interrupted run are dropped)."""

    def __init__(self, out_dir: Path, enabled: bool = True, first_step: int = 0):
        self.writer = None
        if enabled:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(str(Path(out_dir) / TENSORBOARD_DIR), purge_step=first_step or None)

    def step(self, step: int, loss: float, learning_rates: dict[str, float]) -> None:
        if self.writer is None:
            return
        self.writer.add_scalar("train/loss", loss, step)
        for name, value in learning_rates.items():
            self.writer.add_scalar(f"learning_rate/{name}", value, step)

    def epoch(self, epoch: int, scores: dict[str, dict[str, float]]) -> None:
        """``scores``: `training.metrics.entity_scores` of the valid set."""
        if self.writer is None:
            return
        for kind, values in scores.items():
            self.writer.add_scalar(f"valid_f1/{kind}", values["f1"], epoch)
        self.writer.flush()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
