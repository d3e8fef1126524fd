"""Loss and dev-F1 curves as PNG."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def plot_history(history: dict, path: Path) -> None:
    """Training loss (smoothed per step) and valid F1 per epoch, side by side."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    losses = np.array(history["step_loss"])
    window = max(1, len(losses) // 100)
    left.plot(np.convolve(losses, np.ones(window) / window, mode="valid"))
    left.set(xlabel="step", ylabel="training loss", yscale="log", title="loss")
    epochs = [e["epoch"] for e in history["epochs"]]
    right.plot(epochs, [e["valid_f1"] for e in history["epochs"]], marker="o")
    right.set(xlabel="epoch", ylabel="valid entity F1 (%)", title="dev F1")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
